//! HubSpot's error bodies: `{"status":"error","message","correlationId","category",
//! "errors"?,"context"?}`. The correlation id is a fresh UUID, also sent as the
//! `X-HubSpot-Correlation-Id` header.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::properties::PropertyError;

pub(super) const CORRELATION_HEADER: &str = "x-hubspot-correlation-id";

pub(super) fn correlation_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A JSON answer with its correlation id also in the header.
pub(super) fn json_response(status: StatusCode, body: Value) -> Response {
    let correlation = body
        .get("correlationId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(id) = correlation.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(CORRELATION_HEADER, id);
    }
    response
}

/// An error answering the whole request.
#[derive(Debug)]
pub(super) struct ApiError {
    pub status: StatusCode,
    pub body: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, category: &str, message: impl Into<String>) -> Self {
        let mut body = Map::new();
        body.insert("status".into(), json!("error"));
        body.insert("message".into(), json!(message.into()));
        body.insert("correlationId".into(), json!(correlation_id()));
        body.insert("category".into(), json!(category));
        ApiError { status, body }
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.body.insert(key.into(), value);
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    pub fn invalid_json(detail: impl std::fmt::Display) -> Self {
        Self::validation(format!("Invalid input JSON: {detail}"))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", message)
    }

    pub fn unknown_object_type(name: &str) -> Self {
        Self::validation(format!("Unable to infer object type from: {name}"))
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication \
             and you can find more details at \
             https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        )
    }

    pub fn conflict(singular: &str, existing_id: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "CONFLICT",
            format!("{singular} already exists. Existing ID: {existing_id}"),
        )
    }

    /// 400 "Property values were not valid" with one entry per refused property.
    pub fn invalid_properties(errors: &[PropertyError]) -> Self {
        Self::validation(invalid_properties_message(errors)).with("errors", detail_list(errors))
    }

    pub fn route_not_found(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            format!("No route for {method} {path}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, Value::Object(self.body))
    }
}

/// HubSpot's message: `Property values were not valid: [<PropertyValidationResult JSON>…]`.
pub(super) fn invalid_properties_message(errors: &[PropertyError]) -> String {
    let results: Vec<Value> = errors
        .iter()
        .map(|e| {
            json!({
                "isValid": false,
                "message": e.message,
                "error": e.code,
                "name": e.name,
                "localizedErrorMessage": e.message,
            })
        })
        .collect();
    format!("Property values were not valid: {}", Value::Array(results))
}

/// The `errors` array: `{message, code, context:{propertyName:[…]}}` per property.
pub(super) fn detail_list(errors: &[PropertyError]) -> Value {
    Value::Array(
        errors
            .iter()
            .map(|e| {
                json!({
                    "message": e.message,
                    "code": e.code,
                    "context": {"propertyName": [e.name]},
                })
            })
            .collect(),
    )
}

/// A 429 from the rate limiter (injected fault).
pub(super) fn rate_limited_body() -> Value {
    json!({
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": "SECONDLY",
    })
}

/// A transient 503 (injected fault).
pub(super) fn unavailable_body() -> Value {
    json!({
        "status": "error",
        "message": "Service Unavailable",
        "correlationId": correlation_id(),
        "category": "SERVICE_UNAVAILABLE",
    })
}
