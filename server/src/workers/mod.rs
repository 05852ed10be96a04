//! The job workers, the scheduler and the notifier: in `serve` beside the web app, or alone in `worker`.
//! Any number of processes may run them against one metadata database: apalis hands each
//! job to one worker and delivers it again after a backoff when the run failed on a
//! retryable error (`RetryPolicy`); the run's row is claimed once per delivery (a stale
//! delivery finds it taken and does nothing), and the scheduler claims due schedules with
//! `SKIP LOCKED`.

mod scheduler;

use std::sync::Arc;
use std::time::Duration;

use apalis::layers::retry::backoff::{ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use apalis::layers::retry::{BackoffRetryPolicy, HasherRng, RetryPolicy as JobRetry};
use apalis::prelude::*;
use apalis_sql::Config;
use apalis_sql::postgres::PostgresStorage;
use catalog::runner::{self, Delivery, RetryPolicy, WorkerSettings};
use catalog::runs::queue::{JOB_NAMESPACE, RunJob};
use catalog::secrets::SecretBox;
use sqlx::PgPool;

pub use scheduler::{SchedulerSettings, run_scheduler};

/// How this process works the queue.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Runs executed at once by this process.
    pub concurrency: usize,
    /// How often an idle worker looks for a queued run.
    pub poll: Duration,
    pub run: WorkerSettings,
    pub scheduler: SchedulerSettings,
    /// The notifier beside the scheduler (`crate::notifications`).
    pub notifier: crate::notifications::NotifierSettings,
}

impl WorkerConfig {
    pub fn new(concurrency: usize) -> Self {
        WorkerConfig {
            concurrency: concurrency.max(1),
            poll: Duration::from_millis(500),
            run: WorkerSettings::default(),
            scheduler: SchedulerSettings::default(),
            notifier: crate::notifications::NotifierSettings::default(),
        }
    }

    /// A run without a heartbeat for `lease` is failed; runs beat every second (the live
    /// progress the pages show), and at least six times per lease.
    pub fn set_lease(&mut self, lease: Duration) {
        self.scheduler.lease = lease;
        self.run.heartbeat = (lease / 6).min(Duration::from_secs(1));
    }
}

#[derive(Clone)]
struct Shared {
    pool: PgPool,
    secrets: Arc<SecretBox>,
    settings: WorkerSettings,
}

/// The reason a delivery asks for another, as apalis sees it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RetryLater(String);

async fn run_job(job: RunJob, shared: Data<Shared>) -> Result<(), Error> {
    match runner::run_queued(&shared.pool, &shared.secrets, job.run_id, &shared.settings).await {
        Ok(Delivery::Finished(report)) => {
            tracing::info!(run = %report.run_id, state = report.state.as_str(), "run finished");
        }
        Ok(Delivery::RetryLater { reason }) => {
            return Err(Error::Failed(Arc::new(Box::new(RetryLater(reason)))));
        }
        Ok(Delivery::NotQueued) => {}
        // Our metadata database failed: the run keeps no lease and is failed by the reaper.
        Err(e) => tracing::error!(run = %job.run_id, error = %e, "run could not be recorded"),
    }
    Ok(())
}

/// apalis's retry of a failed delivery: as many as the policy allows after the first, with
/// its exponential backoff. The run's row counts the attempts and has the last word (a
/// delivery after the last attempt records the failure instead of asking again).
fn job_retry(policy: &RetryPolicy) -> BackoffRetryPolicy<ExponentialBackoff> {
    let backoff = ExponentialBackoffMaker::new(
        policy.first_delay,
        policy.max_delay.max(policy.first_delay),
        0.0,
        HasherRng::default(),
    )
    .expect("the delays are ordered and the jitter is valid")
    .make_backoff();
    JobRetry::retries(policy.attempts.saturating_sub(1) as usize).with_backoff(backoff)
}

/// Applies apalis's own migrations (its jobs table) beside ours.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    let mut migrator = PostgresStorage::<()>::migrations();
    migrator.set_ignore_missing(true);
    migrator.run(pool).await
}

/// Works the run queue and ticks the scheduler until `stop` resolves; then waits up to 30 s
/// for runs in flight (a run cut short is failed by the lease and repaired by the next).
pub async fn run(
    pool: PgPool,
    secrets: Arc<SecretBox>,
    config: WorkerConfig,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let storage = PostgresStorage::<RunJob>::new_with_config(
        pool.clone(),
        Config::new(JOB_NAMESPACE)
            .set_buffer_size(config.concurrency)
            .set_poll_interval(config.poll)
            .set_reenqueue_orphaned_after(Duration::from_secs(60)),
    );
    let shared_secrets = secrets.clone();
    let shared = Shared {
        pool: pool.clone(),
        secrets,
        settings: config.run.clone(),
    };
    let worker = WorkerBuilder::new(config.run.name.clone())
        .data(shared)
        .enable_tracing()
        .concurrency(config.concurrency)
        // Inside the concurrency limit: a delivery waiting out its backoff keeps its slot
        // (a retry outside it would wait for a permit the worker holds for its next job).
        .retry(job_retry(&config.run.retry))
        .backend(storage)
        .build_fn(run_job);
    let (stop_scheduler, scheduler_stopped) = tokio::sync::watch::channel(false);
    let scheduler = tokio::spawn(run_scheduler(
        pool.clone(),
        config.scheduler.clone(),
        scheduler_stopped.clone(),
    ));
    let notifier = tokio::spawn(crate::notifications::run_notifier(
        pool,
        shared_secrets,
        config.notifier.clone(),
        scheduler_stopped,
    ));
    tracing::info!(worker = %config.run.name, concurrency = config.concurrency, "job worker started");
    let result = Monitor::new()
        .register(worker)
        .shutdown_timeout(Duration::from_secs(30))
        .run_with_signal(async move {
            stop.await;
            Ok(())
        })
        .await;
    let _ = stop_scheduler.send(true);
    let _ = scheduler.await;
    let _ = notifier.await;
    result
}
