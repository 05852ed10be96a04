//! The connector catalogue and the connection editor (new and edit). Save works without
//! WASM; Test connection needs it (its answer is shown in place).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::api::connections::{SaveConnection, load_connection};
use crate::components::feedback::{FieldError, FormError, PageError, last_error, loading};
use crate::model::{CONNECTORS, ConnectionView, connector_label};

/// `+ New connection`: every connector, grouped; the ones we cannot sync with say why.
#[component]
pub fn ConnectorCataloguePage() -> impl IntoView {
    let groups = ["Databases", "Cloud apps", "Data warehouses"].map(|group| {
        let items = CONNECTORS
            .iter()
            .filter(|c| c.group == group)
            .map(|c| match c.unavailable {
                None => view! {
                    <a class="connector available" href=format!("/connections/new/{}", c.kind) data-testid="connector">
                        <strong>{c.label}</strong>
                    </a>
                }
                .into_any(),
                Some(reason) => view! {
                    <div class="connector unavailable" data-testid="connector" aria-disabled="true">
                        <strong>{c.label}</strong>
                        <span class="hint">{reason}</span>
                    </div>
                }
                .into_any(),
            })
            .collect_view();
        view! {
            <section class="card">
                <h2>{group}</h2>
                <div class="connector-grid">{items}</div>
            </section>
        }
    });
    view! {
        <Title text="New connection" />
        <div class="page-head"><h1>"New connection"</h1></div>
        <p class="muted">"Choose what to connect to."</p>
        {groups.into_iter().collect_view()}
    }
}

/// `/connections/new/:kind`
#[component]
pub fn NewConnectionPage() -> impl IntoView {
    let params = use_params_map();
    let kind = move || params.read().get("kind").unwrap_or_default();
    view! { <ConnectionEditor id=None kind=Signal::derive(kind) /> }
}

/// `/connections/:id/edit`
#[component]
pub fn EditConnectionPage() -> impl IntoView {
    let params = use_params_map();
    let id = params
        .read_untracked()
        .get("id")
        .and_then(|id| id.parse::<Uuid>().ok());
    match id {
        Some(id) => {
            view! { <ConnectionEditor id=Some(id) kind=Signal::derive(String::new) /> }.into_any()
        }
        None => view! { <PageError error=crate::error::AppError::NotFound /> }.into_any(),
    }
}

