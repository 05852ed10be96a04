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
    use super::package_editor::ssr_only::{check_task, connect};
    use super::ssr::*;
    use crate::state::AppState;
    use catalog::package_editor::{self, PackageForm, TaskForm};
    use engine::package::Package;
    let state = state();
    respond(async move {
        let AppState { pool, secrets, .. } = state?;
        let user = require_user().await?;
        require_editor(&pool, user.id, workspace_id).await?;
        let mut file = Package::from_json(&text).map_err(|e| AppError::Validation {
            field: "text".into(),
            message: format!("not a package file: {e}"),
        })?;
        // A name given here replaces the file's (importing one file twice, say).
        if let Some(name) = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
            file.name = name;
        }
        let pick = |id: Option<Uuid>, field: &str, side: &str| {
            id.ok_or_else(|| AppError::Validation {
                field: field.into(),
                message: format!("choose the {side} connection to use"),
            })
        };
        let source = pick(source_connection, "source_connection", "source")?;
        let target = pick(target_connection, "target_connection", "target")?;
        let locale = engine::mapping::locale::Locale::parse(&file.locale).map_err(|message| {
            AppError::Validation {
                field: "text".into(),
                message: format!("locale: {message}"),
            }
        })?;
        let source_conn = connect(&pool, &secrets, workspace_id, source, "source").await?;
        let target_conn = connect(&pool, &secrets, workspace_id, target, "target").await?;
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
            .map_err(|(field, message)| AppError::Validation {
                field: "text".into(),
                message: format!(
                    "tasks[{i}] ({} → {}): {field}: {message}",
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
                    field: "text".into(),
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
        let settings = PackageForm {
            name: file.name.clone(),
            source_connection: Some(source),
            target_connection: Some(target),
            locale: file.locale.clone(),
            dedicated_account: file.dedicated_account,
        };
        let schedule = file
            .schedule
            .as_ref()
            .map(|s| catalog::schedules::ScheduleForm {
                schedule: s.when.clone(),
                time_zone: s.time_zone.clone(),
                enabled: s.enabled,
            });
        let id = package_editor::import(
            &pool,
            user.id,
            workspace_id,
            &settings,
            &tasks,
            schedule.as_ref(),
        )
        .await?;
        tracing::info!(package = %id, tasks = tasks.len(), "package imported");
        leptos_axum::redirect(&format!("/packages/{id}"));
        Ok(id)
    })
    .await
}
