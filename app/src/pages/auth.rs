//! Sign in and sign up. Plain forms that work before (and without) WASM.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{SignIn, SignUp, sign_up_open};
use crate::components::feedback::{FieldError, FormError, last_error, loading};
use crate::error::AppError;
use crate::model::MIN_PASSWORD_LEN;

fn query(name: &'static str) -> Memo<String> {
    let q = use_query_map();
    Memo::new(move |_| q.read().get(name).unwrap_or_default())
}

/// `path`, carrying `next` along when there is one.
fn keeping_next(path: &'static str, next: Memo<String>) -> impl Fn() -> String {
    move || {
        let n = next.get();
        if n.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?next={}", urlencode(&n))
        }
    }
}

/// The card around both forms.
#[component]
fn AuthCard(title: &'static str, heading: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <main class="auth-page">
            <section class="card auth-card">
                <h1 class="brand-large">"Lockstep"</h1>
                <h2>{heading}</h2>
                {children()}
            </section>
        </main>
    }
}

/// The fields both forms share: where to go next, email and password with their errors.
#[component]
fn CredentialFields(error: Signal<Option<AppError>>, new_password: bool) -> impl IntoView {
    let next = query("next");
    let email = query("email");
    view! {
        <input type="hidden" name="next" value=move || next.get() />
        <FormError error fields=&["email", "password"] />
        <label for="email">"Email"</label>
        <input id="email" type="email" name="email" autocomplete="username" required value=move || email.get() />
        <FieldError error field="email" />
        <label for="password">"Password"</label>
        <input
            id="password"
            type="password"
            name="password"
            required
            autocomplete=if new_password { "new-password" } else { "current-password" }
            minlength=new_password.then(|| MIN_PASSWORD_LEN.to_string())
        />
        {new_password.then(|| view! { <p class="hint">{format!("At least {MIN_PASSWORD_LEN} characters.")}</p> })}
        <FieldError error field="password" />
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = last_error(action.value());
    view! {
        <AuthCard title="Sign in" heading="Sign in">
            <ActionForm action>
                <CredentialFields error new_password=false />
                <button class="button button-primary wide" type="submit" disabled=move || action.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
            <p class="muted">"New to Lockstep? " <a href=keeping_next("/signup", query("next"))>"Create an account"</a></p>
        </AuthCard>
    }
}

/// The sign-up form; once sign-up is by invitation, it shows only to people arriving from an
/// invitation link, and everyone else reads how to get one.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = last_error(action.value());
    let next = query("next");
    let open = Resource::new(|| (), |_| sign_up_open());
    view! {
        <AuthCard title="Create an account" heading="Create your account">
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    // If the question fails, show the form: the server decides on submit.
                    let open = open.await.unwrap_or(true);
                    if open || next.get_untracked().starts_with("/invite/") {
                        view! {
                            <ActionForm action>
                                <CredentialFields error new_password=true />
                                {(!next.get_untracked().starts_with("/invite/")).then(|| view! {
                                    <label for="workspace-name">"Workspace name"</label>
                                    <input id="workspace-name" name="workspace_name" maxlength="80" placeholder="My workspace" />
                                    <p class="hint">"Optional: the workspace you start in, e.g. Sales operations. Admins can rename it later."</p>
                                    <FieldError error field="workspace_name" />
                                })}
                                <button class="button button-primary wide" type="submit" disabled=move || action.pending().get()>
                                    "Create account"
                                </button>
                            </ActionForm>
                        }
                        .into_any()
                    } else {
                        view! {
                            <p class="banner" role="status" data-testid="sign-up-closed">{SIGN_UP_CLOSED}</p>
                        }
                        .into_any()
                    }
                })}
            </Suspense>
            <p class="muted">"Already have an account? " <a href=keeping_next("/signin", query("next"))>"Sign in"</a></p>
        </AuthCard>
    }
}

/// What the sign-up page says when sign-up is by invitation (the server refuses with the
/// same words).
pub const SIGN_UP_CLOSED: &str =
    "Sign-up is by invitation: ask a workspace owner for an invitation link.";

/// Percent-encodes a value for a query string.
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
