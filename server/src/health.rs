//! `GET /healthz`: the process is up. `GET /readyz`: and its database answers.

use axum::extract::State;
use axum::http::StatusCode;
use sqlx::PgPool;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(pool): State<PgPool>) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&pool).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
