//! The package page and the task editor: settings, tasks, and mapping grids checked against
//! the live tables by the engine (the same checks the `sync` command runs).

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{PackageEditData, TaskEditData, TaskPreview};

#[cfg(feature = "ssr")]
pub(crate) mod ssr_only {
    use catalog::connections;
    use engine::connectors::{Connector, TableSchema};
    use engine::package::{FieldSource, Mapping, TableRef};
    use uuid::Uuid;

    use crate::error::AppError;
    use crate::model::MappingRow;

    /// Connects to a saved connection of the workspace; a failure is a message for the page.
    pub async fn connect(
        pool: &sqlx::PgPool,
        secrets: &catalog::secrets::SecretBox,
        workspace: Uuid,
        id: Uuid,
        side: &str,
    ) -> Result<Box<dyn Connector>, AppError> {
        let spec = connections::open(pool, secrets, workspace, id).await?;
        engine::connectors::connect(
            &spec,
            &catalog::cloud_tracking::connect_options(pool, false),
        )
        .await
        .map_err(|e| AppError::Validation {
            field: "connection".into(),
            message: format!("the {side} connection cannot be reached: {e}"),
        })
    }

    /// A task checked against the live tables ([`engine::sync::check_task`]), with the
    /// tables as typed in the form.
    pub struct CheckedTask {
        pub source: TableRef,
        pub target: TableRef,
        pub source_schema: TableSchema,
        pub target_schema: TableSchema,
        pub forward: engine::mapping::CompiledMapping,
        pub backward: engine::mapping::CompiledMapping,
    }

    /// Checks a task as the form gives it; Err names the form field at fault and what is
    /// wrong.
    pub async fn check_task(
        source_conn: &dyn Connector,
        target_conn: &dyn Connector,
        (source_table, target_table): (&str, &str),
        (s2t, t2s): (&Mapping, &Mapping),
        locale: engine::mapping::locale::Locale,
    ) -> Result<CheckedTask, (&'static str, String)> {
        let source = TableRef::parse(source_table.trim()).map_err(|m| ("source_table", m))?;
        let target = TableRef::parse(target_table.trim()).map_err(|m| ("target_table", m))?;
        let checked = engine::sync::check_task(
            source_conn,
            target_conn,
            (&source, &target),
            (s2t, t2s),
            locale,
        )
        .await
        .map_err(|e| (e.field(), e.message()))?;
        Ok(CheckedTask {
            source,
            target,
            source_schema: checked.source_schema,
            target_schema: checked.target_schema,
            forward: checked.source_to_target,
            backward: checked.target_to_source,
        })
    }

    pub fn value_text(source: &FieldSource) -> (String, String) {
        match source {
            FieldSource::Column(c) => ("column".into(), c.clone()),
            FieldSource::Constant(serde_json::Value::String(s)) => ("constant".into(), s.clone()),
            FieldSource::Constant(v) => ("constant".into(), v.to_string()),
            FieldSource::Expression(e) => ("expression".into(), e.clone()),
            FieldSource::Relation(r) => ("relation".into(), format!("{} → {}", r.column, r.task)),
            FieldSource::Lookup(l) => (
                "lookup".into(),
                serde_json::to_string(l).expect("a lookup serializes"),
            ),
        }
    }

