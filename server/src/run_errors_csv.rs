//! `GET /runs/{id}/errors.csv`: every failed record of a run, for a spreadsheet.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use catalog::CatalogError;
use catalog::runs::history::{self, RunErrorRow};
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
    match history::errors(&state.pool, user, workspace, id).await {
        Ok(rows) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"run-{id}-errors.csv\""),
                ),
            ],
            to_csv(&rows),
        )
            .into_response(),
        Err(CatalogError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => internal(e),
    }
}

fn internal(e: CatalogError) -> Response {
    tracing::error!(error = %e, "run errors download failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// RFC 4180, every field quoted. A value a spreadsheet would run as a formula (`=`, `+`,
/// `-`, `@` first) gets a leading apostrophe: record keys and messages come from the
/// synced data.
pub fn to_csv(rows: &[RunErrorRow]) -> String {
    let mut out = String::from("task,direction,side,record_key,operation,message\r\n");
    for r in rows {
        let fields = [
            &r.task,
            &r.direction,
            &r.side,
            &r.record_key,
            &r.operation,
            &r.message,
        ];
        let line: Vec<String> = fields.iter().map(|f| quote(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn quote(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_defuses_formulas() {
        let row = RunErrorRow {
            task: "customers → clients".into(),
            direction: "source_to_target".into(),
            side: "target".into(),
            record_key: "=HYPERLINK(\"x\")".into(),
            operation: "insert".into(),
            message: "value too long, \"name\"\nline 2".into(),
        };
        let csv = to_csv(&[row]);
        let line = csv.lines().nth(1).unwrap();
        assert!(
            line.starts_with("\"customers → clients\",\"source_to_target\""),
            "{csv}"
        );
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
        assert!(
            csv.contains("\"value too long, \"\"name\"\"\nline 2\""),
            "{csv}"
        );
    }
}
