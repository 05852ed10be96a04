//! Relations between the tasks of a package: which mapped columns hold keys of another
//! task's records, checked against the live tables, and the order the tasks run in.
//!
//! A relation field's value is a key of the referenced task's table on the side it is read
//! from; it is written as that record's counterpart on the other side, found in the
//! referenced task's ID map (`Compiled::Relation`, `mapping/relation.rs`). A plain column
//! mapping between two foreign-key columns whose referenced tables are synced by a task of
//! the package is the same relation: a key is never copied verbatim to the other side.
//!
//! **Order.** Tasks run parents first: a task runs after every task it references, in both
//! directions (the references of the two directions are merged), after every task whose
//! table a foreign key of its written tables points at (a relation or not), and after every
//! task that writes a table its lookups search. Tasks that reference each
//! other (a cycle, or a table referencing itself) run in package order; a reference that may
//! point at a record not yet written (to its own task or to a task later in the order) is
//! *deferrable* when its written column is nullable: the record is written without it and
//! the reference is set once the referenced record has its copy, in the same run.

use std::collections::{BTreeSet, HashMap};

use uuid::Uuid;

use crate::connectors::TableSchema;
use crate::mapping::relation::{Link, key_compatible};
use crate::package::{Direction, TableRef};

use super::TaskPlan;

/// Why the relations of a package cannot be used, with the place (task, direction, column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tasks[{task}] ({label}): {}.{column}: {message}", direction.as_str())]
pub struct RelationError {
    /// The task's index in the package.
    pub task: usize,
    pub label: String,
    pub direction: Direction,
    pub column: String,
    pub message: String,
}

/// The order tasks run in (indexes into the package's tasks), parents first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOrder(pub Vec<usize>);

impl RunOrder {
    /// Package order (no relations).
    pub fn in_package_order(tasks: usize) -> Self {
        RunOrder((0..tasks).collect())
    }
}

