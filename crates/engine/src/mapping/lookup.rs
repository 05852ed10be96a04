//! Lookup fields, compiled: the value written is read from a table of the written side,
//! found by key columns whose values come from the read record (`package::Lookup`).
//!
//! The sync algorithm resolves a batch's lookups before the batch is mapped: it computes
//! every record's key tuple ([`CompiledLookup::tuple`]), asks the written side once for the
//! tuples it has not seen in this run (`Connector::find`), and keeps what each tuple found
//! for the rest of the run ([`LookupResults`]). Mapping then only reads that cache. A null
//! key finds nothing and writes null (there is nothing to look up); no row is an error or
//! null as the lookup says; more than one row is always an error.

use std::collections::HashMap;

use crate::connectors::find::tuple_text;
use crate::connectors::{ColumnInfo, Row, TableSchema};
use crate::package::{FieldSource, Lookup, NoMatch, TableRef};
use crate::value::{ColumnType, Family, Value};

use super::constant_value;
use super::expression::Expression;
use super::locale::Locale;

/// A lookup checked against the read table and the looked-up table.
#[derive(Debug)]
pub struct CompiledLookup {
    /// The looked-up table, on the written side.
    pub table: TableSchema,
    /// Its column whose value is written.
    pub column: String,
    keys: Vec<LookupKey>,
    pub no_match: NoMatch,
}

#[derive(Debug)]
struct LookupKey {
    /// The looked-up table's column.
    column: String,
    ty: ColumnType,
    source: KeySource,
}

#[derive(Debug)]
enum KeySource {
    Column(String),
    Constant(Value),
    Expression(Expression),
}

/// What one key tuple found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    One(Value),
    Nothing,
    Several(usize),
}

/// Per lookup field (its written column): what it found in this run.
pub type LookupResults = HashMap<String, FieldLookups>;

/// What one lookup field's key tuples (in their compared text form) found.
#[derive(Debug, Clone, Default)]
pub struct FieldLookups {
    pub found: HashMap<Vec<String>, Found>,
    /// The whole looked-up table was read: a tuple not in `found` finds nothing.
    pub complete: bool,
}

impl FieldLookups {
    pub fn get(&self, tuple: &[String]) -> Option<&Found> {
        match self.found.get(tuple) {
            Some(found) => Some(found),
            None if self.complete => Some(&Found::Nothing),
            None => None,
        }
    }
}

impl CompiledLookup {
    /// Checks `lookup` for the written column `written`: the looked-up table was described
    /// (`tables`), it has the result and key columns, each key's value can be read from
    /// `read`, and a key column and its value hold the same kind of values.
    pub fn compile(
        lookup: &Lookup,
        read: &TableSchema,
        tables: &HashMap<TableRef, TableSchema>,
        written: &ColumnInfo,
    ) -> Result<CompiledLookup, String> {
        let table = tables.get(&lookup.table).ok_or_else(|| {
            format!(
                "the looked-up table {} was not described (a lookup searches a table of the written side)",
                lookup.table
            )
        })?;
        let result = table.column(&lookup.column).ok_or_else(|| {
            format!(
                "{} has no column “{}” to look up",
                table.table, lookup.column
            )
        })?;
        if !compatible(&written.ty, &result.ty) {
            return Err(format!(
                "{}.{} is {} and cannot be written to “{}” ({})",
                table.table, result.name, result.db_type, written.name, written.db_type
            ));
        }
        let mut keys = Vec::with_capacity(lookup.keys.len());
        for (column, source) in &lookup.keys {
            let at = |message: String| format!("keys.{column}: {message}");
            let info = table
                .column(column)
                .ok_or_else(|| at(format!("{} has no column “{column}”", table.table)))?;
            let source = match source {
                FieldSource::Column(from) => {
                    let read_column = read
                        .column(from)
                        .ok_or_else(|| at(format!("{} has no column “{from}”", read.table)))?;
                    if !compatible(&info.ty, &read_column.ty) {
                        return Err(at(format!(
                            "{}.{column} is {} and {}.{from} is {}: they hold different kinds of values; \
                             compare columns of one kind, or convert with an expression",
                            table.table, info.db_type, read.table, read_column.db_type
                        )));
                    }
                    KeySource::Column(from.clone())
                }
                FieldSource::Constant(json) => {
                    let value = constant_value(json)
                        .convert_to(&info.ty)
                        .map_err(|e| at(format!("the constant does not fit: {e}")))?;
                    KeySource::Constant(value)
                }
                FieldSource::Expression(text) => KeySource::Expression(
                    Expression::compile(text, read).map_err(|e| at(e.to_string()))?,
                ),
                _ => {
                    return Err(at(
                        "a lookup key's value is a column, a constant or an expression".into(),
                    ));
                }
            };
            keys.push(LookupKey {
                column: column.clone(),
                ty: info.ty.clone(),
                source,
            });
        }
        if keys.is_empty() {
            return Err("name at least one key".into());
        }
        Ok(CompiledLookup {
            table: table.clone(),
            column: lookup.column.clone(),
            keys,
            no_match: lookup.no_match,
        })
    }

