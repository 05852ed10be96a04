//! The Web API's error answers: `{"error":{"code":"0x…","message":"…"}}`. The code is the
//! hexadecimal Dataverse error code (documented as "frequently empty"); clients should read
//! the status and the message.

use axum::http::StatusCode;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// `ObjectDoesNotExist`.
const OBJECT_DOES_NOT_EXIST: &str = "0x80040217";
/// The OData layer's "could not find a property" / query syntax errors.
pub const QUERY: &str = "0x80060888";
/// `InvalidArgument`: our validation errors without a more specific documented code.
pub const INVALID_ARGUMENT: &str = "0x80040203";
/// The OData payload could not be read (`Error identified in Payload …`).
pub const PAYLOAD: &str = "0x80048d19";

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

    pub fn body(&self) -> Value {
        json!({ "error": { "code": self.code, "message": self.message } })
    }

    /// An unknown entity set, function or other path segment.
    pub fn no_segment(segment: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "0x8006088a",
            format!("Resource not found for the segment '{segment}'."),
        )
    }

    /// A known resource with the wrong method (e.g. `POST WhoAmI`).
    pub fn no_resource(url: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "",
            format!("No HTTP resource was found that matches the request URI '{url}'."),
        )
    }

    pub fn method_not_allowed(method: &str) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "0x80060888",
            format!("The requested resource does not support http method '{method}'."),
        )
    }

    /// A `$select`, `$filter` or `$orderby` naming no property of the type.
    pub fn no_property(type_name: &str, property: &str) -> ApiError {
        ApiError::bad_request(
            QUERY,
            format!("Could not find a property named '{property}' on type '{type_name}'."),
        )
    }

    /// A query option the emulator (or Dataverse) doesn't accept, or bad query syntax.
    pub fn query(message: impl Into<String>) -> ApiError {
        ApiError::bad_request(QUERY, message)
    }

    pub fn record_missing(entity: &str, id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            OBJECT_DOES_NOT_EXIST,
            format!("{entity} With Id = {id} Does Not Exist"),
        )
    }

    pub fn entity_missing(logical_name: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            OBJECT_DOES_NOT_EXIST,
            format!(
                "Could not find an entity with name {logical_name} and id \
                 00000000-0000-0000-0000-000000000000."
            ),
        )
    }

    /// A write payload naming a property the entity type doesn't have.
    pub fn invalid_property(type_name: &str, property: &str) -> ApiError {
        ApiError::bad_request(
            "0x0",
            format!(
                "An error occurred while validating input parameters: \
                 Microsoft.Crm.CrmException: Invalid property '{property}' was found in entity \
                 '{type_name}'. ---> Microsoft.OData.ODataException: Does not support untyped \
                 value in non-open type."
            ),
        )
    }

    /// A write payload the OData reader refuses (a value of the wrong JSON type, bad JSON).
    pub fn payload(set_name: &str, inner: &str) -> ApiError {
        ApiError::bad_request(
            PAYLOAD,
            format!(
                "Error identified in Payload provided by the user for Entity :'{set_name}', For \
                 more information on this error please follow this help link \
                 https://go.microsoft.com/fwlink/?linkid=2195293  ---->  InnerException : \
                 Microsoft.OData.ODataException: {inner}"
            ),
        )
    }

    /// The service protection limit (injected 429).
    pub fn rate_limited_body() -> Value {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "0x80072322",
            "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
        )
        .body()
    }

    /// A transient outage (injected 503).
    pub fn unavailable_body() -> Value {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "0x80040216",
            "Service unavailable",
        )
        .body()
    }
}
