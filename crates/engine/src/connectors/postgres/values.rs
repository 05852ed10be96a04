//! Values in and out of PostgreSQL. Reads decode each column by its type (decimals and
//! unknown types as text, timestamptz as UTC); writes send text that PostgreSQL casts to the
//! column's type, so the server does every conversion exactly once.

use std::sync::LazyLock;

use chrono::format::{Item, StrftimeItems};
use sqlx::Row as _;
use sqlx::postgres::PgRow;

use super::super::{ColumnInfo, Row, TableSchema};
use super::quote;
use crate::value::{ColumnType, Value};

/// The formats timestamps are sent in, parsed once (chrono would parse the format string
/// again for every value written).
static TIMESTAMP: LazyLock<Vec<Item<'static>>> =
    LazyLock::new(|| StrftimeItems::new("%Y-%m-%d %H:%M:%S%.6f").collect());
static UTC_TIMESTAMP: LazyLock<Vec<Item<'static>>> =
    LazyLock::new(|| StrftimeItems::new("%Y-%m-%d %H:%M:%S%.6f+00").collect());

fn has_time_zone(column: &ColumnInfo) -> bool {
    column.db_type.starts_with("timestamp with time zone")
}

/// The select-list expression for one column.
pub fn select_expr(column: &ColumnInfo) -> String {
    let q = quote(&column.name);
    match &column.ty {
        ColumnType::Decimal { .. } | ColumnType::Other(_) => format!("{q}::text"),
        ColumnType::Int { .. } => format!("{q}::int8"),
        ColumnType::Float => format!("{q}::float8"),
        ColumnType::Text { .. } => format!("{q}::text"),
        ColumnType::Json => format!("{q}::jsonb"),
        ColumnType::Timestamp if has_time_zone(column) => format!("({q} AT TIME ZONE 'UTC')"),
        _ => q,
    }
}

/// Decodes column `index` of `row` (selected with `select_expr`).
pub fn decode(row: &PgRow, index: usize, column: &ColumnInfo) -> Result<Value, sqlx::Error> {
    fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
        row: &'r PgRow,
        index: usize,
        wrap: impl FnOnce(T) -> Value,
    ) -> Result<Value, sqlx::Error> {
        Ok(row
            .try_get::<Option<T>, _>(index)?
            .map_or(Value::Null, wrap))
    }
    match &column.ty {
        ColumnType::Bool => get(row, index, Value::Bool),
        ColumnType::Int { .. } => get(row, index, Value::Int),
        ColumnType::Float => get(row, index, Value::Float),
        ColumnType::Decimal { .. } => get(row, index, Value::Decimal),
        ColumnType::Text { .. } | ColumnType::Other(_) => get(row, index, Value::Text),
        ColumnType::Bytes { .. } => get(row, index, Value::Bytes),
        ColumnType::Date => get(row, index, Value::Date),
        ColumnType::Time => get(row, index, Value::Time),
        ColumnType::Timestamp => get(row, index, Value::Timestamp),
        ColumnType::Uuid => get(row, index, Value::Uuid),
        ColumnType::Json => get(row, index, Value::Json),
    }
}

/// The text PostgreSQL parses back into exactly this value for this column.
pub fn text_for(value: &Value, column: &ColumnInfo) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Bytes(b) => format!("\\x{}", hex::encode(b)),
        Value::Float(f) if f.is_infinite() => {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
        }
        Value::Timestamp(t) if has_time_zone(column) => {
            t.format_with_items(UTC_TIMESTAMP.iter()).to_string()
        }
        Value::Timestamp(t) => t.format_with_items(TIMESTAMP.iter()).to_string(),
        other => other.to_invariant_text(),
    })
}

/// The type to cast the sent text to: the column's own type, except where an explicit cast
/// would silently cut a value (varchar(n) truncates, numeric(p,s) rounds); there the base type
/// is used and the column's own check (on assignment) refuses what does not fit.
pub fn cast_type(column: &ColumnInfo) -> &str {
    match column.ty {
        ColumnType::Text { .. } => "text",
        ColumnType::Decimal { .. } => "numeric",
        _ => &column.db_type,
    }
}

/// Quoted column names, `$n::text::type` placeholders numbered after `offset`, and the
/// values to bind, for the columns of `row` that `schema` has (never the key).
pub fn assignments(
    schema: &TableSchema,
    row: &Row,
    offset: usize,
) -> (Vec<String>, Vec<String>, Vec<Option<String>>) {
    let mut columns = Vec::new();
    let mut placeholders = Vec::new();
    let mut binds = Vec::new();
    for (name, value) in row {
        let Some(column) = schema.column(name).filter(|c| c.name != schema.key) else {
            continue;
        };
        columns.push(quote(name));
        placeholders.push(format!(
            "${}::text::{}",
            offset + binds.len() + 1,
            cast_type(column)
        ));
        binds.push(text_for(value, column));
    }
    (columns, placeholders, binds)
}
