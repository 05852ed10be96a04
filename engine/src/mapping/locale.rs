//! The package's locale: how numbers, dates and booleans become text in mappings.
//! Only the invariant culture is implemented so far (ISO dates, `.` decimals, `true`/`false`);
//! a named locale is refused with a clear message rather than silently formatted invariantly.

use crate::value::{ColumnType, Value};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    Invariant,
}

impl Locale {
    pub fn parse(text: &str) -> Result<Locale, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "invariant" => Ok(Locale::Invariant),
            other => Err(format!(
                "locale “{other}” is not supported yet: only “invariant” (ISO dates, “.” as decimal separator) is available"
            )),
        }
    }

    /// Formats a value as text the way this locale writes it.
    pub fn format(&self, value: &Value) -> String {
        match self {
            Locale::Invariant => value.to_invariant_text(),
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
