//! The invitation link's page: who invites you where, and a button to join, once signed in
//! with the invited email.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::members::{AcceptInvitation, preview_invitation};
use crate::components::feedback::{FormError, PageError, last_error, loading};
use crate::components::top_bar::SignOutButton;
use crate::model::InvitationState;
use crate::pages::auth::urlencode;

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = Memo::new(move |_| params.read().get("token").unwrap_or_default());
    let preview = Resource::new(move || token.get(), preview_invitation);
    let accept = ServerAction::<AcceptInvitation>::new();
    let error = last_error(accept.value());

    view! {
        <Title text="Invitation" />
        <main class="auth-page">
            <section class="card auth-card" data-testid="invitation">
                <h1 class="brand-large">"Lockstep"</h1>
                <Suspense fallback=loading>
                    {move || Suspend::new(async move {
                        let token = token.get_untracked();
                        match preview.await {
                            Ok(p) => {
                                let here = format!("/invite/{token}");
                                let body = match (p.state, p.signed_in_as.clone()) {
                                    (InvitationState::Expired, _) => view! { <p class="banner banner-error">{format!("This invitation expired on {}. Ask an Admin of the workspace for a new one.", p.expires)}</p> }.into_any(),
                                    (InvitationState::Revoked, _) => view! { <p class="banner banner-error">"This invitation no longer exists: an Admin revoked it."</p> }.into_any(),
                                    (InvitationState::Accepted, _) => view! { <p class="banner banner-error">"This invitation was already used." <a href="/packages">" Go to your workspaces"</a></p> }.into_any(),
                                    (InvitationState::Pending, None) => view! {
                                        <p>"Sign in or create an account as " <strong>{p.email.clone()}</strong> " to join."</p>
                                        <a class="button button-primary wide" href=format!("/signup?next={}&email={}", urlencode(&here), urlencode(&p.email))>"Create an account"</a>
                                        <a class="button wide" href=format!("/signin?next={}&email={}", urlencode(&here), urlencode(&p.email))>"Sign in"</a>
                                    }.into_any(),
                                    (InvitationState::Pending, Some(me)) if me != p.email => view! {
                                        <p class="banner banner-error">{format!("Invitation email mismatch: this invitation is for {}, but you are signed in as {me}.", p.email)}</p>
                                        <SignOutButton />
                                    }.into_any(),
                                    (InvitationState::Pending, Some(_)) => view! {
                                        <ActionForm action=accept>
                                            <input type="hidden" name="token" value=token.clone() />
                                            <FormError error />
                                            <button class="button button-primary wide" type="submit" data-testid="accept-invitation">"Join workspace"</button>
                                        </ActionForm>
                                    }.into_any(),
                                };
                                view! {
                                    <h2>{format!("Join “{}”", p.workspace_name)}</h2>
                                    <p class="muted">
                                        {p.invited_by.clone().map(|by| format!("{by} invited ")).unwrap_or_else(|| "You are invited: ".to_owned())}
                                        <strong>{p.email.clone()}</strong> " as " <strong>{p.role.label()}</strong> "."
                                    </p>
                                    {body}
                                }.into_any()
                            }
                            Err(crate::error::AppError::NotFound) => view! { <p class="banner banner-error">"This invitation no longer exists. Check the link, or ask an Admin for a new one."</p> }.into_any(),
                            Err(error) => view! { <PageError error /> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}
