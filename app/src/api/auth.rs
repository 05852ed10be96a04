//! Sign-up, sign-in, sign-out and "who am I".

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Shell;

/// Creates an account (and its first workspace), signs it in, and goes to `next`.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = engine::catalog::users::sign_up(&pool()?, &email, &password).await?;
        start_session(&session().await?, user.id).await?;
        leptos_axum::redirect(&safe_next(next));
        Ok(())
    })
    .await
}

/// Signs in. Unknown email and wrong password answer the same; repeated failures are
/// refused for a while (per email and per client address).
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let ip = client_ip().await;
        let user = engine::catalog::users::sign_in(&pool()?, &email, &password, &ip).await?;
        start_session(&session().await?, user.id).await?;
        leptos_axum::redirect(&safe_next(next));
        Ok(())
    })
    .await
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        end_session(&session().await?).await?;
        leptos_axum::redirect("/signin");
        Ok(())
    })
    .await
}

/// The signed-in person with their workspaces, or `None` when signed out.
#[server(endpoint = "shell")]
pub async fn get_shell() -> Result<Option<Shell>, AppError> {
    use super::ssr::*;
    use engine::catalog::workspaces;
    respond(async move {
        let Some(user) = current_user().await? else {
            return Ok(None);
        };
        let pool = pool()?;
        let all = workspaces::list_for_user(&pool, user.id).await?;
        let current = workspaces::current_for_user(&pool, user.id).await?;
        Ok(Some(Shell {
            user_id: user.id,
            email: user.email,
            workspaces: all.into_iter().map(Into::into).collect(),
            current: current.map(Into::into),
        }))
    })
    .await
}
