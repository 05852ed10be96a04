//! The package page, laid out after Skyvia's: a header with the name (click to rename), the
//! last run's state and the actions; the current run; source and target side by side; the
//! tasks as the main section; the schedule as a one-line summary that opens its editor; the
//! parameters; the last runs. A Viewer reads all of it and sees no control they cannot use.
//! Everything posts with plain forms, so it works before the WASM loads.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::api::package_editor::{DeleteTask, ResetParameter, SavePackage, load_package};
use crate::api::packages::{ClonePackage, DeletePackage};
use crate::api::runs::RunPackage;
use crate::components::feedback::{
    FieldError, FormError, PageError, follow_toggle, last_error, loading, open_on_error, saved,
    successes,
};
use crate::components::package_delete::DeletePackageConfirm;
use crate::components::run_bits::RunState;
use crate::error::AppError;
use crate::model::{
    ConnectionOption, LOCALES, PackageDetailView, PackageRunsData, TaskView, connector_label,
    has_dedicated_account,
};
use crate::pages::package_runs::{CurrentRun, RecentRuns, runs_resource};
use crate::pages::package_schedule::PackageSchedule;

/// `/packages/new` and `/packages/:id`.
#[component]
pub fn PackagePage() -> impl IntoView {
    // Drawn anew when the id changes (Clone opens the copy on this same route).
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|v| v.parse::<Uuid>().ok()));
    move || match id.get() {
        Some(id) => view! { <ExistingPackage id /> }.into_any(),
        None => view! { <NewPackage /> }.into_any(),
    }
}

#[component]
fn NewPackage() -> impl IntoView {
    let save = ServerAction::<SavePackage>::new();
    let error = last_error(save.value());
    let data = Resource::new(|| (), |_| load_package(None));
    view! {
        <Title text="New synchronization package" />
        <div class="page-head"><h1 data-testid="package-title">"New synchronization package"</h1></div>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! {
                        <section class="card">
                            <SettingsForm workspace_id=page.workspace.id connections=page.connections package=None save error />
                        </section>
                    }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ExistingPackage(id: Uuid) -> impl IntoView {
    let save = ServerAction::<SavePackage>::new();
    let rename = ServerAction::<SavePackage>::new();
    let delete_task = ServerAction::<DeleteTask>::new();
    let reset = ServerAction::<ResetParameter>::new();
    let run = ServerAction::<RunPackage>::new();
    let cancel = ServerAction::<crate::api::runs::CancelRun>::new();
    let clone = ServerAction::<ClonePackage>::new();
    let delete = ServerAction::<DeletePackage>::new();
    // The package is read again after each change that went through, and after each run
    // (LastSyncTime moved): never after a refused form, whose fields keep what was typed.
    let settings_saved = successes(save.value());
    let renamed = successes(rename.value());
    let tasks_changed = successes(delete_task.value());
    let parameters_reset = successes(reset.value());
    let runs_finished = RwSignal::new(0u32);
    let data = Resource::new(
        move || {
            (
                settings_saved.get(),
                renamed.get(),
                tasks_changed.get(),
                parameters_reset.get(),
                runs_finished.get(),
            )
        },
        move |_| load_package(Some(id)),
    );
    let runs = runs_resource(id, run, cancel);
    // A run that ends (the newest finished run changes) refreshes the parameters.
    // A run that ends (the newest finished run changes) refreshes the parameters. Only a
    // list that was loaded counts: the first one loaded is no change.
    Effect::new(move |seen: Option<Option<Option<Uuid>>>| {
        let seen = seen.flatten();
        match runs.get() {
            Some(Ok(page)) => {
                let newest = page.recent.first().map(|r| r.id);
                if seen.is_some_and(|before| before != newest) {
                    runs_finished.update(|n| *n += 1);
                }
                Some(newest)
            }
            _ => seen,
        }
    });
    let schedule_open = RwSignal::new(false);
    let parameters_open = RwSignal::new(false);
    let save_error = last_error(save.value());
    let rename_error = last_error(rename.value());
    let reset_error = last_error(reset.value());
    open_on_error(parameters_open, reset_error);
    let delete_task_error = last_error(delete_task.value());
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let can_edit = page.workspace.role.can_edit();
                        let workspace_id = page.workspace.id;
                        let Some(package) = page.package else {
                            return view! { <PageError error=AppError::NotFound /> }.into_any();
                        };
                        view! {
                            <Title text=package.name.clone() />
                            <PackageHeader package=package.clone() workspace_id can_edit runs run clone delete rename rename_error schedule_open parameters_open />
                            <CurrentRun runs workspace_id cancel />
                            <Sides package=package.clone() connections=page.connections workspace_id can_edit save error=save_error />
                            <TaskList package=package.clone() workspace_id can_edit delete=delete_task reset error=delete_task_error />
                        }.into_any()
                    }
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
        <PackageSchedule package_id=id open=schedule_open />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let can_edit = page.workspace.role.can_edit();
                        let workspace_id = page.workspace.id;
                        page.package.map(|p| view! {
                            <Parameters package=p workspace_id can_edit reset error=reset_error open=parameters_open />
                        }).into_any()
                    }
                    Err(_) => ().into_any(),
                }
            })}
        </Suspense>
        <RecentRuns runs package_id=id />
    }
}

