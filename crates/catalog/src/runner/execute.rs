//! One attempt at running a package: connect, check every task, then run them in order.

use sqlx::PgPool;
use uuid::Uuid;
use wire::RunState;

use super::{ResetRequest, RunReport, RunnerError};
use crate as catalog;
use crate::CatalogError;
use crate::packages::SavedPackage;
use crate::runs::record::{DEFAULT_HEARTBEAT, Outcome, RunRecord, Watch};
use engine::connectors::{self, ConnectorError};
use engine::mapping::locale::Locale;
use engine::package::{Package, TableRef};
use engine::sync::{
    CancelToken, RecordError, SyncError, SyncOptions, TaskPlan, TaskSummary, link_package,
    run_package,
};
use engine::sync::{Matching, TaskCheckError, check_task};

/// Everything one run of a package needs.
pub(super) struct Run<'a> {
    pub pool: &'a PgPool,
    pub workspace_id: Uuid,
    pub saved: &'a SavedPackage,
    pub package: &'a Package,
    pub reset: Option<&'a ResetRequest>,
    pub options: &'a SyncOptions,
    pub cancel: &'a CancelToken,
}

/// The run's row in the history: claimed by a worker already, or created (by the `sync`
/// command) once the package is known to be valid.
pub(super) enum Slot<'a> {
    Held(RunRecord),
    New {
        started_by: &'a str,
        worker: &'a str,
        record: Option<RunRecord>,
    },
}

impl Slot<'_> {
    /// The run's id, creating its row (and lease) if needed.
    pub(super) async fn begin(&mut self, run: &Run<'_>) -> Result<Uuid, RunnerError> {
        match self {
            Slot::Held(record)
            | Slot::New {
                record: Some(record),
                ..
            } => Ok(record.id()),
            Slot::New {
                started_by,
                worker,
                record,
            } => {
                let watch = Watch {
                    cancel: run.cancel.clone(),
                    progress: run.options.progress.clone(),
                    heartbeat: DEFAULT_HEARTBEAT,
                };
                let started = RunRecord::start(
                    run.pool,
                    run.workspace_id,
                    run.saved.id,
                    started_by,
                    worker,
                    watch,
                )
                .await
                .map_err(|e| match e {
                    CatalogError::Conflict { message, .. } => RunnerError::Invalid(message),
                    other => RunnerError::Catalog(other),
                })?;
                let id = started.id();
                *record = Some(started);
                Ok(id)
            }
        }
    }

    /// The run's record once it began.
    pub(super) fn into_record(self) -> Option<RunRecord> {
        match self {
            Slot::Held(record) => Some(record),
            Slot::New { record, .. } => record,
        }
    }
}

/// What one attempt did.
#[derive(Debug, Default)]
pub(super) struct Attempt {
    pub tasks: Vec<TaskSummary>,
    pub errors: Vec<RecordError>,
    pub failure: Option<Failure>,
    /// API calls made to cloud sides (none for databases).
    pub api_calls: Option<super::ApiCalls>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Failure {
    Canceled,
    Failed { message: String, retryable: bool },
}

impl Attempt {
    fn failed(message: String, error: &ConnectorError) -> Self {
        Attempt {
            failure: Some(Failure::Failed {
                message,
                retryable: error.is_retryable(),
            }),
            ..Default::default()
        }
    }

    pub(super) fn retryable_failure(&self) -> Option<&str> {
        match &self.failure {
            Some(Failure::Failed {
                message,
                retryable: true,
            }) => Some(message),
            _ => None,
        }
    }
}

impl Run<'_> {
    fn connect_options(&self) -> connectors::ConnectOptions {
        catalog::cloud_tracking::connect_options(self.pool, self.package.dedicated_account)
    }

