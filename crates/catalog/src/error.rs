//! What can go wrong in the catalog, in terms a caller can act on.

/// A catalog failure. `Validation` and `Conflict` name the form field at fault.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The thing does not exist, or belongs to a workspace the caller is not a member of
    /// (the two are deliberately indistinguishable).
    #[error("not found")]
    NotFound,
    /// The caller is a member but their role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Input that breaks a rule, with the field it concerns.
    #[error("{field}: {message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    /// Input that collides with existing state (duplicate email, last admin, …).
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// Sign-in with an unknown email or a wrong password (deliberately the same answer).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Too many attempts; try again after the given number of seconds.
    #[error("too many attempts; retry in {retry_after_secs}s")]
    RateLimited { retry_after_secs: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl CatalogError {
    pub(crate) fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            field,
            message: message.into(),
        }
    }

    /// `RowNotFound` becomes `NotFound`; everything else stays a database error.
    pub(crate) fn from_fetch(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => Self::NotFound,
            other => Self::Database(other),
        }
    }
}

/// True when `err` is a violation of the unique constraint named `constraint`.
pub(crate) fn is_unique_violation(err: &sqlx::Error, constraint: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() && db.constraint() == Some(constraint)
        }
        _ => false,
    }
}
