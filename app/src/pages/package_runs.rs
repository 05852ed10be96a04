//! The package page's runs panel: Run and Cancel, the current run with live counts, the last
//! five runs, a chart of the last twenty, and a link to the full log.

use leptos::prelude::*;
use uuid::Uuid;

use crate::api::runs::{CancelRun, RunPackage, load_package_runs};
use crate::components::feedback::{FormError, PageError, last_error, loading};
use crate::components::run_bits::{RunState, RunsChart, TaskCounts, count_cells, refresh_while};
use crate::model::{PackageRunsData, RunView};

#[component]
pub fn PackageRuns(package_id: Uuid) -> impl IntoView {
    let run = ServerAction::<RunPackage>::new();
    let cancel = ServerAction::<CancelRun>::new();
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
    let run_error = last_error(run.value());
    let cancel_error = last_error(cancel.value());
    view! {
        <section class="card" data-testid="package-runs">
            <div class="section-head">
                <h2>"Runs"</h2>
                <a class="button" href=format!("/runs?package={package_id}")>"Log"</a>
            </div>
            <FormError error=run_error />
            <FormError error=cancel_error />
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) => {
                            let workspace_id = page.workspace_id;
                            view! { <RunsPanel page package_id workspace_id run cancel /> }.into_any()
                        }
                        Err(error) => view! { <PageError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn RunsPanel(
    page: PackageRunsData,
    package_id: Uuid,
    workspace_id: Uuid,
    run: ServerAction<RunPackage>,
    cancel: ServerAction<CancelRun>,
) -> impl IntoView {
    let run_button = (page.can_run && page.active.is_none()).then(|| view! {
        <ActionForm action=run attr:class="inline-form">
            <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
            <input type="hidden" name="package_id" value=package_id.to_string() />
            <button type="submit" class="button button-primary" data-testid="run-now">"Run now"</button>
        </ActionForm>
    });
    let active = page.active.map(|r| {
        let cancel_button = (page.can_run && r.state != crate::model::RunState::Canceling).then(|| view! {
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
            <div class="current-run" data-testid="current-run">
                <p><RunState state=r.state /> " " <span class="muted">{when} " · by " {r.started_by.clone()}</span> " " {cancel_button}</p>
                <TaskCounts tasks=r.tasks.clone() />
            </div>
        }
    });
    let recent = if page.recent.is_empty() {
        view! { <p class="muted" data-testid="no-runs">"This package has not run yet."</p> }
            .into_any()
    } else {
        let rows = page.recent.into_iter().map(run_row).collect_view();
        view! {
            <table class="table" data-testid="recent-runs">
                <thead><tr><th>"State"</th><th>"Queued"</th><th>"Duration"</th><th>"By"</th><th class="num">"Inserted"</th><th class="num">"Updated"</th><th class="num">"Deleted"</th><th class="num">"Failed"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <div class="form-actions">{run_button}</div>
        {active}
        {recent}
        <RunsChart history=page.history />
    }
}

/// A run in a table: state, when, how long, who, counts, details link.
pub fn run_row(r: RunView) -> impl IntoView {
    let href = format!("/runs/{}", r.id);
    view! {
        <tr data-testid="run-row">
            <td><RunState state=r.state /></td>
            <td>{r.queued_at.clone()}</td>
            <td>{r.duration.clone().unwrap_or_default()}</td>
            <td>{r.started_by.clone()}</td>
            {count_cells(r.totals)}
            <td><a href=href>"Details"</a></td>
        </tr>
    }
}
