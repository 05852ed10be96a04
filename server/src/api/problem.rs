//! Error answers as RFC 9457 problem details (`application/problem+json`): a status, a title,
//! what went wrong in words a person can act on, and the request field at fault.

use app::error::AppError;
use axum::response::{IntoResponse, Response};
use catalog::CatalogError;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem with a request (RFC 9457).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: AboutBlank,
    /// The status's name ("Unprocessable Content").
    pub title: &'static str,
    pub status: u16,
    /// What went wrong and what to do about it.
    pub detail: String,
    /// The request field (or query parameter, or place in a package file) at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every problem, when a request had several (each with its field).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Seconds to wait before trying again (also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// RFC 9457's `about:blank` problem type (takes no room in a `Problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AboutBlank;

impl Serialize for AboutBlank {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("about:blank")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            kind: AboutBlank,
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 422 naming the field.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail).field(field)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Send a valid API token as `Authorization: Bearer <token>`. The token given is \
             missing, unknown, revoked or expired, or its member has left the workspace. Make a \
             new one under Workspace settings → API tokens.",
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not found. It may have been deleted, or it belongs to another workspace than the \
             token's.",
        )
    }

    pub fn not_found_path() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "No such API path. The paths are listed in /api/v1/openapi.json.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. It has been logged; please try again.",
        )
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut problem = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "This token sent more requests than its rate limit allows. Wait {retry_after} s (see Retry-After) \
                 and slow down."
            ),
        );
        problem.retry_after = Some(retry_after);
        problem
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"lockstep\""),
            );
        }
        response
    }
}

impl From<AppError> for Problem {
    fn from(err: AppError) -> Self {
        let status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match err {
            AppError::NotFound => Problem::not_found(),
            // A server function's "sign in" is the API's "send a token".
            AppError::Unauthorized => Problem::unauthorized(),
            AppError::Internal | AppError::Transport(_) => Problem::internal(),
            AppError::Validation { field, message } | AppError::Conflict { field, message } => {
                Problem::new(status, message).field(field)
            }
            AppError::Invalid { problems } => {
                let mut problem = Problem::new(
                    status,
                    AppError::Invalid {
                        problems: problems.clone(),
                    }
                    .to_string(),
                );
                problem.field = problems.first().map(|p| p.field.clone());
                problem.errors = problems
                    .into_iter()
                    .map(|p| FieldProblem {
                        field: p.field,
                        detail: p.message,
                    })
                    .collect();
                problem
            }
            AppError::Forbidden(message) | AppError::TooManyRequests(message) => {
                Problem::new(status, message)
            }
        }
    }
}

impl From<CatalogError> for Problem {
    fn from(err: CatalogError) -> Self {
        // One mapping for pages and API: the app's (it logs internals).
        Problem::from(AppError::from(err))
    }
}
