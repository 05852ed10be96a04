//! "Test connection": connects once and says, in words a user can act on, what failed.

use std::time::Duration;

use sqlx::Connection as _;

use crate::package::ConnectionSpec;

/// What went wrong when reaching a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeFailure {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens on host:port.
    Refused,
    /// No answer in time (firewall, wrong host).
    Timeout,
    /// Wrong user name or password, or the user may not connect.
    Authentication,
    /// The server is reached but the database does not exist.
    DatabaseMissing,
    /// TLS was required but failed (certificate, or the server does not offer it).
    Tls,
    /// The destination is refused (our metadata database, or an address not allowed).
    NotAllowed,
    Other,
}

impl ProbeFailure {
    pub fn label(self) -> &'static str {
        match self {
            ProbeFailure::Dns => "Host not found",
            ProbeFailure::Refused => "Connection refused",
            ProbeFailure::Timeout => "No answer",
            ProbeFailure::Authentication => "Authentication failed",
            ProbeFailure::DatabaseMissing => "Database not found",
            ProbeFailure::Tls => "TLS failed",
            ProbeFailure::NotAllowed => "Not allowed",
            ProbeFailure::Other => "Connection failed",
        }
    }
}

/// A failed probe: the kind of failure and a sentence with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeError {
    pub failure: ProbeFailure,
    pub message: String,
}

const TIMEOUT: Duration = Duration::from_secs(10);

/// Connects, runs `SELECT 1`, disconnects. Returns the server's version on success. A cloud
/// connection signs in and lists its objects. A refused destination is not contacted.
pub async fn probe(
    spec: &ConnectionSpec,
    options: &super::ConnectOptions,
) -> Result<String, ProbeError> {
    if let Err(refusal) = super::destination::admit(spec, options.metadata.as_ref()).await {
        return Err(match refusal {
            super::destination::Refusal::Unresolved { .. } => ProbeError {
                failure: ProbeFailure::Dns,
                message: "the host name cannot be resolved: check its spelling".to_owned(),
            },
            refusal => ProbeError {
                failure: ProbeFailure::NotAllowed,
                message: refusal.to_string(),
            },
        });
    }
    if spec.is_cloud() {
        return probe_cloud(spec, options).await;
    }
    let attempt = async {
        match spec {
            ConnectionSpec::Postgres { url } => {
                let mut conn = sqlx::PgConnection::connect(url).await?;
                let version: String = sqlx::query_scalar("SELECT version()")
                    .fetch_one(&mut conn)
                    .await?;
                let _ = conn.close().await;
                Ok::<_, sqlx::Error>(version)
            }
            ConnectionSpec::Mysql { url } => {
                let mut conn = sqlx::MySqlConnection::connect(url).await?;
                let version: String = sqlx::query_scalar("SELECT VERSION()")
                    .fetch_one(&mut conn)
                    .await?;
                let _ = conn.close().await;
                Ok(version)
            }
            ConnectionSpec::Salesforce { .. }
            | ConnectionSpec::Dynamics { .. }
            | ConnectionSpec::Hubspot { .. } => {
                unreachable!("cloud connections are probed by probe_cloud")
            }
        }
    };
    match tokio::time::timeout(TIMEOUT, attempt).await {
        Ok(Ok(version)) => Ok(version),
        Ok(Err(e)) => Err(explain(&e)),
        Err(_) => Err(ProbeError {
            failure: ProbeFailure::Timeout,
            message: format!(
                "no answer within {} seconds: check the host and port, and that a firewall lets this server reach the database",
                TIMEOUT.as_secs()
            ),
        }),
    }
}

async fn probe_cloud(
    spec: &ConnectionSpec,
    options: &super::ConnectOptions,
) -> Result<String, ProbeError> {
    let attempt = async {
        let connector = super::connect(spec, options).await?;
        let objects = connector.list_tables().await?;
        Ok::<_, super::ConnectorError>(format!(
            "signed in; {} objects can be synchronized (checked with {} API calls)",
            objects.len(),
            connector.api_calls()
        ))
    };
    match tokio::time::timeout(TIMEOUT * 3, attempt).await {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => {
            let message = e.to_string();
            let failure = if message.contains("connections there are refused")
                || message.contains("this installation")
            {
                ProbeFailure::NotAllowed
            } else if message.contains("refused to sign in")
                || message.contains("refused the access token")
                || message.contains("no access token")
            {
                ProbeFailure::Authentication
            } else if message.contains("dns error") || message.contains("failed to lookup") {
                ProbeFailure::Dns
            } else if message.contains("Connection refused") {
                ProbeFailure::Refused
            } else {
                ProbeFailure::Other
            };
            Err(ProbeError { failure, message })
        }
        Err(_) => Err(ProbeError {
            failure: ProbeFailure::Timeout,
            message: format!(
                "no answer within {} seconds: check the address, and that this server may reach it",
                TIMEOUT.as_secs() * 3
            ),
        }),
    }
}

fn explain(e: &sqlx::Error) -> ProbeError {
    let (failure, message) = match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => (
            ProbeFailure::Refused,
            "nothing accepts connections at this host and port: check the port, and that the database server is running and listening on the network".to_owned(),
        ),
        sqlx::Error::Io(io) if io.to_string().contains("lookup address") => (
            ProbeFailure::Dns,
            "the host name cannot be resolved: check its spelling".to_owned(),
        ),
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => (
            ProbeFailure::Timeout,
            "the connection timed out: check the host and port, and the firewall".to_owned(),
        ),
        sqlx::Error::Tls(tls) => (
            ProbeFailure::Tls,
            format!("the TLS handshake failed ({tls}): choose another SSL mode, or fix the server's certificate"),
        ),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let text = db.message().to_owned();
            match code.as_ref() {
                // PostgreSQL: invalid_password, invalid_authorization_specification; MySQL
                // reports access denied (1045) with SQLSTATE 28000 too.
                "28P01" | "28000" => (
                    ProbeFailure::Authentication,
                    format!("the server refused the user name or password ({text})"),
                ),
                "3D000" => (
                    ProbeFailure::DatabaseMissing,
                    format!("the server has no such database ({text}): check the database name"),
                ),
                _ if text.starts_with("Unknown database") => (
                    ProbeFailure::DatabaseMissing,
                    format!("the server has no such database ({text}): check the database name"),
                ),
                _ if text.contains("Access denied") => (
                    ProbeFailure::Authentication,
                    format!("the server refused the user name or password ({text})"),
                ),
                _ => (ProbeFailure::Other, text),
            }
        }
        other => {
            let text = other.to_string();
            if text.contains("TLS") || text.contains("SSL") || text.contains("ssl") {
                (
                    ProbeFailure::Tls,
                    format!("{text}: choose another SSL mode"),
                )
            } else {
                (ProbeFailure::Other, text)
            }
        }
    };
    ProbeError { failure, message }
}
