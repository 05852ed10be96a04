//! MySQL and MariaDB: schema discovery with the sync requirements, `lockstep_`-prefixed change
//! logs fed by triggers, and writes made with `@lockstep_origin` set so the triggers skip them.
//!
//! Sessions run in strict mode (`STRICT_ALL_TABLES`) and UTC, so a value that does not fit is
//! an error for that record instead of a silent truncation, and datetimes are UTC.

mod bulk;
mod describe;
mod journal;
mod tracking;
mod values;

use async_trait::async_trait;
use sqlx::mysql::{MySqlConnection, MySqlPool, MySqlPoolOptions};
use sqlx::{Connection, Executor, Row as _};

use super::sql_error::{classify, connect_failure, record_failure};
use super::{
    Connector, Key, KeyGeneration, Result, Row, TableSchema, TrackedChange, WriteOp, WriteOutcome,
    inserted_pairs,
};
use crate::package::TableRef;

/// Back-quotes an identifier for MySQL.
pub fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn qualified(table: &TableRef) -> String {
    match &table.schema {
        Some(schema) => format!("{}.{}", quote(schema), quote(&table.name)),
        None => quote(&table.name),
    }
}

#[derive(Clone)]
pub struct MySqlConnector {
    pool: MySqlPool,
}

impl MySqlConnector {
    /// A write batch on this task: the fast path first, record by record when it fails
    /// (`Connector::write` runs it on a task of its own).
    async fn write_here(
        &self,
        table: &TableSchema,
        journal: &str,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<WriteOutcome>> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        // The session variable marks this connection's writes as the engine's; it is cleared
        // before the connection goes back to the pool, or the connection is closed.
        sqlx::query("SET @lockstep_origin = 'engine'")
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        let result: Result<Vec<WriteOutcome>> = async {
            // Fast path first: the whole batch in set-based statements.
            let mut tx = conn.begin().await.map_err(classify)?;
            match bulk::write(&mut tx, table, journal, &ops).await {
                Ok(outcomes) => {
                    tx.commit().await.map_err(classify)?;
                    return Ok(outcomes);
                }
                Err(bulk::BulkError::Fatal(e)) => return Err(classify(e)),
                Err(bulk::BulkError::Fallback) => tx.rollback().await.map_err(classify)?,
            }
            // A record failed: redo record by record, each behind a savepoint.
            let mut tx = conn.begin().await.map_err(classify)?;
            let mut outcomes = Vec::with_capacity(ops.len());
            for op in &ops {
                sqlx::query("SAVEPOINT lockstep_record")
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                match apply_op(&mut tx, table, op).await {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(e) => match record_failure(&e) {
                        Some(message) => {
                            sqlx::query("ROLLBACK TO SAVEPOINT lockstep_record")
                                .execute(&mut *tx)
                                .await
                                .map_err(classify)?;
                            outcomes.push(WriteOutcome::Failed(message));
                        }
                        None => return Err(classify(e)),
                    },
                }
            }
            let (origins, new_keys) = inserted_pairs(&ops, &outcomes);
            journal::record(&mut tx, journal, &origins, &new_keys)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            Ok(outcomes)
        }
        .await;
        if sqlx::query("SET @lockstep_origin = NULL")
            .execute(&mut *conn)
            .await
            .is_err()
        {
            let _ = conn.detach().close().await;
        }
        result
    }

    pub async fn connect(url: &str) -> Result<Self> {
        let url = url.replacen("mariadb://", "mysql://", 1);
        let pool = MySqlPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(std::time::Duration::from_secs(15))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), time_zone = '+00:00'").await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(connect_failure)?;
        Ok(MySqlConnector { pool })
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }
}

fn select_list(schema: &TableSchema) -> String {
    let mut list = vec![format!(
        "CAST({} AS CHAR) AS __lockstep_key",
        quote(&schema.key)
    )];
    list.extend(schema.columns.iter().map(values::select_expr));
    list.join(", ")
}

fn rows_from(schema: &TableSchema, rows: Vec<sqlx::mysql::MySqlRow>) -> Result<Vec<(Key, Row)>> {
    let order = schema.positions_by_name();
    rows.into_iter()
        .map(|r| {
            let key = values::text(&r, 0).map_err(classify)?.unwrap_or_default();
            let row = schema
                .row_in_order(&order, |i, column| values::decode(&r, i + 1, column))
                .map_err(classify)?;
            Ok((Key(key), row))
        })
        .collect()
}

/// One page in key order: binds the previous page's last key (when `after`), then the limit.
/// The key is named through the table alias so ORDER BY uses the column (and its index), not
/// a select-list expression of the same name.
fn page_sql(table: &TableSchema, select: &str, after: bool) -> String {
    let key = quote(&table.key);
    let filter = if after {
        format!("WHERE __lockstep_t.{key} > ?")
    } else {
        String::new()
    };
    format!(
        "SELECT {select} FROM {} AS __lockstep_t {filter} ORDER BY __lockstep_t.{key} LIMIT ?",
        qualified(&table.table)
    )
}

