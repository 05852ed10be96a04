//! Every run of every package in the workspace (or one package's log): filtered by state,
//! failed-only and date range, newest first, 25 per page. Filters are a GET form, so a
//! filtered list has an address to share. Pages are named by the run they start after
//! (`catalog::runs::list`), so Newer / Older / Oldest cost the same on any page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::runs::load_runs;
use crate::components::empty_state::EmptyState;
use crate::components::feedback::{PageError, loading};
use crate::components::run_bits::{RunState, count_cells};
use crate::model::{RunView, RunsData};

#[component]
pub fn RunsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        let q = query.read();
        (
            q.get("package"),
            q.get("state"),
            q.get("failed_only"),
            q.get("from"),
            q.get("until"),
            q.get("page"),
        )
    };
    let data = Resource::new(
        filters,
        |(package, state, failed_only, from, until, page)| {
            load_runs(package, state, failed_only, from, until, page)
        },
    );
    view! {
        <Title text="Runs" />
        <div class="page-head"><h1>"Runs"</h1></div>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let (package, state, failed_only, from, until, _) = filters();
                match data.await {
                    Ok(page) => view! {
                        <Filters package state failed_only from until />
                        <RunsTable page />
                    }.into_any(),
                    Err(error) => view! {
                        <Filters package state failed_only from until />
                        <PageError error />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Filters(
    package: Option<String>,
    state: Option<String>,
    failed_only: Option<String>,
    from: Option<String>,
    until: Option<String>,
) -> impl IntoView {
    let chosen = state.unwrap_or_default();
    let options = crate::model::RunState::ALL
        .iter()
        .map(|s| view! { <option value=s.as_str() selected=chosen == s.as_str()>{s.label()}</option> })
        .collect_view();
    view! {
        <form method="get" action="/runs" class="filter-form card" role="search" data-testid="run-filters">
            {package.map(|p| view! { <input type="hidden" name="package" value=p /> })}
            <label>"State " <select name="state"><option value="">"Any"</option>{options}</select></label>
            <label class="checkbox"><input type="checkbox" name="failed_only" value="yes" checked=failed_only.is_some() />" Failed only"</label>
            <label>"From " <input type="date" name="from" value=from.unwrap_or_default() /></label>
            <label>"Until " <input type="date" name="until" value=until.unwrap_or_default() /></label>
            <button type="submit" class="button small">"Filter"</button>
            <a class="button small" href="/runs">"Clear"</a>
        </form>
    }
}

#[component]
fn RunsTable(page: RunsData) -> impl IntoView {
    if page.runs.is_empty() {
        return view! {
            <EmptyState
                title="No runs"
                text="Runs of your packages, by hand or on a schedule, appear here with their counts and per-record errors. Run a package from its page."
            />
        }
        .into_any();
    }
    let query = use_query_map();
    let link = move |to: Option<&str>| {
        let q = query.read_untracked();
        let mut pairs: Vec<(String, String)> = ["package", "state", "failed_only", "from", "until"]
            .iter()
            .filter_map(|k| q.get(k).map(|v| ((*k).to_owned(), v)))
            .collect();
        pairs.extend(to.map(|to| ("page".to_owned(), to.to_owned())));
        let text: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", crate::pages::auth::urlencode(&v)))
            .collect();
        format!("/runs?{}", text.join("&"))
    };
    let newest = page
        .newer
        .is_some()
        .then(|| view! { <a class="button small" href=link(None)>"⇤ Newest"</a> });
    let prev = page
        .newer
        .as_deref()
        .map(|to| view! { <a class="button small" href=link(Some(to)) rel="prev">"← Newer"</a> });
    let next = page
        .older
        .as_deref()
        .map(|to| view! { <a class="button small" href=link(Some(to)) rel="next">"Older →"</a> });
    let oldest = page
        .older
        .is_some()
        .then(|| view! { <a class="button small" href=link(Some("oldest"))>"Oldest ⇥"</a> });
    let count = format!(
        "{}{} runs",
        if page.total_exact { "" } else { "More than " },
        crate::components::run_bits::grouped(page.total as u64)
    );
    let rows = page.runs.into_iter().map(row).collect_view();
    view! {
        <div class="card table-card">
            <table class="table stack" data-testid="runs-table">
                <thead><tr><th>"Package"</th><th>"State"</th><th>"Queued"</th><th>"Duration"</th><th>"By"</th><th class="num">"Inserted"</th><th class="num">"Updated"</th><th class="num">"Deleted"</th><th class="num">"Failed"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <div class="pager">
                {newest}
                {prev}
                <span class="muted small" data-testid="runs-count">{count}</span>
                {next}
                {oldest}
            </div>
        </div>
    }
    .into_any()
}

fn row(r: RunView) -> impl IntoView {
    view! {
        <tr data-testid="run-row">
            <td data-label=""><a href=format!("/packages/{}", r.package_id)>{r.package_name.clone()}</a></td>
            <td data-label="State"><RunState state=r.state /></td>
            <td data-label="Queued">{r.queued_at.clone()}</td>
            <td data-label="Duration">{r.duration.clone().unwrap_or_default()}</td>
            <td data-label="By">{r.started_by.clone()}</td>
            {count_cells(r.totals)}
            <td data-label=""><a href=format!("/runs/{}", r.id)>"Details"</a></td>
        </tr>
    }
}
