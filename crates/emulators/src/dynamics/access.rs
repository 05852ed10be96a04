//! What every request goes through: the call gate (injected 429 with `Retry-After` and the
//! service protection body, or 503), and the headers every answer carries (`Date`,
//! `x-ms-service-request-id`).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::Dynamics;
use super::errors::ApiError;
use super::reply::Reply;
use crate::faults::Refusal;

pub async fn gate(State(dynamics): State<Dynamics>, request: Request, next: Next) -> Response {
    let mut response = match dynamics.gate.admit() {
        Some(refusal) => {
            let body = match refusal {
                Refusal::RateLimited { .. } => ApiError::rate_limited_body(),
                Refusal::Unavailable => ApiError::unavailable_body(),
            };
            refusal.into_response_with(body)
        }
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    if !headers.contains_key(header::DATE) {
        let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        if let Ok(date) = HeaderValue::from_str(&date) {
            headers.insert(header::DATE, date);
        }
    }
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-ms-service-request-id", id);
    }
    response
}

/// Anything outside the token endpoint and the Web API.
pub async fn no_route(uri: Uri) -> Response {
    Reply::from(ApiError::no_resource(&uri.to_string())).into_response()
}
