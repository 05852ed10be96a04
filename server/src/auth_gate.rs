//! Sends signed-out visitors of signed-in pages to the sign-in page (with a way back),
//! before any page renders. Server functions check the session themselves.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use app::api::ssr::USER_ID_KEY;

/// Paths anyone may open.
fn is_public(path: &str) -> bool {
    const PREFIXES: [&str; 5] = ["/pkg/", "/api/", "/invite/", "/healthz", "/readyz"];
    matches!(
        path,
        "/signin" | "/signup" | "/favicon.ico" | "/favicon.svg"
    ) || PREFIXES.iter().any(|p| path.starts_with(p))
}

pub async fn require_sign_in(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if request.method() != Method::GET || is_public(path) {
        return next.run(request).await;
    }
    match session.get::<Uuid>(USER_ID_KEY).await {
        Ok(Some(_)) => next.run(request).await,
        _ => {
            // Only a plain same-site path is carried along (no open redirect after sign-in).
            let back =
                app::api::auth::safe_next(request.uri().path_and_query().map(|pq| pq.as_str()));
            let target = if back == "/" {
                "/signin".to_owned()
            } else {
                format!("/signin?next={}", app::pages::auth::urlencode(&back))
            };
            Redirect::to(&target).into_response()
        }
    }
}
