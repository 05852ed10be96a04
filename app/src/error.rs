//! The one error every server function returns: serializable, safe to show, and precise
//! enough for a form to put a message next to the field at fault.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Missing, or in a workspace the caller cannot see (the two look the same).
    #[error(
        "Not found. It may have been deleted, or it belongs to a workspace you are not a member of."
    )]
    NotFound,
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("{message}")]
    Conflict { field: String, message: String },
    /// Several problems at once, each for its field (the task editor's Validate lists every
    /// one).
    #[error("{}", summary(problems))]
    Invalid { problems: Vec<Problem> },
    #[error("{0}")]
    TooManyRequests(String),
    /// Details are in the server's log, never in the browser.
    #[error("Something went wrong on our side. It has been logged; please try again.")]
    Internal,
    /// The request never reached our code (network, decoding).
    #[error("Could not complete the request: {0}")]
    Transport(String),
}

/// One problem of a form: the field at fault and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

fn summary(problems: &[Problem]) -> String {
    match problems {
        [one] => one.message.clone(),
        many => format!(
            "{} problems: {}",
            many.len(),
            many.iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

impl AppError {
    /// The message meant for `field`, if this error is about that field (several, one per
    /// line).
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Validation { field, message } | AppError::Conflict { field, message }
                if field == name =>
            {
                Some(message.clone())
            }
            AppError::Invalid { problems } => {
                let mine: Vec<&str> = problems
                    .iter()
                    .filter(|p| p.field == name)
                    .map(|p| p.message.as_str())
                    .collect();
                (!mine.is_empty()).then(|| mine.join("\n"))
            }
            _ => None,
        }
    }

    /// The HTTP status a server function answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound => 404,
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::Validation { .. } | AppError::Invalid { .. } => 422,
            AppError::Conflict { .. } => 409,
            AppError::TooManyRequests(_) => 429,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<catalog::CatalogError> for AppError {
    fn from(err: catalog::CatalogError) -> Self {
        use catalog::CatalogError as E;
        match err {
            E::NotFound => AppError::NotFound,
            E::Forbidden(message) => AppError::Forbidden(message),
            E::Validation { field, message } => AppError::Validation {
                field: field.into(),
                message,
            },
            E::Conflict { field, message } => AppError::Conflict {
                field: field.into(),
                message,
            },
            E::InvalidCredentials => AppError::Validation {
                field: "credentials".into(),
                message:
                    "That email and password do not match an account. Check both and try again."
                        .into(),
            },
            E::RateLimited { retry_after_secs } => AppError::TooManyRequests(format!(
                "Too many failed sign-ins. Wait {} minute(s) and try again.",
                (retry_after_secs + 59) / 60
            )),
            other @ (E::Database(_) | E::Hashing(_)) => {
                tracing::error!(error = ?other, "internal error in a server function");
                AppError::Internal
            }
        }
    }
}
