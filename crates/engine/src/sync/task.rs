//! One run of one task. See the module documentation of `sync` for the design.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use super::pending::{Pending, PendingEntry, Reference};
use super::state::{FullPass, Side, StateStore, TaskState};
use super::summary::{RecordError, TaskSummary};
use super::{CancelToken, SyncError, SyncOptions};
use crate::connectors::{Connector, Key, Row, TableSchema, TrackedChange, WriteOp, WriteOutcome};
use crate::mapping::lookup::LookupResults;
use crate::mapping::relation::{Link, Mapped, Translations, key_text};
use crate::mapping::{CompiledMapping, Resolved};
use crate::package::Direction;

/// Everything a task run needs, resolved and checked beforehand.
pub struct TaskPlan<'a> {
    pub id: Uuid,
    /// `source → target`, for summaries and errors.
    pub label: String,
    pub source: &'a dyn Connector,
    pub target: &'a dyn Connector,
    pub source_schema: TableSchema,
    pub target_schema: TableSchema,
    pub source_to_target: CompiledMapping,
    pub target_to_source: CompiledMapping,
    /// First-run matching, when the task names match keys.
    pub matching: Option<super::matching::Matching>,
}

/// One direction of a task: reads `from`, writes `to`.
#[derive(Clone, Copy)]
pub(super) struct Flow<'a> {
    plan: &'a TaskPlan<'a>,
    direction: Direction,
    /// The plan's schemas with this task's change-log names (`super::log_name`).
    source_schema: &'a TableSchema,
    target_schema: &'a TableSchema,
}

impl<'a> Flow<'a> {
    fn forward(&self) -> bool {
        self.direction == Direction::SourceToTarget
    }
    fn reader(&self) -> &'a dyn Connector {
        if self.forward() {
            self.plan.source
        } else {
            self.plan.target
        }
    }
    fn writer(&self) -> &'a dyn Connector {
        if self.forward() {
            self.plan.target
        } else {
            self.plan.source
        }
    }
    fn read_schema(&self) -> &'a TableSchema {
        if self.forward() {
            self.source_schema
        } else {
            self.target_schema
        }
    }
    fn write_schema(&self) -> &'a TableSchema {
        if self.forward() {
            self.target_schema
        } else {
            self.source_schema
        }
    }
    fn mapping(&self) -> &'a CompiledMapping {
        if self.forward() {
            &self.plan.source_to_target
        } else {
            &self.plan.target_to_source
        }
    }
    fn read_side(&self) -> Side {
        if self.forward() {
            Side::Source
        } else {
            Side::Target
        }
    }
    fn write_side(&self) -> Side {
        if self.forward() {
            Side::Target
        } else {
            Side::Source
        }
    }
    fn index(&self) -> usize {
        if self.forward() { 0 } else { 1 }
    }
    /// Journals are per task and direction: both sides may be one database.
    fn journal(&self) -> String {
        format!("{}:{}", self.plan.id, self.direction.as_str())
    }
    /// Clears this direction's insert journal (its pairs are in the ID map).
    async fn clear_journal(&self) -> Result<(), SyncError> {
        self.writer()
            .clear_journal(&self.journal())
            .await
            .map_err(|e| self.writing_failed(e))
    }
    /// (source key, target key) from (key read, key written).
    fn pair(&self, from_key: Key, to_key: Key) -> (Key, Key) {
        if self.forward() {
            (from_key, to_key)
        } else {
            (to_key, from_key)
        }
    }
    fn reading_failed(&self, source: crate::connectors::ConnectorError) -> SyncError {
        SyncError::Connector {
            side: self.read_side().as_str(),
            source,
        }
    }
    fn writing_failed(&self, source: crate::connectors::ConnectorError) -> SyncError {
        SyncError::Connector {
            side: self.write_side().as_str(),
            source,
        }
    }
}

/// Keys with the change-log entries that named them.
type Snapshot = BTreeMap<Key, Vec<i64>>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Insert,
    Update,
    Delete,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// One task's run, kept for the whole package run (its pending records are tried again
/// after every task has run).
pub(super) struct Run<'a> {
    plan: &'a TaskPlan<'a>,
    source_schema: &'a TableSchema,
    target_schema: &'a TableSchema,
    state: &'a dyn StateStore,
    options: &'a SyncOptions,
    cancel: &'a CancelToken,
    pub(super) summary: TaskSummary,
    /// Other tasks' records reference this task's: a refused delete may succeed once they
    /// have been processed.
    referenced: bool,
    /// Per direction (source → target, target → source): records left for later.
    pending: [BTreeMap<Key, PendingEntry>; 2],
    /// Per direction: the highest change-log entry of the read side in the run's snapshot
    /// (entries after it were added during the run).
    log_floor: [i64; 2],
    /// Per direction: what the lookups found so far in this run (`super::lookups`).
    lookups: [Arc<LookupResults>; 2],
    /// During a first run's copy of the source rows: where inserted pairs go to be recorded
    /// alongside the next batch (`super::pair_recorder`).
    pair_sink: Option<super::pair_recorder::PairSink>,
}

/// A task's schemas with the task's own change-log names (`super::log_name`).
pub(super) fn logged_schemas(plan: &TaskPlan<'_>) -> (TableSchema, TableSchema) {
    let mut source_schema = plan.source_schema.clone();
    source_schema.log_name = super::log_name(plan.id, Side::Source);
    let mut target_schema = plan.target_schema.clone();
    target_schema.log_name = super::log_name(plan.id, Side::Target);
    (source_schema, target_schema)
}

/// Runs one task once: installs tracking if needed, finishes any full pass, then moves the
/// changes logged on both sides (a package of one task; see `run_package`).
#[tracing::instrument(skip_all, fields(task = %plan.label), err(Display))]
pub async fn run_task(
    plan: &TaskPlan<'_>,
    state: &dyn StateStore,
    options: &SyncOptions,
    cancel: &CancelToken,
) -> Result<TaskSummary, SyncError> {
    let outcome = super::package_run::run_package(
        std::slice::from_ref(plan),
        &super::RunOrder::in_package_order(1),
        state,
        options,
        cancel,
    )
    .await;
    match outcome.failure {
        Some((_, e)) => Err(e),
        None => Ok(outcome.tasks.into_iter().next().expect("one task ran")),
    }
}

