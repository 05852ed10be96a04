//! The one interface a runner records a run through: taking its row (a queued run claimed
//! by a worker, or a run the `sync` command starts), holding its lease while it runs,
//! putting it back in the queue for a retry, and recording how it ended. The runner reads
//! packages and runs tasks; everything it writes about the run goes through here.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;
use wire::RunState;

use super::lease::Lease;
use super::queue;
use crate::CatalogError;
use engine::sync::{CancelToken, Progress, RecordError, TaskSummary};

/// How often a running run renews its lease (well inside `queue::DEFAULT_LEASE`).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(1);

/// What a run's lease keeps in step with the run history: cancel requests reach `cancel`,
/// `progress` is published every `heartbeat`.
#[derive(Clone)]
pub struct Watch {
    pub cancel: CancelToken,
    pub progress: Progress,
    pub heartbeat: Duration,
}

/// A run this process holds (its lease beats until the record is dropped or finished).
pub struct RunRecord {
    pool: PgPool,
    run_id: Uuid,
    worker: String,
    _lease: Lease,
}

/// A queued run a worker took.
pub struct Claimed {
    pub record: RunRecord,
    pub workspace_id: Uuid,
    pub package_id: Uuid,
    /// This attempt's number, 1 for the first.
    pub attempt: u32,
    /// The counts of this run's earlier attempts (their writes happened).
    pub earlier: Vec<TaskSummary>,
}

/// How a run ended, as recorded.
pub struct Outcome<'a> {
    pub state: RunState,
    pub error: Option<&'a str>,
    pub tasks: &'a [TaskSummary],
    pub errors: &'a [RecordError],
    pub api_calls: Option<serde_json::Value>,
}

impl RunRecord {
    /// Takes the queued run `run_id` for `worker`. None when it is not queued any more.
    pub async fn claim(
        pool: &PgPool,
        run_id: Uuid,
        worker: &str,
        watch: Watch,
    ) -> Result<Option<Claimed>, CatalogError> {
        let Some(claim) = queue::claim(pool, run_id, worker).await? else {
            return Ok(None);
        };
        let earlier = match claim.earlier {
            Some(counts) => serde_json::from_value(counts).unwrap_or_else(|e| {
                tracing::warn!(run = %run_id, error = %e, "earlier attempts' counts unreadable");
                Vec::new()
            }),
            None => Vec::new(),
        };
        Ok(Some(Claimed {
            record: RunRecord::hold(pool, run_id, worker, watch),
            workspace_id: claim.workspace_id,
            package_id: claim.package_id,
            attempt: claim.attempt,
            earlier,
        }))
    }

    /// Records a run that starts now in this process (the `sync` command). A run of the
    /// package left by a killed process is failed first; another active run is a `Conflict`.
    pub async fn start(
        pool: &PgPool,
        workspace_id: Uuid,
        package_id: Uuid,
        started_by: &str,
        worker: &str,
        watch: Watch,
    ) -> Result<RunRecord, CatalogError> {
        let mut conn = pool.acquire().await?;
        queue::reap(&mut conn, queue::DEFAULT_LEASE, Some(package_id)).await?;
        drop(conn);
        let run_id = super::start(pool, workspace_id, package_id, started_by, worker).await?;
        Ok(RunRecord::hold(pool, run_id, worker, watch))
    }

    fn hold(pool: &PgPool, run_id: Uuid, worker: &str, watch: Watch) -> RunRecord {
        let lease = Lease::start(
            pool.clone(),
            run_id,
            worker.to_owned(),
            watch.cancel,
            watch.progress,
            watch.heartbeat,
        );
        RunRecord {
            pool: pool.clone(),
            run_id,
            worker: worker.to_owned(),
            _lease: lease,
        }
    }

    pub fn id(&self) -> Uuid {
        self.run_id
    }

    /// Puts the run back in the queue after a retryable failure (`so_far`: the counts of
    /// every attempt made). The run's new state (`queued`, or `canceled` when a cancel
    /// request came meanwhile), or None when the run was not this worker's any more.
    pub async fn retry_later(
        self,
        reason: &str,
        so_far: &[TaskSummary],
    ) -> Result<Option<RunState>, CatalogError> {
        let counts = serde_json::to_value(so_far).expect("summaries serialize");
        queue::requeue_for_retry(&self.pool, self.run_id, &self.worker, reason, &counts).await
    }

    /// Records how the run ended. False when it was not running any more (its lease lapsed
    /// and it was failed meanwhile).
    pub async fn finish(self, outcome: Outcome<'_>) -> Result<bool, CatalogError> {
        let summary = serde_json::to_value(outcome.tasks).expect("summaries serialize");
        super::finish(
            &self.pool,
            self.run_id,
            outcome.state,
            outcome.error,
            &summary,
            outcome.errors,
            outcome.api_calls.as_ref(),
        )
        .await
    }
}
