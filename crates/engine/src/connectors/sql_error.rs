//! Turning database driver errors into connector errors: which are worth retrying, which
//! belong to one record, and messages that say what happened.

use super::ConnectorError;

/// Whether a database error is transient: the same statement may well succeed a moment
/// later (the connection dropped, the server is restarting or full, a deadlock or
/// serialization failure chose this transaction). The one place this is decided, for the
/// connectors' databases and for our metadata database alike.
pub fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            // PostgreSQL: admin/crash shutdown, cannot connect now, too many connections,
            // connection exceptions, serialization failure, deadlock.
            Some("57P01" | "57P02" | "57P03" | "53300" | "08000" | "08003" | "08006" | "40001" | "40P01")
            // MySQL/MariaDB: deadlock, lock wait timeout, too many connections, server gone
            // away, connection lost.
            | Some("1213" | "1205" | "1040" | "2006" | "2013")
        ),
        _ => false,
    }
}

/// A failure of a whole statement or connection; the driver's error stays as its source.
pub fn classify(err: sqlx::Error) -> ConnectorError {
    let retryable = is_transient(&err);
    let classified = match &err {
        sqlx::Error::Io(e) => {
            ConnectorError::connection(format!("connection lost: {e}"), retryable)
        }
        sqlx::Error::PoolTimedOut => {
            ConnectorError::connection("timed out waiting for a database connection", retryable)
        }
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            ConnectorError::connection("the database connection pool closed", retryable)
        }
        sqlx::Error::Tls(e) => ConnectorError::connection(format!("TLS failed: {e}"), retryable),
        sqlx::Error::Database(db) if retryable => {
            ConnectorError::connection(db.message(), retryable)
        }
        sqlx::Error::Database(db) => ConnectorError::other(db.message()),
        other => ConnectorError::other(other.to_string()),
    };
    classified.caused_by(err)
}

/// A failure to connect: nothing the statement did, so never a per-statement `Other`.
pub fn connect_failure(err: sqlx::Error) -> ConnectorError {
    match classify(err) {
        ConnectorError::Other { message, source } => ConnectorError::Connection {
            message,
            retryable: false,
            source,
        },
        other => other,
    }
}

/// A record-level failure (constraint, value that does not fit) as shown to users, or
/// `None` when the error concerns the connection and must fail the run.
pub fn record_failure(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(_) if is_transient(err) => None,
        sqlx::Error::Database(db) => {
            let mut message = db.message().to_owned();
            if let Some(constraint) = db.constraint() {
                message.push_str(&format!(" (constraint {constraint})"));
            }
            Some(message)
        }
        _ => None,
    }
}
