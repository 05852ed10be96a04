//! The package list: name, source → target, tasks, last run, and Run, Edit, Clone, Delete,
//! 50 at a time by name (`catalog::packages::list`). Packages run from the `sync` command
//! appear here too.

use leptos::prelude::*;
use leptos_meta::Title;

use uuid::Uuid;

use crate::api::packages::{ClonePackage, DeletePackage, load_packages};
use crate::api::runs::RunPackage;
use crate::components::empty_state::EmptyState;
use crate::components::feedback::{FormError, PageError, last_error, loading};
use crate::components::layout::EditorsOnly;
use crate::components::package_delete::DeletePackageConfirm;
use crate::model::PackageView;

#[component]
pub fn PackagesPage() -> impl IntoView {
    let clone = ServerAction::<ClonePackage>::new();
    let delete = ServerAction::<DeletePackage>::new();
    let run = ServerAction::<RunPackage>::new();
    let query = leptos_router::hooks::use_query_map();
    let data = Resource::new(
        move || {
            (
                clone.version().get(),
                delete.version().get(),
                run.version().get(),
                query.read().get("after"),
            )
        },
        |(_, _, _, after)| load_packages(after),
    );
    let run_error = last_error(run.value());
    let clone_error = last_error(clone.value());
    let delete_error = last_error(delete.value());
    view! {
        <Title text="Packages" />
        <div class="page-head">
            <h1>"Packages"</h1>
            <div class="form-actions">
                <EditorsOnly>
                    <a class="button" href="/packages/import">"Import"</a>
                    <a class="button button-primary" href="/packages/new">"+ New synchronization package"</a>
                </EditorsOnly>
            </div>
        </div>
        <FormError error=clone_error />
        <FormError error=delete_error />
        <FormError error=run_error />
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) if page.packages.is_empty() => if page.workspace.role.can_edit() {

                        view! { <EmptyState title="No packages yet" text="A synchronization package keeps a database and a cloud app (or two databases) in sync in both directions. Create connections first, then a package with one task per table." action_href="/packages/new" action_label="Create a package" /> }.into_any()

                    } else {

                        view! { <EmptyState title="No packages yet" text="A synchronization package keeps a database and a cloud app (or two databases) in sync in both directions. Create connections first, then a package with one task per table." /> }.into_any()

                    },
                    Ok(page) => {
                        let can_edit = page.workspace.role.can_edit();
                        let workspace_id = page.workspace.id;
                        let rows = page.packages.into_iter().map(|p| view! { <PackageRow package=p can_edit workspace_id clone delete run /> }).collect_view();
                        let pager = (!page.first_page || page.next.is_some()).then(|| view! {
                            <div class="pager">
                                {(!page.first_page).then(|| view! { <a class="button small" href="/packages">"⇤ First"</a> })}
                                <span class="muted small" data-testid="packages-count">{format!("{} packages", crate::components::run_bits::grouped(page.total as u64))}</span>
                                {page.next.map(|after| view! { <a class="button small" href=format!("/packages?after={after}") rel="next">"Next →"</a> })}
                            </div>
                        });
                        view! {
                            <div class="card table-card">
                                <table class="table stack">
                                    <thead><tr><th>"Name"</th><th>"Source → Target"</th><th>"Tasks"</th><th>"Last run"</th>{can_edit.then(|| view! { <th>"Actions"</th> })}</tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                                {pager}
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
fn PackageRow(
    package: PackageView,
    can_edit: bool,
    workspace_id: Uuid,
    clone: ServerAction<ClonePackage>,
    delete: ServerAction<DeletePackage>,
    run: ServerAction<RunPackage>,
) -> impl IntoView {
    let p = package;
    let (package_id, id, name) = (p.id, p.id.to_string(), p.name.clone());
    let actions = can_edit.then(move || {
        let export = format!("/packages/{id}/export.json");
        let (edit, clone_id, run_id) = (format!("/packages/{id}"), id.clone(), id);
        view! {
            <td class="actions" data-label="">
                <ActionForm action=run attr:class="inline-form">
                    <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                    <input type="hidden" name="package_id" value=run_id />
                    <button type="submit" class="button small button-primary" data-testid="run-package">"Run"</button>
                </ActionForm>
                <a class="button small" href=edit>"Edit"</a>
                <a class="button small" href=export rel="external" download="">"Export"</a>
                <ActionForm action=clone attr:class="inline-form">
                    <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                    <input type="hidden" name="id" value=clone_id />
                    <button type="submit" class="button small">"Clone"</button>
                </ActionForm>
                <DeletePackageConfirm workspace_id id=package_id name=name.clone() delete small=true />
            </td>
        }
    });
    let last_run = match (p.last_run_state, p.last_run_at) {
        (Some(state), Some(at)) => {
            let by = p
                .last_run_by
                .map(|b| format!(" · by {b}"))
                .unwrap_or_default();
            view! {
                <span class=format!("run-state run-{}", state.as_str()) data-testid="last-run-state">{state.label()}</span>
                <span class="muted small">" " {at} {by}</span>
            }
            .into_any()
        }
        _ => view! { <span class="muted">"Never run"</span> }.into_any(),
    };
    view! {
        <tr data-testid="package-row">
            <td data-label=""><a href=format!("/packages/{}", p.id)><strong>{p.name}</strong></a></td>
            <td data-label="Source → Target">{p.source} " → " {p.target}</td>
            <td data-label="Tasks">{p.tasks}</td>
            <td data-label="Last run">{last_run}</td>
            {actions}
        </tr>
    }
}