/// Resolves every relation of `plans` (explicit, and plain column mappings between two
/// foreign keys whose referenced tables another task syncs), checks the key types, links
/// each relation field to its task's ID map, and orders the tasks parents first.
/// `names[i]` is task `i`'s source table as written in the package.
pub fn link_package(
    plans: &mut [TaskPlan<'_>],
    names: &[TableRef],
) -> Result<RunOrder, RelationError> {
    let tables: Vec<Tables> = plans.iter().map(Tables::of).collect();
    // child → parents, over both directions.
    let mut parents: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); plans.len()];
    let mut pending_links: Vec<[HashMap<String, (usize, bool)>; 2]> = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        let mut per_direction: [HashMap<String, (usize, bool)>; 2] = Default::default();
        for (d, direction) in [Direction::SourceToTarget, Direction::TargetToSource]
            .into_iter()
            .enumerate()
        {
            let (mapping, read, write) = match direction {
                Direction::SourceToTarget => (
                    &plan.source_to_target,
                    &plan.source_schema,
                    &plan.target_schema,
                ),
                Direction::TargetToSource => (
                    &plan.target_to_source,
                    &plan.target_schema,
                    &plan.source_schema,
                ),
            };
            let fail = |column: &str, message: String| RelationError {
                task: i,
                label: plan.label.clone(),
                direction,
                column: column.to_owned(),
                message,
            };
            for field in mapping.key_fields() {
                let parent = match field.task {
                    // Named in the file: the task whose source table it names.
                    Some(named) => {
                        find_task(names, &tables, named).map_err(|m| fail(field.written, m))?
                    }
                    // A plain column between two foreign keys.
                    None => {
                        let (Some(read_fk), Some(write_fk)) = (
                            read.foreign_key(field.read),
                            write.foreign_key(field.written),
                        ) else {
                            continue;
                        };
                        // Both must reference the referenced tables' keys.
                        let to_key = |fk: &crate::connectors::ForeignKey, table: &TableSchema| {
                            fk.referenced_column
                                .as_ref()
                                .is_none_or(|c| *c == table.key)
                        };
                        match tables.iter().position(|t| {
                            t.read(direction) == &read_fk.references
                                && t.write(direction) == &write_fk.references
                                && to_key(read_fk, t.read_schema(direction))
                                && to_key(write_fk, t.write_schema(direction))
                        }) {
                            Some(j) => j,
                            // The referenced tables are not synced by this package: the
                            // column is copied as it is (it may point at shared reference
                            // data with equal keys on both sides).
                            None => continue,
                        }
                    }
                };
                let parent_tables = &tables[parent];
                let read_column = read.column(field.read).ok_or_else(|| {
                    fail(
                        field.written,
                        format!("{} has no column “{}”", read.table, field.read),
                    )
                })?;
                let written_column = write
                    .column(field.written)
                    .expect("the mapping was compiled against this table");
                let parent_read = parent_tables.read_schema(direction);
                let parent_write = parent_tables.write_schema(direction);
                for (column, table, parent_table) in [
                    (read_column, &read.table, parent_read),
                    (written_column, &write.table, parent_write),
                ] {
                    let key = parent_table
                        .column(&parent_table.key)
                        .expect("a described table has its key column");
                    if !key_compatible(&column.ty, &key.ty) {
                        return Err(fail(
                            field.written,
                            format!(
                                "{table}.{} is {}; a relation needs a column that holds keys of {} ({} {})",
                                column.name,
                                column.db_type,
                                parent_table.table,
                                key.name,
                                key.db_type
                            ),
                        ));
                    }
                }
                if parent == i && !written_column.nullable {
                    return Err(fail(
                        field.written,
                        format!(
                            "{}.{} references its own table and is NOT NULL: the first record could never be written. \
                             Make the column nullable, or leave it unmapped",
                            write.table, field.written
                        ),
                    ));
                }
                if parent != i {
                    parents[i].insert(parent);
                }
                per_direction[d]
                    .insert(field.written.to_owned(), (parent, written_column.nullable));
            }
        }
        // Any foreign key of a written table to a table another task writes orders the two,
        // relation or not (a reference to a unique code is copied, but its row must exist),
        // and so does a lookup in a table another task writes (its rows are there first).
        for direction in [Direction::SourceToTarget, Direction::TargetToSource] {
            let write = tables[i].write_schema(direction);
            let mapping = match direction {
                Direction::SourceToTarget => &plan.source_to_target,
                Direction::TargetToSource => &plan.target_to_source,
            };
            let searched = write
                .foreign_keys
                .iter()
                .map(|fk| &fk.references)
                .chain(mapping.lookups().map(|(_, lookup)| &lookup.table.table));
            for table in searched {
                if let Some(j) = tables.iter().position(|t| t.write(direction) == table)
                    && j != i
                {
                    parents[i].insert(j);
                }
            }
        }
        pending_links.push(per_direction);
    }
    let order = parents_first(&parents);
    let position: HashMap<usize, usize> = order.iter().enumerate().map(|(p, t)| (*t, p)).collect();
    let ids: Vec<Uuid> = plans.iter().map(|p| p.id).collect();
    for (i, plan) in plans.iter_mut().enumerate() {
        for (d, direction) in [Direction::SourceToTarget, Direction::TargetToSource]
            .into_iter()
            .enumerate()
        {
            let links: HashMap<String, Link> = pending_links[i][d]
                .iter()
                .map(|(written, &(parent, nullable))| {
                    // Not yet written when this task runs: itself, or later in the order.
                    let later = position[&parent] >= position[&i];
                    let parent_tables = &tables[parent];
                    (
                        written.clone(),
                        Link {
                            task: ids[parent],
                            label: parent_tables.label.clone(),
                            parent_read: parent_tables.read_schema(direction).clone(),
                            deferrable: later && nullable,
                        },
                    )
                })
                .collect();
            let mapping = match direction {
                Direction::SourceToTarget => &mut plan.source_to_target,
                Direction::TargetToSource => &mut plan.target_to_source,
            };
            *mapping = mapping.linked(&links);
        }
    }
    // A cycle whose references are all NOT NULL: none of its records could be written first.
    for (i, links) in pending_links.iter().enumerate() {
        for (d, direction) in [Direction::SourceToTarget, Direction::TargetToSource]
            .into_iter()
            .enumerate()
        {
            for (written, &(parent, nullable)) in &links[d] {
                if parent != i && position[&parent] > position[&i] && !nullable {
                    return Err(RelationError {
                        task: i,
                        label: plans[i].label.clone(),
                        direction,
                        column: written.clone(),
                        message: format!(
                            "{} and {} reference each other and this reference is NOT NULL: a record could be written only after \
                             a record that needs it. Make one of the references nullable",
                            plans[i].label, plans[parent].label
                        ),
                    });
                }
            }
        }
    }
    Ok(RunOrder(order))
}

