//! Runs: start one, cancel one, the package's runs panel, the Runs page, one run's details.

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{PackageRunsData, RunDetailView, RunsData};

/// Queues a run of the package now (Developers and Admins). A package with a run queued or
/// running already gets a clear refusal.
#[server(endpoint = "run_package")]
pub async fn run_package(workspace_id: Uuid, package_id: Uuid) -> Result<Uuid, AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        let run =
            catalog::runs::queue::run_now(&pool()?, user.id, workspace_id, package_id).await?;
        Ok(run)
    })
    .await
}

/// Cancels a queued run at once, or a running one at its next batch boundary.
#[server(endpoint = "cancel_run")]
pub async fn cancel_run(workspace_id: Uuid, run_id: Uuid) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::runs::queue::cancel(&pool()?, user.id, workspace_id, run_id).await?;
        Ok(())
    })
    .await
}

/// How many finished runs the package page lists (the chart shows more).
#[cfg(feature = "ssr")]
const RECENT: usize = 5;
#[cfg(feature = "ssr")]
const CHARTED: u32 = 20;

/// The package page's runs: the active one with its live counts, the last five, the chart.
#[server(endpoint = "load_package_runs")]
pub async fn load_package_runs(package_id: Uuid) -> Result<PackageRunsData, AppError> {
    use super::ssr::*;
    use catalog::runs::list::{self, PageStart, RunFilter};
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        let filter = RunFilter {
            package: Some(package_id),
            ..Default::default()
        };
        let runs = list::list(
            &pool,
            user.id,
            workspace.id,
            &filter,
            PageStart::Newest,
            CHARTED,
        )
        .await?
        .runs;
        let active = runs.iter().find(|r| r.state.is_active()).map(run_view);
        let finished: Vec<_> = runs.iter().filter(|r| !r.state.is_active()).collect();
        let history = finished
            .iter()
            .rev()
            .map(|r| {
                let t = r.totals();
                (t.written(), t.failed)
            })
            .collect();
        Ok(PackageRunsData {
            workspace_id: workspace.id,
            can_run: workspace.role.can_edit(),
            active,
            recent: finished.into_iter().take(RECENT).map(run_view).collect(),
            history,
        })
    })
    .await
}

/// Every run of the workspace (or of one package), newest first, filtered, a page at a time
/// (`page`: where the page starts, as the previous page's links give it; none: the newest).
#[server(endpoint = "load_runs")]
pub async fn load_runs(
    package: Option<String>,
    state: Option<String>,
    failed_only: Option<String>,
    from: Option<String>,
    until: Option<String>,
    page: Option<String>,
) -> Result<RunsData, AppError> {
    use super::ssr::{current_workspace, pool, require_user, respond};
    use catalog::runs::list::{self, PageStart, RunFilter};
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        let filled = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let package = match filled(package) {
            Some(p) => Some(p.parse::<Uuid>().map_err(|_| AppError::Validation {
                field: "package".into(),
                message: "choose a package from the list".into(),
            })?),
            None => None,
        };
        let state = match filled(state) {
            Some(s) => {
                Some(
                    s.parse::<crate::model::RunState>()
                        .map_err(|_| AppError::Validation {
                            field: "state".into(),
                            message: "choose a state from the list".into(),
                        })?,
                )
            }
            None => None,
        };
        let date = crate::api::ssr::day_filter;
        let start = PageStart::parse(page.as_deref().unwrap_or_default()).ok_or_else(|| {
            AppError::Validation {
                field: "page".into(),
                message: "this page link is not valid; open the newest runs and page from there"
                    .into(),
            }
        })?;
        const PER_PAGE: u32 = 25;
        let filter = RunFilter {
            package,
            state,
            failed_only: filled(failed_only).is_some(),
            from: date("from", from, false)?,
            until: date("until", until, true)?,
        };
        let (found, (total, total_exact)) =
            list::list_counted(&pool, user.id, workspace.id, &filter, start, PER_PAGE).await?;
        Ok(RunsData {
            workspace: workspace.into(),
            runs: found.runs.iter().map(run_view).collect(),
            total,
            total_exact,
            newer: found.newer.and_then(|p| PageStart::Newer(p).to_param()),
            older: found.older.and_then(|p| PageStart::Older(p).to_param()),
        })
    })
    .await
}

/// One run with its counts per task and direction and its failed records.
#[server(endpoint = "load_run")]
pub async fn load_run(id: Uuid) -> Result<RunDetailView, AppError> {
    use super::ssr::*;
    use crate::model::RunErrorView;
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        let d = catalog::runs::history::get(&pool, user.id, workspace.id, id).await?;
        Ok(RunDetailView {
            workspace: workspace.into(),
            run: run_view(&d.run),
            worker: d.worker,
            attempts: d.attempts,
            retried_after: d.retried_after,
            scheduled_for: d.scheduled_for.map(format_time),
            error_count: d.error_count,
            api_calls: d.api_calls.map(|c| (c.source, c.target)),
            errors: d
                .errors
                .into_iter()
                .map(|e| RunErrorView {
                    task: e.task,
                    direction: e.direction,
                    side: e.side,
                    record_key: e.record_key,
                    operation: e.operation,
                    message: e.message,
                })
                .collect(),
        })
    })
    .await
}

#[cfg(feature = "ssr")]
fn run_view(r: &catalog::runs::history::RunRow) -> crate::model::RunView {
    use super::ssr::format_time;
    use crate::model::{RunView, TaskCountsView};
    let end = r.finished_at.unwrap_or_else(chrono::Utc::now);
    RunView {
        id: r.id,
        package_id: r.package_id,
        package_name: r.package_name.clone(),
        state: r.state,
        started_by: match (r.started_by.as_str(), &r.started_by_email) {
            ("api", Some(email)) => format!("{email} (API token)"),
            (_, Some(email)) => email.clone(),
            ("cli", _) => "command line".to_owned(),
            (other, _) => other.to_owned(),
        },
        queued_at: format_time(r.queued_at),
        started_at: r.started_at.map(format_time),
        finished_at: r.finished_at.map(format_time),
        duration: r.started_at.map(|s| duration_text(end - s)),
        elapsed_secs: r.started_at.map(|s| (end - s).num_seconds().max(0) as u64),
        expected: r.expected(),
        totals: r.totals(),
        error: r.error.clone(),
        tasks: r
            .tasks
            .iter()
            .map(|t| TaskCountsView {
                task: t.task.clone(),
                source_to_target: t.source_to_target,
                target_to_source: t.target_to_source,
            })
            .collect(),
    }
}

#[cfg(feature = "ssr")]
fn duration_text(d: chrono::TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}
