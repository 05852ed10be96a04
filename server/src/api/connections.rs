//! `/connections`: list, get (never a password or secret), and Test connection.

use axum::Json;
use axum::extract::{Path, State};
use catalog::Role;

use super::ApiState;
use super::caller::Caller;
use super::params;
use super::problem::Problem;
use super::views::{Connection, ConnectionTest};

/// The workspace's connections.
#[utoipa::path(
    get, path = "/connections", tag = "connections",
    responses((status = 200, body = Vec<Connection>))
)]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<Connection>>, Problem> {
    let who = caller.require(Role::Viewer)?;
    let list = catalog::connections::list(&state.app.pool, who.user, who.workspace).await?;
    Ok(Json(list.into_iter().map(Connection::from).collect()))
}

/// One connection.
#[utoipa::path(
    get, path = "/connections/{id}", tag = "connections",
    params(("id" = Uuid, Path, description = "The connection")),
    responses(
        (status = 200, body = Connection),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Connection>, Problem> {
    let who = caller.require(Role::Viewer)?;
    let id = params::id(&id)?;
    let connection =
        catalog::connections::get(&state.app.pool, who.user, who.workspace, id).await?;
    Ok(Json(connection.into()))
}

/// Tries the saved connection with its stored password, as the app's Test connection does
/// (our metadata database and refused addresses are never reached).
#[utoipa::path(
    post, path = "/connections/{id}/test", tag = "connections",
    params(("id" = Uuid, Path, description = "The connection")),
    responses(
        (status = 200, body = ConnectionTest, description = "Tried: `ok` says whether it worked"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn test(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ConnectionTest>, Problem> {
    let who = caller.require(Role::Developer)?;
    let id = params::id(&id)?;
    let pool = &state.app.pool;
    // The member's role too (the token's was checked above).
    {
        let mut conn = pool.acquire().await.map_err(catalog::CatalogError::from)?;
        catalog::workspaces::require_role(&mut conn, who.workspace, who.user, Role::Developer)
            .await?;
    }
    let spec = catalog::connections::open(pool, &state.app.secrets, who.workspace, id).await?;
    let outcome = engine::connectors::probe::probe(
        &spec,
        &catalog::cloud_tracking::connect_options(pool, false),
    )
    .await;
    Ok(Json(match outcome {
        Ok(version) => ConnectionTest {
            ok: true,
            title: "Connected".into(),
            message: version,
        },
        Err(e) => ConnectionTest {
            ok: false,
            title: e.failure.label().into(),
            message: e.message,
        },
    }))
}
