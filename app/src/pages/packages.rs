//! The package list: name, source → target, tasks, last run. Packages run from the `sync`
//! command appear here too; the editor and the Run button arrive with the packages and runs
//! work.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::packages::load_packages;
use crate::components::empty_state::EmptyState;
use crate::components::feedback::{PageError, loading};
use crate::model::PackageView;

#[component]
pub fn PackagesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_packages());
    view! {
        <Title text="Packages" />
        <div class="page-head">
            <h1>"Packages"</h1>
            <a class="button button-primary" href="/packages/new">"+ New synchronization package"</a>
        </div>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) if page.packages.is_empty() => view! {
                        <EmptyState
                            title="No packages yet"
                            text="A synchronization package keeps a database and a cloud app (or two databases) in sync in both directions. Create connections first, then a package with one task per table."
                            action_href="/packages/new"
                            action_label="Create a package"
                        />
                    }.into_any(),
                    Ok(page) => {
                        let rows = page.packages.into_iter().map(|p| view! { <PackageRow package=p /> }).collect_view();
                        view! {
                            <div class="card table-card">
                                <table class="table">
                                    <thead><tr><th>"Name"</th><th>"Source → Target"</th><th>"Tasks"</th><th>"Last run"</th></tr></thead>
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
fn PackageRow(package: PackageView) -> impl IntoView {
    let p = package;
    let last_run = match (p.last_run_state, p.last_run_at) {
        (Some(state), Some(at)) => {
            let by = p
                .last_run_by
                .map(|b| format!(" · by {b}"))
                .unwrap_or_default();
            view! {
                <span class=format!("run-state run-{state}") data-testid="last-run-state">{state.clone()}</span>
                <span class="muted small">" " {at} {by}</span>
            }
            .into_any()
        }
        _ => view! { <span class="muted">"Never run"</span> }.into_any(),
    };
    view! {
        <tr data-testid="package-row">
            <td><a href=format!("/packages/{}", p.id)><strong>{p.name}</strong></a></td>
            <td>{p.source} " → " {p.target}</td>
            <td>{p.tasks}</td>
            <td>{last_run}</td>
        </tr>
    }
}