    /// Connects, checks every task before anything is written, applies the reset, then runs
    /// the tasks. `Invalid` when the package cannot run as it is (nothing was written).
    pub(super) async fn attempt(&self, slot: &mut Slot<'_>) -> Result<Attempt, RunnerError> {
        let package = self.package;
        let locale = Locale::parse(&package.locale).map_err(RunnerError::Invalid)?;
        let reset_tasks = match self.reset {
            Some(request) => Some(tasks_named(package, &self.saved.tasks, &request.tasks)?),
            None => None,
        };
        let source = match connectors::connect(&package.source, &self.connect_options()).await {
            Ok(c) => c,
            Err(e) => return Ok(Attempt::failed(format!("source: {e}"), &e)),
        };
        let target = match connectors::connect(&package.target, &self.connect_options()).await {
            Ok(c) => c,
            Err(e) => return Ok(Attempt::failed(format!("target: {e}"), &e)),
        };

        // Every task is checked before anything is written.
        let mut plans = Vec::with_capacity(package.tasks.len());
        for (i, (spec, task_id)) in package.tasks.iter().zip(&self.saved.tasks).enumerate() {
            let at = |what: &str, e: &dyn std::fmt::Display| {
                format!("tasks[{i}] ({}): {what}{e}", spec.label())
            };
            let checked = check_task(
                source.as_ref(),
                target.as_ref(),
                (&spec.source, &spec.target),
                (&spec.source_to_target, &spec.target_to_source),
                locale,
            )
            .await;
            let checked = match checked {
                Ok(checked) => checked,
                Err(e) => {
                    let message = at("", &e);
                    return match e {
                        // The side could not be reached: a failed (maybe retried) attempt.
                        TaskCheckError::Table { source, .. }
                            if !matches!(source, ConnectorError::Requirement(_)) =>
                        {
                            Ok(Attempt::failed(message, &source))
                        }
                        // The package does not fit the tables: nothing runs.
                        _ => Err(RunnerError::Invalid(message)),
                    };
                }
            };
            let matching = match &spec.matching {
                Some(keys) => Some(
                    Matching::compile(keys, &checked.source_schema, &checked.target_schema)
                        .map_err(|e| RunnerError::Invalid(at("", &e)))?,
                ),
                None => None,
            };
            plans.push(TaskPlan {
                matching,
                id: *task_id,
                label: spec.label(),
                source: source.as_ref(),
                target: target.as_ref(),
                source_schema: checked.source_schema,
                target_schema: checked.target_schema,
                source_to_target: checked.source_to_target,
                target_to_source: checked.target_to_source,
            });
        }

        // Relations between the tasks: resolved, checked, and the order parents first.
        let names: Vec<TableRef> = package.tasks.iter().map(|t| t.source.clone()).collect();
        let order =
            link_package(&mut plans, &names).map_err(|e| RunnerError::Invalid(e.to_string()))?;

        slot.begin(self).await?;
        super::tracking::remove_retired_tracking(
            self.pool,
            self.saved.id,
            source.as_ref(),
            target.as_ref(),
        )
        .await?;
        if let (Some(request), Some(tasks)) = (self.reset, &reset_tasks) {
            catalog::parameters::reset(
                self.pool,
                self.workspace_id,
                self.saved.id,
                Some(tasks),
                request.what,
            )
            .await?;
        }
        let state = catalog::sync_state::PgStateStore::new(self.pool.clone());
        let mut attempt = Attempt::default();
        let ran = run_package(&plans, &order, &state, self.options, self.cancel).await;
        for mut summary in ran.tasks {
            attempt.errors.append(&mut summary.errors);
            attempt.tasks.push(summary);
        }
        match ran.failure {
            None => {}
            Some((_, SyncError::Canceled)) => attempt.failure = Some(Failure::Canceled),
            Some((task, e)) => {
                attempt.failure = Some(Failure::Failed {
                    message: format!("{task}: {e}"),
                    retryable: e.is_retryable(),
                });
            }
        }
        if source.api_calls() + target.api_calls() > 0 {
            attempt.api_calls = Some(super::ApiCalls {
                source: source.api_calls(),
                target: target.api_calls(),
            });
        }
        // The counts of a task stopped midway are in the progress.
        if attempt.failure.is_some() {
            for task in self.options.progress.snapshot() {
                if !attempt.tasks.iter().any(|t| t.task == task.task) {
                    attempt.tasks.push(task);
                }
            }
        }
        Ok(attempt)
    }
}

