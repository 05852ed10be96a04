//! The run queue: queuing a run with its apalis job, claiming it, the lease a running run
//! holds (heartbeats), cancel requests, and failing runs whose worker died.
//!
//! The apalis job only says "run this" — the `runs` row holds the truth. A job delivered twice
//! (apalis re-enqueues jobs of workers it believes dead) finds its run claimed already and does
//! nothing, so a run never executes twice.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::already_active;
use crate::error::is_unique_violation;
use crate::workspaces::require_role;
use crate::{CatalogError, Role};
use wire::RunState;

/// The apalis job namespace (`job_type`) of package runs; the workers poll it.
pub const JOB_NAMESPACE: &str = "lockstep::run";

/// How long a running run may go without a heartbeat before it is failed.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// The job a worker receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunJob {
    pub run_id: Uuid,
}

/// Who asked for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartedBy {
    User(Uuid),
    /// A member's API token (the member, the token).
    Token {
        user: Uuid,
        token: Uuid,
    },
    /// The scheduler, for this occurrence.
    Schedule(DateTime<Utc>),
}

/// Queues a run of a saved package now. Developers and Admins.
pub async fn run_now(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    package: Uuid,
) -> Result<Uuid, CatalogError> {
    run_now_by(pool, StartedBy::User(user), workspace, package).await
}

/// Queues a run of a saved package now for a person or their API token (whose member must
/// be a Developer or Admin; the API checks the token's own role).
pub async fn run_now_by(
    pool: &PgPool,
    by: StartedBy,
    workspace: Uuid,
    package: Uuid,
) -> Result<Uuid, CatalogError> {
    let user = match by {
        StartedBy::User(user) | StartedBy::Token { user, .. } => user,
        StartedBy::Schedule(_) => {
            return Err(CatalogError::Forbidden(
                "a scheduled run is queued by the scheduler".into(),
            ));
        }
    };
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    let ready: Option<(bool, i64)> = sqlx::query_as(
        "SELECT p.source_connection_id IS NOT NULL AND p.target_connection_id IS NOT NULL,
                (SELECT count(*) FROM package_tasks t WHERE t.package_id = p.id)
           FROM packages p WHERE p.workspace_id = $1 AND p.id = $2",
    )
    .bind(workspace)
    .bind(package)
    .fetch_optional(&mut *tx)
    .await?;
    match ready {
        None => return Err(CatalogError::NotFound),
        Some((false, _)) => {
            return Err(CatalogError::validation(
                "package",
                "choose the source and target connections of this package before running it",
            ));
        }
        Some((true, 0)) => {
            return Err(CatalogError::validation(
                "package",
                "this package has no tasks yet; add a task before running it",
            ));
        }
        Some(_) => {}
    }
    reap(&mut tx, DEFAULT_LEASE, Some(package)).await?;
    let id = enqueue(&mut tx, workspace, package, by).await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts a queued run and its job in the caller's transaction. A package with a run
/// already queued or running gets a `Conflict`.
pub(crate) async fn enqueue(
    conn: &mut PgConnection,
    workspace: Uuid,
    package: Uuid,
    by: StartedBy,
) -> Result<Uuid, CatalogError> {
    let id = Uuid::new_v4();
    let (started_by, user, token, occurrence) = match by {
        StartedBy::User(user) => ("user", Some(user), None, None),
        StartedBy::Token { user, token } => ("api", Some(user), Some(token), None),
        StartedBy::Schedule(at) => ("schedule", None, None, Some(at)),
    };
    // A savepoint: the caller's transaction survives a refused insert.
    let mut sp = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO runs (id, workspace_id, package_id, state, started_by, started_by_user, scheduled_for,
                           started_by_token)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(workspace)
    .bind(package)
    .bind(started_by)
    .bind(user)
    .bind(occurrence)
    .bind(token)
    .execute(&mut *sp)
    .await
    .map_err(|e| {
        if is_unique_violation(&e, "runs_one_per_occurrence") {
            CatalogError::conflict("occurrence", "this occurrence was queued already")
        } else {
            already_active(e)
        }
    })?;
    let job = serde_json::to_value(RunJob { run_id: id }).expect("a job serializes");
    // apalis-sql's own function (what `PostgresStorage::push` calls), in our transaction:
    // the run and its job exist together or not at all. The job worker retries a failed
    // delivery in process, with its backoff (`server::workers`), so the stored job is
    // delivered once more only when its worker died.
    sqlx::query("SELECT 1 FROM apalis.push_job($1, $2::json, 'Pending', now(), 1, 0)")
        .bind(JOB_NAMESPACE)
        .bind(job)
        .execute(&mut *sp)
        .await?;
    sp.commit().await?;
    Ok(id)
}

/// A run a worker took.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub run_id: Uuid,
    pub workspace_id: Uuid,
    pub package_id: Uuid,
    /// This attempt's number, 1 for the first.
    pub attempt: u32,
    /// The counts of earlier attempts of this run (their writes happened), or null.
    pub earlier: Option<serde_json::Value>,
}

