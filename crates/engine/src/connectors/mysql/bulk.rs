//! The fast write path for MySQL/MariaDB: multi-row INSERTs whose AUTO_INCREMENT keys are
//! consecutive (guaranteed for one multi-row INSERT when `innodb_autoinc_lock_mode` is 0 or 1
//! and the increment is 1, so the first key gives all of them), UUID keys made here,
//! set-based existence checks for updates and deletes, updates many rows per statement and
//! deletes by key lists. Any record-level failure (or a statement MariaDB refuses, such as
//! a mix of collations on a text key) makes the caller redo the batch record by record.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::{MySql, Transaction};

pub use super::super::batch::BulkError;
use super::super::batch::{Split, common_columns, split};
use super::super::{Key, KeyGeneration, Row, TableSchema, WriteOp, WriteOutcome};
use super::{qualified, quote, values};
use crate::value::ColumnType;

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

/// Updates `rows` (key, values) that set the same `columns`, many rows per statement: the
/// new values as a derived table of `SELECT … UNION ALL SELECT …`, joined to the table on
/// its key. Each row fires the table's UPDATE triggers as one UPDATE per row would. Returns
/// how many of the rows were found.
///
/// The table comes first in the join (`STRAIGHT_JOIN`), reached through its key index by
/// the list of keys, so that MariaDB updates each row as it finds it. Joined the other way
/// round, a multi-table UPDATE keeps every matched row in a temporary table and reads them
/// all again: measured on 1,000-row chunks, the statement took about half as long again.
/// Chunks stay under `in_predicate_conversion_threshold` (1,000 by default), above which
/// MariaDB turns the key list into a subquery.
async fn update_rows(
    tx: &mut Transaction<'_, MySql>,
    schema: &TableSchema,
    columns: &[&str],
    rows: &[(&Key, &Row)],
) -> Result<u64, BulkError> {
    let table = qualified(&schema.table);
    let key = quote(&schema.key);
    // The key twice (in the values and in the key list) and each column's value.
    let per_row = columns.len() + 2;
    let first = std::iter::once("? AS `k`".to_owned())
        .chain((0..columns.len()).map(|n| format!("? AS `c{n}`")))
        .collect::<Vec<_>>()
        .join(", ");
    let more = format!("SELECT {}", vec!["?"; columns.len() + 1].join(", "));
    let sets = columns
        .iter()
        .enumerate()
        .map(|(n, c)| format!("t.{} = v.`c{n}`", quote(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut matched = 0;
    let key_type = schema.column(&schema.key).map(|c| &c.ty);
    for chunk in rows.chunks((MAX_PARAMS / per_row).clamp(1, 500)) {
        let selects = std::iter::once(format!("SELECT {first}"))
            .chain(std::iter::repeat_n(more.clone(), chunk.len() - 1))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let sql = format!(
            "UPDATE {table} AS t STRAIGHT_JOIN ({selects}) AS v ON t.{key} = v.`k` SET {sets} \
             WHERE t.{key} IN ({})",
            vec!["?"; chunk.len()].join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (k, row) in chunk {
            query = bind_key(query, k, key_type);
            for c in columns {
                let value = row.get(*c).cloned().unwrap_or(crate::value::Value::Null);
                query = values::bind_for(query, value, schema.column(c));
            }
        }
        for (k, _) in chunk {
            query = bind_key(query, k, key_type);
        }
        // Rows matched, changed or not (sqlx asks for CLIENT_FOUND_ROWS).
        matched += query.execute(&mut **tx).await?.rows_affected();
    }
    Ok(matched)
}

/// Binds a key typed like the key column, so that the lookup uses the key's index.
fn bind_key<'q>(
    query: sqlx::query::Query<'q, MySql, sqlx::mysql::MySqlArguments>,
    key: &'q Key,
    ty: Option<&ColumnType>,
) -> sqlx::query::Query<'q, MySql, sqlx::mysql::MySqlArguments> {
    match ty {
        Some(ColumnType::Int {
            unsigned: false, ..
        }) if key.0.parse::<i64>().is_ok() => query.bind(key.0.parse::<i64>().ok()),
        Some(ColumnType::Int { unsigned: true, .. }) if key.0.parse::<u64>().is_ok() => {
            query.bind(key.0.parse::<u64>().ok())
        }
        _ => query.bind(&key.0),
    }
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
        // Rows that set the same columns go in one statement per chunk; a key updated twice
        // in the batch keeps its last values (as one statement per row would).
        let mut groups: BTreeMap<Vec<&str>, Vec<(&Key, &Row)>> = BTreeMap::new();
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (n, (_, k, _)) in updates.iter().enumerate() {
            last.insert(k.0.as_str(), n);
        }
        let mut unset = false;
        for (n, (_, k, row)) in updates.iter().enumerate() {
            if last[k.0.as_str()] != n {
                continue;
            }
            let columns: Vec<&str> = row
                .keys()
                .map(String::as_str)
                .filter(|name| schema.column(name).is_some_and(|c| c.name != schema.key))
                .collect();
            if columns.is_empty() {
                unset = true;
            } else {
                groups.entry(columns).or_default().push((k, row));
            }
        }
        // The updates go first: when they found every row (the usual case), no key needs
        // looking up. Otherwise the keys are looked up after them, in the same transaction.
        let mut matched = 0;
        for (columns, rows) in &groups {
            matched += update_rows(tx, schema, columns, rows).await?;
        }
        let updated: usize = groups.values().map(Vec::len).sum();
        let present: Option<HashSet<String>> = if unset || matched != updated as u64 {
            let keys: Vec<&Key> = updates.iter().map(|(_, k, _)| *k).collect();
            Some(existing(tx, schema, &keys).await?)
        } else {
            None
        };
        for (i, k, _) in &updates {
            let found = present.as_ref().is_none_or(|p| p.contains(&k.0));
            outcomes[*i] = Some(if found {
                WriteOutcome::Updated
            } else {
                WriteOutcome::Missing
            });
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
