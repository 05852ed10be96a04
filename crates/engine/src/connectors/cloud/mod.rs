//! What cloud connectors share. A vendor module implements [`connector::CloudApi`] (how to
//! talk to its API); [`connector::CloudConnector`] makes it the engine's `Connector`, and
//! [`writes`] applies the engine's writes in the vendor's batches. A CRM
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
//! - **The engine's own writes are not changes** (no echo), and nothing else is ignored.
//!   Lockstep knows what it wrote: every write remembers, per record (`cloud_echoes`), the
//!   fields it sent and a digest of their values as a poll will read them back (each value
//!   through the reader's conversion for its column type, compared loosely where vendors
//!   normalize what they store: an empty text is no value, text trimmed, `2.50` = `2.5`,
//!   rounding to the field's scale, instants to the second), and the stamps the write can
//!   have given (from the vendor's exact stamp when it answers with one, else its clock
//!   before and after the call, with a second of tolerance). A polled modification is the
//!   echo only if the record holds, in those fields, exactly the values written, its stamp
//!   lies in that range, and — when the vendor did not say the exact stamp — it was made by
//!   the connection's own user. So an edit with other values is synced whatever its stamp and
//!   author: one made with the connection's own credentials a moment after a run, even within
//!   the same second (or millisecond) as Lockstep's write, is synced by the next run; the
//!   engine's write read back is not, so a run with nothing changed writes nothing. Skyvia
//!   ignores all changes made during a run; we do not. (Left: an edit made within the
//!   stamp range of Lockstep's write, by its own user, that changes only fields Lockstep did
//!   not write, or changes a written value only in what the comparison ignores — surrounding
//!   spaces, digits beyond the field's scale, fractions of a second — is taken for the echo.)
//! - **Dedicated account**: when the package says the connection's user is used only by
//!   Lockstep, every change that user made is ignored.
//! - **Insert journal**: created records are journaled (origin → new id) right after the
//!   vendor answers. Unlike a database there is no transaction spanning both, so a crash in
//!   the milliseconds between the answer and the journal write can leave a record the next
//!   run copies again. This is the one guarantee weaker than for databases.

pub mod changes;
pub mod connector;
pub mod http;
pub mod tracking;
pub mod values;
pub mod writes;

use chrono::{DateTime, Utc};

pub use tracking::{Checkpoints, CloudStore, CloudTracking};

use super::{Key, Result, TableSchema};
use changes::{Observed, Rules, Written};

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
    table: &TableSchema,
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
    let mut found = changes::classify(polled.observed, &seen, &echoes, rules, |o, fields| {
        o.values
            .as_ref()
            .map(|values| read_back_digest(table, fields, values))
    });
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

/// What a write sends to one record (`body`: the fields as JSON on the wire; others, such
/// as the key or Salesforce's `attributes`, are left out), stamped at the earliest `from`.
pub fn written(
    schema: &TableSchema,
    from: DateTime<Utc>,
    body: &serde_json::Map<String, serde_json::Value>,
) -> Written {
    let fields: Vec<String> = schema
        .columns
        .iter()
        .filter(|c| c.name != schema.key && body.contains_key(&c.name))
        .map(|c| c.name.clone())
        .collect();
    let digest = read_back_digest(schema, &fields, body);
    Written {
        from,
        fields,
        digest,
    }
}

/// The digest of a record's `fields` (JSON as sent or as read; a field left out is no
/// value), each read as the engine reads it for its column type and compared loosely where
/// vendors normalize ([`values::canonical`]). What a write sent and what a poll reads back
/// then digest alike unless somebody edited one of those fields.
pub fn read_back_digest(
    schema: &TableSchema,
    fields: &[String],
    record: &serde_json::Map<String, serde_json::Value>,
) -> i64 {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for name in fields {
        let json = record.get(name).unwrap_or(&serde_json::Value::Null);
        let form = match schema.columns.iter().find(|c| &c.name == name) {
            Some(column) => match values::from_json(json, &column.ty) {
                Ok(value) => values::canonical(&value, &column.ty),
                Err(_) => json.to_string(),
            },
            // The field left the object since the write: whatever it holds is not ours.
            None => "!".into(),
        };
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(form.as_bytes());
        hasher.update([0]);
    }
    let bytes: [u8; 8] = hasher.finalize()[..8].try_into().expect("8 bytes");
    i64::from_le_bytes(bytes)
}

/// Keys as the vendor's ids.
pub fn ids(keys: &[Key]) -> Vec<&str> {
    keys.iter().map(|k| k.0.as_str()).collect()
}
