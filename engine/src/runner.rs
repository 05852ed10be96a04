//! Runs a whole package once: saves it, connects both sides, checks every task before
//! anything is written, runs the tasks, and records the run. Used by the `sync` command and
//! (later) the job workers.

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::catalog::parameters::Reset;
use crate::catalog::{self, CatalogError};
use crate::connectors::{self, Connector, ConnectorError, KeyGeneration, TableSchema};
use crate::mapping::CompiledMapping;
use crate::mapping::locale::Locale;
use crate::package::{Package, TableRef};
use crate::sync::{
    CancelToken, RecordError, Side, SyncError, SyncOptions, TaskPlan, TaskSummary, log_name,
    run_task,
};

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
    pub state: &'static str,
    pub tasks: Vec<TaskSummary>,
    pub errors: Vec<RecordError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The package cannot run as written (a table, key, column or mapping problem, or a
    /// changed connection); nothing was written.
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
    /// `cli`, a user id, `schedule`, … (kept in the run history).
    pub started_by: &'a str,
}

/// Saves `package` in the workspace and runs it once.
#[tracing::instrument(skip_all, fields(package = %package.name), err(Display))]
pub async fn run_package(
    pool: &PgPool,
    workspace_id: Uuid,
    package: &Package,
    request: RunRequest<'_>,
    options: &SyncOptions,
    cancel: &CancelToken,
) -> Result<RunReport, RunnerError> {
    let RunRequest {
        allow_connection_change,
        reset,
        started_by,
    } = request;
    let saved =
        catalog::packages::save_from_file(pool, workspace_id, package, allow_connection_change)
            .await
            .map_err(|e| match e {
                CatalogError::Conflict { message, .. }
                | CatalogError::Validation { message, .. } => RunnerError::Invalid(message),
                other => RunnerError::Catalog(other),
            })?;
    let locale = Locale::parse(&package.locale).map_err(RunnerError::Invalid)?;
    let reset_tasks = match reset {
        Some(request) => Some(tasks_named(package, &saved.tasks, &request.tasks)?),
        None => None,
    };

    let sides = async {
        let source = connectors::connect(&package.source)
            .await
            .map_err(|e| format!("source: {e}"))?;
        let target = connectors::connect(&package.target)
            .await
            .map_err(|e| format!("target: {e}"))?;
        Ok::<_, String>((source, target))
    }
    .await;
    let (source, target) = match sides {
        Ok(sides) => sides,
        Err(message) => {
            return record_failed_run(pool, workspace_id, saved.id, started_by, message).await;
        }
    };

    // Every task is checked before anything is written.
    let mut plans = Vec::with_capacity(package.tasks.len());
    for (i, (spec, task_id)) in package.tasks.iter().zip(&saved.tasks).enumerate() {
        let at = |what: &str, e: &dyn std::fmt::Display| {
            format!("tasks[{i}] ({}): {what}{e}", spec.label())
        };
        let schemas = async {
            let s = source
                .describe(&spec.source)
                .await
                .map_err(|e| ("source", e))?;
            let t = target
                .describe(&spec.target)
                .await
                .map_err(|e| ("target", e))?;
            Ok::<_, (&str, ConnectorError)>((s, t))
        }
        .await;
        let (source_schema, target_schema) = match schemas {
            Ok(schemas) => schemas,
            Err((side, ConnectorError::Requirement(m))) => {
                return Err(RunnerError::Invalid(at(&format!("{side}: "), &m)));
            }
            Err((side, e)) => {
                return record_failed_run(
                    pool,
                    workspace_id,
                    saved.id,
                    started_by,
                    at(&format!("{side}: "), &e),
                )
                .await;
            }
        };
        let s2t = CompiledMapping::compile(
            &spec.source_to_target,
            &source_schema,
            &target_schema,
            locale,
        )
        .map_err(|e| RunnerError::Invalid(at("source_to_target.", &e)))?;
        let t2s = CompiledMapping::compile(
            &spec.target_to_source,
            &target_schema,
            &source_schema,
            locale,
        )
        .map_err(|e| RunnerError::Invalid(at("target_to_source.", &e)))?;
        plans.push(TaskPlan {
            id: *task_id,
            label: spec.label(),
            source: source.as_ref(),
            target: target.as_ref(),
            source_schema,
            target_schema,
            source_to_target: s2t,
            target_to_source: t2s,
        });
    }

    remove_retired_tracking(pool, saved.id, source.as_ref(), target.as_ref()).await?;
    if let (Some(request), Some(tasks)) = (reset, &reset_tasks) {
        catalog::parameters::reset(pool, workspace_id, saved.id, Some(tasks), request.what).await?;
    }
    let run_id = catalog::runs::start(pool, workspace_id, saved.id, started_by).await?;
    let state = catalog::sync_state::PgStateStore::new(pool.clone());
    let mut tasks = Vec::new();
    let mut errors = Vec::new();
    let mut failure = None;
    for plan in &plans {
        match run_task(plan, &state, options, cancel).await {
            Ok(mut summary) => {
                errors.append(&mut summary.errors);
                tasks.push(summary);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let (state_name, error) = match &failure {
        None => ("succeeded", None),
        Some(SyncError::Canceled) => ("canceled", None),
        Some(e) => ("failed", Some(format!("{}: {e}", plans[tasks.len()].label))),
    };
    let report = RunReport {
        run_id,
        state: state_name,
        tasks,
        errors,
        error,
    };
    let summary = serde_json::to_value(&report.tasks).expect("summaries serialize");
    catalog::runs::finish(
        pool,
        run_id,
        state_name,
        report.error.as_deref(),
        &summary,
        &report.errors,
    )
    .await?;
    Ok(report)
}

/// The ids of the tasks whose source table is named (all tasks when none is).
fn tasks_named(
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

/// Removes the change tracking of tasks taken out of the package. A failure is logged and
/// retried by the next run; it does not stop this one.
async fn remove_retired_tracking(
    pool: &PgPool,
    package_id: Uuid,
    source: &dyn Connector,
    target: &dyn Connector,
) -> Result<(), RunnerError> {
    for task in catalog::packages::retired_tasks(pool, package_id).await? {
        match remove_tracking(&task, source, target).await {
            Ok(()) => catalog::packages::forget_retired_task(pool, task.id).await?,
            Err(e) => {
                tracing::warn!(task = %task.id, error = %e, "could not remove the change tracking of a removed task; will retry");
            }
        }
    }
    Ok(())
}

/// Removes a task's change logs and triggers from both databases (idempotent; the tables
/// may be gone already).
pub async fn remove_tracking(
    task: &catalog::packages::RetiredTask,
    source: &dyn Connector,
    target: &dyn Connector,
) -> Result<(), ConnectorError> {
    for (connector, table, side) in [
        (source, &task.source_table, Side::Source),
        (target, &task.target_table, Side::Target),
    ] {
        let Ok(table) = TableRef::parse(table) else {
            continue;
        };
        // Removing tracking needs only the table and the log's name.
        let schema = TableSchema {
            table,
            columns: Vec::new(),
            key: String::new(),
            key_generation: KeyGeneration::Identity,
            log_name: log_name(task.id, side),
        };
        connector.remove_tracking(&schema).await?;
    }
    Ok(())
}

async fn record_failed_run(
    pool: &PgPool,
    workspace_id: Uuid,
    package_id: Uuid,
    started_by: &str,
    message: String,
) -> Result<RunReport, RunnerError> {
    let run_id = catalog::runs::start(pool, workspace_id, package_id, started_by).await?;
    catalog::runs::finish(
        pool,
        run_id,
        "failed",
        Some(&message),
        &serde_json::json!([]),
        &[],
    )
    .await?;
    Ok(RunReport {
        run_id,
        state: "failed",
        tasks: Vec::new(),
        errors: Vec::new(),
        error: Some(message),
    })
}