    /// Checks this task's relations against the package's other tasks (each checked against
    /// the live tables; one that no longer fits is left out): a relation names a task the
    /// package has, and the columns can hold the referenced keys. The error names the column.
    pub async fn check_relations(
        package: &catalog::package_editor::PackageDetail,
        task_id: Option<Uuid>,
        (source_conn, target_conn): (&dyn Connector, &dyn Connector),
        checked: &CheckedTask,
        (s2t, t2s): (&Mapping, &Mapping),
        locale: engine::mapping::locale::Locale,
    ) -> Result<(), AppError> {
        let relates = |m: &Mapping| {
            m.values()
                .any(|s| matches!(s, FieldSource::Relation(_) | FieldSource::Column(_)))
        };
        if !relates(s2t) && !relates(t2s) {
            return Ok(());
        }
        let mut plans = Vec::new();
        let mut names = Vec::new();
        for task in package.tasks.iter().filter(|t| Some(t.id) != task_id) {
            let Ok(other) = check_task(
                source_conn,
                target_conn,
                (&task.source_table, &task.target_table),
                (&task.source_to_target, &task.target_to_source),
                locale,
            )
            .await
            else {
                continue;
            };
            names.push(TableRef::parse(&task.source_table).unwrap_or(other.source.clone()));
            plans.push(plan(task.id, source_conn, target_conn, other));
        }
        let this = plans.len();
        names.push(checked.source.clone());
        plans.push(plan(
            task_id.unwrap_or_else(Uuid::new_v4),
            source_conn,
            target_conn,
            CheckedTask {
                source: checked.source.clone(),
                target: checked.target.clone(),
                source_schema: checked.source_schema.clone(),
                target_schema: checked.target_schema.clone(),
                forward: checked.forward.clone(),
                backward: checked.backward.clone(),
            },
        ));
        match engine::sync::link_package(&mut plans, &names) {
            Ok(_) => Ok(()),
            Err(e) if e.task == this => Err(AppError::Validation {
                field: e.direction.as_str().into(),
                message: format!("{}: {}", e.column, e.message),
            }),
            Err(e) => Err(AppError::Validation {
                field: "source_to_target".into(),
                message: e.to_string(),
            }),
        }
    }