/// The name (click to rename), the last run's state, and the actions.
#[component]
#[allow(clippy::too_many_arguments)]
fn PackageHeader(
    package: PackageDetailView,
    workspace_id: Uuid,
    can_edit: bool,
    runs: Resource<Result<PackageRunsData, AppError>>,
    run: ServerAction<RunPackage>,
    clone: ServerAction<ClonePackage>,
    delete: ServerAction<DeletePackage>,
    rename: ServerAction<SavePackage>,
    rename_error: Signal<Option<AppError>>,
    schedule_open: RwSignal<bool>,
    parameters_open: RwSignal<bool>,
) -> impl IntoView {
    let id = package.id;
    let package_name = package.name.clone();
    let title = view! { <h1 data-testid="package-title">{package.name.clone()}</h1> };
    let name = if can_edit {
        view! {
            <details class="rename" open=move || rename_error.get().is_some()>
                <summary title="Rename" data-testid="rename">{title}<span class="rename-hint">"Rename"</span></summary>
                <ActionForm action=rename attr:class="inline-form rename-form" attr:data-testid="rename-form">
                    <SettingsHidden package=package.clone() workspace_id />
                    <label class="visually-hidden" for="package-rename">"Name"</label>
                    <input id="package-rename" name="name" value=package.name.clone() required maxlength="200" />
                    <button type="submit" class="button button-primary">"Save name"</button>
                    <FormError error=rename_error />
                </ActionForm>
            </details>
            {saved(rename.value())}
        }
        .into_any()
    } else {
        title.into_any()
    };
    // Both wait for the runs inside a Transition: the server renders them with the page and
    // the browser hydrates the same.
    let last_run = move || {
        Suspend::new(async move {
            let Ok(r) = runs.await else {
                return ().into_any();
            };
            match r.active.as_ref().or(r.recent.first()) {
                Some(last) => view! {
                    <span class="muted small">"Last run "</span>
                    <RunState state=last.state />
                    <span class="muted small" title=last.queued_at.clone()>{format!(" {}", last.queued_at)}</span>
                }
                .into_any(),
                None => view! { <span class="muted small" data-testid="never-run">"Never run"</span> }.into_any(),
            }
        })
    };
    let run_button = move || {
        Suspend::new(async move {
            let runnable = runs.await.is_ok_and(|r| r.can_run && r.active.is_none());
            runnable.then(|| view! {
                <ActionForm action=run attr:class="inline-form">
                    <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                    <input type="hidden" name="package_id" value=id.to_string() />
                    <button type="submit" class="button button-primary" data-testid="run-now">"Run"</button>
                </ActionForm>
            })
        })
    };
    let run_error = last_error(run.value());
    let clone_error = last_error(clone.value());
    let delete_error = last_error(delete.value());
    let editing = can_edit.then(|| {
        view! {
            <ActionForm action=clone attr:class="inline-form">
                <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                <input type="hidden" name="id" value=id.to_string() />
                <input type="hidden" name="open" value="yes" />
                <button type="submit" class="button">"Clone"</button>
            </ActionForm>
            <DeletePackageConfirm workspace_id id name=package_name delete />
        }
    });
    view! {
        <header class="package-head" data-testid="package-head">
            <div class="package-name">
                {name}
                <p class="last-run" data-testid="last-run"><Transition fallback=|| ()>{last_run}</Transition></p>
            </div>
            <div class="form-actions package-actions">
                <Transition fallback=|| ()>{run_button}</Transition>
                <a class="button" href="#schedule" on:click=move |_| schedule_open.set(true)>"Schedule"</a>
                <a class="button" href="#parameters" on:click=move |_| parameters_open.set(true)>"Parameters"</a>
                <a class="button" href=format!("/runs?package={id}")>"Log"</a>
                <a class="button" href=format!("/packages/{id}/export.json") rel="external" download="">"Export"</a>
                {editing}
            </div>
        </header>
        <FormError error=run_error />
        <FormError error=clone_error />
        <FormError error=delete_error />
    }
}

