//! Packages built in the app: their settings (name, connections, locale) and their tasks.
//! The `sync` command's files go through `packages::save_from_file`; both end in the same
//! tables, and the same editing rules hold: a changed mapping applies to records changed
//! from now on (Resync task re-applies it), a new task gets its own first run, a removed
//! task's tracking is removed by the next run, and pointing a package that already ran at
//! another connection needs a confirmation (its ID map is cleared).

use sqlx::PgPool;
use uuid::Uuid;

use super::packages::fingerprint;
use super::workspaces::require_role;
use super::{CatalogError, Role};
use engine::mapping::locale::Locale;
use engine::package::Mapping;

/// The package settings form, as typed.
#[derive(Debug, Clone, Default)]
pub struct PackageForm {
    pub name: String,
    pub source_connection: Option<Uuid>,
    pub target_connection: Option<Uuid>,
    pub locale: String,
    /// "Dedicated account for synchronization"; kept only when a side can have one.
    pub dedicated_account: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRef {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskDetail {
    pub id: Uuid,
    pub source_table: String,
    pub target_table: String,
    pub source_to_target: Mapping,
    pub target_to_source: Mapping,
    pub matching: Option<engine::package::MatchSpec>,
    pub last_sync_at: Option<chrono::DateTime<chrono::Utc>>,
    /// InitTrackingObjects done.
    pub tracking_installed: bool,
    /// A full pass is due or under way (first run, a reset, a resync).
    pub full_pass_due: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PackageDetail {
    pub id: Uuid,
    pub name: String,
    pub locale: String,
    /// "Dedicated account for synchronization" (cloud sides).
    pub dedicated_account: bool,
    pub source: Option<ConnectionRef>,
    pub target: Option<ConnectionRef>,
    pub tasks: Vec<TaskDetail>,
    /// At least one run was recorded: connection changes need a confirmation.
    pub has_run: bool,
}

async fn connection_ref(
    conn: &mut sqlx::PgConnection,
    workspace: Uuid,
    id: Option<Uuid>,
    field: &'static str,
    side: &str,
) -> Result<ConnectionRef, CatalogError> {
    let Some(id) = id else {
        return Err(CatalogError::validation(
            field,
            format!("choose the {side} connection"),
        ));
    };
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT name, kind FROM connections WHERE workspace_id = $1 AND id = $2")
            .bind(workspace)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let (name, kind) = row.ok_or_else(|| {
        CatalogError::validation(
            field,
            format!("the {side} connection no longer exists; choose another"),
        )
    })?;
    Ok(ConnectionRef { id, name, kind })
}

/// A stable identity of a saved connection for the "connection changed" rule.
fn connection_fingerprint(c: &ConnectionRef) -> String {
    fingerprint(&engine::package::ConnectionSpec::Postgres {
        url: format!("lockstep-connection://{}/{}", c.kind, c.id),
    })
}

/// Creates (`id` None) or updates a package's settings. Developers and Admins. Changing a
/// connection of a package that already ran needs `confirm_connection_change`; then its ID
/// map is cleared and every task starts over with a first run.
pub async fn save(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    id: Option<Uuid>,
    form: &PackageForm,
    confirm_connection_change: bool,
) -> Result<Uuid, CatalogError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CatalogError::validation(
            "name",
            "enter a name of 1 to 200 characters",
        ));
    }
    let locale = if form.locale.trim().is_empty() {
        "invariant"
    } else {
        form.locale.trim()
    };
    Locale::parse(locale).map_err(|m| CatalogError::validation("locale", m))?;
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    let source = connection_ref(
        &mut tx,
        workspace,
        form.source_connection,
        "source_connection",
        "source",
    )
    .await?;
    let target = connection_ref(
        &mut tx,
        workspace,
        form.target_connection,
        "target_connection",
        "target",
    )
    .await?;
    let id = match id {
        Some(id) => {
            let current: Option<(Option<Uuid>, Option<Uuid>, bool)> = sqlx::query_as(
                "SELECT source_connection_id, target_connection_id, EXISTS (SELECT 1 FROM runs WHERE package_id = p.id)
                   FROM packages p WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
            )
            .bind(workspace)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let (old_source, old_target, has_run) = current.ok_or(CatalogError::NotFound)?;
            let changed = old_source != Some(source.id) || old_target != Some(target.id);
            if changed && has_run {
                if !confirm_connection_change {
                    return Err(CatalogError::conflict(
                        "connection_change",
                        "this package has already run: its ID map pairs records of the old connections. Changing a connection \
                         clears the ID map, and the next run copies every record between the new sides as a first run — rows \
                         already present on both would then exist twice. Confirm to change it anyway",
                    ));
                }
                crate::sync_state::forget_package_pairs(&mut tx, id).await?;
                sqlx::query(
                    "UPDATE package_tasks SET tracking_installed = false, full_pass_direction = 'source_to_target',
                            full_pass_after = NULL, last_sync_at = NULL, updated_at = now() WHERE package_id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            id
        }
        None => Uuid::new_v4(),
    };
    // One statement for both: the id was checked to be this workspace's (or is new).
    sqlx::query(
        "INSERT INTO packages (id, workspace_id, name, source_kind, target_kind, source_fingerprint,
                               target_fingerprint, locale, source_connection_id, target_connection_id,
                               dedicated_account)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, source_kind = excluded.source_kind,
                target_kind = excluded.target_kind, source_fingerprint = excluded.source_fingerprint,
                target_fingerprint = excluded.target_fingerprint, locale = excluded.locale,
                source_connection_id = excluded.source_connection_id,
                target_connection_id = excluded.target_connection_id,
                dedicated_account = excluded.dedicated_account, updated_at = now()
          WHERE packages.workspace_id = excluded.workspace_id",
    )
    .bind(id)
    .bind(workspace)
    .bind(name)
    .bind(&source.kind)
    .bind(&target.kind)
    .bind(connection_fingerprint(&source))
    .bind(connection_fingerprint(&target))
    .bind(locale)
    .bind(source.id)
    .bind(target.id)
    .bind(
        form.dedicated_account
            && [&source.kind, &target.kind]
                .iter()
                .any(|k| matches!(k.as_str(), "salesforce" | "dynamics")),
    )
    .execute(&mut *tx)
    .await
    .map_err(name_taken)?;
    tx.commit().await?;
    Ok(id)
}

fn name_taken(e: sqlx::Error) -> CatalogError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => CatalogError::conflict(
            "name",
            "another package of this workspace has this name; choose another",
        ),
        _ => CatalogError::Database(e),
    }
}

