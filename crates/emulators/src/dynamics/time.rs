//! Timestamps: server-set in UTC at whole seconds, rendered `2026-11-25T15:04:05Z` as the Web
//! API renders `Edm.DateTimeOffset` values; date-only columns as `2000-01-31`.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

/// Now, at second precision.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

pub fn render(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn render_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// An ISO 8601 date-time with a zone (`Z` or `±hh:mm`), optional fraction.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if !text.contains('T') {
        return None;
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_at_seconds_and_parses_zones() {
        let at = parse_datetime("2026-11-25T15:04:05Z").unwrap();
        assert_eq!(render(at), "2026-11-25T15:04:05Z");
        assert_eq!(parse_datetime("2026-11-25T16:04:05+01:00"), Some(at));
        assert_eq!(parse_datetime("2026-11-25T15:04:05.000Z"), Some(at));
        assert_eq!(parse_datetime("2026-11-25"), None);
        assert_eq!(render_date(parse_date("2000-01-31").unwrap()), "2000-01-31");
        assert!(parse_date("2000-01-31T00").is_none());
    }
}
