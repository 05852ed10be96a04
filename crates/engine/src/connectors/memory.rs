//! An in-memory data source that keeps the connector contract exactly, for testing the sync
//! algorithm without databases. Tests play "users" through `user_*` (recorded in the change
//! log) and can inject record failures and lost acknowledgements. Foreign keys
//! (`add_foreign_key`) are enforced on the engine's writes like a database's `RESTRICT`: a
//! row may not reference a missing row, nor may a referenced row be deleted (users' edits are
//! the test's to keep consistent).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::{
    ColumnInfo, Connector, ConnectorError, ForeignKey, Key, KeyGeneration, Result, Row,
    TableSchema, TrackedChange, WriteOp, WriteOutcome,
};
use crate::package::TableRef;
use crate::value::{ColumnType, Value};

/// Decides whether the data source refuses a written row (like a CHECK constraint would).
pub type RejectRule = Arc<dyn Fn(&Row) -> Option<String> + Send + Sync>;

#[derive(Default)]
pub struct MemoryConnector {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    tables: BTreeMap<TableRef, MemTable>,
    journals: BTreeMap<String, BTreeMap<Key, Key>>,
    /// Calls to `write` so far.
    writes: usize,
    /// `write` calls (1-based) whose work is done but whose answer is lost, as when the
    /// process dies right after the commit.
    lost_acks: Vec<usize>,
    /// User edits that happen while the engine's next `write` runs.
    concurrent_edits: Vec<UserEdit>,
}

struct MemTable {
    schema: TableSchema,
    rows: BTreeMap<u64, Row>,
    next_id: u64,
    /// One change log per consumer (task side) once installed: seq → key.
    logs: BTreeMap<String, BTreeMap<i64, Key>>,
    next_seq: i64,
    reject: Option<RejectRule>,
}

/// A change made by someone other than the engine.
#[derive(Debug, Clone)]
pub enum UserEdit {
    Insert(TableRef, Row),
    Update(TableRef, Key, Row),
    Delete(TableRef, Key),
}

fn key_of(id: u64) -> Key {
    Key(id.to_string())
}

fn id_of(key: &Key) -> Option<u64> {
    key.0.parse().ok()
}

impl MemTable {
    /// A user's change goes into every consumer's log.
    fn record(&mut self, key: Key) {
        for log in self.logs.values_mut() {
            self.next_seq += 1;
            log.insert(self.next_seq, key.clone());
        }
    }

    fn log_mut(&mut self, name: &str) -> Option<&mut BTreeMap<i64, Key>> {
        self.logs.get_mut(name)
    }

    fn apply_user(&mut self, edit: &UserEdit) -> Option<Key> {
        match edit {
            UserEdit::Insert(_, row) => {
                self.next_id += 1;
                let key = key_of(self.next_id);
                let mut row = row.clone();
                row.insert(self.schema.key.clone(), Value::Int(self.next_id as i64));
                self.rows.insert(self.next_id, row);
                self.record(key.clone());
                Some(key)
            }
            UserEdit::Update(_, key, changes) => {
                let row = self.rows.get_mut(&id_of(key)?)?;
                row.extend(changes.clone());
                self.record(key.clone());
                Some(key.clone())
            }
            UserEdit::Delete(_, key) => {
                self.rows.remove(&id_of(key)?)?;
                self.record(key.clone());
                Some(key.clone())
            }
        }
    }
}

