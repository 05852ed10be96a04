//! Packages and their tasks in our metadata database, saved from the package file.
//!
//! Editing rules (better than "reset and truncate"): a task is identified by its pair of
//! tables; a changed mapping applies to records changed from now on; a new task gets its own
//! first run; a removed task's ID map goes with it, and its change tracking is removed from
//! both databases by the package's next run (`retired_tasks`). A package whose source or
//! target database changed is refused unless the caller allows it, because its ID map
//! describes the old one.

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::CatalogError;
use engine::package::{ConnectionSpec, Package};

/// A saved package: its id and its tasks' ids in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPackage {
    pub id: Uuid,
    pub tasks: Vec<Uuid>,
}

/// Identifies the database a connection reaches, without its password.
pub fn fingerprint(spec: &ConnectionSpec) -> String {
    if spec.is_cloud() {
        let shown = format!(
            "{}://{}@{}",
            spec.kind(),
            spec.account(),
            spec.url().trim_end_matches('/').to_lowercase()
        );
        return hex::encode(Sha256::digest(shown.as_bytes()));
    }
    let shown = match url::Url::parse(spec.url()) {
        Ok(u) => format!(
            "{}://{}@{}:{}{}",
            spec.kind(),
            u.username(),
            u.host_str().unwrap_or_default().to_lowercase(),
            u.port().map(|p| p.to_string()).unwrap_or_default(),
            u.path()
        ),
        Err(_) => format!("{}:{}", spec.kind(), spec.url()),
    };
    hex::encode(Sha256::digest(shown.as_bytes()))
}

/// Creates or updates the package named in `package` in the workspace.
pub async fn save_from_file(
    pool: &PgPool,
    workspace_id: Uuid,
    package: &Package,
    allow_connection_change: bool,
) -> Result<SavedPackage, CatalogError> {
    let (source_fp, target_fp) = (fingerprint(&package.source), fingerprint(&package.target));
    let mut tx = pool.begin().await?;
    super::audit::stamp_headless(&mut tx, "command line").await?;
    let existing: Option<(Uuid, String, String)> = sqlx::query_as(
        "SELECT id, source_fingerprint, target_fingerprint FROM packages WHERE workspace_id = $1 AND name = $2 FOR UPDATE",
    )
    .bind(workspace_id)
    .bind(package.name.trim())
    .fetch_optional(&mut *tx)
    .await?;
    let id = match existing {
        Some((id, old_source, old_target)) => {
            let changed: Vec<&str> = [
                ("source", old_source != source_fp),
                ("target", old_target != target_fp),
            ]
            .into_iter()
            .filter_map(|(side, changed)| changed.then_some(side))
            .collect();
            if !changed.is_empty() {
                if !allow_connection_change {
                    return Err(CatalogError::conflict(
                        "connection",
                        format!(
                            "the {} connection of package “{}” points to another database than when it last ran. Its ID map \
                             describes the old database, so running now could duplicate records. If the new database is \
                             meant to replace the old one as a fresh side, run again with --allow-connection-change: the \
                             ID map is cleared and the next run copies everything between the two databases",
                            changed.join(" and "),
                            package.name
                        ),
                    ));
                }
                crate::sync_state::forget_package_pairs(&mut tx, id).await?;
                sqlx::query(
                    "UPDATE package_tasks SET tracking_installed = false, full_pass_direction = 'source_to_target',
                            full_pass_after = NULL, updated_at = now() WHERE package_id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "UPDATE packages SET source_kind = $2, target_kind = $3, source_fingerprint = $4, target_fingerprint = $5,
                        locale = $6, dedicated_account = $7, updated_at = now() WHERE id = $1",
            )
            .bind(id)
            .bind(package.source.kind())
            .bind(package.target.kind())
            .bind(&source_fp)
            .bind(&target_fp)
            .bind(&package.locale)
            .bind(package.dedicated_account)
            .execute(&mut *tx)
            .await?;
            id
        }
        None => {
            let id = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO packages (id, workspace_id, name, source_kind, target_kind, source_fingerprint, target_fingerprint, locale, dedicated_account)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id)
            .bind(workspace_id)
            .bind(package.name.trim())
            .bind(package.source.kind())
            .bind(package.target.kind())
            .bind(&source_fp)
            .bind(&target_fp)
            .bind(&package.locale)
            .bind(package.dedicated_account)
            .execute(&mut *tx)
            .await?;
            id
        }
    };

    let mut tasks = Vec::with_capacity(package.tasks.len());
    for (position, task) in package.tasks.iter().enumerate() {
        let task_id: Uuid = sqlx::query_scalar(
            "INSERT INTO package_tasks (id, package_id, position, source_table, target_table, source_to_target,
                                        target_to_source, match_keys, full_pass_direction)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'source_to_target')
             ON CONFLICT (package_id, source_table, target_table) DO UPDATE
               SET position = excluded.position, source_to_target = excluded.source_to_target,
                   target_to_source = excluded.target_to_source, match_keys = excluded.match_keys,
                   updated_at = now()
             RETURNING id",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(position as i32)
        .bind(task.source.to_string())
        .bind(task.target.to_string())
        .bind(serde_json::to_value(&task.source_to_target).expect("mappings serialize"))
        .bind(serde_json::to_value(&task.target_to_source).expect("mappings serialize"))
        .bind(
            task.matching
                .as_ref()
                .map(|m| serde_json::to_value(m).expect("match keys serialize")),
        )
        .fetch_one(&mut *tx)
        .await?;
        tasks.push(task_id);
    }
    // Removed tasks whose change tracking was installed: remembered until a run removes it.
    sqlx::query(
        "INSERT INTO retired_tasks (id, package_id, source_table, target_table)
         SELECT id, package_id, source_table, target_table FROM package_tasks
          WHERE package_id = $1 AND id <> ALL($2) AND tracking_installed
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(&tasks)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM package_tasks WHERE package_id = $1 AND id <> ALL($2)")
        .bind(id)
        .bind(&tasks)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(SavedPackage { id, tasks })
}

