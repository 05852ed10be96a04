//! What a cloud connector remembers between runs, behind one interface: per task side, the
//! change log, the polling checkpoints, the stamps already logged and the echoes of the
//! engine's own writes; per task direction, the journal of records it created. The catalog
//! keeps all of it in our metadata database (`catalog::cloud_tracking`).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::changes::{Echo, Found, Seen};
use crate::connectors::{Key, Result, TrackedChange};

/// Where polling stands for one task side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoints {
    pub modified_after: DateTime<Utc>,
    pub deleted_after: DateTime<Utc>,
    /// A poll happened since tracking was installed.
    pub polled: bool,
}

/// The store a cloud connector is given (shared by the connectors of one run).
pub type CloudStore = Arc<dyn CloudTracking>;

#[async_trait]
pub trait CloudTracking: Send + Sync {
    /// Where polling stands for `log`; `None` when tracking is not installed.
    async fn checkpoints(&self, log: &str) -> Result<Option<Checkpoints>>;
    /// Starts tracking at `from` (the vendor's clock): changes stamped from then on are logged.
    /// Idempotent: an installed log keeps its checkpoints.
    async fn install(&self, log: &str, object: &str, from: DateTime<Utc>) -> Result<()>;
    /// Forgets everything `log` remembers.
    async fn remove(&self, log: &str) -> Result<()>;
    /// What the poll needs to know about these keys: their logged stamps and echoes.
    async fn seen_and_echoes(&self, log: &str, keys: &[&str]) -> Result<(Seen, Vec<Echo>)>;
    /// Records one poll's result at once: the new log entries, their stamps and digests,
    /// and the moved checkpoints. Stamps and echoes older than the overlap window are
    /// forgotten.
    async fn record_poll(
        &self,
        log: &str,
        found: &[Found],
        checkpoints: Checkpoints,
        forget_before: DateTime<Utc>,
    ) -> Result<()>;
    /// The next logged changes after sequence number `after`, oldest first.
    async fn read_changes(&self, log: &str, after: i64, limit: usize)
    -> Result<Vec<TrackedChange>>;
    /// Removes exactly these log entries (applied, or requeued under a new number).
    async fn consume(&self, log: &str, seqs: &[i64]) -> Result<()>;
    /// Logs these keys again (records that failed to write).
    async fn requeue(&self, log: &str, keys: &[Key]) -> Result<()>;
    /// Remembers the engine's writes so the next poll does not take them for changes. A
    /// record written again is expected to hold what the last write sent.
    async fn record_echoes(&self, log: &str, echoes: &[Echo]) -> Result<()>;
    /// Compares the ids the object holds now with those it held at the last poll: returns
    /// the ones gone, and remembers `current` for the next comparison.
    async fn known_ids_gone(&self, log: &str, current: &[&str]) -> Result<Vec<Key>>;
    /// Adds records Lockstep just created to the known ids, so that their deletion before
    /// the next poll is still seen.
    async fn add_known(&self, log: &str, keys: &[&str]) -> Result<()>;
    /// Journals (origin, new id) pairs of records just created.
    async fn journal(&self, journal: &str, pairs: &[(&str, &str)]) -> Result<()>;
    /// Every pair the journal holds.
    async fn read_journal(&self, journal: &str) -> Result<Vec<(Key, Key)>>;
    /// Empties the journal (its pairs are in the ID map).
    async fn clear_journal(&self, journal: &str) -> Result<()>;
}
