//! Sign in and sign up. Plain forms that work before (and without) WASM.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{SignIn, SignUp};
use crate::components::feedback::{FieldError, FormError, last_error};
use crate::model::MIN_PASSWORD_LEN;

fn query(name: &'static str) -> Memo<String> {
    let q = use_query_map();
    Memo::new(move |_| q.read().get(name).unwrap_or_default())
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = last_error(action.value());
    let next = query("next");
    let email = query("email");
    let signup_href = move || {
        let n = next.get();
        if n.is_empty() {
            "/signup".to_owned()
        } else {
            format!("/signup?next={}", urlencode(&n))
        }
    };
    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <section class="card auth-card">
                <h1 class="brand-large">"Lockstep"</h1>
                <h2>"Sign in"</h2>
                <ActionForm action>
                    <input type="hidden" name="next" value=move || next.get() />
                    <FormError error fields=&["email", "password"] />
                    <label for="email">"Email"</label>
                    <input id="email" type="email" name="email" autocomplete="username" required value=move || email.get() />
                    <FieldError error field="email" />
                    <label for="password">"Password"</label>
                    <input id="password" type="password" name="password" autocomplete="current-password" required />
                    <FieldError error field="password" />
                    <button class="button button-primary wide" type="submit" disabled=move || action.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
                <p class="muted">"New to Lockstep? " <a href=signup_href>"Create an account"</a></p>
            </section>
        </main>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = last_error(action.value());
    let next = query("next");
    let email = query("email");
    let signin_href = move || {
        let n = next.get();
        if n.is_empty() {
            "/signin".to_owned()
        } else {
            format!("/signin?next={}", urlencode(&n))
        }
    };
    view! {
        <Title text="Create an account" />
        <main class="auth-page">
            <section class="card auth-card">
                <h1 class="brand-large">"Lockstep"</h1>
                <h2>"Create your account"</h2>
                <ActionForm action>
                    <input type="hidden" name="next" value=move || next.get() />
                    <FormError error fields=&["email", "password"] />
                    <label for="email">"Email"</label>
                    <input id="email" type="email" name="email" autocomplete="username" required value=move || email.get() />
                    <FieldError error field="email" />
                    <label for="password">"Password"</label>
                    <input id="password" type="password" name="password" autocomplete="new-password" required minlength=MIN_PASSWORD_LEN.to_string() />
                    <p class="hint">{format!("At least {MIN_PASSWORD_LEN} characters.")}</p>
                    <FieldError error field="password" />
                    <button class="button button-primary wide" type="submit" disabled=move || action.pending().get()>
                        "Create account"
                    </button>
                </ActionForm>
                <p class="muted">"Already have an account? " <a href=signin_href>"Sign in"</a></p>
            </section>
        </main>
    }
}

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