/// A removed task whose change tracking is still installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredTask {
    pub id: Uuid,
    pub source_table: String,
    pub target_table: String,
}

pub async fn retired_tasks(
    pool: &PgPool,
    package_id: Uuid,
) -> Result<Vec<RetiredTask>, CatalogError> {
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT id, source_table, target_table FROM retired_tasks WHERE package_id = $1 ORDER BY retired_at",
    )
    .bind(package_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, source_table, target_table)| RetiredTask {
            id,
            source_table,
            target_table,
        })
        .collect())
}

/// The retired task's tracking is gone from both databases.
pub async fn forget_retired_task(pool: &PgPool, id: Uuid) -> Result<(), CatalogError> {
    sqlx::query("DELETE FROM retired_tasks WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// A package as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSummary {
    pub id: Uuid,
    pub name: String,
    pub source_kind: String,
    pub target_kind: String,
    /// The connections' names, for packages built in the app (the `sync` command's files
    /// carry their URLs instead).
    pub source_connection: Option<String>,
    pub target_connection: Option<String>,
    pub tasks: i64,
    pub last_run: Option<LastRun>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    pub state: wire::RunState,
    pub at: chrono::DateTime<chrono::Utc>,
    pub started_by: String,
}

/// Packages the list shows at once.
pub const PACKAGES_PER_PAGE: i64 = 50;

/// A page of the workspace's packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagePage {
    pub packages: Vec<PackageSummary>,
    /// The last package shown, when more follow: the next page starts after it.
    pub next: Option<Uuid>,
    /// How many packages the workspace has.
    pub total: i64,
}

