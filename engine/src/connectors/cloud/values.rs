//! JSON values of cloud APIs ↔ engine values, by the field's column type.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::Value as Json;

use super::super::{ConnectorError, Row, TableSchema};
use crate::value::{ColumnType, Value};

/// An instant as vendors write it: RFC 3339 (`…Z`, `…+01:00`) or Salesforce's `…+0000`.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            // Epoch milliseconds (HubSpot accepts and sometimes answers them).
            text.parse::<i64>()
                .ok()
                .and_then(DateTime::from_timestamp_millis)
        })
}

/// ISO 8601 in UTC with milliseconds: what every vendor here accepts.
pub fn instant_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Reads a field's JSON value as the engine's value for its column type. Strings are
/// accepted for every type (HubSpot sends everything as strings); an empty string is no
/// value.
pub fn from_json(json: &Json, ty: &ColumnType) -> Result<Value, String> {
    let text = match json {
        Json::Null => return Ok(Value::Null),
        Json::Bool(b) => return Ok(Value::Bool(*b)),
        Json::Number(n) => {
            return Ok(match ty {
                ColumnType::Int { .. } => n
                    .as_i64()
                    .map(Value::Int)
                    .unwrap_or_else(|| Value::Decimal(n.to_string())),
                ColumnType::Float => Value::Float(n.as_f64().unwrap_or_default()),
                ColumnType::Text { .. } => Value::Text(n.to_string()),
                _ => Value::Decimal(n.to_string()),
            });
        }
        Json::String(s) => s.as_str(),
        other => return Ok(Value::Json(other.clone())),
    };
    if text.is_empty() && !matches!(ty, ColumnType::Text { .. }) {
        return Ok(Value::Null);
    }
    Ok(match ty {
        ColumnType::Timestamp => match parse_instant(text) {
            Some(t) => Value::Timestamp(t.naive_utc()),
            // A date-only value (Dataverse's DateOnly behaviour): midnight.
            None => Value::Timestamp(
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| format!("“{text}” is not a date and time"))?
                    .and_time(NaiveTime::MIN),
            ),
        },
        ColumnType::Date => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(d) => Value::Date(d),
            // HubSpot's date properties: midnight UTC in epoch milliseconds.
            Err(_) => Value::Date(
                parse_instant(text)
                    .ok_or_else(|| format!("“{text}” is not a date"))?
                    .date_naive(),
            ),
        },
        ColumnType::Time => Value::Time(
            NaiveTime::parse_from_str(text.trim_end_matches('Z'), "%H:%M:%S%.f")
                .map_err(|_| format!("“{text}” is not a time"))?,
        ),
        ColumnType::Bool => Value::Bool(text.eq_ignore_ascii_case("true")),
        ColumnType::Int { .. } => text
            .parse::<i64>()
            .map(Value::Int)
            .unwrap_or_else(|_| Value::Decimal(text.to_owned())),
        ColumnType::Decimal { .. } | ColumnType::Float => Value::Decimal(text.to_owned()),
        _ => Value::Text(text.to_owned()),
    })
}

/// A record's fields (JSON by field name) as a row of the schema's columns; fields the
/// answer does not carry are left out. `vendor` and `id` name the record in errors.
pub fn row_of(
    vendor: &str,
    schema: &TableSchema,
    id: &str,
    fields: &serde_json::Map<String, Json>,
) -> Result<Row, ConnectorError> {
    let mut row = Row::new();
    for column in &schema.columns {
        if let Some(json) = fields.get(&column.name) {
            let value = from_json(json, &column.ty).map_err(|m| {
                ConnectorError::Other(format!(
                    "{vendor} {}.{} of {id}: {m}",
                    schema.table.name, column.name
                ))
            })?;
            row.insert(column.name.clone(), value);
        }
    }
    Ok(row)
}

/// A value as typed JSON (Salesforce, Dynamics).
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Decimal(d) => match d.parse::<i64>() {
            Ok(i) => Json::from(i),
            Err(_) => d
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Json::String(d.clone()), Json::Number),
        },
        Value::Timestamp(t) => Json::String(instant_text(*t)),
        Value::Json(j) => j.clone(),
        other => Json::String(other.to_invariant_text()),
    }
}

/// A value as HubSpot's wire text (every property is a string; empty clears it).
pub fn to_text(value: &Value) -> String {
    match value {
        Value::Timestamp(t) => instant_text(*t),
        other => other.to_invariant_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_and_hubspot_instants_read_the_same() {
        let a = parse_instant("2026-11-25T15:04:05.000+0000").unwrap();
        let b = parse_instant("2026-11-25T15:04:05.000Z").unwrap();
        let c = parse_instant("1795619045000").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn strings_become_typed_values() {
        let dec = ColumnType::Decimal {
            precision: None,
            scale: None,
        };
        assert_eq!(
            from_json(&Json::from("12.50"), &dec),
            Ok(Value::Decimal("12.50".into()))
        );
        assert_eq!(from_json(&Json::from(""), &dec), Ok(Value::Null));
        assert_eq!(
            from_json(&Json::from(""), &ColumnType::Text { max_chars: None }),
            Ok(Value::Text(String::new()))
        );
        assert!(from_json(&Json::from("soon"), &ColumnType::Timestamp).is_err());
        assert_eq!(
            to_json(&Value::Decimal("12.5".into())),
            serde_json::json!(12.5)
        );
    }
}