impl<'a> Run<'a> {
    pub(super) fn new(
        plan: &'a TaskPlan<'a>,
        (source_schema, target_schema): (&'a TableSchema, &'a TableSchema),
        state: &'a dyn StateStore,
        options: &'a SyncOptions,
        cancel: &'a CancelToken,
        referenced: bool,
    ) -> Self {
        Run {
            plan,
            source_schema,
            target_schema,
            state,
            options,
            cancel,
            summary: TaskSummary {
                task: plan.label.clone(),
                ..Default::default()
            },
            referenced,
            pending: Default::default(),
            log_floor: [0, 0],
            lookups: Default::default(),
            pair_sink: None,
        }
    }

    /// The task's own work: tracking, recovery, any full pass, then the logged changes of
    /// both sides (source wins).
    pub(super) async fn run_once(&mut self) -> Result<(), SyncError> {
        let plan = self.plan;
        let state = self.state;
        let forward = self.flow(Direction::SourceToTarget);
        let backward = self.flow(Direction::TargetToSource);

        let mut task_state = state.load(plan.id).await?;
        self.ensure_tracking(&mut task_state).await?;
        self.reconcile(forward).await?;
        self.reconcile(backward).await?;

        let source_changes = snapshot(forward).await?;
        let target_changes = snapshot(backward).await?;
        let highest = |s: &Snapshot| s.values().flatten().copied().max().unwrap_or(0);
        self.log_floor = [highest(&source_changes), highest(&target_changes)];
        self.publish_expected(&task_state, source_changes.len() + target_changes.len())
            .await;

        if let Some(pass) = task_state.full_pass.clone() {
            self.full_pass(&mut task_state, pass).await?;
        }
        // Logged changes are applied even after a full pass: a resumed pass did not re-read
        // the rows before its cursor, which may have changed since. Re-applying is
        // idempotent. Target changes to records the source also changed lose: source wins.
        // Looked up from the target's side: memory follows the target's changes, not the
        // source's (a burst of a million source changes loads no million pairs here).
        let target_keys: Vec<Key> = target_changes.keys().cloned().collect();
        let mut overwritten: HashSet<Key> = HashSet::new();
        for chunk in target_keys.chunks(10_000) {
            overwritten.extend(
                state
                    .counterparts(plan.id, Side::Target, chunk)
                    .await?
                    .into_iter()
                    .filter(|(_, source)| source_changes.contains_key(source))
                    .map(|(target, _)| target),
            );
        }
        let (conflicts, target_changes): (Snapshot, Snapshot) = target_changes
            .into_iter()
            .partition(|(key, _)| overwritten.contains(key));
        self.push_changes(forward, source_changes).await?;
        consume(backward, &conflicts).await?;
        self.push_changes(backward, target_changes).await?;

        task_state.last_sync_at = Some(Utc::now());
        state.save(plan.id, &task_state).await?;
        Ok(())
    }

    /// Publishes about how many records this run of the task reads: the logged changes,
    /// plus both tables' sizes when a full pass is due. An estimate the connectors cannot
    /// give is left out; none is an error.
    async fn publish_expected(&mut self, task_state: &super::state::TaskState, changes: usize) {
        let mut expected = changes as u64;
        if task_state.full_pass.is_some() {
            let sides = [
                (self.plan.source, self.source_schema),
                (self.plan.target, self.target_schema),
            ];
            for (connector, schema) in sides {
                match connector.estimate_rows(schema).await {
                    Ok(Some(rows)) => expected += rows,
                    Ok(None) => {}
                    Err(e) => tracing::debug!(error = %e, "no row estimate"),
                }
            }
        }
        self.summary.expected = Some(expected);
        self.options.progress.publish(&self.summary);
    }

    /// Tries this direction's pending records again; the number no longer pending.
    pub(super) async fn settle(&mut self, direction: Direction) -> Result<usize, SyncError> {
        let flow = self.flow(direction);
        let pending = std::mem::take(&mut self.pending[flow.index()]);
        let mut settled = 0;
        let entries: Vec<(Key, PendingEntry)> = pending.into_iter().collect();
        for chunk in entries.chunks(self.options.batch_size.max(1)) {
            self.check_cancel()?;
            let logged: Vec<(Key, Vec<i64>)> = chunk
                .iter()
                .map(|(k, e)| (k.clone(), e.seqs.clone()))
                .collect();
            self.apply_logged(flow, logged, true).await?;
            for (key, entry) in chunk {
                if !self.pending[flow.index()].contains_key(key) {
                    settled += 1;
                    if matches!(entry.why, Pending::Reference(_)) {
                        self.summary.counts_mut(direction).second_pass += 1;
                    }
                }
            }
        }
        self.options.progress.publish(&self.summary);
        Ok(settled)
    }

    /// Whether any record of this task is pending.
    pub(super) fn has_pending(&self) -> bool {
        self.pending.iter().any(|p| !p.is_empty())
    }

    /// Reports the records still pending at the end of the run (they stay in their change
    /// logs for the next run). A target's delete the source refuses because source records
    /// still reference the record is undone instead: the source wins, and the record is
    /// copied to the target again by the next run.
    pub(super) async fn report_pending(&mut self) -> Result<(), SyncError> {
        for direction in [Direction::SourceToTarget, Direction::TargetToSource] {
            let flow = self.flow(direction);
            let pending = std::mem::take(&mut self.pending[flow.index()]);
            let mut undone = Vec::new();
            for (key, entry) in pending {
                let counts = self.summary.counts_mut(direction);
                let mut message = entry.why.message(flow.write_side().as_str());
                match &entry.why {
                    Pending::Delete { .. } if direction == Direction::TargetToSource => {
                        message = format!(
                            "{message}. The source still references this record, and the source wins: \
                             it is copied to the target again"
                        );
                        undone.push(key.clone());
                    }
                    Pending::Delete { .. } => counts.failed += 1,
                    Pending::Waiting(_) | Pending::Reference(_) => counts.waiting += 1,
                }
                self.summary.errors.push(RecordError {
                    task: self.plan.label.clone(),
                    direction,
                    side: flow.write_side().as_str(),
                    key: key.0,
                    operation: entry.why.operation(),
                    message,
                });
            }
            if !undone.is_empty() {
                let sources: Vec<Key> = self
                    .state
                    .counterparts(self.plan.id, Side::Target, &undone)
                    .await?
                    .into_values()
                    .collect();
                self.state
                    .remove_pairs(self.plan.id, Side::Target, &undone)
                    .await?;
                let forward = self.flow(Direction::SourceToTarget);
                forward
                    .reader()
                    .requeue(forward.read_schema(), &sources)
                    .await
                    .map_err(|e| forward.reading_failed(e))?;
            }
        }
        self.options.progress.publish(&self.summary);
        Ok(())
    }
}

