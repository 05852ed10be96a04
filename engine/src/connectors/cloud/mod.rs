//! What cloud connectors share. A vendor module implements [`connector::CloudApi`] (how to
//! talk to its API); [`connector::CloudConnector`] makes it the engine's `Connector`. A CRM
//! has no triggers, so change tracking works from the vendor's stamps instead, kept to the
//! same contract as the databases' change logs:
//!
//! - **Polling with an overlap window.** Each read of a task side's changes first asks the
//!   vendor for the records modified (and deleted) since the last checkpoint *minus*
//!   [`OVERLAP`], then logs them in our metadata database (`cloud_changes`). Records that
//!   share the checkpoint's timestamp, or that the vendor committed or indexed late with an
//!   older stamp, are therefore read again; `cloud_seen` (the stamp already logged per record)
//!   keeps them from being logged twice. Stamps can be coarse (Salesforce's are whole
//!   seconds), so a record edited twice within one stamp is told apart by a digest of its
//!   values: same stamp, other values, another change. The first poll after tracking is
//!   installed only remembers what is older than the installation: the same run's full pass
//!   reads those records.
//! - **The engine's own writes are not changes** (no echo), and nothing else is ignored:
//!   every write remembers, per record, the newest stamp it can have given it (the exact one
//!   when the vendor answers with it, else the vendor's clock after the call, and then only
//!   for modifications by the connection's own user). An edit anybody makes during or after a
//!   run has a later stamp or another user, and is synced by the next run. Skyvia ignores all
//!   changes made during a run; we do not. (Left: an edit made with the connection's own user
//!   within the second of Lockstep's write is taken for the echo.)
//! - **Dedicated account**: when the package says the connection's user is used only by
//!   Lockstep, every change that user made is ignored.
//! - **Insert journal**: created records are journaled (origin → new id) right after the
//!   vendor answers. Unlike a database there is no transaction spanning both, so a crash in
//!   the milliseconds between the answer and the journal write can leave a record the next
//!   run copies again. This is the one guarantee weaker than for databases.

pub mod changes;
pub mod connector;
pub mod http;
pub mod ops;
pub mod store;
pub mod values;

use chrono::{DateTime, Utc};

pub use store::{Checkpoints, CloudStore};

use super::{Key, Result};
use changes::{Observed, Rules};

/// How far back each poll re-reads before its checkpoint.
pub const OVERLAP: chrono::Duration = chrono::Duration::minutes(5);

/// What a cloud connector needs besides its credentials.
#[derive(Clone)]
pub struct CloudContext {
    pub store: CloudStore,
    /// The package's "dedicated account for synchronization".
    pub dedicated_account: bool,
}

/// What one poll of the vendor returned.
pub struct Polled {
    pub observed: Vec<Observed>,
    /// The vendor's clock when the poll began: nothing stamped before it minus the overlap
    /// will be read again.
    pub started_at: DateTime<Utc>,
    /// Deletions up to this moment were asked for.
    pub deleted_until: DateTime<Utc>,
}

/// Logs the changes a poll found (those stamped from `log_from` on, when given; the others
/// are only remembered as seen) and moves the checkpoints, in one transaction.
pub async fn record_poll(
    store: &CloudStore,
    log: &str,
    before: Checkpoints,
    polled: Polled,
    rules: Rules<'_>,
    log_from: Option<DateTime<Utc>>,
) -> Result<()> {
    let keys: Vec<&str> = polled.observed.iter().map(|o| o.key.0.as_str()).collect();
    let (seen, echoes) = store.seen_and_echoes(log, &keys).await?;
    let newest = polled
        .observed
        .iter()
        .filter(|o| !o.deleted)
        .map(|o| o.stamp)
        .max();
    let mut found = changes::classify(polled.observed, &seen, &echoes, rules);
    if let Some(from) = log_from {
        for f in found.iter_mut().filter(|f| f.stamp < from) {
            f.log = false;
        }
    }
    let after = Checkpoints {
        modified_after: before
            .modified_after
            .max(polled.started_at)
            .max(newest.unwrap_or(polled.started_at)),
        deleted_after: before.deleted_after.max(polled.deleted_until),
        polled: true,
    };
    let forget_before = after.modified_after.min(after.deleted_after) - OVERLAP * 2;
    let logged = found.iter().filter(|f| f.log).count();
    tracing::debug!(log, reported = found.len(), logged, "poll recorded");
    store.record_poll(log, &found, after, forget_before).await
}

/// A stable digest of a record's values (for telling two edits within one stamp apart).
pub fn digest(values: &serde_json::Map<String, serde_json::Value>) -> i64 {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (name, value) in values {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(value.to_string().as_bytes());
        hasher.update([0]);
    }
    let bytes: [u8; 8] = hasher.finalize()[..8].try_into().expect("8 bytes");
    i64::from_le_bytes(bytes)
}

/// Keys as the vendor's ids.
pub fn ids(keys: &[Key]) -> Vec<&str> {
    keys.iter().map(|k| k.0.as_str()).collect()
}
