//! `GET /audit.csv`: the workspace's audit log (Admins), with the page's filters, for a
//! spreadsheet or an archive.

use app::state::AppState;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use catalog::CatalogError;
use catalog::audit::{self, Entry};
use serde::Deserialize;
use tower_sessions::Session;

/// Entries read per query while writing the file.
const CHUNK: u32 = 500;

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    kind: Option<String>,
    who: Option<String>,
    from: Option<String>,
    until: Option<String>,
}

pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Query(filters): Query<Filters>,
) -> Response {
    let (user, workspace) = match crate::signed_in::user_and_workspace(&session, &state.pool).await
    {
        Ok(who) => who,
        Err(response) => return response,
    };
    let filter = match app::api::audit::ssr_only::filter(
        filters.kind,
        filters.who,
        filters.from,
        filters.until,
    ) {
        Ok(filter) => filter,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    };
    let mut out = String::from("at,who,action,kind,name,details\r\n");
    let mut after = None;
    loop {
        match audit::list(&state.pool, user, workspace, &filter, after, CHUNK).await {
            Ok(page) => {
                for entry in &page.entries {
                    push_line(&mut out, entry);
                }
                match page.older {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            Err(CatalogError::NotFound) => return StatusCode::NOT_FOUND.into_response(),
            Err(CatalogError::Forbidden(message)) => {
                return (StatusCode::FORBIDDEN, message).into_response();
            }
            Err(CatalogError::Validation { message, .. }) => {
                return (StatusCode::UNPROCESSABLE_ENTITY, message).into_response();
            }
            Err(e) => {
                tracing::error!(error = %e, "audit log download failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-log.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

fn push_line(out: &mut String, e: &Entry) {
    let fields = [
        e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        e.actor.label(),
        e.action.clone(),
        e.object_kind.clone(),
        e.object_name.clone().unwrap_or_default(),
        e.summary.clone(),
    ];
    let line: Vec<String> = fields
        .iter()
        .map(|f| crate::run_errors_csv::quote(f))
        .collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}