/// A package with its tasks. Any member.
pub async fn get(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    id: Uuid,
) -> Result<PackageDetail, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Viewer).await?;
    type Row = (
        String,
        String,
        Option<Uuid>,
        Option<String>,
        Option<String>,
        Option<Uuid>,
        Option<String>,
        Option<String>,
        bool,
        bool,
    );
    let row: Row = sqlx::query_as(
        "SELECT p.name, p.locale, sc.id, sc.name, sc.kind, tc.id, tc.name, tc.kind,
                EXISTS (SELECT 1 FROM runs WHERE package_id = p.id), p.dedicated_account
           FROM packages p
           LEFT JOIN connections sc ON sc.id = p.source_connection_id
           LEFT JOIN connections tc ON tc.id = p.target_connection_id
          WHERE p.workspace_id = $1 AND p.id = $2",
    )
    .bind(workspace)
    .bind(id)
    .fetch_one(&mut *conn)
    .await
    .map_err(CatalogError::from_fetch)?;
    let side = |id: Option<Uuid>, name: Option<String>, kind: Option<String>| match (id, name, kind)
    {
        (Some(id), Some(name), Some(kind)) => Some(ConnectionRef { id, name, kind }),
        _ => None,
    };
    type TaskRow = (
        Uuid,
        String,
        String,
        serde_json::Value,
        serde_json::Value,
        Option<chrono::DateTime<chrono::Utc>>,
        bool,
        bool,
        Option<serde_json::Value>,
    );
    let tasks: Vec<TaskRow> = sqlx::query_as(
        "SELECT id, source_table, target_table, source_to_target, target_to_source, last_sync_at,
                tracking_installed, full_pass_direction IS NOT NULL, match_keys
           FROM package_tasks WHERE package_id = $1 ORDER BY position, created_at",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mapping = |v: serde_json::Value| -> Result<Mapping, CatalogError> {
        serde_json::from_value(v).map_err(|e| CatalogError::Database(sqlx::Error::Decode(e.into())))
    };
    Ok(PackageDetail {
        id,
        name: row.0,
        locale: row.1,
        source: side(row.2, row.3, row.4),
        target: side(row.5, row.6, row.7),
        has_run: row.8,
        dedicated_account: row.9,
        tasks: tasks
            .into_iter()
            .map(|t| {
                Ok(TaskDetail {
                    id: t.0,
                    source_table: t.1,
                    target_table: t.2,
                    source_to_target: mapping(t.3)?,
                    target_to_source: mapping(t.4)?,
                    matching: t
                        .8
                        .map(|v| {
                            serde_json::from_value(v)
                                .map_err(|e| CatalogError::Database(sqlx::Error::Decode(e.into())))
                        })
                        .transpose()?,
                    last_sync_at: t.5,
                    tracking_installed: t.6,
                    full_pass_due: t.7,
                })
            })
            .collect::<Result<_, CatalogError>>()?,
    })
}

