//! The REST API's error answers: a JSON array of `{"message", "errorCode"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A whole-request error.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    pub fn invalid_session() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    }

    pub fn invalid_type(object: &str) -> ApiError {
        ApiError::bad_request(
            "INVALID_TYPE",
            format!(
                "sObject type '{object}' is not supported. If you are attempting to use a custom \
                 object, be sure to append the '__c' after the entity name. Please reference your \
                 WSDL or the describe call for the appropriate names."
            ),
        )
    }

    pub fn body(code: &str, message: &str) -> serde_json::Value {
        json!([{ "message": message, "errorCode": code }])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ApiError::body(self.code, &self.message))).into_response()
    }
}

/// A per-record error in a SaveResult or DeleteResult.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    pub status_code: &'static str,
    pub message: String,
    pub fields: Vec<String>,
}

impl RecordError {
    pub fn new(status_code: &'static str, message: impl Into<String>) -> RecordError {
        RecordError {
            status_code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn on(mut self, field: &str) -> RecordError {
        self.fields.push(field.to_string());
        self
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({ "statusCode": self.status_code, "message": self.message, "fields": self.fields })
    }

    /// The same error as a single-record resource answers it (400 body element).
    pub fn to_api_json(&self) -> serde_json::Value {
        json!({ "message": self.message, "errorCode": self.status_code, "fields": self.fields })
    }

    pub fn rolled_back() -> RecordError {
        RecordError::new(
            "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "Record rolled back because not all records were valid and the request was using \
             AllOrNone header",
        )
    }

    pub fn entity_is_deleted() -> RecordError {
        RecordError::new("ENTITY_IS_DELETED", "entity is deleted")
    }
}