    fn plan<'a>(
        id: Uuid,
        source: &'a dyn Connector,
        target: &'a dyn Connector,
        checked: CheckedTask,
    ) -> engine::sync::TaskPlan<'a> {
        engine::sync::TaskPlan {
            id,
            label: format!("{} → {}", checked.source, checked.target),
            source,
            target,
            source_schema: checked.source_schema,
            target_schema: checked.target_schema,
            source_to_target: checked.forward,
            target_to_source: checked.backward,
            matching: None,
        }
    }

    /// A match key side as the editor shows it: a column name or an expression's text.
    pub fn match_side_text(source: &FieldSource) -> String {
        match source {
            FieldSource::Column(c) => c.clone(),
            FieldSource::Expression(e) => e.clone(),
            other => value_text(other).1,
        }
    }

    /// The editor's match keys (parallel lists; blank rows skipped), each side a column of
    /// its table when one has that name, else an expression. None: no match keys.
    pub fn match_spec(
        sources: &[String],
        targets: &[String],
        fold: bool,
        (source, target): (&TableSchema, &TableSchema),
    ) -> Result<Option<engine::package::MatchSpec>, AppError> {
        let side = |text: &str, table: &TableSchema| {
            let text = text.trim();
            if table.column(text).is_some() {
                FieldSource::Column(text.to_owned())
            } else {
                FieldSource::Expression(text.to_owned())
            }
        };
        let mut keys = Vec::new();
        for i in 0..sources.len().max(targets.len()) {
            let s = sources.get(i).map(String::as_str).unwrap_or_default();
            let t = targets.get(i).map(String::as_str).unwrap_or_default();
            match (s.trim().is_empty(), t.trim().is_empty()) {
                (true, true) => continue,
                (false, false) => keys.push(engine::package::MatchKey {
                    source: side(s, source),
                    target: side(t, target),
                }),
                _ => {
                    return Err(AppError::Validation {
                        field: "matching".into(),
                        message: format!(
                            "match key {}: give both the source and the target column (or expression)",
                            i + 1
                        ),
                    });
                }
            }
        }
        Ok((!keys.is_empty()).then_some(engine::package::MatchSpec {
            keys,
            ignore_case_and_spaces: fold,
        }))
    }

    /// A lookup as the grid writes it: the JSON of the package file's `lookup` object.
    fn lookup(value: &str) -> Result<FieldSource, String> {
        serde_json::from_str::<engine::package::Lookup>(value)
            .map(|l| FieldSource::Lookup(Box::new(l)))
            .map_err(|e| {
                format!(
                    r#"write a lookup as {{"table": "accounts", "column": "id", "keys": {{"code": "account_code"}}, "no_match": "error" or "null"}} ({e})"#
                )
            })
    }

    /// Whether two names of a table name the same one (a name as written may leave out the
    /// schema a connector adds).
    fn same_table(a: &engine::package::TableRef, b: &engine::package::TableRef) -> bool {
        a.name == b.name && (a.schema.is_none() || b.schema.is_none() || a.schema == b.schema)
    }

    /// The tables the package's tasks sync, as (read table, written table, the task's source
    /// table as written) for one direction of the grid.
    pub type Synced = Vec<(
        engine::package::TableRef,
        engine::package::TableRef,
        engine::package::TableRef,
    )>;

    /// The relation auto-map proposes for a written column: when it and the read column of
    /// the same name are foreign keys to tables a task of the package syncs (read → written),
    /// `column → that task's source table`.
    fn proposed_relation(
        write: &TableSchema,
        read: &TableSchema,
        written: &str,
        read_column: &str,
        synced: &Synced,
    ) -> Option<String> {
        let write_ref = write.references(written)?;
        let read_ref = read.references(read_column)?;
        synced
            .iter()
            .find(|(r, w, _)| same_table(r, read_ref) && same_table(w, write_ref))
            .map(|(_, _, task)| format!("{read_column} → {task}"))
    }

    /// A relation as the grid writes it: `column → task`, the task named by its source table.
    fn relation(value: &str) -> Result<FieldSource, String> {
        let (column, task) = value
            .split_once('→')
            .or_else(|| value.split_once("->"))
            .ok_or_else(|| {
                "write a relation as “column → source table of the referenced task”, e.g. account_id → accounts"
                    .to_owned()
            })?;
        let task = engine::package::TableRef::parse(task.trim())?;
        Ok(FieldSource::Relation(engine::package::Relation {
            column: column.trim().to_owned(),
            task,
        }))
    }

    /// The grid of `write`'s columns: the saved mapping, or for a new task every column the
    /// read table has under the same name (auto-map), as a relation when both are foreign
    /// keys to tables a task of the package syncs (`synced`).
    pub fn grid(
        write: &TableSchema,
        read: &TableSchema,
        saved: Option<&Mapping>,
        synced: &Synced,
    ) -> Vec<MappingRow> {
        write
            .columns
            .iter()
            .filter(|c| c.name != write.key && c.writable)
            .map(|c| {
                let (kind, value) = match saved {
                    Some(m) => m.get(&c.name).map(value_text).unwrap_or_default(),
                    None => read
                        .columns
                        .iter()
                        .find(|r| r.name.eq_ignore_ascii_case(&c.name) && r.name != read.key)
                        .map(
                            |r| match proposed_relation(write, read, &c.name, &r.name, synced) {
                                Some(relation) => ("relation".into(), relation),
                                None => ("column".into(), r.name.clone()),
                            },
                        )
                        .unwrap_or_default(),
                };
                MappingRow {
                    column: c.name.clone(),
                    db_type: c.db_type.clone(),
                    required: !c.nullable && !c.has_default,
                    kind,
                    value,
                    references: write.references(&c.name).map(ToString::to_string),
                }
            })
            .collect()
    }

    /// A grid posted back as parallel lists, as a mapping.
    /// A grid as posted: per written column, its kind, its text value and the column
    /// picked (used for the Column kind when one is picked).
    pub fn mapping(
        field: &str,
        columns: &[String],
        kinds: &[String],
        values: &[String],
        picks: &[String],
    ) -> Result<Mapping, AppError> {
        let mut mapping = Mapping::new();
        for (i, column) in columns.iter().enumerate() {
            let kind = kinds.get(i).map(String::as_str).unwrap_or_default();
            let value = values.get(i).cloned().unwrap_or_default();
            let source = match kind {
                "" => continue,
                "column" => {
                    let picked = picks.get(i).map(|p| p.trim()).filter(|p| !p.is_empty());
                    FieldSource::Column(picked.unwrap_or(value.trim()).to_owned())
                }
                // A constant is JSON when it reads as JSON (42, true, null, "text"), else text.
                "constant" => FieldSource::Constant(
                    serde_json::from_str(&value).unwrap_or(serde_json::Value::String(value)),
                ),
                "expression" => FieldSource::Expression(value),
                "relation" => relation(&value).map_err(|message| AppError::Validation {
                    field: field.into(),
                    message: format!("{column}: {message}"),
                })?,
                "lookup" => lookup(&value).map_err(|message| AppError::Validation {
                    field: field.into(),
                    message: format!("{column}: {message}"),
                })?,
                other => {
                    return Err(AppError::Validation {
                        field: field.into(),
                        message: format!("{column}: unknown mapping kind “{other}”"),
                    });
                }
            };
            source.validate().map_err(|message| AppError::Validation {
                field: field.into(),
                message: format!("{column}: {message}"),
            })?;
            mapping.insert(column.clone(), source);
        }
        Ok(mapping)
    }

    /// The error for a task whose mapping was refused (`first`, as `check_task` gives it):
    /// every problem of both mappings at once, each for its grid.
    pub async fn every_mapping_problem(
        (source_conn, target_conn): (&dyn Connector, &dyn Connector),
        (source_table, target_table): (&str, &str),
        (s2t, t2s): (&Mapping, &Mapping),
        (field, message): (&'static str, String),
    ) -> AppError {
        let first = AppError::Validation {
            field: field.into(),
            message,
        };
        if !matches!(field, "source_to_target" | "target_to_source") {
            return first;
        }
        let (Ok(source), Ok(target)) = (
            TableRef::parse(source_table.trim()),
            TableRef::parse(target_table.trim()),
        ) else {
            return first;
        };
        match engine::sync::mapping_problems(
            source_conn,
            target_conn,
            (&source, &target),
            (s2t, t2s),
        )
        .await
        {
            Ok(problems) if !problems.is_empty() => AppError::Invalid {
                problems: problems
                    .iter()
                    .map(|p| crate::error::Problem {
                        field: p.field().to_owned(),
                        message: p.message(),
                    })
                    .collect(),
            },
            _ => first,
        }
    }

    /// The first `n` records of the read table: their keys and rows.
    async fn first_records(
        reader: &dyn Connector,
        read: &TableSchema,
        n: usize,
    ) -> Result<(Vec<engine::connectors::Key>, Vec<engine::connectors::Row>), AppError> {
        let rows = reader
            .scan(read, None, n)
            .await
            .map_err(|e| AppError::Validation {
                field: "connection".into(),
                message: format!("reading {} failed: {e}", read.table),
            })?;
        Ok(rows.into_iter().unzip())
    }

    /// How many records Validate tries each mapping on.
    const SAMPLE_ROWS: usize = 25;

    /// The mapping applied to the first records of the read table: each value that does not
    /// fit its written column (an expression giving text for a date column, …), once per
    /// column, with the record it came from.
    pub async fn sample_problems(
        reader: &dyn Connector,
        read: &TableSchema,
        mapping: &engine::mapping::CompiledMapping,
        field: &'static str,
    ) -> Result<Vec<crate::error::Problem>, AppError> {
        let (keys, rows) = first_records(reader, read, SAMPLE_ROWS).await?;
        let mut seen = std::collections::HashSet::new();
        Ok(keys
            .into_iter()
            .zip(mapping.apply_all(rows).await)
            .filter_map(|(key, written)| {
                let message = written.err()?;
                // The first record a column fails on is enough to fix it.
                let column = message.split(": ").next().unwrap_or_default().to_owned();
                seen.insert(column).then(|| crate::error::Problem {
                    field: field.to_owned(),
                    message: format!("{message} (record {} of {})", key.0, read.table),
                })
            })
            .collect())
    }

    /// The mapping applied to the first rows of the read table: what would be written.
    pub async fn preview(
        reader: &dyn Connector,
        read: &TableSchema,
        mapping: &engine::mapping::CompiledMapping,
    ) -> Result<Vec<crate::model::PreviewRow>, AppError> {
        let (keys, rows) = first_records(reader, read, 3).await?;
        let written = mapping.apply_all(rows).await;
        Ok(keys
            .into_iter()
            .zip(written)
            .map(|(key, written)| match written {
                Ok(written) => crate::model::PreviewRow {
                    key: key.0,
                    values: written
                        .iter()
                        .map(|(column, value)| {
                            let text = match value {
                                engine::value::Value::Null => "NULL".to_owned(),
                                other => other.to_invariant_text(),
                            };
                            (column.clone(), text)
                        })
                        .collect(),
                    error: None,
                },
                Err(message) => crate::model::PreviewRow {
                    key: key.0,
                    values: Vec::new(),
                    error: Some(message),
                },
            })
            .collect())
    }

    pub fn table(text: &str, field: &str) -> Result<TableRef, AppError> {
        TableRef::parse(text).map_err(|message| AppError::Validation {
            field: field.into(),
            message,
        })
    }
}