/// The workspace's packages by name with their last run, [`PACKAGES_PER_PAGE`] at a time,
/// starting after package `after` (by name, then id: a keyset, so a page costs the same
/// wherever it is; a package since deleted starts the list over). Any member.
pub async fn list(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    after: Option<Uuid>,
) -> Result<PackagePage, CatalogError> {
    type Row = (
        Uuid,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        i64,
        Option<wire::RunState>,
        Option<chrono::DateTime<chrono::Utc>>,
        Option<String>,
    );
    let mut conn = pool.acquire().await?;
    super::workspaces::require_role(&mut conn, workspace, user, super::Role::Viewer).await?;
    let start: Option<(String, Uuid)> = match after {
        Some(id) => {
            sqlx::query_as(
                "SELECT lower(name), id FROM packages WHERE id = $1 AND workspace_id = $2",
            )
            .bind(id)
            .bind(workspace)
            .fetch_optional(&mut *conn)
            .await?
        }
        None => None,
    };
    let mut rows: Vec<Row> = sqlx::query_as(
        "SELECT p.id, p.name, p.source_kind, p.target_kind, sc.name, tc.name,
                (SELECT count(*) FROM package_tasks t WHERE t.package_id = p.id),
                r.state, coalesce(r.finished_at, r.started_at, r.queued_at), r.started_by
           FROM packages p
           LEFT JOIN connections sc ON sc.id = p.source_connection_id
           LEFT JOIN connections tc ON tc.id = p.target_connection_id
           LEFT JOIN LATERAL (SELECT state, finished_at, started_at, queued_at, started_by FROM runs
                               WHERE runs.package_id = p.id ORDER BY queued_at DESC LIMIT 1) r ON true
          WHERE p.workspace_id = $1
            AND ($2::text IS NULL OR (lower(p.name), p.id) > ($2, $3))
          ORDER BY lower(p.name), p.id
          LIMIT $4",
    )
    .bind(workspace)
    .bind(start.as_ref().map(|(name, _)| name))
    .bind(start.as_ref().map(|(_, id)| *id))
    .bind(PACKAGES_PER_PAGE + 1)
    .fetch_all(&mut *conn)
    .await?;
    let (total,): (i64,) = sqlx::query_as("SELECT count(*) FROM packages WHERE workspace_id = $1")
        .bind(workspace)
        .fetch_one(&mut *conn)
        .await?;
    let more = rows.len() as i64 > PACKAGES_PER_PAGE;
    rows.truncate(PACKAGES_PER_PAGE as usize);
    let next = more.then(|| rows.last().map(|r| r.0)).flatten();
    let packages = rows
        .into_iter()
        .map(|r| PackageSummary {
            id: r.0,
            name: r.1,
            source_kind: r.2,
            target_kind: r.3,
            source_connection: r.4,
            target_connection: r.5,
            tasks: r.6,
            last_run: match (r.7, r.8, r.9) {
                (Some(state), Some(at), Some(started_by)) => Some(LastRun {
                    state,
                    at,
                    started_by,
                }),
                _ => None,
            },
        })
        .collect();
    Ok(PackagePage {
        packages,
        next,
        total,
    })
}

/// A package as a run needs it: its settings and its tasks in order.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPackage {
    pub id: Uuid,
    pub name: String,
    pub locale: String,
    pub dedicated_account: bool,
    pub source_connection: Option<Uuid>,
    pub target_connection: Option<Uuid>,
    pub tasks: Vec<StoredTask>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask {
    pub id: Uuid,
    pub source_table: String,
    pub target_table: String,
    pub source_to_target: engine::package::Mapping,
    pub target_to_source: engine::package::Mapping,
    pub matching: Option<engine::package::MatchSpec>,
}

/// Reads a package for a run (the worker that claimed the run resolved the workspace).
pub async fn stored(
    pool: &PgPool,
    workspace_id: Uuid,
    id: Uuid,
) -> Result<StoredPackage, CatalogError> {
    let (name, locale, dedicated_account, source_connection, target_connection): (
        String,
        String,
        bool,
        Option<Uuid>,
        Option<Uuid>,
    ) = sqlx::query_as(
        "SELECT name, locale, dedicated_account, source_connection_id, target_connection_id FROM packages
          WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_one(pool)
    .await
    .map_err(CatalogError::from_fetch)?;
    type TaskRow = (
        Uuid,
        String,
        String,
        serde_json::Value,
        serde_json::Value,
        Option<serde_json::Value>,
    );
    let rows: Vec<TaskRow> = sqlx::query_as(
        "SELECT id, source_table, target_table, source_to_target, target_to_source, match_keys
           FROM package_tasks WHERE package_id = $1 ORDER BY position, created_at",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    fn decoded<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, CatalogError> {
        serde_json::from_value(v).map_err(|e| CatalogError::Database(sqlx::Error::Decode(e.into())))
    }
    let mapping = decoded::<engine::package::Mapping>;
    let tasks = rows
        .into_iter()
        .map(|(id, source_table, target_table, s2t, t2s, matching)| {
            Ok(StoredTask {
                id,
                source_table,
                target_table,
                source_to_target: mapping(s2t)?,
                target_to_source: mapping(t2s)?,
                matching: matching.map(decoded).transpose()?,
            })
        })
        .collect::<Result<_, CatalogError>>()?;
    Ok(StoredPackage {
        id,
        name,
        locale,
        dedicated_account,
        source_connection,
        target_connection,
        tasks,
    })
}
