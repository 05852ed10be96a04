//! Notification settings and the delivery log as their page shows them (never a webhook's
//! secret, except once right after it was made).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::WorkspaceView;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleView {
    pub on_failure: bool,
    pub on_recovery: bool,
    pub failed_records_over: Option<i32>,
    pub by_email: bool,
    pub by_webhook: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageRuleView {
    pub package_id: Uuid,
    pub package_name: String,
    pub rule: RuleView,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecipientView {
    pub user_id: Uuid,
    pub email: String,
    pub receives: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookView {
    pub id: Uuid,
    pub name: String,
    pub url: String,
    pub created: String,
}

/// Shown once to whoever added the webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookCreated {
    pub name: String,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub created: String,
    pub event: String,
    pub channel: String,
    pub recipient: String,
    pub package: Option<String>,
    pub state: String,
    pub attempts: i32,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationsData {
    pub workspace: WorkspaceView,
    pub default: RuleView,
    pub overrides: Vec<PackageRuleView>,
    /// Packages without their own rule (for the "package rule" form).
    pub packages: Vec<(Uuid, String)>,
    pub recipients: Vec<RecipientView>,
    pub webhooks: Vec<WebhookView>,
    pub deliveries: Vec<DeliveryView>,
    /// A webhook added by a form posted without WASM, handed over once through the session.
    pub created: Option<WebhookCreated>,
}