/// Takes a queued run for `worker`, counting an attempt. None when it is not queued any more
/// (canceled, or taken by an earlier delivery of the same job).
pub async fn claim(
    pool: &PgPool,
    run_id: Uuid,
    worker: &str,
) -> Result<Option<Claim>, CatalogError> {
    let row: Option<(Uuid, Uuid, i32, Option<serde_json::Value>)> = sqlx::query_as(
        "UPDATE runs SET state = 'running', worker = $2, attempts = attempts + 1,
                started_at = coalesce(started_at, now()), heartbeat_at = now(), updated_at = now()
          WHERE id = $1 AND state = 'queued'
      RETURNING workspace_id, package_id, attempts, summary",
    )
    .bind(run_id)
    .bind(worker)
    .fetch_optional(pool)
    .await?;
    Ok(
        row.map(|(workspace_id, package_id, attempt, earlier)| Claim {
            run_id,
            workspace_id,
            package_id,
            attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
            earlier,
        }),
    )
}

/// What a heartbeat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    Continue,
    /// Someone asked to cancel: stop at the next batch boundary.
    Cancel,
    /// The run is not this worker's any more (its lease lapsed): stop.
    Lost,
}

/// Renews a running run's lease and publishes its progress.
pub async fn heartbeat(
    pool: &PgPool,
    run_id: Uuid,
    worker: &str,
    progress: &serde_json::Value,
) -> Result<Beat, CatalogError> {
    let state: Option<String> = sqlx::query_scalar(
        "UPDATE runs SET heartbeat_at = now(), progress = $3
          WHERE id = $1 AND worker = $2 AND state IN ('running', 'canceling')
      RETURNING state",
    )
    .bind(run_id)
    .bind(worker)
    .bind(progress)
    .fetch_optional(pool)
    .await?;
    Ok(match state.as_deref() {
        Some("canceling") => Beat::Cancel,
        Some(_) => Beat::Continue,
        None => Beat::Lost,
    })
}

/// Puts a running run back in the queue after a retryable failure: the job worker delivers
/// it again after its backoff. `so_far` holds the counts of the attempts made (their writes
/// happened). A cancel request that came meanwhile cancels it instead. Returns the run's new
/// state, or None when the run was not this worker's any more.
pub async fn requeue_for_retry(
    pool: &PgPool,
    run_id: Uuid,
    worker: &str,
    reason: &str,
    so_far: &serde_json::Value,
) -> Result<Option<RunState>, CatalogError> {
    let state = sqlx::query_scalar(
        "UPDATE runs SET state = CASE state WHEN 'canceling' THEN 'canceled' ELSE 'queued' END,
                finished_at = CASE state WHEN 'canceling' THEN now() END,
                worker = NULL, progress = NULL, summary = $4,
                retried_after = retried_after || $3::text, updated_at = now()
          WHERE id = $1 AND worker = $2 AND state IN ('running', 'canceling')
      RETURNING state",
    )
    .bind(run_id)
    .bind(worker)
    .bind(reason)
    .bind(so_far)
    .fetch_optional(pool)
    .await?;
    Ok(state)
}

