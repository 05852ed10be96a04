//! Values in and out of MySQL/MariaDB, decoded and bound by type.

use sqlx::Row as _;
use sqlx::mysql::{MySqlArguments, MySqlRow};
use sqlx::query::Query;

use super::super::{ColumnInfo, Row, TableSchema};
use super::quote;
use crate::value::{ColumnType, Value};

/// The select-list expression for one column.
pub fn select_expr(column: &ColumnInfo) -> String {
    let q = quote(&column.name);
    match &column.ty {
        ColumnType::Int {
            unsigned: false, ..
        } => format!("CAST({q} AS SIGNED)"),
        ColumnType::Int { unsigned: true, .. } => format!("CAST({q} AS UNSIGNED)"),
        ColumnType::Bool => format!("CAST({q} AS SIGNED)"),
        ColumnType::Float => format!("CAST({q} AS DOUBLE)"),
        ColumnType::Decimal { .. } | ColumnType::Uuid | ColumnType::Json | ColumnType::Other(_) => {
            format!("CAST({q} AS CHAR)")
        }
        ColumnType::Text { .. } => format!("CAST({q} AS CHAR)"),
        // TIMESTAMP columns as the session's local date and time, like DATETIME.
        ColumnType::Timestamp => format!("CAST({q} AS DATETIME(6))"),
        _ => q,
    }
}

/// A text column of a result. Text is read as the characters it holds whatever its
/// collation: sqlx refuses `String` for any column flagged BINARY, which MariaDB sets for
/// binary collations (`utf8mb4_bin`, `latin1_bin`, …) as well as for binary strings, so the
/// check is skipped and the bytes are decoded as UTF-8 (an error if they are not).
pub fn text(row: &MySqlRow, index: usize) -> Result<Option<String>, sqlx::Error> {
    row.try_get_unchecked::<Option<String>, _>(index)
}

pub fn decode(row: &MySqlRow, index: usize, column: &ColumnInfo) -> Result<Value, sqlx::Error> {
    fn get<'r, T: sqlx::Decode<'r, sqlx::MySql> + sqlx::Type<sqlx::MySql>>(
        row: &'r MySqlRow,
        index: usize,
        wrap: impl FnOnce(T) -> Value,
    ) -> Result<Value, sqlx::Error> {
        Ok(row
            .try_get::<Option<T>, _>(index)?
            .map_or(Value::Null, wrap))
    }
    let decode_error = |message: String| sqlx::Error::Decode(message.into());
    match &column.ty {
        ColumnType::Bool => get(row, index, |i: i64| Value::Bool(i != 0)),
        ColumnType::Int {
            unsigned: false, ..
        } => get(row, index, Value::Int),
        ColumnType::Int { unsigned: true, .. } => match row.try_get::<Option<u64>, _>(index)? {
            None => Ok(Value::Null),
            Some(u) => i64::try_from(u).map(Value::Int).map_err(|_| {
                decode_error(format!(
                    "{}: {u} is larger than a signed 64-bit integer",
                    column.name
                ))
            }),
        },
        ColumnType::Float => get(row, index, Value::Float),
        ColumnType::Decimal { .. } => Ok(text(row, index)?.map_or(Value::Null, Value::Decimal)),
        ColumnType::Text { .. } | ColumnType::Other(_) => {
            Ok(text(row, index)?.map_or(Value::Null, Value::Text))
        }
        ColumnType::Json => match text(row, index)? {
            None => Ok(Value::Null),
            Some(s) => serde_json::from_str(&s)
                .map(Value::Json)
                .map_err(|e| decode_error(format!("{}: {e}", column.name))),
        },
        ColumnType::Uuid => match text(row, index)? {
            None => Ok(Value::Null),
            Some(s) => uuid::Uuid::parse_str(&s)
                .map(Value::Uuid)
                .map_err(|e| decode_error(format!("{}: {e}", column.name))),
        },
        ColumnType::Bytes { .. } => get(row, index, Value::Bytes),
        ColumnType::Date => get(row, index, Value::Date),
        ColumnType::Time => get(row, index, Value::Time),
        ColumnType::Timestamp => get(row, index, Value::Timestamp),
    }
}

/// Quoted column names and values for the columns of `row` that `schema` has (never the key).
pub fn assignments(schema: &TableSchema, row: &Row) -> (Vec<String>, Vec<Value>) {
    row.iter()
        .filter(|(name, _)| schema.column(name).is_some_and(|c| c.name != schema.key))
        .map(|(name, value)| (quote(name), value.clone()))
        .unzip()
}

/// Binds `value` for a `column` of the table; a NULL is bound with the column's own type, so
/// that a statement that lines values up across rows (`UNION ALL`) gives the column one type
/// whichever rows hold NULL.
pub fn bind_for<'q>(
    query: Query<'q, sqlx::MySql, MySqlArguments>,
    value: Value,
    column: Option<&ColumnInfo>,
) -> Query<'q, sqlx::MySql, MySqlArguments> {
    if !value.is_null() {
        return bind(query, value);
    }
    match column.map(|c| &c.ty) {
        Some(ColumnType::Bool) => query.bind(None::<bool>),
        Some(ColumnType::Int { .. }) => query.bind(None::<i64>),
        Some(ColumnType::Float) => query.bind(None::<f64>),
        Some(ColumnType::Bytes { .. }) => query.bind(None::<Vec<u8>>),
        Some(ColumnType::Date) => query.bind(None::<chrono::NaiveDate>),
        Some(ColumnType::Time) => query.bind(None::<chrono::NaiveTime>),
        Some(ColumnType::Timestamp) => query.bind(None::<chrono::NaiveDateTime>),
        _ => query.bind(None::<String>),
    }
}

pub fn bind<'q>(
    query: Query<'q, sqlx::MySql, MySqlArguments>,
    value: Value,
) -> Query<'q, sqlx::MySql, MySqlArguments> {
    match value {
        Value::Null => query.bind(None::<String>),
        Value::Bool(b) => query.bind(b),
        Value::Int(i) => query.bind(i),
        Value::Float(f) => query.bind(f),
        Value::Decimal(d) | Value::Text(d) => query.bind(d),
        Value::Bytes(b) => query.bind(b),
        Value::Date(d) => query.bind(d),
        Value::Time(t) => query.bind(t),
        Value::Timestamp(t) => query.bind(t),
        Value::Uuid(u) => query.bind(u.to_string()),
        Value::Json(j) => query.bind(j.to_string()),
    }
}