/// The package page's data: a new package (`id` None) for Developers and Admins, an
/// existing one for every member (a Viewer reads it).
#[server(endpoint = "load_package")]
pub async fn load_package(id: Option<Uuid>) -> Result<PackageEditData, AppError> {
    use super::ssr::*;
    use crate::model::{ConnectionOption, PackageDetailView, TaskView};
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        if id.is_none() {
            require_editor(&pool, user.id, workspace.id).await?;
        }
        let connections = catalog::connections::list(&pool, user.id, workspace.id)
            .await?
            .into_iter()
            .map(|c| ConnectionOption {
                id: c.id,
                name: c.name,
                kind: c.kind,
            })
            .collect();
        let package = match id {
            Some(id) => {
                let p = catalog::package_editor::get(&pool, user.id, workspace.id, id).await?;
                let label = |c: &Option<catalog::package_editor::ConnectionRef>| match c {
                    Some(c) => format!("{} ({})", c.name, crate::model::connector_label(&c.kind)),
                    None => "set in its file (sync command)".to_owned(),
                };
                Some(PackageDetailView {
                    source_label: label(&p.source),
                    target_label: label(&p.target),
                    id: p.id,
                    name: p.name,
                    locale: p.locale,
                    dedicated_account: p.dedicated_account,
                    source_connection: p.source.map(|c| c.id),
                    target_connection: p.target.map(|c| c.id),
                    has_run: p.has_run,
                    tasks: p
                        .tasks
                        .into_iter()
                        .map(|t| TaskView {
                            id: t.id,
                            source_table: t.source_table,
                            target_table: t.target_table,
                            source_to_target: t.source_to_target.len(),
                            target_to_source: t.target_to_source.len(),
                            last_sync: t.last_sync_at.map(format_time),
                            tracking_installed: t.tracking_installed,
                            full_pass_due: t.full_pass_due,
                        })
                        .collect(),
                })
            }
            None => None,
        };
        Ok(PackageEditData {
            workspace: workspace.into(),
            connections,
            package,
        })
    })
    .await
}

