//! Running a queued run in a job worker: claim it (an attempt), hold its lease, build the
//! package from the catalog (connections opened with the secret key), run it once, and
//! record the outcome — or, after a retryable connection failure with attempts left, put it
//! back in the queue and tell the job worker to deliver it again after its backoff.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::execute::{Attempt, Failure, Run, Slot, finish, merged};
use super::{RunReport, RunnerError};
use crate as catalog;
use crate::CatalogError;
use crate::packages::{SavedPackage, StoredPackage};
use crate::runs::queue::this_process;
use crate::runs::record::{DEFAULT_HEARTBEAT, RunRecord, Watch};
use crate::secrets::SecretBox;
use engine::package::{Package, TableRef, TaskSpec};
use engine::sync::{CancelToken, SyncOptions};
use wire::RunState;

/// Retries of a run that failed on a retryable connection error (network drop, database
/// restart): up to `attempts` in all, waiting `first_delay`, then twice as long each time,
/// at most `max_delay`. The job worker carries the waits and deliveries; the run's row
/// counts the attempts.
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
            name: this_process("worker"),
            batch_size: SyncOptions::default().batch_size,
            heartbeat: DEFAULT_HEARTBEAT,
            retry: RetryPolicy::default(),
        }
    }
}

/// What one delivery of a run's job came to.
#[derive(Debug)]
pub enum Delivery {
    /// The run ended and is recorded.
    Finished(RunReport),
    /// The run failed on a retryable error and is queued again: deliver its job again.
    RetryLater { reason: String },
    /// The run was not queued (canceled, or taken by another delivery): nothing to do.
    NotQueued,
}

/// Runs the queued run `run_id` once if it is still queued.
#[tracing::instrument(skip_all, fields(run = %run_id), err(Display))]
pub async fn run_queued(
    pool: &PgPool,
    secrets: &SecretBox,
    run_id: Uuid,
    settings: &WorkerSettings,
) -> Result<Delivery, CatalogError> {
    let cancel = CancelToken::default();
    let options = SyncOptions {
        batch_size: settings.batch_size,
        ..Default::default()
    };
    let watch = Watch {
        cancel: cancel.clone(),
        progress: options.progress.clone(),
        heartbeat: settings.heartbeat,
    };
    let Some(claimed) = RunRecord::claim(pool, run_id, &settings.name, watch).await? else {
        tracing::info!("run is not queued any more; nothing to do");
        return Ok(Delivery::NotQueued);
    };
    let record = claimed.record;
    let stored = catalog::packages::stored(pool, claimed.workspace_id, claimed.package_id).await?;
    let (package, saved) = match package_to_run(pool, secrets, claimed.workspace_id, &stored).await
    {
        Ok(p) => p,
        Err(message) => {
            let attempt = Attempt {
                failure: Some(Failure::Failed {
                    message,
                    retryable: false,
                }),
                ..Default::default()
            };
            return finish(record, attempt, claimed.earlier)
                .await
                .map(Delivery::Finished);
        }
    };
    let run = Run {
        pool,
        workspace_id: claimed.workspace_id,
        saved: &saved,
        package: &package,
        reset: None,
        options: &options,
        cancel: &cancel,
    };
    let mut slot = Slot::Held(record);
    let attempt = match run.attempt(&mut slot).await {
        Ok(attempt) => attempt,
        Err(RunnerError::Invalid(message)) => Attempt {
            failure: Some(Failure::Failed {
                message,
                retryable: false,
            }),
            ..Default::default()
        },
        Err(RunnerError::Catalog(e)) => return Err(e),
    };
    let record = slot.into_record().expect("a claimed run is held");
    let reason = match attempt.retryable_failure() {
        Some(reason) if claimed.attempt < settings.retry.attempts && !cancel.is_canceled() => {
            reason.to_owned()
        }
        _ => {
            return finish(record, attempt, claimed.earlier)
                .await
                .map(Delivery::Finished);
        }
    };
    let so_far = merged(attempt.tasks, claimed.earlier);
    match record.retry_later(&reason, &so_far).await? {
        Some(RunState::Queued) => {
            tracing::warn!(
                reason,
                attempt = claimed.attempt,
                "retryable failure; queued again"
            );
            Ok(Delivery::RetryLater { reason })
        }
        // Canceled meanwhile, or failed by the reaper: nothing left to do.
        _ => Ok(Delivery::NotQueued),
    }
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
                matching: t.matching.clone(),
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
            // A queued run needs no schedule.
            schedule: None,
        },
        SavedPackage {
            id: stored.id,
            tasks: stored.tasks.iter().map(|t| t.id).collect(),
        },
    ))
}
