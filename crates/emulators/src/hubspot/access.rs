//! What every request goes through: the call gate (injected 429/503), the bearer token, and
//! the headers every answer carries (`Date`, `X-HubSpot-Correlation-Id`, the
//! `X-HubSpot-RateLimit-*` headers private apps get).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::HubSpot;
use super::errors::{
    ApiError, CORRELATION_HEADER, correlation_id, rate_limited_body, unavailable_body,
};
use crate::faults::Refusal;

/// A private app's daily allowance (Professional) and burst window, as the headers say.
const DAILY_LIMIT: u64 = 650_000;
const WINDOW_MAX: u64 = 190;
const WINDOW_MS: u64 = 10_000;

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| token.trim() == HubSpot::TOKEN)
}

pub(super) async fn access(
    State(hubspot): State<HubSpot>,
    request: Request,
    next: Next,
) -> Response {
    let (mut response, limited) = match hubspot.gate.admit() {
        Some(refusal) => {
            let limited = matches!(refusal, Refusal::RateLimited { .. });
            let body = if limited {
                rate_limited_body()
            } else {
                unavailable_body()
            };
            (refusal.into_response_with(body), limited)
        }
        None if !authorized(request.headers()) => (ApiError::unauthorized().into_response(), false),
        None => (next.run(request).await, false),
    };
    let calls = hubspot.gate.calls();
    let headers = response.headers_mut();
    let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(date) = HeaderValue::from_str(&date) {
        headers.insert("date", date);
    }
    if !headers.contains_key(CORRELATION_HEADER)
        && let Ok(id) = HeaderValue::from_str(&correlation_id())
    {
        headers.insert(CORRELATION_HEADER, id);
    }
    let window_left = if limited { 0 } else { WINDOW_MAX - 1 };
    for (name, value) in [
        ("x-hubspot-ratelimit-daily", DAILY_LIMIT),
        (
            "x-hubspot-ratelimit-daily-remaining",
            DAILY_LIMIT.saturating_sub(calls),
        ),
        ("x-hubspot-ratelimit-interval-milliseconds", WINDOW_MS),
        ("x-hubspot-ratelimit-max", WINDOW_MAX),
        ("x-hubspot-ratelimit-remaining", window_left),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
    response
}

/// Unknown routes: 404 with HubSpot's error body.
pub(super) async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::route_not_found(method.as_str(), uri.path())
}

/// A known route with another method: 405 with HubSpot's error body.
pub(super) async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "VALIDATION_ERROR",
        format!("{method} is not supported on {}", uri.path()),
    )
}
