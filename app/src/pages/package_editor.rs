//! The package page (settings and tasks) and the task editor (tables and the two mapping
//! grids). Everything posts with plain forms, so it works before the WASM loads; the engine
//! checks tables and mappings on save and its message comes back next to the grid.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

use crate::api::package_editor::{
    DeleteTask, ResetParameter, SavePackage, SaveTask, load_package, load_task,
};
use crate::components::feedback::{FieldError, FormError, PageError, last_error, loading};
use crate::error::AppError;
use crate::model::{
    ConnectionOption, LOCALES, MappingRow, PackageDetailView, TaskEditData, TaskView,
    connector_label, has_dedicated_account,
};
use crate::pages::package_runs::PackageRuns;
use crate::pages::package_schedule::PackageSchedule;

fn param_uuid(name: &'static str) -> Option<Uuid> {
    use_params_map()
        .read_untracked()
        .get(name)
        .and_then(|v| v.parse().ok())
}

/// `/packages/new` and `/packages/:id`.
#[component]
pub fn PackagePage() -> impl IntoView {
    let id = param_uuid("id");
    let save = ServerAction::<SavePackage>::new();
    let delete_task = ServerAction::<DeleteTask>::new();
    let reset = ServerAction::<ResetParameter>::new();
    let data = Resource::new(
        move || (id, delete_task.version().get(), reset.version().get()),
        |(id, _, _)| load_package(id),
    );
    let reset_error = last_error(reset.value());
    let error = last_error(save.value());
    let delete_error = last_error(delete_task.value());
    // Three parts, so that no resource is created inside another resource's Suspend (it
    // would be created twice on the server): the settings, the runs and schedule panels
    // (their own resources), the tasks.
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let workspace_id = page.workspace.id;
                        let title = page.package.as_ref().map_or("New synchronization package".to_owned(), |p| p.name.clone());
                        view! {
                            <Title text=title.clone() />
                            <div class="page-head"><h1 data-testid="package-title">{title}</h1></div>
                            <PackageSettings workspace_id connections=page.connections package=page.package save error />
                        }.into_any()
                    }
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
        {id.map(|id| view! {
            <PackageRuns package_id=id />
            <PackageSchedule package_id=id />
        })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let workspace_id = page.workspace.id;
                        page.package.map(|p| view! {
                            <TaskList package=p.clone() workspace_id delete=delete_task reset error=delete_error />
                            <Parameters package=p workspace_id reset error=reset_error />
                        }).into_any()
                    }
                    Err(_) => ().into_any(),
                }
            })}
        </Suspense>
    }
}

fn connection_options(
    connections: &[ConnectionOption],
    selected: Option<Uuid>,
) -> impl IntoView + use<> {
    let options = connections
        .iter()
        .map(|c| {
            let label = format!("{} ({})", c.name, connector_label(&c.kind));
            view! { <option value=c.id.to_string() selected=Some(c.id) == selected>{label}</option> }
        })
        .collect_view();
    view! { <option value="" selected=selected.is_none()>"Choose a connection…"</option> {options} }
}

