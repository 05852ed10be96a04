//! The package's locale: how numbers, dates and times become text when a mapping writes a
//! non-text value into a text column, and in the expression function `to_text`.
//!
//! Locale data comes from the GNU C Library's locales (the `pure-rust-locales` crate, which
//! chrono's localized formatting also uses): the decimal separator (`LC_NUMERIC`) and the date
//! and time formats (`LC_TIME` `%x` / `%X`). Like .NET's general format, numbers get the
//! locale's decimal separator but no thousands grouping, so they stay readable by programs.
//! Booleans are `true`/`false` in every locale (no locale database names them).
//!
//! `invariant` (the default) writes ISO dates, `.` decimals and 24-hour times.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use crate::value::{ColumnType, Value};

#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    Invariant,
    /// A glibc locale such as `fr_FR` or `en_US`.
    Named(chrono::Locale),
}

impl fmt::Debug for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locale::Invariant => f.write_str("Invariant"),
            Locale::Named(_) => f.write_str("Named"),
        }
    }
}

impl Locale {
    /// `invariant`, or a language and region such as `fr_FR`, `fr-FR` or `de_de`.
    pub fn parse(text: &str) -> Result<Locale, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("invariant") {
            return Ok(Locale::Invariant);
        }
        let canonical = match trimmed.replace('-', "_").split_once('_') {
            Some((language, region)) => {
                format!("{}_{}", language.to_lowercase(), region.to_uppercase())
            }
            None => trimmed.to_lowercase(),
        };
        chrono::Locale::try_from(canonical.as_str())
            .map(Locale::Named)
            .map_err(|_| {
                format!(
                    "unknown locale “{trimmed}”: use “invariant” or a language and region such as fr_FR, en_US or de_DE"
                )
            })
    }

    fn decimal_point(self) -> &'static str {
        match self {
            Locale::Invariant => ".",
            Locale::Named(l) => pure_rust_locales::locale_match!(l => LC_NUMERIC::DECIMAL_POINT),
        }
    }

    /// Formats a value as text the way this locale writes it.
    pub fn format(&self, value: &Value) -> String {
        let Locale::Named(locale) = *self else {
            return value.to_invariant_text();
        };
        let utc = |t: chrono::NaiveDateTime| DateTime::<Utc>::from_naive_utc_and_offset(t, Utc);
        match value {
            Value::Float(_) | Value::Decimal(_) => {
                value.to_invariant_text().replace('.', self.decimal_point())
            }
            Value::Date(d) => d.format_localized("%x", locale).to_string(),
            Value::Timestamp(t) => utc(*t).format_localized("%x %X", locale).to_string(),
            Value::Time(t) => utc(NaiveDate::MIN.and_time(*t))
                .format_localized("%X", locale)
                .to_string(),
            other => other.to_invariant_text(),
        }
    }

    /// A non-text value written into a text column becomes this locale's text.
    pub fn for_column(&self, value: Value, ty: &ColumnType) -> Value {
        match (ty, &value) {
            (ColumnType::Text { .. }, Value::Text(_) | Value::Null | Value::Bytes(_)) => value,
            (ColumnType::Text { .. }, other) => Value::Text(self.format(other)),
            _ => value,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime};

    use super::Locale;
    use crate::value::Value;

    fn text(locale: &str, value: Value) -> String {
        Locale::parse(locale).unwrap().format(&value)
    }

    #[test]
    fn numbers_take_the_locales_decimal_separator_without_grouping() {
        assert_eq!(text("invariant", Value::Decimal("1234.5".into())), "1234.5");
        assert_eq!(text("fr_FR", Value::Decimal("1234.5".into())), "1234,5");
        assert_eq!(text("de-DE", Value::Float(0.25)), "0,25");
        assert_eq!(text("en_US", Value::Float(0.25)), "0.25");
        assert_eq!(text("fr_FR", Value::Int(1234567)), "1234567");
        assert_eq!(text("fr_FR", Value::Bool(true)), "true");
    }

    #[test]
    fn dates_and_times_follow_the_locale() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let at = day.and_hms_opt(14, 30, 5).unwrap();
        assert_eq!(text("invariant", Value::Date(day)), "2026-11-25");
        assert_eq!(text("fr_FR", Value::Date(day)), "25/11/2026");
        assert_eq!(text("de_DE", Value::Date(day)), "25.11.2026");
        assert_eq!(text("en_US", Value::Date(day)), "11/25/2026");
        assert_eq!(text("de_DE", Value::Timestamp(at)), "25.11.2026 14:30:05");
        assert_eq!(
            text(
                "en_US",
                Value::Time(NaiveTime::from_hms_opt(14, 30, 5).unwrap())
            ),
            "02:30:05 PM"
        );
    }

    #[test]
    fn unknown_locales_are_refused_with_examples() {
        let message = Locale::parse("xx_YY").unwrap_err();
        assert!(message.contains("unknown locale “xx_YY”") && message.contains("fr_FR"));
        assert_eq!(Locale::parse(" Invariant ").unwrap(), Locale::Invariant);
    }
}
