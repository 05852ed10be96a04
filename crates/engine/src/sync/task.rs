//! One run of one task. See the module documentation of `sync` for the design.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use uuid::Uuid;

use super::state::{FullPass, Side, StateStore, TaskState};
use super::summary::{RecordError, TaskSummary};
use super::{CancelToken, SyncError, SyncOptions};
use crate::connectors::{Connector, Key, Row, TableSchema, WriteOp, WriteOutcome};
use crate::mapping::CompiledMapping;
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
}

/// One direction of a task: reads `from`, writes `to`.
#[derive(Clone, Copy)]
struct Flow<'a> {
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
    /// Journals are per task and direction: both sides may be one database.
    fn journal(&self) -> String {
        format!("{}:{}", self.plan.id, self.direction.as_str())
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

struct Run<'a> {
    plan: &'a TaskPlan<'a>,
    source_schema: &'a TableSchema,
    target_schema: &'a TableSchema,
    state: &'a dyn StateStore,
    options: &'a SyncOptions,
    cancel: &'a CancelToken,
    summary: TaskSummary,
}

/// Runs one task once: installs tracking if needed, finishes any full pass, then moves the
/// changes logged on both sides.
#[tracing::instrument(skip_all, fields(task = %plan.label), err(Display))]
pub async fn run_task(
    plan: &TaskPlan<'_>,
    state: &dyn StateStore,
    options: &SyncOptions,
    cancel: &CancelToken,
) -> Result<TaskSummary, SyncError> {
    let mut source_schema = plan.source_schema.clone();
    source_schema.log_name = super::log_name(plan.id, Side::Source);
    let mut target_schema = plan.target_schema.clone();
    target_schema.log_name = super::log_name(plan.id, Side::Target);
    let mut run = Run {
        plan,
        source_schema: &source_schema,
        target_schema: &target_schema,
        state,
        options,
        cancel,
        summary: TaskSummary {
            task: plan.label.clone(),
            ..Default::default()
        },
    };
    let forward = run.flow(Direction::SourceToTarget);
    let backward = run.flow(Direction::TargetToSource);

    let mut task_state = state.load(plan.id).await?;
    run.ensure_tracking(&mut task_state).await?;
    run.reconcile(forward).await?;
    run.reconcile(backward).await?;

    let source_changes = snapshot(forward).await?;
    let target_changes = snapshot(backward).await?;

    if let Some(pass) = task_state.full_pass.clone() {
        run.full_pass(&mut task_state, pass).await?;
    }
    // Logged changes are applied even after a full pass: a resumed pass did not re-read the
    // rows before its cursor, which may have changed since. Re-applying is idempotent.
    // Target changes to records the source also changed lose: source wins.
    let source_keys: Vec<Key> = source_changes.keys().cloned().collect();
    let overwritten: HashSet<Key> = state
        .counterparts(plan.id, Side::Source, &source_keys)
        .await?
        .into_values()
        .collect();
    let (conflicts, target_changes): (Snapshot, Snapshot) = target_changes
        .into_iter()
        .partition(|(key, _)| overwritten.contains(key));
    run.push_changes(forward, source_changes).await?;
    consume(backward, &conflicts).await?;
    run.push_changes(backward, target_changes).await?;

    task_state.last_sync_at = Some(Utc::now());
    state.save(plan.id, &task_state).await?;
    Ok(run.summary)
}

