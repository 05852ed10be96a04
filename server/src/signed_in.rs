//! Who is asking, for the plain (non-server-function) routes: the signed-in person and the
//! workspace they are working in, or the response to send instead.

use app::api::ssr::USER_ID_KEY;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

/// (user, current workspace), or 401 / 404 / 500.
pub async fn user_and_workspace(
    session: &Session,
    pool: &PgPool,
) -> Result<(Uuid, Uuid), Response> {
    let Ok(Some(user)) = session.get::<Uuid>(USER_ID_KEY).await else {
        return Err(StatusCode::UNAUTHORIZED.into_response());
    };
    match catalog::workspaces::current_for_user(pool, user).await {
        Ok(Some(w)) => Ok((user, w.id)),
        Ok(None) => Err(StatusCode::NOT_FOUND.into_response()),
        Err(e) => {
            tracing::error!(error = %e, "resolving the current workspace failed");
            Err(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}