/// The saved settings as hidden fields: the rename form changes only the name.
#[component]
fn SettingsHidden(package: PackageDetailView, workspace_id: Uuid) -> impl IntoView {
    view! {
        <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
        <input type="hidden" name="id" value=package.id.to_string() />
        <input type="hidden" name="source_connection" value=package.source_connection.map(|c| c.to_string()).unwrap_or_default() />
        <input type="hidden" name="target_connection" value=package.target_connection.map(|c| c.to_string()).unwrap_or_default() />
        <input type="hidden" name="locale" value=package.locale.clone() />
        {package.dedicated_account.then(|| view! { <input type="hidden" name="dedicated_account" value="yes" /> })}
    }
}

/// Source and target side by side, the locale, and (for editors) the settings editor.
#[component]
fn Sides(
    package: PackageDetailView,
    connections: Vec<ConnectionOption>,
    workspace_id: Uuid,
    can_edit: bool,
    save: ServerAction<SavePackage>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let locale = LOCALES
        .iter()
        .find(|(value, _)| *value == package.locale)
        .map_or(package.locale.clone(), |(_, label)| (*label).to_owned());
    let dedicated = package
        .dedicated_account
        .then(|| view! { <span class="tag">"Dedicated account"</span> });
    let editor = can_edit.then(|| {
        view! {
            <details class="settings-editor" open=move || error.get().is_some()>
                <summary class="button small">"Edit settings"</summary>
                <SettingsForm workspace_id connections package=Some(package.clone()) save error />
            </details>
            {saved(save.value())}
        }
    });
    view! {
        <section class="card sides" data-testid="sides">
            <div class="side">
                <p class="muted small">"Source"</p>
                <p class="side-name" data-testid="source-side">{package.source_label.clone()}</p>
                <p class="hint">"Wins when both sides changed a record."</p>
            </div>
            <div class="sync-arrows" aria-label="synced both ways">"⇄"</div>
            <div class="side">
                <p class="muted small">"Target"</p>
                <p class="side-name" data-testid="target-side">{package.target_label.clone()}</p>
            </div>
            <p class="side-meta muted small">"Locale: " {locale} " " {dedicated}</p>
            {editor}
        </section>
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

/// Name, source, target, locale, dedicated account: the form that creates a package and
/// edits its settings.
#[component]
fn SettingsForm(
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
        {no_connections}
        <ActionForm action=save attr:class="grid-form" attr:data-testid="package-form">
            <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
            {package.as_ref().map(|p| view! { <input type="hidden" name="id" value=p.id.to_string() /> })}
            <FormError error fields=&["name", "source_connection", "target_connection", "locale", "connection_change"] />
            <div>
                <label for="package-name">"Name"</label>
                <input id="package-name" name="name" value=name required maxlength="200" />
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
                <button type="submit" class="button button-primary">{if package.is_some() { "Save settings" } else { "Create" }}</button>
                <a class="button" href="/packages">"Back to packages"</a>
            </div>
        </ActionForm>
    }
}

/// The main section: one row per task, source ⇄ target with the mapped fields per direction.
#[component]
fn TaskList(
    package: PackageDetailView,
    workspace_id: Uuid,
    can_edit: bool,
    delete: ServerAction<DeleteTask>,
    reset: ServerAction<ResetParameter>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let add = can_edit.then(|| {
        view! { <a class="button button-primary" href=format!("/packages/{}/tasks/new", package.id)>"+ Add task"</a> }
    });
    let note = (package.has_run && can_edit).then(|| view! {
        <p class="hint">"This package has run: a task added now gets its own first run; a changed mapping applies to records changed from now on."</p>
    });
    let body = if package.tasks.is_empty() {
        view! { <p class="muted" data-testid="no-tasks">"No tasks yet: a task syncs one table of the source with one of the target."</p> }.into_any()
    } else {
        let rows = package
            .tasks
            .into_iter()
            .map(|t| view! { <TaskRow task=t package_id=package.id workspace_id can_edit delete reset /> })
            .collect_view();
        view! {
            <table class="table stack">
                <thead><tr><th>"Source ⇄ Target"</th><th>"Mapped fields"</th><th>"Last synced"</th><th>"Actions"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="card table-card tasks" data-testid="tasks">
            <div class="section-head">
                <h2>"Tasks"</h2>
                {add}
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
    can_edit: bool,
    delete: ServerAction<DeleteTask>,
    reset: ServerAction<ResetParameter>,
) -> impl IntoView {
    let href = format!("/packages/{package_id}/tasks/{}", task.id);
    let resync = (can_edit && task.last_sync.is_some()).then(|| view! {
        <details class="confirm">
            <summary class="button small">"Resync"</summary>
            <ActionForm action=reset attr:class="inline-form">
                <TaskFields workspace_id package_id task_id=task.id />
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
    let remove = can_edit.then(|| {
        view! {
            <details class="confirm">
                <summary class="button small danger">"Delete"</summary>
                <ActionForm action=delete attr:class="inline-form">
                    <TaskFields workspace_id package_id task_id=task.id />
                    <span>{question}</span>
                    <button type="submit" class="button small danger">"Yes, delete"</button>
                </ActionForm>
            </details>
        }
    });
    let fields = |n: usize| {
        if n == 1 {
            "1 field".to_owned()
        } else {
            format!("{n} fields")
        }
    };
    view! {
        <tr data-testid="task-row">
            <td data-label="Source ⇄ Target" class="task-tables">
                <span class="long-name">{task.source_table.clone()}</span>
                <span class="sync-arrows" aria-label="synced both ways">" ⇄ "</span>
                <span class="long-name">{task.target_table.clone()}</span>
            </td>
            <td data-label="Mapped fields" class="muted" data-testid="mapped-fields">
                {format!("{} → · {} ←", fields(task.source_to_target), fields(task.target_to_source))}
            </td>
            <td data-label="Last synced" class="muted">{task.last_sync.clone().unwrap_or_else(|| "Not yet".into())}</td>
            <td data-label="Actions" class="actions">
                <a class="button small" href=href>{if can_edit { "Edit" } else { "View" }}</a>
                {resync}
                {remove}
            </td>
        </tr>
    }
}

/// Which task a row's forms act on, as hidden fields.
#[component]
fn TaskFields(workspace_id: Uuid, package_id: Uuid, task_id: Uuid) -> impl IntoView {
    view! {
        <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
        <input type="hidden" name="package_id" value=package_id.to_string() />
        <input type="hidden" name="task_id" value=task_id.to_string() />
    }
}

/// LastSyncTime and InitTrackingObjects per task, and their resets (Skyvia's Parameters
/// window, without its "reset and truncate" advice: nothing here loses or duplicates data).
#[component]
fn Parameters(
    package: PackageDetailView,
    workspace_id: Uuid,
    can_edit: bool,
    reset: ServerAction<ResetParameter>,
    error: Signal<Option<AppError>>,
    open: RwSignal<bool>,
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
                    <td data-label="Task">{format!("{} → {}", t.source_table, t.target_table)}</td>
                    <td data-label="LastSyncTime">{t.last_sync.clone().unwrap_or_else(|| "Not yet".into())} " " {due}</td>
                    <td data-label="InitTrackingObjects">{if t.tracking_installed { "Installed" } else { "Not installed yet (first run)" }}</td>
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
    let actions = can_edit.then(|| view! {
        <div class="form-actions parameter-actions">
            {form("last_sync_time", "Reset LastSyncTime", "The next run compares every record of every task: pairs in the ID map are written again from the source (the source wins), records without a copy are copied. Nothing is deleted or duplicated.")}
            {form("tracking", "Reset InitTrackingObjects", "The next run re-creates the change-tracking triggers in both databases, keeping the changes they already recorded, then compares every record as above.")}
        </div>
    });
    view! {
        <section class="card table-card" id="parameters" data-testid="parameters">
            <details class="section-details" open=move || open.get() on:toggle=follow_toggle(open)>
                <summary><h2>"Parameters"</h2><span class="muted small">" LastSyncTime and change tracking per task"</span></summary>
                <FormError error />
                <table class="table stack">
                    <thead><tr><th>"Task"</th><th>"LastSyncTime"</th><th>"InitTrackingObjects"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                {actions}
            </details>
        </section>
    }
    .into_any()
}
