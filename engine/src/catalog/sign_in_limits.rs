//! Slows down password guessing: after too many failed sign-ins for one email, or from one
//! client address, within a window, further attempts are refused until the window moves on.
//! Counted in PostgreSQL so every web process shares the same view.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::CatalogError;

/// The sliding window failures are counted in.
pub const WINDOW_MINUTES: i64 = 15;
/// Failures allowed per email within the window.
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// Failures allowed per client address within the window (several people may share one).
pub const MAX_FAILURES_PER_IP: i64 = 50;

/// `RateLimited` when either limit is reached, with the seconds until an attempt frees up.
pub async fn check(pool: &PgPool, email: &str, client_ip: &str) -> Result<(), CatalogError> {
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
        .fetch_one(pool)
        .await?;
    let blocked_since = if by_email >= MAX_FAILURES_PER_EMAIL {
        oldest_email
    } else if by_ip >= MAX_FAILURES_PER_IP {
        oldest_ip
    } else {
        None
    };
    match blocked_since {
        Some(oldest) => {
            let free_at = oldest + chrono::Duration::minutes(WINDOW_MINUTES);
            Err(CatalogError::RateLimited {
                retry_after_secs: (free_at - Utc::now()).num_seconds().max(1),
            })
        }
        None => Ok(()),
    }
}

/// Records one failed attempt and forgets failures older than the window.
pub async fn record_failure(
    pool: &PgPool,
    email: &str,
    client_ip: &str,
) -> Result<(), CatalogError> {
    sqlx::query("INSERT INTO sign_in_failures (email, client_ip) VALUES ($1, $2)")
        .bind(email)
        .bind(client_ip)
        .execute(pool)
        .await?;
    sqlx::query(
        "DELETE FROM sign_in_failures WHERE created_at < now() - make_interval(mins => $1)",
    )
    .bind(WINDOW_MINUTES as i32)
    .execute(pool)
    .await?;
    Ok(())
}

/// A successful sign-in clears the email's failures (not the address's).
pub async fn clear(pool: &PgPool, email: &str) -> Result<(), CatalogError> {
    sqlx::query("DELETE FROM sign_in_failures WHERE email = $1")
        .bind(email)
        .execute(pool)
        .await?;
    Ok(())
}
