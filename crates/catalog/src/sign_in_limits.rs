//! Slows down password guessing and mass sign-up: after too many failed sign-ins for one
//! email, or from one client address, within a window, further attempts are refused until the
//! window moves on; sign-ups are counted per client address the same way.
//! Counted in PostgreSQL so every web process shares the same view.
//!
//! Checking and counting are one step: an attempt is recorded as a failure *before* its
//! password is checked, under an advisory lock per email and per address, and taken back
//! only when it succeeds. Parallel guesses therefore cannot all pass the check before any of
//! them is counted.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::CatalogError;

/// The sliding window failures are counted in.
pub const WINDOW_MINUTES: i64 = 15;
/// Failures allowed per email within the window.
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// Failures allowed per client address within the window (several people may share one).
pub const MAX_FAILURES_PER_IP: i64 = 50;
/// The window sign-ups are counted in.
pub const SIGN_UP_WINDOW_MINUTES: i64 = 60;
/// Sign-up attempts (each costs a password hash) allowed per client address in that window.
pub const MAX_SIGN_UPS_PER_IP: i64 = 20;

/// A sign-in attempt counted as a failure until [`succeeded`] takes it back.
#[derive(Debug)]
#[must_use = "an attempt stays counted as a failure unless it is marked as succeeded"]
pub struct Attempt {
    id: i64,
}

/// Serializes the check-and-count of one email or one address across every process.
async fn lock(conn: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(conn)
        .await
        .map(|_| ())
}

fn refused(oldest: DateTime<Utc>, window_minutes: i64) -> CatalogError {
    let free_at = oldest + chrono::Duration::minutes(window_minutes);
    CatalogError::RateLimited {
        retry_after_secs: (free_at - Utc::now()).num_seconds().max(1),
    }
}

/// Counts a sign-in attempt for `email` from `client_ip`, or answers `RateLimited` (with the
/// seconds until an attempt frees up) when either limit is already reached.
pub async fn begin(pool: &PgPool, email: &str, client_ip: &str) -> Result<Attempt, CatalogError> {
    let mut tx = pool.begin().await?;
    // Always email first, then address: two attempts never wait for each other in a cycle.
    lock(&mut tx, &format!("sign-in email {email}")).await?;
    lock(&mut tx, &format!("sign-in address {client_ip}")).await?;
    let (by_email, oldest_email, by_ip, oldest_ip): (i64, Option<DateTime<Utc>>, i64, Option<DateTime<Utc>>) =
        sqlx::query_as(
            "SELECT
               count(*) FILTER (WHERE email = $1),
               min(created_at) FILTER (WHERE email = $1),
               count(*) FILTER (WHERE client_ip = $2),
               min(created_at) FILTER (WHERE client_ip = $2)
             FROM sign_in_failures
             WHERE (email = $1 OR client_ip = $2) AND created_at > now() - make_interval(mins => $3)",
        )
        .bind(email)
        .bind(client_ip)
        .bind(WINDOW_MINUTES as i32)
        .fetch_one(&mut *tx)
        .await?;
    if by_email >= MAX_FAILURES_PER_EMAIL {
        return Err(refused(
            oldest_email.unwrap_or_else(Utc::now),
            WINDOW_MINUTES,
        ));
    }
    if by_ip >= MAX_FAILURES_PER_IP {
        return Err(refused(oldest_ip.unwrap_or_else(Utc::now), WINDOW_MINUTES));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sign_in_failures (email, client_ip) VALUES ($1, $2) RETURNING id",
    )
    .bind(email)
    .bind(client_ip)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Attempt { id })
}

/// The attempt failed: it stays counted. Forgets failures older than the window.
pub async fn failed(pool: &PgPool, _attempt: Attempt) -> Result<(), CatalogError> {
    sqlx::query(
        "DELETE FROM sign_in_failures WHERE created_at < now() - make_interval(mins => $1)",
    )
    .bind(WINDOW_MINUTES as i32)
    .execute(pool)
    .await?;
    Ok(())
}

/// The attempt succeeded: it and the email's earlier failures are forgotten (the address's
/// failures for other emails are kept).
pub async fn succeeded(pool: &PgPool, attempt: Attempt, email: &str) -> Result<(), CatalogError> {
    sqlx::query("DELETE FROM sign_in_failures WHERE id = $1 OR email = $2")
        .bind(attempt.id)
        .bind(email)
        .execute(pool)
        .await?;
    Ok(())
}

/// Counts a sign-up attempt from `client_ip`, or answers `RateLimited` when the address
/// already made [`MAX_SIGN_UPS_PER_IP`] within [`SIGN_UP_WINDOW_MINUTES`].
pub async fn count_sign_up(pool: &PgPool, client_ip: &str) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, &format!("sign-up address {client_ip}")).await?;
    let (count, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT count(*), min(created_at) FROM sign_up_attempts
         WHERE client_ip = $1 AND created_at > now() - make_interval(mins => $2)",
    )
    .bind(client_ip)
    .bind(SIGN_UP_WINDOW_MINUTES as i32)
    .fetch_one(&mut *tx)
    .await?;
    if count >= MAX_SIGN_UPS_PER_IP {
        return Err(refused(
            oldest.unwrap_or_else(Utc::now),
            SIGN_UP_WINDOW_MINUTES,
        ));
    }
    sqlx::query(
        "DELETE FROM sign_up_attempts WHERE created_at < now() - make_interval(mins => $1)",
    )
    .bind(SIGN_UP_WINDOW_MINUTES as i32)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO sign_up_attempts (client_ip) VALUES ($1)")
        .bind(client_ip)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