#[component]
fn PackageSettings(
    workspace_id: Uuid,
    connections: Vec<ConnectionOption>,
    package: Option<PackageDetailView>,
    save: ServerAction<SavePackage>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let name = package
        .as_ref()
        .map_or("Untitled".to_owned(), |p| p.name.clone());
    let locale = package
        .as_ref()
        .map_or("invariant".to_owned(), |p| p.locale.clone());
    let source = package.as_ref().and_then(|p| p.source_connection);
    let target = package.as_ref().and_then(|p| p.target_connection);
    let has_run = package.as_ref().is_some_and(|p| p.has_run);
    let dedicated = package.as_ref().is_some_and(|p| p.dedicated_account);
    // The dedicated-account option follows the chosen connections (without WASM: the saved
    // ones).
    let source_choice = RwSignal::new(source);
    let target_choice = RwSignal::new(target);
    let kinds: Vec<(Uuid, String)> = connections.iter().map(|c| (c.id, c.kind.clone())).collect();
    let dedicated_side = move || {
        [source_choice.get(), target_choice.get()]
            .into_iter()
            .flatten()
            .filter_map(|id| {
                kinds
                    .iter()
                    .find(|(k, _)| *k == id)
                    .map(|(_, kind)| kind.clone())
            })
            .find(|kind| has_dedicated_account(kind))
    };
    let choose = |choice: RwSignal<Option<Uuid>>| {
        move |ev: leptos::ev::Event| choice.set(event_target_value(&ev).parse().ok())
    };
    let locales = LOCALES
        .map(|(value, label)| view! { <option value=value selected=locale == value>{label}</option> })
        .into_iter()
        .collect_view();
    let no_connections = connections.is_empty().then(|| view! {
        <p class="banner banner-error" role="alert">
            "This workspace has no connections yet. " <a href="/connections/new">"Create one"</a> " for each side first."
        </p>
    });
    view! {
        <section class="card">
            <h2>"Package"</h2>
            {no_connections}
            <ActionForm action=save attr:class="grid-form" attr:data-testid="package-form">
                <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                {package.as_ref().map(|p| view! { <input type="hidden" name="id" value=p.id.to_string() /> })}
                <FormError error fields=&["name", "source_connection", "target_connection", "locale", "connection_change"] />
                <div>
                    <label for="package-name">"Name"</label>
                    <input id="package-name" name="name" value=name required />
                    <FieldError error field="name" />
                </div>
                <div>
                    <label for="package-source">"Source"</label>
                    <select id="package-source" name="source_connection" on:change=choose(source_choice)>{connection_options(&connections, source)}</select>
                    <p class="hint">"When both sides changed a record, the source wins. " <a href="/connections/new">"+ New connection"</a></p>
                    <FieldError error field="source_connection" />
                </div>
                <div>
                    <label for="package-target">"Target"</label>
                    <select id="package-target" name="target_connection" on:change=choose(target_choice)>{connection_options(&connections, target)}</select>
                    <FieldError error field="target_connection" />
                </div>
                <div>
                    <label for="package-locale">"Locale"</label>
                    <select id="package-locale" name="locale">{locales}</select>
                    <p class="hint">"How numbers, dates and times are written into text columns and by to_text()."</p>
                    <FieldError error field="locale" />
                </div>
                {move || dedicated_side().map(|kind| {
                    let crm = connector_label(&kind);
                    view! {
                        <div data-testid="dedicated-account">
                            <label class="checkbox">
                                <input type="checkbox" name="dedicated_account" value="yes" checked=dedicated />
                                {format!(" Dedicated {crm} account for synchronization")}
                            </label>
                            <p class="hint">{format!(
                                "Check this when the connection's {crm} user is used by Lockstep only: every change that user makes is then taken for Lockstep's own and never synced back. \
                                 Unchecked, Lockstep leaves out only the records it wrote itself, so edits anyone makes during or after a run — with the same user too — are synced by the next run."
                            )}</p>
                        </div>
                    }
                })}
                {has_run.then(|| view! {
                    <div>
                        <label class="checkbox">
                            <input type="checkbox" name="confirm_connection_change" value="yes" />
                            " Allow changing a connection of this package, which has already run"
                        </label>
                        <p class="hint">"Its ID map pairs records of the current databases; a new connection clears it and the next run copies everything as a first run."</p>
                        <FieldError error field="connection_change" />
                    </div>
                })}
                <div class="form-actions">
                    <button type="submit" class="button button-primary">{if package.is_some() { "Save" } else { "Create" }}</button>
                    <a class="button" href="/packages">"Back to packages"</a>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn TaskList(
    package: PackageDetailView,
    workspace_id: Uuid,
    delete: ServerAction<DeleteTask>,
    reset: ServerAction<ResetParameter>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let add_href = format!("/packages/{}/tasks/new", package.id);
    let note = package.has_run.then(|| view! {
        <p class="hint">"This package has run: a task added now gets its own first run; a changed mapping applies to records changed from now on."</p>
    });
    let body = if package.tasks.is_empty() {
        view! { <p class="muted" data-testid="no-tasks">"No tasks yet: a task syncs one table of the source with one of the target."</p> }.into_any()
    } else {
        let rows = package
            .tasks
            .into_iter()
            .map(|t| view! { <TaskRow task=t package_id=package.id workspace_id delete reset /> })
            .collect_view();
        view! {
            <table class="table">
                <thead><tr><th>"Source table"</th><th>"Target table"</th><th>"Mapped fields"</th><th>"Last synced"</th><th>"Actions"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="card table-card">
            <div class="section-head">
                <h2>"Tasks"</h2>
                <a class="button" href=add_href>"+ Add task"</a>
            </div>
            {note}
            <FormError error />
            {body}
        </section>
    }
}

#[component]
fn TaskRow(
    task: TaskView,
    package_id: Uuid,
    workspace_id: Uuid,
    delete: ServerAction<DeleteTask>,
    reset: ServerAction<ResetParameter>,
) -> impl IntoView {
    let edit = format!("/packages/{package_id}/tasks/{}", task.id);
    let resync = task.last_sync.is_some().then(|| view! {
        <details class="confirm">
            <summary class="button small">"Resync"</summary>
            <ActionForm action=reset attr:class="inline-form">
                <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                <input type="hidden" name="package_id" value=package_id.to_string() />
                <input type="hidden" name="task_id" value=task.id.to_string() />
                <input type="hidden" name="parameter" value="last_sync_time" />
                <span>"The next run re-applies this task's mapping to every record it synced (the source wins). Nothing is deleted or duplicated."</span>
                <button type="submit" class="button small">"Resync task"</button>
            </ActionForm>
        </details>
    });
    let question = format!(
        "Delete the task {} → {}?",
        task.source_table, task.target_table
    );
    view! {
        <tr data-testid="task-row">
            <td>{task.source_table.clone()}</td>
            <td>{task.target_table.clone()}</td>
            <td class="muted">{format!("{} → · {} ←", task.source_to_target, task.target_to_source)}</td>
            <td class="muted">{task.last_sync.clone().unwrap_or_else(|| "Not yet".into())}</td>
            <td class="actions">
                <a class="button small" href=edit>"Edit"</a>
                {resync}
                <details class="confirm">
                    <summary class="button small danger">"Delete"</summary>
                    <ActionForm action=delete attr:class="inline-form">
                        <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                        <input type="hidden" name="package_id" value=package_id.to_string() />
                        <input type="hidden" name="task_id" value=task.id.to_string() />
                        <span>{question}</span>
                        <button type="submit" class="button small danger">"Yes, delete"</button>
                    </ActionForm>
                </details>
            </td>
        </tr>
    }
}

/// LastSyncTime and InitTrackingObjects per task, and their resets (Skyvia's Parameters
/// window, without its "reset and truncate" advice: nothing here loses or duplicates data).
#[component]
fn Parameters(
    package: PackageDetailView,
    workspace_id: Uuid,
    reset: ServerAction<ResetParameter>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    if package.tasks.is_empty() {
        return ().into_any();
    }
    let rows = package
        .tasks
        .iter()
        .map(|t| {
            let due = t.full_pass_due.then(|| view! { <span class="tag" title="The next run compares every record">"full comparison due"</span> });
            view! {
                <tr data-testid="parameter-row">
                    <td>{format!("{} → {}", t.source_table, t.target_table)}</td>
                    <td>{t.last_sync.clone().unwrap_or_else(|| "Not yet".into())} " " {due}</td>
                    <td>{if t.tracking_installed { "Installed" } else { "Not installed yet (first run)" }}</td>
                </tr>
            }
        })
        .collect_view();
    let package_id = package.id;
    let form = move |parameter: &'static str, label: &'static str, text: &'static str| {
        view! {
            <details class="confirm">
                <summary class="button">{label}</summary>
                <ActionForm action=reset attr:class="inline-form">
                    <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                    <input type="hidden" name="package_id" value=package_id.to_string() />
                    <input type="hidden" name="parameter" value=parameter />
                    <span>{text}</span>
                    <button type="submit" class="button">"Yes, reset"</button>
                </ActionForm>
            </details>
        }
    };
    view! {
        <section class="card table-card" data-testid="parameters">
            <h2>"Parameters"</h2>
            <FormError error />
            <table class="table">
                <thead><tr><th>"Task"</th><th>"LastSyncTime"</th><th>"InitTrackingObjects"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <div class="form-actions parameter-actions">
                {form("last_sync_time", "Reset LastSyncTime", "The next run compares every record of every task: pairs in the ID map are written again from the source (the source wins), records without a copy are copied. Nothing is deleted or duplicated.")}
                {form("tracking", "Reset InitTrackingObjects", "The next run re-creates the change-tracking triggers in both databases, keeping the changes they already recorded, then compares every record as above.")}
            </div>
        </section>
    }
    .into_any()
}

/// `/packages/:id/tasks/new?source=…&target=…` and `/packages/:id/tasks/:task_id`.
#[component]
pub fn TaskPage() -> impl IntoView {
    let package_id = param_uuid("id");
    let task_id = param_uuid("task_id");
    let query = use_query_map();
    let chosen = move || {
        let q = query.read();
        (q.get("source"), q.get("target"))
    };
    let save = ServerAction::<SaveTask>::new();
    let error = last_error(save.value());
    let data = Resource::new(chosen, move |(source, target)| async move {
        match package_id {
            Some(package_id) => load_task(package_id, task_id, source, target).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text="Task" />
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(task) => view! { <TaskEditor task save error /> }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn table_options(tables: &[String], selected: &str) -> impl IntoView + use<> {
    let options = tables
        .iter()
        .map(|t| view! { <option value=t.clone() selected=t == selected>{t.clone()}</option> })
        .collect_view();
    view! { <option value="" selected=selected.is_empty()>"Choose a table…"</option> {options} }
}

#[component]
fn TaskEditor(
    task: TaskEditData,
    save: ServerAction<SaveTask>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let t = task;
    let back = format!("/packages/{}", t.package_id);
    let picker = t.task_id.is_none().then(|| view! {
        <form method="get" class="grid-form" data-testid="table-picker">
            <div>
                <label for="task-source">{format!("Source table ({})", t.source_name)}</label>
                <select id="task-source" name="source">{table_options(&t.source_tables, &t.source_table)}</select>
            </div>
            <div>
                <label for="task-target">{format!("Target table ({})", t.target_name)}</label>
                <select id="task-target" name="target">{table_options(&t.target_tables, &t.target_table)}</select>
            </div>
            <div><button type="submit" class="button">"Check tables"</button></div>
        </form>
    });
    let problem = t.problem.clone().map(|p| {
        view! {
            <p class="banner banner-error" role="alert" data-testid="task-problem">{p}</p>
        }
    });
    let fixed_tables = t.task_id.map(|_| {
        view! { <p><strong>{t.source_table.clone()}</strong> " ↔ " <strong>{t.target_table.clone()}</strong></p> }
    });
    let heading = view! {
        <div class="page-head"><h1>{if t.task_id.is_some() { "Edit task" } else { "New task" }}</h1></div>
        <p class="muted">"Package " <a href=back.clone()>{t.package_name.clone()}</a> ": " {t.source_name.clone()} " → " {t.target_name.clone()}</p>
    };
    let ready =
        t.problem.is_none() && !(t.source_to_target.is_empty() && t.target_to_source.is_empty());
    let grids = ready.then(move || {
        let source_list = format!("columns-{}", "source");
        let target_list = format!("columns-{}", "target");
        view! {
            <ActionForm action=save attr:class="task-form" attr:data-testid="task-form">
                <input type="hidden" name="workspace_id" value=t.workspace_id.to_string() />
                <input type="hidden" name="package_id" value=t.package_id.to_string() />
                {t.task_id.map(|id| view! { <input type="hidden" name="task_id" value=id.to_string() /> })}
                <input type="hidden" name="source_table" value=t.source_table.clone() />
                <input type="hidden" name="target_table" value=t.target_table.clone() />
                <datalist id=source_list.clone()>{t.source_columns.iter().map(|c| view! { <option value=c.clone() /> }).collect_view()}</datalist>
                <datalist id=target_list.clone()>{t.target_columns.iter().map(|c| view! { <option value=c.clone() /> }).collect_view()}</datalist>
                <FormError error fields=&["source_to_target", "target_to_source"] />
                <MappingGrid
                    title=format!("Source to Target: {} → {}", t.source_table, t.target_table)
                    prefix="s2t" rows=t.source_to_target.clone() columns_list=source_list error field="source_to_target"
                />
                <MappingGrid
                    title=format!("Target to Source: {} → {}", t.target_table, t.source_table)
                    prefix="t2s" rows=t.target_to_source.clone() columns_list=target_list error field="target_to_source"
                />
                <p class="hint">"Column: a column of the table read. Constant: text, or JSON such as 42, true or null. Expression: Rhai over the read row's columns, e.g. upper(name) + \" \" + coalesce(email, \"\"); write row[\"First Name\"] for names that are not plain. Checked by the engine when you save."</p>
                <MatchKeys keys=t.match_keys.clone() fold=t.match_fold source_list=format!("columns-{}", "source") target_list=format!("columns-{}", "target") error />
                <div class="form-actions">
                    <button type="submit" name="intent" value="validate" class="button">"Validate"</button>
                    <button type="submit" name="intent" value="preview" class="button">"Preview"</button>
                    <button type="submit" name="intent" value="match_preview" class="button">"Preview matching"</button>
                    <button type="submit" name="intent" value="save" class="button button-primary">"Save task"</button>
                    <a class="button" href=back.clone()>"Cancel"</a>
                </div>
                {move || save.value().get().and_then(|r| r.ok()).flatten().map(|p| if let Some(m) = p.matching {
                    view! { <MatchPreviewView preview=m /> }.into_any()
                } else if p.only_checked {
                    view! {
                        <p class="banner banner-ok" role="status" data-testid="validated">"Both mappings are valid: the tables meet the requirements, every required column is mapped and every expression compiles."</p>
                    }.into_any()
                } else {
                    view! {
                        <section class="preview" data-testid="preview">
                            <PreviewTable title="Source to Target: the first source rows as they would be written" rows=p.source_to_target />
                            <PreviewTable title="Target to Source: the first target rows as they would be written" rows=p.target_to_source />
                        </section>
                    }.into_any()
                })}
            </ActionForm>
        }
    });
    view! {
        {heading}
        <section class="card">
            {picker}
            {fixed_tables}
            {problem}
            {grids}
        </section>
    }
}

#[component]
fn MappingGrid(
    title: String,
    prefix: &'static str,
    rows: Vec<MappingRow>,
    columns_list: String,
    error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl IntoView {
    let kinds = [
        ("", "Not written"),
        ("column", "Column"),
        ("constant", "Constant"),
        ("expression", "Expression"),
        ("relation", "Relation"),
        ("lookup", "Lookup"),
    ];
    let body = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let options = kinds
                .map(|(value, label)| view! { <option value=value selected=row.kind == value>{label}</option> })
                .into_iter()
                .collect_view();
            let label = format!("{} mapping of {}", title_kind(prefix), row.column);
            let value_label = format!("{} value of {}", title_kind(prefix), row.column);
            view! {
                <tr data-testid=format!("{prefix}-row")>
                    <td>
                        <input type="hidden" name=format!("{prefix}_column[{i}]") value=row.column.clone() />
                        <strong>{row.column.clone()}</strong>
                        {row.required.then(|| view! { <span class="tag required" title="NOT NULL without a default: must be written">"required"</span> })}
                        <div class="muted small">{row.db_type.clone()}</div>
                        {(row.kind == "relation").then(|| view! { <span class="tag relation" title="Holds keys of another task's records: written as their counterparts on the other side">"relation"</span> })}
                        {(row.kind == "lookup").then(|| view! { <span class="tag relation" title="Found in a table of the written side by key columns">"lookup"</span> })}
                        {row.references.clone().map(|table| view! { <div class="muted small" title="A foreign key: a column copy to a foreign key whose table another task of this package syncs is a relation">{format!("foreign key → {table}")}</div> })}
                    </td>
                    <td><select name=format!("{prefix}_kind[{i}]") aria-label=label>{options}</select></td>
                    <td><input class="wide" name=format!("{prefix}_value[{i}]") value=row.value.clone() list=columns_list.clone() aria-label=value_label autocomplete="off" /></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>{title}</h2>
        <FieldError error field />
        <table class="table mapping-grid">
            <thead><tr><th>"Written column"</th><th>"Mapping"</th><th>"Value"</th></tr></thead>
            <tbody>{body}</tbody>
        </table>
    }
}

/// The task's first-run match keys: rows of (source, target) column or expression, two
/// blank rows to add more, and the case/space option.
#[component]
fn MatchKeys(
    keys: Vec<(String, String)>,
    fold: bool,
    source_list: String,
    target_list: String,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let rows = keys.len() + 2;
    let body = (0..rows)
        .map(|i| {
            let (source, target) = keys.get(i).cloned().unwrap_or_default();
            view! {
                <tr data-testid="match-row">
                    <td><input class="wide" name=format!("match_source[{i}]") value=source list=source_list.clone() autocomplete="off" aria-label=format!("Match key {} source", i + 1) /></td>
                    <td><input class="wide" name=format!("match_target[{i}]") value=target list=target_list.clone() autocomplete="off" aria-label=format!("Match key {} target", i + 1) /></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>"First-run matching"</h2>
        <p class="hint">"Records both sides already hold are paired instead of copied twice when their keys are equal (all keys, compared as text). Each side is a column name or an expression. A key held by more than one record on a side is ambiguous: those records are reported, not copied. Preview matching reads both tables and writes nothing."</p>
        <FieldError error field="matching" />
        <table class="table mapping-grid" data-testid="match-keys">
            <thead><tr><th>"Source"</th><th>"Target"</th></tr></thead>
            <tbody>{body}</tbody>
        </table>
        <label class="check"><input type="checkbox" name="match_fold" value="on" checked=fold />" Ignore case and surrounding spaces"</label>
    }
}

/// What first-run matching would do now.
#[component]
fn MatchPreviewView(preview: crate::model::MatchPreview) -> impl IntoView {
    let pairs = preview
        .pair_examples
        .iter()
        .map(|(s, t)| view! { <li>{format!("source {s} ↔ target {t}")}</li> })
        .collect_view();
    let ambiguous = preview
        .ambiguous_examples
        .iter()
        .map(|m| view! { <li>{m.clone()}</li> })
        .collect_view();
    view! {
        <section class="preview" data-testid="match-preview">
            <h3>"Matching preview"</h3>
            <p>
                <strong data-testid="match-paired">{preview.paired}</strong>" pairs found · "
                <strong data-testid="match-new-source">{preview.new_on_source}</strong>" new on the source (copied to the target) · "
                <strong data-testid="match-new-target">{preview.new_on_target}</strong>" new on the target (copied to the source) · "
                <strong data-testid="match-ambiguous">{preview.ambiguous}</strong>" ambiguous keys"
            </p>
            {(!preview.pair_examples.is_empty()).then(|| view! { <p class="muted">"Pairs, for example:"</p><ul>{pairs}</ul> })}
            {(!preview.ambiguous_examples.is_empty()).then(|| view! { <p class="muted">"Ambiguous keys (neither paired nor copied until the data is fixed):"</p><ul>{ambiguous}</ul> })}
        </section>
    }
}

#[component]
fn PreviewTable(title: &'static str, rows: Vec<crate::model::PreviewRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <h3>{title}</h3> <p class="muted">"The table is empty."</p> }.into_any();
    }
    let columns: Vec<String> = rows
        .iter()
        .find(|r| r.error.is_none())
        .map(|r| r.values.iter().map(|(c, _)| c.clone()).collect())
        .unwrap_or_default();
    let head = columns
        .iter()
        .map(|c| view! { <th>{c.clone()}</th> })
        .collect_view();
    let width = columns.len().max(1);
    let body = rows
        .into_iter()
        .map(|r| match r.error {
            Some(error) => view! {
                <tr><td>{r.key}</td><td colspan=width class="field-error">{error}</td></tr>
            }
            .into_any(),
            None => {
                let cells = r
                    .values
                    .into_iter()
                    .map(|(_, v)| view! { <td>{v}</td> })
                    .collect_view();
                view! { <tr><td>{r.key}</td>{cells}</tr> }.into_any()
            }
        })
        .collect_view();
    view! {
        <h3>{title}</h3>
        <table class="table">
            <thead><tr><th>"Key"</th>{head}</tr></thead>
            <tbody>{body}</tbody>
        </table>
    }
    .into_any()
}

fn title_kind(prefix: &str) -> &'static str {
    if prefix == "s2t" {
        "Source to Target"
    } else {
        "Target to Source"
    }
}
