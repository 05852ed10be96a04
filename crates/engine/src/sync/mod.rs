//! The synchronization algorithm: a package's tasks (a table on each side each), run parents
//! first, over any two [`Connector`](crate::connectors::Connector)s.
//!
//! # Design
//!
//! **Change capture without a watermark.** Each synced table has a change log filled by
//! triggers (key + sequence number). A run *snapshots* the log entries it can see, processes
//! the keys, and then deletes exactly those entries (by sequence number). An entry written by
//! a transaction that started before the run and commits after the run read the log is not
//! in the snapshot, so it is not deleted: the next run sees it. There is no "last sequence
//! number" checkpoint to skip past such late commits, hence no missed change, however long a
//! user transaction stays open.
//!
//! **Current state, not replayed operations.** For each changed key the run reads the row as
//! it is now: present and mapped → update the copy; present and unmapped → insert a copy;
//! gone and mapped → delete the copy; gone and unmapped → nothing. That is the net effect
//! (insert+update = one insert, insert+delete = nothing), and re-processing a key is harmless,
//! which is what makes crash recovery simple.
//!
//! **No echo, no lost edits during a run.** The engine's own writes are not written to the
//! change log (database connectors mark the engine's session; triggers skip it), so they do not
//! come back next run. Anyone else's write, including one made to the same table while the run
//! is in progress, is logged and synced by a later run. Skyvia ignores those; we do not.
//!
//! **Conflicts: source wins.** Both logs are snapshotted before anything is written. Source
//! changes are applied first; a target change whose record is also in the source snapshot is
//! dropped (its log entries consumed), because the source's values were just written over it.
//! Update vs delete follows the source: a source delete deletes the copy; a source update of a
//! record deleted in the target re-creates it (and re-maps it).
//!
//! **Atomicity.** A write batch and the journal of the rows it inserted commit together in
//! the written database. Only after that are the journal's pairs moved into the ID map and the
//! batch's log entries consumed. A crash in between leaves log entries (re-processed:
//! harmless, see above) and journal entries (moved into the ID map at the start of the next
//! run, so the inserted copies are known and not inserted twice). The full pass keeps a cursor
//! that may lag behind what was written; rows written past it are found mapped on resume. A
//! first run's copy of the source rows is a pipeline: while batch N is written, batch N+1 is
//! mapped (on a blocking thread), the page after it is read, the cursor past batch N−1 is
//! saved, and batch N−1's pairs are recorded (`pair_recorder`). The journal is cleared only
//! once those pairs are in the map, so a crash anywhere in it leaves them journaled, as above.
//! Its batches are as many of the run's as both ends take at once (`copy_batches`: five
//! between databases, one where a cloud API is an end). Logged changes go the same way in
//! two stages: a batch's rows and counterparts are read while the one before it is written,
//! and its log entries consumed while the one after it is (a batch's keys are its own, and
//! only the other side is written, so the reads see what they would have seen after it).
//!
//! **Record failures are retried.** A record that cannot be mapped or written is reported
//! (task, direction, side, key, operation, message) and its key is put back into its change
//! log, so the next run tries it again. The rest of the batch goes on. A connection-level
//! failure stops the run; nothing of the unfinished batch is consumed.
//!
//! **Full pass** (first run; after LastSyncTime or InitTrackingObjects is reset): tracking is
//! installed first so nothing changed during the pass is missed, then every source row is
//! written to the target (mapped: update, source wins; unmapped: insert), then every target row
//! not mapped is copied to the source, and mapped target rows whose source row is gone are
//! deleted. The ID map makes the pass idempotent: no duplicates, nothing deleted that the
//! source still has. When the target held no row as the pass began (tracking already
//! installed), the second half is skipped: every row the target holds afterwards is a copy
//! the pass wrote or was logged (`FullPass::reverse`, kept so a resumed pass decides alike). The change logs snapshotted before the pass are then applied as usual:
//! a pass resumed after a crash did not re-read the rows before its cursor, and those may
//! have changed since they were copied.
//!
//! **Related records** (`relations`, `package_run`, `pending`). A relation field holds keys
//! of another task's records; each batch looks their counterparts up in that task's ID map
//! (one lookup per referenced task and batch) and writes those. Tasks run parents first, so a
//! parent's copy exists before its children are written. A record whose reference has no
//! counterpart yet is *pending*: it waits (not written), or, when the reference may point at a
//! record written later in the run (its own task, a cycle) and the column is nullable, it is
//! written without the reference. Pending records keep their change-log entries (a full pass
//! puts them back into the log at once, and takes the new entries along), are tried again
//! after every task has run, and whatever still waits stays in the log for the next run: a
//! crash at any point leaves every unfinished record logged, never written with a wrong key.

mod check;
mod lookups;
mod matching;
mod package_run;
mod pair_recorder;
mod pending;
mod relations;
mod state;
mod summary;
mod task;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub use check::{CheckedTask, TaskCheckError, check_task, mapping_problems};
pub use matching::{Ambiguous, MatchReport, Matching, find_matches};
pub use package_run::{PackageRun, run_package};
pub use relations::{RelationError, RunOrder, link_package};
pub use state::{FullPass, MemoryState, Side, StateError, StateStore, TaskState};
pub use summary::{Counts, RecordError, TaskSummary};
pub use task::{TaskPlan, run_task};

use crate::connectors::ConnectorError;

/// The change log a task reads on one side. Every task has its own log per side (and its own
/// trigger), so two tasks or packages syncing the same table never consume each other's
/// changes.
pub fn log_name(task: uuid::Uuid, side: Side) -> String {
    let side = match side {
        Side::Source => "s",
        Side::Target => "t",
    };
    format!("{}_{side}", &task.simple().to_string()[..12])
}

/// Tuning for one run.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Records per write batch (and per cancellation check).
    pub batch_size: usize,
    /// Where the counts so far are published after every batch.
    pub progress: Progress,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            batch_size: 1000,
            progress: Progress::default(),
        }
    }
}

/// The counts of a run so far, per task and direction, readable while it runs (the run
/// history shows them live).
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<Mutex<Vec<TaskSummary>>>);

impl Progress {
    /// Publishes a task's counts (its errors stay with the run's outcome).
    pub fn publish(&self, summary: &TaskSummary) {
        let mut tasks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let counts = TaskSummary {
            errors: Vec::new(),
            ..summary.clone()
        };
        match tasks.iter_mut().find(|t| t.task == summary.task) {
            Some(slot) => *slot = counts,
            None => tasks.push(counts),
        }
    }

    /// Forgets the counts (a retried attempt starts its own).
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub fn snapshot(&self) -> Vec<TaskSummary> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Asks a run to stop at the next batch boundary.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_canceled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why a task run stopped before finishing. Nothing unfinished was consumed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{side}: {source}")]
    Connector {
        side: &'static str,
        #[source]
        source: ConnectorError,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error("canceled")]
    Canceled,
}

impl SyncError {
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Connector { source, .. } => source.is_retryable(),
            SyncError::State(e) => e.retryable,
            _ => false,
        }
    }
}
