//! Records left for later in a run: a child whose parent has no copy on the written side
//! yet, a record written without a reference to a record not yet written, and a delete the
//! written side refused while records of other tasks still referenced the deleted record.
//!
//! A pending record keeps its change-log entries (they are consumed only once it is
//! written), or, found by a full pass that has none, is put back into its change log at
//! once; so a record still pending when the run ends (or when the process dies) is tried
//! again by the next run. Within the run, pending records are tried again after every task
//! has run (`package_run::settle`), when their parents may have been written meanwhile.

use crate::connectors::Key;
use crate::package::TableRef;

/// Why a record is pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// Not written: the record it references has no copy on the written side.
    Waiting(Reference),
    /// Written without this reference, to be set once the referenced record has a copy.
    Reference(Reference),
    /// A delete the written side refused (`message`), tried again after the other tasks.
    Delete { message: String },
}

/// The record a pending record references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The written column.
    pub column: String,
    /// The referenced task's label and its table on the read side.
    pub task: String,
    pub table: TableRef,
    /// The referenced record's key on the read side.
    pub key: Key,
}

/// A pending record and the change-log entries it holds.
#[derive(Debug, Clone)]
pub struct PendingEntry {
    pub why: Pending,
    pub seqs: Vec<i64>,
}

impl Pending {
    /// The operation named in the run's errors.
    pub fn operation(&self) -> &'static str {
        match self {
            Pending::Waiting(_) => "wait",
            Pending::Reference(_) => "reference",
            Pending::Delete { .. } => "delete",
        }
    }

    /// What the run details say about a record still pending when the run ends.
    pub fn message(&self, write_side: &str) -> String {
        match self {
            Pending::Waiting(r) => format!(
                "waits for {} record {} (task {}), which has no copy in the {write_side} yet; \
                 it is written as soon as that record is",
                r.table, r.key, r.task
            ),
            Pending::Reference(r) => format!(
                "written without {}: it references {} record {} (task {}), which has no copy in the {write_side} yet; \
                 the reference is set as soon as that record is written",
                r.column, r.table, r.key, r.task
            ),
            Pending::Delete { message } => message.clone(),
        }
    }
}
