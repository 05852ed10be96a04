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
    let mut text = String::new();
    text_into(value, column, &mut text).map(str::to_owned)
}

/// `text_for` without a new string per value: text is borrowed from the value, anything
/// else is written into `scratch` (cleared first). None for NULL.
pub fn text_into<'a>(
    value: &'a Value,
    column: &ColumnInfo,
    scratch: &'a mut String,
) -> Option<&'a str> {
    use std::fmt::Write as _;
    scratch.clear();
    // Writing into a String cannot fail.
    let _ = match value {
        Value::Null => return None,
        Value::Text(s) | Value::Decimal(s) => return Some(s),
        Value::Float(f) if f.is_infinite() => {
            scratch.write_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Value::Timestamp(t) if has_time_zone(column) => {
            write!(scratch, "{}", t.format_with_items(UTC_TIMESTAMP.iter()))
        }
        Value::Timestamp(t) => write!(scratch, "{}", t.format_with_items(TIMESTAMP.iter())),
        other => {
            other.write_invariant_text(scratch);
            Ok(())
        }
    };
    Some(scratch)
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