/// Creates or updates a package's settings, then shows its page.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "save_package")]
pub async fn save_package(
    workspace_id: Uuid,
    id: Option<Uuid>,
    name: String,
    source_connection: Option<Uuid>,
    target_connection: Option<Uuid>,
    locale: String,
    #[server(default)] dedicated_account: Option<String>,
    #[server(default)] confirm_connection_change: Option<String>,
) -> Result<Uuid, AppError> {
    use super::ssr::*;
    use catalog::package_editor::{PackageForm, save};
    respond(async move {
        let user = require_user().await?;
        let form = PackageForm {
            name,
            source_connection,
            target_connection,
            locale,
            dedicated_account: dedicated_account.is_some_and(|v| !v.is_empty()),
        };
        let confirmed = confirm_connection_change.is_some_and(|v| !v.is_empty());
        let created = id.is_none();
        let id = save(&pool()?, user.id, workspace_id, id, &form, confirmed).await?;
        // A new package opens its page; an edited one stays where it is ("Saved").
        if created {
            leptos_axum::redirect(&format!("/packages/{id}"));
        }
        Ok(id)
    })
    .await
}

/// The task editor: the tables of both sides and, once both are chosen, their grids.
#[cfg(feature = "ssr")]
use crate::state::AppState;

#[server(endpoint = "load_task")]
pub async fn load_task(
    package_id: Uuid,
    task_id: Option<Uuid>,
    source_table: Option<String>,
    target_table: Option<String>,
) -> Result<TaskEditData, AppError> {
    use super::ssr::*;
    use ssr_only::*;
    // Contexts are read before the first await: a resource rendered on the server may resume
    // on another thread, where they are not set.
    let state = state();
    respond(async move {
        let AppState { pool, secrets, .. } = state?;
        let user = require_user().await?;
        let workspace = current_workspace(&pool, user.id).await?;
        // A Viewer reads a saved task (read-only); adding one needs Developer.
        if task_id.is_none() {
            require_editor(&pool, user.id, workspace.id).await?;
        }
        let package =
            catalog::package_editor::get(&pool, user.id, workspace.id, package_id).await?;
        let (Some(source), Some(target)) = (package.source.clone(), package.target.clone()) else {
            return Err(AppError::Validation {
                field: "connection".into(),
                message: "choose the package's source and target connections first".into(),
            });
        };
        let saved = match task_id {
            Some(id) => Some(
                package
                    .tasks
                    .iter()
                    .find(|t| t.id == id)
                    .cloned()
                    .ok_or(AppError::NotFound)?,
            ),
            None => None,
        };
        let source_conn = connect(&pool, &secrets, workspace.id, source.id, "source").await?;
        let target_conn = connect(&pool, &secrets, workspace.id, target.id, "target").await?;
        let listing =
            |r: Result<Vec<engine::package::TableRef>, engine::connectors::ConnectorError>| {
                r.map(|tables| tables.iter().map(ToString::to_string).collect::<Vec<_>>())
                    .map_err(|e| AppError::Validation {
                        field: "connection".into(),
                        message: format!("listing tables failed: {e}"),
                    })
            };
        let source_tables = listing(source_conn.list_tables().await)?;
        let target_tables = listing(target_conn.list_tables().await)?;
        let source_table = saved
            .as_ref()
            .map(|t| t.source_table.clone())
            .or(source_table)
            .unwrap_or_default();
        let target_table = saved
            .as_ref()
            .map(|t| t.target_table.clone())
            .or(target_table)
            .unwrap_or_default();
        let mut data = TaskEditData {
            workspace_id: workspace.id,
            can_edit: workspace.role.can_edit(),
            package_id,
            package_name: package.name.clone(),
            task_id,
            source_name: source.name.clone(),
            target_name: target.name.clone(),
            source_tables,
            target_tables,
            source_table: source_table.clone(),
            target_table: target_table.clone(),
            problem: None,
            source_columns: Vec::new(),
            target_columns: Vec::new(),
            functions: engine::mapping::expression::reference::FUNCTIONS
                .iter()
                .map(|f| (f.signature.to_owned(), f.summary.to_owned()))
                .collect(),
            source_to_target: Vec::new(),
            target_to_source: Vec::new(),
            match_keys: saved
                .as_ref()
                .and_then(|t| t.matching.as_ref())
                .map(|m| {
                    m.keys
                        .iter()
                        .map(|k| (match_side_text(&k.source), match_side_text(&k.target)))
                        .collect()
                })
                .unwrap_or_default(),
            match_fold: saved
                .as_ref()
                .and_then(|t| t.matching.as_ref())
                .is_some_and(|m| m.ignore_case_and_spaces),
        };
        if source_table.is_empty() || target_table.is_empty() {
            return Ok(data);
        }
        let described = async {
            let s = source_conn
                .describe(&table(&source_table, "source_table")?)
                .await
                .map_err(|e| format!("source {source_table}: {e}"));
            let t = target_conn
                .describe(&table(&target_table, "target_table")?)
                .await
                .map_err(|e| format!("target {target_table}: {e}"));
            Ok::<_, AppError>((s, t))
        }
        .await?;
        match described {
            (Ok(s), Ok(t)) => {
                let choices = |schema: &engine::connectors::TableSchema| {
                    schema
                        .columns
                        .iter()
                        .map(|c| (c.name.clone(), c.db_type.clone()))
                        .collect()
                };
                data.source_columns = choices(&s);
                data.target_columns = choices(&t);
                // The package's tasks (this one included: a table may reference itself).
                use engine::package::TableRef;
                let mut tasks: Vec<(TableRef, TableRef)> = package
                    .tasks
                    .iter()
                    .filter(|t| Some(t.id) != task_id)
                    .filter_map(|t| {
                        Some((
                            TableRef::parse(&t.source_table).ok()?,
                            TableRef::parse(&t.target_table).ok()?,
                        ))
                    })
                    .collect();
                tasks.push((s.table.clone(), t.table.clone()));
                let forward: Synced = tasks
                    .iter()
                    .map(|(a, b)| (a.clone(), b.clone(), a.clone()))
                    .collect();
                let backward: Synced = tasks
                    .iter()
                    .map(|(a, b)| (b.clone(), a.clone(), a.clone()))
                    .collect();
                data.source_to_target = grid(
                    &t,
                    &s,
                    saved.as_ref().map(|x| &x.source_to_target),
                    &forward,
                );
                data.target_to_source = grid(
                    &s,
                    &t,
                    saved.as_ref().map(|x| &x.target_to_source),
                    &backward,
                );
            }
            (Err(problem), _) | (_, Err(problem)) => data.problem = Some(problem),
        }
        Ok(data)
    })
    .await
}

