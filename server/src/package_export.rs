//! `GET /packages/{id}/export.json`: a package as the `sync` command's file, its connection
//! URLs without passwords.

use app::api::ssr::USER_ID_KEY;
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::catalog::CatalogError;
use tower_sessions::Session;
use uuid::Uuid;

pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
) -> Response {
    let Ok(Some(user)) = session.get::<Uuid>(USER_ID_KEY).await else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let workspace = match engine::catalog::workspaces::current_for_user(&state.pool, user).await {
        Ok(Some(w)) => w,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal(e),
    };
    match engine::catalog::package_editor::export(&state.pool, user, workspace.id, id).await {
        Ok(file) => {
            let name: String = file
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            (
                [
                    (header::CONTENT_TYPE, "application/json".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}.lockstep.json\""),
                    ),
                ],
                file.to_json(),
            )
                .into_response()
        }
        Err(CatalogError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(CatalogError::Validation { message, .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, message).into_response()
        }
        Err(e) => internal(e),
    }
}

fn internal(e: CatalogError) -> Response {
    tracing::error!(error = %e, "package export failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}