impl MemoryConnector {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("memory connector poisoned")
    }

    /// Creates a table with a generated integer key `id` and the given nullable-or-not columns.
    pub fn create_table(&self, name: &str, columns: &[(&str, ColumnType, bool)]) -> TableRef {
        let table = TableRef::new(None, name);
        let mut infos = vec![ColumnInfo {
            name: "id".into(),
            ty: ColumnType::Int {
                bits: 64,
                unsigned: false,
            },
            nullable: false,
            has_default: true,
            db_type: "bigint".into(),
            writable: true,
        }];
        infos.extend(columns.iter().map(|(name, ty, nullable)| ColumnInfo {
            name: (*name).into(),
            ty: ty.clone(),
            nullable: *nullable,
            has_default: false,
            db_type: ty.name(),
            writable: true,
        }));
        let schema = TableSchema {
            table: table.clone(),
            columns: infos,
            key: "id".into(),
            key_generation: KeyGeneration::AutoIncrement,
            log_name: format!("log_{name}"),
            foreign_keys: Vec::new(),
        };
        self.lock().tables.insert(
            table.clone(),
            MemTable {
                schema,
                rows: BTreeMap::new(),
                next_id: 0,
                logs: BTreeMap::new(),
                next_seq: 0,
                reject: None,
            },
        );
        table
    }

    fn with_table<T>(&self, table: &TableRef, f: impl FnOnce(&mut MemTable) -> T) -> T {
        let mut inner = self.lock();
        f(inner.tables.get_mut(table).expect("table exists"))
    }

    pub fn user_insert(&self, table: &TableRef, row: Row) -> Key {
        self.with_table(table, |t| {
            t.apply_user(&UserEdit::Insert(table.clone(), row))
        })
        .expect("insert")
    }

    pub fn user_update(&self, table: &TableRef, key: &Key, changes: Row) -> bool {
        self.with_table(table, |t| {
            t.apply_user(&UserEdit::Update(table.clone(), key.clone(), changes))
                .is_some()
        })
    }

    pub fn user_delete(&self, table: &TableRef, key: &Key) -> bool {
        self.with_table(table, |t| {
            t.apply_user(&UserEdit::Delete(table.clone(), key.clone()))
                .is_some()
        })
    }

    /// All rows, by key.
    pub fn rows(&self, table: &TableRef) -> BTreeMap<Key, Row> {
        self.with_table(table, |t| {
            t.rows
                .iter()
                .map(|(id, row)| (key_of(*id), row.clone()))
                .collect()
        })
    }

    /// `column` of `table` references the key of `references` (a foreign key).
    pub fn add_foreign_key(&self, table: &TableRef, column: &str, references: &TableRef) {
        self.with_table(table, |t| {
            t.schema.foreign_keys.push(ForeignKey {
                column: column.to_owned(),
                references: references.clone(),
                referenced_column: None,
            })
        });
    }

    pub fn reject_when(&self, table: &TableRef, rule: RejectRule) {
        self.with_table(table, |t| t.reject = Some(rule));
    }

    pub fn clear_reject(&self, table: &TableRef) {
        self.with_table(table, |t| t.reject = None);
    }

    /// The `n`-th `write` call from now (1 = the next) applies its work but answers with a
    /// retryable error, as if the process died right after committing.
    pub fn lose_ack_of_write(&self, n: usize) {
        let mut inner = self.lock();
        let at = inner.writes + n;
        inner.lost_acks.push(at);
    }

    /// These edits are committed by someone else right after the engine's next `write`, while
    /// the run is still in progress.
    pub fn edit_during_next_write(&self, edits: Vec<UserEdit>) {
        self.lock().concurrent_edits.extend(edits);
    }

    /// Number of change-log entries not yet consumed.
    pub fn pending_changes(&self, table: &TableRef) -> usize {
        self.with_table(table, |t| t.logs.values().map(BTreeMap::len).sum())
    }
}

/// A reference in `row` to a row that does not exist.
fn dangling(
    tables: &BTreeMap<TableRef, MemTable>,
    schema: &TableSchema,
    row: &Row,
) -> Option<String> {
    schema.foreign_keys.iter().find_map(|fk| {
        let value = row.get(&fk.column).filter(|v| !v.is_null())?;
        let id = value.to_invariant_text().parse::<u64>().ok();
        let exists = id.is_some_and(|id| tables[&fk.references].rows.contains_key(&id));
        (!exists).then(|| {
            format!(
                "foreign key violation: {}.{} = {} is not a key of {}",
                schema.table,
                fk.column,
                value.to_invariant_text(),
                fk.references
            )
        })
    })
}

