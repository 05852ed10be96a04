//! Run history and the run queue: one row per run with its state, progress and outcome, and
//! every failed record.
//!
//! A run's life: `queued` (with its job, `queue::enqueue`) → `running` (claimed by one worker,
//! `queue::claim`, kept alive by its `lease`) → `succeeded` | `succeeded_with_errors` |
//! `failed` | `canceled`; a retryable failure puts it back to `queued` for the job worker's
//! next delivery; a cancel request turns `running` into `canceling` until the next batch
//! boundary. A scheduled occurrence that finds a run still active is recorded as `skipped`.
//! The runner records all of that through one interface, [`record::RunRecord`].

pub mod history;
mod lease;
pub mod list;
pub mod queue;
pub mod record;

use sqlx::PgPool;
use uuid::Uuid;

use super::CatalogError;
use super::error::is_unique_violation;
use engine::sync::RecordError;
use wire::RunState;

pub(crate) fn already_active(e: sqlx::Error) -> CatalogError {
    if is_unique_violation(&e, "runs_one_active_per_package") {
        CatalogError::conflict(
            "run",
            "a run of this package is already queued or running; wait for it to finish or cancel it",
        )
    } else {
        CatalogError::Database(e)
    }
}

/// Records a run that starts now in this process (the `sync` command), holding the
/// package's one active run like a worker does.
async fn start(
    pool: &PgPool,
    workspace_id: Uuid,
    package_id: Uuid,
    started_by: &str,
    worker: &str,
) -> Result<Uuid, CatalogError> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO runs (id, workspace_id, package_id, state, started_by, worker, attempts, started_at, heartbeat_at)
         VALUES ($1, $2, $3, 'running', $4, $5, 1, now(), now())",
    )
    .bind(id)
    .bind(workspace_id)
    .bind(package_id)
    .bind(started_by)
    .bind(worker)
    .execute(pool)
    .await
    .map_err(already_active)?;
    Ok(id)
}

/// Records how a run ended, with its summary and failed records. False when the run was no
/// longer running (its lease lapsed and it was already marked failed).
async fn finish(
    pool: &PgPool,
    run_id: Uuid,
    state: RunState,
    error: Option<&str>,
    summary: &serde_json::Value,
    errors: &[RecordError],
    api_calls: Option<&serde_json::Value>,
) -> Result<bool, CatalogError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE runs SET state = $2, error = $3, summary = $4, api_calls = $5, progress = NULL, finished_at = now(), updated_at = now()
          WHERE id = $1 AND state IN ('running', 'canceling')",
    )
    .bind(run_id)
    .bind(state)
    .bind(error)
    .bind(summary)
    .bind(api_calls)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !done {
        return Ok(false);
    }
    for chunk in errors.chunks(1000) {
        let column = |f: fn(&RecordError) -> String| chunk.iter().map(f).collect::<Vec<String>>();
        sqlx::query(
            "INSERT INTO run_errors (run_id, task, direction, side, record_key, operation, message)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])",
        )
        .bind(run_id)
        .bind(column(|e| e.task.clone()))
        .bind(column(|e| e.direction.as_str().to_owned()))
        .bind(column(|e| e.side.to_owned()))
        .bind(column(|e| e.key.clone()))
        .bind(column(|e| e.operation.to_owned()))
        .bind(column(|e| e.message.clone()))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}
