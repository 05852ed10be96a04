//! Lists of runs, newest first, with filters, a page at a time by *keyset*: a page starts
//! after (or before) the position of a run it names, `(queued_at, id)`, which the index
//! `runs_workspace_idx` / `runs_package_idx` holds in that order. Any page costs the same as
//! the first (no OFFSET that reads every row before it), and a run queued while someone pages
//! does not shift the pages they have yet to see. Any member of the workspace.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::history::{Row, RunRow, SELECT};
use crate::workspaces::require_role;
use crate::{CatalogError, Role};
use wire::RunState;

/// Where a run stands in the list: its queued time, then its id (two runs queued in the same
/// microsecond still have an order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunPosition {
    pub queued_at: DateTime<Utc>,
    pub id: Uuid,
}

/// Which page of the list to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageStart {
    /// The newest runs.
    #[default]
    Newest,
    /// The runs just older than this one.
    Older(RunPosition),
    /// The runs just newer than this one.
    Newer(RunPosition),
    /// The oldest runs.
    Oldest,
}

impl PageStart {
    /// The page as a URL parameter: `older.<micros>.<id>`, `newer.<micros>.<id>`, `oldest`
    /// (nothing for the newest page).
    pub fn to_param(self) -> Option<String> {
        let position =
            |p: RunPosition| format!("{}.{}", p.queued_at.timestamp_micros(), p.id.simple());
        match self {
            PageStart::Newest => None,
            PageStart::Older(p) => Some(format!("older.{}", position(p))),
            PageStart::Newer(p) => Some(format!("newer.{}", position(p))),
            PageStart::Oldest => Some("oldest".into()),
        }
    }

    /// Reads [`to_param`](Self::to_param)'s text back; `None` for anything else.
    pub fn parse(param: &str) -> Option<PageStart> {
        let param = param.trim();
        if param.is_empty() || param == "newest" {
            return Some(PageStart::Newest);
        }
        if param == "oldest" {
            return Some(PageStart::Oldest);
        }
        let mut parts = param.splitn(3, '.');
        let (which, micros, id) = (parts.next()?, parts.next()?, parts.next()?);
        let position = RunPosition {
            queued_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        };
        match which {
            "older" => Some(PageStart::Older(position)),
            "newer" => Some(PageStart::Newer(position)),
            _ => None,
        }
    }
}

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub package: Option<Uuid>,
    pub state: Option<RunState>,
    /// Runs that failed or had failed records.
    pub failed_only: bool,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// A page of runs, newest first, and where its neighbours start.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPage {
    pub runs: Vec<RunRow>,
    /// Set when newer runs match: the page before this one starts at `Newer(this)`.
    pub newer: Option<RunPosition>,
    /// Set when older runs match: the page after this one starts at `Older(this)`.
    pub older: Option<RunPosition>,
}

/// How many runs [`count`] counts before it says "more than".
pub const COUNT_LIMIT: i64 = 1000;

/// How many runs match, counted up to [`COUNT_LIMIT`] + 1 (so a huge history costs no more
/// than a thousand index entries): `(count, exact)`.
pub async fn count(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    filter: &RunFilter,
) -> Result<(i64, bool), CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Viewer).await?;
    count_on(&mut conn, workspace, filter).await
}

/// One page of at most `per_page` (1–200) runs.
pub async fn list(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    filter: &RunFilter,
    start: PageStart,
    per_page: u32,
) -> Result<RunPage, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Viewer).await?;
    page_on(&mut conn, workspace, filter, start, per_page).await
}

/// [`list`] and [`count`] together, on one connection and one role check (the Runs page).
pub async fn list_counted(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    filter: &RunFilter,
    start: PageStart,
    per_page: u32,
) -> Result<(RunPage, (i64, bool)), CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Viewer).await?;
    let page = page_on(&mut conn, workspace, filter, start, per_page).await?;
    Ok((page, count_on(&mut conn, workspace, filter).await?))
}

async fn count_on(
    conn: &mut sqlx::PgConnection,
    workspace: Uuid,
    filter: &RunFilter,
) -> Result<(i64, bool), CatalogError> {
    let mut query = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM runs r ");
    conditions(&mut query, workspace, filter);
    query.push(" LIMIT ").push_bind(COUNT_LIMIT + 1).push(") c");
    let (n,): (i64,) = query.build_query_as().fetch_one(conn).await?;
    Ok((n.min(COUNT_LIMIT), n <= COUNT_LIMIT))
}

