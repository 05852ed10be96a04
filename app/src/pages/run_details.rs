//! One run: when, how long, who or what started it, its error, counts per task and
//! direction, and its failed records (all of them in the CSV download). Refreshes itself
//! while the run is active.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::api::runs::{CancelRun, load_run};
use crate::components::feedback::{FormError, PageError, last_error, loading};
use crate::components::run_bits::{RunState, TaskCounts, refresh_while};
use crate::error::AppError;
use crate::model::{RunDetailView, RunErrorView};

#[component]
pub fn RunDetailsPage() -> impl IntoView {
    let id = use_params_map()
        .read_untracked()
        .get("id")
        .and_then(|v| v.parse::<Uuid>().ok());
    let cancel = ServerAction::<CancelRun>::new();
    let tick = RwSignal::new(0u32);
    let data = Resource::new(
        move || (cancel.version().get(), tick.get()),
        move |_| async move {
            match id {
                Some(id) => load_run(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    refresh_while(
        move || {
            data.get()
                .and_then(|d| d.ok())
                .is_some_and(|d| d.run.is_active())
        },
        tick,
        1000,
    );
    let error = last_error(cancel.value());
    view! {
        <Title text="Run" />
        <FormError error />
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(detail) => view! { <Details detail cancel /> }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Details(detail: RunDetailView, cancel: ServerAction<CancelRun>) -> impl IntoView {
    let r = detail.run;
    let can_cancel = r.is_active()
        && r.state != crate::model::RunState::Canceling
        && detail.workspace.role.can_edit();
    let cancel_button = can_cancel.then(|| view! {
        <ActionForm action=cancel attr:class="inline-form">
            <input type="hidden" name="workspace_id" value=detail.workspace.id.to_string() />
            <input type="hidden" name="run_id" value=r.id.to_string() />
            <button type="submit" class="button danger" data-testid="cancel-run">"Cancel run"</button>
        </ActionForm>
    });
    let started_by = match &detail.scheduled_for {
        Some(at) => format!("schedule (occurrence {at})"),
        None => r.started_by.clone(),
    };
    let error = r.error.clone().map(
        |e| view! { <p class="banner banner-error" role="alert" data-testid="run-error">{e}</p> },
    );
    let retries = (!detail.retried_after.is_empty()).then(|| {
        let items = detail
            .retried_after
            .iter()
            .map(|reason| view! { <li>{reason.clone()}</li> })
            .collect_view();
        view! { <div class="hint"><p>{format!("Attempts: {}. Retried after:", detail.attempts)}</p><ul>{items}</ul></div> }
    });
    let fact =
        |label: &'static str, value: String| view! { <div><dt>{label}</dt><dd>{value}</dd></div> };
    view! {
        <div class="page-head">
            <h1>"Run of " <a href=format!("/packages/{}", r.package_id)>{r.package_name.clone()}</a></h1>
            {cancel_button}
        </div>
        <section class="card">
            <p><RunState state=r.state /></p>
            {error}
            <dl class="facts">
                {fact("Queued", r.queued_at.clone())}
                {fact("Started", r.started_at.clone().unwrap_or_else(|| "—".into()))}
                {fact("Finished", r.finished_at.clone().unwrap_or_else(|| "—".into()))}
                {fact("Duration", r.duration.clone().unwrap_or_else(|| "—".into()))}
                {fact("Started by", started_by)}
                {fact("Worker", detail.worker.clone().unwrap_or_else(|| "—".into()))}
                {detail.api_calls.map(|(source, target)| view! {
                    <div data-testid="api-calls">
                        <dt>"API calls"</dt>
                        <dd>{format!("source {source}, target {target}")}</dd>
                    </div>
                })}
            </dl>
            {retries}
        </section>
        <section class="card table-card">
            <h2>"Records"</h2>
            <TaskCounts tasks=r.tasks.clone() />
        </section>
        <FailedRecords run_id=r.id count=detail.error_count errors=detail.errors />
    }
}

#[component]
fn FailedRecords(run_id: Uuid, count: i64, errors: Vec<RunErrorView>) -> impl IntoView {
    if count == 0 {
        return view! { <section class="card"><h2>"Failed records"</h2><p class="muted" data-testid="no-failed-records">"None."</p></section> }.into_any();
    }
    let shown = errors.len();
    let rows = errors
        .into_iter()
        .map(|e| view! {
            <tr data-testid="failed-record">
                <td>{e.task}</td><td>{direction_label(&e.direction)}</td><td>{e.side}</td><td><code>{e.record_key}</code></td><td>{e.operation}</td><td>{e.message}</td>
            </tr>
        })
        .collect_view();
    let more = (count as usize > shown).then(|| view! { <p class="muted small">{format!("The first {shown} of {count}; the CSV has all of them.")}</p> });
    view! {
        <section class="card table-card">
            <div class="section-head">
                <h2>{format!("Failed records ({count})")}</h2>
                <a class="button" href=format!("/runs/{run_id}/errors.csv") download="" rel="external" data-testid="errors-csv">"Download CSV"</a>
            </div>
            <p class="hint">"Each is retried by the next run; nothing was skipped silently."</p>
            <table class="table stack">
                <thead><tr><th>"Task"</th><th>"Direction"</th><th>"Side"</th><th>"Record key"</th><th>"Operation"</th><th>"Message"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {more}
        </section>
    }
    .into_any()
}

fn direction_label(direction: &str) -> &'static str {
    match direction {
        "source_to_target" => "Source → Target",
        "target_to_source" => "Target → Source",
        _ => "—",
    }
}
