//! The cloud connectors' memory between runs ([`CloudTracking`]) in our metadata database:
//! per task side, the change log, the polling checkpoints, the stamps already logged and the
//! echoes of the engine's own writes; per task direction, the journal of records it created.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::table_statistics::GrowthWatch;
use engine::connectors::cloud::changes::{Echo, Found, Seen, Written};
use engine::connectors::cloud::{Checkpoints, CloudTracking};
use engine::connectors::{ConnectorError, Key, Result, TrackedChange};

#[derive(Clone)]
pub struct PgCloudTracking {
    pool: PgPool,
    growth: Arc<Growth>,
}

/// The tables a first run can grow by the hundred thousand, analyzed as they grow
/// (`catalog::table_statistics`), so their lookups keep their index plans.
struct Growth {
    changes: GrowthWatch,
    seen: GrowthWatch,
    known: GrowthWatch,
    journal: GrowthWatch,
}

fn store_error(e: sqlx::Error) -> ConnectorError {
    let retryable = engine::connectors::sql_error::is_transient(&e);
    ConnectorError::connection(format!("Lockstep's metadata database: {e}"), retryable).caused_by(e)
}

impl PgCloudTracking {
    pub fn new(pool: PgPool) -> Self {
        PgCloudTracking {
            pool,
            growth: Arc::new(Growth {
                changes: GrowthWatch::new("cloud_changes"),
                seen: GrowthWatch::new("cloud_seen"),
                known: GrowthWatch::new("cloud_known"),
                journal: GrowthWatch::new("cloud_journal"),
            }),
        }
    }
}

#[async_trait]
impl CloudTracking for PgCloudTracking {
    async fn checkpoints(&self, log: &str) -> Result<Option<Checkpoints>> {
        let row: Option<(DateTime<Utc>, DateTime<Utc>, bool)> = sqlx::query_as(
            "SELECT modified_after, deleted_after, polled FROM cloud_tracking WHERE log_name = $1",
        )
        .bind(log)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(
            row.map(|(modified_after, deleted_after, polled)| Checkpoints {
                modified_after,
                deleted_after,
                polled,
            }),
        )
    }

