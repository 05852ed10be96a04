//! The package page's runs: the current run with live progress and Cancel, the last five
//! runs, a chart of the last twenty, and a link to the full log.

use leptos::prelude::*;
use uuid::Uuid;

use crate::api::runs::{CancelRun, RunPackage, load_package_runs};
use crate::components::feedback::{FormError, PageError, last_error, loading};
use crate::components::run_bits::{
    RunProgress, RunState, RunsChart, TaskCounts, count_cells, refresh_while,
};
use crate::error::AppError;
use crate::model::{PackageRunsData, RunView};

/// The package's runs, read again after Run and Cancel and every second while a run is
/// active. The header, the current run and the last runs share it.
pub fn runs_resource(
    package_id: Uuid,
    run: ServerAction<RunPackage>,
    cancel: ServerAction<CancelRun>,
) -> Resource<Result<PackageRunsData, AppError>> {
    let tick = RwSignal::new(0u32);
    let data = Resource::new(
        move || (run.version().get(), cancel.version().get(), tick.get()),
        move |_| load_package_runs(package_id),
    );
    refresh_while(
        move || {
            data.get()
                .and_then(|d| d.ok())
                .is_some_and(|d| d.active.is_some())
        },
        tick,
        1000,
    );
    data
}

/// The active run at the top of the page: state, progress, Cancel.
#[component]
pub fn CurrentRun(
    runs: Resource<Result<PackageRunsData, AppError>>,
    workspace_id: Uuid,
    cancel: ServerAction<CancelRun>,
) -> impl IntoView {
    let cancel_error = last_error(cancel.value());
    view! {
        <FormError error=cancel_error />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(page) = runs.await else { return ().into_any() };
                let can_run = page.can_run;
                page.active.map(|r| {
                    let cancel_button = (can_run && r.state != crate::model::RunState::Canceling).then(|| view! {
                        <ActionForm action=cancel attr:class="inline-form">
                            <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                            <input type="hidden" name="run_id" value=r.id.to_string() />
                            <button type="submit" class="button danger" data-testid="cancel-run">"Cancel"</button>
                        </ActionForm>
                    });
                    let when = r.started_at.clone().map_or_else(
                        || format!("queued {}", r.queued_at),
                        |s| format!("started {s}"),
                    );
                    view! {
                        <section class="card current-run" data-testid="current-run">
                            <div class="section-head">
                                <h2>"Current run"</h2>
                                {cancel_button}
                            </div>
                            <p><RunState state=r.state /> " " <span class="muted">{when} " · by " {r.started_by.clone()}</span></p>
                            <RunProgress run=r.clone() />
                            <TaskCounts tasks=r.tasks.clone() />
                        </section>
                    }
                }).into_any()
            })}
        </Transition>
    }
}

/// The last runs, a chart of the last twenty, and the full log.
#[component]
pub fn RecentRuns(
    runs: Resource<Result<PackageRunsData, AppError>>,
    package_id: Uuid,
) -> impl IntoView {
    view! {
        <section class="card" data-testid="package-runs">
            <div class="section-head">
                <h2>"Last runs"</h2>
                <a class="button small" href=format!("/runs?package={package_id}")>"Full log"</a>
            </div>
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(page) => {
                            let recent = if page.recent.is_empty() {
                                view! { <p class="muted" data-testid="no-runs">"This package has not run yet."</p> }.into_any()
                            } else {
                                let rows = page.recent.into_iter().map(run_row).collect_view();
                                view! {
                                    <table class="table stack" data-testid="recent-runs">
                                        <thead><tr><th>"State"</th><th>"Queued"</th><th>"Duration"</th><th>"By"</th><th class="num">"Inserted"</th><th class="num">"Updated"</th><th class="num">"Deleted"</th><th class="num">"Failed"</th><th></th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                }.into_any()
                            };
                            view! { {recent} <RunsChart history=page.history /> }.into_any()
                        }
                        Err(error) => view! { <PageError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// A run in a table: state, when, how long, who, counts, details link.
pub fn run_row(r: RunView) -> impl IntoView {
    let href = format!("/runs/{}", r.id);
    view! {
        <tr data-testid="run-row">
            <td data-label="State"><RunState state=r.state /></td>
            <td data-label="Queued">{r.queued_at.clone()}</td>
            <td data-label="Duration">{r.duration.clone().unwrap_or_default()}</td>
            <td data-label="By">{r.started_by.clone()}</td>
            {count_cells(r.totals)}
            <td data-label=""><a href=href>"Details"</a></td>
        </tr>
    }
}
