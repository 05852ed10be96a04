//! Running a queued run in a job worker: claim it, hold its lease, build the package from
//! the catalog (connections opened with the secret key), retry retryable connection
//! failures with a backoff, record the outcome.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::execute::{Attempt, Run, Slot, finish};
use super::lease::{DEFAULT_HEARTBEAT, Lease};
use super::{RunReport, RunnerError};
use crate as catalog;
use crate::CatalogError;
use crate::packages::{SavedPackage, StoredPackage};
use crate::runs::queue;
use crate::secrets::SecretBox;
use engine::package::{Package, TableRef, TaskSpec};
use engine::sync::{CancelToken, SyncOptions, TaskSummary};

/// Retries of a run that failed on a retryable connection error (network drop, database
/// restart): up to `attempts` in all, waiting `first_delay`, then twice as long each time.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, failed_attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(failed_attempts.saturating_sub(1));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// How a worker runs packages.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `worker@host:pid`, kept on the runs it claims.
    pub name: String,
    pub batch_size: usize,
    pub heartbeat: Duration,
    pub retry: RetryPolicy,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            name: super::lease::this_process("worker"),
            batch_size: SyncOptions::default().batch_size,
            heartbeat: DEFAULT_HEARTBEAT,
            retry: RetryPolicy::default(),
        }
    }
}

/// Runs the queued run `run_id` if it is still queued (None when another delivery of its job
/// took it, or it was canceled meanwhile).
#[tracing::instrument(skip_all, fields(run = %run_id), err(Display))]
pub async fn run_queued(
    pool: &PgPool,
    secrets: &SecretBox,
    run_id: Uuid,
    settings: &WorkerSettings,
) -> Result<Option<RunReport>, CatalogError> {
    let Some(claim) = queue::claim(pool, run_id, &settings.name).await? else {
        tracing::info!("run is not queued any more; nothing to do");
        return Ok(None);
    };
    let cancel = CancelToken::default();
    let options = SyncOptions {
        batch_size: settings.batch_size,
        ..Default::default()
    };
    let _lease = Lease::start(
        pool.clone(),
        run_id,
        settings.name.clone(),
        cancel.clone(),
        options.progress.clone(),
        settings.heartbeat,
    );
    let stored = catalog::packages::stored(pool, claim.workspace_id, claim.package_id).await?;
    let (package, saved) = match package_to_run(pool, secrets, claim.workspace_id, &stored).await {
        Ok(p) => p,
        Err(message) => return fail(pool, run_id, message).await.map(Some),
    };
    let run = Run {
        pool,
        workspace_id: claim.workspace_id,
        saved: &saved,
        package: &package,
        reset: None,
        options: &options,
        cancel: &cancel,
    };
    let mut earlier: Vec<TaskSummary> = Vec::new();
    let mut failed_attempts = 0;
    loop {
        options.progress.clear();
        let attempt = match run.attempt(&mut Slot::Claimed(run_id)).await {
            Ok(attempt) => attempt,
            Err(RunnerError::Invalid(message)) => {
                return fail(pool, run_id, message).await.map(Some);
            }
            Err(RunnerError::Catalog(e)) => return Err(e),
        };
        let Some(reason) = attempt.retryable_failure() else {
            return finish(pool, run_id, attempt, earlier).await.map(Some);
        };
        failed_attempts += 1;
        if failed_attempts >= settings.retry.attempts || cancel.is_canceled() {
            return finish(pool, run_id, attempt, earlier).await.map(Some);
        }
        let delay = settings.retry.delay(failed_attempts);
        tracing::warn!(reason, ?delay, "retryable failure; retrying");
        queue::record_retry(pool, run_id, reason).await?;
        earlier.extend(attempt.tasks);
        // Waits, but a cancel request ends the wait.
        let deadline = tokio::time::Instant::now() + delay;
        while tokio::time::Instant::now() < deadline && !cancel.is_canceled() {
            tokio::time::sleep(Duration::from_millis(100).min(delay)).await;
        }
        if cancel.is_canceled() {
            let canceled = Attempt {
                failure: Some(super::execute::Failure::Canceled),
                ..Default::default()
            };
            return finish(pool, run_id, canceled, earlier).await.map(Some);
        }
    }
}

/// Fails a run before any attempt (the package or a connection cannot be used).
async fn fail(pool: &PgPool, run_id: Uuid, message: String) -> Result<RunReport, CatalogError> {
    let attempt = Attempt {
        failure: Some(super::execute::Failure::Failed {
            message,
            retryable: false,
        }),
        ..Default::default()
    };
    finish(pool, run_id, attempt, Vec::new()).await
}

/// The package as the engine runs it, from what the app saved. Err: why it cannot run, in
/// words for the run history.
async fn package_to_run(
    pool: &PgPool,
    secrets: &SecretBox,
    workspace: Uuid,
    stored: &StoredPackage,
) -> Result<(Package, SavedPackage), String> {
    let open = |id: Option<Uuid>, side: &'static str| async move {
        let Some(id) = id else {
            return Err(format!(
                "the package has no {side} connection; choose one in the package"
            ));
        };
        catalog::connections::open(pool, secrets, workspace, id)
            .await
            .map_err(|e| match e {
                CatalogError::NotFound => {
                    format!("the {side} connection was deleted; choose another in the package")
                }
                CatalogError::Validation { message, .. } => format!("{side}: {message}"),
                other => {
                    tracing::error!(error = %other, "opening a connection failed");
                    format!("{side}: the connection could not be read from the metadata database")
                }
            })
    };
    let source = open(stored.source_connection, "source").await?;
    let target = open(stored.target_connection, "target").await?;
    let tasks = stored
        .tasks
        .iter()
        .map(|t| {
            Ok(TaskSpec {
                source: TableRef::parse(&t.source_table)?,
                target: TableRef::parse(&t.target_table)?,
                source_to_target: t.source_to_target.clone(),
                target_to_source: t.target_to_source.clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if tasks.is_empty() {
        return Err("the package has no tasks; add a task and run it again".into());
    }
    Ok((
        Package {
            name: stored.name.clone(),
            source,
            target,
            locale: stored.locale.clone(),
            dedicated_account: stored.dedicated_account,
            tasks,
        },
        SavedPackage {
            id: stored.id,
            tasks: stored.tasks.iter().map(|t| t.id).collect(),
        },
    ))
}
