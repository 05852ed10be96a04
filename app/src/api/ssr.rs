//! The server-only half shared by every server function: state, session, the signed-in
//! person, and turning errors into HTTP answers.

use catalog::users::User;
use catalog::workspaces::UserWorkspaces;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

use super::asker::Asker;
use crate::error::AppError;
use crate::state::AppState;

/// Session key holding the signed-in user's id.
pub const USER_ID_KEY: &str = "user_id";

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!(
            owner = leptos::reactive::owner::Owner::current().is_some(),
            "AppState missing from the server function context"
        );
        AppError::Internal
    })
}

pub fn pool() -> Result<PgPool, AppError> {
    Ok(state()?.pool)
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        AppError::Internal
    })
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    AppError::Internal
}

/// Starts a fresh session for `user_id`, under a new id (no session fixation).
pub async fn start_session(session: &Session, user_id: Uuid) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(USER_ID_KEY, user_id)
        .await
        .map_err(session_error)
}

pub async fn end_session(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
}

/// The signed-in person with their workspaces, if anyone is signed in. A session whose
/// account no longer exists is ended. Looked up once per page ([`Asker`]).
pub async fn signed_in() -> Result<Option<UserWorkspaces>, AppError> {
    // Contexts are read before the first await: a server-rendered resource may resume on
    // another thread, where they are not set.
    let pool = pool()?;
    let asker = use_context::<Asker>().unwrap_or_default();
    let session = session().await?;
    asker
        .signed_in(|| async move {
            let Some(user_id) = session
                .get::<Uuid>(USER_ID_KEY)
                .await
                .map_err(session_error)?
            else {
                return Ok(None);
            };
            let found = catalog::workspaces::of_user(&pool, user_id).await?;
            if found.is_none() {
                end_session(&session).await?;
            }
            Ok(found)
        })
        .await
}

/// The signed-in person, if any ([`signed_in`]).
pub async fn current_user() -> Result<Option<User>, AppError> {
    Ok(signed_in().await?.map(|found| found.user))
}

/// The signed-in person, or `Unauthorized`.
pub async fn require_user() -> Result<User, AppError> {
    current_user().await?.ok_or(AppError::Unauthorized)
}

/// The workspace the person is working in, if they have one: from this page's lookup of who
/// is asking when it was theirs ([`Asker`]), else looked up.
pub async fn find_current_workspace(
    pool: &PgPool,
    user_id: Uuid,
) -> Result<Option<catalog::workspaces::WorkspaceSummary>, AppError> {
    let looked_up = use_context::<Asker>().and_then(|asker| asker.looked_up(user_id));
    match looked_up {
        Some(found) => Ok(found.current().cloned()),
        None => Ok(catalog::workspaces::current_for_user(pool, user_id).await?),
    }
}

/// The workspace the person is working in.
pub async fn current_workspace(
    pool: &PgPool,
    user_id: Uuid,
) -> Result<catalog::workspaces::WorkspaceSummary, AppError> {
    find_current_workspace(pool, user_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Developers and Admins only.
pub async fn require_editor(
    pool: &PgPool,
    user_id: Uuid,
    workspace_id: Uuid,
) -> Result<(), AppError> {
    let mut conn = pool.acquire().await.map_err(catalog::CatalogError::from)?;
    catalog::workspaces::require_role(&mut conn, workspace_id, user_id, catalog::Role::Developer)
        .await?;
    Ok(())
}

/// True when a browser without WASM (yet) submitted a form: it expects a page back.
pub fn is_plain_form_post() -> bool {
    use_context::<http::request::Parts>().is_some_and(|parts| {
        parts.method == http::Method::POST
            && parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Sets the response's HTTP status from the error and passes it on. A plain HTML form post
/// keeps server_fn's redirect back to the form, which carries the error.
pub fn fail(err: impl Into<AppError>) -> AppError {
    let err = err.into();
    if is_plain_form_post() {
        return err;
    }
    if let (Some(options), Ok(status)) = (
        use_context::<ResponseOptions>(),
        http::StatusCode::from_u16(err.status()),
    ) {
        options.set_status(status);
    }
    err
}

/// Runs a server function's body and gives its error the right HTTP status.
///
/// Every poll runs under the owner the server function started with, so contexts (state,
/// session, request parts, response options) are reachable after an await too: a server
/// function called by a resource while the page renders on the server may resume on another
/// thread, where no owner would be set.
pub async fn respond<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    leptos::reactive::computed::ScopedFuture::new_untracked(async move { body.await.map_err(fail) })
        .await
}

/// A moment as pages show it: to the second, in UTC.
pub fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A date filter typed as `YYYY-MM-DD` (empty: none): the start of that day, UTC, or with
/// `end` the start of the next (so "until" includes the day). A bad date names `field`.
pub fn day_filter(
    field: &'static str,
    value: Option<String>,
    end: bool,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    let Some(text) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map(|d| {
            let d = if end { d.succ_opt().unwrap_or(d) } else { d };
            Some(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        })
        .map_err(|_| AppError::Validation {
            field: field.into(),
            message: "enter a date as YYYY-MM-DD".into(),
        })
}