/// Saves a task after the engine checked its tables and both mappings.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "save_task")]
pub async fn save_task(
    workspace_id: Uuid,
    package_id: Uuid,
    task_id: Option<Uuid>,
    source_table: String,
    target_table: String,
    #[server(default)] s2t_column: Vec<String>,
    #[server(default)] s2t_kind: Vec<String>,
    #[server(default)] s2t_value: Vec<String>,
    #[server(default)] s2t_pick: Vec<String>,
    #[server(default)] t2s_column: Vec<String>,
    #[server(default)] t2s_kind: Vec<String>,
    #[server(default)] t2s_value: Vec<String>,
    #[server(default)] t2s_pick: Vec<String>,
    #[server(default)] match_source: Vec<String>,
    #[server(default)] match_target: Vec<String>,
    #[server(default)] match_fold: Option<String>,
    #[server(default)] intent: String,
) -> Result<Option<TaskPreview>, AppError> {
    use super::ssr::*;
    use catalog::package_editor::{self, TaskForm};
    use engine::mapping::locale::Locale;
    use ssr_only::*;
    let state = state();
    respond(async move {
        let AppState { pool, secrets, .. } = state?;
        let user = require_user().await?;
        require_editor(&pool, user.id, workspace_id).await?;
        let package = package_editor::get(&pool, user.id, workspace_id, package_id).await?;
        let (Some(source), Some(target)) = (package.source.clone(), package.target.clone()) else {
            return Err(AppError::Validation {
                field: "connection".into(),
                message: "choose the package's source and target connections first".into(),
            });
        };
        let s2t = mapping("source_to_target", &s2t_column, &s2t_kind, &s2t_value, &s2t_pick)?;
        let t2s = mapping("target_to_source", &t2s_column, &t2s_kind, &t2s_value, &t2s_pick)?;
        let source_conn = connect(&pool, &secrets, workspace_id, source.id, "source").await?;
        let target_conn = connect(&pool, &secrets, workspace_id, target.id, "target").await?;
        let locale = Locale::parse(&package.locale).unwrap_or_default();
        let checked = match check_task(
            source_conn.as_ref(),
            target_conn.as_ref(),
            (&source_table, &target_table),
            (&s2t, &t2s),
            locale,
        )
        .await
        {
            Ok(checked) => checked,
            Err(first) => {
                return Err(every_mapping_problem(
                    (source_conn.as_ref(), target_conn.as_ref()),
                    (&source_table, &target_table),
                    (&s2t, &t2s),
                    first,
                )
                .await);
            }
        };
        check_relations(
            &package,
            task_id,
            (source_conn.as_ref(), target_conn.as_ref()),
            &checked,
            (&s2t, &t2s),
            locale,
        )
        .await?;
        let matching = match_spec(
            &match_source,
            &match_target,
            match_fold.is_some_and(|v| !v.is_empty()),
            (&checked.source_schema, &checked.target_schema),
        )?;
        let compiled_matching = matching
            .as_ref()
            .map(|spec| {
                engine::sync::Matching::compile(
                    spec,
                    &checked.source_schema,
                    &checked.target_schema,
                )
                .map_err(|e| AppError::Validation {
                    field: "matching".into(),
                    message: e.to_string(),
                })
            })
            .transpose()?;
        if intent == "validate" {
            // Each value must fit its written column: the mappings are applied to the first
            // records of both tables (nothing is written).
            let mut problems = sample_problems(
                source_conn.as_ref(),
                &checked.source_schema,
                &checked.forward,
                "source_to_target",
            )
            .await?;
            problems.extend(
                sample_problems(
                    target_conn.as_ref(),
                    &checked.target_schema,
                    &checked.backward,
                    "target_to_source",
                )
                .await?,
            );
            if !problems.is_empty() {
                return Err(AppError::Invalid { problems });
            }
            return Ok(Some(TaskPreview {
                only_checked: true,
                source_to_target: Vec::new(),
                target_to_source: Vec::new(),
                matching: None,
            }));
        }
        if intent == "match_preview" {
            let Some(compiled) = compiled_matching else {
                return Err(AppError::Validation {
                    field: "matching".into(),
                    message: "name at least one match key (a source and a target column) to preview matching".into(),
                });
            };
            let plan = engine::sync::TaskPlan {
                // A new task has no pairs yet: an id no task has.
                id: task_id.unwrap_or_else(Uuid::new_v4),
                label: format!("{source_table} → {target_table}"),
                source: source_conn.as_ref(),
                target: target_conn.as_ref(),
                source_schema: checked.source_schema.clone(),
                target_schema: checked.target_schema.clone(),
                source_to_target: checked.forward.clone(),
                target_to_source: checked.backward.clone(),
                matching: None,
            };
            let state = catalog::sync_state::PgStateStore::new(pool.clone());
            let report = engine::sync::find_matches(&plan, &compiled, &state, 1000)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "matching preview failed");
                    AppError::Validation {
                        field: "matching".into(),
                        message: format!("reading the tables failed: {e}"),
                    }
                })?;
            return Ok(Some(TaskPreview {
                only_checked: true,
                source_to_target: Vec::new(),
                target_to_source: Vec::new(),
                matching: Some(crate::model::MatchPreview {
                    paired: report.paired.len() as u64,
                    new_on_source: report.new_on_source,
                    new_on_target: report.new_on_target,
                    pair_examples: report
                        .paired
                        .iter()
                        .take(10)
                        .map(|(s, t)| (s.0.clone(), t.0.clone()))
                        .collect(),
                    ambiguous: report.ambiguous.len() as u64,
                    ambiguous_examples: report
                        .ambiguous
                        .iter()
                        .take(10)
                        .map(|a| a.message())
                        .collect(),
                }),
            }));
        }
        if intent == "preview" {
            return Ok(Some(TaskPreview {
                only_checked: false,
                source_to_target: preview(
                    source_conn.as_ref(),
                    &checked.source_schema,
                    &checked.forward,
                )
                .await?,
                target_to_source: preview(
                    target_conn.as_ref(),
                    &checked.target_schema,
                    &checked.backward,
                )
                .await?,
                matching: None,
            }));
        }
        let (source_ref, target_ref) = (checked.source, checked.target);
        let id = package_editor::save_task(
            &pool,
            user.id,
            workspace_id,
            package_id,
            task_id,
            &TaskForm {
                source_table: source_ref.to_string(),
                target_table: target_ref.to_string(),
                source_to_target: s2t,
                target_to_source: t2s,
                matching,
            },
        )
        .await?;
        tracing::info!(task = %id, "task saved");
        leptos_axum::redirect(&format!("/packages/{package_id}"));
        Ok(None)
    })
    .await
}

