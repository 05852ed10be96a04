//! Reading the run history: one run's details and its failed records (lists: `list`).
//! Any member of the workspace.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::workspaces::require_role;
use crate::{CatalogError, Role};
use engine::sync::{Counts, TaskSummary};
use wire::RunState;

/// One run in a list.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: Uuid,
    pub package_id: Uuid,
    pub package_name: String,
    pub state: RunState,
    /// "user", "schedule" or "cli".
    pub started_by: String,
    /// The person's email when a person started it.
    pub started_by_email: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// Per task and direction: the summary once finished, the progress so far while running.
    pub tasks: Vec<TaskSummary>,
}

impl RunRow {
    /// Both directions of every task added up.
    pub fn totals(&self) -> Counts {
        let mut total = Counts::default();
        for t in &self.tasks {
            total.add(t.source_to_target);
            total.add(t.target_to_source);
        }
        total
    }

    /// The records the run expects to read, added up over the tasks that said (None until
    /// one did).
    pub fn expected(&self) -> Option<u64> {
        self.tasks
            .iter()
            .filter_map(|t| t.expected)
            .reduce(|a, b| a + b)
    }
}

/// A run row with its package name and who started it (`Row`).
pub(super) const SELECT: &str =
    "SELECT r.id, r.package_id, p.name, r.state, r.started_by, u.email, r.queued_at,
                r.started_at, r.finished_at, r.error, coalesce(r.progress, r.summary)
           FROM runs r
           JOIN packages p ON p.id = r.package_id
           LEFT JOIN users u ON u.id = r.started_by_user";

#[derive(sqlx::FromRow)]
pub(super) struct Row {
    id: Uuid,
    package_id: Uuid,
    name: String,
    state: RunState,
    started_by: String,
    email: Option<String>,
    queued_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    error: Option<String>,
    #[sqlx(rename = "coalesce")]
    counts: Option<serde_json::Value>,
}

impl Row {
    pub(super) fn into_run(self) -> RunRow {
        RunRow {
            id: self.id,
            package_id: self.package_id,
            package_name: self.name,
            state: self.state,
            started_by: self.started_by,
            started_by_email: self.email,
            queued_at: self.queued_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            error: self.error,
            tasks: self
                .counts
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default(),
        }
    }
}

/// One failed record of a run.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunErrorRow {
    pub task: String,
    pub direction: String,
    pub side: String,
    pub record_key: String,
    pub operation: String,
    pub message: String,
}

/// A run with everything the details page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDetail {
    pub run: RunRow,
    pub worker: Option<String>,
    pub attempts: i32,
    pub retried_after: Vec<String>,
    pub cancel_requested_at: Option<DateTime<Utc>>,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub error_count: i64,
    /// The first failed records (all of them are in the CSV).
    pub errors: Vec<RunErrorRow>,
    /// API calls made to cloud sides (none when both sides are databases).
    pub api_calls: Option<crate::runner::ApiCalls>,
}

/// How many failed records the details page lists (the CSV has all).
pub const ERRORS_SHOWN: i64 = 100;

pub async fn get(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    run_id: Uuid,
) -> Result<RunDetail, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Viewer).await?;
    let row: Row = sqlx::query_as(&format!("{SELECT} WHERE r.workspace_id = $1 AND r.id = $2"))
        .bind(workspace)
        .bind(run_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(CatalogError::from_fetch)?;
    type Extra = (
        Option<String>,
        i32,
        Vec<String>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        i64,
        Option<serde_json::Value>,
    );
    let extra: Extra = sqlx::query_as(
        "SELECT worker, attempts, retried_after, cancel_requested_at, scheduled_for,
                (SELECT count(*) FROM run_errors WHERE run_id = $1), api_calls
           FROM runs WHERE id = $1",
    )
    .bind(run_id)
    .fetch_one(&mut *conn)
    .await?;
    let errors = errors_page(&mut conn, run_id, ERRORS_SHOWN).await?;
    Ok(RunDetail {
        run: row.into_run(),
        worker: extra.0,
        attempts: extra.1,
        retried_after: extra.2,
        cancel_requested_at: extra.3,
        scheduled_for: extra.4,
        error_count: extra.5,
        errors,
        api_calls: extra.6.and_then(|v| serde_json::from_value(v).ok()),
    })
}

/// Every failed record of a run, in the order they happened (for the CSV download).
pub async fn errors(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    run_id: Uuid,
) -> Result<Vec<RunErrorRow>, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Viewer).await?;
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM runs WHERE workspace_id = $1 AND id = $2)",
    )
    .bind(workspace)
    .bind(run_id)
    .fetch_one(&mut *conn)
    .await?;
    if !exists {
        return Err(CatalogError::NotFound);
    }
    errors_page(&mut conn, run_id, i64::MAX).await
}

async fn errors_page(
    conn: &mut sqlx::PgConnection,
    run_id: Uuid,
    limit: i64,
) -> Result<Vec<RunErrorRow>, CatalogError> {
    Ok(sqlx::query_as(
        "SELECT task, direction, side, record_key, operation, message FROM run_errors
          WHERE run_id = $1 ORDER BY id LIMIT $2",
    )
    .bind(run_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}
