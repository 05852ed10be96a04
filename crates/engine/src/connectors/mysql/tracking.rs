//! `InitTrackingObjects` for MySQL/MariaDB: `lockstep_journal` and, per synced table, a
//! `lockstep_log_…` table in the table's database with three row triggers that record the
//! key unless the writing session set `@lockstep_origin` (the engine does).

use sqlx::MySqlPool;

use super::super::{ConnectorError, Result, TableSchema};
use super::{qualified, quote};
use crate::connectors::sql_error::classify;
use crate::package::TableRef;

pub fn log_table(table: &TableSchema) -> String {
    qualified(&TableRef {
        schema: table.table.schema.clone(),
        name: format!("lockstep_log_{}", table.log_name),
    })
}

fn trigger(table: &TableSchema, event: &str) -> String {
    qualified(&TableRef {
        schema: table.table.schema.clone(),
        name: format!("lockstep_log_{}_{event}", table.log_name),
    })
}

fn schema_name(table: &TableSchema) -> &str {
    table.table.schema.as_deref().unwrap_or_default()
}

pub async fn installed(pool: &MySqlPool, table: &TableSchema) -> Result<bool> {
    let triggers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME IN (?, ?, ?)",
    )
    .bind(schema_name(table))
    .bind(format!("lockstep_log_{}_ins", table.log_name))
    .bind(format!("lockstep_log_{}_upd", table.log_name))
    .bind(format!("lockstep_log_{}_del", table.log_name))
    .fetch_one(pool)
    .await
    .map_err(classify)?;
    let log: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
    )
    .bind(schema_name(table))
    .bind(format!("lockstep_log_{}", table.log_name))
    .fetch_one(pool)
    .await
    .map_err(classify)?;
    Ok(triggers == 3 && log == 1)
}

pub async fn install(pool: &MySqlPool, table: &TableSchema) -> Result<()> {
    let log = log_table(table);
    let key = quote(&table.key);
    let target = qualified(&table.table);
    let mut statements = vec![
        super::journal::CREATE.to_owned(),
        format!(
            "CREATE TABLE IF NOT EXISTS {log} (
                 seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                 k VARCHAR(100) NOT NULL,
                 logged_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB"
        ),
    ];
    for (event, body) in [
        ("ins", format!("INSERT INTO {log} (k) VALUES (CAST(NEW.{key} AS CHAR))")),
        ("del", format!("INSERT INTO {log} (k) VALUES (CAST(OLD.{key} AS CHAR))")),
        (
            "upd",
            format!(
                "BEGIN INSERT INTO {log} (k) VALUES (CAST(NEW.{key} AS CHAR));
                 IF NOT (OLD.{key} <=> NEW.{key}) THEN INSERT INTO {log} (k) VALUES (CAST(OLD.{key} AS CHAR)); END IF; END"
            ),
        ),
    ] {
        let timing = match event {
            "ins" => "INSERT",
            "del" => "DELETE",
            _ => "UPDATE",
        };
        statements.push(format!("DROP TRIGGER IF EXISTS {}", trigger(table, event)));
        statements.push(format!(
            "CREATE TRIGGER {} AFTER {timing} ON {target} FOR EACH ROW
             IF @lockstep_origin IS NULL THEN {body}; END IF",
            trigger(table, event)
        ));
    }
    for statement in statements {
        sqlx::raw_sql(&statement)
            .execute(pool)
            .await
            .map_err(|e| match classify(e) {
                ConnectorError::Other { message, source } => ConnectorError::Other {
                    message: format!("installing change tracking on {}: {message}", table.table),
                    source,
                },
                other => other,
            })?;
    }
    Ok(())
}

pub async fn remove(pool: &MySqlPool, table: &TableSchema) -> Result<()> {
    for event in ["ins", "upd", "del"] {
        sqlx::raw_sql(&format!("DROP TRIGGER IF EXISTS {}", trigger(table, event)))
            .execute(pool)
            .await
            .map_err(classify)?;
    }
    sqlx::raw_sql(&format!("DROP TABLE IF EXISTS {}", log_table(table)))
        .execute(pool)
        .await
        .map_err(classify)?;
    Ok(())
}
