//! From finished runs to deliveries: which events a run makes under its package's rule, the
//! hourly limit on failure notices, and one delivery per recipient and webhook.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::settings::Rule;
use super::{Event, FAILURE_NOTICE_MINUTES};
use crate::CatalogError;
use engine::sync::{Counts, TaskSummary};

/// Finished runs turned into deliveries per call, at most.
const BATCH: i64 = 100;

/// Turns finished runs waiting in the outbox into deliveries; returns how many runs it
/// took. Any number of processes may call it at once (rows are claimed `SKIP LOCKED`).
pub async fn plan(
    pool: &PgPool,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<usize, CatalogError> {
    let mut tx = pool.begin().await?;
    let runs: Vec<Uuid> = sqlx::query_scalar(
        "DELETE FROM notification_outbox WHERE run_id IN (
             SELECT run_id FROM notification_outbox ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING run_id",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    for run in &runs {
        plan_run(&mut tx, *run, public_url, now).await?;
    }
    tx.commit().await?;
    Ok(runs.len())
}

#[derive(sqlx::FromRow)]
struct FinishedRun {
    workspace_id: Uuid,
    workspace_name: String,
    package_id: Uuid,
    package_name: String,
    state: String,
    error: Option<String>,
    summary: Option<serde_json::Value>,
    finished_at: Option<DateTime<Utc>>,
    /// The state of the package's finished run before this one.
    previous: Option<String>,
}

async fn plan_run(
    tx: &mut PgConnection,
    run: Uuid,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<(), CatalogError> {
    let found: Option<FinishedRun> = sqlx::query_as(
        "SELECT r.workspace_id, w.name AS workspace_name, r.package_id, p.name AS package_name, r.state,
                r.error, r.summary, r.finished_at,
                (SELECT e.state FROM runs e
                  WHERE e.package_id = r.package_id AND e.id <> r.id
                    AND e.state IN ('succeeded', 'succeeded_with_errors', 'failed')
                    AND e.finished_at <= r.finished_at
                  ORDER BY e.finished_at DESC, e.id DESC LIMIT 1) AS previous
           FROM runs r JOIN packages p ON p.id = r.package_id JOIN workspaces w ON w.id = r.workspace_id
          WHERE r.id = $1",
    )
    .bind(run)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(r) = found else {
        return Ok(());
    };
    let rule: Option<(bool, bool, Option<i32>, bool, bool)> = sqlx::query_as(
        "SELECT on_failure, on_recovery, failed_records_over, by_email, by_webhook FROM notification_rules
          WHERE workspace_id = $1 AND (package_id = $2 OR package_id IS NULL)
          ORDER BY package_id NULLS LAST LIMIT 1",
    )
    .bind(r.workspace_id)
    .bind(r.package_id)
    .fetch_optional(&mut *tx)
    .await?;
    let rule = rule.map_or_else(
        Rule::default,
        |(on_failure, on_recovery, over, by_email, by_webhook)| Rule {
            on_failure,
            on_recovery,
            failed_records_over: over,
            by_email,
            by_webhook,
        },
    );
    let mut totals = Counts::default();
    let tasks: Vec<TaskSummary> = r
        .summary
        .clone()
        .and_then(|s| serde_json::from_value(s).ok())
        .unwrap_or_default();
    for t in &tasks {
        totals.add(t.source_to_target);
        totals.add(t.target_to_source);
    }
    let failed = r.state == "failed";
    let event = if failed && rule.on_failure {
        Some(Event::RunFailed)
    } else if !failed && rule.on_recovery && r.previous.as_deref() == Some("failed") {
        Some(Event::Recovered)
    } else if rule
        .failed_records_over
        .is_some_and(|over| totals.failed > over.max(0) as u64)
    {
        Some(Event::FailedRecords)
    } else {
        None
    };
    let Some(event) = event else {
        return Ok(());
    };
    // Nobody to tell: nothing is sent, and no hour of silence starts.
    let has_targets: bool = sqlx::query_scalar(
        "SELECT ($2 AND EXISTS (SELECT 1 FROM notification_recipients WHERE workspace_id = $1))
             OR ($3 AND EXISTS (SELECT 1 FROM webhooks WHERE workspace_id = $1))",
    )
    .bind(r.workspace_id)
    .bind(rule.by_email)
    .bind(rule.by_webhook)
    .fetch_one(&mut *tx)
    .await?;
    if !has_targets {
        return Ok(());
    }
    let mut held_back = 0;
    if event == Event::RunFailed {
        let last: Option<(DateTime<Utc>, i32)> = sqlx::query_as(
            "SELECT last_failure_sent, held_back FROM notification_throttle WHERE package_id = $1 FOR UPDATE",
        )
        .bind(r.package_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((sent, held)) = last {
            if (now - sent).num_minutes() < FAILURE_NOTICE_MINUTES {
                sqlx::query("UPDATE notification_throttle SET held_back = held_back + 1 WHERE package_id = $1")
                    .bind(r.package_id)
                    .execute(&mut *tx)
                    .await?;
                return Ok(());
            }
            held_back = held;
        }
        sqlx::query(
            "INSERT INTO notification_throttle (package_id, last_failure_sent, held_back) VALUES ($1, $2, 0)
             ON CONFLICT (package_id) DO UPDATE SET last_failure_sent = $2, held_back = 0",
        )
        .bind(r.package_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let payload = serde_json::json!({
        "event": event.as_str(),
        "workspace": {"id": r.workspace_id, "name": r.workspace_name},
        "package": {"id": r.package_id, "name": r.package_name},
        "run": {
            "id": run,
            "state": r.state,
            "error": r.error,
            "finished_at": r.finished_at,
            "inserted": totals.inserted,
            "updated": totals.updated,
            "deleted": totals.deleted,
            "failed_records": totals.failed,
        },
        "failed_records_over": rule.failed_records_over,
        "held_back": held_back,
        "link": format!("{}/runs/{run}", public_url.trim_end_matches('/')),
    });
    if rule.by_email {
        sqlx::query(
            "INSERT INTO notification_deliveries (id, workspace_id, package_id, run_id, event, channel, recipient, payload)
             SELECT gen_random_uuid(), $1, $2, $3, $4, 'email', u.email, $5
               FROM notification_recipients n JOIN users u ON u.id = n.user_id
              WHERE n.workspace_id = $1",
        )
        .bind(r.workspace_id)
        .bind(r.package_id)
        .bind(run)
        .bind(event.as_str())
        .bind(&payload)
        .execute(&mut *tx)
        .await?;
    }
    if rule.by_webhook {
        sqlx::query(
            "INSERT INTO notification_deliveries (id, workspace_id, package_id, run_id, event, channel, webhook_id,
                                                  recipient, payload)
             SELECT gen_random_uuid(), $1, $2, $3, $4, 'webhook', w.id, w.url, $5
               FROM webhooks w WHERE w.workspace_id = $1",
        )
        .bind(r.workspace_id)
        .bind(r.package_id)
        .bind(run)
        .bind(event.as_str())
        .bind(&payload)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
