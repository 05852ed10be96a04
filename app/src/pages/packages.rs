//! The package list. Packages arrive with the packages issue; today the list is empty.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::empty_state::EmptyState;

#[component]
pub fn PackagesPage() -> impl IntoView {
    view! {
        <Title text="Packages" />
        <div class="page-head">
            <h1>"Packages"</h1>
            <a class="button button-primary" href="/packages/new">"+ New synchronization package"</a>
        </div>
        <EmptyState
            title="No packages yet"
            text="A synchronization package keeps a database and a cloud app (or two databases) in sync in both directions. Create connections first, then a package with one task per table."
            action_href="/packages/new"
            action_label="Create a package"
        />
    }
}
