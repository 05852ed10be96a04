//! The audit log (Admins): every change to connections, packages, tasks, schedules,
//! members, invitations and tokens, and every run started or canceled, newest first, 50 a
//! page, filtered by kind and dates; the same entries as CSV.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::audit::load_audit;
use crate::components::empty_state::EmptyState;
use crate::components::feedback::{PageError, loading};
use crate::model::AuditData;

/// The filter parameters the page and its CSV link carry.
const FILTERS: [&str; 4] = ["kind", "who", "from", "until"];

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (
            q.get("kind"),
            q.get("who"),
            q.get("from"),
            q.get("until"),
            q.get("page"),
        )
    };
    let data = Resource::new(params, |(kind, who, from, until, page)| {
        load_audit(kind, who, from, until, page)
    });
    view! {
        <Title text="Audit log" />
        <div class="page-head"><h1>"Audit log"</h1></div>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let (kind, who, from, until, _) = params();
                match data.await {
                    Ok(page) => view! {
                        <Filters kinds=page.kinds.clone() kind who from until />
                        <Entries page />
                    }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `path` with the current filters (and `page` when given) as its query.
fn with_filters(path: &str, page: Option<&str>) -> String {
    let query = use_query_map();
    let q = query.read_untracked();
    let mut pairs: Vec<String> = FILTERS
        .iter()
        .filter_map(|k| {
            q.get(k)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", crate::pages::auth::urlencode(&v)))
        })
        .collect();
    pairs.extend(page.map(|p| format!("page={}", crate::pages::auth::urlencode(p))));
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

#[component]
fn Filters(
    kinds: Vec<String>,
    kind: Option<String>,
    who: Option<String>,
    from: Option<String>,
    until: Option<String>,
) -> impl IntoView {
    let chosen = kind.unwrap_or_default();
    let options = kinds
        .into_iter()
        .map(|k| view! { <option value=k.clone() selected=chosen == k>{k.clone()}</option> })
        .collect_view();
    view! {
        <form method="get" action="/audit" class="filter-form card" role="search" data-testid="audit-filters">
            <label>"What " <select name="kind"><option value="">"Anything"</option>{options}</select></label>
            <label>"Who " <input type="search" name="who" value=who.unwrap_or_default() placeholder="email" /></label>
            <label>"From " <input type="date" name="from" value=from.unwrap_or_default() /></label>
            <label>"Until " <input type="date" name="until" value=until.unwrap_or_default() /></label>
            <button type="submit" class="button small">"Filter"</button>
            <a class="button small" href="/audit">"Clear"</a>
            <a class="button small" href=with_filters("/audit.csv", None) data-testid="audit-csv" download>"Download CSV"</a>
        </form>
    }
}

#[component]
fn Entries(page: AuditData) -> impl IntoView {
    if page.entries.is_empty() {
        return view! {
            <EmptyState
                title="Nothing logged"
                text="Changes to connections, packages, tasks, schedules, members, invitations and API tokens, and runs started or canceled, appear here with who did them."
            />
        }
        .into_any();
    }
    let rows = page
        .entries
        .into_iter()
        .map(|e| {
            view! {
                <tr data-testid="audit-row">
                    <td data-label="When" class="muted">{e.at}</td>
                    <td data-label="Who">{e.actor}</td>
                    <td data-label="Did" data-testid="audit-action" class="nowrap">{e.action}</td>
                    <td data-label="What"><span class="tag">{e.object_kind}</span> " " {e.object_name}</td>
                    <td data-label="Details" class="muted">{e.summary}</td>
                </tr>
            }
        })
        .collect_view();
    let older = page.older.as_deref().map(|to| {
        view! { <a class="button small" href=with_filters("/audit", Some(to)) rel="next">"Older →"</a> }
    });
    let newest = use_query_map().read_untracked().get("page").is_some().then(
        || view! { <a class="button small" href=with_filters("/audit", None)>"⇤ Newest"</a> },
    );
    view! {
        <div class="card table-card">
            <table class="table stack" data-testid="audit-table">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"Did"</th><th>"What"</th><th>"Details"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <div class="pager">{newest}{older}</div>
        </div>
    }
    .into_any()
}
