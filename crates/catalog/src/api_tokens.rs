//! API tokens: how scripts and CI act in a workspace through the REST API.
//!
//! A token belongs to one member of one workspace and carries a role. It is shown once, when
//! made; only its SHA-256 is kept. It acts with the lower of its own role and its member's
//! role *now*: demoting the member limits the token at the next request, and removing them
//! deletes it (the database cascades from the membership). A revoked or expired token is
//! refused exactly like one that never existed.
//!
//! Any member may make tokens for themselves, up to their own role, and revoke their own;
//! Admins see and revoke every token of the workspace.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::workspaces::{parse_role, require_role};
use super::{CatalogError, Role};

/// What every token starts with: recognisable in logs and by secret scanners.
pub const TOKEN_PREFIX: &str = "lst_";

/// How much of a token the list shows (the prefix and 6 characters of the secret).
const SHOWN_CHARS: usize = TOKEN_PREFIX.len() + 6;

/// A token's last use is written at most this often (one write per request would make
/// every API call a write).
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// A token as its list shows it (never the secret).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// `lst_ab12cd…`: enough to recognise it.
    pub prefix: String,
    /// Whose token it is.
    pub owner: Uuid,
    pub owner_email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new token: its row and the secret, which is never shown again.
pub struct NewToken {
    pub token: ApiToken,
    pub secret: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("token", &self.token)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Who a presented token speaks for, with the role it may act with now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCaller {
    pub token: Uuid,
    pub user: Uuid,
    pub workspace: Uuid,
    /// The lower of the token's role and its member's current role.
    pub role: Role,
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Makes a token for the caller in `workspace`. Its role may not exceed the caller's;
/// `expires_at` must lie in the future.
pub async fn create(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    name: &str,
    role: Role,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<NewToken, CatalogError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(CatalogError::validation(
            "name",
            "give the token a name of 1 to 80 characters (what uses it, e.g. “nightly CI”)",
        ));
    }
    if expires_at.is_some_and(|at| at <= now) {
        return Err(CatalogError::validation(
            "expires_at",
            "the expiry date has passed; choose a later date, or none",
        ));
    }
    let mut tx = pool.begin().await?;
    let mine = require_role(&mut tx, workspace, user, Role::Viewer).await?;
    if role > mine {
        return Err(CatalogError::validation(
            "role",
            format!("a token cannot have more rights than you: choose {mine} or lower"),
        ));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let id = Uuid::new_v4();
    let prefix = secret[..SHOWN_CHARS].to_owned();
    let (created_at, owner_email): (DateTime<Utc>, String) = sqlx::query_as(
        "WITH made AS (
             INSERT INTO api_tokens (id, workspace_id, user_id, name, role, prefix, token_hash, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING created_at, user_id)
         SELECT made.created_at, u.email FROM made JOIN users u ON u.id = made.user_id",
    )
    .bind(id)
    .bind(workspace)
    .bind(user)
    .bind(name)
    .bind(role.as_str())
    .bind(&prefix)
    .bind(hash(&secret))
    .bind(expires_at)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(NewToken {
        token: ApiToken {
            id,
            name: name.to_owned(),
            role,
            prefix,
            owner: user,
            owner_email,
            created_at,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        },
        secret,
    })
}

/// The tokens the caller may see: their own, or, for an Admin, every token of the
/// workspace. Newest first.
pub async fn list(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
) -> Result<Vec<ApiToken>, CatalogError> {
    let mut conn = pool.acquire().await?;
    let role = require_role(&mut conn, workspace, user, Role::Viewer).await?;
    type Row = (
        Uuid,
        String,
        String,
        String,
        Uuid,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT t.id, t.name, t.role, t.prefix, t.user_id, u.email, t.created_at, t.expires_at,
                t.last_used_at, t.revoked_at
           FROM api_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.workspace_id = $1 AND ($2 OR t.user_id = $3)
          ORDER BY t.created_at DESC, t.id",
    )
    .bind(workspace)
    .bind(role.can_admin())
    .bind(user)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(
            |(
                id,
                name,
                role,
                prefix,
                owner,
                owner_email,
                created_at,
                expires_at,
                last_used_at,
                revoked_at,
            )| {
                Ok(ApiToken {
                    id,
                    name,
                    role: parse_role(&role)?,
                    prefix,
                    owner,
                    owner_email,
                    created_at,
                    expires_at,
                    last_used_at,
                    revoked_at,
                })
            },
        )
        .collect()
}

/// Revokes a token: the caller's own, or any of the workspace for an Admin. Revoking twice
/// is fine; another member's token is `NotFound` to a non-Admin.
pub async fn revoke(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    token: Uuid,
) -> Result<ApiToken, CatalogError> {
    let mut tx = pool.begin().await?;
    let role = require_role(&mut tx, workspace, user, Role::Viewer).await?;
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
          WHERE workspace_id = $1 AND id = $2 AND ($3 OR user_id = $4)",
    )
    .bind(workspace)
    .bind(token)
    .bind(role.can_admin())
    .bind(user)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    tx.commit().await?;
    list(pool, user, workspace)
        .await?
        .into_iter()
        .find(|t| t.id == token)
        .ok_or(CatalogError::NotFound)
}

/// The caller a presented token speaks for, or `None` for a token that is unknown, revoked,
/// expired, or whose member has left. Records its use (at most once a minute).
pub async fn authenticate(
    pool: &PgPool,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<Option<TokenCaller>, CatalogError> {
    // Anything not shaped like our tokens is refused before touching the database.
    let well_formed = presented.len() == TOKEN_PREFIX.len() + 64
        && presented.starts_with(TOKEN_PREFIX)
        && presented[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Ok(None);
    }
    // The member's current role caps the token's: one statement, so a demotion committed
    // before this request is seen by it.
    #[derive(sqlx::FromRow)]
    struct Found {
        id: Uuid,
        user_id: Uuid,
        workspace_id: Uuid,
        role: String,
        member_role: String,
        last_used_at: Option<DateTime<Utc>>,
    }
    let row: Option<Found> = sqlx::query_as(
        "SELECT t.id, t.user_id, t.workspace_id, t.role, m.role AS member_role, t.last_used_at
           FROM api_tokens t
           JOIN memberships m ON m.workspace_id = t.workspace_id AND m.user_id = t.user_id
          WHERE t.token_hash = $1 AND t.revoked_at IS NULL
            AND (t.expires_at IS NULL OR t.expires_at > $2)",
    )
    .bind(hash(presented))
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let Some(found) = row else {
        return Ok(None);
    };
    if found
        .last_used_at
        .is_none_or(|at| (now - at).num_seconds() >= LAST_USED_RESOLUTION_SECS)
    {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(found.id)
            .bind(now)
            .execute(pool)
            .await?;
    }
    Ok(Some(TokenCaller {
        token: found.id,
        user: found.user_id,
        workspace: found.workspace_id,
        role: parse_role(&found.role)?.min(parse_role(&found.member_role)?),
    }))
}
