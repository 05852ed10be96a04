//! Invitations: an Admin invites an email with a role and hands over a link; only a person
//! signed in with that email can accept it, before it expires and unless it was revoked.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::workspaces::{parse_role, require_role, set_default};
use super::{CatalogError, Role, normalize_email, users::User};

/// How long a link stays valid.
pub const INVITATION_TTL_DAYS: i64 = 7;

/// A pending invitation as an Admin sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Where an invitation stands, as anyone holding its link may learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Expired,
    Revoked,
    Accepted,
}

/// What the link's page shows before accepting.
#[derive(Debug, Clone, PartialEq)]
pub struct InvitationPreview {
    pub workspace_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub state: InvitationState,
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Invites `email` with `role` (Admin only) and returns the invitation with the secret token
/// for its link; only the token's hash is stored. A pending invitation to the same email is
/// replaced, so at most one link per person works at a time.
pub async fn create(
    pool: &PgPool,
    actor: Uuid,
    workspace_id: Uuid,
    email: &str,
    role: Role,
) -> Result<(Invitation, String), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace_id, actor, Role::Admin).await?;
    let email = normalize_email(email)?;
    let already_member: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
                        WHERE m.workspace_id = $1 AND u.email = $2)",
    )
    .bind(workspace_id)
    .bind(&email)
    .fetch_one(&mut *tx)
    .await?;
    if already_member {
        return Err(CatalogError::conflict(
            "email",
            format!("{email} is already a member of this workspace."),
        ));
    }
    sqlx::query(
        "UPDATE invitations SET revoked_at = now(), updated_at = now()
         WHERE workspace_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(workspace_id)
    .bind(&email)
    .execute(&mut *tx)
    .await?;

    let token = new_token();
    let id = Uuid::new_v4();
    let expires_at = Utc::now() + Duration::days(INVITATION_TTL_DAYS);
    sqlx::query(
        "INSERT INTO invitations (id, workspace_id, email, role, token_hash, invited_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(workspace_id)
    .bind(&email)
    .bind(role.as_str())
    .bind(token_hash(&token))
    .bind(actor)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    let invited_by: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(actor)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((
        Invitation {
            id,
            email,
            role,
            invited_by,
            expires_at,
        },
        token,
    ))
}

/// Invitations not yet accepted, revoked or expired (Admin only).
pub async fn list_pending(
    pool: &PgPool,
    actor: Uuid,
    workspace_id: Uuid,
) -> Result<Vec<Invitation>, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace_id, actor, Role::Admin).await?;
    type PendingRow = (Uuid, String, String, Option<String>, DateTime<Utc>);
    let rows: Vec<PendingRow> = sqlx::query_as(
        "SELECT i.id, i.email, i.role, u.email, i.expires_at
         FROM invitations i LEFT JOIN users u ON u.id = i.invited_by
         WHERE i.workspace_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()
         ORDER BY i.created_at DESC",
    )
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(id, email, role, invited_by, expires_at)| {
            Ok(Invitation {
                id,
                email,
                role: parse_role(&role)?,
                invited_by,
                expires_at,
            })
        })
        .collect()
}

/// Revokes a pending invitation (Admin only); its link stops working at once.
pub async fn revoke(
    pool: &PgPool,
    actor: Uuid,
    workspace_id: Uuid,
    invitation_id: Uuid,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace_id, actor, Role::Admin).await?;
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = now(), updated_at = now()
         WHERE id = $1 AND workspace_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(invitation_id)
    .bind(workspace_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

type PreviewRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn state_of(
    expires_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
) -> InvitationState {
    if accepted_at.is_some() {
        InvitationState::Accepted
    } else if revoked_at.is_some() {
        InvitationState::Revoked
    } else if expires_at <= Utc::now() {
        InvitationState::Expired
    } else {
        InvitationState::Pending
    }
}

const PREVIEW_SQL: &str = "SELECT i.id, i.workspace_id, w.name, i.email, i.role, u.email, i.expires_at, i.accepted_at, i.revoked_at
     FROM invitations i JOIN workspaces w ON w.id = i.workspace_id LEFT JOIN users u ON u.id = i.invited_by
     WHERE i.token_hash = $1";

/// What the invitation behind `token` offers; an unknown token is `NotFound`.
pub async fn preview(pool: &PgPool, token: &str) -> Result<InvitationPreview, CatalogError> {
    let row: PreviewRow = sqlx::query_as(PREVIEW_SQL)
        .bind(token_hash(token))
        .fetch_one(pool)
        .await
        .map_err(CatalogError::from_fetch)?;
    let (_, _, workspace_name, email, role, invited_by, expires_at, accepted_at, revoked_at) = row;
    Ok(InvitationPreview {
        workspace_name,
        email,
        role: parse_role(&role)?,
        invited_by,
        expires_at,
        state: state_of(expires_at, accepted_at, revoked_at),
    })
}

/// Accepts the invitation behind `token` for `user`, who must be signed in with the invited
/// email. Makes them a member with the invited role (keeping a role they already hold) and
/// switches them to the workspace. Returns the workspace id.
pub async fn accept(pool: &PgPool, user: &User, token: &str) -> Result<Uuid, CatalogError> {
    let mut tx = pool.begin().await?;
    let row: PreviewRow = sqlx::query_as(&format!("{PREVIEW_SQL} FOR UPDATE OF i"))
        .bind(token_hash(token))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match CatalogError::from_fetch(e) {
            CatalogError::NotFound => {
                CatalogError::validation("token", "This invitation no longer exists.")
            }
            other => other,
        })?;
    let (id, workspace_id, _, email, role, _, expires_at, accepted_at, revoked_at) = row;
    match state_of(expires_at, accepted_at, revoked_at) {
        InvitationState::Pending => {}
        InvitationState::Revoked => {
            return Err(CatalogError::validation(
                "token",
                "This invitation no longer exists: an Admin revoked it.",
            ));
        }
        InvitationState::Accepted => {
            return Err(CatalogError::validation(
                "token",
                "This invitation was already used. Ask an Admin for a new one.",
            ));
        }
        InvitationState::Expired => {
            return Err(CatalogError::validation(
                "token",
                format!(
                    "This invitation expired on {}. Ask an Admin for a new one.",
                    expires_at.format("%Y-%m-%d %H:%M UTC")
                ),
            ));
        }
    }
    if email != user.email {
        return Err(CatalogError::Forbidden(format!(
            "Invitation email mismatch: this invitation is for {email}, but you are signed in as {}. Sign in as {email} to accept it.",
            user.email
        )));
    }
    super::audit::stamp(&mut tx, user.id).await?;
    sqlx::query(
        "INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id, user_id) DO NOTHING",
    )
    .bind(workspace_id)
    .bind(user.id)
    .bind(&role)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE invitations SET accepted_at = now(), accepted_by = $1, updated_at = now() WHERE id = $2")
        .bind(user.id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    set_default(&mut tx, user.id, workspace_id).await?;
    tx.commit().await?;
    Ok(workspace_id)
}

/// True when `token` is a pending invitation (not accepted, revoked or expired) for `email`:
/// the one way to create an account once sign-up is by invitation.
pub(crate) async fn is_pending_for(
    conn: &mut sqlx::PgConnection,
    token: &str,
    email: &str,
) -> Result<bool, CatalogError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM invitations
                        WHERE token_hash = $1 AND email = $2 AND accepted_at IS NULL
                          AND revoked_at IS NULL AND expires_at > now())",
    )
    .bind(token_hash(token))
    .bind(email)
    .fetch_one(conn)
    .await?)
}
