//! Reaching our metadata database at start-up: create it if missing, migrate it, and say
//! plainly what to do when it cannot be reached.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::redact_url;

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(
        "DATABASE_URL is not a PostgreSQL URL ({url}): {source}. Expected postgres://user[:password]@host:port/database"
    )]
    BadUrl { url: String, source: sqlx::Error },
    #[error(
        "could not reach PostgreSQL at {url}: {source}.\n  Fix: start PostgreSQL there, or set DATABASE_URL to a reachable server \
         (scripts/run.sh starts a project-local one when none is running)."
    )]
    Unreachable { url: String, source: sqlx::Error },
    #[error(
        "database {database:?} does not exist at {url} and could not be created: {source}.\n  Fix: create it (createdb {database}) or give the user CREATEDB."
    )]
    CannotCreate {
        url: String,
        database: String,
        source: sqlx::Error,
    },
    #[error("migrating {url} failed: {source}")]
    Migrate {
        url: String,
        source: sqlx::migrate::MigrateError,
    },
}

/// Connects to the metadata database (creating it when missing), applies migrations, and
/// returns a pool.
pub async fn prepare(url: &SecretString) -> Result<PgPool, DatabaseError> {
    let shown = redact_url(url.expose_secret());
    let options = PgConnectOptions::from_str(url.expose_secret()).map_err(|source| {
        DatabaseError::BadUrl {
            url: shown.clone(),
            source,
        }
    })?;
    create_if_missing(&options, &shown).await?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|source| DatabaseError::Unreachable {
            url: shown.clone(),
            source,
        })?;
    catalog::migrate(&pool)
        .await
        .map_err(|source| DatabaseError::Migrate {
            url: shown.clone(),
            source,
        })?;
    crate::workers::migrate(&pool)
        .await
        .map_err(|source| DatabaseError::Migrate {
            url: shown.clone(),
            source,
        })?;
    tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
        .migrate()
        .await
        .map_err(|source| DatabaseError::Unreachable { url: shown, source })?;
    Ok(pool)
}

async fn create_if_missing(options: &PgConnectOptions, shown: &str) -> Result<(), DatabaseError> {
    let database = options.get_database().unwrap_or("postgres").to_owned();
    match options.connect().await {
        Ok(conn) => {
            let _ = conn.close().await;
            return Ok(());
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {}
        Err(source) => {
            return Err(DatabaseError::Unreachable {
                url: shown.to_owned(),
                source,
            });
        }
    }
    tracing::info!(%database, "metadata database missing; creating it");
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .map_err(|source| DatabaseError::Unreachable {
            url: shown.to_owned(),
            source,
        })?;
    // CREATE DATABASE takes no bind parameters: quote the name as an identifier.
    let quoted = format!("\"{}\"", database.replace('"', "\"\""));
    let created = sqlx::query(&format!("CREATE DATABASE {quoted}"))
        .execute(&mut admin)
        .await;
    match created {
        Ok(_) => Ok(()),
        // Another process created it meanwhile.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => Ok(()),
        Err(source) => Err(DatabaseError::CannotCreate {
            url: shown.to_owned(),
            database,
            source,
        }),
    }
}
