//! What the API answers with: plain JSON shapes with their OpenAPI schemas, built from the
//! catalog's rows (never a secret).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One side of a package: its connector, and the saved connection's name when it has one.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackageSide {
    /// `postgres`, `mysql`, `salesforce`, `hubspot`, `dynamics`.
    pub kind: String,
    pub connection: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LastRun {
    /// The run's state (see `Run.state`).
    pub state: String,
    pub at: DateTime<Utc>,
}

/// A package as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackageItem {
    pub id: Uuid,
    pub name: String,
    pub source: PackageSide,
    pub target: PackageSide,
    pub tasks: i64,
    pub last_run: Option<LastRun>,
}

/// A page of packages by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackageList {
    pub packages: Vec<PackageItem>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<Uuid>,
    /// How many packages the workspace has.
    pub total: i64,
}

impl From<catalog::packages::PackageSummary> for PackageItem {
    fn from(p: catalog::packages::PackageSummary) -> Self {
        PackageItem {
            id: p.id,
            name: p.name,
            source: PackageSide {
                kind: p.source_kind,
                connection: p.source_connection,
            },
            target: PackageSide {
                kind: p.target_kind,
                connection: p.target_connection,
            },
            tasks: p.tasks,
            last_run: p.last_run.map(|r| LastRun {
                state: r.state.as_str().to_owned(),
                at: r.at,
            }),
        }
    }
}

/// Something the request made.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// Records one direction of a task wrote, or did not.
#[derive(Debug, Serialize, ToSchema)]
pub struct Counts {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub failed: u64,
    /// Waiting for a record they reference to be written first.
    pub waiting: u64,
    /// Paired with a record the other side already held (first-run matching).
    pub paired: u64,
    /// Held back: their match key matched several records.
    pub held: u64,
}

impl From<engine::sync::Counts> for Counts {
    fn from(c: engine::sync::Counts) -> Self {
        Counts {
            inserted: c.inserted,
            updated: c.updated,
            deleted: c.deleted,
            failed: c.failed,
            waiting: c.waiting,
            paired: c.paired,
            held: c.held,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskCounts {
    /// `source_table → target_table`.
    pub task: String,
    pub source_to_target: Counts,
    pub target_to_source: Counts,
}

/// A run with its counts: the final ones once finished, the progress so far while running.
#[derive(Debug, Serialize, ToSchema)]
pub struct Run {
    pub id: Uuid,
    pub package_id: Uuid,
    pub package_name: String,
    /// `queued`, `running`, `canceling`, `succeeded`, `succeeded_with_errors`, `failed`,
    /// `canceled` or `skipped`.
    pub state: String,
    /// `user`, `api`, `schedule` or `cli`.
    pub started_by: String,
    /// The member who started it (a person, or the owner of the token).
    pub started_by_email: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the run failed, when it did.
    pub error: Option<String>,
    /// Every task and direction added up.
    pub totals: Counts,
    pub tasks: Vec<TaskCounts>,
}

impl From<catalog::runs::history::RunRow> for Run {
    fn from(r: catalog::runs::history::RunRow) -> Self {
        Run {
            totals: r.totals().into(),
            tasks: r
                .tasks
                .iter()
                .map(|t| TaskCounts {
                    task: t.task.clone(),
                    source_to_target: t.source_to_target.into(),
                    target_to_source: t.target_to_source.into(),
                })
                .collect(),
            id: r.id,
            package_id: r.package_id,
            package_name: r.package_name,
            state: r.state.as_str().to_owned(),
            started_by: r.started_by,
            started_by_email: r.started_by_email,
            queued_at: r.queued_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            error: r.error,
        }
    }
}

/// A run with what its details page shows besides the counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: Run,
    /// How many records failed (all are in `/runs/{id}/errors`).
    pub error_count: i64,
    pub attempts: i32,
    pub cancel_requested_at: Option<DateTime<Utc>>,
    /// The schedule's occurrence, for a scheduled run.
    pub scheduled_for: Option<DateTime<Utc>>,
}

/// A page of runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    pub runs: Vec<Run>,
    /// Pass as `page` for the next (older) page; absent on the last.
    pub older: Option<String>,
    /// Pass as `page` for the page before (newer); absent on the first.
    pub newer: Option<String>,
}

/// A record a run could not write.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunError {
    pub task: String,
    /// `source_to_target` or `target_to_source`.
    pub direction: String,
    /// The side it was written to.
    pub side: String,
    pub record_key: String,
    pub operation: String,
    pub message: String,
}

impl From<catalog::runs::history::RunErrorRow> for RunError {
    fn from(r: catalog::runs::history::RunErrorRow) -> Self {
        RunError {
            task: r.task,
            direction: r.direction,
            side: r.side,
            record_key: r.record_key,
            operation: r.operation,
            message: r.message,
        }
    }
}

/// A saved connection, without its password or secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct Connection {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    /// Host, or the cloud instance's URL.
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    pub ssl_mode: String,
    /// A password (or secret) is stored; it is never sent.
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
    /// The packages using it.
    pub used_by: Vec<String>,
}

impl From<catalog::connections::Connection> for Connection {
    fn from(c: catalog::connections::Connection) -> Self {
        Connection {
            id: c.id,
            name: c.name,
            kind: c.kind,
            host: c.host,
            port: c.port,
            database: c.database,
            username: c.username,
            ssl_mode: c.ssl_mode,
            has_password: c.has_password,
            created_at: c.created_at,
            used_by: c.used_by,
        }
    }
}

/// What Test connection found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionTest {
    pub ok: bool,
    /// "Connected", or the kind of failure ("Wrong password", "Unreachable", …).
    pub title: String,
    /// The server's version, or what failed.
    pub message: String,
}

/// A package's schedule: the same shape as a package file's `schedule`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Schedule {
    /// The recurrence, as in a package file (`{"every": …}`).
    #[schema(value_type = Object)]
    pub when: serde_json::Value,
    /// An IANA time zone name.
    pub time_zone: String,
    pub enabled: bool,
    /// The next occurrence (none when disabled or a one-time run has passed).
    pub next_run_at: Option<DateTime<Utc>>,
}