/// Every change-log entry visible now, grouped by key.
async fn snapshot(flow: Flow<'_>) -> Result<Snapshot, SyncError> {
    const PAGE: usize = 10_000;
    let mut changes = Snapshot::new();
    let mut after = 0;
    loop {
        let page = flow
            .reader()
            .read_changes(flow.read_schema(), after, PAGE)
            .await
            .map_err(|e| flow.reading_failed(e))?;
        let full = page.len() == PAGE;
        for change in page {
            after = after.max(change.seq);
            changes.entry(change.key).or_default().push(change.seq);
        }
        if !full {
            return Ok(changes);
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

/// A record to bring to the other side: its key, its current row (None: deleted), and its
/// counterpart (None: not mapped).
type Item = (Key, Option<Row>, Option<Key>);

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
        self.state.add_pairs(self.plan.id, &pairs).await?;
        flow.writer()
            .clear_journal(&flow.journal())
            .await
            .map_err(|e| flow.writing_failed(e))
    }

    async fn push_changes(&mut self, flow: Flow<'_>, changes: Snapshot) -> Result<(), SyncError> {
        let entries: Vec<(Key, Vec<i64>)> = changes.into_iter().collect();
        for chunk in entries.chunks(self.options.batch_size.max(1)) {
            self.check_cancel()?;
            let keys: Vec<Key> = chunk.iter().map(|(k, _)| k.clone()).collect();
            let mut rows: HashMap<Key, Row> = flow
                .reader()
                .fetch(flow.read_schema(), &keys)
                .await
                .map_err(|e| flow.reading_failed(e))?
                .into_iter()
                .collect();
            let counterparts = self
                .state
                .counterparts(self.plan.id, flow.read_side(), &keys)
                .await?;
            let items = keys
                .into_iter()
                .map(|k| (k.clone(), rows.remove(&k), counterparts.get(&k).cloned()))
                .collect();
            self.apply_batch(flow, items).await?;
            let seqs: Vec<i64> = chunk.iter().flat_map(|(_, s)| s.iter().copied()).collect();
            flow.reader()
                .consume_changes(flow.read_schema(), &seqs)
                .await
                .map_err(|e| flow.reading_failed(e))?;
        }
        Ok(())
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

    /// Writes one batch to `flow.writer()`, records the outcome in the ID map and the summary,
    /// and puts failed records back into the `from` side's change log.
    async fn apply_batch(&mut self, flow: Flow<'_>, items: Vec<Item>) -> Result<(), SyncError> {
        let mut ops = Vec::with_capacity(items.len());
        let mut meta: Vec<(Key, Op, Option<Row>)> = Vec::with_capacity(items.len());
        let mut retry = Vec::new();
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
        let mut mapped_rows = flow.mapping().apply_all(rows).await.into_iter();
        for (key, present, counterpart) in items {
            let mapped = if present { mapped_rows.next() } else { None };
            match (mapped, counterpart) {
                (Some(mapped), counterpart) => {
                    let op = if counterpart.is_some() {
                        Op::Update
                    } else {
                        Op::Insert
                    };
                    match mapped {
                        Ok(mapped) => {
                            ops.push(match counterpart {
                                Some(to_key) => WriteOp::Update {
                                    key: to_key,
                                    row: mapped.clone(),
                                },
                                None => WriteOp::Insert {
                                    origin: key.clone(),
                                    row: mapped.clone(),
                                },
                            });
                            meta.push((key, op, Some(mapped)));
                        }
                        Err(message) => {
                            self.record_failure(flow, &key, op, message);
                            retry.push(key);
                        }
                    }
                }
                (None, Some(to_key)) => {
                    ops.push(WriteOp::Delete { key: to_key });
                    meta.push((key, Op::Delete, None));
                }
                (None, None) => {}
            }
        }

        let outcomes = if ops.is_empty() {
            Vec::new()
        } else {
            flow.writer()
                .write(flow.write_schema(), &flow.journal(), ops)
                .await
                .map_err(|e| flow.writing_failed(e))?
        };
        let mut unmap = Vec::new();
        let mut reinsert = Vec::new();
        let mut inserted = Vec::new();
        for ((key, op, mapped), outcome) in meta.into_iter().zip(outcomes) {
            let counts = self.summary.counts_mut(flow.direction);
            match outcome {
                WriteOutcome::Inserted(new_key) => {
                    counts.inserted += 1;
                    inserted.push((key, new_key));
                }
                WriteOutcome::Updated => counts.updated += 1,
                WriteOutcome::Deleted => {
                    counts.deleted += 1;
                    unmap.push(key);
                }
                // The copy was deleted on the other side: the read side's state wins.
                WriteOutcome::Missing => {
                    unmap.push(key.clone());
                    if let (Op::Update, Some(row)) = (op, mapped) {
                        reinsert.push(WriteOp::Insert { origin: key, row });
                    }
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
            let origins: Vec<Key> = reinsert
                .iter()
                .map(|op| match op {
                    WriteOp::Insert { origin, .. } => origin.clone(),
                    _ => unreachable!("only inserts are re-sent"),
                })
                .collect();
            let outcomes = flow
                .writer()
                .write(flow.write_schema(), &flow.journal(), reinsert)
                .await
                .map_err(|e| flow.writing_failed(e))?;
            for (key, outcome) in origins.into_iter().zip(outcomes) {
                match outcome {
                    WriteOutcome::Inserted(new_key) => {
                        self.summary.counts_mut(flow.direction).inserted += 1;
                        inserted.push((key, new_key));
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
        Ok(())
    }

    async fn full_pass(
        &mut self,
        task_state: &mut TaskState,
        mut pass: FullPass,
    ) -> Result<(), SyncError> {
        let forward = self.flow(Direction::SourceToTarget);
        let backward = self.flow(Direction::TargetToSource);
        if pass.direction == Direction::SourceToTarget {
            let batch = self.options.batch_size.max(1);
            let mut rows = scan_rows(forward, pass.after.clone(), batch).await?;
            loop {
                self.check_cancel()?;
                let Some((last, _)) = rows.last() else { break };
                pass.after = Some(last.clone());
                let keys: Vec<Key> = rows.iter().map(|(k, _)| k.clone()).collect();
                let counterparts = self
                    .state
                    .counterparts(self.plan.id, Side::Source, &keys)
                    .await?;
                let items = rows
                    .into_iter()
                    .map(|(k, row)| {
                        let cp = counterparts.get(&k).cloned();
                        (k, Some(row), cp)
                    })
                    .collect();
                // The next page is read while this one is written.
                let (applied, next) = tokio::join!(
                    self.apply_batch(forward, items),
                    scan_rows(forward, pass.after.clone(), batch)
                );
                applied?;
                self.save_cursor(task_state, &pass).await?;
                rows = next?;
            }
            pass = FullPass {
                direction: Direction::TargetToSource,
                after: None,
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
            let unmapped: Vec<Key> = keys
                .iter()
                .filter(|k| !counterparts.contains_key(*k))
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
            self.apply_batch(backward, copies).await?;
            self.apply_batch(forward, deletions).await?;
            self.save_cursor(task_state, &pass).await?;
        }
        task_state.full_pass = None;
        self.state.save(self.plan.id, task_state).await?;
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
