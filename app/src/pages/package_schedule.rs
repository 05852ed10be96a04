//! The package page's schedule: a one-line summary with the next run, opening the editor
//! (Skyvia's scheduler): one-time or recurring, every day / week / month, once at a time or
//! every N minutes or hours inside an optional window, a start, an IANA time zone, Disabled.
//! The editor shows only the controls of the chosen recurrence (by CSS, so without WASM
//! too). "Show next runs" lists the next five occurrences without saving.

use leptos::prelude::*;
use uuid::Uuid;

use crate::api::schedules::{SaveSchedule, load_schedule};
use crate::components::feedback::{
    FieldError, FormError, PageError, follow_toggle, last_error, loading, open_on_error, successes,
};
use crate::error::AppError;
use crate::model::{ScheduleData, WEEKDAYS};

#[component]
pub fn PackageSchedule(package_id: Uuid, open: RwSignal<bool>) -> impl IntoView {
    let save = ServerAction::<SaveSchedule>::new();
    // Reloaded after each answer that is not an error: a refused save leaves the form as
    // it was typed (reloading would put the saved values back over the person's input).
    let answered = successes(save.value());
    let data = Resource::new(move || answered.get(), move |_| load_schedule(package_id));
    let error = last_error(save.value());
    open_on_error(open, error);
    view! {
        <section class="card" id="schedule" data-testid="schedule">
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(loaded) => {
                            // A preview (or a refused save) shows what was typed; else what is saved.
                            let latest = save.value().get_untracked().and_then(|r| r.ok());
                            let shown = latest.unwrap_or(loaded.clone());
                            let workspace_id = loaded.workspace_id;
                            let zones = loaded.time_zones.clone();
                            view! { <ScheduleForm data=shown saved=loaded.saved summary=loaded.summary.clone() next_saved=loaded.next.first().cloned() zones package_id workspace_id save error open /> }.into_any()
                        }
                        Err(error) => view! { <PageError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
#[allow(clippy::too_many_arguments)]
fn ScheduleForm(
    data: ScheduleData,
    saved: bool,
    summary: Option<String>,
    /// The saved schedule's next run.
    next_saved: Option<String>,
    zones: Vec<String>,
    package_id: Uuid,
    workspace_id: Uuid,
    save: ServerAction<SaveSchedule>,
    error: Signal<Option<AppError>>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let f = data.fields;
    let summary = match summary {
        Some(s) => {
            let next = next_saved.map(|n| format!(" — next at {n}")).unwrap_or_default();
            view! { <span data-testid="schedule-summary"><strong>{s}</strong><span class="muted">{next}</span></span> }.into_any()
        }
        None => view! { <span class="muted" data-testid="schedule-summary">"No schedule: this package runs only when you press Run."</span> }.into_any(),
    };
    let next = (!data.next.is_empty()).then(|| {
        let items = data.next.iter().map(|t| view! { <li>{t.clone()}</li> }).collect_view();
        view! { <div><p class="hint">"Next runs:"</p><ol class="occurrences" data-testid="next-occurrences">{items}</ol></div> }
    });
    if !data.can_edit {
        return view! { <h2>"Schedule"</h2> <p>{summary}</p> {next} }.into_any();
    }
    let zone_options = zones
        .into_iter()
        .map(|z| view! { <option value=z /> })
        .collect_view();
    let opt = |value: &'static str, label: &'static str, current: &str| {
        view! { <option value=value selected=current == value>{label}</option> }
    };
    let weekday_options = |current: &str| {
        WEEKDAYS
            .iter()
            .map(|d| view! { <option value=*d selected=current == *d>{*d}</option> })
            .collect_view()
    };
    let day_boxes = WEEKDAYS
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let checked = f.days.iter().any(|x| x == d);
            view! { <label><input type="checkbox" name=format!("days[{i}]") value=*d checked=checked />{*d}</label> }
        })
        .collect_view();
    view! {
        <details class="section-details" open=move || open.get() on:toggle=follow_toggle(open)>
        <summary><h2>"Schedule"</h2> " " {summary} <span class="button small">"Edit"</span></summary>
        <ActionForm action=save attr:class="schedule-form" attr:data-testid="schedule-form">
            <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
            <input type="hidden" name="package_id" value=package_id.to_string() />
            <FormError error fields=&["kind", "at_date", "at_time", "interval", "days", "month_day", "nth", "nth_weekday", "once_at", "every_n", "window_from", "window_to", "start_date", "start_time", "time_zone"] />
            <fieldset>
                <legend>"Runs"</legend>
                <p><label class="checkbox"><input type="radio" name="kind" value="recurring" checked=f.kind != "one_time" />" Recurring (below)"</label></p>
                <p>
                    <label class="checkbox"><input type="radio" name="kind" value="one_time" checked=f.kind == "one_time" />" One time"</label>
                    <span class="one-time-only">
                        " on " <input type="date" name="at_date" value=f.at_date.clone() aria-label="One-time date" />
                        " at " <input type="time" name="at_time" value=f.at_time.clone() aria-label="One-time time" />
                    </span>
                </p>
                <FieldError error field="at_date" /><FieldError error field="at_time" />
            </fieldset>
            <fieldset class="recurring-only">
                <legend>"Recurring: which days"</legend>
                <p>
                    <label for="schedule-every">"Every"</label>
                    <select id="schedule-every" name="every">
                        {opt("day", "Day", &f.every)}{opt("week", "Week", &f.every)}{opt("month", "Month", &f.every)}
                    </select>
                </p>
                <p class="every-day">"Every " <input type="number" name="interval" min="1" max="365" value=f.interval.clone() aria-label="Every N days" class="narrow" /> " day(s)"</p>
                <FieldError error field="interval" />
                <p class="weekdays every-week">"On " {day_boxes}</p>
                <FieldError error field="days" />
                <p class="every-month">
                    <label class="checkbox"><input type="radio" name="month_mode" value="day" checked=f.month_mode != "nth" />" day "</label>
                    <input type="number" name="month_day" min="1" max="31" value=f.month_day.clone() aria-label="Day of the month" class="narrow" />
                    <label class="checkbox"><input type="radio" name="month_mode" value="nth" checked=f.month_mode == "nth" />" the "</label>
                    <select name="nth" aria-label="Which weekday of the month">
                        {opt("first", "first", &f.nth)}{opt("second", "second", &f.nth)}{opt("third", "third", &f.nth)}{opt("fourth", "fourth", &f.nth)}{opt("last", "last", &f.nth)}
                    </select>
                    <select name="nth_weekday" aria-label="Weekday">{weekday_options(&f.nth_weekday)}</select>
                </p>
                <FieldError error field="month_day" />
            </fieldset>
            <fieldset class="recurring-only">
                <legend>"Recurring: when in the day"</legend>
                <p>
                    <label class="checkbox"><input type="radio" name="time_mode" value="once" checked=f.time_mode != "every" />" Once"</label>
                    <span class="time-once"> " at " <input type="time" name="once_at" value=f.once_at.clone() aria-label="Time of day" /></span>
                </p>
                <FieldError error field="once_at" />
                <p>
                    <label class="checkbox"><input type="radio" name="time_mode" value="every" checked=f.time_mode == "every" />" Repeatedly"</label>
                    <span class="time-every">
                    " every " <input type="number" name="every_n" min="1" value=f.every_n.clone() aria-label="Every N" class="narrow" />
                    <select name="every_unit" aria-label="Unit">{opt("minutes", "minutes", &f.every_unit)}{opt("hours", "hours", &f.every_unit)}</select>
                    " between " <input type="time" name="window_from" value=f.window_from.clone() aria-label="Window from" />
                    " and " <input type="time" name="window_to" value=f.window_to.clone() aria-label="Window to" />
                    <span class="hint">" (leave empty for all day; at least 1 minute apart)"</span>
                    </span>
                </p>
                <FieldError error field="every_n" /><FieldError error field="window_from" /><FieldError error field="window_to" />
                <p>
                    "Starting " <input type="date" name="start_date" value=f.start_date.clone() aria-label="Start date" />
                    " " <input type="time" name="start_time" value=f.start_time.clone() aria-label="Start time" />
                </p>
                <FieldError error field="start_date" />
            </fieldset>
            <div>
                <label for="schedule-tz">"Time zone"</label>
                <input id="schedule-tz" name="time_zone" value=f.time_zone.clone() list="time-zones" autocomplete="off" placeholder="Type to search, e.g. Berlin" />
                <datalist id="time-zones">{zone_options}</datalist>
                <p class="hint">"An IANA name: type part of it to search the list. Daylight saving is handled: a time that happens twice runs once; a time that is skipped runs once, an hour later."</p>
                <FieldError error field="time_zone" />
            </div>
            <label class="checkbox"><input type="checkbox" name="enabled" value="yes" checked=f.enabled />" Enabled (unchecked keeps the schedule but stops it)"</label>
            <div class="form-actions">
                <button type="submit" name="intent" value="preview" class="button">"Show next runs"</button>
                <button type="submit" name="intent" value="save" class="button button-primary">"Save schedule"</button>
                {saved.then(|| view! { <button type="submit" name="intent" value="delete" class="button danger">"Remove schedule"</button> })}
            </div>
            {next}
        </ActionForm>
        </details>
    }
    .into_any()
}