/// A row of another table (or this one) that references the row `key` of `table`.
fn referenced(
    tables: &BTreeMap<TableRef, MemTable>,
    table: &TableRef,
    key: &Key,
) -> Option<String> {
    tables.values().find_map(|t| {
        t.schema
            .foreign_keys
            .iter()
            .filter(|fk| &fk.references == table)
            .find_map(|fk| {
                // A row referencing itself goes with itself.
                let itself = |id: &u64| &t.schema.table == table && key_of(*id) == *key;
                let (id, _) = t.rows.iter().find(|(id, row)| {
                    !itself(id)
                        && row
                            .get(&fk.column)
                            .is_some_and(|v| !v.is_null() && v.to_invariant_text() == key.0)
                })?;
                Some(format!(
                    "foreign key violation: {} {key} is still referenced by {}.{} of row {id}",
                    table, t.schema.table, fk.column
                ))
            })
    })
}

fn check_required(schema: &TableSchema, row: &Row) -> Option<String> {
    schema
        .required_columns()
        .find(|c| row.get(&c.name).is_none_or(Value::is_null))
        .map(|c| format!("column {} is required (NOT NULL without a default)", c.name))
}

#[async_trait]
impl Connector for MemoryConnector {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn list_tables(&self) -> Result<Vec<TableRef>> {
        Ok(self.lock().tables.keys().cloned().collect())
    }

    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        self.lock()
            .tables
            .get(table)
            .map(|t| t.schema.clone())
            .ok_or_else(|| ConnectorError::Requirement(format!("table {table} does not exist")))
    }

    async fn tracking_installed(&self, table: &TableSchema) -> Result<bool> {
        Ok(self.with_table(&table.table, |t| t.logs.contains_key(&table.log_name)))
    }

    async fn install_tracking(&self, table: &TableSchema) -> Result<()> {
        self.with_table(&table.table, |t| {
            t.logs.entry(table.log_name.clone()).or_default();
        });
        Ok(())
    }

    async fn remove_tracking(&self, table: &TableSchema) -> Result<()> {
        self.with_table(&table.table, |t| t.logs.remove(&table.log_name));
        Ok(())
    }

    async fn read_changes(
        &self,
        table: &TableSchema,
        after: i64,
        limit: usize,
    ) -> Result<Vec<TrackedChange>> {
        Ok(self.with_table(&table.table, |t| {
            t.logs.get(&table.log_name).map_or_else(Vec::new, |log| {
                log.range(after + 1..)
                    .take(limit)
                    .map(|(seq, key)| TrackedChange {
                        seq: *seq,
                        key: key.clone(),
                    })
                    .collect()
            })
        }))
    }

    async fn consume_changes(&self, table: &TableSchema, seqs: &[i64]) -> Result<()> {
        self.with_table(&table.table, |t| {
            if let Some(log) = t.log_mut(&table.log_name) {
                for seq in seqs {
                    log.remove(seq);
                }
            }
        });
        Ok(())
    }

    async fn requeue(&self, table: &TableSchema, keys: &[Key]) -> Result<()> {
        self.with_table(&table.table, |t| {
            for key in keys {
                t.next_seq += 1;
                let seq = t.next_seq;
                if let Some(log) = t.log_mut(&table.log_name) {
                    log.insert(seq, key.clone());
                }
            }
        });
        Ok(())
    }

    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        let from = after.and_then(id_of).map_or(0, |id| id + 1);
        Ok(self.with_table(&table.table, |t| {
            t.rows
                .range(from..)
                .take(limit)
                .map(|(id, row)| (key_of(*id), row.clone()))
                .collect()
        }))
    }

    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        let from = after.and_then(id_of).map_or(0, |id| id + 1);
        Ok(self.with_table(&table.table, |t| {
            t.rows
                .range(from..)
                .take(limit)
                .map(|(id, _)| key_of(*id))
                .collect()
        }))
    }

    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        Ok(self.with_table(&table.table, |t| {
            keys.iter()
                .filter(|k| id_of(k).is_some_and(|id| t.rows.contains_key(&id)))
                .cloned()
                .collect()
        }))
    }

    async fn estimate_rows(&self, table: &TableSchema) -> Result<Option<u64>> {
        Ok(Some(self.with_table(&table.table, |t| t.rows.len() as u64)))
    }

    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>> {
        Ok(self.with_table(&table.table, |t| {
            keys.iter()
                .filter_map(|k| Some((k.clone(), t.rows.get(&id_of(k)?)?.clone())))
                .collect()
        }))
    }

    async fn write(
        &self,
        table: &TableSchema,
        journal: &str,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<WriteOutcome>> {
        let mut inner = self.lock();
        inner.writes += 1;
        let call = inner.writes;
        let edits = std::mem::take(&mut inner.concurrent_edits);
        let Inner {
            tables, journals, ..
        } = &mut *inner;
        let journal = journals.entry(journal.to_owned()).or_default();
        let mut outcomes = Vec::with_capacity(ops.len());
        for op in ops {
            let refused = {
                let t = &tables[&table.table];
                match &op {
                    WriteOp::Insert { row, .. } => check_required(&t.schema, row)
                        .or_else(|| t.reject.as_ref().and_then(|r| r(row)))
                        .or_else(|| dangling(tables, &t.schema, row)),
                    // An update of a row that is gone changes nothing (`Missing` below).
                    WriteOp::Update { key, .. }
                        if id_of(key).is_none_or(|id| !t.rows.contains_key(&id)) =>
                    {
                        None
                    }
                    WriteOp::Update { row, .. } => t
                        .reject
                        .as_ref()
                        .and_then(|r| r(row))
                        .or_else(|| dangling(tables, &t.schema, row)),
                    WriteOp::Delete { key } => referenced(tables, &table.table, key),
                }
            };
            if let Some(message) = refused {
                outcomes.push(WriteOutcome::Failed(message));
                continue;
            }
            let t = tables.get_mut(&table.table).expect("table exists");
            outcomes.push(match op {
                WriteOp::Insert { origin, mut row } => {
                    t.next_id += 1;
                    row.insert(t.schema.key.clone(), Value::Int(t.next_id as i64));
                    t.rows.insert(t.next_id, row);
                    journal.insert(origin, key_of(t.next_id));
                    WriteOutcome::Inserted(key_of(t.next_id))
                }
                WriteOp::Update { key, row } => {
                    match id_of(&key).and_then(|id| t.rows.get_mut(&id)) {
                        Some(existing) => {
                            existing.extend(row);
                            WriteOutcome::Updated
                        }
                        None => WriteOutcome::Missing,
                    }
                }
                WriteOp::Delete { key } => match id_of(&key).and_then(|id| t.rows.remove(&id)) {
                    Some(_) => WriteOutcome::Deleted,
                    None => WriteOutcome::Missing,
                },
            });
        }
        // Someone else commits right after the engine's batch, while the run goes on.
        for edit in &edits {
            let (UserEdit::Insert(t, _) | UserEdit::Update(t, _, _) | UserEdit::Delete(t, _)) =
                edit;
            tables.get_mut(t).expect("table exists").apply_user(edit);
        }
        if inner.lost_acks.contains(&call) {
            return Err(ConnectorError::connection(
                "connection lost after commit",
                true,
            ));
        }
        Ok(outcomes)
    }

    async fn read_journal(&self, journal: &str) -> Result<Vec<(Key, Key)>> {
        Ok(self
            .lock()
            .journals
            .get(journal)
            .map_or_else(Vec::new, |j| {
                j.iter().map(|(a, b)| (a.clone(), b.clone())).collect()
            }))
    }

    async fn clear_journal(&self, journal: &str) -> Result<()> {
        self.lock().journals.remove(journal);
        Ok(())
    }
}
