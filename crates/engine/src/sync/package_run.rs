//! One run of a package's tasks: each task in the run order (parents first, see
//! `relations`), then its pending records tried again until no more settle (a child whose
//! parent was written later in the run, a reference set in a second pass, a parent's delete
//! refused until its children were processed), then what is still pending reported.

use std::collections::HashSet;

use super::task::{Run, logged_schemas};
use super::{CancelToken, RunOrder, StateStore, SyncError, SyncOptions, TaskPlan, TaskSummary};
use crate::package::Direction;

/// At most this many rounds of retrying pending records: each round settles every record
/// whose referenced record was written in the round before, so chains of references longer
/// than this settle over the next runs.
const SETTLE_ROUNDS: usize = 8;

/// What a package run did: the summaries of the tasks that ran (in package order), and the
/// failure that stopped it with the task it stopped in, if any.
#[derive(Debug, Default)]
pub struct PackageRun {
    pub tasks: Vec<TaskSummary>,
    pub failure: Option<(String, SyncError)>,
}

/// Runs `plans` (linked by `relations::link_package`) once in `order`.
pub async fn run_package(
    plans: &[TaskPlan<'_>],
    order: &RunOrder,
    state: &dyn StateStore,
    options: &SyncOptions,
    cancel: &CancelToken,
) -> PackageRun {
    let schemas: Vec<_> = plans.iter().map(logged_schemas).collect();
    let referenced: HashSet<uuid::Uuid> = plans
        .iter()
        .flat_map(|p| {
            p.source_to_target
                .links()
                .chain(p.target_to_source.links())
                .filter(|(_, _, link)| link.task != p.id)
                .map(|(_, _, link)| link.task)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut runs: Vec<Run<'_>> = plans
        .iter()
        .zip(&schemas)
        .map(|(plan, (source, target))| {
            Run::new(
                plan,
                (source, target),
                state,
                options,
                cancel,
                referenced.contains(&plan.id),
            )
        })
        .collect();
    let mut ran = vec![false; plans.len()];
    let failure = run_all(&mut runs, order, &mut ran).await.err();
    let mut tasks = Vec::new();
    for (run, ran) in runs.into_iter().zip(ran) {
        if ran {
            tasks.push(run.summary);
        }
    }
    PackageRun { tasks, failure }
}

async fn run_all(
    runs: &mut [Run<'_>],
    order: &RunOrder,
    ran: &mut [bool],
) -> Result<(), (String, SyncError)> {
    for &i in &order.0 {
        ran[i] = true;
        run_one(&mut runs[i])
            .await
            .map_err(|e| (runs[i].summary.task.clone(), e))?;
    }
    for _ in 0..SETTLE_ROUNDS {
        if !runs.iter().any(Run::has_pending) {
            break;
        }
        let mut settled = 0;
        for &i in &order.0 {
            for direction in [Direction::SourceToTarget, Direction::TargetToSource] {
                settled += runs[i]
                    .settle(direction)
                    .await
                    .map_err(|e| (runs[i].summary.task.clone(), e))?;
            }
        }
        if settled == 0 {
            break;
        }
    }
    for run in runs.iter_mut() {
        let label = run.summary.task.clone();
        run.report_pending().await.map_err(|e| (label, e))?;
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(task = %run.summary.task), err(Display))]
async fn run_one(run: &mut Run<'_>) -> Result<(), SyncError> {
    run.run_once().await
}
