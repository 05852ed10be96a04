//! `GET /packages/{id}/export.json`: a package as the `sync` command's file, its connection
//! URLs without passwords.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use catalog::CatalogError;
use tower_sessions::Session;
use uuid::Uuid;

pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
) -> Response {
    let (user, workspace) = match crate::signed_in::user_and_workspace(&session, &state.pool).await
    {
        Ok(who) => who,
        Err(response) => return response,
    };
    match catalog::package_editor::export(&state.pool, user, workspace, id).await {
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