/// A task that passed the editor's checks (tables described, mappings compiled).
#[derive(Debug, Clone)]
pub struct TaskForm {
    pub source_table: String,
    pub target_table: String,
    pub source_to_target: Mapping,
    pub target_to_source: Mapping,
    /// First-run match keys (None: the task has none).
    pub matching: Option<engine::package::MatchSpec>,
}

/// Adds (`task` None) or updates a task of a package. Developers and Admins. The caller has
/// checked the tables and mappings against the live schemas.
pub async fn save_task(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    package: Uuid,
    task: Option<Uuid>,
    form: &TaskForm,
) -> Result<Uuid, CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    let owned: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM packages WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(workspace)
    .bind(package)
    .fetch_optional(&mut *tx)
    .await?;
    owned.ok_or(CatalogError::NotFound)?;
    let id = write_task(&mut tx, package, task, form).await?;
    tx.commit().await?;
    Ok(id)
}

/// Writes a task of a package the caller locked in this transaction.
async fn write_task(
    tx: &mut sqlx::PgConnection,
    package: Uuid,
    task: Option<Uuid>,
    form: &TaskForm,
) -> Result<Uuid, CatalogError> {
    let s2t = serde_json::to_value(&form.source_to_target).expect("mappings serialize");
    let t2s = serde_json::to_value(&form.target_to_source).expect("mappings serialize");
    let matching = form
        .matching
        .as_ref()
        .map(|m| serde_json::to_value(m).expect("match keys serialize"));
    let duplicate = |e: sqlx::Error| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => CatalogError::conflict(
            "target_table",
            "this package already has a task for these two tables; edit that task instead",
        ),
        _ => CatalogError::Database(e),
    };
    let id = match task {
        Some(task) => {
            // The tables of a task are its identity (its change logs and ID map are theirs).
            let done = sqlx::query(
                "UPDATE package_tasks SET source_to_target = $3, target_to_source = $4,
                        match_keys = $7, updated_at = now()
                  WHERE package_id = $1 AND id = $2 AND source_table = $5 AND target_table = $6",
            )
            .bind(package)
            .bind(task)
            .bind(&s2t)
            .bind(&t2s)
            .bind(&form.source_table)
            .bind(&form.target_table)
            .bind(&matching)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(CatalogError::NotFound);
            }
            task
        }
        None => {
            let id = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO package_tasks (id, package_id, position, source_table, target_table, source_to_target,
                                            target_to_source, match_keys, full_pass_direction)
                 VALUES ($1, $2, (SELECT coalesce(max(position) + 1, 0) FROM package_tasks WHERE package_id = $2),
                         $3, $4, $5, $6, $7, 'source_to_target')",
            )
            .bind(id)
            .bind(package)
            .bind(&form.source_table)
            .bind(&form.target_table)
            .bind(&s2t)
            .bind(&t2s)
            .bind(&matching)
            .execute(&mut *tx)
            .await
            .map_err(duplicate)?;
            id
        }
    };
    Ok(id)
}