/// Records how the run ended. `earlier` holds the counts of failed attempts before this one
/// (their writes happened).
pub(super) async fn finish(
    record: RunRecord,
    attempt: Attempt,
    earlier: Vec<TaskSummary>,
) -> Result<RunReport, CatalogError> {
    let run_id = record.id();
    let tasks = merged(attempt.tasks, earlier);
    let (state, error) = match &attempt.failure {
        None => outcome_of(&tasks),
        Some(Failure::Canceled) => (RunState::Canceled, None),
        Some(Failure::Failed { message, .. }) => (RunState::Failed, Some(message.clone())),
    };
    let recorded = record
        .finish(Outcome {
            state,
            error: error.as_deref(),
            tasks: &tasks,
            errors: &attempt.errors,
            api_calls: attempt
                .api_calls
                .map(|c| serde_json::to_value(c).expect("counts serialize")),
        })
        .await?;
    if !recorded {
        tracing::warn!(run = %run_id, %state, "the run was failed meanwhile (its lease lapsed); its outcome is not recorded");
    }
    Ok(RunReport {
        run_id,
        state,
        tasks,
        errors: attempt.errors,
        error,
        api_calls: attempt.api_calls,
    })
}

/// The counts of this attempt with those of the attempts before it added in.
pub(super) fn merged(mut tasks: Vec<TaskSummary>, earlier: Vec<TaskSummary>) -> Vec<TaskSummary> {
    for old in earlier {
        match tasks.iter_mut().find(|t| t.task == old.task) {
            Some(t) => {
                t.source_to_target.add(old.source_to_target);
                t.target_to_source.add(old.target_to_source);
            }
            None => tasks.push(old),
        }
    }
    tasks
}

/// The state of a run that went through every task: `succeeded` when no record failed,
/// `succeeded_with_errors` when some did (they are retried by the next run), and `failed`
/// when records failed and none was written — a run that changed nothing it was asked to is
/// not a success.
fn outcome_of(tasks: &[TaskSummary]) -> (RunState, Option<String>) {
    let mut total = engine::sync::Counts::default();
    for t in tasks {
        total.add(t.source_to_target);
        total.add(t.target_to_source);
    }
    match (total.failed, total.written()) {
        (0, _) if total.waiting == 0 && total.held == 0 => (RunState::Succeeded, None),
        // Records waiting for a parent record are written by a later run, like failures.
        (0, _) => (RunState::SucceededWithErrors, None),
        (failed, 0) if total.waiting == 0 && total.held == 0 => (
            RunState::Failed,
            Some(format!(
                "every record failed ({failed}); the run's errors say why for each"
            )),
        ),
        _ => (RunState::SucceededWithErrors, None),
    }
}

/// The ids of the tasks whose source table is named (all tasks when none is).
pub fn tasks_named(
    package: &Package,
    ids: &[Uuid],
    names: &[String],
) -> Result<Vec<Uuid>, RunnerError> {
    if names.is_empty() {
        return Ok(ids.to_vec());
    }
    names
        .iter()
        .map(|name| {
            let wanted = TableRef::parse(name).map_err(RunnerError::Invalid)?;
            package
                .tasks
                .iter()
                .zip(ids)
                .find(|(task, _)| task.source == wanted)
                .map(|(_, id)| *id)
                .ok_or_else(|| {
                    let known: Vec<String> =
                        package.tasks.iter().map(|t| t.source.to_string()).collect();
                    RunnerError::Invalid(format!(
                        "no task reads the source table “{name}”; the tasks read: {}",
                        known.join(", ")
                    ))
                })
        })
        .collect()
}
