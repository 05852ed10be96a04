//! Values as they travel between databases, the column types they are written into, and the
//! conversions between them. A value that does not fit its target column is an error for
//! that record — never silently truncated or rounded.

use std::sync::LazyLock;

use chrono::format::{Item, StrftimeItems};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use uuid::Uuid;

/// The invariant formats of dates and times, parsed once (chrono would parse the format
/// string again for every value).
static DATE: LazyLock<Vec<Item<'static>>> =
    LazyLock::new(|| StrftimeItems::new("%Y-%m-%d").collect());
static TIME: LazyLock<Vec<Item<'static>>> =
    LazyLock::new(|| StrftimeItems::new("%H:%M:%S%.f").collect());

/// One field's value, independent of the database it came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// An exact decimal in canonical text form (`-12.50`), so no precision is lost.
    Decimal(String),
    Text(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    /// A moment, always in UTC (timestamptz, datetime(6) stored as UTC).
    Timestamp(NaiveDateTime),
    Uuid(Uuid),
    Json(serde_json::Value),
}

/// What a column can hold, as far as conversion cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    Bool,
    /// Signed integer of `bits` (8, 16, 24, 32, 64); `unsigned` for MySQL's UNSIGNED.
    Int {
        bits: u8,
        unsigned: bool,
    },
    Float,
    /// `precision`/`scale` when declared.
    Decimal {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    /// `max_chars` for varchar(n)/char(n).
    Text {
        max_chars: Option<u32>,
    },
    Bytes {
        max_bytes: Option<u32>,
    },
    Date,
    Time,
    Timestamp,
    Uuid,
    Json,
    /// Anything else, by its database name; copied only between identical types as text.
    Other(String),
}

