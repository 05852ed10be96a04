//! The connection list. Connections arrive with the connections issue; today it is empty.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::empty_state::EmptyState;

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    view! {
        <Title text="Connections" />
        <div class="page-head">
            <h1>"Connections"</h1>
            <a class="button button-primary" href="/connections/new">"+ New connection"</a>
        </div>
        <EmptyState
            title="No connections yet"
            text="A connection holds how to reach a database or a cloud app. Its secrets are encrypted and never shown again."
            action_href="/connections/new"
            action_label="Create a connection"
        />
    }
}