/// The four tables of a task, by role in a direction.
struct Tables {
    label: String,
    source: TableSchema,
    target: TableSchema,
}

impl Tables {
    fn of(plan: &TaskPlan<'_>) -> Tables {
        Tables {
            label: plan.label.clone(),
            source: plan.source_schema.clone(),
            target: plan.target_schema.clone(),
        }
    }
    fn read_schema(&self, direction: Direction) -> &TableSchema {
        match direction {
            Direction::SourceToTarget => &self.source,
            Direction::TargetToSource => &self.target,
        }
    }
    fn write_schema(&self, direction: Direction) -> &TableSchema {
        match direction {
            Direction::SourceToTarget => &self.target,
            Direction::TargetToSource => &self.source,
        }
    }
    fn read(&self, direction: Direction) -> &TableRef {
        &self.read_schema(direction).table
    }
    fn write(&self, direction: Direction) -> &TableRef {
        &self.write_schema(direction).table
    }
}

/// The task a relation names by its source table: as written in the package, or as the
/// source connector qualified it.
fn find_task(names: &[TableRef], tables: &[Tables], named: &TableRef) -> Result<usize, String> {
    let matches: Vec<usize> = (0..tables.len())
        .filter(|&j| names.get(j) == Some(named) || &tables[j].source.table == named)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "no task of this package reads “{named}”; a relation names the source table of the task that syncs the \
             referenced records (the tasks read: {})",
            names
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => Err(format!(
            "more than one task reads “{named}”; a relation cannot tell which one syncs the referenced records"
        )),
    }
}

/// Tasks ordered so that each comes after the tasks it references; tasks in a cycle keep
/// their package order.
fn parents_first(parents: &[BTreeSet<usize>]) -> Vec<usize> {
    let mut order = Vec::with_capacity(parents.len());
    let mut placed = vec![false; parents.len()];
    while order.len() < parents.len() {
        // The first task (in package order) whose parents are all placed; in a cycle none
        // is, and the first unplaced task goes next.
        let next = (0..parents.len())
            .find(|&i| !placed[i] && parents[i].iter().all(|&p| placed[p]))
            .or_else(|| (0..parents.len()).find(|&i| !placed[i]))
            .expect("an unplaced task remains");
        placed[next] = true;
        order.push(next);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::parents_first;
    use std::collections::BTreeSet;

    fn set(items: &[usize]) -> BTreeSet<usize> {
        items.iter().copied().collect()
    }

    #[test]
    fn parents_come_first_and_cycles_keep_package_order() {
        // 0: contacts → accounts (1); 1: accounts; 2: notes → contacts (0).
        assert_eq!(
            parents_first(&[set(&[1]), set(&[]), set(&[0])]),
            vec![1, 0, 2]
        );
        // A diamond: 3 → 1, 2; 1 → 0; 2 → 0.
        assert_eq!(
            parents_first(&[set(&[]), set(&[0]), set(&[0]), set(&[1, 2])]),
            vec![0, 1, 2, 3]
        );
        // 0 ↔ 1 (a cycle), 2 → 1: the cycle in package order, then its child.
        assert_eq!(
            parents_first(&[set(&[1]), set(&[0]), set(&[1])]),
            vec![0, 1, 2]
        );
    }
}