/// Removes a task; its change tracking is removed from both databases by the next run.
pub async fn delete_task(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    package: Uuid,
    task: Uuid,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    remove_task(&mut tx, workspace, package, task).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a task in the caller's transaction, keeping what the next run needs to remove
/// its tracking.
async fn remove_task(
    tx: &mut sqlx::PgConnection,
    workspace: Uuid,
    package: Uuid,
    task: Uuid,
) -> Result<(), CatalogError> {
    sqlx::query(
        "INSERT INTO retired_tasks (id, package_id, source_table, target_table)
         SELECT t.id, t.package_id, t.source_table, t.target_table FROM package_tasks t
           JOIN packages p ON p.id = t.package_id AND p.workspace_id = $1
          WHERE t.package_id = $2 AND t.id = $3 AND t.tracking_installed
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(workspace)
    .bind(package)
    .bind(task)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query(
        "DELETE FROM package_tasks t USING packages p
          WHERE p.id = t.package_id AND p.workspace_id = $1 AND t.package_id = $2 AND t.id = $3",
    )
    .bind(workspace)
    .bind(package)
    .bind(task)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    Ok(())
}

/// What a package file replaces of a saved package (its connections stay).
#[derive(Debug, Clone)]
pub struct Replacement {
    pub name: String,
    pub locale: String,
    pub dedicated_account: bool,
    /// Checked against the live tables by the caller.
    pub tasks: Vec<TaskForm>,
    pub schedule: Option<super::schedules::ScheduleForm>,
}

/// Replaces a package's settings, tasks and schedule with a package file's, in one
/// transaction: a task of the same two tables keeps its ID map and change logs and takes the
/// file's mappings (which apply to records changed from now on, as an edit in the app); a
/// task the file lacks is removed (its tracking by the next run); a new one gets its first
/// run. No schedule in the file removes the package's. The caller checked every task against
/// the live tables. Developers and Admins.
pub async fn replace(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    id: Uuid,
    file: &Replacement,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), CatalogError> {
    let Replacement {
        name,
        locale,
        dedicated_account,
        tasks,
        schedule,
    } = file;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CatalogError::validation(
            "name",
            "enter a name of 1 to 200 characters",
        ));
    }
    let locale = if locale.trim().is_empty() {
        "invariant"
    } else {
        locale.trim()
    };
    Locale::parse(locale).map_err(|m| CatalogError::validation("locale", m))?;
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    let kinds: Option<(String, String)> = sqlx::query_as(
        "SELECT source_kind, target_kind FROM packages WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(workspace)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (source_kind, target_kind) = kinds.ok_or(CatalogError::NotFound)?;
    sqlx::query(
        "UPDATE packages SET name = $3, locale = $4, dedicated_account = $5, updated_at = now()
          WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace)
    .bind(id)
    .bind(name)
    .bind(locale)
    .bind(
        *dedicated_account
            && [&source_kind, &target_kind]
                .iter()
                .any(|k| matches!(k.as_str(), "salesforce" | "dynamics")),
    )
    .execute(&mut *tx)
    .await
    .map_err(name_taken)?;
    let existing: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT id, source_table, target_table FROM package_tasks WHERE package_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let same_tables = |t: &TaskForm, s: &str, g: &str| t.source_table == s && t.target_table == g;
    for (task, source, target) in &existing {
        if !tasks.iter().any(|t| same_tables(t, source, target)) {
            remove_task(&mut tx, workspace, id, *task).await?;
        }
    }
    for form in tasks {
        let kept = existing
            .iter()
            .find(|(_, s, g)| same_tables(form, s, g))
            .map(|(task, ..)| *task);
        write_task(&mut tx, id, kept, form).await?;
    }
    match schedule {
        Some(form) => {
            super::schedules::write(&mut tx, workspace, id, form, now).await?;
        }
        None => {
            sqlx::query("DELETE FROM schedules WHERE workspace_id = $1 AND package_id = $2")
                .bind(workspace)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Copies a package and its tasks under a new name ("Copy of …"). The copy has its own
/// state: its tasks start with a first run and their own change logs. Developers and Admins.
pub async fn clone(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    id: Uuid,
) -> Result<Uuid, CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    let name: String =
        sqlx::query_scalar("SELECT name FROM packages WHERE workspace_id = $1 AND id = $2")
            .bind(workspace)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(CatalogError::from_fetch)?;
    // The first free "Copy of …" name.
    let mut copy_name = format!("Copy of {name}");
    let mut n = 2;
    while sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM packages WHERE workspace_id = $1 AND name = $2)",
    )
    .bind(workspace)
    .bind(&copy_name)
    .fetch_one(&mut *tx)
    .await?
    {
        copy_name = format!("Copy of {name} ({n})");
        n += 1;
    }
    let copy = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO packages (id, workspace_id, name, source_kind, target_kind, source_fingerprint, target_fingerprint,
                               locale, source_connection_id, target_connection_id)
         SELECT $3, workspace_id, $4, source_kind, target_kind, source_fingerprint, target_fingerprint, locale,
                source_connection_id, target_connection_id
           FROM packages WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace)
    .bind(id)
    .bind(copy)
    .bind(&copy_name)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO package_tasks (id, package_id, position, source_table, target_table, source_to_target,
                                    target_to_source, match_keys, full_pass_direction)
         SELECT gen_random_uuid(), $2, position, source_table, target_table, source_to_target, target_to_source,
                match_keys, 'source_to_target'
           FROM package_tasks WHERE package_id = $1",
    )
    .bind(id)
    .bind(copy)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(copy)
}

