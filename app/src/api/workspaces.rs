//! Switching, creating and renaming workspaces.

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::WorkspaceView;

/// Makes `workspace_id` the one the person works in (remembered as their default).
#[server(endpoint = "switch_workspace")]
pub async fn switch_workspace(workspace_id: Uuid) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::workspaces::switch(&pool()?, user.id, workspace_id).await?;
        leptos_axum::redirect("/packages");
        Ok(())
    })
    .await
}

/// Creates a workspace; the creator becomes its Admin and switches to it.
#[server(endpoint = "create_workspace")]
pub async fn create_workspace(name: String) -> Result<WorkspaceView, AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        let created = catalog::workspaces::create(&pool()?, user.id, &name).await?;
        Ok(created.into())
    })
    .await
}

/// Renames a workspace (Admin only).
#[server(endpoint = "rename_workspace")]
pub async fn rename_workspace(workspace_id: Uuid, name: String) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::workspaces::rename(&pool()?, user.id, workspace_id, &name).await?;
        Ok(())
    })
    .await
}
