//! `/packages`: list, get as a package file, create and replace from one, delete, run now.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use catalog::Role;
use engine::package::Package;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::ApiState;
use super::caller::Caller;
use super::params;
use super::problem::Problem;
use super::views::{Created, PackageItem, PackageList};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The `next` of the page before: the list continues after that package.
    after: Option<Uuid>,
}

/// The workspace's packages by name, 50 a page.
#[utoipa::path(
    get, path = "/packages", tag = "packages",
    params(ListQuery),
    responses(
        (status = 200, body = PackageList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<PackageList>, Problem> {
    let who = caller.require(Role::Viewer)?;
    let query: ListQuery = params::query(query.as_deref())?;
    let page =
        catalog::packages::list(&state.app.pool, who.user, who.workspace, query.after).await?;
    Ok(Json(PackageList {
        packages: page.packages.into_iter().map(PackageItem::from).collect(),
        next: page.next,
        total: page.total,
    }))
}

/// Parses a package file sent as the body; a bad one is a 422 naming the place in the file.
fn package_file(body: &str) -> Result<Package, Problem> {
    Package::from_json(body).map_err(|e| {
        Problem::invalid(
            e.path.clone(),
            format!("not a valid package file: {}: {}", e.path, e.message),
        )
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreateQuery {
    /// The saved connection to use as the source (the file's own URLs are not used: a
    /// package file never holds passwords).
    source_connection: Option<Uuid>,
    /// The saved connection to use as the target.
    target_connection: Option<Uuid>,
    /// A name instead of the file's.
    name: Option<String>,
}

/// Creates a package from a package file (the JSON of `GET /packages/{id}` and `lockstep
/// sync`) on two saved connections. Every task is checked against the live tables first;
/// nothing is created unless all pass.
#[utoipa::path(
    post, path = "/packages", tag = "packages",
    params(CreateQuery),
    request_body(content = Object, content_type = "application/json", description = "A package file"),
    responses(
        (status = 201, body = Created),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "A package of this name exists"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "The file, a task or a connection is not valid; `field` names it"),
    )
)]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    body: String,
) -> Result<Response, Problem> {
    let who = caller.require(Role::Developer)?;
    let query: CreateQuery = params::query(query.as_deref())?;
    let mut file = package_file(&body)?;
    if let Some(name) = query
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
    {
        file.name = name;
    }
    let id = app::api::package_transfer::file_import::create(
        &state.app.pool,
        &state.app.secrets,
        who.user,
        who.workspace,
        &file,
        (query.source_connection, query.target_connection),
        "package",
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        [(http::header::LOCATION, format!("/api/v1/packages/{id}"))],
        Json(Created { id }),
    )
        .into_response())
}

/// A package as a package file: its connections' URLs without passwords, settings, tasks
/// and schedule.
#[utoipa::path(
    get, path = "/packages/{id}", tag = "packages",
    params(("id" = Uuid, Path, description = "The package")),
    responses(
        (status = 200, body = Object, description = "The package file"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let who = caller.require(Role::Viewer)?;
    let id = params::id(&id)?;
    let file =
        catalog::package_editor::export(&state.app.pool, who.user, who.workspace, id).await?;
    Ok((
        [(http::header::CONTENT_TYPE, "application/json")],
        file.to_json(),
    )
        .into_response())
}

/// Replaces a package's name, locale, tasks and schedule with a package file's, on the
/// package's own connections. A task of the same two tables keeps its ID map; a task the
/// file lacks is removed; no schedule in the file removes the package's.
#[utoipa::path(
    put, path = "/packages/{id}", tag = "packages",
    params(("id" = Uuid, Path, description = "The package")),
    request_body(content = Object, content_type = "application/json", description = "A package file"),
    responses(
        (status = 204, description = "Replaced"),
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
) -> Result<StatusCode, Problem> {
    let who = caller.require(Role::Developer)?;
    let id = params::id(&id)?;
    let file = package_file(&body)?;
    app::api::package_transfer::file_import::replace(
        &state.app.pool,
        &state.app.secrets,
        who.user,
        who.workspace,
        id,
        &file,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete even when the change tracking cannot be removed from a database (its
    /// triggers then stay there until removed by hand).
    #[serde(default)]
    leave_tracking: bool,
}

/// Deletes a package with its tasks, ID map and history, after removing its change
/// tracking from both databases.
#[utoipa::path(
    delete, path = "/packages/{id}", tag = "packages",
    params(("id" = Uuid, Path, description = "The package"), DeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Tracking could not be removed"),
    )
)]
pub async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, Problem> {
    let who = caller.require(Role::Developer)?;
    let id = params::id(&id)?;
    let query: DeleteQuery = params::query(query.as_deref())?;
    catalog::package_removal::delete_with_tracking(
        &state.app.pool,
        &state.app.secrets,
        who.user,
        who.workspace,
        id,
        query.leave_tracking,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
