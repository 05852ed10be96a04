//! Turning database driver errors into connector errors: which are worth retrying, which
//! belong to one record, and messages that say what happened.

use super::ConnectorError;

/// A failure of a whole statement or connection.
pub fn classify(err: sqlx::Error) -> ConnectorError {
    match err {
        sqlx::Error::Io(e) => ConnectorError::Connection {
            message: format!("connection lost: {e}"),
            retryable: true,
        },
        sqlx::Error::PoolTimedOut => ConnectorError::Connection {
            message: "timed out waiting for a database connection".into(),
            retryable: true,
        },
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => ConnectorError::Connection {
            message: "the database connection pool closed".into(),
            retryable: true,
        },
        sqlx::Error::Tls(e) => ConnectorError::Connection {
            message: format!("TLS failed: {e}"),
            retryable: false,
        },
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            // Server shutting down or restarting, too many connections, deadlock/serialization.
            let retryable = matches!(
                code.as_str(),
                "57P01"
                    | "57P02"
                    | "57P03"
                    | "53300"
                    | "40001"
                    | "40P01"
                    | "1213"
                    | "1205"
                    | "1040"
            );
            if retryable {
                ConnectorError::Connection {
                    message: db.message().to_owned(),
                    retryable: true,
                }
            } else {
                ConnectorError::Other(db.message().to_owned())
            }
        }
        other => ConnectorError::Other(other.to_string()),
    }
}

/// A record-level failure (constraint, value that does not fit) as shown to users, or
/// `None` when the error concerns the connection and must fail the run.
pub fn record_failure(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if classify_code_is_connection(&code) {
                return None;
            }
            let mut message = db.message().to_owned();
            if let Some(constraint) = db.constraint() {
                message.push_str(&format!(" (constraint {constraint})"));
            }
            Some(message)
        }
        _ => None,
    }
}

fn classify_code_is_connection(code: &str) -> bool {
    matches!(
        code,
        "57P01"
            | "57P02"
            | "57P03"
            | "53300"
            | "08000"
            | "08003"
            | "08006"
            | "1040"
            | "2006"
            | "2013"
    )
}
