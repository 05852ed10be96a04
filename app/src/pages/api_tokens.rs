//! Workspace settings → API tokens: make a token for scripts and CI (its secret shown once),
//! see who has which, revoke. Every member manages their own; Admins see and revoke all.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::api_tokens::{CreateApiToken, RevokeApiToken, load_api_tokens};
use crate::components::feedback::{
    FieldError, FormError, PageError, last_error, loading, successes,
};
use crate::model::{Role, TokenCreated, TokenState, TokenView};

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let (created_count, revoked_count) = (successes(create.value()), successes(revoke.value()));
    let data = Resource::new(
        move || (created_count.get(), revoked_count.get()),
        |_| load_api_tokens(),
    );
    let create_error = last_error(create.value());
    let revoke_error = last_error(revoke.value());
    view! {
        <Title text="API tokens" />
        <div class="page-head">
            <h1>"API tokens"</h1>
            <a class="button" href="/settings">"Workspace settings"</a>
        </div>
        <p class="muted">
            "Scripts and CI use a token to call the REST API (" <code>"Authorization: Bearer <token>"</code>
            "). A token acts with its role, and never with more than its member has now. The API is described in "
            <a href="/api/v1/openapi.json" data-testid="openapi-link">"openapi.json"</a> "."
        </p>
        <FormError error=revoke_error />
        {move || create.value().get().and_then(|r| r.ok()).map(|created| view! { <CreatedBanner created /> })}
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let workspace_id = page.workspace.id.to_string();
                        let is_admin = page.workspace.role.can_admin();
                        view! {
                            {page.created.clone().map(|created| view! { <CreatedBanner created /> })}
                            <CreateForm workspace_id=workspace_id.clone() my_role=page.workspace.role create error=create_error />
                            <TokenTable tokens=page.tokens.clone() workspace_id is_admin revoke />
                        }.into_any()
                    }
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CreatedBanner(created: TokenCreated) -> impl IntoView {
    view! {
        <section class="banner banner-ok" data-testid="token-created">
            <p>
                "Token " <strong>{created.name.clone()}</strong> " (" {created.role.label()} ") made"
                {created.expires.clone().map(|e| format!(", valid until {e}"))}
                ". Copy it now: it is not shown again."
            </p>
            <input class="link-box" readonly value=created.secret.clone() data-testid="token-secret" aria-label="The new token" />
        </section>
    }
}

#[component]
fn CreateForm(
    workspace_id: String,
    my_role: Role,
    create: ServerAction<CreateApiToken>,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let roles = Role::ALL
        .into_iter()
        .filter(|r| *r <= my_role)
        .map(|role| view! { <option value=role.as_str() selected=role == Role::Viewer>{role.label()}</option> })
        .collect_view();
    view! {
        <section class="card">
            <h2>"New token"</h2>
            <ActionForm action=create attr:class="grid-form">
                <input type="hidden" name="workspace_id" value=workspace_id />
                <FormError error fields=&["name", "role", "expires_on"] />
                <div>
                    <label for="token-name">"Name"</label>
                    <input id="token-name" name="name" required maxlength="80" placeholder="e.g. nightly CI" />
                    <FieldError error field="name" />
                </div>
                <div>
                    <label for="token-role">"Role"</label>
                    <select id="token-role" name="role">{roles}</select>
                    <p class="hint">"Viewer: read packages and runs. Developer: also change and run packages. At most your own role."</p>
                    <FieldError error field="role" />
                </div>
                <div>
                    <label for="token-expires">"Expires (optional)"</label>
                    <input id="token-expires" type="date" name="expires_on" />
                    <p class="hint">"The token stops working at the end of this day (UTC). Empty: until revoked."</p>
                    <FieldError error field="expires_on" />
                </div>
                <div><button type="submit" class="button button-primary">"Create token"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn TokenTable(
    tokens: Vec<TokenView>,
    workspace_id: String,
    is_admin: bool,
    revoke: ServerAction<RevokeApiToken>,
) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted" data-testid="no-tokens">"No tokens yet."</p> }.into_any();
    }
    let rows = tokens
        .into_iter()
        .map(|t| {
            let ws = workspace_id.clone();
            let id = t.id.to_string();
            let question = format!("Revoke “{}”? Scripts using it stop working at once.", t.name);
            let owner = (is_admin && !t.mine).then(|| view! { <span class="tag">{t.owner_email.clone()}</span> });
            let control = (t.state == TokenState::Active).then(|| {
                view! {
                    <details class="confirm">
                        <summary class="button small danger">"Revoke"</summary>
                        <ActionForm action=revoke attr:class="inline-form">
                            <input type="hidden" name="workspace_id" value=ws />
                            <input type="hidden" name="id" value=id />
                            <span>{question}</span>
                            <button type="submit" class="button small danger">"Yes, revoke"</button>
                        </ActionForm>
                    </details>
                }
            });
            view! {
                <tr data-testid="token-row">
                    <td data-label="Name">{t.name.clone()} {owner}</td>
                    <td data-label="Token"><code>{format!("{}…", t.prefix)}</code></td>
                    <td data-label="Role">{t.role.label()}</td>
                    <td data-label="State" data-testid="token-state">{t.state.label()}</td>
                    <td data-label="Created" class="muted">{t.created.clone()}</td>
                    <td data-label="Expires" class="muted">{t.expires.clone().unwrap_or_else(|| "never".into())}</td>
                    <td data-label="Last used" class="muted">{t.last_used.clone().unwrap_or_else(|| "never".into())}</td>
                    <td class="actions">{control}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="card table-card">
            <table class="table stack">
                <thead><tr><th>"Name"</th><th>"Token"</th><th>"Role"</th><th>"State"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
