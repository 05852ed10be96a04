//! Small pieces every run view shares: the state badge, the counts cells, the chart, and
//! refreshing a view while a run is active.

use leptos::prelude::*;

use crate::model::{Counts, RunState as State, TaskCountsView};

#[component]
pub fn RunState(state: State) -> impl IntoView {
    view! { <span class=format!("run-state run-{}", state.as_str()) data-testid="run-state">{state.label()}</span> }
}

/// Inserted / updated / deleted / failed, as four cells.
pub fn count_cells(c: Counts) -> impl IntoView {
    let failed_class = if c.failed > 0 { "num failed" } else { "num" };
    view! {
        <td class="num" data-label="Inserted">{c.inserted}</td>
        <td class="num" data-label="Updated">{c.updated}</td>
        <td class="num" data-label="Deleted">{c.deleted}</td>
        <td class=failed_class data-label="Failed">{c.failed}</td>
    }
}

/// An active run's progress: records done of the expected total (an estimate: the tables'
/// sizes on a first run, the changes logged since on later runs), the share done, the rate
/// and the time elapsed.
#[component]
pub fn RunProgress(run: crate::model::RunView) -> impl IntoView {
    let done = run.totals.inserted + run.totals.updated + run.totals.deleted + run.totals.failed;
    let elapsed = run.elapsed_secs.unwrap_or(0);
    let rate = (elapsed > 0).then(|| done as f64 / elapsed as f64);
    let text = progress_text(done, run.expected, rate, elapsed, run.started_at.is_some());
    let percent = run
        .expected
        .filter(|e| *e > 0)
        .map(|e| (done.min(e) * 100 / e).min(99));
    view! {
        <div class="run-progress" data-testid="run-progress">
            {percent.map(|p| view! { <progress max="100" value=p aria-label="Share of the records done"></progress> })}
            <span>{text}</span>
        </div>
    }
}

/// "1,200 of about 300,000 records (0%) · 2,400 records/s · 0:05 elapsed".
pub fn progress_text(
    done: u64,
    expected: Option<u64>,
    rate: Option<f64>,
    elapsed_secs: u64,
    started: bool,
) -> String {
    if !started {
        return "Waiting for a worker…".to_owned();
    }
    let mut parts = vec![match expected {
        Some(total) if total > 0 => format!(
            "{} of about {} records ({}%)",
            grouped(done),
            grouped(total),
            (done.min(total) * 100 / total).min(99)
        ),
        Some(_) => format!("{} records (nothing to read was found)", grouped(done)),
        None => format!("{} records", grouped(done)),
    }];
    if let Some(rate) = rate {
        parts.push(format!("{} records/s", grouped(rate.round() as u64)));
    }
    parts.push(format!(
        "{}:{:02} elapsed",
        elapsed_secs / 60,
        elapsed_secs % 60
    ));
    parts.join(" · ")
}

/// 1234567 → "1,234,567".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What related records did, in words: paired by match, waiting for a parent, references
/// set in a second pass, held by an ambiguous match key (empty when none).
pub fn related_text(c: &Counts) -> String {
    [
        (c.paired, "paired by match"),
        (c.waiting, "waiting for a parent"),
        (c.second_pass, "references set in a second pass"),
        (c.held, "held: ambiguous match key"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect::<Vec<_>>()
    .join(" · ")
}

/// One row per task and direction.
#[component]
pub fn TaskCounts(tasks: Vec<TaskCountsView>) -> impl IntoView {
    if tasks.is_empty() {
        return ().into_any();
    }
    let rows = tasks
        .into_iter()
        .flat_map(|t| {
            [
                (t.task.clone(), "Source → Target", t.source_to_target),
                (t.task, "Target → Source", t.target_to_source),
            ]
        })
        .map(|(task, direction, counts)| {
            let related = related_text(&counts);
            view! { <tr data-testid="task-counts"><td data-label="Task">{task}</td><td data-label="Direction">{direction}</td>{count_cells(counts)}<td class="small" data-label="Related records" data-testid="related-counts">{related}</td></tr> }
        })
        .collect_view();
    view! {
        <table class="table stack">
            <thead><tr><th>"Task"</th><th>"Direction"</th><th class="num">"Inserted"</th><th class="num">"Updated"</th><th class="num">"Deleted"</th><th class="num">"Failed"</th><th>"Related records"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// Records written (bars) and failed (red bars) over the last runs, oldest first.
#[component]
pub fn RunsChart(history: Vec<(u64, u64)>) -> impl IntoView {
    if history.is_empty() {
        return ().into_any();
    }
    const W: u64 = 24;
    const H: u64 = 80;
    let top = history.iter().map(|(w, f)| w + f).max().unwrap_or(0).max(1);
    let bars = history
        .iter()
        .enumerate()
        .map(|(i, (written, failed))| {
            let x = i as u64 * W + 2;
            let wh = written * H / top;
            let fh = failed * H / top;
            let title = format!("{written} written, {failed} failed");
            view! {
                <g>
                    <title>{title}</title>
                    <rect class="bar-written" x=x y=H - wh - fh width=W - 4 height=wh />
                    <rect class="bar-failed" x=x y=H - fh width=W - 4 height=fh />
                </g>
            }
        })
        .collect_view();
    let width = history.len() as u64 * W + 4;
    view! {
        <figure class="runs-chart" data-testid="runs-chart">
            <svg width=width height=H + 2 viewBox=format!("0 0 {width} {}", H + 2) role="img" aria-label="Records written and failed per run">
                {bars}
            </svg>
            <figcaption class="muted small">"Records written (blue) and failed (red) per run, oldest first"</figcaption>
        </figure>
    }
    .into_any()
}

/// Bumps `tick` every `ms` milliseconds while `active()` holds (in the browser only), so
/// a resource keyed on it refreshes a running run's counts without reloading the page.
pub fn refresh_while(
    active: impl Fn() -> bool + Send + Sync + 'static,
    tick: RwSignal<u32>,
    ms: u64,
) {
    let active = std::sync::Arc::new(active);
    Effect::new(move |_| {
        let active = active.clone();
        let handle = set_interval_with_handle(
            move || {
                if untrack(|| active()) {
                    tick.update(|t| *t = t.wrapping_add(1));
                }
            },
            std::time::Duration::from_millis(ms),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_says_done_of_expected_rate_and_elapsed() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(
            progress_text(1_200, Some(300_000), Some(2_400.4), 65, true),
            "1,200 of about 300,000 records (0%) · 2,400 records/s · 1:05 elapsed"
        );
        // An estimate that was too low never shows 100% while the run goes on.
        assert_eq!(
            progress_text(500, Some(400), None, 0, true),
            "500 of about 400 records (99%) · 0:00 elapsed"
        );
        assert_eq!(
            progress_text(7, None, None, 3, true),
            "7 records · 0:03 elapsed"
        );
        assert_eq!(
            progress_text(0, None, None, 0, false),
            "Waiting for a worker…"
        );
    }

    #[test]
    fn related_records_are_said_in_words_and_only_when_there_are_some() {
        assert_eq!(related_text(&Counts::default()), "");
        let counts = Counts {
            paired: 2,
            waiting: 1,
            second_pass: 3,
            ..Default::default()
        };
        assert_eq!(
            related_text(&counts),
            "2 paired by match · 1 waiting for a parent · 3 references set in a second pass"
        );
    }
}
