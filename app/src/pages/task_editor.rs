//! The task editor: the tables of both sides and, once both are chosen, their two mapping
//! grids and the first-run match keys. Everything posts with plain forms, so it works before
//! the WASM loads; the engine checks tables and mappings on save and its message comes back
//! next to the grid.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

use crate::api::package_editor::{SaveTask, load_task};
use crate::components::feedback::{FieldError, FormError, PageError, last_error, loading};
use crate::error::AppError;
use crate::model::{MappingRow, TaskEditData};

fn param_uuid(name: &'static str) -> Option<Uuid> {
    use_params_map()
        .read_untracked()
        .get(name)
        .and_then(|v| v.parse().ok())
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
    let can_edit = t.can_edit;
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
                {(!can_edit).then(|| view! { <p class="banner" role="note" data-testid="read-only">"Read-only: your role is Viewer. Developers and Admins can change this task."</p> })}
                <fieldset class="plain" disabled=!can_edit>
                <input type="hidden" name="workspace_id" value=t.workspace_id.to_string() />
                <input type="hidden" name="package_id" value=t.package_id.to_string() />
                {t.task_id.map(|id| view! { <input type="hidden" name="task_id" value=id.to_string() /> })}
                <input type="hidden" name="source_table" value=t.source_table.clone() />
                <input type="hidden" name="target_table" value=t.target_table.clone() />
                <datalist id=source_list.clone()>{column_options(&t.source_columns)}</datalist>
                <datalist id=target_list.clone()>{column_options(&t.target_columns)}</datalist>
                <FormError error fields=&["source_to_target", "target_to_source"] />
                <MappingGrid
                    title=format!("Source to Target: {} → {}", t.source_table, t.target_table)
                    prefix="s2t" rows=t.source_to_target.clone() read_columns=t.source_columns.clone() columns_list=source_list error field="source_to_target"
                />
                <MappingGrid
                    title=format!("Target to Source: {} → {}", t.target_table, t.source_table)
                    prefix="t2s" rows=t.target_to_source.clone() read_columns=t.target_columns.clone() columns_list=target_list error field="target_to_source"
                />
                <p class="hint">"Column: a column of the table read. Constant: text, or JSON such as 42, true or null. Expression: Rhai over the read row's columns, e.g. upper(name) + \" \" + coalesce(email, \"\"); write row[\"First Name\"] for names that are not plain. Validate checks every mapping at once and tries it on the first records."</p>
                <FunctionList functions=t.functions.clone() />
                <MatchKeys keys=t.match_keys.clone() fold=t.match_fold source_list=format!("columns-{}", "source") target_list=format!("columns-{}", "target") error />
                </fieldset>
                <div class="form-actions">
                    {can_edit.then(|| view! {
                        <button type="submit" name="intent" value="validate" class="button">"Validate"</button>
                        <button type="submit" name="intent" value="preview" class="button">"Preview"</button>
                        <button type="submit" name="intent" value="match_preview" class="button">"Preview matching"</button>
                        <button type="submit" name="intent" value="save" class="button button-primary">"Save task"</button>
                    })}
                    <a class="button" href=back.clone()>{if can_edit { "Cancel" } else { "Back to the package" }}</a>
                </div>
                {move || save.value().get().and_then(|r| r.ok()).flatten().map(|p| if let Some(m) = p.matching {
                    view! { <MatchPreviewView preview=m /> }.into_any()
                } else if p.only_checked {
                    view! {
                        <p class="banner banner-ok" role="status" data-testid="validated">"Both mappings are valid: the tables meet the requirements, every required column is mapped, every expression compiles, and the values of the first records fit their columns."</p>
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

/// A table's columns for a datalist: the name, labelled with its type.
fn column_options(columns: &[(String, String)]) -> impl IntoView + use<> {
    columns
        .iter()
        .map(|(name, ty)| view! { <option value=name.clone() label=format!("{name} ({ty})") /> })
        .collect_view()
}

/// The expression functions, folded.
#[component]
fn FunctionList(functions: Vec<(String, String)>) -> impl IntoView {
    let items = functions
        .into_iter()
        .map(|(signature, summary)| view! { <li><code>{signature}</code> " — " {summary}</li> })
        .collect_view();
    view! {
        <details class="functions" data-testid="function-list">
            <summary>"Expression functions"</summary>
            <ul>{items}</ul>
        </details>
    }
}

#[component]
fn MappingGrid(
    title: String,
    prefix: &'static str,
    rows: Vec<MappingRow>,
    /// The read table's columns (name, type), for the Column picker.
    read_columns: Vec<(String, String)>,
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
            let pick_label = format!("{} column of {}", title_kind(prefix), row.column);
            let picked = if row.kind == "column" {
                row.value.clone()
            } else {
                String::new()
            };
            let pick_options = read_columns
                .iter()
                .map(|(name, ty)| view! { <option value=name.clone() selected=*name == picked>{format!("{name} ({ty})")}</option> })
                .collect_view();
            let pick_options = view! { <option value="" selected=picked.is_empty()>"Choose a column…"</option> {pick_options} };
            // This column's problems, under its value (the grid's list has them all).
            let prefix_text = format!("{}: ", row.column);
            let inline_errors = move || {
                error.get().and_then(|e| e.for_field(field)).map(|all| {
                    all.lines()
                        .filter_map(|line| line.strip_prefix(prefix_text.as_str()).map(str::to_owned))
                        .map(|message| view! { <p class="field-error inline" role="alert">{message}</p> })
                        .collect_view()
                })
            };
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
                    <td><select class="mapping-kind" name=format!("{prefix}_kind[{i}]") aria-label=label>{options}</select></td>
                    <td>
                        <select class="column-pick" name=format!("{prefix}_pick[{i}]") aria-label=pick_label>{pick_options}</select>
                        <input class="wide value-text" name=format!("{prefix}_value[{i}]") value=row.value.clone() list=columns_list.clone() aria-label=value_label autocomplete="off" />
                        {inline_errors}
                    </td>
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
        <label class="checkbox"><input type="checkbox" name="match_fold" value="on" checked=fold />" Ignore case and surrounding spaces"</label>
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
