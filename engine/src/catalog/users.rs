//! Accounts: sign-up, sign-in, lookup.

use sqlx::PgPool;
use uuid::Uuid;

use super::error::is_unique_violation;
use super::password::decoy_hash;
use super::{CatalogError, hash_password, normalize_email, sign_in_limits, verify_password};

/// A signed-up person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub default_workspace_id: Option<Uuid>,
}

/// Name of the workspace every new account starts with.
pub const FIRST_WORKSPACE_NAME: &str = "My workspace";

/// Creates an account with its first workspace (the person is its Admin and it becomes
/// their default), all in one transaction.
#[tracing::instrument(skip_all, err(Debug))]
pub async fn sign_up(pool: &PgPool, email: &str, password: &str) -> Result<User, CatalogError> {
    let email = normalize_email(email)?;
    let password_hash = hash_password_blocking(password.to_owned()).await?;
    let user_id = Uuid::new_v4();
    let workspace_id = Uuid::new_v4();

    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)")
        .bind(user_id)
        .bind(&email)
        .bind(&password_hash)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e, "users_email_key") {
                CatalogError::conflict(
                    "email",
                    "An account with this email already exists. Sign in instead.",
                )
            } else {
                e.into()
            }
        })?;
    super::workspaces::insert_with_admin(&mut tx, workspace_id, FIRST_WORKSPACE_NAME, user_id)
        .await?;
    sqlx::query("UPDATE users SET default_workspace_id = $1 WHERE id = $2")
        .bind(workspace_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(User {
        id: user_id,
        email,
        default_workspace_id: Some(workspace_id),
    })
}

/// Checks an email and password. Unknown email and wrong password both answer
/// `InvalidCredentials` after the same amount of hashing work; repeated failures per email
/// or per client address answer `RateLimited` before any password is checked.
#[tracing::instrument(skip_all, err(Debug))]
pub async fn sign_in(
    pool: &PgPool,
    email: &str,
    password: &str,
    client_ip: &str,
) -> Result<User, CatalogError> {
    // An address that cannot be an email still counts as a failure for the client address.
    let email = normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
    sign_in_limits::check(pool, &email, client_ip).await?;

    let user: Option<(User, String)> = sqlx::query_as::<_, (Uuid, String, Option<Uuid>, String)>(
        "SELECT id, email, default_workspace_id, password_hash FROM users WHERE email = $1",
    )
    .bind(&email)
    .fetch_optional(pool)
    .await?
    .map(|(id, email, default_workspace_id, hash)| {
        (
            User {
                id,
                email,
                default_workspace_id,
            },
            hash,
        )
    });

    let password = password.to_owned();
    let (user, matches) = tokio::task::spawn_blocking(move || match user {
        Some((user, hash)) => {
            let ok = verify_password(&password, &hash);
            (Some(user), ok)
        }
        None => {
            verify_password(&password, decoy_hash());
            (None, false)
        }
    })
    .await
    .map_err(|e| CatalogError::Hashing(e.to_string()))?;

    match (user, matches) {
        (Some(user), true) => {
            sign_in_limits::clear(pool, &email).await?;
            Ok(user)
        }
        _ => {
            sign_in_limits::record_failure(pool, &email, client_ip).await?;
            Err(CatalogError::InvalidCredentials)
        }
    }
}

/// The account with this id, or `NotFound` (e.g. a session outliving a deleted account).
pub async fn find(pool: &PgPool, user_id: Uuid) -> Result<User, CatalogError> {
    sqlx::query_as::<_, User>("SELECT id, email, default_workspace_id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .map_err(CatalogError::from_fetch)
}

/// Hashing is CPU-heavy: keep it off the async worker threads.
async fn hash_password_blocking(password: String) -> Result<String, CatalogError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| CatalogError::Hashing(e.to_string()))?
}
