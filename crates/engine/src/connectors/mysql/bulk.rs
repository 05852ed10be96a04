//! The fast write path for MySQL/MariaDB: multi-row INSERTs whose AUTO_INCREMENT keys are
//! consecutive (guaranteed for one multi-row INSERT when `innodb_autoinc_lock_mode` is 0 or 1
//! and the increment is 1, so the first key gives all of them), UUID keys made here, and
//! set-based existence checks for updates and deletes. Any record-level failure makes the
//! caller redo the batch record by record.

use std::collections::HashSet;

use sqlx::{MySql, Transaction};

pub use super::super::batch::BulkError;
use super::super::batch::{Split, common_columns, split};
use super::super::{Key, KeyGeneration, TableSchema, WriteOp, WriteOutcome};
use super::{qualified, quote, values};

const MAX_PARAMS: usize = 30_000;

/// Which of `keys` exist, locking them for the rest of the transaction.
async fn existing(
    tx: &mut Transaction<'_, MySql>,
    schema: &TableSchema,
    keys: &[&Key],
) -> Result<HashSet<String>, BulkError> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(1000) {
        let sql = format!(
            "SELECT CAST({key} AS CHAR) FROM {} WHERE {key} IN ({}) FOR UPDATE",
            qualified(&schema.table),
            vec!["?"; chunk.len()].join(", "),
            key = quote(&schema.key)
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for k in chunk {
            query = query.bind(&k.0);
        }
        found.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(found)
}

pub async fn write(
    tx: &mut Transaction<'_, MySql>,
    schema: &TableSchema,
    journal: &str,
    ops: &[WriteOp],
) -> Result<Vec<WriteOutcome>, BulkError> {
    let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; ops.len()];
    let table = qualified(&schema.table);
    let key = quote(&schema.key);

    let Split {
        inserts,
        updates,
        deletes,
    } = split(ops);
    if !inserts.is_empty() {
        let columns = common_columns(schema, inserts.iter().map(|(_, _, r)| *r))
            .ok_or(BulkError::Fallback)?;
        let uuid_keys = schema.key_generation == KeyGeneration::UuidDefault;
        if !uuid_keys {
            let (mode, increment): (i64, i64) =
                sqlx::query_as("SELECT CAST(@@innodb_autoinc_lock_mode AS SIGNED), CAST(@@auto_increment_increment AS SIGNED)")
                    .fetch_one(&mut **tx)
                    .await?;
            if mode > 1 || increment != 1 {
                return Err(BulkError::Fallback);
            }
        }
        let mut column_list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        if uuid_keys {
            column_list.insert(0, key.clone());
        }
        let per_row = column_list.len().max(1);
        let mut new_keys = Vec::with_capacity(inserts.len());
        for chunk in inserts.chunks((MAX_PARAMS / per_row).max(1)) {
            let tuple = format!("({})", vec!["?"; column_list.len()].join(", "));
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES {}",
                column_list.join(", "),
                vec![tuple.as_str(); chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            let mut chunk_keys = Vec::with_capacity(chunk.len());
            for (_, _, row) in chunk {
                if uuid_keys {
                    let k = uuid::Uuid::new_v4().to_string();
                    query = query.bind(k.clone());
                    chunk_keys.push(k);
                }
                for name in &columns {
                    query = values::bind(query, row[name].clone());
                }
            }
            let done = query.execute(&mut **tx).await?;
            if !uuid_keys {
                let first = done.last_insert_id();
                chunk_keys.extend((0..chunk.len() as u64).map(|i| (first + i).to_string()));
            }
            new_keys.extend(chunk_keys);
        }
        let origins: Vec<&str> = inserts.iter().map(|(_, o, _)| o.0.as_str()).collect();
        let keys: Vec<&str> = new_keys.iter().map(String::as_str).collect();
        super::journal::record(tx, journal, &origins, &keys).await?;
        for ((i, _, _), new_key) in inserts.iter().zip(new_keys) {
            outcomes[*i] = Some(WriteOutcome::Inserted(Key(new_key)));
        }
    }

    if !updates.is_empty() {
        let present = existing(
            tx,
            schema,
            &updates.iter().map(|(_, k, _)| *k).collect::<Vec<_>>(),
        )
        .await?;
        for (i, k, row) in &updates {
            if !present.contains(&k.0) {
                outcomes[*i] = Some(WriteOutcome::Missing);
                continue;
            }
            let (columns, binds) = values::assignments(schema, row);
            if !columns.is_empty() {
                let sets: Vec<String> = columns.iter().map(|c| format!("{c} = ?")).collect();
                let sql = format!("UPDATE {table} SET {} WHERE {key} = ?", sets.join(", "));
                let mut query = sqlx::query(&sql);
                for b in binds {
                    query = values::bind(query, b);
                }
                query.bind(&k.0).execute(&mut **tx).await?;
            }
            outcomes[*i] = Some(WriteOutcome::Updated);
        }
    }

    if !deletes.is_empty() {
        let keys: Vec<&Key> = deletes.iter().map(|(_, k)| *k).collect();
        let present = existing(tx, schema, &keys).await?;
        for chunk in keys.chunks(1000) {
            let sql = format!(
                "DELETE FROM {table} WHERE {key} IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for k in chunk {
                query = query.bind(&k.0);
            }
            query.execute(&mut **tx).await?;
        }
        for (i, k) in &deletes {
            outcomes[*i] = Some(if present.contains(&k.0) {
                WriteOutcome::Deleted
            } else {
                WriteOutcome::Missing
            });
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.expect("every op has an outcome"))
        .collect())
}
