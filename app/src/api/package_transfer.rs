//! Importing a package file — the `sync` command's JSON (the export is a plain download,
//! `GET /packages/{id}/export.json`).

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;

/// Creates a package from a package file on the chosen connections, named as the file says
/// unless `name` is given (the file's own URLs are
/// not used: its passwords are never in it), with its tasks and schedule. Every task is
/// checked against the live tables first; nothing is created unless all pass. Developers
/// and Admins.
#[server(endpoint = "import_package")]
pub async fn import_package(
    workspace_id: Uuid,
    text: String,
    source_connection: Option<Uuid>,
    target_connection: Option<Uuid>,
    #[server(default)] name: Option<String>,
) -> Result<Uuid, AppError> {
    use super::ssr::*;
    use crate::state::AppState;
    let state = state();
    respond(async move {
        let AppState { pool, secrets, .. } = state?;
        let user = require_user().await?;
        let mut file =
            engine::package::Package::from_json(&text).map_err(|e| AppError::Validation {
                field: "text".into(),
                message: format!("not a package file: {e}"),
            })?;
        // A name given here replaces the file's (importing one file twice, say).
        if let Some(name) = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
            file.name = name;
        }
        let id = file_import::create(
            &pool,
            &secrets,
            user.id,
            workspace_id,
            &file,
            (source_connection, target_connection),
            "text",
        )
        .await?;
        leptos_axum::redirect(&format!("/packages/{id}"));
        Ok(id)
    })
    .await
}

/// Packages from package files, for the import page and the REST API: every task is checked
/// against the live tables of the chosen connections first, with the place of each problem
/// named (`tasks[2] (public.a → public.b): …`); nothing is written unless all pass.
#[cfg(feature = "ssr")]
pub mod file_import {
    use catalog::package_editor::{self, PackageForm, Replacement, TaskForm};
    use engine::package::Package;
    use uuid::Uuid;

    use super::super::package_editor::ssr_only::{check_task, connect};
    use crate::error::AppError;

    /// The file's locale, parsed; a bad one names the file's field.
    fn locale(file: &Package, field: &str) -> Result<(), AppError> {
        engine::mapping::locale::Locale::parse(&file.locale)
            .map(|_| ())
            .map_err(|message| AppError::Validation {
                field: field.into(),
                message: format!("locale: {message}"),
            })
    }

    fn schedule(file: &Package) -> Option<catalog::schedules::ScheduleForm> {
        file.schedule
            .as_ref()
            .map(|s| catalog::schedules::ScheduleForm {
                schedule: s.when.clone(),
                time_zone: s.time_zone.clone(),
                enabled: s.enabled,
            })
    }

    /// Checks every task of `file` against the tables of two saved connections. `field`
    /// names the request field holding the file (`text` on the import page, `package` in
    /// the API).
    pub async fn checked_tasks(
        pool: &sqlx::PgPool,
        secrets: &catalog::secrets::SecretBox,
        workspace: Uuid,
        file: &Package,
        (source, target): (Uuid, Uuid),
        field: &str,
    ) -> Result<Vec<TaskForm>, AppError> {
        locale(file, field)?;
        let locale =
            engine::mapping::locale::Locale::parse(&file.locale).map_err(|_| AppError::Internal)?;
        let source_conn = connect(pool, secrets, workspace, source, "source").await?;
        let target_conn = connect(pool, secrets, workspace, target, "target").await?;
        let mut tasks = Vec::with_capacity(file.tasks.len());
        for (i, task) in file.tasks.iter().enumerate() {
            let checked = check_task(
                source_conn.as_ref(),
                target_conn.as_ref(),
                (&task.source.to_string(), &task.target.to_string()),
                (&task.source_to_target, &task.target_to_source),
                locale,
            )
            .await
            .map_err(|(problem, message)| AppError::Validation {
                field: field.into(),
                message: format!(
                    "tasks[{i}] ({} → {}): {problem}: {message}",
                    task.source, task.target
                ),
            })?;
            if let Some(keys) = &task.matching {
                engine::sync::Matching::compile(
                    keys,
                    &checked.source_schema,
                    &checked.target_schema,
                )
                .map_err(|e| AppError::Validation {
                    field: field.into(),
                    message: format!("tasks[{i}] ({} → {}): {e}", task.source, task.target),
                })?;
            }
            tasks.push(TaskForm {
                source_table: checked.source.to_string(),
                target_table: checked.target.to_string(),
                source_to_target: task.source_to_target.clone(),
                target_to_source: task.target_to_source.clone(),
                matching: task.matching.clone(),
            });
        }
        Ok(tasks)
    }

    /// Creates a package from `file` on two saved connections (the file's own URLs are not
    /// used: its passwords are never in it), with its tasks and schedule. Developers and
    /// Admins.
    pub async fn create(
        pool: &sqlx::PgPool,
        secrets: &catalog::secrets::SecretBox,
        user: Uuid,
        workspace: Uuid,
        file: &Package,
        (source, target): (Option<Uuid>, Option<Uuid>),
        field: &str,
    ) -> Result<Uuid, AppError> {
        {
            let mut conn = pool.acquire().await.map_err(catalog::CatalogError::from)?;
            catalog::workspaces::require_role(&mut conn, workspace, user, catalog::Role::Developer)
                .await?;
        }
        let pick = |id: Option<Uuid>, field: &str, side: &str| {
            id.ok_or_else(|| AppError::Validation {
                field: field.into(),
                message: format!("choose the {side} connection to use"),
            })
        };
        let source = pick(source, "source_connection", "source")?;
        let target = pick(target, "target_connection", "target")?;
        let tasks = checked_tasks(pool, secrets, workspace, file, (source, target), field).await?;
        let settings = PackageForm {
            name: file.name.clone(),
            source_connection: Some(source),
            target_connection: Some(target),
            locale: file.locale.clone(),
            dedicated_account: file.dedicated_account,
        };
        let id = package_editor::import(
            pool,
            user,
            workspace,
            &settings,
            &tasks,
            schedule(file).as_ref(),
        )
        .await?;
        tracing::info!(package = %id, tasks = tasks.len(), "package imported");
        Ok(id)
    }

    /// Replaces a saved package's settings, tasks and schedule with `file`'s, on the
    /// package's own connections. Developers and Admins.
    pub async fn replace(
        pool: &sqlx::PgPool,
        secrets: &catalog::secrets::SecretBox,
        user: Uuid,
        workspace: Uuid,
        id: Uuid,
        file: &Package,
    ) -> Result<(), AppError> {
        {
            let mut conn = pool.acquire().await.map_err(catalog::CatalogError::from)?;
            catalog::workspaces::require_role(&mut conn, workspace, user, catalog::Role::Developer)
                .await?;
        }
        let package = package_editor::get(pool, user, workspace, id).await?;
        let (Some(source), Some(target)) = (package.source, package.target) else {
            return Err(AppError::Conflict {
                field: "package".into(),
                message: "this package has no saved source and target connections (it was run from a file by the \
                          sync command); choose its connections in the app first"
                    .into(),
            });
        };
        let tasks = checked_tasks(
            pool,
            secrets,
            workspace,
            file,
            (source.id, target.id),
            "package",
        )
        .await?;
        let replacement = Replacement {
            name: file.name.clone(),
            locale: file.locale.clone(),
            dedicated_account: file.dedicated_account,
            tasks,
            schedule: schedule(file),
        };
        package_editor::replace(pool, user, workspace, id, &replacement, chrono::Utc::now())
            .await?;
        tracing::info!(package = %id, "package replaced from a file");
        Ok(())
    }
}
