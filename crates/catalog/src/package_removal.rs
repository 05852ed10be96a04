//! Deleting a package for good: its change tracking leaves both synced databases first, so
//! no trigger keeps logging changes nobody will read. Used by the package page and the API.

use sqlx::PgPool;
use uuid::Uuid;

use super::secrets::SecretBox;
use super::workspaces::require_role;
use super::{CatalogError, Role, cloud_tracking, connections, package_editor, runner};

/// Deletes a package after removing its change tracking from both databases. When a side
/// cannot be reached the deletion is refused (`Conflict` on `leave_tracking`), unless
/// `leave_tracking` (the triggers then stay in that database until removed by hand).
/// Developers and Admins.
pub async fn delete_with_tracking(
    pool: &PgPool,
    secrets: &SecretBox,
    user: Uuid,
    workspace: Uuid,
    id: Uuid,
    leave_tracking: bool,
) -> Result<(), CatalogError> {
    {
        let mut conn = pool.acquire().await?;
        require_role(&mut conn, workspace, user, Role::Developer).await?;
    }
    let package = package_editor::get(pool, user, workspace, id).await?;
    let tracked = package_editor::installed_tracking(pool, workspace, id).await?;
    if !tracked.is_empty()
        && (package.source.is_none() || package.target.is_none())
        && !leave_tracking
    {
        return Err(CatalogError::conflict(
            "leave_tracking",
            "this package was run from a file by the sync command: its databases are not saved connections, so \
             its change tracking cannot be removed from here. Remove its tasks from the file and run it once \
             (that removes their triggers), or delete anyway and leave the triggers in place",
        ));
    }
    if let (false, Some(source), Some(target)) =
        (tracked.is_empty(), &package.source, &package.target)
    {
        let removal = async {
            let options = cloud_tracking::connect_options(pool, false);
            let open = |id| connections::open(pool, secrets, workspace, id);
            let s = open(source.id).await.map_err(shown)?;
            let t = open(target.id).await.map_err(shown)?;
            let s = engine::connectors::connect(&s, &options)
                .await
                .map_err(|e| e.to_string())?;
            let t = engine::connectors::connect(&t, &options)
                .await
                .map_err(|e| e.to_string())?;
            for task in &tracked {
                runner::remove_tracking(task, s.as_ref(), t.as_ref())
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        }
        .await;
        if let Err(e) = removal
            && !leave_tracking
        {
            return Err(CatalogError::conflict(
                "leave_tracking",
                format!(
                    "the change tracking of this package could not be removed from its databases ({e}). Fix the \
                     connection and try again, or delete anyway and leave the triggers in place"
                ),
            ));
        }
    }
    package_editor::delete(pool, user, workspace, id).await
}

/// A catalog failure as the refusal may show it: what the person can act on, never a
/// database's own message (that goes to the log).
fn shown(e: CatalogError) -> String {
    match e {
        CatalogError::NotFound => "a connection of the package no longer exists".to_owned(),
        CatalogError::Validation { message, .. }
        | CatalogError::Conflict { message, .. }
        | CatalogError::Forbidden(message) => message,
        other => {
            tracing::error!(error = ?other, "opening a connection to remove tracking failed");
            "a connection could not be opened (the server log has the details)".to_owned()
        }
    }
}
