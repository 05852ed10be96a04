//! Deliveries: claimed when due, recorded when sent or failed, and listed as the log.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sqlx::PgPool;
use uuid::Uuid;

use super::MAX_ATTEMPTS;
use super::settings::secret_context;
use crate::secrets::SecretBox;
use crate::workspaces::require_role;
use crate::{CatalogError, Role};

/// A claimed delivery is another sender's to retry after this long (its sender died).
const CLAIM_SECONDS: i64 = 120;

/// A delivery to send now.
#[derive(Debug)]
pub struct DueDelivery {
    pub id: Uuid,
    /// `run.failed`, `package.recovered`, `run.failed_records`, `test`.
    pub event: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The address or URL.
    pub recipient: String,
    pub payload: serde_json::Value,
    /// This attempt's number, from 1.
    pub attempt: i32,
    /// The webhook's signing secret.
    pub secret: Option<SecretString>,
}

/// Claims up to `limit` due deliveries for this sender.
pub async fn claim_due(
    pool: &PgPool,
    secrets: &SecretBox,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DueDelivery>, CatalogError> {
    type Row = (
        Uuid,
        String,
        String,
        String,
        serde_json::Value,
        i32,
        Option<Uuid>,
        Option<Vec<u8>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "UPDATE notification_deliveries d
            SET attempts = attempts + 1, next_attempt_at = $1 + make_interval(secs => $3)
          WHERE d.id IN (SELECT id FROM notification_deliveries
                          WHERE state = 'pending' AND next_attempt_at <= $1
                          ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING d.id, d.event, d.channel, d.recipient, d.payload, d.attempts, d.webhook_id,
                   (SELECT w.secret FROM webhooks w WHERE w.id = d.webhook_id)",
    )
    .bind(now)
    .bind(limit)
    .bind(CLAIM_SECONDS as f64)
    .fetch_all(pool)
    .await?;
    let mut due = Vec::with_capacity(rows.len());
    for (id, event, channel, recipient, payload, attempt, webhook, sealed) in rows {
        let secret = match (webhook, sealed) {
            (Some(webhook), Some(sealed)) => {
                match secrets.open(&sealed, &secret_context(webhook)) {
                    Ok(secret) => Some(secret),
                    Err(e) => {
                        tracing::error!(webhook = %webhook, error = %e, "a webhook's secret cannot be opened");
                        record_attempt(
                        pool,
                        id,
                        Err(("its signing secret cannot be read with this server's key; delete the webhook and add it again".into(), None)),
                        now,
                        Duration::ZERO,
                    )
                    .await?;
                        continue;
                    }
                }
            }
            _ => None,
        };
        due.push(DueDelivery {
            id,
            event,
            channel,
            recipient,
            payload,
            attempt,
            secret,
        });
    }
    Ok(due)
}

/// Records how an attempt went: `Ok(status)` delivered; `Err((why, status))` tried again
/// after `retry_base` × 3^(attempt − 1) (at most an hour), failed for good after
/// [`MAX_ATTEMPTS`] or when `retry_base` is zero.
pub async fn record_attempt(
    pool: &PgPool,
    id: Uuid,
    outcome: Result<Option<i32>, (String, Option<i32>)>,
    now: DateTime<Utc>,
    retry_base: Duration,
) -> Result<(), CatalogError> {
    match outcome {
        Ok(status) => {
            sqlx::query(
                "UPDATE notification_deliveries SET state = 'delivered', delivered_at = $2, response_status = $3,
                        last_error = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .bind(status)
            .execute(pool)
            .await?;
        }
        Err((why, status)) => {
            let why: String = why.chars().take(500).collect();
            sqlx::query(
                "UPDATE notification_deliveries
                    SET last_error = $2, response_status = $3,
                        state = CASE WHEN attempts >= $4 OR $5 = 0 THEN 'failed' ELSE 'pending' END,
                        next_attempt_at = $6 + make_interval(secs => least(3600, $5 * power(3, attempts - 1)))
                  WHERE id = $1",
            )
            .bind(id)
            .bind(why)
            .bind(status)
            .bind(MAX_ATTEMPTS)
            .bind(retry_base.as_secs_f64())
            .bind(now)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// One delivery as the log shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub event: String,
    pub channel: String,
    pub recipient: String,
    pub package_name: Option<String>,
    /// `pending`, `delivered`, `failed`.
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub response_status: Option<i32>,
}

/// The workspace's latest deliveries, newest first. Admins.
pub async fn log(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    limit: i64,
) -> Result<Vec<Delivery>, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Admin).await?;
    type Row = (
        Uuid,
        DateTime<Utc>,
        String,
        String,
        String,
        Option<String>,
        String,
        i32,
        Option<String>,
        Option<i32>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT d.id, d.created_at, d.event, d.channel, d.recipient, p.name, d.state, d.attempts, d.last_error,
                d.response_status
           FROM notification_deliveries d LEFT JOIN packages p ON p.id = d.package_id
          WHERE d.workspace_id = $1 ORDER BY d.created_at DESC, d.id LIMIT $2",
    )
    .bind(workspace)
    .bind(limit.clamp(1, 500))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                created_at,
                event,
                channel,
                recipient,
                package_name,
                state,
                attempts,
                last_error,
                response_status,
            )| {
                Delivery {
                    id,
                    created_at,
                    event,
                    channel,
                    recipient,
                    package_name,
                    state,
                    attempts,
                    last_error,
                    response_status,
                }
            },
        )
        .collect())
}

/// Forgets delivered and failed deliveries made before `before` (the log keeps the rest);
/// returns how many went.
pub async fn prune(pool: &PgPool, before: DateTime<Utc>) -> Result<u64, CatalogError> {
    Ok(sqlx::query(
        "DELETE FROM notification_deliveries WHERE state <> 'pending' AND created_at < $1",
    )
    .bind(before)
    .execute(pool)
    .await?
    .rows_affected())
}
