//! The package parameters users can reset, and the resync-task operation. None of them
//! deletes or duplicates data: they only ask the next run for a full pass, which re-writes
//! mapped pairs (the source wins) and copies rows that have no copy yet, guided by the ID map.
//!
//! - **LastSyncTime** (`reset_last_sync_time`): forgets when the tasks last synced, so the
//!   next run compares everything instead of only what changed.
//! - **InitTrackingObjects** (`reset_tracking`): the next run re-creates the triggers and
//!   functions of the change logs (repairing one someone dropped or edited), then runs a full
//!   pass. Change-log entries not yet synced are kept, so no recorded change is lost.
//! - **Resync task** is a LastSyncTime reset of one task: it re-applies that task's
//!   mapping to every mapped record, e.g. after the mapping changed.

use sqlx::PgPool;
use uuid::Uuid;

use super::CatalogError;

/// Which parameter to reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    LastSyncTime,
    TrackingObjects,
}

impl Reset {
    pub fn parse(text: &str) -> Option<Reset> {
        match text {
            "last-sync-time" | "LastSyncTime" => Some(Reset::LastSyncTime),
            "tracking" | "InitTrackingObjects" => Some(Reset::TrackingObjects),
            _ => None,
        }
    }
}

/// Resets `what` for the given tasks of a package (all its tasks when `tasks` is `None`).
/// Returns how many tasks were reset. The package must belong to the workspace.
pub async fn reset(
    pool: &PgPool,
    workspace_id: Uuid,
    package_id: Uuid,
    tasks: Option<&[Uuid]>,
    what: Reset,
) -> Result<u64, CatalogError> {
    let done = sqlx::query(
        "UPDATE package_tasks t
            SET full_pass_direction = 'source_to_target', full_pass_after = NULL, last_sync_at = NULL,
                tracking_installed = tracking_installed AND NOT $4, updated_at = now()
           FROM packages p
          WHERE t.package_id = p.id AND p.id = $1 AND p.workspace_id = $2
            AND ($3::uuid[] IS NULL OR t.id = ANY($3))",
    )
    .bind(package_id)
    .bind(workspace_id)
    .bind(tasks)
    .bind(what == Reset::TrackingObjects)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    Ok(done.rows_affected())
}
