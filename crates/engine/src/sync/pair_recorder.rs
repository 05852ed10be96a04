//! Recording a first run's ID-map pairs while the next batch is written.
//!
//! A write batch commits its rows with the journal of the pairs it inserted (see `sync`,
//! Atomicity), so once the batch is written its pairs are safe in the target database. On
//! the usual path the run then moves them into the ID map and clears the journal before the
//! next batch. A first run's full pass (no pair known, and no record referencing the task's
//! own records) needs none of those pairs until the pass ends: each batch holds keys after
//! the last one, unmapped. There the pairs are handed to a recorder that writes them into the
//! ID map concurrently with the next batch's read, mapping and write (a different database
//! connection, on the other core), which takes the ID map off the pass's critical path. They
//! are new to the map, so the store may keep them compactly
//! ([`StateStore::add_new_pairs`]: runs of consecutive keys as one row in PostgreSQL).
//!
//! The journal is cleared only when the recorder has caught up (`drain`): every
//! [`CLEAR_EVERY`] batches, and when the pass's first half ends. A crash in between leaves
//! the journal holding every pair not yet known to be recorded; the next run's `reconcile`
//! moves them into the map (pairs recorded already are replaced by themselves), as it does
//! for a batch that died before its pairs were recorded. The bound keeps that journal, and
//! what `reconcile` reads into memory, small.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::SyncError;
use super::state::{StateError, StateStore};
use crate::connectors::Key;

/// Batches whose pairs are recorded between two clearings of the journal (20,000 pairs in
/// batches of 1,000).
pub(super) const CLEAR_EVERY: usize = 20;

/// Batches of pairs waiting for the recorder (the memory this costs is bounded by it).
const QUEUED_BATCHES: usize = 2;

enum Message {
    Pairs(Vec<(Key, Key)>),
    /// Answered once every pair sent before it is in the ID map.
    Drained(oneshot::Sender<()>),
}

/// Where the pass sends its pairs. Dropping it lets the recorder finish.
pub(super) struct PairSink {
    queue: mpsc::Sender<Message>,
    /// Batches sent since the journal was last cleared.
    since_clear: AtomicUsize,
}

impl PairSink {
    pub(super) async fn record(&self, pairs: Vec<(Key, Key)>) -> Result<(), SyncError> {
        self.queue
            .send(Message::Pairs(pairs))
            .await
            .map_err(|_| stopped())?;
        self.since_clear.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Whether enough batches went by that the journal should be cleared (after `drain`).
    pub(super) fn journal_is_long(&self) -> bool {
        self.since_clear.load(Ordering::Relaxed) >= CLEAR_EVERY
    }

    /// Waits until every pair sent so far is in the ID map; the journal may then be cleared.
    pub(super) async fn drain(&self) -> Result<(), SyncError> {
        let (done, recorded) = oneshot::channel();
        self.queue
            .send(Message::Drained(done))
            .await
            .map_err(|_| stopped())?;
        recorded.await.map_err(|_| stopped())?;
        self.since_clear.store(0, Ordering::Relaxed);
        Ok(())
    }
}

/// The recorder stopped early: its own error is what the run reports (it ends the run first).
fn stopped() -> SyncError {
    SyncError::State(StateError {
        message: "the ID map recorder stopped".into(),
        retryable: true,
        source: None,
    })
}

/// A sink and the recorder serving it; run the recorder alongside the pass. It ends when the
/// sink is dropped, once it has recorded what was queued, or at the first error of the ID
/// map (the sink's next call then fails).
pub(super) fn start(
    state: &dyn StateStore,
    task: Uuid,
) -> (
    PairSink,
    impl std::future::Future<Output = Result<(), SyncError>> + '_,
) {
    let (queue, mut received) = mpsc::channel(QUEUED_BATCHES);
    let recorder = async move {
        while let Some(message) = received.recv().await {
            match message {
                Message::Pairs(pairs) => state.add_new_pairs(task, &pairs).await?,
                Message::Drained(done) => {
                    let _ = done.send(());
                }
            }
        }
        Ok(())
    };
    let sink = PairSink {
        queue,
        since_clear: AtomicUsize::new(0),
    };
    (sink, recorder)
}