    /// The looked-up table's key columns, in tuple order.
    pub fn key_columns(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.column.clone()).collect()
    }

    /// Whether computing a tuple runs a user expression.
    pub fn has_expressions(&self) -> bool {
        self.keys
            .iter()
            .any(|k| matches!(k.source, KeySource::Expression(_)))
    }

    /// The key tuple of a read record, each value converted to its key column's type, or
    /// None when a key is null (nothing to look up).
    pub fn tuple(&self, row: &Row, locale: Locale) -> Result<Option<Vec<Value>>, String> {
        let mut tuple = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            let value = match &key.source {
                KeySource::Column(from) => row.get(from).cloned().unwrap_or(Value::Null),
                KeySource::Constant(value) => value.clone(),
                KeySource::Expression(e) => e
                    .evaluate(row, locale)
                    .map_err(|e| format!("lookup key {}: {e}", key.column))?,
            };
            if value.is_null() {
                return Ok(None);
            }
            let value = value.convert_to(&key.ty).map_err(|e| {
                format!(
                    "lookup key {}: the value does not fit {}: {e}",
                    key.column, self.table.table
                )
            })?;
            tuple.push(value);
        }
        Ok(Some(tuple))
    }

    /// The value written for `row` given what its tuple found (`results` for this field).
    pub fn written(
        &self,
        written: &str,
        row: &Row,
        locale: Locale,
        results: Option<&FieldLookups>,
    ) -> Result<Value, String> {
        let Some(tuple) = self
            .tuple(row, locale)
            .map_err(|e| format!("{written}: {e}"))?
        else {
            return Ok(Value::Null);
        };
        let text = tuple_text(&tuple).expect("a tuple has no null");
        match results.and_then(|r| r.get(&text)) {
            Some(Found::One(value)) => Ok(value.clone()),
            Some(Found::Nothing) if self.no_match == NoMatch::Null => Ok(Value::Null),
            Some(Found::Nothing) => Err(format!(
                "{written}: no row of {} has {}; add it, or let the lookup write null when nothing matches",
                self.table.table,
                self.describe(&tuple)
            )),
            Some(Found::Several(n)) => Err(format!(
                "{written}: {n} rows of {} have {}; a lookup must find exactly one",
                self.table.table,
                self.describe(&tuple)
            )),
            None => Err(format!(
                "{written}: the lookup in {} was not resolved",
                self.table.table
            )),
        }
    }

    /// `code = 'A-7' and region = 'EU'`, for messages.
    pub fn describe(&self, tuple: &[Value]) -> String {
        self.keys
            .iter()
            .zip(tuple)
            .map(|(k, v)| format!("{} = '{}'", k.column, v.to_invariant_text()))
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

/// What `rows` (found for `tuples`, each with its tuple's index) say each tuple finds.
pub fn results_of(
    column: &str,
    tuples: &[Vec<Value>],
    rows: Vec<(usize, Row)>,
) -> Vec<(Vec<String>, Found)> {
    let mut found: Vec<Found> = vec![Found::Nothing; tuples.len()];
    for (index, row) in rows {
        let Some(slot) = found.get_mut(index) else {
            continue;
        };
        *slot = match slot {
            Found::Nothing => Found::One(row.get(column).cloned().unwrap_or(Value::Null)),
            Found::One(_) => Found::Several(2),
            Found::Several(n) => Found::Several(*n + 1),
        };
    }
    tuples
        .iter()
        .zip(found)
        .filter_map(|(tuple, found)| tuple_text(tuple).map(|text| (text, found)))
        .collect()
}

/// Whether values of type `from` can be compared with, or written to, a column of type `to`:
/// the same kind of values, or text on either side.
fn compatible(to: &ColumnType, from: &ColumnType) -> bool {
    let (to, from) = (to.family(), from.family());
    to == from || to == Family::Text || from == Family::Text
}
