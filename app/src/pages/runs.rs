//! Every run of every package in the workspace. Runs arrive with the runs issue.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::empty_state::EmptyState;

#[component]
pub fn RunsPage() -> impl IntoView {
    view! {
        <Title text="Runs" />
        <div class="page-head"><h1>"Runs"</h1></div>
        <EmptyState
            title="No runs yet"
            text="Runs of your packages, by hand or on a schedule, appear here with their counts and per-record errors."
        />
    }
}
