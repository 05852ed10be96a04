//! A task checked against the live tables before anything is written: both tables described
//! by their connectors (the requirements each connector enforces: a generated key, created
//! and modified stamps, …) and both mappings compiled against the two schemas. The task
//! editor (Check tables, Validate, Save), package import and every run use this one check.

use std::collections::HashMap;

use crate::connectors::{Connector, ConnectorError, TableSchema};
use crate::mapping::locale::Locale;
use crate::mapping::{CompiledMapping, MappingError};
use crate::package::{Direction, FieldSource, Mapping, TableRef};

use super::Side;

/// Both schemas and both compiled mappings of a task.
pub struct CheckedTask {
    pub source_schema: TableSchema,
    pub target_schema: TableSchema,
    pub source_to_target: CompiledMapping,
    pub target_to_source: CompiledMapping,
}

/// Why a task cannot run as it stands.
#[derive(Debug, thiserror::Error)]
pub enum TaskCheckError {
    /// A table could not be described: missing, unfit for sync (a requirement), or its side
    /// could not be reached.
    #[error("{}: {source}", side.as_str())]
    Table {
        side: Side,
        #[source]
        source: ConnectorError,
    },
    /// A mapping does not fit the tables.
    #[error("{}.{source}", direction.as_str())]
    Mapping {
        direction: Direction,
        #[source]
        source: MappingError,
    },
}

impl TaskCheckError {
    /// The task editor's field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            TaskCheckError::Table {
                side: Side::Source, ..
            } => "source_table",
            TaskCheckError::Table {
                side: Side::Target, ..
            } => "target_table",
            TaskCheckError::Mapping { direction, .. } => direction.as_str(),
        }
    }

    /// The problem without the field's name (the editor shows it beside the field).
    pub fn message(&self) -> String {
        match self {
            TaskCheckError::Table { source, .. } => source.to_string(),
            TaskCheckError::Mapping { source, .. } => source.to_string(),
        }
    }
}

/// Describes both tables and compiles both mappings of one task.
pub async fn check_task(
    source: &dyn Connector,
    target: &dyn Connector,
    (source_table, target_table): (&TableRef, &TableRef),
    (source_to_target, target_to_source): (&Mapping, &Mapping),
    locale: Locale,
) -> Result<CheckedTask, TaskCheckError> {
    let source_schema = source
        .describe(source_table)
        .await
        .map_err(|e| TaskCheckError::Table {
            side: Side::Source,
            source: e,
        })?;
    let target_schema = target
        .describe(target_table)
        .await
        .map_err(|e| TaskCheckError::Table {
            side: Side::Target,
            source: e,
        })?;
    let forward_lookups = describe_lookups(
        target,
        Side::Target,
        Direction::SourceToTarget,
        source_to_target,
    )
    .await?;
    let backward_lookups = describe_lookups(
        source,
        Side::Source,
        Direction::TargetToSource,
        target_to_source,
    )
    .await?;
    let compile = |direction, mapping, read, write, lookups| {
        CompiledMapping::compile_with_lookups(mapping, read, write, lookups, locale).map_err(|e| {
            TaskCheckError::Mapping {
                direction,
                source: e,
            }
        })
    };
    let forward = compile(
        Direction::SourceToTarget,
        source_to_target,
        &source_schema,
        &target_schema,
        &forward_lookups,
    )?;
    let backward = compile(
        Direction::TargetToSource,
        target_to_source,
        &target_schema,
        &source_schema,
        &backward_lookups,
    )?;
    Ok(CheckedTask {
        source_schema,
        target_schema,
        source_to_target: forward,
        target_to_source: backward,
    })
}

/// Every mapping problem of a task at once, both directions (the editor's Validate lists
/// them all; [`check_task`] stops at the first). A table that cannot be described is still
/// the one error returned.
pub async fn mapping_problems(
    source: &dyn Connector,
    target: &dyn Connector,
    (source_table, target_table): (&TableRef, &TableRef),
    (source_to_target, target_to_source): (&Mapping, &Mapping),
) -> Result<Vec<TaskCheckError>, TaskCheckError> {
    let table_error = |side| move |source| TaskCheckError::Table { side, source };
    let source_schema = source
        .describe(source_table)
        .await
        .map_err(table_error(Side::Source))?;
    let target_schema = target
        .describe(target_table)
        .await
        .map_err(table_error(Side::Target))?;
    let mut problems = Vec::new();
    let directions = [
        (
            Direction::SourceToTarget,
            source_to_target,
            &source_schema,
            &target_schema,
            target,
            Side::Target,
        ),
        (
            Direction::TargetToSource,
            target_to_source,
            &target_schema,
            &source_schema,
            source,
            Side::Source,
        ),
    ];
    for (direction, mapping, read, write, writer, side) in directions {
        // A lookup table that is missing is one problem; the rest of the mapping is still
        // checked (that lookup's column is not reported twice).
        let (lookups, lookup_problem) =
            match describe_lookups(writer, side, direction, mapping).await {
                Ok(lookups) => (lookups, None),
                Err(e @ TaskCheckError::Mapping { .. }) => (HashMap::new(), Some(e)),
                Err(e) => return Err(e),
            };
        let skipped = match &lookup_problem {
            Some(TaskCheckError::Mapping { source, .. }) => Some(source.column.clone()),
            _ => None,
        };
        problems.extend(lookup_problem);
        problems.extend(
            CompiledMapping::problems(mapping, read, write, &lookups)
                .into_iter()
                .filter(|p| {
                    skipped.as_deref() != Some(p.column.as_str())
                        || !p.message.starts_with("lookup:")
                })
                .map(|source| TaskCheckError::Mapping { direction, source }),
        );
    }
    Ok(problems)
}

/// Describes the tables `mapping`'s lookups search, through the connector of the side it
/// writes (`side`). A table that is not there is the mapping's fault, named by its column.
async fn describe_lookups(
    writer: &dyn Connector,
    side: Side,
    direction: Direction,
    mapping: &Mapping,
) -> Result<HashMap<TableRef, TableSchema>, TaskCheckError> {
    let mut tables = HashMap::new();
    for table in CompiledMapping::lookup_tables(mapping) {
        match writer.describe_for_lookup(&table).await {
            Ok(schema) => {
                tables.insert(table, schema);
            }
            Err(ConnectorError::Requirement(message)) => {
                let column = mapping
                    .iter()
                    .find(
                        |(_, source)| matches!(source, FieldSource::Lookup(l) if l.table == table),
                    )
                    .map(|(column, _)| column.clone())
                    .unwrap_or_default();
                return Err(TaskCheckError::Mapping {
                    direction,
                    source: MappingError {
                        column,
                        message: format!("lookup: {message}"),
                    },
                });
            }
            Err(e) => return Err(TaskCheckError::Table { side, source: e }),
        }
    }
    Ok(tables)
}