/// The page's runs in list order (newest first), and whether more lie beyond it in the
/// direction it was read.
async fn read_page(
    conn: &mut sqlx::PgConnection,
    workspace: Uuid,
    filter: &RunFilter,
    start: PageStart,
    per_page: i64,
) -> Result<(Vec<RunRow>, bool), CatalogError> {
    let (after, newest_first) = match start {
        PageStart::Newest => (None, true),
        PageStart::Older(p) => (Some((p, "<")), true),
        PageStart::Newer(p) => (Some((p, ">")), false),
        PageStart::Oldest => (None, false),
    };
    let mut query = QueryBuilder::new(SELECT);
    query.push(" ");
    conditions(&mut query, workspace, filter);
    if let Some((p, op)) = after {
        push_position(&mut query, op, p);
    }
    let order = if newest_first { "DESC" } else { "ASC" };
    query
        .push(format!(
            " ORDER BY r.queued_at {order}, r.id {order} LIMIT "
        ))
        .push_bind(per_page + 1);
    let mut rows: Vec<RunRow> = query
        .build_query_as::<Row>()
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(Row::into_run)
        .collect();
    let more = rows.len() as i64 > per_page;
    rows.truncate(per_page as usize);
    if !newest_first {
        rows.reverse();
    }
    Ok((rows, more))
}

async fn page_on(
    conn: &mut sqlx::PgConnection,
    workspace: Uuid,
    filter: &RunFilter,
    mut start: PageStart,
    per_page: u32,
) -> Result<RunPage, CatalogError> {
    let per_page = i64::from(per_page.clamp(1, 200));
    let (mut rows, mut more) = read_page(conn, workspace, filter, start, per_page).await?;
    if matches!(start, PageStart::Newer(_)) && !more {
        // Nothing newer beyond this page: it is the newest page, shown full.
        start = PageStart::Newest;
        (rows, more) = read_page(conn, workspace, filter, start, per_page).await?;
    }
    let position = |r: &RunRow| RunPosition {
        queued_at: r.queued_at,
        id: r.id,
    };
    let (Some(first), Some(last)) = (rows.first().map(position), rows.last().map(position)) else {
        return Ok(RunPage {
            runs: rows,
            newer: None,
            older: None,
        });
    };
    // The side this page was read towards is known from the extra row; the other side is
    // asked (one index probe).
    let (newer, older) = match start {
        PageStart::Newest => (false, more),
        PageStart::Oldest => (more, false),
        PageStart::Older(_) => (exists(conn, workspace, filter, ">", first).await?, more),
        PageStart::Newer(_) => (more, exists(conn, workspace, filter, "<", last).await?),
    };
    Ok(RunPage {
        runs: rows,
        newer: newer.then_some(first),
        older: older.then_some(last),
    })
}

/// Whether a run matching the filter stands on the `op` side of `p` (`>`: newer).
///
/// Asked as "the nearest such run", in index order, not as `EXISTS`: once a statement runs on
/// a generic plan, PostgreSQL guesses a third of the runs match a row comparison and answers
/// `EXISTS` by a sequential scan, which reads the whole history when none matches (the
/// newest page asking for newer runs: 25 ms at 100,000 runs, against 0.05 ms by the index).
async fn exists(
    conn: &mut sqlx::PgConnection,
    workspace: Uuid,
    filter: &RunFilter,
    op: &str,
    p: RunPosition,
) -> Result<bool, CatalogError> {
    let mut query = QueryBuilder::new("SELECT 1 FROM runs r ");
    conditions(&mut query, workspace, filter);
    push_position(&mut query, op, p);
    let nearest_first = if op == ">" { "ASC" } else { "DESC" };
    query.push(format!(
        " ORDER BY r.queued_at {nearest_first}, r.id {nearest_first} LIMIT 1"
    ));
    let found: Option<(i32,)> = query.build_query_as().fetch_optional(conn).await?;
    Ok(found.is_some())
}

fn push_position(query: &mut QueryBuilder<'_, Postgres>, op: &str, p: RunPosition) {
    query
        .push(format!(" AND (r.queued_at, r.id) {op} ("))
        .push_bind(p.queued_at)
        .push(", ")
        .push_bind(p.id)
        .push(")");
}

/// The filter's conditions, only those set: each combination is its own prepared statement,
/// so PostgreSQL plans the package filter on the package index rather than a generic plan
/// that must also serve "any package".
fn conditions(query: &mut QueryBuilder<'_, Postgres>, workspace: Uuid, filter: &RunFilter) {
    query.push("WHERE r.workspace_id = ").push_bind(workspace);
    if let Some(package) = filter.package {
        query.push(" AND r.package_id = ").push_bind(package);
    }
    if let Some(state) = filter.state {
        query.push(" AND r.state = ").push_bind(state);
    }
    if filter.failed_only {
        query.push(
            " AND (r.state = 'failed' OR EXISTS (SELECT 1 FROM run_errors e WHERE e.run_id = r.id))",
        );
    }
    if let Some(from) = filter.from {
        query.push(" AND r.queued_at >= ").push_bind(from);
    }
    if let Some(until) = filter.until {
        query.push(" AND r.queued_at < ").push_bind(until);
    }
}
