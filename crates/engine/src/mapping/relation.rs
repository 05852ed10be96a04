//! Relation fields: a mapped value that is a key of another task's record, written as that
//! record's counterpart on the other side (through the referenced task's ID map). The sync
//! algorithm looks the counterparts up once per batch (`Translations`); a key without one is
//! `Unresolved`, and the algorithm decides whether the record waits or is written without
//! the reference for now (`sync/relations.rs`, `sync/task.rs`).

use std::collections::HashMap;

use uuid::Uuid;

use crate::connectors::{Key, TableSchema};
use crate::value::{ColumnType, Value};

/// What a relation field is linked to once the package's relations are resolved.
#[derive(Debug, Clone)]
pub struct Link {
    /// The referenced task (its ID map translates the keys).
    pub task: Uuid,
    /// Its label, for messages.
    pub label: String,
    /// The referenced task's table on the side this direction reads.
    pub parent_read: TableSchema,
    /// The referenced record may not be written yet when this record is (the task references
    /// itself, or a task later in the run order) and the written column is nullable: the
    /// record is written without the reference, which is set later in the run.
    pub deferrable: bool,
}

/// A mapped column that holds keys of records: a relation named in the package
/// (`task` is the referenced task's source table as written), or a plain column copy that
/// may turn out to be one (`task` is None: it is a relation when both columns are foreign
/// keys to tables another task syncs).
pub struct KeyField<'a> {
    pub written: &'a str,
    pub read: &'a str,
    pub task: Option<&'a crate::package::TableRef>,
}

/// For each referenced task, read-side key → written-side key, for the keys of one batch.
pub type Translations = HashMap<Uuid, HashMap<Key, Key>>;

/// A reference that has no counterpart (yet) on the written side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The written column.
    pub column: String,
    pub task: Uuid,
    /// The referenced record's key on the read side.
    pub parent: Key,
    pub deferrable: bool,
}

/// A mapped row and the references it could not translate (left out of the row).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub row: crate::connectors::Row,
    pub unresolved: Vec<Unresolved>,
}

/// The key a read value names, in the text form keys take everywhere (None for null).
pub fn key_text(value: &Value) -> Option<Key> {
    match value {
        Value::Null => None,
        Value::Text(text) => Some(Key(text.clone())),
        other => Some(Key(other.to_invariant_text())),
    }
}

/// A key of the written side as a value of the written column.
pub fn key_value(key: &Key, column: &ColumnType) -> Result<Value, String> {
    Value::Text(key.0.clone())
        .convert_to(column)
        .map_err(|e| e.to_string())
}

/// Whether a column of type `column` can hold keys of type `key`.
pub fn key_compatible(column: &ColumnType, key: &ColumnType) -> bool {
    use ColumnType as T;
    match (column, key) {
        (T::Int { .. }, T::Int { .. }) => true,
        (T::Decimal { scale, .. }, T::Int { .. }) => scale.is_none_or(|s| s == 0),
        (T::Uuid, T::Uuid) => true,
        (T::Text { max_chars }, T::Uuid) => max_chars.is_none_or(|m| m >= 36),
        (T::Text { .. }, T::Int { .. } | T::Text { .. }) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_as_values_take_the_connectors_text_form() {
        assert_eq!(key_text(&Value::Int(42)), Some(Key("42".into())));
        assert_eq!(key_text(&Value::Null), None);
        let id = Uuid::parse_str("6f1c3a5e-2b1d-4c6e-9a77-3f2d1e0b9c11").unwrap();
        assert_eq!(key_text(&Value::Uuid(id)), Some(Key(id.to_string())));
        assert_eq!(
            key_value(
                &Key("7".into()),
                &ColumnType::Int {
                    bits: 32,
                    unsigned: false
                }
            ),
            Ok(Value::Int(7))
        );
    }

    #[test]
    fn only_columns_that_can_hold_the_keys_are_compatible() {
        let int = ColumnType::Int {
            bits: 64,
            unsigned: false,
        };
        assert!(key_compatible(
            &ColumnType::Int {
                bits: 32,
                unsigned: false
            },
            &int
        ));
        assert!(key_compatible(&ColumnType::Text { max_chars: None }, &int));
        assert!(!key_compatible(&ColumnType::Date, &int));
        assert!(!key_compatible(&ColumnType::Uuid, &int));
        assert!(!key_compatible(
            &ColumnType::Text {
                max_chars: Some(20)
            },
            &ColumnType::Uuid
        ));
    }
}
