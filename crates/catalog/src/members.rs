//! Who belongs to a workspace, with which role; the last Admin can never be removed.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::workspaces::{parse_role, require_role};
use super::{CatalogError, Role};

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// The workspace's members, Admins first (any member may look).
pub async fn list(
    pool: &PgPool,
    actor: Uuid,
    workspace_id: Uuid,
) -> Result<Vec<Member>, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace_id, actor, Role::Viewer).await?;
    let rows: Vec<(Uuid, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT u.id, u.email, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.workspace_id = $1
         ORDER BY CASE m.role WHEN 'admin' THEN 0 WHEN 'developer' THEN 1 ELSE 2 END, u.email",
    )
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(user_id, email, role, joined_at)| {
            Ok(Member {
                user_id,
                email,
                role: parse_role(&role)?,
                joined_at,
            })
        })
        .collect()
}

/// Changes a member's role (Admin only). Demoting the last Admin is refused.
pub async fn change_role(
    pool: &PgPool,
    actor: Uuid,
    workspace_id: Uuid,
    member: Uuid,
    role: Role,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace_id, actor, Role::Admin).await?;
    let current = lock_member(&mut tx, workspace_id, member).await?;
    if current == Role::Admin && role != Role::Admin {
        ensure_another_admin(&mut tx, workspace_id, "role").await?;
    }
    sqlx::query("UPDATE memberships SET role = $1, updated_at = now() WHERE workspace_id = $2 AND user_id = $3")
        .bind(role.as_str())
        .bind(workspace_id)
        .bind(member)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a member (Admin only). Removing the last Admin is refused.
pub async fn remove(
    pool: &PgPool,
    actor: Uuid,
    workspace_id: Uuid,
    member: Uuid,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace_id, actor, Role::Admin).await?;
    if lock_member(&mut tx, workspace_id, member).await? == Role::Admin {
        ensure_another_admin(&mut tx, workspace_id, "member").await?;
    }
    sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
        .bind(workspace_id)
        .bind(member)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn lock_member(
    conn: &mut PgConnection,
    workspace_id: Uuid,
    member: Uuid,
) -> Result<Role, CatalogError> {
    let role: String = sqlx::query_scalar(
        "SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2 FOR UPDATE",
    )
    .bind(workspace_id)
    .bind(member)
    .fetch_one(conn)
    .await
    .map_err(CatalogError::from_fetch)?;
    parse_role(&role)
}

/// Locks every Admin row of the workspace (so two concurrent demotions cannot both pass)
/// and refuses when fewer than two Admins exist.
async fn ensure_another_admin(
    conn: &mut PgConnection,
    workspace_id: Uuid,
    field: &'static str,
) -> Result<(), CatalogError> {
    let admins: Vec<Uuid> = sqlx::query_scalar(
        "SELECT user_id FROM memberships WHERE workspace_id = $1 AND role = 'admin' FOR UPDATE",
    )
    .bind(workspace_id)
    .fetch_all(conn)
    .await?;
    if admins.len() < 2 {
        return Err(CatalogError::conflict(
            field,
            "A workspace needs at least one Admin. Make another member Admin first.",
        ));
    }
    Ok(())
}
