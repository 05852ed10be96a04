//! Lookup mapping: the value written is read from a table of the *written* side, found by
//! key columns whose values come from the read record —
//! `{"lookup": {"table": "accounts", "column": "id", "keys": {"code": "account_code"}}}`
//! writes the `id` of the `accounts` row (on the written side) whose `code` equals the read
//! record's `account_code`. Several keys must all be equal (AND).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FieldSource, TableRef};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    /// The table (object) of the written side that is searched.
    pub table: TableRef,
    /// Its column whose value is written.
    pub column: String,
    /// Its key columns → where each key's value comes from in the read record: a column, a
    /// constant or an expression.
    pub keys: BTreeMap<String, FieldSource>,
    /// What a record whose keys find no row gets.
    #[serde(default, skip_serializing_if = "NoMatch::is_default")]
    pub no_match: NoMatch,
}

/// What a lookup that finds no row does. More than one row is always a per-record error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoMatch {
    /// The record is not written: a per-record error naming the keys, and it is tried
    /// again on the next run (the row may exist by then).
    #[default]
    Error,
    /// The column is written as null.
    Null,
}

impl NoMatch {
    fn is_default(&self) -> bool {
        *self == NoMatch::Error
    }
}

impl Lookup {
    /// Pure checks; tables, columns and types are checked against the tables when the task
    /// is.
    pub fn validate(&self) -> Result<(), String> {
        if self.column.is_empty() {
            return Err("name the lookup table's column whose value is written".into());
        }
        if self.keys.is_empty() {
            return Err(format!(
                "name at least one key: a column of {} and where its value comes from in the read record",
                self.table
            ));
        }
        for (column, source) in &self.keys {
            if column.is_empty() {
                return Err("a lookup key's column name is empty".into());
            }
            match source {
                FieldSource::Column(_) | FieldSource::Constant(_) | FieldSource::Expression(_) => {
                    source
                        .validate()
                        .map_err(|m| format!("keys.{column}: {m}"))?
                }
                _ => {
                    return Err(format!(
                        "keys.{column}: a lookup key's value is a column, a constant or an expression of the read record"
                    ));
                }
            }
        }
        Ok(())
    }
}