    /// Starts tracking at `from` (the vendor's clock): changes stamped from then on are logged.
    /// Idempotent: an installed log keeps its checkpoints.
    async fn install(&self, log: &str, object: &str, from: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO cloud_tracking (log_name, object, modified_after, deleted_after)
             VALUES ($1, $2, $3, $3) ON CONFLICT (log_name) DO NOTHING",
        )
        .bind(log)
        .bind(object)
        .bind(from)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn remove(&self, log: &str) -> Result<()> {
        sqlx::query("DELETE FROM cloud_tracking WHERE log_name = $1")
            .bind(log)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// What the poll needs to know about these keys: their logged stamps and echoes.
    async fn seen_and_echoes(&self, log: &str, keys: &[&str]) -> Result<(Seen, Vec<Echo>)> {
        let seen: Vec<(String, DateTime<Utc>, bool, Option<i64>)> = sqlx::query_as(
            "SELECT key, stamp, deleted, digest FROM cloud_seen WHERE log_name = $1 AND key = ANY($2)",
        )
        .bind(log)
        .bind(keys)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        type EchoRow = (
            String,
            DateTime<Utc>,
            bool,
            Option<DateTime<Utc>>,
            Option<sqlx::types::Json<Vec<String>>>,
            Option<i64>,
        );
        let echoes: Vec<EchoRow> = sqlx::query_as(
            "SELECT key, until, by_user_only, written_from, written_fields, written_digest
               FROM cloud_echoes WHERE log_name = $1 AND key = ANY($2)",
        )
        .bind(log)
        .bind(keys)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok((
            seen.into_iter()
                .map(|(k, stamp, deleted, digest)| (Key(k), (stamp, deleted, digest)))
                .collect(),
            echoes
                .into_iter()
                .map(|(k, until, by_user_only, from, fields, digest)| Echo {
                    key: Key(k),
                    until,
                    by_user_only,
                    written: match (from, fields, digest) {
                        (Some(from), Some(fields), Some(digest)) => Some(Written {
                            from,
                            fields: fields.0,
                            digest,
                        }),
                        _ => None,
                    },
                })
                .collect(),
        ))
    }

    /// Records one poll's result at once: the new log entries, their stamps and digests,
    /// and the moved checkpoints. Stamps and echoes older than the overlap window are
    /// forgotten.
    async fn record_poll(
        &self,
        log: &str,
        found: &[Found],
        checkpoints: Checkpoints,
        forget_before: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        let logged: Vec<&Found> = found.iter().filter(|f| f.log).collect();
        let keys: Vec<&str> = logged.iter().map(|f| f.key.0.as_str()).collect();
        sqlx::query(
            "INSERT INTO cloud_changes (log_name, key) SELECT $1, k FROM unnest($2::text[]) AS k",
        )
        .bind(log)
        .bind(&keys)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        let all_keys: Vec<&str> = found.iter().map(|f| f.key.0.as_str()).collect();
        let stamps: Vec<DateTime<Utc>> = found.iter().map(|f| f.stamp).collect();
        let deleted: Vec<bool> = found.iter().map(|f| f.deleted).collect();
        let digests: Vec<Option<i64>> = found.iter().map(|f| f.digest).collect();
        sqlx::query(
            "INSERT INTO cloud_seen (log_name, key, stamp, deleted, digest)
             SELECT $1, k, s, d, g FROM unnest($2::text[], $3::timestamptz[], $4::bool[], $5::bigint[]) AS t(k, s, d, g)
             ON CONFLICT (log_name, key) DO UPDATE
                SET stamp = excluded.stamp, deleted = excluded.deleted, digest = excluded.digest",
        )
        .bind(log)
        .bind(&all_keys)
        .bind(&stamps)
        .bind(&deleted)
        .bind(&digests)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        sqlx::query(
            "UPDATE cloud_tracking SET modified_after = $2, deleted_after = $3, polled = true
              WHERE log_name = $1",
        )
        .bind(log)
        .bind(checkpoints.modified_after)
        .bind(checkpoints.deleted_after)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        sqlx::query("DELETE FROM cloud_seen WHERE log_name = $1 AND stamp < $2")
            .bind(log)
            .bind(forget_before)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        sqlx::query("DELETE FROM cloud_echoes WHERE log_name = $1 AND until < $2")
            .bind(log)
            .bind(forget_before)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        self.growth
            .changes
            .grew(&self.pool, keys.len() as u64)
            .await;
        self.growth
            .seen
            .grew(&self.pool, all_keys.len() as u64)
            .await;
        Ok(())
    }

    async fn read_changes(
        &self,
        log: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<TrackedChange>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, key FROM cloud_changes WHERE log_name = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(log)
        .bind(after)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|(seq, key)| TrackedChange { seq, key: Key(key) })
            .collect())
    }

    async fn consume(&self, log: &str, seqs: &[i64]) -> Result<()> {
        sqlx::query("DELETE FROM cloud_changes WHERE log_name = $1 AND seq = ANY($2)")
            .bind(log)
            .bind(seqs)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn requeue(&self, log: &str, keys: &[Key]) -> Result<()> {
        let keys: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
        sqlx::query(
            "INSERT INTO cloud_changes (log_name, key)
             SELECT $1, k FROM unnest($2::text[]) AS k
              WHERE EXISTS (SELECT 1 FROM cloud_tracking WHERE log_name = $1)",
        )
        .bind(log)
        .bind(&keys)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    /// Remembers the engine's writes so the next poll does not take them for changes. A
    /// record written again is expected to hold what the last write sent.
    async fn record_echoes(&self, log: &str, echoes: &[Echo]) -> Result<()> {
        if echoes.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = echoes.iter().map(|e| e.key.0.as_str()).collect();
        let until: Vec<DateTime<Utc>> = echoes.iter().map(|e| e.until).collect();
        let by_user: Vec<bool> = echoes.iter().map(|e| e.by_user_only).collect();
        let written = echoes.iter().map(|e| e.written.as_ref());
        let from: Vec<Option<DateTime<Utc>>> = written.clone().map(|w| w.map(|w| w.from)).collect();
        let fields: Vec<Option<serde_json::Value>> = written
            .clone()
            .map(|w| w.map(|w| serde_json::Value::from(w.fields.clone())))
            .collect();
        let digests: Vec<Option<i64>> = written.map(|w| w.map(|w| w.digest)).collect();
        sqlx::query(
            "INSERT INTO cloud_echoes
                    (log_name, key, until, by_user_only, written_from, written_fields, written_digest)
             SELECT $1, k, u, b, f, n, d
               FROM unnest($2::text[], $3::timestamptz[], $4::bool[], $5::timestamptz[], $6::jsonb[], $7::bigint[])
                    AS t(k, u, b, f, n, d)
              WHERE EXISTS (SELECT 1 FROM cloud_tracking WHERE log_name = $1)
             ON CONFLICT (log_name, key) DO UPDATE
                SET until = GREATEST(cloud_echoes.until, excluded.until),
                    by_user_only = excluded.by_user_only,
                    written_from = excluded.written_from,
                    written_fields = excluded.written_fields,
                    written_digest = excluded.written_digest",
        )
        .bind(log)
        .bind(&keys)
        .bind(&until)
        .bind(&by_user)
        .bind(&from)
        .bind(&fields)
        .bind(&digests)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    /// Compares the ids the object holds now with those it held at the last poll: returns
    /// the ones gone, and remembers `current` for the next comparison.
    async fn known_ids_gone(&self, log: &str, current: &[&str]) -> Result<Vec<Key>> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        let gone: Vec<String> = sqlx::query_scalar(
            "DELETE FROM cloud_known WHERE log_name = $1 AND NOT (key = ANY($2)) RETURNING key",
        )
        .bind(log)
        .bind(current)
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        sqlx::query(
            "INSERT INTO cloud_known (log_name, key) SELECT $1, k FROM unnest($2::text[]) AS k
             WHERE EXISTS (SELECT 1 FROM cloud_tracking WHERE log_name = $1)
             ON CONFLICT DO NOTHING",
        )
        .bind(log)
        .bind(current)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        self.growth
            .known
            .grew(&self.pool, current.len() as u64)
            .await;
        Ok(gone.into_iter().map(Key).collect())
    }

    /// Adds records Lockstep just created to the known ids, so that their deletion before
    /// the next poll is still seen.
    async fn add_known(&self, log: &str, keys: &[&str]) -> Result<()> {
        sqlx::query(
            "INSERT INTO cloud_known (log_name, key) SELECT $1, k FROM unnest($2::text[]) AS k
             WHERE EXISTS (SELECT 1 FROM cloud_tracking WHERE log_name = $1)
             ON CONFLICT DO NOTHING",
        )
        .bind(log)
        .bind(keys)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        self.growth.known.grew(&self.pool, keys.len() as u64).await;
        Ok(())
    }

    async fn journal(&self, journal: &str, pairs: &[(&str, &str)]) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let (origins, keys): (Vec<&str>, Vec<&str>) = pairs.iter().copied().unzip();
        sqlx::query(
            "INSERT INTO cloud_journal (journal, origin, key)
             SELECT $1, o, k FROM unnest($2::text[], $3::text[]) AS t(o, k)
             ON CONFLICT (journal, origin) DO UPDATE SET key = excluded.key",
        )
        .bind(journal)
        .bind(&origins)
        .bind(&keys)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        self.growth
            .journal
            .grew(&self.pool, pairs.len() as u64)
            .await;
        Ok(())
    }

    async fn read_journal(&self, journal: &str) -> Result<Vec<(Key, Key)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT origin, key FROM cloud_journal WHERE journal = $1")
                .bind(journal)
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(rows.into_iter().map(|(o, k)| (Key(o), Key(k))).collect())
    }

    async fn clear_journal(&self, journal: &str) -> Result<()> {
        sqlx::query("DELETE FROM cloud_journal WHERE journal = $1")
            .bind(journal)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

/// How the catalog's connections are opened: never onto the metadata database itself, with
/// cloud change tracking kept there.
pub fn connect_options(
    pool: &PgPool,
    dedicated_account: bool,
) -> engine::connectors::ConnectOptions {
    engine::connectors::ConnectOptions {
        metadata: Some(pool.clone()),
        tracking: Some(Arc::new(PgCloudTracking::new(pool.clone()))),
        dedicated_account,
    }
}