/// Asks a run to stop. A queued run is canceled at once; a running one stops at its next
/// batch boundary (checkpoints and the ID map stay consistent). Developers and Admins.
pub async fn cancel(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    run_id: Uuid,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM runs WHERE workspace_id = $1 AND id = $2 FOR UPDATE")
            .bind(workspace)
            .bind(run_id)
            .fetch_optional(&mut *tx)
            .await?;
    match state.as_deref() {
        None => return Err(CatalogError::NotFound),
        Some("queued") => {
            sqlx::query(
                "UPDATE runs SET state = 'canceled', cancel_requested_at = now(), finished_at = now(),
                        updated_at = now() WHERE id = $1",
            )
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        }
        Some("running") => {
            sqlx::query(
                "UPDATE runs SET state = 'canceling', cancel_requested_at = now(), updated_at = now() WHERE id = $1",
            )
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        }
        Some("canceling") => {}
        Some(_) => {
            return Err(CatalogError::conflict(
                "run",
                "this run has already finished",
            ));
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Fails the running runs (of one package, or all) whose worker stopped sending heartbeats
/// for longer than `lease`: killed, or its machine lost. The package can run again at once;
/// the next run repairs what the dead one left half done (the engine's recovery).
pub async fn reap(
    conn: &mut PgConnection,
    lease: Duration,
    package: Option<Uuid>,
) -> Result<Vec<Uuid>, CatalogError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE runs SET state = 'failed', finished_at = now(), updated_at = now(),
                summary = progress, progress = NULL,
                error = format('the worker running it (%s) stopped responding: no heartbeat since %s UTC (killed, or its machine was lost). Nothing is duplicated or lost: the next run picks up where it stopped.',
                               coalesce(worker, 'unknown'), to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'))
          WHERE state IN ('running', 'canceling')
            AND heartbeat_at < now() - make_interval(secs => $1)
            AND ($2::uuid IS NULL OR package_id = $2)
      RETURNING id",
    )
    .bind(lease.as_secs_f64())
    .bind(package)
    .fetch_all(&mut *conn)
    .await?;
    for id in &ids {
        tracing::warn!(run = %id, "run failed: its worker stopped sending heartbeats");
    }
    let mut ids = ids;
    ids.extend(reap_gone_here(conn, package).await?);
    Ok(ids)
}

/// Fails at once the running runs whose process was on this machine and no longer exists
/// (a killed `sync` command or worker restarted on the same box need not wait for the lease).
async fn reap_gone_here(
    conn: &mut PgConnection,
    package: Option<Uuid>,
) -> Result<Vec<Uuid>, CatalogError> {
    let running: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, worker FROM runs
          WHERE state IN ('running', 'canceling') AND worker IS NOT NULL
            AND ($1::uuid IS NULL OR package_id = $1)",
    )
    .bind(package)
    .fetch_all(&mut *conn)
    .await?;
    let gone: Vec<Uuid> = running
        .into_iter()
        .filter(|(_, worker)| process_gone_here(worker))
        .map(|(id, _)| id)
        .collect();
    if gone.is_empty() {
        return Ok(gone);
    }
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE runs SET state = 'failed', finished_at = now(), updated_at = now(),
                summary = progress, progress = NULL,
                error = format('the process running it (%s) has stopped (killed or crashed). Nothing is duplicated or lost: the next run picks up where it stopped.', worker)
          WHERE id = ANY($1) AND state IN ('running', 'canceling')
      RETURNING id",
    )
    .bind(&gone)
    .fetch_all(&mut *conn)
    .await?;
    for id in &ids {
        tracing::warn!(run = %id, "run failed: the process running it is gone");
    }
    Ok(ids)
}

/// This machine's name, read once.
fn this_host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "localhost".to_owned())
    })
}

/// A name for this process in the run history: `role@host:pid`.
pub fn this_process(role: &str) -> String {
    format!("{role}@{}:{}", this_host(), std::process::id())
}

/// True when `worker` (`role@host:pid`) was a process on this machine that no longer exists.
fn process_gone_here(worker: &str) -> bool {
    let Some((_, at)) = worker.rsplit_once('@') else {
        return false;
    };
    let Some((host, pid)) = at.rsplit_once(':') else {
        return false;
    };
    let proc_fs = std::path::Path::new("/proc/self").exists();
    proc_fs
        && host == this_host()
        && pid
            .parse::<u32>()
            .is_ok_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_of_this_machine_is_known_gone_only_when_it_is() {
        if !std::path::Path::new("/proc/self").exists() {
            return;
        }
        assert!(!process_gone_here(&this_process("worker")));
        let host = this_host();
        // Above Linux's pid_max (4194304): no such process.
        assert!(process_gone_here(&format!("cli@{host}:4194305")));
        assert!(!process_gone_here("worker@another-machine:4194305"));
        assert!(!process_gone_here("unparseable"));
    }
}
