//! `/packages/{id}/schedule`: when a package runs by itself.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use catalog::Role;
use catalog::schedules::{self, ScheduleForm};

use super::ApiState;
use super::caller::Caller;
use super::params;
use super::problem::Problem;
use super::views::Schedule;

/// The package's schedule; `404` when it has none (it runs only when asked).
#[utoipa::path(
    get, path = "/packages/{id}/schedule", tag = "schedules",
    params(("id" = Uuid, Path, description = "The package")),
    responses(
        (status = 200, body = Schedule),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Schedule>, Problem> {
    let who = caller.require(Role::Viewer)?;
    let id = params::id(&id)?;
    // The package must exist either way: a missing schedule and a missing package differ.
    catalog::package_editor::get(&state.app.pool, who.user, who.workspace, id).await?;
    let stored = schedules::get(&state.app.pool, who.user, who.workspace, id)
        .await?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "This package has no schedule: it runs only when asked. PUT one to schedule it.",
            )
        })?;
    Ok(Json(Schedule {
        when: serde_json::to_value(&stored.schedule).map_err(|_| Problem::internal())?,
        time_zone: stored.time_zone,
        enabled: stored.enabled,
        next_run_at: stored.next_run_at,
    }))
}

/// Creates or replaces the package's schedule. The body is a package file's `schedule`:
/// `{"when": …, "time_zone": "Europe/Berlin", "enabled": true}`.
#[utoipa::path(
    put, path = "/packages/{id}/schedule", tag = "schedules",
    params(("id" = Uuid, Path, description = "The package")),
    request_body(content = Object, content_type = "application/json", description = "A package file's `schedule`"),
    responses(
        (status = 200, body = Schedule),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn replace(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    body: String,
) -> Result<Json<Schedule>, Problem> {
    let who = caller.require(Role::Developer)?;
    let id = params::id(&id)?;
    let wanted: engine::package::PackageSchedule = params::json(&body, "schedule")?;
    let form = ScheduleForm {
        schedule: wanted.when.clone(),
        time_zone: wanted.time_zone.clone(),
        enabled: wanted.enabled,
    };
    let next = schedules::save(
        &state.app.pool,
        who.user,
        who.workspace,
        id,
        &form,
        chrono::Utc::now(),
    )
    .await?;
    Ok(Json(Schedule {
        when: serde_json::to_value(&wanted.when).map_err(|_| Problem::internal())?,
        time_zone: form.time_zone,
        enabled: form.enabled,
        next_run_at: next,
    }))
}

/// Removes the package's schedule (it then runs only when asked).
#[utoipa::path(
    delete, path = "/packages/{id}/schedule", tag = "schedules",
    params(("id" = Uuid, Path, description = "The package")),
    responses(
        (status = 204, description = "Removed (or there was none)"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let who = caller.require(Role::Developer)?;
    let id = params::id(&id)?;
    catalog::package_editor::get(&state.app.pool, who.user, who.workspace, id).await?;
    schedules::delete(&state.app.pool, who.user, who.workspace, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