#[component]
fn ConnectionEditor(id: Option<Uuid>, kind: Signal<String>) -> impl IntoView {
    let data = Resource::new(move || id, load_connection);
    let save = ServerAction::<SaveConnection>::new();
    let error = last_error(save.value());
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let kind = page.connection.as_ref().map(|c| c.kind.clone()).unwrap_or_else(|| kind.get());
                        if !matches!(kind.as_str(), "postgres" | "mysql" | "salesforce" | "hubspot" | "dynamics") {
                            return view! {
                                <Title text="New connection" />
                                <section class="card page-error" data-testid="page-error">
                                    <h2>{format!("{} connections are not available", connector_label(&kind))}</h2>
                                    <p><a href="/connections/new">"Choose another connector"</a></p>
                                </section>
                            }.into_any();
                        }
                        view! {
                            <ConnectionForm
                                workspace_id=page.workspace.id
                                kind
                                existing=page.connection
                                save
                                error
                            />
                        }.into_any()
                    }
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConnectionForm(
    workspace_id: Uuid,
    kind: String,
    existing: Option<ConnectionView>,
    save: ServerAction<SaveConnection>,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let label = connector_label(&kind);
    let title = match &existing {
        Some(c) => format!("Edit connection {}", c.name),
        None => format!("New {label} connection"),
    };
    let c = existing.clone();
    let value = move |f: fn(&ConnectionView) -> String| c.as_ref().map(f).unwrap_or_default();
    let has_password = existing.as_ref().is_some_and(|c| c.has_password);
    let ssl = existing
        .as_ref()
        .map_or("prefer".to_owned(), |c| c.ssl_mode.clone());
    let default_port = if kind == "mysql" { "3306" } else { "5432" };
    let ssl_options = [
        ("disable", "Disable — no encryption"),
        ("prefer", "Prefer — encrypt when the server offers it"),
        ("require", "Require — encrypted, certificate not checked"),
        (
            "verify-full",
            "Verify — encrypted, certificate and host name checked",
        ),
    ]
    .map(|(value, text)| view! { <option value=value selected=ssl == value>{text}</option> })
    .into_iter()
    .collect_view();
    // Whether the last test shown failed: saving then asks for a confirmation (kept while a
    // refused save is shown, so the box to confirm stays).
    let last_test_failed = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(Some(test))) = save.value().get() {
            last_test_failed.set(!test.ok);
        }
    });
    let confirm = move || {
        last_test_failed.get().then(|| view! {
            <input type="hidden" name="last_test_failed" value="yes" />
            <label class="checkbox" data-testid="save-anyway"><input type="checkbox" name="save_anyway" value="yes" />" Save even though the test failed"</label>
            <FieldError error field="save_anyway" />
        })
    };
    let tested = move || {
        save.value()
            .get()
            .and_then(|r| r.ok())
            .flatten()
            .map(|test| {
                let class = if test.ok {
                    "banner banner-ok"
                } else {
                    "banner banner-error"
                };
                view! {
                    <p class=class role="status" data-testid="connection-test">
                        <strong>{test.title.clone()}</strong> ": " {test.message.clone()}
                    </p>
                }
            })
    };
    let field = move |name: &'static str,
                      text: &'static str,
                      value: String,
                      input_type: &'static str,
                      hint: &'static str| {
        view! {
            <div>
                <label for=format!("connection-{name}")>{text}</label>
                <input id=format!("connection-{name}") name=name type=input_type value=value autocomplete="off" />
                {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
                <FieldError error field=name />
            </div>
        }
    };
    let secret = move |name: &'static str, text: &'static str, is_set: bool, hint: &'static str| {
        view! {
            <div>
                <label for=format!("connection-{name}")>{text}</label>
                <input id=format!("connection-{name}") name=name type="password" autocomplete="new-password"
                    placeholder=if is_set { "Set — leave empty to keep it" } else { "" } />
                <p class="hint">{hint}</p>
                <FieldError error field=name />
            </div>
        }
    };
    let fields = match kind.as_str() {
        "salesforce" => view! {
            <input type="hidden" name="port" value="443" />
            <input type="hidden" name="ssl_mode" value="require" />
            {field("host", "Login URL", existing.as_ref().map_or("https://login.salesforce.com".to_owned(), |c| c.host.clone()), "url", "https://login.salesforce.com for production, https://test.salesforce.com for a sandbox, or your org's My Domain URL.")}
            {field("database", "Consumer key", value(|c| c.database.clone()), "text", "The connected app's consumer key (Setup → App Manager).")}
            {secret("password", "Consumer secret", has_password, "Stored encrypted; never shown again. Changing the login URL, consumer key or user asks for it again.")}
            {field("username", "User name", value(|c| c.username.clone()), "text", "Leave empty for the client credentials flow (the connected app's “Run As” user). Fill in for the username-password flow.")}
            {secret("extra_secret", "Password and security token", false, "Username-password flow only: the user's password followed by its security token. Stored encrypted.")}
        }.into_any(),
        "dynamics" => view! {
            <input type="hidden" name="port" value="443" />
            <input type="hidden" name="ssl_mode" value="require" />
            {field("host", "Environment URL", value(|c| c.host.clone()), "url", "https://yourorg.crm.dynamics.com (Power Platform admin center → Environments).")}
            {field("database", "Tenant ID", value(|c| c.database.clone()), "text", "The directory (tenant) id of the app registration in Microsoft Entra ID.")}
            {field("username", "Client ID", value(|c| c.username.clone()), "text", "The application (client) id; add it as an application user of the environment with a security role.")}
            {secret("password", "Client secret", has_password, "Stored encrypted; never shown again. Changing the environment URL, tenant or client id asks for it again.")}
        }.into_any(),
        "hubspot" => view! {
            <input type="hidden" name="port" value="443" />
            <input type="hidden" name="ssl_mode" value="require" />
            <input type="hidden" name="database" value="" />
            <input type="hidden" name="username" value="" />
            {field("host", "API base URL", existing.as_ref().map_or("https://api.hubapi.com".to_owned(), |c| c.host.clone()), "url", "https://api.hubapi.com, or an emulator's address.")}
            {secret("password", "Private app access token", has_password, "Settings → Integrations → Private apps, with the CRM objects' read and write scopes. Stored encrypted; never shown again. Changing the base URL asks for it again.")}
        }.into_any(),
        _ => view! {
                {field("host", "Host", value(|c| c.host.clone()), "text", "Host name or IP address of the database server.")}
                {field("port", "Port", existing.as_ref().map_or(default_port.to_owned(), |c| c.port.to_string()), "text", "")}
                {field("database", "Database", value(|c| c.database.clone()), "text", "")}
                {field("username", "User", value(|c| c.username.clone()), "text", "")}
                <div>
                    <label for="connection-password">"Password"</label>
                    <input id="connection-password" name="password" type="password" autocomplete="new-password"
                        placeholder=if has_password { "A password is set — leave empty to keep it" } else { "" } />
                    <p class="hint">"Stored encrypted; never shown again. Changing the host, port, database or user asks for it again."</p>
                    {has_password.then(|| view! {
                        <label class="checkbox"><input type="checkbox" name="clear_password" value="yes" />" Remove the saved password (connect without one)"</label>
                    })}
                    <FieldError error field="password" />
                </div>
                <div>
                    <label for="connection-ssl">"SSL mode"</label>
                    <select id="connection-ssl" name="ssl_mode">{ssl_options}</select>
                    <FieldError error field="ssl_mode" />
                </div>
        }.into_any(),
    };
    view! {
        <Title text=title.clone() />
        <div class="page-head"><h1>{title}</h1></div>
        <section class="card">
            <ActionForm action=save attr:class="grid-form" attr:data-testid="connection-form">
                <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                <input type="hidden" name="kind" value=kind.clone() />
                {existing.as_ref().map(|c| view! { <input type="hidden" name="id" value=c.id.to_string() /> })}
                <FormError error fields=&["name", "host", "port", "database", "username", "password", "extra_secret", "ssl_mode", "save_anyway"] />
                {field("name", "Name", value(|c| c.name.clone()), "text", "How this connection is listed, e.g. “CRM production”.")}
                {fields}
                {tested}
                {confirm}
                <div class="form-actions">
                    <button type="submit" name="intent" value="test" class="button">"Test connection"</button>
                    <button type="submit" name="intent" value="save" class="button button-primary">"Save"</button>
                    <a class="button" href="/connections">"Cancel"</a>
                </div>
            </ActionForm>
        </section>
    }
}