async fn apply_op(
    conn: &mut MySqlConnection,
    schema: &TableSchema,
    op: &WriteOp,
) -> std::result::Result<WriteOutcome, sqlx::Error> {
    let table = qualified(&schema.table);
    let key = quote(&schema.key);
    match op {
        WriteOp::Insert { row, .. } => {
            let (columns, binds) = values::assignments(schema, row);
            let placeholders = vec!["?"; columns.len()].join(", ");
            let returning = schema.key_generation == KeyGeneration::UuidDefault;
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({placeholders}){}",
                columns.join(", "),
                if returning {
                    format!(" RETURNING CAST({key} AS CHAR)")
                } else {
                    String::new()
                }
            );
            let mut query = sqlx::query(&sql);
            for b in binds {
                query = values::bind(query, b);
            }
            let new_key = if returning {
                let row = query.fetch_one(&mut *conn).await?;
                row.try_get::<String, _>(0)?
            } else {
                query
                    .execute(&mut *conn)
                    .await?
                    .last_insert_id()
                    .to_string()
            };
            Ok(WriteOutcome::Inserted(Key(new_key)))
        }
        WriteOp::Update { key: k, row } => {
            let (columns, binds) = values::assignments(schema, row);
            if columns.is_empty() {
                return Ok(WriteOutcome::Updated);
            }
            let sets: Vec<String> = columns.iter().map(|c| format!("{c} = ?")).collect();
            // Matched rows, not changed rows: CLIENT_FOUND_ROWS is not set, so compare by select.
            let exists: Option<i64> =
                sqlx::query_scalar(&format!("SELECT 1 FROM {table} WHERE {key} = ? FOR UPDATE"))
                    .bind(&k.0)
                    .fetch_optional(&mut *conn)
                    .await?;
            if exists.is_none() {
                return Ok(WriteOutcome::Missing);
            }
            let sql = format!("UPDATE {table} SET {} WHERE {key} = ?", sets.join(", "));
            let mut query = sqlx::query(&sql);
            for b in binds {
                query = values::bind(query, b);
            }
            query.bind(&k.0).execute(&mut *conn).await?;
            Ok(WriteOutcome::Updated)
        }
        WriteOp::Delete { key: k } => {
            let done = sqlx::query(&format!("DELETE FROM {table} WHERE {key} = ?"))
                .bind(&k.0)
                .execute(&mut *conn)
                .await?;
            Ok(if done.rows_affected() == 0 {
                WriteOutcome::Missing
            } else {
                WriteOutcome::Deleted
            })
        }
    }
}

