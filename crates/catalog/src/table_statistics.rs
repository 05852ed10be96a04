//! Planner statistics for the tables a run grows quickly (the ID map, the cloud change logs).
//!
//! PostgreSQL plans a query from its statistics of the table. A table that was never analyzed
//! has none, and then, for `WHERE task_id = $1 AND source_key = ANY($2)`, the planner rates
//! the two indexes that start with `task_id` alike and may take the wrong one, reading every
//! pair of the task for each lookup: measured on a never-analyzed `id_map`, 3.3 s per lookup
//! at 200,000 pairs instead of 3 ms. Autovacuum would analyze it, but it runs late (after
//! 10% growth plus 50 rows, on its own schedule) or not at all (`autovacuum = off`, as on
//! some managed and CI machines), and a connection's prepared statement keeps the plan it
//! chose while the table was small.
//!
//! So the writer analyzes the table itself as it grows: after the first 1,000 rows a run
//! adds, then each time the run's additions double — about ten `ANALYZE`s for a million
//! rows, each a sampled read of at most 30,000 rows. `ANALYZE` also invalidates every cached
//! plan of the table, so prepared statements are planned again with the new statistics.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;

/// Rows added before the first `ANALYZE`.
const FIRST_ANALYZE_AFTER: u64 = 1_000;

/// Counts the rows one writer (a run) adds to `table` and analyzes it as they grow.
pub struct GrowthWatch {
    table: &'static str,
    added: AtomicU64,
    next_analyze_at: AtomicU64,
}

impl GrowthWatch {
    /// `table` is one of our own tables, named by code (never user input).
    pub const fn new(table: &'static str) -> GrowthWatch {
        GrowthWatch {
            table,
            added: AtomicU64::new(0),
            next_analyze_at: AtomicU64::new(FIRST_ANALYZE_AFTER),
        }
    }

    /// Records `rows` more rows; analyzes the table when the additions crossed the next mark.
    /// Statistics only speed queries up, so a failure is logged, not returned.
    pub async fn grew(&self, pool: &PgPool, rows: u64) {
        let added = self.added.fetch_add(rows, Ordering::Relaxed) + rows;
        let mark = self.next_analyze_at.load(Ordering::Relaxed);
        if added < mark
            || self
                .next_analyze_at
                .compare_exchange(mark, added * 2, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if let Err(e) = analyze(pool, self.table).await {
            tracing::warn!(table = self.table, error = %e, "analyzing a growing table failed");
        }
    }
}

/// `ANALYZE table`, unless another process is analyzing it right now (two would queue on
/// the table's lock; one is enough).
async fn analyze(pool: &PgPool, table: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let ours: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext('lockstep analyze ' || $1))")
            .bind(table)
            .fetch_one(&mut *tx)
            .await?;
    if ours {
        let started = std::time::Instant::now();
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(&mut *tx)
            .await?;
        tracing::debug!(
            table,
            took_ms = started.elapsed().as_millis() as u64,
            "analyzed"
        );
    }
    tx.commit().await
}
