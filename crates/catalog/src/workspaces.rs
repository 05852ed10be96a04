//! Team workspaces: creation, renaming, switching, and the membership check every other
//! catalog function starts with.

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::users::User;
use super::{CatalogError, Role};

/// A workspace as one member sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceSummary {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// The email of who created it (None once that account is gone): tells apart
    /// workspaces of one name.
    pub owner: Option<String>,
}

/// The caller's role in `workspace_id`, which must be at least `min`. The caller is also
/// recorded as who acts in the transaction (`audit`).
///
/// Not being a member answers `NotFound`, exactly as for a workspace that does not exist,
/// so ids from other workspaces reveal nothing.
pub async fn require_role(
    conn: &mut PgConnection,
    workspace_id: Uuid,
    user_id: Uuid,
    min: Role,
) -> Result<Role, CatalogError> {
    // The same statement names the caller as the actor of the transaction's changes, for
    // the audit log's triggers (`audit`).
    let (role, ..): (String, String, String) = sqlx::query_as(
        "SELECT role, set_config('lockstep.actor_user', $2::text, true),
                set_config('lockstep.actor_token', $3, true)
           FROM memberships WHERE workspace_id = $1 AND user_id = $2",
    )
    .bind(workspace_id)
    .bind(user_id)
    .bind(
        super::audit::request_token()
            .map(|t| t.to_string())
            .unwrap_or_default(),
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(CatalogError::from_fetch)?;
    let role = parse_role(&role)?;
    if role < min {
        return Err(CatalogError::Forbidden(format!(
            "This needs the {min} role; you are a {role} in this workspace. Ask an Admin to change your role."
        )));
    }
    Ok(role)
}

pub(crate) fn parse_role(stored: &str) -> Result<Role, CatalogError> {
    stored
        .parse()
        .map_err(|e: String| CatalogError::Database(sqlx::Error::Decode(e.into())))
}

/// Checks a workspace name typed by a person and returns it trimmed.
pub(crate) fn validate_name(name: &str) -> Result<String, CatalogError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CatalogError::validation(
            "name",
            "Give the workspace a name.",
        ));
    }
    if name.chars().count() > 80 {
        return Err(CatalogError::validation(
            "name",
            "Use at most 80 characters.",
        ));
    }
    Ok(name.to_owned())
}

pub(crate) async fn insert_with_admin(
    tx: &mut Transaction<'_, Postgres>,
    workspace_id: Uuid,
    name: &str,
    admin: Uuid,
) -> Result<(), CatalogError> {
    super::audit::stamp(tx, admin).await?;
    sqlx::query("INSERT INTO workspaces (id, name, created_by) VALUES ($1, $2, $3)")
        .bind(workspace_id)
        .bind(name)
        .bind(admin)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, 'admin')")
        .bind(workspace_id)
        .bind(admin)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A person with every workspace they belong to: what each page's top bar shows and what
/// each server function starts from, found in one statement.
#[derive(Debug, Clone)]
pub struct UserWorkspaces {
    pub user: User,
    /// By name (then by age, for workspaces of one name).
    pub workspaces: Vec<WorkspaceSummary>,
}

impl UserWorkspaces {
    /// The workspace they work in now: their remembered default if they are still a member
    /// of it, else the first they belong to; `None` if they belong to none.
    pub fn current(&self) -> Option<&WorkspaceSummary> {
        self.user
            .default_workspace_id
            .and_then(|default| self.workspaces.iter().find(|w| w.id == default))
            .or_else(|| self.workspaces.first())
    }
}

/// The person `user_id` with their workspaces; `None` if the account does not exist.
pub async fn of_user(pool: &PgPool, user_id: Uuid) -> Result<Option<UserWorkspaces>, CatalogError> {
    type Row = (
        Uuid,
        String,
        Option<Uuid>,
        Option<Uuid>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT u.id, u.email, u.default_workspace_id, w.id, w.name, m.role, o.email
           FROM users u
           LEFT JOIN memberships m ON m.user_id = u.id
           LEFT JOIN workspaces w ON w.id = m.workspace_id
           LEFT JOIN users o ON o.id = w.created_by
          WHERE u.id = $1
          ORDER BY lower(w.name), w.created_at",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    let Some((id, email, default_workspace_id, ..)) = rows.first() else {
        return Ok(None);
    };
    let user = User {
        id: *id,
        email: email.clone(),
        default_workspace_id: *default_workspace_id,
    };
    let workspaces = rows
        .into_iter()
        .filter_map(|(.., workspace, name, role, owner)| Some((workspace?, name?, role?, owner)))
        .map(|(id, name, role, owner)| {
            Ok(WorkspaceSummary {
                id,
                name,
                role: parse_role(&role)?,
                owner,
            })
        })
        .collect::<Result<_, CatalogError>>()?;
    Ok(Some(UserWorkspaces { user, workspaces }))
}

