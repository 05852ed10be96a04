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
    mut rows: impl Iterator<Item = &'a Row>,
) -> Option<Vec<String>> {
    let first = rows.next()?;
    let written = |row: &'a Row| {
        row.keys()
            .filter(|c| schema.column(c).is_some() && **c != schema.key)
    };
    let columns: Vec<String> = written(first).cloned().collect();
    for row in rows {
        // A row with the first row's columns (the usual case) has its written columns too.
        let same = row.len() == first.len() && row.keys().eq(first.keys())
            || written(row).eq(columns.iter());
        if !same {
            return None;
        }
    }
    Some(columns)
}

#[cfg(test)]
mod tests {
    use super::common_columns;
    use crate::connectors::{ColumnInfo, KeyGeneration, Row, TableSchema};
    use crate::package::TableRef;
    use crate::value::{ColumnType, Value};

    fn schema() -> TableSchema {
        TableSchema {
            table: TableRef::parse("t").unwrap(),
            columns: ["id", "a", "b"]
                .into_iter()
                .map(|name| ColumnInfo {
                    name: name.into(),
                    ty: ColumnType::Text { max_chars: None },
                    nullable: true,
                    has_default: false,
                    db_type: "text".into(),
                    writable: true,
                })
                .collect(),
            key: "id".into(),
            key_generation: KeyGeneration::Identity,
            log_name: String::new(),
            foreign_keys: Vec::new(),
        }
    }

    fn row(names: &[&str]) -> Row {
        names
            .iter()
            .map(|n| ((*n).to_owned(), Value::Null))
            .collect()
    }

    /// The columns written are the table's own but the key; rows that write other sets of
    /// columns, even by one the table lacks, get no common set (the fast path is not taken).
    #[test]
    fn rows_share_their_written_columns_or_none() {
        let schema = schema();
        let same = [row(&["a", "b", "id"]), row(&["a", "b", "id"])];
        assert_eq!(
            common_columns(&schema, same.iter()),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        // Other keys, but the same written columns: the key and an unknown column are not
        // written.
        let alike = [row(&["a", "b"]), row(&["a", "b", "id", "zz"])];
        assert_eq!(
            common_columns(&schema, alike.iter()),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        let different = [row(&["a", "b"]), row(&["a"])];
        assert_eq!(common_columns(&schema, different.iter()), None);
        let none: [Row; 0] = [];
        assert_eq!(common_columns(&schema, none.iter()), None);
    }
}
