//! One Web API answer, independent of how it travels: as an HTTP response, or as a part of a
//! `$batch` response.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::errors::ApiError;

/// The content type of every JSON answer.
pub const JSON: &str = "application/json; odata.metadata=minimal";

#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Value),
    /// A `$batch` answer: its content type and text.
    Raw {
        content_type: String,
        text: String,
    },
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Json(body),
        }
    }

    pub fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.status.is_client_error() || self.status.is_server_error()
    }
}

impl From<ApiError> for Reply {
    fn from(error: ApiError) -> Reply {
        Reply::json(error.status, error.body())
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let (content_type, body) = match self.body {
            Body::Empty => (None, String::new()),
            Body::Json(value) => (Some(JSON.to_string()), value.to_string()),
            Body::Raw { content_type, text } => (Some(content_type), text),
        };
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.remove(axum::http::header::CONTENT_TYPE);
        if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(axum::http::header::CONTENT_TYPE, value);
        }
        headers.insert("odata-version", HeaderValue::from_static("4.0"));
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.append(name, value);
            }
        }
        response
    }
}
