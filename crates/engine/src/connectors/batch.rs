//! What the databases' fast write paths share: sorting a batch by kind of operation, the
//! column set all rows write, and when to fall back to record-by-record writing.

use super::{Key, Row, TableSchema, WriteOp};

/// Why the fast path gave up.
pub enum BulkError {
    /// A record failed, or the batch does not fit the fast path: redo it record by record.
    Fallback,
    Fatal(sqlx::Error),
}

impl From<sqlx::Error> for BulkError {
    fn from(e: sqlx::Error) -> Self {
        if super::sql_error::record_failure(&e).is_some() {
            BulkError::Fallback
        } else {
            BulkError::Fatal(e)
        }
    }
}

/// A batch sorted by kind, each op with its position in the batch.
#[derive(Default)]
pub struct Split<'a> {
    pub inserts: Vec<(usize, &'a Key, &'a Row)>,
    pub updates: Vec<(usize, &'a Key, &'a Row)>,
    pub deletes: Vec<(usize, &'a Key)>,
}

pub fn split(ops: &[WriteOp]) -> Split<'_> {
    let mut split = Split::default();
    for (i, op) in ops.iter().enumerate() {
        match op {
            WriteOp::Insert { origin, row } => split.inserts.push((i, origin, row)),
            WriteOp::Update { key, row } => split.updates.push((i, key, row)),
            WriteOp::Delete { key } => split.deletes.push((i, key)),
        }
    }
    split
}

/// The columns every row writes, when all rows write the same ones (one mapping wrote them
/// all, so they do; otherwise the fast path does not apply).
pub fn common_columns<'a>(
    schema: &TableSchema,
    rows: impl Iterator<Item = &'a Row>,
) -> Option<Vec<String>> {
    let mut columns: Option<Vec<String>> = None;
    for row in rows {
        let these: Vec<String> = row
            .keys()
            .filter(|c| schema.column(c).is_some() && **c != schema.key)
            .cloned()
            .collect();
        match &columns {
            None => columns = Some(these),
            Some(first) if *first != these => return None,
            _ => {}
        }
    }
    columns
}