/// Why a value cannot be written into a column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConvertError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, ConvertError> {
    Err(ConvertError(message.into()))
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short description for error messages (never the whole of a large value).
    pub fn describe(&self) -> String {
        let text = match self {
            Value::Null => return "NULL".into(),
            Value::Bytes(b) => return format!("{} bytes", b.len()),
            other => other.to_invariant_text(),
        };
        let short: String = text.chars().take(40).collect();
        if short.len() < text.len() {
            format!("“{short}…”")
        } else {
            format!("“{short}”")
        }
    }

    /// The value as culture-neutral text (ISO dates, `.` decimals, `true`/`false`).
    pub fn to_invariant_text(&self) -> String {
        let mut text = String::new();
        self.write_invariant_text(&mut text);
        text
    }

    /// `to_invariant_text` appended to `out`, for a writer that reuses one buffer.
    pub fn write_invariant_text(&self, out: &mut String) {
        use std::fmt::Write as _;
        // Writing into a String cannot fail.
        let _ = match self {
            Value::Null => Ok(()),
            Value::Bool(b) => out.write_str(if *b { "true" } else { "false" }),
            Value::Int(i) => write!(out, "{i}"),
            Value::Float(f) => write!(out, "{f}"),
            Value::Decimal(s) | Value::Text(s) => out.write_str(s),
            Value::Bytes(b) => {
                out.push_str("\\x");
                out.push_str(&hex::encode(b));
                Ok(())
            }
            Value::Date(d) => write!(out, "{}", d.format_with_items(DATE.iter())),
            Value::Time(t) => write!(out, "{}", t.format_with_items(TIME.iter())),
            Value::Timestamp(t) => write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%S%.fZ")),
            Value::Uuid(u) => write!(out, "{u}"),
            Value::Json(j) => write!(out, "{j}"),
        };
    }

    /// Converts the value so it can be written into a column of type `to`.
    pub fn convert_to(self, to: &ColumnType) -> Result<Value, ConvertError> {
        use ColumnType as T;
        use Value as V;
        if self.is_null() {
            return Ok(V::Null);
        }
        match (self, to) {
            (V::Bool(b), T::Bool) => Ok(V::Bool(b)),
            (V::Int(i), T::Bool) if i == 0 || i == 1 => Ok(V::Bool(i == 1)),
            (V::Text(s), T::Bool) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" => Ok(V::Bool(true)),
                "false" | "f" | "0" | "no" => Ok(V::Bool(false)),
                _ => err(format!("“{s}” is not a boolean")),
            },
            (V::Bool(b), T::Int { bits, unsigned }) => fit_int(i64::from(b), *bits, *unsigned),
            (V::Int(i), T::Int { bits, unsigned }) => fit_int(i, *bits, *unsigned),
            (V::Float(f), T::Int { bits, unsigned }) if f.fract() == 0.0 && f.abs() < 9.2e18 => {
                fit_int(f as i64, *bits, *unsigned)
            }
            (V::Decimal(d), T::Int { bits, unsigned }) => match d.parse::<i64>() {
                Ok(i) => fit_int(i, *bits, *unsigned),
                Err(_) => err(format!("{d} is not a whole number")),
            },
            (V::Text(s), T::Int { bits, unsigned }) => match s.trim().parse::<i64>() {
                Ok(i) => fit_int(i, *bits, *unsigned),
                Err(_) => err(format!("“{s}” is not a whole number")),
            },
            (V::Float(f), T::Float) => Ok(V::Float(f)),
            (V::Int(i), T::Float) => Ok(V::Float(i as f64)),
            (V::Decimal(d), T::Float) | (V::Text(d), T::Float) => d
                .trim()
                .parse::<f64>()
                .map(V::Float)
                .or_else(|_| err(format!("“{d}” is not a number"))),
            (V::Int(i), T::Decimal { precision, scale }) => {
                fit_decimal(&i.to_string(), *precision, *scale)
            }
            (V::Decimal(d), T::Decimal { precision, scale }) => fit_decimal(&d, *precision, *scale),
            (V::Text(d), T::Decimal { precision, scale }) => {
                fit_decimal(d.trim(), *precision, *scale)
            }
            (V::Float(f), T::Decimal { precision, scale }) if f.is_finite() => {
                fit_decimal(&f.to_string(), *precision, *scale)
            }
            (V::Bytes(b), T::Bytes { max_bytes }) => match max_bytes {
                Some(max) if b.len() > *max as usize => err(format!(
                    "{} bytes do not fit a column of at most {max} bytes",
                    b.len()
                )),
                _ => Ok(V::Bytes(b)),
            },
            (V::Text(s), T::Bytes { .. }) => V::Bytes(s.into_bytes()).convert_to(to),
            (V::Date(d), T::Date) => Ok(V::Date(d)),
            (V::Timestamp(t), T::Date) if t.time() == NaiveTime::MIN => Ok(V::Date(t.date())),
            (V::Text(s), T::Date) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map(V::Date)
                .or_else(|_| err(format!("“{s}” is not a date (YYYY-MM-DD)"))),
            (V::Time(t), T::Time) => Ok(V::Time(t)),
            (V::Text(s), T::Time) => NaiveTime::parse_from_str(s.trim(), "%H:%M:%S%.f")
                .map(V::Time)
                .or_else(|_| err(format!("“{s}” is not a time (HH:MM:SS)"))),
            (V::Timestamp(t), T::Timestamp) => Ok(V::Timestamp(t)),
            (V::Date(d), T::Timestamp) => Ok(V::Timestamp(d.and_time(NaiveTime::MIN))),
            (V::Text(s), T::Timestamp) => parse_timestamp(&s).map(V::Timestamp),
            (V::Uuid(u), T::Uuid) => Ok(V::Uuid(u)),
            (V::Text(s), T::Uuid) => Uuid::parse_str(s.trim())
                .map(V::Uuid)
                .or_else(|_| err(format!("“{s}” is not a UUID"))),
            (V::Bytes(b), T::Uuid) if b.len() == 16 => {
                Ok(V::Uuid(Uuid::from_slice(&b).expect("16 bytes")))
            }
            (V::Json(j), T::Json) => Ok(V::Json(j)),
            (V::Text(s), T::Json) => serde_json::from_str(&s)
                .map(V::Json)
                .or_else(|e| err(format!("not valid JSON: {e}"))),
            // Text columns take anything, written culture-neutral (a locale applies in mappings).
            (v, T::Text { max_chars }) => {
                let text = match v {
                    V::Text(s) => s,
                    V::Bytes(b) => String::from_utf8(b)
                        .or_else(|_| err("bytes that are not UTF-8 cannot become text"))?,
                    other => other.to_invariant_text(),
                };
                match max_chars {
                    Some(max) if text.chars().count() > *max as usize => err(format!(
                        "{} characters do not fit a column of at most {max} (nothing is truncated)",
                        text.chars().count()
                    )),
                    _ => Ok(V::Text(text)),
                }
            }
            (V::Text(s), T::Other(_)) => Ok(V::Text(s)),
            (v, to) => err(format!(
                "{} cannot be written into a {} column",
                v.describe(),
                to.name()
            )),
        }
    }
}

