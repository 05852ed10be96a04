//! The insert journal in PostgreSQL: one row per write batch (its origins and the keys of the
//! copies, as two arrays), written in the batch's own transaction. One row instead of one per
//! record keeps the journal off the first run's hot path.

use sqlx::{PgConnection, PgPool};

use super::super::{Key, Result};
use crate::connectors::sql_error::classify;

pub const CREATE: &str = "CREATE TABLE IF NOT EXISTS lockstep.journal_batches (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    origins text[] NOT NULL,
    new_keys text[] NOT NULL)";

/// The journal's key arrays are stored uncompressed: a batch's row is written once and read
/// once, and compressing its arrays (pglz) cost the first run's target about a tenth of its
/// CPU. Set once per database, on the first install after this was added.
pub const UNCOMPRESSED: &str = "DO $lockstep$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = 'lockstep.journal_batches'::regclass
                 AND attname IN ('origins', 'new_keys') AND attstorage <> 'e') THEN
        ALTER TABLE lockstep.journal_batches
            ALTER COLUMN origins SET STORAGE EXTERNAL,
            ALTER COLUMN new_keys SET STORAGE EXTERNAL;
    END IF;
END $lockstep$";

pub async fn record(
    conn: &mut PgConnection,
    name: &str,
    origins: &[&str],
    new_keys: &[&str],
) -> std::result::Result<(), sqlx::Error> {
    if origins.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO lockstep.journal_batches (name, origins, new_keys) VALUES ($1, $2, $3)",
    )
    .bind(name)
    .bind(origins)
    .bind(new_keys)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn read(pool: &PgPool, name: &str) -> Result<Vec<(Key, Key)>> {
    let rows: std::result::Result<Vec<(String, String)>, sqlx::Error> = sqlx::query_as(
        "SELECT u.origin, u.new_key FROM lockstep.journal_batches j,
                unnest(j.origins, j.new_keys) WITH ORDINALITY AS u(origin, new_key, n)
         WHERE j.name = $1 ORDER BY j.id, u.n",
    )
    .bind(name)
    .fetch_all(pool)
    .await;
    match rows {
        Ok(rows) => Ok(rows.into_iter().map(|(o, n)| (Key(o), Key(n))).collect()),
        // No journal yet: tracking was never installed in this database.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P01") => Ok(Vec::new()),
        Err(e) => Err(classify(e)),
    }
}

pub async fn clear(pool: &PgPool, name: &str) -> Result<()> {
    sqlx::query("DELETE FROM lockstep.journal_batches WHERE name = $1")
        .bind(name)
        .execute(pool)
        .await
        .map_err(classify)?;
    Ok(())
}
