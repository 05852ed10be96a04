//! `InitTrackingObjects` for PostgreSQL: the `lockstep` schema with the insert journal, and per
//! synced table a change log plus one row trigger. The trigger records the key of every
//! changed row unless the writing session set `lockstep.origin` (the engine does).
//!
//! The trigger's `WHEN` clause makes that test before anything is queued: for the engine's
//! own writes PostgreSQL neither queues an after-trigger event nor calls the function, so a
//! first run's COPY into a tracked table costs what it costs into an untracked one (without
//! it, the call per row made such a COPY about 30% slower). Triggers installed before the
//! clause existed are given it when found (`installed`).

use sqlx::PgPool;

use super::super::{ConnectorError, Result, TableSchema};
use super::{qualified, quote};
use crate::connectors::sql_error::classify;

/// The change log's qualified name.
pub fn log_table(table: &TableSchema) -> String {
    format!("lockstep.{}", quote(&format!("log_{}", table.log_name)))
}

/// The trigger feeding this log (trigger names are per table).
fn trigger(table: &TableSchema) -> String {
    format!("lockstep_{}", table.log_name)
}

/// Whether the table's trigger and log exist. A trigger of an older install, without the
/// `WHEN` clause, is replaced by the current one (same log, nothing lost).
pub async fn installed(pool: &PgPool, table: &TableSchema) -> Result<bool> {
    let (installed, current): (bool, bool) = sqlx::query_as(
        "SELECT t.tgname IS NOT NULL AND to_regclass($3) IS NOT NULL,
                coalesce(t.tgqual IS NOT NULL, false)
         FROM (SELECT 1) AS one
         LEFT JOIN pg_trigger t ON t.tgrelid = to_regclass($1) AND t.tgname = $2",
    )
    .bind(qualified(&table.table))
    .bind(trigger(table))
    .bind(log_table(table))
    .fetch_one(pool)
    .await
    .map_err(classify)?;
    if installed && !current {
        install(pool, table).await?;
    }
    Ok(installed)
}

pub async fn install(pool: &PgPool, table: &TableSchema) -> Result<()> {
    if table.key.contains("$lockstep$") {
        return Err(ConnectorError::Requirement(format!(
            "the key column name {:?} cannot be tracked",
            table.key
        )));
    }
    let log = log_table(table);
    let key = quote(&table.key);
    let function = format!(
        "CREATE OR REPLACE FUNCTION {log}() RETURNS trigger LANGUAGE plpgsql AS $lockstep$
         BEGIN
           IF coalesce(current_setting('lockstep.origin', true), '') <> '' THEN
             RETURN NULL;
           END IF;
           IF TG_OP = 'DELETE' THEN
             INSERT INTO {log} (key) VALUES (OLD.{key}::text);
           ELSE
             INSERT INTO {log} (key) VALUES (NEW.{key}::text);
             IF TG_OP = 'UPDATE' AND OLD.{key} IS DISTINCT FROM NEW.{key} THEN
               INSERT INTO {log} (key) VALUES (OLD.{key}::text);
             END IF;
           END IF;
           RETURN NULL;
         END
         $lockstep$"
    );
    let statements = [
        "SELECT pg_advisory_xact_lock(hashtext('lockstep.install'))".to_owned(),
        "CREATE SCHEMA IF NOT EXISTS lockstep".to_owned(),
        super::journal::CREATE.to_owned(),
        super::journal::UNCOMPRESSED.to_owned(),
        format!(
            "CREATE TABLE IF NOT EXISTS {log} (
                 seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 key text NOT NULL,
                 logged_at timestamptz NOT NULL DEFAULT now())"
        ),
        function,
        format!(
            "CREATE OR REPLACE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {} FOR EACH ROW
             WHEN (coalesce(current_setting('lockstep.origin', true), '') = '')
             EXECUTE FUNCTION {log}()",
            quote(&trigger(table)),
            qualified(&table.table)
        ),
    ];
    let mut tx = pool.begin().await.map_err(classify)?;
    for statement in statements {
        sqlx::query(&statement)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
    }
    tx.commit().await.map_err(classify)
}

/// Removes the table's log, function and trigger. When no other table of the database is
/// tracked any more, the `lockstep` schema goes too (the insert journal with it), so that
/// nothing of Lockstep's stays behind; the install lock keeps an install out meanwhile.
pub async fn remove(pool: &PgPool, table: &TableSchema) -> Result<()> {
    let log = log_table(table);
    let mut tx = pool.begin().await.map_err(classify)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('lockstep.install'))")
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    // The synced table may be gone already (and its trigger with it): the log still goes.
    let table_exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(qualified(&table.table))
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
    let mut statements = Vec::new();
    if table_exists {
        statements.push(format!(
            "DROP TRIGGER IF EXISTS {} ON {}",
            quote(&trigger(table)),
            qualified(&table.table)
        ));
    }
    statements.push(format!("DROP FUNCTION IF EXISTS {log}()"));
    statements.push(format!("DROP TABLE IF EXISTS {log}"));
    for statement in statements {
        sqlx::query(&statement)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
    }
    let still_tracked: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = 'lockstep' AND c.relkind = 'r' AND c.relname <> 'journal_batches')",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(classify)?;
    if !still_tracked {
        sqlx::query("DROP SCHEMA IF EXISTS lockstep CASCADE")
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
    }
    tx.commit().await.map_err(classify)
}
