//! Members and invitations.

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{InvitationCreated, InvitationPreview, MembersData, Role};

/// Members of the current workspace; Admins also get pending invitations.
#[server(endpoint = "load_members")]
pub async fn load_members() -> Result<MembersData, AppError> {
    use super::ssr::*;
    use crate::model::{InvitationView, MemberView};
    use catalog::{invitations, members};
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        let list = members::list(&pool, user.id, workspace.id).await?;
        let pending = if workspace.role == catalog::Role::Admin {
            invitations::list_pending(&pool, user.id, workspace.id).await?
        } else {
            Vec::new()
        };
        Ok(MembersData {
            me: user.id,
            members: list
                .into_iter()
                .map(|m| MemberView {
                    user_id: m.user_id,
                    email: m.email,
                    role: m.role,
                    joined: format_time(m.joined_at),
                })
                .collect(),
            invitations: pending
                .into_iter()
                .map(|i| InvitationView {
                    id: i.id,
                    email: i.email,
                    role: i.role,
                    invited_by: i.invited_by,
                    expires: format_time(i.expires_at),
                })
                .collect(),
            workspace: workspace.into(),
        })
    })
    .await
}

/// Invites an email with a role (Admin only) and returns the link to hand over.
#[server(endpoint = "invite_member")]
pub async fn invite_member(
    workspace_id: Uuid,
    email: String,
    role: Role,
) -> Result<InvitationCreated, AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        let (invitation, token) =
            catalog::invitations::create(&pool()?, user.id, workspace_id, &email, role).await?;
        let created = InvitationCreated {
            link: format!(
                "{}/invite/{token}",
                state()?.public_url.trim_end_matches('/')
            ),
            email: invitation.email,
            role: invitation.role,
            expires: format_time(invitation.expires_at),
        };
        // Without WASM there is no page state to show the link in: carry it back in the URL
        // (the Admin's own; Referrer-Policy keeps it from leaving the site).
        if is_plain_form_post() {
            let query = serde_urlencoded::to_string(&created).map_err(|_| AppError::Internal)?;
            leptos_axum::redirect(&format!("/members?{query}"));
        }
        Ok(created)
    })
    .await
}

#[server(endpoint = "revoke_invitation")]
pub async fn revoke_invitation(workspace_id: Uuid, invitation_id: Uuid) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::invitations::revoke(&pool()?, user.id, workspace_id, invitation_id).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "change_member_role")]
pub async fn change_member_role(
    workspace_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::members::change_role(&pool()?, user.id, workspace_id, user_id, role).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "remove_member")]
pub async fn remove_member(workspace_id: Uuid, user_id: Uuid) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::members::remove(&pool()?, user.id, workspace_id, user_id).await?;
        Ok(())
    })
    .await
}

/// What an invitation link offers; anyone holding the link may look.
#[server(endpoint = "preview_invitation")]
pub async fn preview_invitation(token: String) -> Result<InvitationPreview, AppError> {
    use super::ssr::*;
    use crate::model::InvitationState;
    use catalog::invitations::{self, InvitationState as S};
    respond(async move {
        let preview = invitations::preview(&pool()?, &token).await?;
        let signed_in_as = current_user().await?.map(|u| u.email);
        Ok(InvitationPreview {
            workspace_name: preview.workspace_name,
            email: preview.email,
            role: preview.role,
            invited_by: preview.invited_by,
            expires: format_time(preview.expires_at),
            state: match preview.state {
                S::Pending => InvitationState::Pending,
                S::Expired => InvitationState::Expired,
                S::Revoked => InvitationState::Revoked,
                S::Accepted => InvitationState::Accepted,
            },
            signed_in_as,
        })
    })
    .await
}

/// Joins the workspace of the invitation (signed in with the invited email).
#[server(endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::invitations::accept(&pool()?, &user, &token).await?;
        leptos_axum::redirect("/packages");
        Ok(())
    })
    .await
}