/// The kind of value a column holds, as keys compare them (match keys, lookup keys): two
/// columns of one family compare; text compares with anything (as text).
#[derive(Debug, PartialEq, Eq)]
pub enum Family {
    Text,
    Number,
    Moment,
    Uuid,
    Other(String),
}

impl ColumnType {
    pub fn family(&self) -> Family {
        match self {
            ColumnType::Text { .. } => Family::Text,
            ColumnType::Int { .. } | ColumnType::Decimal { .. } | ColumnType::Float => {
                Family::Number
            }
            ColumnType::Date | ColumnType::Timestamp => Family::Moment,
            ColumnType::Uuid => Family::Uuid,
            other => Family::Other(other.name()),
        }
    }

    pub fn name(&self) -> String {
        match self {
            ColumnType::Bool => "boolean".into(),
            ColumnType::Int { bits, unsigned } => format!(
                "{}{bits}-bit integer",
                if *unsigned { "unsigned " } else { "" }
            ),
            ColumnType::Float => "floating-point".into(),
            ColumnType::Decimal { .. } => "decimal".into(),
            ColumnType::Text { .. } => "text".into(),
            ColumnType::Bytes { .. } => "binary".into(),
            ColumnType::Date => "date".into(),
            ColumnType::Time => "time".into(),
            ColumnType::Timestamp => "timestamp".into(),
            ColumnType::Uuid => "UUID".into(),
            ColumnType::Json => "JSON".into(),
            ColumnType::Other(name) => name.clone(),
        }
    }
}

fn fit_int(i: i64, bits: u8, unsigned: bool) -> Result<Value, ConvertError> {
    let (min, max): (i128, i128) = if unsigned {
        (0, (1i128 << bits) - 1)
    } else {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    };
    if (i as i128) < min || (i as i128) > max {
        return err(format!(
            "{i} does not fit a {}{bits}-bit integer column ({min}..{max})",
            if unsigned { "unsigned " } else { "" }
        ));
    }
    Ok(Value::Int(i))
}

/// Checks a decimal's digits against precision and scale; extra fractional zeros are fine,
/// any other loss is an error.
fn fit_decimal(
    text: &str,
    precision: Option<u32>,
    scale: Option<u32>,
) -> Result<Value, ConvertError> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return err(format!("“{text}” is not a decimal number"));
    }
    let frac_significant = frac_part.trim_end_matches('0');
    if let Some(scale) = scale
        && frac_significant.len() > scale as usize
    {
        return err(format!(
            "{text} has more than {scale} decimal places (nothing is rounded)"
        ));
    }
    if let (Some(precision), Some(scale)) = (precision, scale) {
        let int_digits = int_part.trim_start_matches('0').len();
        if int_digits > (precision - scale) as usize {
            return err(format!("{text} does not fit decimal({precision},{scale})"));
        }
    }
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let sign = if text.starts_with('-') { "-" } else { "" };
    Ok(Value::Decimal(if frac_significant.is_empty() {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac_significant}")
    }))
}

