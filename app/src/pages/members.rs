//! Members of the workspace: roles, invitations (with the link to hand over), removal.
//! Everyone sees the list; only Admins get the controls, and the server checks anyway.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::members::{
    ChangeMemberRole, InviteMember, RemoveMember, RevokeInvitation, load_members,
};
use crate::components::feedback::{
    FieldError, FormError, PageError, last_error, loading, successes,
};
use crate::model::{InvitationCreated, InvitationView, MemberView, Role};

#[component]
pub fn MembersPage() -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let change = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    // Read again after a change went through, never after a refused form (which keeps
    // what was typed).
    let (invited, revoked, changed, removed) = (
        successes(invite.value()),
        successes(revoke.value()),
        successes(change.value()),
        successes(remove.value()),
    );
    let data = Resource::new(
        move || (invited.get(), revoked.get(), changed.get(), removed.get()),
        |_| load_members(),
    );
    let invite_error = last_error(invite.value());
    // Set when the invite form was posted without WASM (see `invite_member`).
    let query = use_query_map();
    let created_from_url = Memo::new(move |_| {
        let q = query.read();
        Some(InvitationCreated {
            email: q.get("email")?,
            role: q.get("role")?.parse().ok()?,
            link: q.get("link")?,
            expires: q.get("expires")?,
        })
    });
    let change_error = last_error(change.value());
    let remove_error = last_error(remove.value());
    let revoke_error = last_error(revoke.value());

    view! {
        <Title text="Members" />
        <div class="page-head"><h1>"Members"</h1></div>
        <FormError error=change_error />
        <FormError error=remove_error />
        <FormError error=revoke_error />
        {move || invite.value().get().and_then(|r| r.ok()).or_else(|| created_from_url.get()).map(|created| view! {
            <section class="banner banner-ok" data-testid="invitation-created">
                <p>
                    "Invitation for " <strong>{created.email.clone()}</strong> " as " {created.role.label()}
                    " created. There is no mail server: copy this link and send it to them yourself. It works once, until "
                    {created.expires.clone()} "."
                </p>
                <input class="link-box" readonly value=created.link.clone() data-testid="invitation-link" aria-label="Invitation link" />
            </section>
        })}
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let is_admin = page.workspace.role.can_admin();
                        let workspace_id = page.workspace.id.to_string();
                        view! {
                            <p class="muted">"Workspace " <strong>{page.workspace.name.clone()}</strong> " · your role: " {page.workspace.role.label()}</p>
                            <MemberTable members=page.members.clone() me=page.me is_admin workspace_id=workspace_id.clone() change remove />
                            {if is_admin {
                                view! {
                                    <InviteForm workspace_id=workspace_id.clone() invite error=invite_error />
                                    <PendingInvitations invitations=page.invitations.clone() workspace_id revoke />
                                }.into_any()
                            } else {
                                view! { <p class="muted">"Only Admins can invite, change roles or remove members."</p> }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|role| view! { <option value=role.as_str() selected=role == selected>{role.label()}</option> })
        .collect_view()
}

#[component]
fn MemberTable(
    members: Vec<MemberView>,
    me: uuid::Uuid,
    is_admin: bool,
    workspace_id: String,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let rows = members
        .into_iter()
        .map(|m| {
            let you = m.user_id == me;
            let user_id = m.user_id.to_string();
            let (ws_change, ws_remove) = (workspace_id.clone(), workspace_id.clone());
            let (user_change, user_remove) = (user_id.clone(), user_id);
            let role_label = format!("Role of {}", m.email);
            let remove_question = format!("Remove {} from this workspace?", m.email);
            let controls = is_admin.then(|| {
                view! {
                    <td class="actions">
                        <ActionForm action=change attr:class="inline-form">
                            <input type="hidden" name="workspace_id" value=ws_change />
                            <input type="hidden" name="user_id" value=user_change />
                            <select name="role" aria-label=role_label>{role_options(m.role)}</select>
                            <button type="submit" class="button small">"Change role"</button>
                        </ActionForm>
                        <details class="confirm">
                            <summary class="button small danger">"Remove"</summary>
                            <ActionForm action=remove attr:class="inline-form">
                                <input type="hidden" name="workspace_id" value=ws_remove />
                                <input type="hidden" name="user_id" value=user_remove />
                                <span>{remove_question}</span>
                                <button type="submit" class="button small danger">"Yes, remove"</button>
                            </ActionForm>
                        </details>
                    </td>
                }
            });
            view! {
                <tr data-testid="member-row">
                    <td>{m.email.clone()} {you.then(|| view! { <span class="tag">"you"</span> })}</td>
                    <td data-testid="member-role">{m.role.label()}</td>
                    <td class="muted">{m.joined.clone()}</td>
                    {controls}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="card table-card">
            <table class="table stack">
                <thead><tr><th>"Email"</th><th>"Role"</th><th>"Joined"</th>{is_admin.then(|| view! { <th>"Actions"</th> })}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn InviteForm(
    workspace_id: String,
    invite: ServerAction<InviteMember>,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    // The next invitation starts from the role of the last one.
    let role = invite
        .value()
        .get_untracked()
        .and_then(|r| r.ok())
        .map_or(Role::Developer, |created| created.role);
    view! {
        <section class="card">
            <h2>"Invite a member"</h2>
            <ActionForm action=invite attr:class="grid-form">
                <input type="hidden" name="workspace_id" value=workspace_id />
                <FormError error fields=&["email"] />
                <div>
                    <label for="invite-email">"Email"</label>
                    <input id="invite-email" type="email" name="email" required placeholder="name@company.com" />
                    <FieldError error field="email" />
                </div>
                <div>
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" name="role">{role_options(role)}</select>
                    <p class="hint">"Admin: members and everything. Developer: connections and packages, run them. Viewer: read and see runs."</p>
                </div>
                <div><button type="submit" class="button button-primary">"Create invitation link"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn PendingInvitations(
    invitations: Vec<InvitationView>,
    workspace_id: String,
    revoke: ServerAction<RevokeInvitation>,
) -> impl IntoView {
    if invitations.is_empty() {
        return view! { <p class="muted">"No pending invitations."</p> }.into_any();
    }
    let rows = invitations
        .into_iter()
        .map(|i| {
            let ws = workspace_id.clone();
            let id = i.id.to_string();
            view! {
                <tr data-testid="invitation-row">
                    <td>{i.email.clone()}</td>
                    <td>{i.role.label()}</td>
                    <td class="muted">{i.invited_by.clone().unwrap_or_default()}</td>
                    <td class="muted">{i.expires.clone()}</td>
                    <td>
                        <ActionForm action=revoke attr:class="inline-form">
                            <input type="hidden" name="workspace_id" value=ws />
                            <input type="hidden" name="invitation_id" value=id />
                            <button type="submit" class="button small danger">"Revoke"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card table-card">
            <h2>"Pending invitations"</h2>
            <table class="table stack">
                <thead><tr><th>"Email"</th><th>"Role"</th><th>"Invited by"</th><th>"Expires"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}