/// The tasks whose change tracking is installed, with the package's connections: what must
/// be removed from the synced databases before the package goes.
pub async fn installed_tracking(
    pool: &PgPool,
    workspace: Uuid,
    id: Uuid,
) -> Result<Vec<super::packages::RetiredTask>, CatalogError> {
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT t.id, t.source_table, t.target_table FROM package_tasks t
           JOIN packages p ON p.id = t.package_id AND p.workspace_id = $1
          WHERE t.package_id = $2 AND t.tracking_installed
         UNION ALL
         SELECT r.id, r.source_table, r.target_table FROM retired_tasks r
           JOIN packages p ON p.id = r.package_id AND p.workspace_id = $1
          WHERE r.package_id = $2",
    )
    .bind(workspace)
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, source_table, target_table)| super::packages::RetiredTask {
                id,
                source_table,
                target_table,
            },
        )
        .collect())
}

/// Deletes a package with its tasks, ID map and run history. Developers and Admins. The
/// caller removes change tracking from the synced databases first (`installed_tracking`).
pub async fn delete(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    id: Uuid,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    let done = sqlx::query("DELETE FROM packages WHERE workspace_id = $1 AND id = $2")
        .bind(workspace)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// A package as the `sync` command's file: its connections' URLs without passwords, its
/// settings, tasks and schedule. Any member.
pub async fn export(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    id: Uuid,
) -> Result<engine::package::Package, CatalogError> {
    use engine::package::{Package, TableRef, TaskSpec};
    let p = get(pool, user, workspace, id).await?;
    let (Some(source), Some(target)) = (&p.source, &p.target) else {
        return Err(CatalogError::validation(
            "package",
            "choose the package's source and target connections before exporting it",
        ));
    };
    let source = super::connections::spec_without_password(pool, workspace, source.id).await?;
    let target = super::connections::spec_without_password(pool, workspace, target.id).await?;
    let table = |t: &str| {
        TableRef::parse(t).map_err(|e| CatalogError::Database(sqlx::Error::Decode(e.into())))
    };
    let tasks = p
        .tasks
        .into_iter()
        .map(|t| {
            Ok(TaskSpec {
                source: table(&t.source_table)?,
                target: table(&t.target_table)?,
                source_to_target: t.source_to_target,
                target_to_source: t.target_to_source,
                matching: t.matching,
            })
        })
        .collect::<Result<_, CatalogError>>()?;
    let schedule = super::schedules::get(pool, user, workspace, id)
        .await?
        .map(|s| engine::package::PackageSchedule {
            when: s.schedule,
            time_zone: s.time_zone,
            enabled: s.enabled,
        });
    Ok(Package {
        name: p.name,
        source,
        target,
        locale: p.locale,
        dedicated_account: p.dedicated_account,
        tasks,
        schedule,
    })
}

/// Creates a package from an imported file on the chosen connections, with its tasks (which
/// the caller checked against the live tables) and schedule. Developers and Admins. The new
/// package gets its first run like any other.
pub async fn import(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    settings: &PackageForm,
    tasks: &[TaskForm],
    schedule: Option<&super::schedules::ScheduleForm>,
) -> Result<Uuid, CatalogError> {
    let id = save(pool, user, workspace, None, settings, false).await?;
    for task in tasks {
        save_task(pool, user, workspace, id, None, task).await?;
    }
    if let Some(schedule) = schedule {
        super::schedules::save(pool, user, workspace, id, schedule, chrono::Utc::now()).await?;
    }
    Ok(id)
}
