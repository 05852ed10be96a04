//! The audit log: who created, changed or deleted connections, packages, tasks, schedules,
//! members, invitations and tokens, and who started or canceled runs. Admins read it.
//!
//! Entries are written by database triggers (migration `…_audit_log.sql`) in the
//! transaction of the change, so every path that changes those tables is logged, and a
//! change that rolls back leaves no entry. Who acted is stamped on the transaction:
//! [`workspaces::require_role`](super::workspaces::require_role) names the person (and the
//! API token, when the request came with one: [`within_request`]); [`stamp`] does it where a
//! change needs no role (accepting an invitation, a new account's workspace). A run row says
//! itself who started it (a person, a token, the schedule, the command line). The token is
//! task-local: work an API request hands to a task it spawns is logged as the member.

use std::cell::Cell;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::workspaces::require_role;
use super::{CatalogError, Role};

tokio::task_local! {
    /// The API token the current request acts with (set by the REST API).
    static REQUEST_TOKEN: Cell<Option<Uuid>>;
}

/// Runs `request` with room to record the API token it acts with ([`act_with_token`]).
pub async fn within_request<F: Future>(request: F) -> F::Output {
    REQUEST_TOKEN.scope(Cell::new(None), request).await
}

/// Records that the current request acts with `token`: its changes are logged as the token's.
/// Outside [`within_request`] it does nothing.
pub fn act_with_token(token: Uuid) {
    let _ = REQUEST_TOKEN.try_with(|t| t.set(Some(token)));
}

/// The API token the current request acts with, if any.
pub(crate) fn request_token() -> Option<Uuid> {
    REQUEST_TOKEN.try_with(Cell::get).ok().flatten()
}

/// Names `user` as who acts in the current transaction (where no role check does).
pub(crate) async fn stamp(conn: &mut PgConnection, user: Uuid) -> Result<(), CatalogError> {
    sqlx::query("SELECT set_config('lockstep.actor_user', $1::text, true)")
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}

/// Names a headless actor (`command line`) for the current transaction's changes.
pub(crate) async fn stamp_headless(
    conn: &mut PgConnection,
    kind: &'static str,
) -> Result<(), CatalogError> {
    sqlx::query("SELECT set_config('lockstep.actor_kind', $1, true)")
        .bind(kind)
        .execute(conn)
        .await?;
    Ok(())
}

/// Who made an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Person {
        email: Option<String>,
    },
    Token {
        name: Option<String>,
        email: Option<String>,
    },
    Schedule,
    CommandLine,
    System,
}

impl Actor {
    /// As the log shows it: "ann@example.com", "token “CI” of ann@example.com", "schedule".
    pub fn label(&self) -> String {
        let gone = |e: &Option<String>| e.clone().unwrap_or_else(|| "a deleted account".into());
        match self {
            Actor::Person { email } => gone(email),
            Actor::Token { name, email } => format!(
                "token “{}” of {}",
                name.as_deref().unwrap_or("(deleted)"),
                gone(email)
            ),
            Actor::Schedule => "schedule".into(),
            Actor::CommandLine => "command line".into(),
            Actor::System => "system".into(),
        }
    }
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// created, changed, deleted, revoked, accepted, started, canceled.
    pub action: String,
    /// connection, package, task, schedule, member, invitation, token, run.
    pub object_kind: String,
    pub object_id: Option<String>,
    pub object_name: Option<String>,
    /// What changed, in words (never a secret's value).
    pub summary: String,
}

/// What kinds of things the log names.
pub const OBJECT_KINDS: [&str; 8] = [
    "connection",
    "package",
    "task",
    "schedule",
    "member",
    "invitation",
    "token",
    "run",
];

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub object_kind: Option<String>,
    /// Entries whose actor's email (a person's, or a token's member's) contains this,
    /// ignoring case.
    pub who: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Where a page starts: after this entry (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditPosition {
    pub at: DateTime<Utc>,
    pub id: i64,
}

impl AuditPosition {
    /// `<µs since the epoch>.<id>`, for a link.
    pub fn to_param(self) -> String {
        format!("{}.{}", self.at.timestamp_micros(), self.id)
    }

    pub fn parse(text: &str) -> Option<AuditPosition> {
        let (micros, id) = text.split_once('.')?;
        Some(AuditPosition {
            at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

/// A page of entries, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub entries: Vec<Entry>,
    /// Set when older entries follow: the next page starts after it.
    pub older: Option<AuditPosition>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: DateTime<Utc>,
    actor_kind: String,
    actor_email: Option<String>,
    actor_token_name: Option<String>,
    action: String,
    object_kind: String,
    object_id: Option<String>,
    object_name: Option<String>,
    summary: String,
}

impl Row {
    fn into_entry(self) -> Entry {
        let actor = match self.actor_kind.as_str() {
            "person" => Actor::Person {
                email: self.actor_email,
            },
            "token" => Actor::Token {
                name: self.actor_token_name,
                email: self.actor_email,
            },
            "schedule" => Actor::Schedule,
            "command line" => Actor::CommandLine,
            _ => Actor::System,
        };
        Entry {
            id: self.id,
            at: self.at,
            actor,
            action: self.action,
            object_kind: self.object_kind,
            object_id: self.object_id,
            object_name: self.object_name,
            summary: self.summary,
        }
    }
}

fn check(filter: &AuditFilter) -> Result<(), CatalogError> {
    if let Some(kind) = &filter.object_kind
        && !OBJECT_KINDS.contains(&kind.as_str())
    {
        return Err(CatalogError::validation(
            "kind",
            format!("“{kind}” is not a kind of entry; choose one from the list"),
        ));
    }
    Ok(())
}

/// Entries of the workspace, newest first, `per_page` (1–500) at a time after `after`.
/// Admins only.
pub async fn list(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    filter: &AuditFilter,
    after: Option<AuditPosition>,
    per_page: u32,
) -> Result<AuditPage, CatalogError> {
    check(filter)?;
    let per_page = per_page.clamp(1, 500);
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Admin).await?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, at, actor_kind, actor_email, actor_token_name, action, object_kind, object_id,
                object_name, summary
           FROM audit_log
          WHERE workspace_id = $1
            AND ($2::text IS NULL OR object_kind = $2)
            AND ($3::timestamptz IS NULL OR at >= $3)
            AND ($4::timestamptz IS NULL OR at < $4)
            AND ($5::timestamptz IS NULL OR (at, id) < ($5, $6))
            AND ($8::text IS NULL OR strpos(lower(coalesce(actor_email, '')), lower($8)) > 0)
          ORDER BY at DESC, id DESC
          LIMIT $7",
    )
    .bind(workspace)
    .bind(&filter.object_kind)
    .bind(filter.from)
    .bind(filter.until)
    .bind(after.map(|a| a.at))
    .bind(after.map_or(0, |a| a.id))
    .bind(i64::from(per_page) + 1)
    .bind(&filter.who)
    .fetch_all(&mut *conn)
    .await?;
    let mut entries: Vec<Entry> = rows.into_iter().map(Row::into_entry).collect();
    let older = (entries.len() > per_page as usize).then(|| {
        entries.truncate(per_page as usize);
        let last = entries.last().expect("a full page");
        AuditPosition {
            at: last.at,
            id: last.id,
        }
    });
    Ok(AuditPage { entries, older })
}
