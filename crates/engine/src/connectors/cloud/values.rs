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
                ConnectorError::other(format!(
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

/// A value as the echo rule compares it (what Lockstep wrote against what a poll reads
/// back). Vendors store what they are sent with differences that are no edit: an empty text
/// is no value, text is trimmed, numbers are reformatted (`2.50`, `2.5`, `"2.5"`) or rounded
/// to the field's scale, instants kept to the second or the millisecond. The form is only
/// ever compared, never shown.
pub fn canonical(value: &Value, ty: &ColumnType) -> String {
    let scale = match ty {
        ColumnType::Decimal { scale, .. } => *scale,
        _ => None,
    };
    let number = |text: &str| match number_form(text, scale) {
        Some(n) => format!("#{n}"),
        None => format!("'{}", text.trim()),
    };
    match value {
        Value::Null => "-".into(),
        Value::Text(s) if s.trim().is_empty() => "-".into(),
        Value::Text(s) => format!("'{}", s.trim()),
        Value::Bool(b) => format!("?{b}"),
        Value::Int(i) => number(&i.to_string()),
        Value::Float(f) => number(&f.to_string()),
        Value::Decimal(d) => number(d),
        Value::Timestamp(t) => format!("@{}", t.format("%Y-%m-%dT%H:%M:%S")),
        Value::Time(t) => format!("@{}", t.format("%H:%M:%S")),
        Value::Json(j) => format!("{{{j}"),
        other => format!("'{}", other.to_invariant_text()),
    }
}

/// A decimal number (`-12.50`, `1e3`, `+7`) as `digits`e`exponent` without leading or
/// trailing zeros, rounded half away from zero to `scale` decimals when given.
fn number_form(text: &str, scale: Option<u32>) -> Option<String> {
    let text = text.trim();
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        // Beyond any column's range: compared as text, and no overflow below.
        Some(at) => (
            &rest[..at],
            rest[at + 1..]
                .parse::<i64>()
                .ok()
                .filter(|e| e.abs() <= 1000)?,
        ),
        None => (rest, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let mut digits: Vec<u8> = whole
        .bytes()
        .chain(fraction.bytes())
        .map(|b| b - b'0')
        .collect();
    let mut exponent = exponent - fraction.len() as i64;
    if let Some(scale) = scale.map(i64::from)
        && -exponent > scale
    {
        let cut = (-exponent - scale) as usize;
        let keep = digits.len().saturating_sub(cut);
        let round_up = digits.get(keep).is_some_and(|d| *d >= 5) && cut <= digits.len();
        digits.truncate(keep);
        exponent = -scale;
        if round_up {
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, 1);
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
    }
    while digits.last() == Some(&0) {
        digits.pop();
        exponent += 1;
    }
    let first = digits.iter().position(|d| *d != 0).unwrap_or(digits.len());
    let digits: String = digits[first..]
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    if digits.is_empty() {
        return Some("0".into());
    }
    Some(format!(
        "{}{digits}e{exponent}",
        if negative { "-" } else { "" }
    ))
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
    fn what_vendors_do_to_a_written_value_is_no_edit_but_another_value_is() {
        let dec = |scale| ColumnType::Decimal {
            precision: None,
            scale,
        };
        let text = ColumnType::Text { max_chars: None };
        let same = |a: &Value, b: &Value, ty: &ColumnType| canonical(a, ty) == canonical(b, ty);
        let d = |s: &str| Value::Decimal(s.into());
        assert!(same(&d("2.50"), &d("2.5"), &dec(None)));
        assert!(same(&d("1200"), &d("1.2e3"), &dec(None)));
        assert!(same(&d("-0.0"), &d("0"), &dec(None)));
        assert!(same(&Value::Int(3), &d("3.0"), &dec(None)));
        assert!(same(&Value::Float(1.25), &d("1.25"), &dec(None)));
        assert!(same(&d("10.555"), &d("10.56"), &dec(Some(2))));
        assert!(same(&d("9.995"), &d("10"), &dec(Some(2))));
        assert!(!same(&d("10.555"), &d("10.56"), &dec(None)));
        assert!(!same(&d("2.5"), &d("25"), &dec(None)));
        assert!(!same(&d("-2.5"), &d("2.5"), &dec(None)));
        assert!(!same(
            &d("1e99999999999"),
            &d("1e99999999998"),
            &dec(Some(2))
        ));
        assert!(same(&Value::Text(String::new()), &Value::Null, &text));
        assert!(same(
            &Value::Text(" Acme ".into()),
            &Value::Text("Acme".into()),
            &text
        ));
        assert!(!same(
            &Value::Text("Acme".into()),
            &Value::Text("acme".into()),
            &text
        ));
        let at = |s: &str| Value::Timestamp(parse_instant(s).unwrap().naive_utc());
        assert!(same(
            &at("2026-11-25T15:04:05.123Z"),
            &at("2026-11-25T15:04:05.000+0000"),
            &ColumnType::Timestamp
        ));
        assert!(!same(
            &at("2026-11-25T15:04:05Z"),
            &at("2026-11-25T15:04:06Z"),
            &ColumnType::Timestamp
        ));
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