/// Resets a package parameter — `last_sync_time` or `tracking` — for every task, or only for
/// `task_id` (a LastSyncTime reset of one task is "Resync task"). Nothing is deleted or
/// duplicated: the next run compares everything.
#[server(endpoint = "reset_parameter")]
pub async fn reset_parameter(
    workspace_id: Uuid,
    package_id: Uuid,
    parameter: String,
    task_id: Option<Uuid>,
) -> Result<(), AppError> {
    use super::ssr::*;
    use catalog::parameters::{Reset, reset};
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let what = match parameter.as_str() {
            "last_sync_time" => Reset::LastSyncTime,
            "tracking" => Reset::TrackingObjects,
            _ => {
                return Err(AppError::Validation {
                    field: "parameter".into(),
                    message: "choose LastSyncTime or InitTrackingObjects".into(),
                });
            }
        };
        require_editor(&pool, user.id, workspace_id).await?;
        let tasks = task_id.map(|t| vec![t]);
        reset(&pool, workspace_id, package_id, tasks.as_deref(), what).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "delete_task")]
pub async fn delete_task(
    workspace_id: Uuid,
    package_id: Uuid,
    task_id: Uuid,
) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::package_editor::delete_task(&pool()?, user.id, workspace_id, package_id, task_id)
            .await?;
        Ok(())
    })
    .await
}
