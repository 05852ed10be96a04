//! Where a run's time goes: a connector and a state store that pass every call through and
//! add up how long the calls took, by stage. The engine overlaps reading the next page with
//! writing the last one, so the stages may add up to more than the run took; what the run
//! took beyond the calls it waited on is the engine's own work (mapping, bookkeeping).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use engine::connectors::{
    Connector, Key, Result, Row, TableSchema, TrackedChange, WriteOp, WriteOutcome,
};
use engine::package::TableRef;
use engine::sync::{Side, StateStore, TaskState};
use engine::value::Value;
use uuid::Uuid;

/// Time spent per stage, in nanoseconds.
#[derive(Default)]
pub struct Stages {
    reads: AtomicU64,
    writes: AtomicU64,
    state: AtomicU64,
    other: AtomicU64,
}

impl Stages {
    async fn time<T>(counter: &AtomicU64, call: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = call.await;
        counter.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }

    /// "reads 1.20 s (1.2 µs/row) · writes … · ID map and state … · tracking and schema …".
    pub fn report(&self, rows: u64) -> String {
        let part = |name: &str, c: &AtomicU64| {
            let t = Duration::from_nanos(c.load(Ordering::Relaxed));
            format!(
                "{name} {:.2} s ({:.1} µs/row)",
                t.as_secs_f64(),
                t.as_secs_f64() * 1e6 / rows.max(1) as f64
            )
        };
        [
            part("reads", &self.reads),
            part("writes", &self.writes),
            part("ID map and state", &self.state),
            part("tracking and schema", &self.other),
        ]
        .join(" · ")
    }
}

/// A connector whose calls are timed: reads, writes (with the journal and the change log),
/// and the rest.
pub struct TimedConnector<'a> {
    pub inner: &'a dyn Connector,
    pub stages: Arc<Stages>,
}

#[async_trait]
impl Connector for TimedConnector<'_> {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    fn api_calls(&self) -> u64 {
        self.inner.api_calls()
    }
    fn copy_batches(&self) -> usize {
        self.inner.copy_batches()
    }
    async fn list_tables(&self) -> Result<Vec<TableRef>> {
        Stages::time(&self.stages.other, self.inner.list_tables()).await
    }
    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        Stages::time(&self.stages.other, self.inner.describe(table)).await
    }
    async fn describe_for_lookup(&self, table: &TableRef) -> Result<TableSchema> {
        Stages::time(&self.stages.other, self.inner.describe_for_lookup(table)).await
    }
    async fn tracking_installed(&self, table: &TableSchema) -> Result<bool> {
        Stages::time(&self.stages.other, self.inner.tracking_installed(table)).await
    }
    async fn install_tracking(&self, table: &TableSchema) -> Result<()> {
        Stages::time(&self.stages.other, self.inner.install_tracking(table)).await
    }
    async fn remove_tracking(&self, table: &TableSchema) -> Result<()> {
        Stages::time(&self.stages.other, self.inner.remove_tracking(table)).await
    }
    async fn read_changes(
        &self,
        table: &TableSchema,
        after: i64,
        limit: usize,
    ) -> Result<Vec<TrackedChange>> {
        Stages::time(
            &self.stages.reads,
            self.inner.read_changes(table, after, limit),
        )
        .await
    }
    async fn consume_changes(&self, table: &TableSchema, seqs: &[i64]) -> Result<()> {
        Stages::time(&self.stages.writes, self.inner.consume_changes(table, seqs)).await
    }
    async fn requeue(&self, table: &TableSchema, keys: &[Key]) -> Result<()> {
        Stages::time(&self.stages.writes, self.inner.requeue(table, keys)).await
    }
    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        Stages::time(&self.stages.reads, self.inner.scan(table, after, limit)).await
    }
    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        Stages::time(
            &self.stages.reads,
            self.inner.scan_keys(table, after, limit),
        )
        .await
    }
    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>> {
        Stages::time(&self.stages.reads, self.inner.fetch(table, keys)).await
    }
    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        Stages::time(&self.stages.reads, self.inner.existing(table, keys)).await
    }
    async fn estimate_rows(&self, table: &TableSchema) -> Result<Option<u64>> {
        Stages::time(&self.stages.other, self.inner.estimate_rows(table)).await
    }
    async fn find(
        &self,
        table: &TableSchema,
        columns: &[String],
        tuples: &[Vec<Value>],
    ) -> Result<Vec<(usize, Row)>> {
        Stages::time(&self.stages.reads, self.inner.find(table, columns, tuples)).await
    }
    fn finds_by_scanning(&self) -> bool {
        self.inner.finds_by_scanning()
    }
    async fn write(
        &self,
        table: &TableSchema,
        journal: &str,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<WriteOutcome>> {
        Stages::time(&self.stages.writes, self.inner.write(table, journal, ops)).await
    }
    async fn read_journal(&self, journal: &str) -> Result<Vec<(Key, Key)>> {
        Stages::time(&self.stages.writes, self.inner.read_journal(journal)).await
    }
    async fn clear_journal(&self, journal: &str) -> Result<()> {
        Stages::time(&self.stages.writes, self.inner.clear_journal(journal)).await
    }
}

/// A state store whose calls are timed as one stage.
pub struct TimedState<S> {
    pub inner: S,
    pub stages: Arc<Stages>,
}

type StateResult<T> = std::result::Result<T, engine::sync::StateError>;

#[async_trait]
impl<S: StateStore> StateStore for TimedState<S> {
    async fn counterparts(
        &self,
        task: Uuid,
        of: Side,
        keys: &[Key],
    ) -> StateResult<HashMap<Key, Key>> {
        Stages::time(&self.stages.state, self.inner.counterparts(task, of, keys)).await
    }
    async fn add_pairs(&self, task: Uuid, pairs: &[(Key, Key)]) -> StateResult<()> {
        Stages::time(&self.stages.state, self.inner.add_pairs(task, pairs)).await
    }
    async fn add_new_pairs(&self, task: Uuid, pairs: &[(Key, Key)]) -> StateResult<()> {
        Stages::time(&self.stages.state, self.inner.add_new_pairs(task, pairs)).await
    }
    async fn remove_pairs(&self, task: Uuid, of: Side, keys: &[Key]) -> StateResult<()> {
        Stages::time(&self.stages.state, self.inner.remove_pairs(task, of, keys)).await
    }
    async fn load(&self, task: Uuid) -> StateResult<TaskState> {
        Stages::time(&self.stages.state, self.inner.load(task)).await
    }
    async fn save(&self, task: Uuid, state: &TaskState) -> StateResult<()> {
        Stages::time(&self.stages.state, self.inner.save(task, state)).await
    }
    async fn hold(&self, task: Uuid, side: Side, keys: &[Key]) -> StateResult<()> {
        Stages::time(&self.stages.state, self.inner.hold(task, side, keys)).await
    }
    async fn held(&self, task: Uuid, side: Side, keys: &[Key]) -> StateResult<HashSet<Key>> {
        Stages::time(&self.stages.state, self.inner.held(task, side, keys)).await
    }
    async fn release_held(&self, task: Uuid) -> StateResult<()> {
        Stages::time(&self.stages.state, self.inner.release_held(task)).await
    }
    async fn knows_records(&self, task: Uuid) -> StateResult<bool> {
        Stages::time(&self.stages.state, self.inner.knows_records(task)).await
    }
}
