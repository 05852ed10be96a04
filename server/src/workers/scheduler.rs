//! The scheduler loop: every tick, queue the due schedules' runs and fail the runs whose
//! worker stopped sending heartbeats.

use std::time::Duration;

use catalog::runs::queue;
use catalog::schedules;
use sqlx::PgPool;

#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// How often due schedules are looked for (the most a due run waits to be queued).
    pub every: Duration,
    /// How long a running run may go without a heartbeat.
    pub lease: Duration,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            every: Duration::from_secs(1),
            lease: queue::DEFAULT_LEASE,
        }
    }
}

pub async fn run_scheduler(
    pool: PgPool,
    settings: SchedulerSettings,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(settings.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        match schedules::tick(&pool, chrono::Utc::now()).await {
            Ok(t) if t.queued + t.skipped > 0 => {
                tracing::info!(queued = t.queued, skipped = t.skipped, "scheduled runs");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "scheduler tick failed"),
        }
        let reaped = match pool.acquire().await {
            Ok(mut conn) => queue::reap(&mut conn, settings.lease, None)
                .await
                .map(|_| ()),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = reaped {
            tracing::warn!(error = %e, "failing runs with lapsed leases failed");
        }
    }
}
