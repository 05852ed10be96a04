//! API tokens: make one (shown once), list, revoke.

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{Role, TokenCreated, TokensData};

/// Session key holding a token made by a form posted without WASM, until its page shows it.
#[cfg(feature = "ssr")]
const CREATED_KEY: &str = "api_token_created";

/// The caller's tokens in the current workspace (an Admin's list has everyone's).
#[server(endpoint = "load_api_tokens")]
pub async fn load_api_tokens() -> Result<TokensData, AppError> {
    use super::ssr::*;
    use crate::model::{TokenState, TokenView};
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let session = session().await?;
        let workspace = current_workspace(&pool, user.id).await?;
        let tokens = catalog::api_tokens::list(&pool, user.id, workspace.id).await?;
        let now = chrono::Utc::now();
        let created = session
            .remove::<TokenCreated>(CREATED_KEY)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "session store failed");
                AppError::Internal
            })?;
        Ok(TokensData {
            workspace: workspace.into(),
            tokens: tokens
                .into_iter()
                .map(|t| TokenView {
                    state: if t.revoked_at.is_some() {
                        TokenState::Revoked
                    } else if t.expires_at.is_some_and(|at| at <= now) {
                        TokenState::Expired
                    } else {
                        TokenState::Active
                    },
                    id: t.id,
                    name: t.name,
                    role: t.role,
                    prefix: t.prefix,
                    mine: t.owner == user.id,
                    owner_email: t.owner_email,
                    created: format_time(t.created_at),
                    expires: t.expires_at.map(format_time),
                    last_used: t.last_used_at.map(format_time),
                })
                .collect(),
            created,
        })
    })
    .await
}

/// Makes a token for the caller: `role` at most theirs; `expires_on` a date (`YYYY-MM-DD`,
/// the token works until that day's end, UTC) or empty for none. The secret is in the answer
/// and never again.
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(
    workspace_id: Uuid,
    name: String,
    role: Role,
    #[server(default)] expires_on: Option<String>,
) -> Result<TokenCreated, AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let session = session().await?;
        let expires_at = match expires_on
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            Some(text) => {
                let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                    AppError::Validation {
                        field: "expires_on".into(),
                        message: "enter the expiry as a date (YYYY-MM-DD), or leave it empty"
                            .into(),
                    }
                })?;
                let end = day
                    .succ_opt()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .ok_or_else(|| AppError::Validation {
                        field: "expires_on".into(),
                        message: "choose an earlier expiry date".into(),
                    })?;
                Some(end.and_utc())
            }
            None => None,
        };
        let made = catalog::api_tokens::create(
            &pool,
            user.id,
            workspace_id,
            &name,
            role,
            expires_at,
            chrono::Utc::now(),
        )
        .await?;
        let created = TokenCreated {
            name: made.token.name,
            role: made.token.role,
            secret: made.secret,
            expires: made.token.expires_at.map(format_time),
        };
        // Without WASM there is no page state to show it in: the session carries it to the
        // page once (never the URL, which browsers and proxies keep).
        if is_plain_form_post() {
            session
                .insert(CREATED_KEY, created.clone())
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "session store failed");
                    AppError::Internal
                })?;
            leptos_axum::redirect("/settings/tokens");
        }
        Ok(created)
    })
    .await
}

/// Revokes a token at once: the caller's own, or any of the workspace for an Admin.
#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(workspace_id: Uuid, id: Uuid) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::api_tokens::revoke(&pool()?, user.id, workspace_id, id).await?;
        Ok(())
    })
    .await
}
