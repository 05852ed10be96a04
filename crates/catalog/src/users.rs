//! Accounts: sign-up, sign-in, lookup.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::error::is_unique_violation;
use super::password::{check_password_rules, decoy_hash, hashing};
use super::{
    CatalogError, hash_password, invitations, normalize_email, sign_in_limits, verify_password,
};

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
/// their default), all in one transaction. No sign-up rules apply: for tools and tests; the
/// web app calls [`sign_up_visitor`].
#[tracing::instrument(skip_all, err(Debug))]
pub async fn sign_up(pool: &PgPool, email: &str, password: &str) -> Result<User, CatalogError> {
    let email = normalize_email(email)?;
    let password_hash = hash_password_blocking(password.to_owned()).await?;
    create_account(pool, email, password_hash, None).await
}

/// Who may create an account through the web app, and from where.
#[derive(Debug, Clone, Copy)]
pub struct SignUpRules<'a> {
    /// The operator opened sign-up to anyone (`LOCKSTEP_OPEN_SIGNUP`). Otherwise only the
    /// first account, or a person holding a pending invitation for their email, may sign up.
    pub open_to_all: bool,
    /// The token of the invitation link the person came from, if any.
    pub invitation_token: Option<&'a str>,
    /// The client's address: sign-ups per address are limited.
    pub client_ip: &'a str,
    /// The name the person gave their first workspace (empty or None: "My workspace").
    pub workspace_name: Option<&'a str>,
}

/// What a refused sign-up says.
pub const SIGN_UP_CLOSED: &str =
    "Sign-up is by invitation: ask a workspace owner for an invitation link.";

/// True when anyone may create an account: the operator opened sign-up, or there is no
/// account yet (the first person sets the installation up).
pub async fn sign_up_open_to_all(pool: &PgPool, open_to_all: bool) -> Result<bool, CatalogError> {
    if open_to_all {
        return Ok(true);
    }
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
        .fetch_one(pool)
        .await?;
    Ok(!any)
}

/// Sign-up from the web: the rules are checked before any hashing work (a refused person
/// costs one query), the address's sign-ups are counted, hashing waits for a free turn, and
/// the rules are checked again in the transaction that creates the account (two first
/// accounts cannot both slip in).
#[tracing::instrument(skip_all, err(Debug))]
pub async fn sign_up_visitor(
    pool: &PgPool,
    email: &str,
    password: &str,
    rules: SignUpRules<'_>,
) -> Result<User, CatalogError> {
    let email = normalize_email(email)?;
    {
        let mut conn = pool.acquire().await?;
        ensure_may_sign_up(&mut conn, &email, &rules).await?;
    }
    check_password_rules(password)?;
    first_workspace_name(&rules)?;
    sign_in_limits::count_sign_up(pool, rules.client_ip).await?;
    let password_hash = hash_password_blocking(password.to_owned()).await?;
    create_account(pool, email, password_hash, Some(&rules)).await
}

/// The first workspace's name: the one given, checked like any workspace name, else
/// [`FIRST_WORKSPACE_NAME`].
fn first_workspace_name(rules: &SignUpRules<'_>) -> Result<String, CatalogError> {
    match rules
        .workspace_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(name) => super::workspaces::validate_name(name).map_err(|e| match e {
            CatalogError::Validation { message, .. } => {
                CatalogError::validation("workspace_name", message)
            }
            other => other,
        }),
        None => Ok(FIRST_WORKSPACE_NAME.to_owned()),
    }
}

async fn ensure_may_sign_up(
    conn: &mut PgConnection,
    email: &str,
    rules: &SignUpRules<'_>,
) -> Result<(), CatalogError> {
    if rules.open_to_all {
        return Ok(());
    }
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
        .fetch_one(&mut *conn)
        .await?;
    if !any {
        return Ok(());
    }
    if let Some(token) = rules.invitation_token
        && invitations::is_pending_for(conn, token, email).await?
    {
        return Ok(());
    }
    Err(CatalogError::Forbidden(SIGN_UP_CLOSED.to_owned()))
}

async fn create_account(
    pool: &PgPool,
    email: String,
    password_hash: String,
    rules: Option<&SignUpRules<'_>>,
) -> Result<User, CatalogError> {
    let user_id = Uuid::new_v4();
    let workspace_id = Uuid::new_v4();

    let mut tx = pool.begin().await?;
    if let Some(rules) = rules {
        // One sign-up at a time decides whether it is the first account.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('lockstep sign-up', 0))")
            .execute(&mut *tx)
            .await?;
        ensure_may_sign_up(&mut tx, &email, rules).await?;
    }
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
    let name = match rules {
        Some(rules) => first_workspace_name(rules)?,
        None => FIRST_WORKSPACE_NAME.to_owned(),
    };
    super::workspaces::insert_with_admin(&mut tx, workspace_id, &name, user_id).await?;
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
/// or per client address answer `RateLimited` before any password is checked. The attempt is
/// counted before its password is checked, so parallel guesses cannot outrun the limit.
#[tracing::instrument(skip_all, err(Debug))]
pub async fn sign_in(
    pool: &PgPool,
    email: &str,
    password: &str,
    client_ip: &str,
) -> Result<User, CatalogError> {
    // An address that cannot be an email still counts as a failure for the client address.
    let email = normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
    let attempt = sign_in_limits::begin(pool, &email, client_ip).await?;

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
    let (user, matches) = hashing(move || match user {
        Some((user, hash)) => {
            let ok = verify_password(&password, &hash);
            (Some(user), ok)
        }
        None => {
            verify_password(&password, decoy_hash());
            (None, false)
        }
    })
    .await?;

    match (user, matches) {
        (Some(user), true) => {
            sign_in_limits::succeeded(pool, attempt, &email).await?;
            Ok(user)
        }
        _ => {
            sign_in_limits::failed(pool, attempt).await?;
            Err(CatalogError::InvalidCredentials)
        }
    }
}

/// Hashing is CPU-heavy: off the async worker threads, a few at a time.
async fn hash_password_blocking(password: String) -> Result<String, CatalogError> {
    hashing(move || hash_password(&password)).await?
}
