//! Package schedules and the scheduler tick that turns due occurrences into queued runs.
//!
//! Any number of processes may tick at once: due schedules are claimed with `FOR UPDATE SKIP
//! LOCKED`, and a run's occurrence is unique per package, so every occurrence is queued
//! exactly once. Occurrences missed while nothing was running produce one catch-up run, not
//! a burst. An occurrence that finds the package's previous run still active is recorded as a
//! skipped run.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::runs::queue::{self, DEFAULT_LEASE, StartedBy};
use super::workspaces::require_role;
use super::{CatalogError, Role};
use engine::schedule::{self, Schedule};

/// A package's schedule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSchedule {
    pub schedule: Schedule,
    pub time_zone: String,
    pub enabled: bool,
    pub next_run_at: Option<DateTime<Utc>>,
}

/// The package's schedule, if it has one. Any member.
pub async fn get(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    package: Uuid,
) -> Result<Option<StoredSchedule>, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Viewer).await?;
    let row: Option<(serde_json::Value, String, bool, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT spec, time_zone, enabled, next_run_at FROM schedules
          WHERE workspace_id = $1 AND package_id = $2",
    )
    .bind(workspace)
    .bind(package)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(spec, time_zone, enabled, next_run_at)| {
        Ok(StoredSchedule {
            schedule: serde_json::from_value(spec)
                .map_err(|e| CatalogError::Database(sqlx::Error::Decode(e.into())))?,
            time_zone,
            enabled,
            next_run_at,
        })
    })
    .transpose()
}

/// A schedule as the editor saves it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleForm {
    pub schedule: Schedule,
    pub time_zone: String,
    pub enabled: bool,
}

/// Creates or replaces a package's schedule; returns its next occurrence after `now`.
/// Developers and Admins.
pub async fn save(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    package: Uuid,
    form: &ScheduleForm,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    let next = write(&mut tx, workspace, package, form, now).await?;
    tx.commit().await?;
    Ok(next)
}

/// Checks and writes a package's schedule in the caller's transaction (the caller checked
/// the role).
pub(crate) async fn write(
    tx: &mut sqlx::PgConnection,
    workspace: Uuid,
    package: Uuid,
    form: &ScheduleForm,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, CatalogError> {
    let ScheduleForm {
        schedule,
        time_zone,
        enabled,
    } = form;
    let enabled = *enabled;
    schedule
        .validate()
        .map_err(|e| CatalogError::validation(e.field, e.message))?;
    let tz =
        schedule::time_zone(time_zone).map_err(|e| CatalogError::validation(e.field, e.message))?;
    let next = schedule::next_after(schedule, tz, now);
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM packages WHERE workspace_id = $1 AND id = $2)",
    )
    .bind(workspace)
    .bind(package)
    .fetch_one(&mut *tx)
    .await?;
    if !exists {
        return Err(CatalogError::NotFound);
    }
    sqlx::query(
        "INSERT INTO schedules (package_id, workspace_id, spec, time_zone, enabled, next_run_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (package_id) DO UPDATE
            SET spec = $3, time_zone = $4, enabled = $5, next_run_at = $6, updated_at = now()",
    )
    .bind(package)
    .bind(workspace)
    .bind(serde_json::to_value(schedule).expect("a schedule serializes"))
    .bind(tz.name())
    .bind(enabled)
    .bind(next)
    .execute(&mut *tx)
    .await?;
    Ok(next)
}

/// Removes a package's schedule (it then runs only by hand). Developers and Admins.
pub async fn delete(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    package: Uuid,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    sqlx::query("DELETE FROM schedules WHERE workspace_id = $1 AND package_id = $2")
        .bind(workspace)
        .bind(package)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    pub queued: usize,
    pub skipped: usize,
}

/// Most schedules handled per tick (the next tick takes the rest).
const TICK_LIMIT: i64 = 200;

/// Queues one run for every schedule due at `now` and advances it to its next occurrence.
pub async fn tick(pool: &PgPool, now: DateTime<Utc>) -> Result<Tick, CatalogError> {
    let mut tx = pool.begin().await?;
    type Due = (Uuid, Uuid, serde_json::Value, String, DateTime<Utc>);
    let due: Vec<Due> = sqlx::query_as(
        "SELECT package_id, workspace_id, spec, time_zone, next_run_at FROM schedules
          WHERE enabled AND next_run_at <= $1
          ORDER BY next_run_at LIMIT $2
          FOR UPDATE SKIP LOCKED",
    )
    .bind(now)
    .bind(TICK_LIMIT)
    .fetch_all(&mut *tx)
    .await?;
    let mut done = Tick::default();
    for (package, workspace, spec, time_zone, occurrence) in due {
        let parsed = serde_json::from_value::<Schedule>(spec)
            .ok()
            .zip(schedule::time_zone(&time_zone).ok());
        let Some((schedule, tz)) = parsed else {
            tracing::error!(%package, "unreadable schedule; disabling it");
            sqlx::query("UPDATE schedules SET enabled = false WHERE package_id = $1")
                .bind(package)
                .execute(&mut *tx)
                .await?;
            continue;
        };
        queue::reap(&mut tx, DEFAULT_LEASE, Some(package)).await?;
        match queue::enqueue(&mut tx, workspace, package, StartedBy::Schedule(occurrence)).await {
            Ok(_) => done.queued += 1,
            Err(CatalogError::Conflict { field: "run", .. }) => {
                sqlx::query(
                    "INSERT INTO runs (id, workspace_id, package_id, state, started_by, scheduled_for, error, finished_at)
                     VALUES ($1, $2, $3, 'skipped', 'schedule', $4,
                             'skipped: the previous run of this package was still queued or running', now())
                     ON CONFLICT (package_id, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING",
                )
                .bind(Uuid::new_v4())
                .bind(workspace)
                .bind(package)
                .bind(occurrence)
                .execute(&mut *tx)
                .await?;
                done.skipped += 1;
            }
            Err(CatalogError::Conflict {
                field: "occurrence",
                ..
            }) => {}
            Err(e) => return Err(e),
        }
        // Missed occurrences collapse into the one just queued.
        let next = schedule::next_after(&schedule, tz, now.max(occurrence));
        sqlx::query("UPDATE schedules SET next_run_at = $2 WHERE package_id = $1")
            .bind(package)
            .bind(next)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(done)
}
