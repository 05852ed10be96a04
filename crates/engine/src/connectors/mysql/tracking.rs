//! `InitTrackingObjects` for MySQL/MariaDB: `lockstep_journal` and, per synced table, a
//! `lockstep_log_…` table in the table's database with three row triggers that record the
//! key unless the writing session set `@lockstep_origin` (the engine does).
//!
//! InnoDB's own `ON DELETE CASCADE` / `SET NULL` change child rows without firing the child
//! table's triggers. So for each such foreign key of a synced table, one more trigger on the
//! *referenced* table logs the child rows a delete is about to cascade to (`BEFORE DELETE`,
//! one level: a grandchild cascaded through a child is not seen).

use sqlx::MySqlPool;

/// A connection of the pool, held while the tracking lock is.
type Connection = sqlx::pool::PoolConnection<sqlx::MySql>;

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

/// The prefix of the cascade triggers' names (`…_fk0`, `…_fk1`, …), as a LIKE pattern.
fn cascade_trigger_pattern(table: &TableSchema) -> String {
    format!(
        "lockstep\\_log\\_{}\\_fk%",
        table.log_name.replace('_', "\\_")
    )
}

/// A foreign key of the table whose deletes cascade (CASCADE or SET NULL): (column,
/// referenced table, referenced column).
async fn cascading_keys(
    pool: &MySqlPool,
    table: &TableSchema,
) -> Result<Vec<(String, TableRef, String)>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_TABLE_SCHEMA AS CHAR),
                CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR)
         FROM information_schema.KEY_COLUMN_USAGE k
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
          AND r.TABLE_NAME = k.TABLE_NAME
         WHERE k.TABLE_SCHEMA = ? AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
           AND r.DELETE_RULE IN ('CASCADE', 'SET NULL')
         ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )
    .bind(schema_name(table))
    .bind(&table.table.name)
    .fetch_all(pool)
    .await
    .map_err(classify)?;
    Ok(rows
        .into_iter()
        .map(|(column, schema, name, referenced)| {
            (
                column,
                TableRef {
                    schema: Some(schema),
                    name,
                },
                referenced,
            )
        })
        .collect())
}

/// The cascade triggers of this table's log (in whichever database they are), by name.
async fn cascade_triggers(pool: &MySqlPool, table: &TableSchema) -> Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT CAST(TRIGGER_SCHEMA AS CHAR), CAST(TRIGGER_NAME AS CHAR) FROM information_schema.TRIGGERS
         WHERE TRIGGER_NAME LIKE ?",
    )
    .bind(cascade_trigger_pattern(table))
    .fetch_all(pool)
    .await
    .map_err(classify)
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
    let cascades = cascading_keys(pool, table).await?.len();
    let cascade_triggers = cascade_triggers(pool, table).await?.len();
    Ok(triggers == 3 && log == 1 && cascades == cascade_triggers)
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
    for (schema, name) in cascade_triggers(pool, table).await? {
        statements.push(format!(
            "DROP TRIGGER IF EXISTS {}",
            qualified(&TableRef {
                schema: Some(schema),
                name,
            })
        ));
    }
    for (i, (column, parent, referenced)) in
        cascading_keys(pool, table).await?.into_iter().enumerate()
    {
        let name = qualified(&TableRef {
            schema: parent.schema.clone(),
            name: format!("lockstep_log_{}_fk{i}", table.log_name),
        });
        statements.push(format!(
            "CREATE TRIGGER {name} BEFORE DELETE ON {} FOR EACH ROW
             IF @lockstep_origin IS NULL THEN
               INSERT INTO {log} (k) SELECT CAST({key} AS CHAR) FROM {target} WHERE {} = OLD.{};
             END IF",
            qualified(&parent),
            quote(&column),
            quote(&referenced)
        ));
    }
    let mut conn = pool.acquire().await.map_err(classify)?;
    take_lock(&mut conn).await?;
    let mut installed = Ok(());
    for statement in &statements {
        use sqlx::Executor as _;
        if let Err(e) = conn.execute(statement.as_str()).await {
            installed = Err(match classify(e) {
                ConnectorError::Other { message, source } => ConnectorError::Other {
                    message: format!("installing change tracking on {}: {message}", table.table),
                    source,
                },
                other => other,
            });
            break;
        }
    }
    release_lock(&mut conn).await;
    installed
}

/// Removes the table's log and triggers. When no table of the connection's database (nor of
/// the table's) is tracked any more, the insert journal goes too, so that nothing of
/// Lockstep's stays behind. Installs and removals take turns (`TRACKING_LOCK`), so a journal
/// is never dropped under an install that is about to use it.
pub async fn remove(pool: &MySqlPool, table: &TableSchema) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(classify)?;
    take_lock(&mut conn).await?;
    let removed = remove_locked(pool, &mut conn, table).await;
    release_lock(&mut conn).await;
    removed
}

/// The server-wide lock installs and removals of tracking hold.
const TRACKING_LOCK: &str = "lockstep_tracking";

async fn take_lock(conn: &mut Connection) -> Result<()> {
    let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 60)")
        .bind(TRACKING_LOCK)
        .fetch_one(&mut **conn)
        .await
        .map_err(classify)?;
    if got == Some(1) {
        Ok(())
    } else {
        Err(ConnectorError::connection(
            "another install or removal of change tracking held its lock for a minute; try again",
            true,
        ))
    }
}

async fn release_lock(conn: &mut Connection) {
    if let Err(e) = sqlx::query("SELECT RELEASE_LOCK(?)")
        .bind(TRACKING_LOCK)
        .execute(&mut **conn)
        .await
    {
        tracing::warn!(error = %e, "releasing the tracking lock failed; it goes with the connection");
    }
}

async fn remove_locked(pool: &MySqlPool, conn: &mut Connection, table: &TableSchema) -> Result<()> {
    for (schema, name) in cascade_triggers(pool, table).await? {
        let trigger = qualified(&TableRef {
            schema: Some(schema),
            name,
        });
        sqlx::raw_sql(&format!("DROP TRIGGER IF EXISTS {trigger}"))
            .execute(pool)
            .await
            .map_err(classify)?;
    }
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
    let still_tracked: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.TABLES
                         WHERE TABLE_SCHEMA IN (DATABASE(), COALESCE(?, DATABASE()))
                           AND TABLE_NAME LIKE 'lockstep\\_log\\_%')",
    )
    .bind(table.table.schema.as_deref())
    .fetch_one(&mut **conn)
    .await
    .map_err(classify)?;
    if !still_tracked {
        sqlx::query("DROP TABLE IF EXISTS lockstep_journal_batches")
            .execute(&mut **conn)
            .await
            .map_err(classify)?;
    }
    Ok(())
}