/// Every change-log entry visible now, grouped by key.
async fn snapshot(flow: Flow<'_>) -> Result<Snapshot, SyncError> {
    let mut changes = Snapshot::new();
    for_each_change(flow, 0, |change| {
        changes.entry(change.key).or_default().push(change.seq);
    })
    .await?;
    Ok(changes)
}

/// Hands each of the read side's change-log entries after `after` to `each`, page by page.
async fn for_each_change(
    flow: Flow<'_>,
    mut after: i64,
    mut each: impl FnMut(TrackedChange),
) -> Result<(), SyncError> {
    const PAGE: usize = 10_000;
    loop {
        let page = flow
            .reader()
            .read_changes(flow.read_schema(), after, PAGE)
            .await
            .map_err(|e| flow.reading_failed(e))?;
        let full = page.len() == PAGE;
        for change in page {
            after = after.max(change.seq);
            each(change);
        }
        if !full {
            return Ok(());
        }
    }
}

async fn consume(flow: Flow<'_>, changes: &Snapshot) -> Result<(), SyncError> {
    let seqs: Vec<i64> = changes.values().flatten().copied().collect();
    for chunk in seqs.chunks(10_000) {
        flow.reader()
            .consume_changes(flow.read_schema(), chunk)
            .await
            .map_err(|e| flow.reading_failed(e))?;
    }
    Ok(())
}

/// A page of the read side's rows, in key order, after `after`.
async fn scan_rows(
    flow: Flow<'_>,
    after: Option<Key>,
    limit: usize,
) -> Result<Vec<(Key, Row)>, SyncError> {
    flow.reader()
        .scan(flow.read_schema(), after.as_ref(), limit)
        .await
        .map_err(|e| flow.reading_failed(e))
}

/// A batch of logged keys with what `Run::apply_gathered` reads before it maps: the keys'
/// current rows (none: deleted), their counterparts, and those matching held back.
struct Gathered {
    chunk: Vec<(Key, Vec<i64>)>,
    rows: HashMap<Key, Row>,
    counterparts: HashMap<Key, Key>,
    held: HashSet<Key>,
}

async fn gather(
    flow: Flow<'_>,
    state: &dyn StateStore,
    chunk: Vec<(Key, Vec<i64>)>,
) -> Result<Gathered, SyncError> {
    let keys: Vec<Key> = chunk.iter().map(|(k, _)| k.clone()).collect();
    let rows: HashMap<Key, Row> = flow
        .reader()
        .fetch(flow.read_schema(), &keys)
        .await
        .map_err(|e| flow.reading_failed(e))?
        .into_iter()
        .collect();
    let counterparts = state
        .counterparts(flow.plan.id, flow.read_side(), &keys)
        .await?;
    let unpaired: Vec<Key> = keys
        .into_iter()
        .filter(|k| !counterparts.contains_key(k) && rows.contains_key(k))
        .collect();
    let held = held_back(flow.plan, state, flow.read_side(), &unpaired).await?;
    Ok(Gathered {
        chunk,
        rows,
        counterparts,
        held,
    })
}

/// Which of these keys of `plan`'s task matching held back (none when it does not match).
async fn held_back(
    plan: &TaskPlan<'_>,
    state: &dyn StateStore,
    side: Side,
    keys: &[Key],
) -> Result<HashSet<Key>, SyncError> {
    if plan.matching.is_none() || keys.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(state.held(plan.id, side, keys).await?)
}

/// Consumes these entries of the read side's change log (none: nothing to do).
async fn consume_seqs(flow: Flow<'_>, seqs: &[i64]) -> Result<(), SyncError> {
    if seqs.is_empty() {
        return Ok(());
    }
    flow.reader()
        .consume_changes(flow.read_schema(), seqs)
        .await
        .map_err(|e| flow.reading_failed(e))
}

/// A reference left for later in the run, and the columns written without it.
type Later = (Pending, Vec<String>);

/// A record to bring to the other side: its key, its current row (None: deleted), and its
/// counterpart (None: not mapped).
type Item = (Key, Option<Row>, Option<Key>);

/// A batch mapped and ready to write (`Run::prepare_batch`).
struct PreparedBatch {
    ops: Vec<WriteOp>,
    /// Per write: the record, its operation, an update's row (sent again as an insert if the
    /// copy is gone), and a reference left for later.
    meta: Vec<(Key, Op, Option<Row>, Option<Later>)>,
    /// Records that could not be written: back into the change log once the batch is done.
    retry: Vec<Key>,
    /// Records left pending before writing.
    newly: Vec<Key>,
}

/// Makes a batch's writes on the write side (nothing to do for none).
async fn write_ops(flow: Flow<'_>, ops: Vec<WriteOp>) -> Result<Vec<WriteOutcome>, SyncError> {
    if ops.is_empty() {
        return Ok(Vec::new());
    }
    flow.writer()
        .write(flow.write_schema(), &flow.journal(), ops)
        .await
        .map_err(|e| flow.writing_failed(e))
}

