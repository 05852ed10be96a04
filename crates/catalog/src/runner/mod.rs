//! Runs a whole package once: connects both sides, checks every task before anything is
//! written, runs the tasks, and records the run. `run_package` is the `sync` command's
//! (a package file, saved first); `run_queued` is the job workers' (a package saved in the
//! app, claimed from the queue, with a lease and cancel requests; a retryable failure goes
//! back to the queue for the job worker's next delivery). Everything written about a run
//! goes through `catalog::runs::record::RunRecord`.

mod execute;
mod queued;
mod tracking;

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate as catalog;
use crate::CatalogError;
use crate::parameters::Reset;
use engine::package::Package;
use engine::sync::{CancelToken, RecordError, SyncOptions, TaskSummary};

pub use execute::tasks_named;
pub use queued::{Delivery, RetryPolicy, WorkerSettings, run_queued};
pub use tracking::remove_tracking;

/// A parameter reset to apply before the run (see `catalog::parameters`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetRequest {
    pub what: Reset,
    /// Tasks named by their source table as written in the file; empty: every task.
    pub tasks: Vec<String>,
}

/// The outcome of one run, as the `sync` command prints it.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: Uuid,
    pub state: wire::RunState,
    pub tasks: Vec<TaskSummary>,
    pub errors: Vec<RecordError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// API calls made to cloud sides (absent when both sides are databases).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_calls: Option<ApiCalls>,
}

/// API calls a run made to each side (each attempt of a call counts, as the vendor counts it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiCalls {
    pub source: u64,
    pub target: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The package cannot run as written (a table, key, column or mapping problem, a changed
    /// connection, another run in progress); nothing was written.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// How a run was asked for.
#[derive(Debug, Clone, Copy)]
pub struct RunRequest<'a> {
    /// Accept that a side now points to another database (its ID map is cleared).
    pub allow_connection_change: bool,
    /// A parameter reset to apply first.
    pub reset: Option<&'a ResetRequest>,
    /// `cli`, `user`, `schedule` (kept in the run history).
    pub started_by: &'a str,
}

/// Saves `package` in the workspace and runs it once, in this process.
#[tracing::instrument(skip_all, fields(package = %package.name), err(Display))]
pub async fn run_package(
    pool: &PgPool,
    workspace_id: Uuid,
    package: &Package,
    request: RunRequest<'_>,
    options: &SyncOptions,
    cancel: &CancelToken,
) -> Result<RunReport, RunnerError> {
    let saved = catalog::packages::save_from_file(
        pool,
        workspace_id,
        package,
        request.allow_connection_change,
    )
    .await
    .map_err(|e| match e {
        CatalogError::Conflict { message, .. } | CatalogError::Validation { message, .. } => {
            RunnerError::Invalid(message)
        }
        other => RunnerError::Catalog(other),
    })?;
    let worker = catalog::runs::queue::this_process("cli");
    let mut slot = execute::Slot::New {
        started_by: request.started_by,
        worker: &worker,
        record: None,
    };
    let run = execute::Run {
        pool,
        workspace_id,
        saved: &saved,
        package,
        reset: request.reset,
        options,
        cancel,
    };
    let attempt = run.attempt(&mut slot).await?;
    slot.begin(&run).await?;
    let record = slot.into_record().expect("the run began");
    Ok(execute::finish(record, attempt, Vec::new()).await?)
}
