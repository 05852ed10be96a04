//! Notifications: a run failed, a package recovered, a run left more failed records than a
//! threshold — by email to chosen members and to the workspace's webhooks.
//!
//! - **Rules** (`settings`): a workspace default and per-package overrides (what to notify
//!   about, by which channels); recipients are members; webhooks belong to the workspace and
//!   carry a signing secret sealed with the installation's key.
//! - **From run to delivery** (`planning`): a finished run enters an outbox in its own
//!   transaction (a database trigger, so every way a run ends counts). The dispatcher turns
//!   outbox rows into deliveries by the package's rule: at most one failure notice per
//!   package an hour — those held back are counted and the next notice says how many.
//! - **Delivery** (`deliveries`): due deliveries are claimed for a few minutes (so a crashed
//!   sender's are retried, never two senders at once), sent by the server
//!   (`server::notifications`: SMTP, HTTP with an HMAC signature), and recorded: delivered,
//!   or retried with a growing wait, and failed after [`MAX_ATTEMPTS`]. The log is what the
//!   page shows.
//!
//! A notification carries counts, names, the run's error and a link — never a secret or a
//! record's values.

mod deliveries;
mod planning;
mod settings;

pub use deliveries::{Delivery, DueDelivery, claim_due, log, prune, record_attempt};
pub use planning::plan;
pub use settings::{
    NotificationSettings, PackageRule, Rule, Webhook, add_webhook, delete_webhook, remove_override,
    save_rule, set_recipient, settings, test_delivery,
};

/// How long the delivery log keeps a finished delivery.
pub const LOG_DAYS: i64 = 90;

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 6;

/// At most one failure notice per package within this many minutes.
pub const FAILURE_NOTICE_MINUTES: i64 = 60;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    RunFailed,
    Recovered,
    FailedRecords,
    Test,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::RunFailed => "run.failed",
            Event::Recovered => "package.recovered",
            Event::FailedRecords => "run.failed_records",
            Event::Test => "test",
        }
    }
}
