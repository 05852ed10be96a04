//! Packages: the list (the editor arrives with the rest of the packages work).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::PackagesData;

/// The current workspace's packages with their last run.
#[server(endpoint = "load_packages")]
pub async fn load_packages() -> Result<PackagesData, AppError> {
    use super::ssr::*;
    use crate::model::{PackageView, connector_label};
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        let list = engine::catalog::packages::list(&pool, user.id, workspace.id).await?;
        let side = |connection: Option<String>, kind: &str| match connection {
            Some(name) => format!("{name} ({})", connector_label(kind)),
            None => connector_label(kind).to_owned(),
        };
        Ok(PackagesData {
            workspace: workspace.into(),
            packages: list
                .into_iter()
                .map(|p| PackageView {
                    id: p.id,
                    source: side(p.source_connection, &p.source_kind),
                    target: side(p.target_connection, &p.target_kind),
                    name: p.name,
                    tasks: p.tasks,
                    last_run_state: p.last_run.as_ref().map(|r| r.state.clone()),
                    last_run_at: p.last_run.as_ref().map(|r| format_time(r.at)),
                    last_run_by: p.last_run.map(|r| r.started_by),
                })
                .collect(),
        })
    })
    .await
}
