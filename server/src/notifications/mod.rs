//! The notifier: turns finished runs into notifications and delivers them — email over
//! SMTP, webhooks over HTTP with an HMAC signature — with retries. It runs beside the
//! scheduler in every process that runs job workers; any number of processes may run it
//! (the catalog claims outbox rows and deliveries `SKIP LOCKED`). What to send and to whom
//! is `catalog::notifications`.

mod email;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use catalog::notifications::{self, DueDelivery};
use catalog::secrets::SecretBox;
use secrecy::SecretString;
use sqlx::PgPool;

pub use email::SmtpSettings;

/// Deliveries sent per round, at most.
const ROUND: i64 = 20;

#[derive(Debug, Clone)]
pub struct NotifierSettings {
    /// `LOCKSTEP_SMTP_URL` and `LOCKSTEP_SMTP_FROM`; without them, email deliveries fail
    /// with a message saying so (webhooks still work).
    pub smtp: Option<SmtpSettings>,
    /// The address links in notifications point to (`LOCKSTEP_PUBLIC_URL`).
    pub public_url: String,
    /// First wait before a failed delivery is tried again (tripled each time, at most an
    /// hour; `LOCKSTEP_NOTIFY_RETRY_SECONDS`, default 10).
    pub retry_base: Duration,
    /// How often the outbox and due deliveries are looked at.
    pub every: Duration,
}

impl Default for NotifierSettings {
    fn default() -> Self {
        NotifierSettings {
            smtp: None,
            public_url: "http://127.0.0.1:3000".into(),
            retry_base: Duration::from_secs(10),
            every: Duration::from_secs(1),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Finished runs looked at.
    pub runs: usize,
    pub delivered: usize,
    pub failed: usize,
}

/// One round: plan deliveries for finished runs, then send what is due.
pub async fn dispatch(
    pool: &PgPool,
    secrets: &SecretBox,
    settings: &NotifierSettings,
) -> Result<Round, catalog::CatalogError> {
    let mut round = Round {
        runs: notifications::plan(pool, &settings.public_url, chrono::Utc::now()).await?,
        ..Round::default()
    };
    let due = notifications::claim_due(pool, secrets, chrono::Utc::now(), ROUND).await?;
    for delivery in due {
        let outcome = send(&delivery, settings).await;
        match &outcome {
            Ok(_) => round.delivered += 1,
            Err((why, _)) => {
                round.failed += 1;
                tracing::warn!(delivery = %delivery.id, channel = %delivery.channel, attempt = delivery.attempt,
                               error = %why, "a notification could not be delivered");
            }
        }
        notifications::record_attempt(
            pool,
            delivery.id,
            outcome,
            chrono::Utc::now(),
            settings.retry_base,
        )
        .await?;
    }
    Ok(round)
}

async fn send(
    delivery: &DueDelivery,
    settings: &NotifierSettings,
) -> Result<Option<i32>, (String, Option<i32>)> {
    match delivery.channel.as_str() {
        "email" => match &settings.smtp {
            Some(smtp) => email::send(smtp, delivery)
                .await
                .map(|()| None)
                .map_err(|e| (e, None)),
            None => Err((
                "no mail server is configured: set LOCKSTEP_SMTP_URL and LOCKSTEP_SMTP_FROM".into(),
                None,
            )),
        },
        "webhook" => {
            let secret: &SecretString = delivery
                .secret
                .as_ref()
                .ok_or_else(|| ("the webhook no longer exists".to_owned(), None))?;
            webhook::send(&delivery.recipient, secret, delivery).await
        }
        other => Err((format!("unknown channel {other}"), None)),
    }
}

/// Runs rounds every `settings.every` until `stop` turns true.
pub async fn run_notifier(
    pool: PgPool,
    secrets: Arc<SecretBox>,
    settings: NotifierSettings,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(settings.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut pruned_at: Option<std::time::Instant> = None;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        if pruned_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
            pruned_at = Some(std::time::Instant::now());
            let before = chrono::Utc::now() - chrono::Duration::days(notifications::LOG_DAYS);
            if let Err(e) = notifications::prune(&pool, before).await {
                tracing::warn!(error = %e, "forgetting old deliveries failed");
            }
        }
        match dispatch(&pool, &secrets, &settings).await {
            Ok(r) if r.delivered + r.failed > 0 => {
                tracing::info!(
                    runs = r.runs,
                    delivered = r.delivered,
                    failed = r.failed,
                    "notifications sent"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "a notification round failed"),
        }
    }
}

/// The subject line and text of a notification, shared by email and the page.
pub fn describe(payload: &serde_json::Value) -> (String, String) {
    let package = payload["package"]["name"].as_str().unwrap_or("a package");
    let run = &payload["run"];
    let failed_records = run["failed_records"].as_u64().unwrap_or(0);
    let link = payload["link"].as_str().unwrap_or_default();
    let subject = match payload["event"].as_str() {
        Some("run.failed") => format!("Lockstep: package “{package}” failed"),
        Some("package.recovered") => format!("Lockstep: package “{package}” recovered"),
        Some("run.failed_records") => {
            format!("Lockstep: package “{package}” left {failed_records} failed records")
        }
        _ => "Lockstep: test notification".to_owned(),
    };
    let mut text = match payload["event"].as_str() {
        Some("test") => payload["message"].as_str().unwrap_or_default().to_owned(),
        _ => format!(
            "Package: {package}\nRun: {}\nState: {}\nInserted {}, updated {}, deleted {}, failed records {}.\n",
            run["id"].as_str().unwrap_or_default(),
            run["state"].as_str().unwrap_or_default(),
            run["inserted"].as_u64().unwrap_or(0),
            run["updated"].as_u64().unwrap_or(0),
            run["deleted"].as_u64().unwrap_or(0),
            failed_records,
        ),
    };
    if let Some(error) = run["error"].as_str() {
        text.push_str(&format!("Error: {error}\n"));
    }
    if let Some(held) = payload["held_back"].as_u64().filter(|n| *n > 0) {
        text.push_str(&format!(
            "{held} more failure notice(s) of this package were held back in the last hour (at most one an hour is sent).\n"
        ));
    }
    text.push_str(&format!("\n{link}\n"));
    (subject, text)
}
