//! Packages: the list (the editor arrives with the rest of the packages work).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::PackagesData;

/// The current workspace's packages with their last run, a page at a time (`after`: the
/// last package of the page before, as its Next link gives it).
#[server(endpoint = "load_packages")]
pub async fn load_packages(after: Option<String>) -> Result<PackagesData, AppError> {
    use super::ssr::*;
    use crate::model::{PackageView, connector_label};
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        let after = match after.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(text) => Some(
                text.parse::<uuid::Uuid>()
                    .map_err(|_| AppError::Validation {
                        field: "after".into(),
                        message: "this page link is not valid; open the first page of packages"
                            .into(),
                    })?,
            ),
            None => None,
        };
        let first_page = after.is_none();
        let page = catalog::packages::list(&pool, user.id, workspace.id, after).await?;
        let list = page.packages;
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
                    last_run_state: p.last_run.as_ref().map(|r| r.state),
                    last_run_at: p.last_run.as_ref().map(|r| format_time(r.at)),
                    last_run_by: p.last_run.map(|r| r.started_by),
                })
                .collect(),
            total: page.total,
            next: page.next,
            first_page,
        })
    })
    .await
}

/// Copies a package and its tasks ("Copy of …"); the copy starts with a first run. With
/// `open`, the copy's page opens (from the package page; the list stays put).
#[server(endpoint = "clone_package")]
pub async fn clone_package(
    workspace_id: uuid::Uuid,
    id: uuid::Uuid,
    #[server(default)] open: Option<String>,
) -> Result<uuid::Uuid, AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        let copy = catalog::package_editor::clone(&pool()?, user.id, workspace_id, id).await?;
        if open.is_some_and(|v| !v.is_empty()) {
            leptos_axum::redirect(&format!("/packages/{copy}"));
        }
        Ok(copy)
    })
    .await
}

/// Deletes a package after removing its change tracking from both databases. When a side
/// cannot be reached the deletion is refused, unless `leave_tracking` is given (the triggers
/// then stay in that database until removed by hand). The package list shows next.
#[server(endpoint = "delete_package")]
pub async fn delete_package(
    workspace_id: uuid::Uuid,
    id: uuid::Uuid,
    #[server(default)] leave_tracking: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    let state = state();
    respond(async move {
        let crate::state::AppState { pool, secrets, .. } = state?;
        let user = require_user().await?;
        let leave = leave_tracking.is_some_and(|v| !v.is_empty());
        catalog::package_removal::delete_with_tracking(
            &pool,
            &secrets,
            user.id,
            workspace_id,
            id,
            leave,
        )
        .await?;
        leptos_axum::redirect("/packages");
        Ok(())
    })
    .await
}
