//! Run history: one row per run with its outcome and summary, and every failed record.

use sqlx::PgPool;
use uuid::Uuid;

use super::CatalogError;
use crate::sync::RecordError;

/// Records a run that starts now.
pub async fn start(
    pool: &PgPool,
    workspace_id: Uuid,
    package_id: Uuid,
    started_by: &str,
) -> Result<Uuid, CatalogError> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO runs (id, workspace_id, package_id, state, started_by, started_at) VALUES ($1, $2, $3, 'running', $4, now())",
    )
    .bind(id)
    .bind(workspace_id)
    .bind(package_id)
    .bind(started_by)
    .execute(pool)
    .await?;
    Ok(id)
}

/// Records how a run ended, with its summary and failed records.
pub async fn finish(
    pool: &PgPool,
    run_id: Uuid,
    state: &str,
    error: Option<&str>,
    summary: &serde_json::Value,
    errors: &[RecordError],
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE runs SET state = $2, error = $3, summary = $4, finished_at = now(), updated_at = now() WHERE id = $1")
        .bind(run_id)
        .bind(state)
        .bind(error)
        .bind(summary)
        .execute(&mut *tx)
        .await?;
    for chunk in errors.chunks(1000) {
        let column = |f: fn(&RecordError) -> String| chunk.iter().map(f).collect::<Vec<String>>();
        sqlx::query(
            "INSERT INTO run_errors (run_id, task, direction, side, record_key, operation, message)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])",
        )
        .bind(run_id)
        .bind(column(|e| e.task.clone()))
        .bind(column(|e| e.direction.as_str().to_owned()))
        .bind(column(|e| e.side.to_owned()))
        .bind(column(|e| e.key.clone()))
        .bind(column(|e| e.operation.to_owned()))
        .bind(column(|e| e.message.clone()))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
