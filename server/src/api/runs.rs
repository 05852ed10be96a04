//! Runs: start one, list them, watch one, cancel it, and its failed records.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use catalog::Role;
use catalog::runs::history;
use catalog::runs::list::{self, PageStart, RunFilter};
use catalog::runs::queue::{self, StartedBy};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::ApiState;
use super::caller::Caller;
use super::params;
use super::problem::Problem;
use super::views::{Created, Run, RunDetail, RunError, RunList};

/// Queues a run of the package now: `202` with the run's id (watch it at `/runs/{id}`);
/// `409` while a run of the package is queued or running.
#[utoipa::path(
    post, path = "/packages/{id}/runs", tag = "runs",
    params(("id" = Uuid, Path, description = "The package")),
    responses(
        (status = 202, body = Created),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "A run of this package is active"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "The package cannot run yet (no tasks, no connections)"),
    )
)]
pub async fn start(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let who = caller.require(Role::Developer)?;
    let package = params::id(&id)?;
    let run = queue::run_now_by(
        &state.app.pool,
        StartedBy::Token {
            user: who.user,
            token: who.token,
        },
        who.workspace,
        package,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        [(http::header::LOCATION, format!("/api/v1/runs/{run}"))],
        Json(Created { id: run }),
    )
        .into_response())
}

/// How many runs a page holds at most.
const MAX_PER_PAGE: u32 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this package's runs.
    package: Option<Uuid>,
    /// Only runs in this state (`queued`, `running`, `canceling`, `succeeded`,
    /// `succeeded_with_errors`, `failed`, `canceled`, `skipped`).
    state: Option<String>,
    /// Only runs queued at or after this moment (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Only runs queued before this moment (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// Where the page starts: an `older` or `newer` of another page. None: the newest.
    page: Option<String>,
    /// Runs per page, 1–200 (25 when not given).
    per_page: Option<u32>,
}

/// The workspace's runs, newest first, filtered, a page at a time (keyset: any page costs
/// the same).
#[utoipa::path(
    get, path = "/runs", tag = "runs",
    params(ListQuery),
    responses(
        (status = 200, body = RunList),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<RunList>, Problem> {
    let who = caller.require(Role::Viewer)?;
    let query: ListQuery = params::query(query.as_deref())?;
    let run_state = match query.state.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => Some(
            serde_json::from_value::<wire::RunState>(serde_json::Value::String(text.to_owned()))
                .map_err(|_| {
                    Problem::invalid(
                        "state",
                        format!(
                            "“{text}” is not a run state; use queued, running, canceling, succeeded, \
                             succeeded_with_errors, failed, canceled or skipped"
                        ),
                    )
                })?,
        ),
        None => None,
    };
    let start = match query.page.as_deref().filter(|p| !p.is_empty()) {
        Some(text) => PageStart::parse(text).ok_or_else(|| {
            Problem::invalid(
                "page",
                "this page position was not made by us; use the `older` or `newer` of a page",
            )
        })?,
        None => PageStart::Newest,
    };
    let per_page = query.per_page.unwrap_or(25);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(Problem::invalid(
            "per_page",
            format!("per_page must be 1 to {MAX_PER_PAGE}"),
        ));
    }
    let filter = RunFilter {
        package: query.package,
        state: run_state,
        failed_only: false,
        from: query.since,
        until: query.until,
    };
    let page = list::list(
        &state.app.pool,
        who.user,
        who.workspace,
        &filter,
        start,
        per_page,
    )
    .await?;
    Ok(Json(RunList {
        runs: page.runs.into_iter().map(Run::from).collect(),
        older: page.older.and_then(|p| PageStart::Older(p).to_param()),
        newer: page.newer.and_then(|p| PageStart::Newer(p).to_param()),
    }))
}

/// A run with its state and counts (the progress so far while it runs).
#[utoipa::path(
    get, path = "/runs/{id}", tag = "runs",
    params(("id" = Uuid, Path, description = "The run")),
    responses(
        (status = 200, body = RunDetail),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RunDetail>, Problem> {
    let who = caller.require(Role::Viewer)?;
    let id = params::id(&id)?;
    let detail = history::get(&state.app.pool, who.user, who.workspace, id).await?;
    Ok(Json(RunDetail {
        error_count: detail.error_count,
        attempts: detail.attempts,
        cancel_requested_at: detail.cancel_requested_at,
        scheduled_for: detail.scheduled_for,
        run: detail.run.into(),
    }))
}

/// Cancels a run: a queued one at once, a running one at its next batch boundary.
#[utoipa::path(
    post, path = "/runs/{id}/cancel", tag = "runs",
    params(("id" = Uuid, Path, description = "The run")),
    responses(
        (status = 202, description = "Canceled, or asked to stop"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The run has finished"),
    )
)]
pub async fn cancel(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let who = caller.require(Role::Developer)?;
    let id = params::id(&id)?;
    queue::cancel(&state.app.pool, who.user, who.workspace, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Every record the run could not write, with the reason.
#[utoipa::path(
    get, path = "/runs/{id}/errors", tag = "runs",
    params(("id" = Uuid, Path, description = "The run")),
    responses(
        (status = 200, body = Vec<RunError>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn errors(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<RunError>>, Problem> {
    let who = caller.require(Role::Viewer)?;
    let id = params::id(&id)?;
    let rows = history::errors(&state.app.pool, who.user, who.workspace, id).await?;
    Ok(Json(rows.into_iter().map(RunError::from).collect()))
}

/// The same records as CSV (RFC 4180; values a spreadsheet would run as formulas are
/// quoted with a leading apostrophe).
#[utoipa::path(
    get, path = "/runs/{id}/errors.csv", tag = "runs",
    params(("id" = Uuid, Path, description = "The run")),
    responses(
        (status = 200, body = String, content_type = "text/csv"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn errors_csv(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let who = caller.require(Role::Viewer)?;
    let id = params::id(&id)?;
    let rows = history::errors(&state.app.pool, who.user, who.workspace, id).await?;
    Ok((
        [
            (
                http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (
                http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"run-{id}-errors.csv\""),
            ),
        ],
        crate::run_errors_csv::to_csv(&rows),
    )
        .into_response())
}