impl<'a> Run<'a> {
    fn flow(&self, direction: Direction) -> Flow<'a> {
        Flow {
            plan: self.plan,
            direction,
            source_schema: self.source_schema,
            target_schema: self.target_schema,
        }
    }

    fn check_cancel(&self) -> Result<(), SyncError> {
        if self.cancel.is_canceled() {
            Err(SyncError::Canceled)
        } else {
            Ok(())
        }
    }

    async fn ensure_tracking(&mut self, task_state: &mut TaskState) -> Result<(), SyncError> {
        let forward = self.flow(Direction::SourceToTarget);
        let backward = self.flow(Direction::TargetToSource);
        let mut missing = false;
        for flow in [forward, backward] {
            missing |= !flow
                .reader()
                .tracking_installed(flow.read_schema())
                .await
                .map_err(|e| flow.reading_failed(e))?;
        }
        if task_state.tracking_installed && !missing {
            return Ok(());
        }
        if task_state.tracking_installed {
            // Someone removed a change log: changes may have gone unrecorded. Re-check all.
            tracing::warn!("change tracking was missing; running a full pass");
            task_state.full_pass.get_or_insert_with(FullPass::start);
        }
        for flow in [forward, backward] {
            flow.reader()
                .install_tracking(flow.read_schema())
                .await
                .map_err(|e| flow.reading_failed(e))?;
        }
        task_state.tracking_installed = true;
        self.state.save(self.plan.id, task_state).await?;
        Ok(())
    }

    /// At the start of a run: moves pairs journaled by a run that died before recording them
    /// into the ID map, so their copies are known and never inserted twice.
    async fn reconcile(&self, flow: Flow<'_>) -> Result<(), SyncError> {
        let entries = flow
            .writer()
            .read_journal(&flow.journal())
            .await
            .map_err(|e| flow.writing_failed(e))?;
        // An origin journaled twice (copied, then re-created after the copy was deleted):
        // the later copy is the live one.
        let latest: HashMap<Key, Key> = entries.into_iter().collect();
        self.record_inserts(flow, latest.into_iter().collect())
            .await
    }

    /// Puts the pairs of rows this run inserted into the ID map, then clears their journal
    /// entries (kept only for a crash in between; see `reconcile`).
    async fn record_inserts(
        &self,
        flow: Flow<'_>,
        inserted: Vec<(Key, Key)>,
    ) -> Result<(), SyncError> {
        if inserted.is_empty() {
            return Ok(());
        }
        let pairs: Vec<(Key, Key)> = inserted
            .into_iter()
            .map(|(origin, new)| flow.pair(origin, new))
            .collect();
        if let Some(sink) = &self.pair_sink
            && flow.direction == Direction::SourceToTarget
        {
            // Recorded alongside the next batch; the journal keeps them until then.
            return sink.record(pairs).await;
        }
        self.state.add_pairs(self.plan.id, &pairs).await?;
        flow.clear_journal().await
    }

    /// Brings a snapshot's logged keys to the other side, a batch at a time. Each batch's
    /// reads (its rows, counterparts and held records: `gather`) are made while the batch
    /// before it is written, and its change-log entries consumed while the batch after it
    /// is: a batch's writes change nothing those reads see (the keys of a snapshot are
    /// distinct, and only the write side is written), and an entry consumed late is at
    /// worst applied again, which is idempotent.
    async fn push_changes(&mut self, flow: Flow<'_>, changes: Snapshot) -> Result<(), SyncError> {
        let entries: Vec<(Key, Vec<i64>)> = changes.into_iter().collect();
        let mut chunks = entries.chunks(self.options.batch_size.max(1));
        let state = self.state;
        let Some(first) = chunks.next() else {
            return Ok(());
        };
        let mut gathered = gather(flow, state, first.to_vec()).await?;
        let mut consumed: Vec<i64> = Vec::new();
        loop {
            self.check_cancel()?;
            let next = chunks.next();
            let consuming = std::mem::take(&mut consumed);
            let (applied, next, consumed_before) = tokio::join!(
                self.apply_gathered(flow, gathered, false),
                async {
                    match next {
                        Some(chunk) => gather(flow, state, chunk.to_vec()).await.map(Some),
                        None => Ok(None),
                    }
                },
                consume_seqs(flow, &consuming)
            );
            consumed_before?;
            consumed = applied?;
            match next? {
                Some(next) => gathered = next,
                None => break,
            }
        }
        consume_seqs(flow, &consumed).await
    }

    /// Brings logged keys to the other side from their current state. The change-log
    /// entries of records left pending stay in the log with them; the others are consumed.
    async fn apply_logged(
        &mut self,
        flow: Flow<'_>,
        chunk: Vec<(Key, Vec<i64>)>,
        settling: bool,
    ) -> Result<(), SyncError> {
        let gathered = gather(flow, self.state, chunk).await?;
        let seqs = self.apply_gathered(flow, gathered, settling).await?;
        consume_seqs(flow, &seqs).await
    }

    /// `apply_logged` once its reads are made; returns the change-log entries to consume.
    async fn apply_gathered(
        &mut self,
        flow: Flow<'_>,
        gathered: Gathered,
        settling: bool,
    ) -> Result<Vec<i64>, SyncError> {
        let index = flow.index();
        let Gathered {
            chunk,
            mut rows,
            counterparts,
            held,
        } = gathered;
        // A record pending from earlier in the run is processed again, from its current
        // state, with every entry it holds.
        let chunk: Vec<(Key, Vec<i64>)> = chunk
            .into_iter()
            .map(|(key, mut seqs)| {
                if let Some(earlier) = self.pending[index].remove(&key) {
                    seqs.extend(earlier.seqs);
                }
                (key, seqs)
            })
            .collect();
        // A record matching held back is not copied (it would duplicate a record of the
        // other side); it is reported again.
        for key in &held {
            self.summary.counts_mut(flow.direction).held += 1;
            self.summary.errors.push(RecordError {
                task: self.plan.label.clone(),
                direction: flow.direction,
                side: flow.write_side().as_str(),
                key: key.0.clone(),
                operation: "match",
                message: "held back by first-run matching: its match key matches several records; \
                          make the key unique on each side, then reset LastSyncTime"
                    .into(),
            });
        }
        let items = chunk
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !held.contains(*k))
            .map(|k| (k.clone(), rows.remove(k), counterparts.get(k).cloned()))
            .collect();
        self.apply_batch(flow, items, settling).await?;
        let mut seqs: Vec<i64> = Vec::new();
        for (key, key_seqs) in chunk {
            match self.pending[index].get_mut(&key) {
                Some(entry) => entry.seqs.extend(key_seqs),
                None => seqs.extend(key_seqs),
            }
        }
        Ok(seqs)
    }

    fn record_failure(&mut self, flow: Flow<'_>, key: &Key, op: Op, message: String) {
        self.summary.counts_mut(flow.direction).failed += 1;
        self.summary.errors.push(RecordError {
            task: self.plan.label.clone(),
            direction: flow.direction,
            side: flow.write_side().as_str(),
            key: key.0.clone(),
            operation: op.name(),
            message,
        });
    }

    /// Which of these keys matching held back (none when the task does not match).
    async fn held(&self, side: Side, keys: &[Key]) -> Result<HashSet<Key>, SyncError> {
        held_back(self.plan, self.state, side, keys).await
    }

    /// First-run matching at the start of a full pass (see `matching`): pairs records with
    /// equal keys and holds the ambiguous ones.
    async fn match_records(
        &mut self,
        matching: &super::matching::Matching,
    ) -> Result<(), SyncError> {
        let id = self.plan.id;
        self.state.release_held(id).await?;
        let report = super::matching::find_matches(
            self.plan,
            matching,
            self.state,
            self.options.batch_size.max(1),
        )
        .await?;
        for chunk in report.paired.chunks(10_000) {
            self.state.add_pairs(id, chunk).await?;
        }
        self.summary.source_to_target.paired += report.paired.len() as u64;
        for ambiguous in &report.ambiguous {
            self.state.hold(id, Side::Source, &ambiguous.source).await?;
            self.state.hold(id, Side::Target, &ambiguous.target).await?;
            let message = ambiguous.message();
            for (direction, keys) in [
                (Direction::SourceToTarget, &ambiguous.source),
                (Direction::TargetToSource, &ambiguous.target),
            ] {
                let flow = self.flow(direction);
                for key in keys {
                    self.summary.counts_mut(direction).held += 1;
                    self.summary.errors.push(RecordError {
                        task: self.plan.label.clone(),
                        direction,
                        side: flow.write_side().as_str(),
                        key: key.0.clone(),
                        operation: "match",
                        message: message.clone(),
                    });
                }
            }
        }
        self.options.progress.publish(&self.summary);
        Ok(())
    }

    /// Leaves a record for later in the run (see `pending`).
    fn pend(&mut self, flow: Flow<'_>, key: Key, why: Pending, newly: &mut Vec<Key>) {
        self.pending[flow.index()].insert(
            key.clone(),
            PendingEntry {
                why,
                seqs: Vec::new(),
            },
        );
        newly.push(key);
    }

    /// For each task the batch's relations reference, the counterparts of the keys the
    /// batch's rows name: one ID-map lookup per referenced task and batch.
    async fn translations(&self, flow: Flow<'_>, rows: &[Row]) -> Result<Translations, SyncError> {
        let mut wanted: HashMap<Uuid, HashSet<Key>> = HashMap::new();
        for (_, from, link) in flow.mapping().links() {
            let keys = wanted.entry(link.task).or_default();
            keys.extend(
                rows.iter()
                    .filter_map(|row| row.get(from).and_then(key_text)),
            );
        }
        let mut translations = Translations::new();
        for (task, keys) in wanted {
            if keys.is_empty() {
                continue;
            }
            let keys: Vec<Key> = keys.into_iter().collect();
            let found = self
                .state
                .counterparts(task, flow.read_side(), &keys)
                .await?;
            translations.insert(task, found);
        }
        Ok(translations)
    }

    /// The referenced records (task, key) of `unresolved` references that do not exist on
    /// the read side at all: those references can never be translated.
    async fn dangling(
        &self,
        flow: Flow<'_>,
        unresolved: &[(Uuid, Key)],
    ) -> Result<HashSet<(Uuid, Key)>, SyncError> {
        let links: HashMap<Uuid, &Link> = flow
            .mapping()
            .links()
            .map(|(_, _, link)| (link.task, link))
            .collect();
        let mut by_task: HashMap<Uuid, Vec<Key>> = HashMap::new();
        for (task, key) in unresolved {
            by_task.entry(*task).or_default().push(key.clone());
        }
        let mut dangling = HashSet::new();
        for (task, mut keys) in by_task {
            keys.sort();
            keys.dedup();
            let existing: HashSet<Key> = flow
                .reader()
                .existing(&links[&task].parent_read, &keys)
                .await
                .map_err(|e| flow.reading_failed(e))?
                .into_iter()
                .collect();
            dangling.extend(
                keys.into_iter()
                    .filter(|k| !existing.contains(k))
                    .map(|k| (task, k)),
            );
        }
        Ok(dangling)
    }

    /// Writes one batch to `flow.writer()`, records the outcome in the ID map and the summary,
    /// and puts failed records back into the `from` side's change log. References are
    /// translated through their tasks' ID maps; a record whose reference has no counterpart
    /// yet is left pending (not written, or written without the reference when that is
    /// allowed). Returns the keys newly left pending.
    async fn apply_batch(
        &mut self,
        flow: Flow<'_>,
        items: Vec<Item>,
        settling: bool,
    ) -> Result<Vec<Key>, SyncError> {
        let mut batch = self.prepare_batch(flow, items, settling, false).await?;
        let outcomes = write_ops(flow, std::mem::take(&mut batch.ops)).await?;
        self.finish_batch(flow, batch, outcomes).await
    }

    /// The first half of `apply_batch`: translates, looks up and maps the batch's rows into
    /// the writes to make. Records that cannot be written are counted as failed or left
    /// pending here. `beside`: map on a blocking thread, so that the caller can write the
    /// previous batch meanwhile.
    async fn prepare_batch(
        &mut self,
        flow: Flow<'_>,
        items: Vec<Item>,
        settling: bool,
        beside: bool,
    ) -> Result<PreparedBatch, SyncError> {
        let mut ops = Vec::with_capacity(items.len());
        let mut meta: Vec<(Key, Op, Option<Row>, Option<Later>)> = Vec::with_capacity(items.len());
        let mut retry = Vec::new();
        let mut newly = Vec::new();
        // The mapping runs once for the batch's present rows (off the async threads).
        let mut rows = Vec::with_capacity(items.len());
        let items: Vec<(Key, bool, Option<Key>)> = items
            .into_iter()
            .map(|(key, row, counterpart)| {
                let present = row.is_some();
                rows.extend(row);
                (key, present, counterpart)
            })
            .collect();
        let translations = self.translations(flow, &rows).await?;
        let lookups = &mut self.lookups[flow.index()];
        super::lookups::resolve(flow.writer(), flow.mapping(), &rows, Arc::make_mut(lookups))
            .await
            .map_err(|e| flow.writing_failed(e))?;
        let resolved = Resolved {
            translations,
            lookups: Some(lookups.clone()),
        };
        let mapped_rows: Vec<Result<Mapped, String>> = if beside {
            flow.mapping()
                .apply_all_beside(rows, Arc::new(resolved))
                .await
        } else {
            flow.mapping()
                .apply_all_with(rows, Arc::new(resolved))
                .await
        };
        let unresolved: Vec<(Uuid, Key)> = mapped_rows
            .iter()
            .flatten()
            .flat_map(|m| m.unresolved.iter().map(|u| (u.task, u.parent.clone())))
            .collect();
        let dangling = if unresolved.is_empty() {
            HashSet::new()
        } else {
            self.dangling(flow, &unresolved).await?
        };
        let labels: HashMap<Uuid, (String, crate::package::TableRef)> = flow
            .mapping()
            .links()
            .map(|(_, _, l)| (l.task, (l.label.clone(), l.parent_read.table.clone())))
            .collect();
        let reference = |column: &str, task: Uuid, key: &Key| {
            let (label, table) = labels[&task].clone();
            Reference {
                column: column.to_owned(),
                task: label,
                table,
                key: key.clone(),
            }
        };
        let mut mapped_rows = mapped_rows.into_iter();
        for (key, present, counterpart) in items {
            let mapped = if present { mapped_rows.next() } else { None };
            match (mapped, counterpart) {
                (Some(mapped), counterpart) => {
                    let op = if counterpart.is_some() {
                        Op::Update
                    } else {
                        Op::Insert
                    };
                    let Mapped {
                        mut row,
                        unresolved,
                    } = match mapped {
                        Ok(mapped) => mapped,
                        Err(message) => {
                            self.record_failure(flow, &key, op, message);
                            retry.push(key);
                            continue;
                        }
                    };
                    let mut later = None;
                    if let Some(u) = unresolved
                        .iter()
                        .find(|u| dangling.contains(&(u.task, u.parent.clone())))
                    {
                        let r = reference(&u.column, u.task, &u.parent);
                        self.record_failure(
                            flow,
                            &key,
                            op,
                            format!(
                                "{}: references {} record {}, which does not exist there;                                  point it at an existing record or clear it",
                                r.column, r.table, r.key
                            ),
                        );
                        retry.push(key);
                        continue;
                    }
                    if let Some(u) = unresolved.iter().find(|u| !u.deferrable) {
                        let r = reference(&u.column, u.task, &u.parent);
                        self.pend(flow, key, Pending::Waiting(r), &mut newly);
                        continue;
                    }
                    if let Some(u) = unresolved.first() {
                        let r = reference(&u.column, u.task, &u.parent);
                        if settling && counterpart.is_some() {
                            // Written already without it; nothing new to write.
                            self.pend(flow, key, Pending::Reference(r), &mut newly);
                            continue;
                        }
                        if counterpart.is_none() {
                            for u in &unresolved {
                                row.insert(u.column.clone(), crate::value::Value::Null);
                            }
                        }
                        let columns = unresolved.iter().map(|u| u.column.clone()).collect();
                        later = Some((Pending::Reference(r), columns));
                    }
                    // An update keeps its row: if the copy is gone, it is inserted again.
                    // An insert has nothing to redo, so its row is not copied.
                    let (write, kept) = match counterpart {
                        Some(to_key) => (
                            WriteOp::Update {
                                key: to_key,
                                row: row.clone(),
                            },
                            Some(row),
                        ),
                        None => (
                            WriteOp::Insert {
                                origin: key.clone(),
                                row,
                            },
                            None,
                        ),
                    };
                    ops.push(write);
                    meta.push((key, op, kept, later));
                }
                (None, Some(to_key)) => {
                    ops.push(WriteOp::Delete { key: to_key });
                    meta.push((key, Op::Delete, None, None));
                }
                (None, None) => {}
            }
        }
        Ok(PreparedBatch {
            ops,
            meta,
            retry,
            newly,
        })
    }

    /// The second half of `apply_batch`, once the batch's writes are made: counts the
    /// outcomes, updates the ID map, re-creates copies found gone, and puts failed records
    /// back into the read side's change log. Returns the keys newly left pending.
    async fn finish_batch(
        &mut self,
        flow: Flow<'_>,
        batch: PreparedBatch,
        outcomes: Vec<WriteOutcome>,
    ) -> Result<Vec<Key>, SyncError> {
        let PreparedBatch {
            meta,
            mut retry,
            mut newly,
            ..
        } = batch;
        let mut unmap = Vec::new();
        let mut reinsert = Vec::new();
        let mut inserted = Vec::new();
        for ((key, op, mapped, later), outcome) in meta.into_iter().zip(outcomes) {
            let counts = self.summary.counts_mut(flow.direction);
            match outcome {
                WriteOutcome::Inserted(new_key) => {
                    counts.inserted += 1;
                    inserted.push((key.clone(), new_key));
                    if let Some((why, _)) = later {
                        self.pend(flow, key, why, &mut newly);
                    }
                }
                WriteOutcome::Updated => {
                    counts.updated += 1;
                    if let Some((why, _)) = later {
                        self.pend(flow, key, why, &mut newly);
                    }
                }
                WriteOutcome::Deleted => {
                    counts.deleted += 1;
                    unmap.push(key);
                }
                // The copy was deleted on the other side: the read side's state wins.
                WriteOutcome::Missing => {
                    unmap.push(key.clone());
                    if let (Op::Update, Some(mut row)) = (op, mapped) {
                        // An update leaves a reference not yet translatable out; the new copy
                        // starts without it, and it is set later like an insert's.
                        let why = later.map(|(why, columns)| {
                            for column in columns {
                                row.insert(column, crate::value::Value::Null);
                            }
                            why
                        });
                        reinsert.push((WriteOp::Insert { origin: key, row }, why));
                    }
                }
                // Records of other tasks may still reference it: tried again after them.
                WriteOutcome::Failed(message) if op == Op::Delete && self.referenced => {
                    self.pend(flow, key, Pending::Delete { message }, &mut newly);
                }
                WriteOutcome::Failed(message) => {
                    self.record_failure(flow, &key, op, message);
                    retry.push(key);
                }
            }
        }
        if !unmap.is_empty() {
            self.state
                .remove_pairs(self.plan.id, flow.read_side(), &unmap)
                .await?;
        }
        if !reinsert.is_empty() {
            let (reinsert, later): (Vec<WriteOp>, Vec<Option<Pending>>) =
                reinsert.into_iter().unzip();
            let origins: Vec<Key> = reinsert
                .iter()
                .map(|op| match op {
                    WriteOp::Insert { origin, .. } => origin.clone(),
                    _ => unreachable!("only inserts are re-sent"),
                })
                .collect();
            let outcomes = write_ops(flow, reinsert).await?;
            for ((key, outcome), later) in origins.into_iter().zip(outcomes).zip(later) {
                match outcome {
                    WriteOutcome::Inserted(new_key) => {
                        self.summary.counts_mut(flow.direction).inserted += 1;
                        inserted.push((key.clone(), new_key));
                        if let Some(why) = later {
                            self.pend(flow, key, why, &mut newly);
                        }
                    }
                    WriteOutcome::Failed(message) => {
                        self.record_failure(flow, &key, Op::Insert, message);
                        retry.push(key);
                    }
                    _ => {}
                }
            }
        }
        self.record_inserts(flow, inserted).await?;
        if !retry.is_empty() {
            flow.reader()
                .requeue(flow.read_schema(), &retry)
                .await
                .map_err(|e| flow.reading_failed(e))?;
        }
        self.options.progress.publish(&self.summary);
        Ok(newly)
    }

    /// `apply_batch` for rows a full pass found: they have no change-log entries, so records
    /// left pending are put back into the log at once (the pass's cursor moves past them).
    async fn apply_scanned(&mut self, flow: Flow<'_>, items: Vec<Item>) -> Result<(), SyncError> {
        let newly = self.apply_batch(flow, items, false).await?;
        self.requeue_scanned(flow, newly).await
    }

    /// Puts the records a full pass left pending back into the change log (`apply_scanned`).
    async fn requeue_scanned(&mut self, flow: Flow<'_>, newly: Vec<Key>) -> Result<(), SyncError> {
        if newly.is_empty() {
            return Ok(());
        }
        flow.reader()
            .requeue(flow.read_schema(), &newly)
            .await
            .map_err(|e| flow.reading_failed(e))?;
        // The entries just added belong to the pending records: one settled later in the run
        // consumes them, so the next run does not take it for a new change (which would
        // overrule the other side's edit of it as a conflict).
        let wanted: HashSet<Key> = newly.into_iter().collect();
        let index = flow.index();
        let pending = &mut self.pending[index];
        for_each_change(flow, self.log_floor[index], |change| {
            if wanted.contains(&change.key)
                && let Some(entry) = pending.get_mut(&change.key)
                && !entry.seqs.contains(&change.seq)
            {
                entry.seqs.push(change.seq);
            }
        })
        .await
    }

    async fn full_pass(
        &mut self,
        task_state: &mut TaskState,
        mut pass: FullPass,
    ) -> Result<(), SyncError> {
        let forward = self.flow(Direction::SourceToTarget);
        let backward = self.flow(Direction::TargetToSource);
        if pass.direction == Direction::SourceToTarget {
            if pass.after.is_none() {
                // Tracking is installed: any row the target gets from now on is logged.
                pass.reverse = !backward
                    .reader()
                    .scan_keys(self.target_schema, None, 1)
                    .await
                    .map_err(|e| backward.reading_failed(e))?
                    .is_empty();
            }
            if let Some(matching) = &self.plan.matching {
                self.match_records(matching).await?;
            }
            // A pass from the start with no pair and nothing held (a first run) meets only
            // unmapped records: the pairs it adds are of rows behind its cursor, so there is
            // nothing to look up per batch. A resumed pass looks up as usual.
            let fresh = pass.after.is_none() && !self.state.knows_records(self.plan.id).await?;
            // Nor does it need its pairs before it ends, unless its records reference each
            // other: they are recorded alongside the next batch.
            let own_references = forward
                .mapping()
                .links()
                .any(|(_, _, link)| link.task == self.plan.id);
            if fresh && !own_references {
                let (sink, recorder) = super::pair_recorder::start(self.state, self.plan.id);
                self.pair_sink = Some(sink);
                let copied = async {
                    let copied = self
                        .copy_source_rows_overlapped(task_state, &mut pass)
                        .await;
                    // The recorder ends once it has recorded what is queued.
                    self.pair_sink = None;
                    copied
                };
                // Both done: every pair of the pass is in the ID map. A pass that failed still
                // has the pairs of what it wrote recorded (the journal would also bring them
                // in at the next run); a recorder that failed stops the pass at its next batch.
                let (copied, recorded) = tokio::join!(copied, recorder);
                recorded?;
                copied?;
                forward.clear_journal().await?;
            } else {
                self.copy_source_rows(task_state, &mut pass, fresh).await?;
            }
            if !pass.reverse {
                task_state.full_pass = None;
                self.state.save(self.plan.id, task_state).await?;
                return Ok(());
            }
            pass = FullPass {
                direction: Direction::TargetToSource,
                after: None,
                reverse: true,
            };
            self.save_cursor(task_state, &pass).await?;
        }
        loop {
            self.check_cancel()?;
            // Keys first: on a first run most target rows are the copies just written.
            let keys = backward
                .reader()
                .scan_keys(
                    self.target_schema,
                    pass.after.as_ref(),
                    self.options.batch_size.max(1),
                )
                .await
                .map_err(|e| backward.reading_failed(e))?;
            let Some(last) = keys.last() else { break };
            pass.after = Some(last.clone());
            let counterparts = self
                .state
                .counterparts(self.plan.id, Side::Target, &keys)
                .await?;
            // Mapped target rows whose source row is gone: the source deleted it, source wins.
            let mapped_sources: Vec<Key> = counterparts.values().cloned().collect();
            let existing: HashSet<Key> = self
                .plan
                .source
                .existing(self.source_schema, &mapped_sources)
                .await
                .map_err(|e| forward.reading_failed(e))?
                .into_iter()
                .collect();
            let held = self.held(Side::Target, &keys).await?;
            let unmapped: Vec<Key> = keys
                .iter()
                .filter(|k| !counterparts.contains_key(*k) && !held.contains(*k))
                .cloned()
                .collect();
            let copies: Vec<Item> = backward
                .reader()
                .fetch(self.target_schema, &unmapped)
                .await
                .map_err(|e| backward.reading_failed(e))?
                .into_iter()
                .map(|(key, row)| (key, Some(row), None))
                .collect();
            let deletions: Vec<Item> = keys
                .into_iter()
                .filter_map(|key| {
                    let source_key = counterparts.get(&key)?;
                    (!existing.contains(source_key)).then(|| (source_key.clone(), None, Some(key)))
                })
                .collect();
            self.apply_scanned(backward, copies).await?;
            self.apply_scanned(forward, deletions).await?;
            self.save_cursor(task_state, &pass).await?;
        }
        task_state.full_pass = None;
        self.state.save(self.plan.id, task_state).await?;
        Ok(())
    }

    /// The first half of a full pass: every source row, after the cursor, to the target.
    async fn copy_source_rows(
        &mut self,
        task_state: &mut TaskState,
        pass: &mut FullPass,
        fresh: bool,
    ) -> Result<(), SyncError> {
        let forward = self.flow(Direction::SourceToTarget);
        let batch = self.options.batch_size.max(1);
        let mut rows = scan_rows(forward, pass.after.clone(), batch).await?;
        loop {
            self.check_cancel()?;
            let Some((last, _)) = rows.last() else { break };
            pass.after = Some(last.clone());
            let keys: Vec<Key> = rows.iter().map(|(k, _)| k.clone()).collect();
            let (counterparts, held) = if fresh {
                Default::default()
            } else {
                (
                    self.state
                        .counterparts(self.plan.id, Side::Source, &keys)
                        .await?,
                    self.held(Side::Source, &keys).await?,
                )
            };
            let items = rows
                .into_iter()
                .filter(|(k, _)| !held.contains(k))
                .map(|(k, row)| {
                    let cp = counterparts.get(&k).cloned();
                    (k, Some(row), cp)
                })
                .collect();
            // The next page is read while this one is written.
            let (applied, next) = tokio::join!(
                self.apply_scanned(forward, items),
                scan_rows(forward, pass.after.clone(), batch)
            );
            applied?;
            self.save_cursor(task_state, pass).await?;
            rows = next?;
        }
        Ok(())
    }

    /// `copy_source_rows` for a first run (`fresh`, and no record referencing the task's own
    /// records), in batches as large as both ends take (`Connector::copy_batches`): nothing a
    /// batch writes changes how the next one is mapped, so batch N is
    /// written while batch N+1 is mapped (on a blocking thread) and the page after it is
    /// read. A batch is finished (counted, its pairs handed to the recorder) once its write
    /// has committed, and the cursor past it is saved while the next batch is written; a
    /// batch mapped but not yet written when the pass stops, or finished but not yet past the
    /// saved cursor, is read again by the pass that resumes it (its rows, written or not,
    /// are then looked up in the ID map as usual).
    async fn copy_source_rows_overlapped(
        &mut self,
        task_state: &mut TaskState,
        pass: &mut FullPass,
    ) -> Result<(), SyncError> {
        let forward = self.flow(Direction::SourceToTarget);
        let batch = self.options.batch_size.max(1)
            * forward
                .reader()
                .copy_batches()
                .min(forward.writer().copy_batches())
                .max(1);
        let mut rows = scan_rows(forward, pass.after.clone(), batch).await?;
        // The batch mapped in the last round, written in this one, and its last key.
        let mut mapped: Option<(PreparedBatch, Key)> = None;
        // The cursor past the last finished batch, saved while the next one is written.
        let mut cursor: Option<TaskState> = None;
        let (state, id) = (self.state, self.plan.id);
        loop {
            self.check_cancel()?;
            let last = rows.last().map(|(k, _)| k.clone());
            if last.is_none() && mapped.is_none() {
                break;
            }
            let items: Vec<Item> = rows
                .into_iter()
                .map(|(k, row)| (k, Some(row), None))
                .collect();
            let ops = mapped
                .as_mut()
                .map(|(done, _)| std::mem::take(&mut done.ops));
            let saving = cursor.take();
            let (written, prepared, next, saved) = tokio::join!(
                async {
                    match ops {
                        Some(ops) => write_ops(forward, ops).await,
                        None => Ok(Vec::new()),
                    }
                },
                async {
                    if items.is_empty() {
                        Ok(None)
                    } else {
                        self.prepare_batch(forward, items, false, true)
                            .await
                            .map(Some)
                    }
                },
                async {
                    match &last {
                        Some(after) => scan_rows(forward, Some(after.clone()), batch).await,
                        None => Ok(Vec::new()),
                    }
                },
                async {
                    match &saving {
                        Some(cursor) => state.save(id, cursor).await,
                        None => Ok(()),
                    }
                }
            );
            saved?;
            if let Some((done, done_last)) = mapped.take() {
                let newly = self.finish_batch(forward, done, written?).await?;
                self.requeue_scanned(forward, newly).await?;
                pass.after = Some(done_last);
                task_state.full_pass = Some(pass.clone());
                cursor = Some(task_state.clone());
                if let Some(sink) = &self.pair_sink
                    && sink.journal_is_long()
                {
                    sink.drain().await?;
                    forward.clear_journal().await?;
                }
            }
            mapped = prepared?.zip(last);
            rows = next?;
        }
        if let Some(cursor) = cursor {
            state.save(id, &cursor).await?;
        }
        Ok(())
    }

    async fn save_cursor(
        &self,
        task_state: &mut TaskState,
        pass: &FullPass,
    ) -> Result<(), SyncError> {
        task_state.full_pass = Some(pass.clone());
        self.state.save(self.plan.id, task_state).await?;
        Ok(())
    }
}
