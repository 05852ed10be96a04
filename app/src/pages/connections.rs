//! The connection list: name, connector, where it points, who created it, which packages use
//! it. Search is a plain GET form, so it works without WASM.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::connections::{DeleteConnection, load_connections};
use crate::components::empty_state::EmptyState;
use crate::components::feedback::{FormError, PageError, last_error, loading};
use crate::components::layout::EditorsOnly;
use crate::model::{ConnectionView, connector_label};

fn matches(c: &ConnectionView, query: &str) -> bool {
    let query = query.trim().to_lowercase();
    query.is_empty()
        || [&c.name, &c.host, &c.database, &c.kind]
            .iter()
            .any(|field| field.to_lowercase().contains(&query))
}

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let delete = ServerAction::<DeleteConnection>::new();
    let data = Resource::new(move || delete.version().get(), |_| load_connections());
    let delete_error = last_error(delete.value());
    let query = use_query_map();
    let search = Memo::new(move |_| query.read().get("q").unwrap_or_default());

    view! {
        <Title text="Connections" />
        <div class="page-head">
            <h1>"Connections"</h1>
            <EditorsOnly><a class="button button-primary" href="/connections/new">"+ New connection"</a></EditorsOnly>
        </div>
        <FormError error=delete_error />
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) if page.connections.is_empty() => if page.workspace.role.can_edit() {

                        view! { <EmptyState title="No connections yet" text="A connection holds how to reach a database or a cloud app. Its password is encrypted and never shown again." action_href="/connections/new" action_label="Create a connection" /> }.into_any()

                    } else {

                        view! { <EmptyState title="No connections yet" text="A connection holds how to reach a database or a cloud app. Its password is encrypted and never shown again." /> }.into_any()

                    },
                    Ok(page) => {
                        let can_edit = page.workspace.role.can_edit();
                        let workspace_id = page.workspace.id.to_string();
                        let q = search.get();
                        let shown: Vec<ConnectionView> = page.connections.into_iter().filter(|c| matches(c, &q)).collect();
                        let rows = shown.into_iter().map(|c| view! {
                            <ConnectionRow connection=c can_edit workspace_id=workspace_id.clone() delete />
                        }).collect_view();
                        view! {
                            <form method="get" action="/connections" class="search-form" role="search">
                                <input type="search" name="q" value=q placeholder="Search by name, host or database" aria-label="Search connections" />
                                <button type="submit" class="button small">"Search"</button>
                            </form>
                            <div class="card table-card">
                                <table class="table stack">
                                    <thead><tr><th>"Name"</th><th>"Connector"</th><th>"Reaches"</th><th>"Created by"</th><th>"Used by"</th>{can_edit.then(|| view! { <th>"Actions"</th> })}</tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                        }.into_any()
                    }
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConnectionRow(
    connection: ConnectionView,
    can_edit: bool,
    workspace_id: String,
    delete: ServerAction<DeleteConnection>,
) -> impl IntoView {
    let c = connection;
    let used_by = if c.used_by.is_empty() {
        "—".to_owned()
    } else {
        c.used_by.join(", ")
    };
    let edit_href = format!("/connections/{}/edit", c.id);
    let id = c.id.to_string();
    let question = format!("Delete the connection {}?", c.name);
    let actions = can_edit.then(|| {
        view! {
            <td class="actions" data-label="">
                <a class="button small" href=edit_href.clone()>"Edit"</a>
                <details class="confirm">
                    <summary class="button small danger">"Delete"</summary>
                    <ActionForm action=delete attr:class="inline-form">
                        <input type="hidden" name="workspace_id" value=workspace_id />
                        <input type="hidden" name="id" value=id />
                        <span>{question}</span>
                        <button type="submit" class="button small danger">"Yes, delete"</button>
                    </ActionForm>
                </details>
            </td>
        }
    });
    view! {
        <tr data-testid="connection-row">
            <td data-label=""><strong>{c.name.clone()}</strong></td>
            <td data-label="Connector">{connector_label(&c.kind)}</td>
            <td class="muted" data-label="Reaches">{reaches(&c)}</td>
            <td class="muted" data-label="Created by">{c.created_by.clone().unwrap_or_else(|| "—".into())}</td>
            <td class="muted" data-label="Used by" data-testid="connection-used-by">{used_by}</td>
            {actions}
        </tr>
    }
}

/// Where a connection leads: `user@host:port/database`, or a cloud API's address (and user).
fn reaches(c: &ConnectionView) -> String {
    match c.kind.as_str() {
        "salesforce" | "hubspot" | "dynamics" if c.username.is_empty() => c.host.clone(),
        "salesforce" | "hubspot" | "dynamics" => format!("{} as {}", c.host, c.username),
        _ => format!("{}@{}:{}/{}", c.username, c.host, c.port, c.database),
    }
}
