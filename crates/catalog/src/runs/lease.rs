//! The lease a running run holds: a heartbeat every few seconds that also publishes the
//! run's progress and picks up cancel requests. A run whose heartbeats stop (the process was
//! killed, the machine lost) is failed by `queue::reap` after the lease.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::queue::{self, Beat};
use engine::sync::{CancelToken, Progress};

/// Keeps a run's lease while alive; stops beating when dropped.
pub(super) struct Lease {
    task: tokio::task::JoinHandle<()>,
}

impl Lease {
    pub(super) fn start(
        pool: PgPool,
        run_id: Uuid,
        worker: String,
        cancel: CancelToken,
        progress: Progress,
        every: Duration,
    ) -> Lease {
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let counts =
                    serde_json::to_value(progress.snapshot()).expect("progress serializes");
                match queue::heartbeat(&pool, run_id, &worker, &counts).await {
                    Ok(Beat::Continue) => {}
                    Ok(Beat::Cancel) => {
                        if !cancel.is_canceled() {
                            tracing::info!(run = %run_id, "cancel requested; stopping at the next batch boundary");
                        }
                        cancel.cancel();
                    }
                    Ok(Beat::Lost) => {
                        tracing::warn!(run = %run_id, "this run's lease was lost; stopping it");
                        cancel.cancel();
                        return;
                    }
                    // The metadata database is unreachable for a moment: the lease lasts
                    // several heartbeats, try again at the next one.
                    Err(e) => tracing::warn!(run = %run_id, error = %e, "heartbeat failed"),
                }
            }
        });
        Lease { task }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.task.abort();
    }
}