#[async_trait]
impl Connector for MySqlConnector {
    fn kind(&self) -> &'static str {
        "mysql"
    }

    /// Five, as for PostgreSQL (measured there).
    fn copy_batches(&self) -> usize {
        5
    }

    async fn list_tables(&self) -> Result<Vec<TableRef>> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES
              WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT LIKE 'lockstep\\_%'
              ORDER BY TABLE_NAME",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(names.iter().map(|n| TableRef::new(None, n)).collect())
    }

    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        describe::describe(&self.pool, table, super::Purpose::Sync).await
    }

    async fn describe_for_lookup(&self, table: &TableRef) -> Result<TableSchema> {
        describe::describe(&self.pool, table, super::Purpose::Lookup).await
    }

    async fn tracking_installed(&self, table: &TableSchema) -> Result<bool> {
        tracking::installed(&self.pool, table).await
    }

    async fn install_tracking(&self, table: &TableSchema) -> Result<()> {
        tracking::install(&self.pool, table).await
    }

    async fn remove_tracking(&self, table: &TableSchema) -> Result<()> {
        tracking::remove(&self.pool, table).await
    }

    async fn read_changes(
        &self,
        table: &TableSchema,
        after: i64,
        limit: usize,
    ) -> Result<Vec<TrackedChange>> {
        // The log table takes its database's default collation, binary ones included.
        let rows = sqlx::query(&format!(
            "SELECT seq, k FROM {} WHERE seq > ? ORDER BY seq LIMIT ?",
            tracking::log_table(table)
        ))
        .bind(after)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|r| {
                Ok(TrackedChange {
                    seq: r.try_get(0)?,
                    key: Key(values::text(r, 1)?.unwrap_or_default()),
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(classify)
    }

    async fn consume_changes(&self, table: &TableSchema, seqs: &[i64]) -> Result<()> {
        for chunk in seqs.chunks(1000) {
            let sql = format!(
                "DELETE FROM {} WHERE seq IN ({})",
                tracking::log_table(table),
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for seq in chunk {
                query = query.bind(seq);
            }
            query.execute(&self.pool).await.map_err(classify)?;
        }
        Ok(())
    }

    async fn requeue(&self, table: &TableSchema, keys: &[Key]) -> Result<()> {
        for chunk in keys.chunks(1000) {
            let sql = format!(
                "INSERT INTO {} (k) VALUES {}",
                tracking::log_table(table),
                vec!["(?)"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(&key.0);
            }
            query.execute(&self.pool).await.map_err(classify)?;
        }
        Ok(())
    }

    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        let sql = page_sql(table, &select_list(table), after.is_some());
        let (pool, table, after) = (self.pool.clone(), table.clone(), after.cloned());
        super::on_own_task(async move {
            let mut query = sqlx::query(&sql);
            if let Some(after) = &after {
                query = query.bind(&after.0);
            }
            let rows = query
                .bind(limit as i64)
                .fetch_all(&pool)
                .await
                .map_err(classify)?;
            super::decode_beside(&table, rows, rows_from).await
        })
        .await
    }

    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        let select = format!("CAST({} AS CHAR)", quote(&table.key));
        let sql = page_sql(table, &select, after.is_some());
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        if let Some(after) = after {
            query = query.bind(&after.0);
        }
        let keys = query
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(keys.into_iter().map(Key).collect())
    }

    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(1000) {
            let sql = format!(
                "SELECT CAST({key} AS CHAR) FROM {} WHERE {key} IN ({})",
                qualified(&table.table),
                vec!["?"; chunk.len()].join(", "),
                key = quote(&table.key)
            );
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for k in chunk {
                query = query.bind(&k.0);
            }
            found.extend(
                query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?
                    .into_iter()
                    .map(Key),
            );
        }
        Ok(found)
    }

    async fn estimate_rows(&self, table: &TableSchema) -> Result<Option<u64>> {
        // An exact count when it takes under two seconds, else InnoDB's estimate.
        let counted: Option<i64> = sqlx::query_scalar(&format!(
            "SET STATEMENT max_statement_time = 2 FOR SELECT COUNT(*) FROM {}",
            qualified(&table.table)
        ))
        .fetch_one(&self.pool)
        .await
        .ok();
        if let Some(n) = counted {
            return Ok(Some(n.max(0) as u64));
        }
        let estimate: Option<Option<u64>> = sqlx::query_scalar(
            "SELECT CAST(TABLE_ROWS AS UNSIGNED) FROM information_schema.TABLES
              WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
        )
        .bind(table.table.schema.as_deref())
        .bind(&table.table.name)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(estimate.flatten())
    }

    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(1000) {
            let sql = format!(
                "SELECT {} FROM {} WHERE {} IN ({})",
                select_list(table),
                qualified(&table.table),
                quote(&table.key),
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(&key.0);
            }
            found.extend(rows_from(
                table,
                query.fetch_all(&self.pool).await.map_err(classify)?,
            )?);
        }
        Ok(found)
    }

    /// One statement per 200 tuples, a `UNION ALL` of one branch per tuple that selects the
    /// tuple's index: each branch compares the columns with bound values, so the columns'
    /// own collations decide equality (a literal never imposes its collation) and an index on
    /// the key columns serves every branch.
    async fn find(
        &self,
        table: &TableSchema,
        columns: &[String],
        tuples: &[Vec<crate::value::Value>],
    ) -> Result<Vec<(usize, Row)>> {
        for c in columns {
            if table.column(c).is_none() {
                return Err(super::ConnectorError::other(format!(
                    "{} has no column “{c}”",
                    table.table
                )));
            }
        }
        let condition = columns
            .iter()
            .map(|c| format!("{} = ?", quote(c)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let branch = format!(
            "SELECT {}, ? AS __lockstep_i FROM {} WHERE {condition}",
            table
                .columns
                .iter()
                .map(values::select_expr)
                .collect::<Vec<_>>()
                .join(", "),
            qualified(&table.table)
        );
        let mut found = Vec::new();
        for (chunk_number, chunk) in tuples.chunks(200).enumerate() {
            let sql = vec![format!("({branch})"); chunk.len()].join(" UNION ALL ");
            let mut query = sqlx::query(&sql);
            for (i, tuple) in chunk.iter().enumerate() {
                query = query.bind((chunk_number * 200 + i) as i64);
                for value in tuple {
                    query = values::bind(query, value.clone());
                }
            }
            let rows = query.fetch_all(&self.pool).await.map_err(classify)?;
            for r in rows {
                let mut row = Row::new();
                for (i, column) in table.columns.iter().enumerate() {
                    row.insert(
                        column.name.clone(),
                        values::decode(&r, i, column).map_err(classify)?,
                    );
                }
                let index: i64 = r.try_get(table.columns.len()).map_err(classify)?;
                found.push((index as usize, row));
            }
        }
        Ok(found)
    }

    fn finds_by_scanning(&self) -> bool {
        false
    }

    async fn write(
        &self,
        table: &TableSchema,
        journal: &str,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<WriteOutcome>> {
        let (this, table, journal) = (self.clone(), table.clone(), journal.to_owned());
        super::on_own_task(async move { this.write_here(&table, &journal, ops).await }).await
    }

    async fn read_journal(&self, journal: &str) -> Result<Vec<(Key, Key)>> {
        journal::read(&self.pool, journal).await
    }

    async fn clear_journal(&self, journal: &str) -> Result<()> {
        journal::clear(&self.pool, journal).await
    }
}
