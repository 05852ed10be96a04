//! Notification settings (Admins): what to notify about, who gets the emails, webhooks
//! (with Send test), and the delivery log.

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{NotificationsData, WebhookCreated};

/// Session key holding a webhook made by a form posted without WASM, until its page shows it.
#[cfg(feature = "ssr")]
const CREATED_KEY: &str = "webhook_created";

/// How many deliveries the log shows.
#[cfg(feature = "ssr")]
const LOG_SIZE: i64 = 50;

#[cfg(feature = "ssr")]
fn session_failed(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    AppError::Internal
}

#[server(endpoint = "load_notifications")]
pub async fn load_notifications() -> Result<NotificationsData, AppError> {
    use super::ssr::*;
    use crate::model::{DeliveryView, PackageRuleView, RecipientView, RuleView, WebhookView};
    use catalog::notifications::{self, Rule};
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let session = session().await?;
        let workspace = current_workspace(&pool, user.id).await?;
        let settings = notifications::settings(&pool, user.id, workspace.id).await?;
        let members = catalog::members::list(&pool, user.id, workspace.id).await?;
        let log = notifications::log(&pool, user.id, workspace.id, LOG_SIZE).await?;
        let created = session
            .remove::<WebhookCreated>(CREATED_KEY)
            .await
            .map_err(session_failed)?;
        let view = |r: Rule| RuleView {
            on_failure: r.on_failure,
            on_recovery: r.on_recovery,
            failed_records_over: r.failed_records_over,
            by_email: r.by_email,
            by_webhook: r.by_webhook,
        };
        Ok(NotificationsData {
            workspace: workspace.into(),
            default: view(settings.default),
            packages: settings
                .packages
                .iter()
                .filter(|(id, _)| !settings.overrides.iter().any(|o| o.package_id == *id))
                .cloned()
                .collect(),
            overrides: settings
                .overrides
                .into_iter()
                .map(|o| PackageRuleView {
                    package_id: o.package_id,
                    package_name: o.package_name,
                    rule: view(o.rule),
                })
                .collect(),
            recipients: members
                .into_iter()
                .map(|m| RecipientView {
                    receives: settings.recipients.contains(&m.user_id),
                    user_id: m.user_id,
                    email: m.email,
                })
                .collect(),
            webhooks: settings
                .webhooks
                .into_iter()
                .map(|w| WebhookView {
                    id: w.id,
                    name: w.name,
                    url: w.url,
                    created: format_time(w.created_at),
                })
                .collect(),
            deliveries: log
                .into_iter()
                .map(|d| DeliveryView {
                    created: format_time(d.created_at),
                    event: d.event,
                    channel: d.channel,
                    recipient: d.recipient,
                    package: d.package_name,
                    detail: match (d.response_status, d.last_error) {
                        (_, Some(error)) => error,
                        (Some(status), None) => format!("HTTP {status}"),
                        (None, None) => String::new(),
                    },
                    state: d.state,
                    attempts: d.attempts,
                })
                .collect(),
            created,
        })
    })
    .await
}

/// Saves the workspace default (no `package`) or a package's own rule. Checkboxes send a
/// value when ticked and nothing when not.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "save_notification_rule")]
pub async fn save_notification_rule(
    workspace_id: Uuid,
    #[server(default)] package: Option<String>,
    #[server(default)] on_failure: Option<String>,
    #[server(default)] on_recovery: Option<String>,
    #[server(default)] failed_records_over: Option<String>,
    #[server(default)] by_email: Option<String>,
    #[server(default)] by_webhook: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        let ticked = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
        let package = match package.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(text) => Some(text.parse::<Uuid>().map_err(|_| AppError::Validation {
                field: "package".into(),
                message: "choose a package from the list".into(),
            })?),
            None => None,
        };
        let over = match failed_records_over
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            Some(text) => Some(
                text.parse::<i32>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| AppError::Validation {
                        field: "failed_records_over".into(),
                        message:
                            "enter a whole number of failed records, 0 or more, or leave it empty"
                                .into(),
                    })?,
            ),
            None => None,
        };
        let rule = catalog::notifications::Rule {
            on_failure: ticked(&on_failure),
            on_recovery: ticked(&on_recovery),
            failed_records_over: over,
            by_email: ticked(&by_email),
            by_webhook: ticked(&by_webhook),
        };
        catalog::notifications::save_rule(&pool()?, user.id, workspace_id, package, rule).await?;
        Ok(())
    })
    .await
}

/// Makes a package follow the workspace default again.
#[server(endpoint = "remove_notification_rule")]
pub async fn remove_notification_rule(workspace_id: Uuid, package: Uuid) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::notifications::remove_override(&pool()?, user.id, workspace_id, package).await?;
        Ok(())
    })
    .await
}

/// Adds a member to the emails' recipients (`receive` set) or removes them.
#[server(endpoint = "set_notification_recipient")]
pub async fn set_notification_recipient(
    workspace_id: Uuid,
    member: Uuid,
    #[server(default)] receive: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        let receive = receive.is_some_and(|v| !v.is_empty());
        catalog::notifications::set_recipient(&pool()?, user.id, workspace_id, member, receive)
            .await?;
        Ok(())
    })
    .await
}

/// Adds a webhook; its signing secret is in the answer and never again.
#[server(endpoint = "add_webhook")]
pub async fn add_webhook(
    workspace_id: Uuid,
    name: String,
    url: String,
) -> Result<WebhookCreated, AppError> {
    use super::ssr::*;
    let state = state();
    respond(async move {
        let crate::state::AppState { pool, secrets, .. } = state?;
        let user = require_user().await?;
        let session = session().await?;
        let (webhook, secret) = catalog::notifications::add_webhook(
            &pool,
            &secrets,
            user.id,
            workspace_id,
            &name,
            &url,
        )
        .await?;
        let created = WebhookCreated {
            name: webhook.name,
            secret,
        };
        if is_plain_form_post() {
            session
                .insert(CREATED_KEY, created.clone())
                .await
                .map_err(session_failed)?;
            leptos_axum::redirect("/settings/notifications");
        }
        Ok(created)
    })
    .await
}

#[server(endpoint = "delete_webhook")]
pub async fn delete_webhook(workspace_id: Uuid, id: Uuid) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::notifications::delete_webhook(&pool()?, user.id, workspace_id, id).await?;
        Ok(())
    })
    .await
}

/// Queues a test notification to the webhook; the delivery log shows how it went.
#[server(endpoint = "test_webhook")]
pub async fn test_webhook(workspace_id: Uuid, id: Uuid) -> Result<(), AppError> {
    use super::ssr::*;
    let state = state();
    respond(async move {
        let crate::state::AppState {
            pool, public_url, ..
        } = state?;
        let user = require_user().await?;
        catalog::notifications::test_delivery(&pool, user.id, workspace_id, id, &public_url)
            .await?;
        Ok(())
    })
    .await
}
