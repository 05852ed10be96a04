//! The "nothing here yet" panel of list pages.

use leptos::prelude::*;

#[component]
pub fn EmptyState(
    title: &'static str,
    text: &'static str,
    #[prop(optional)] action_href: Option<&'static str>,
    #[prop(optional)] action_label: Option<&'static str>,
) -> impl IntoView {
    view! {
        <section class="card empty-state" data-testid="empty-state">
            <h2>{title}</h2>
            <p class="muted">{text}</p>
            {action_href.zip(action_label).map(|(href, label)| view! { <a class="button button-primary" href=href>{label}</a> })}
        </section>
    }
}
