//! The insert journal in MySQL/MariaDB: one row per write batch (its origins and the keys of
//! the copies, as two JSON arrays), written in the batch's own transaction. One row instead of
//! one per record keeps the journal off the first run's hot path.

use sqlx::{MySqlConnection, MySqlPool};

use super::super::{ConnectorError, Key, Result};
use crate::connectors::sql_error::classify;

pub const CREATE: &str = "CREATE TABLE IF NOT EXISTS lockstep_journal_batches (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    origins LONGTEXT NOT NULL,
    new_keys LONGTEXT NOT NULL,
    KEY (name)) ENGINE=InnoDB";

pub async fn record(
    conn: &mut MySqlConnection,
    name: &str,
    origins: &[&str],
    new_keys: &[&str],
) -> std::result::Result<(), sqlx::Error> {
    if origins.is_empty() {
        return Ok(());
    }
    let json = |keys: &[&str]| serde_json::to_string(keys).expect("strings serialize");
    sqlx::query("INSERT INTO lockstep_journal_batches (name, origins, new_keys) VALUES (?, ?, ?)")
        .bind(name)
        .bind(json(origins))
        .bind(json(new_keys))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn read(pool: &MySqlPool, name: &str) -> Result<Vec<(Key, Key)>> {
    let rows = sqlx::query(
        "SELECT origins, new_keys FROM lockstep_journal_batches WHERE name = ? ORDER BY id",
    )
    .bind(name)
    .fetch_all(pool)
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        // No journal yet: tracking was never installed in this database.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42S02") => Vec::new(),
        Err(e) => return Err(classify(e)),
    };
    let mut pairs = Vec::new();
    for row in &rows {
        // The table takes its database's default collation, binary ones included.
        let column = |i| {
            super::values::text(row, i)
                .map(Option::unwrap_or_default)
                .map_err(classify)
        };
        let (origins, new_keys) = (column(0)?, column(1)?);
        let parse = |text: &str| {
            serde_json::from_str::<Vec<String>>(text).map_err(|e| {
                ConnectorError::other(format!("lockstep_journal_batches is damaged: {e}"))
                    .caused_by(e)
            })
        };
        pairs.extend(
            parse(&origins)?
                .into_iter()
                .zip(parse(&new_keys)?)
                .map(|(o, n)| (Key(o), Key(n))),
        );
    }
    Ok(pairs)
}

pub async fn clear(pool: &MySqlPool, name: &str) -> Result<()> {
    sqlx::query("DELETE FROM lockstep_journal_batches WHERE name = ?")
        .bind(name)
        .execute(pool)
        .await
        .map_err(classify)?;
    Ok(())
}