/// Every workspace the user belongs to, by name.
pub async fn list_for_user(
    pool: &PgPool,
    user_id: Uuid,
) -> Result<Vec<WorkspaceSummary>, CatalogError> {
    Ok(of_user(pool, user_id)
        .await?
        .map(|found| found.workspaces)
        .unwrap_or_default())
}

/// The workspace the user works in now ([`UserWorkspaces::current`]).
pub async fn current_for_user(
    pool: &PgPool,
    user_id: Uuid,
) -> Result<Option<WorkspaceSummary>, CatalogError> {
    Ok(of_user(pool, user_id)
        .await?
        .and_then(|found| found.current().cloned()))
}

/// Creates a workspace; its creator is its Admin and it becomes their default.
pub async fn create(
    pool: &PgPool,
    user_id: Uuid,
    name: &str,
) -> Result<WorkspaceSummary, CatalogError> {
    let name = validate_name(name)?;
    let id = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    insert_with_admin(&mut tx, id, &name, user_id).await?;
    set_default(&mut tx, user_id, id).await?;
    let owner: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(WorkspaceSummary {
        id,
        name,
        role: Role::Admin,
        owner,
    })
}

/// Renames a workspace (Admin only).
pub async fn rename(
    pool: &PgPool,
    user_id: Uuid,
    workspace_id: Uuid,
    name: &str,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace_id, user_id, Role::Admin).await?;
    let name = validate_name(name)?;
    sqlx::query("UPDATE workspaces SET name = $1, updated_at = now() WHERE id = $2")
        .bind(name)
        .bind(workspace_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes `workspace_id` the user's default (the one opened at sign-in).
pub async fn switch(pool: &PgPool, user_id: Uuid, workspace_id: Uuid) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace_id, user_id, Role::Viewer).await?;
    set_default(&mut tx, user_id, workspace_id).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn set_default(
    conn: &mut PgConnection,
    user_id: Uuid,
    workspace_id: Uuid,
) -> Result<(), CatalogError> {
    sqlx::query("UPDATE users SET default_workspace_id = $1, updated_at = now() WHERE id = $2")
        .bind(workspace_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The workspace a headless command acts in: the one named, else the only one, else a new
/// "Default" when none exists yet.
pub async fn resolve_for_command(
    pool: &PgPool,
    name: Option<&str>,
) -> Result<WorkspaceRef, CatalogError> {
    let all: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM workspaces ORDER BY lower(name), created_at")
            .fetch_all(pool)
            .await?;
    let names = || {
        all.iter()
            .map(|(_, n)| format!("“{n}”"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(wanted) => {
            let matching: Vec<&(Uuid, String)> =
                all.iter().filter(|(_, n)| n == wanted.trim()).collect();
            match matching.as_slice() {
                [(id, name)] => Ok(WorkspaceRef {
                    id: *id,
                    name: name.clone(),
                }),
                [] => Err(CatalogError::validation(
                    "workspace",
                    format!(
                        "no workspace is named “{wanted}”; the workspaces are: {}",
                        if all.is_empty() {
                            "none yet".into()
                        } else {
                            names()
                        }
                    ),
                )),
                _ => Err(CatalogError::validation(
                    "workspace",
                    format!("several workspaces are named “{wanted}”; rename one in the app"),
                )),
            }
        }
        None => match all.as_slice() {
            [(id, name)] => Ok(WorkspaceRef {
                id: *id,
                name: name.clone(),
            }),
            [] => {
                let id = Uuid::new_v4();
                sqlx::query("INSERT INTO workspaces (id, name) VALUES ($1, 'Default')")
                    .bind(id)
                    .execute(pool)
                    .await?;
                Ok(WorkspaceRef {
                    id,
                    name: "Default".into(),
                })
            }
            _ => Err(CatalogError::validation(
                "workspace",
                format!(
                    "there are several workspaces ({}); choose one with --workspace NAME",
                    names()
                ),
            )),
        },
    }
}

/// A workspace chosen by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRef {
    pub id: Uuid,
    pub name: String,
}
