//! The REST API under `/api/v1`, for scripts and CI: packages, runs, connections and
//! schedules, driven with a workspace's API tokens.
//!
//! # Design
//!
//! - **Who asks.** Every request carries `Authorization: Bearer lst_…` (`caller`). The token
//!   speaks for its member in its workspace, with the lower of its own role and the member's
//!   current role (`catalog::api_tokens`). Cookies are never read here: a page of another
//!   site cannot make a signed-in browser call the API (no CSRF surface).
//! - **The same rules as the pages.** A handler first checks the token's role for what it
//!   does (read: Viewer; change or run: Developer), then calls the same catalog function the
//!   page calls, with the member's identity and the token's workspace. That function checks
//!   membership and role again in its own query and keeps to the workspace, so an id of
//!   another workspace is `404` exactly as on the pages.
//! - **Errors** are `application/problem+json` (RFC 9457, `problem`), with the request field
//!   at fault in `field`. Internals are logged, never sent.
//! - **The audit log** names the token with every change it makes: requests run inside
//!   `catalog::audit::within_request`, and `caller` records the token there.
//! - **Rate limits** are per token (`rate_limit`): a token bucket in this process; `429` with
//!   `Retry-After` when empty. Several processes behind a load balancer each allow the rate.
//! - **The OpenAPI 3.1 document** is generated from these handlers (utoipa) and served at
//!   `/api/v1/openapi.json`.

mod caller;
mod connections;
mod packages;
mod params;
mod problem;
pub mod rate_limit;
mod runs;
mod schedules;
mod views;

use std::sync::Arc;

use app::state::AppState;
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use rate_limit::RateLimiter;

/// What every API handler reaches.
#[derive(Clone)]
pub struct ApiState {
    pub app: AppState,
    pub limiter: Arc<RateLimiter>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lockstep API",
        description = "Drive Lockstep from scripts and CI: packages, runs, connections and schedules. \
                       Authenticate with `Authorization: Bearer <token>`; make tokens in the app under \
                       Workspace settings → API tokens. Errors are RFC 9457 problem details."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "packages", description = "Synchronization packages, as package files"),
        (name = "runs", description = "Runs: start, watch, cancel, failed records"),
        (name = "connections", description = "Saved connections (never their secrets)"),
        (name = "schedules", description = "When a package runs by itself"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The API's routes and its OpenAPI document, from the same handler list.
fn routes() -> (Router<ApiState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(packages::list, packages::create))
        .routes(routes!(packages::get, packages::replace, packages::delete))
        .routes(routes!(runs::start))
        .routes(routes!(runs::list))
        .routes(routes!(runs::get))
        .routes(routes!(runs::cancel))
        .routes(routes!(runs::errors))
        .routes(routes!(runs::errors_csv))
        .routes(routes!(connections::list))
        .routes(routes!(connections::get))
        .routes(routes!(connections::test))
        .routes(routes!(
            schedules::get,
            schedules::replace,
            schedules::delete
        ))
        .split_for_parts()
}

/// `/api/v1`, ready to nest: every route, the OpenAPI document, and problem answers for
/// unknown paths.
pub fn service(state: ApiState) -> Router {
    let (router, mut document) = routes();
    document.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    let document = document.to_json().expect("the OpenAPI document serializes");
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || async move {
                (
                    [(http::header::CONTENT_TYPE, "application/json")],
                    document.clone(),
                )
            }),
        )
        .fallback(|| async { problem::Problem::not_found_path() })
        .layer(axum::middleware::from_fn(record_the_token))
        .with_state(state)
}

/// Every request runs where its API token can be recorded with the changes it makes, for
/// the audit log (`caller` records it once authenticated).
async fn record_the_token(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    catalog::audit::within_request(next.run(request)).await
}