fn parse_timestamp(s: &str) -> Result<NaiveDateTime, ConvertError> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.naive_utc());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(t);
        }
    }
    err(format!(
        "“{s}” is not a timestamp (YYYY-MM-DD HH:MM:SS, UTC)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(max: u32) -> ColumnType {
        ColumnType::Text {
            max_chars: Some(max),
        }
    }

    #[test]
    fn integers_must_fit_their_column() {
        let small = ColumnType::Int {
            bits: 16,
            unsigned: false,
        };
        assert_eq!(
            Value::Int(32767).convert_to(&small).unwrap(),
            Value::Int(32767)
        );
        assert!(
            Value::Int(32768)
                .convert_to(&small)
                .unwrap_err()
                .0
                .contains("does not fit")
        );
        let tiny_unsigned = ColumnType::Int {
            bits: 8,
            unsigned: true,
        };
        assert!(Value::Int(-1).convert_to(&tiny_unsigned).is_err());
        assert_eq!(
            Value::Bool(true).convert_to(&tiny_unsigned).unwrap(),
            Value::Int(1)
        );
    }

    #[test]
    fn text_is_never_truncated() {
        assert_eq!(
            Value::Text("héllo".into()).convert_to(&text(5)).unwrap(),
            Value::Text("héllo".into())
        );
        let e = Value::Text("héllo!".into())
            .convert_to(&text(5))
            .unwrap_err();
        assert!(
            e.0.contains("6 characters") && e.0.contains("nothing is truncated"),
            "{e}"
        );
    }

    #[test]
    fn decimals_keep_every_digit_or_fail() {
        let money = ColumnType::Decimal {
            precision: Some(10),
            scale: Some(2),
        };
        assert_eq!(
            Value::Decimal("12.50".into()).convert_to(&money).unwrap(),
            Value::Decimal("12.5".into())
        );
        assert_eq!(
            Value::Int(-3).convert_to(&money).unwrap(),
            Value::Decimal("-3".into())
        );
        assert!(
            Value::Decimal("1.005".into())
                .convert_to(&money)
                .unwrap_err()
                .0
                .contains("decimal places")
        );
        assert!(
            Value::Decimal("123456789.1".into())
                .convert_to(&money)
                .unwrap_err()
                .0
                .contains("does not fit")
        );
    }

    #[test]
    fn booleans_cross_between_bool_and_tinyint() {
        let tinyint = ColumnType::Int {
            bits: 8,
            unsigned: false,
        };
        assert_eq!(
            Value::Bool(false).convert_to(&tinyint).unwrap(),
            Value::Int(0)
        );
        assert_eq!(
            Value::Int(1).convert_to(&ColumnType::Bool).unwrap(),
            Value::Bool(true)
        );
        assert!(Value::Int(2).convert_to(&ColumnType::Bool).is_err());
    }

    #[test]
    fn text_parses_into_typed_columns_with_clear_errors() {
        let ts = Value::Text("2024-03-01T10:20:30.123456+02:00".into())
            .convert_to(&ColumnType::Timestamp)
            .unwrap();
        assert_eq!(ts.to_invariant_text(), "2024-03-01T08:20:30.123456Z");
        assert!(
            Value::Text("soon".into())
                .convert_to(&ColumnType::Date)
                .unwrap_err()
                .0
                .contains("not a date")
        );
        let u = Value::Text("67e55044-10b1-426f-9247-bb680e5fe0c8".into())
            .convert_to(&ColumnType::Uuid)
            .unwrap();
        assert!(matches!(u, Value::Uuid(_)));
        assert!(
            Value::Text("{".into())
                .convert_to(&ColumnType::Json)
                .unwrap_err()
                .0
                .contains("JSON")
        );
    }

    #[test]
    fn nulls_pass_and_mismatches_name_both_sides() {
        assert_eq!(
            Value::Null.convert_to(&ColumnType::Uuid).unwrap(),
            Value::Null
        );
        let e = Value::Json(serde_json::json!({"a": 1}))
            .convert_to(&ColumnType::Date)
            .unwrap_err();
        assert!(e.0.contains("date column"), "{e}");
    }
}
