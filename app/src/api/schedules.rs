//! A package's schedule: load it, preview its next occurrences, save, remove.

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::ScheduleData;

/// How many upcoming occurrences the editor shows.
#[cfg(feature = "ssr")]
const SHOWN: usize = 5;

#[cfg(feature = "ssr")]
fn upcoming(schedule: &engine::schedule::Schedule, tz: engine::schedule::Tz) -> Vec<String> {
    engine::schedule::upcoming(schedule, tz, chrono::Utc::now(), SHOWN)
        .into_iter()
        .map(|t| {
            t.with_timezone(&tz)
                .format("%a %Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .collect()
}

#[server(endpoint = "load_schedule")]
pub async fn load_schedule(package_id: Uuid) -> Result<ScheduleData, AppError> {
    use super::schedule_form::{defaults, to_fields};
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        let can_edit = workspace.role.can_edit();
        let today = chrono::Utc::now().date_naive();
        let stored = catalog::schedules::get(&pool, user.id, workspace.id, package_id).await?;
        let time_zones: Vec<String> = if can_edit {
            engine::schedule::time_zone_names()
                .map(str::to_owned)
                .collect()
        } else {
            Vec::new()
        };
        Ok(match stored {
            Some(s) => {
                let tz =
                    engine::schedule::time_zone(&s.time_zone).map_err(|_| AppError::Internal)?;
                ScheduleData {
                    workspace_id: workspace.id,
                    can_edit,
                    saved: true,
                    fields: to_fields(&s.schedule, &s.time_zone, s.enabled, today),
                    summary: Some(summary(&s.schedule, &s.time_zone, s.enabled)),
                    next: if s.enabled {
                        upcoming(&s.schedule, tz)
                    } else {
                        Vec::new()
                    },
                    time_zones,
                }
            }
            None => ScheduleData {
                workspace_id: workspace.id,
                can_edit,
                saved: false,
                fields: defaults(today),
                summary: None,
                next: Vec::new(),
                time_zones,
            },
        })
    })
    .await
}

#[cfg(feature = "ssr")]
fn summary(schedule: &engine::schedule::Schedule, tz: &str, enabled: bool) -> String {
    let off = if enabled { "" } else { " — disabled" };
    format!("{} ({tz}){off}", schedule.summary())
}

/// `intent`: `preview` (show the next occurrences, save nothing), `save`, or `delete`.
#[server(endpoint = "save_schedule")]
#[allow(clippy::too_many_arguments)]
pub async fn save_schedule(
    workspace_id: Uuid,
    package_id: Uuid,
    intent: String,
    #[server(default)] kind: String,
    #[server(default)] at_date: String,
    #[server(default)] at_time: String,
    #[server(default)] every: String,
    #[server(default)] interval: String,
    #[server(default)] days: Vec<String>,
    #[server(default)] month_mode: String,
    #[server(default)] month_day: String,
    #[server(default)] nth: String,
    #[server(default)] nth_weekday: String,
    #[server(default)] time_mode: String,
    #[server(default)] once_at: String,
    #[server(default)] every_n: String,
    #[server(default)] every_unit: String,
    #[server(default)] window_from: String,
    #[server(default)] window_to: String,
    #[server(default)] start_date: String,
    #[server(default)] start_time: String,
    #[server(default)] time_zone: String,
    #[server(default)] enabled: Option<String>,
) -> Result<ScheduleData, AppError> {
    use super::schedule_form::{defaults, to_schedule};
    use super::ssr::*;
    use crate::model::ScheduleFields;
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        if intent == "delete" {
            catalog::schedules::delete(&pool, user.id, workspace_id, package_id).await?;
            return Ok(ScheduleData {
                workspace_id,
                can_edit: true,
                saved: false,
                fields: defaults(chrono::Utc::now().date_naive()),
                summary: None,
                next: Vec::new(),
                time_zones: Vec::new(),
            });
        }
        let fields = ScheduleFields {
            kind,
            at_date,
            at_time,
            every,
            interval,
            days,
            month_mode,
            month_day,
            nth,
            nth_weekday,
            time_mode,
            once_at,
            every_n,
            every_unit,
            window_from,
            window_to,
            start_date,
            start_time,
            time_zone,
            enabled: enabled.is_some(),
        };
        let schedule = to_schedule(&fields)?;
        let tz =
            engine::schedule::time_zone(&fields.time_zone).map_err(|e| AppError::Validation {
                field: e.field.into(),
                message: e.message,
            })?;
        let saved = intent == "save";
        if saved {
            let form = catalog::schedules::ScheduleForm {
                schedule: schedule.clone(),
                time_zone: tz.name().to_owned(),
                enabled: fields.enabled,
            };
            catalog::schedules::save(
                &pool,
                user.id,
                workspace_id,
                package_id,
                &form,
                chrono::Utc::now(),
            )
            .await?;
        }
        Ok(ScheduleData {
            workspace_id,
            can_edit: true,
            saved,
            summary: saved.then(|| summary(&schedule, tz.name(), fields.enabled)),
            next: upcoming(&schedule, tz),
            time_zones: Vec::new(),
            fields,
        })
    })
    .await
}
