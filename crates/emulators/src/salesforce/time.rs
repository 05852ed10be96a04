//! Timestamps: server-set at whole seconds, rendered as `2026-11-25T15:04:05.000+0000`.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

/// Now, at second precision (Salesforce stores audit stamps to the second).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// The REST API's dateTime rendering.
pub fn render(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// An ISO 8601 dateTime with an explicit zone: `Z`, `+hh:mm` or `+hhmm`, optional fraction.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if !text.contains('T') {
        return None;
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
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
    fn parses_the_zone_forms_and_renders_at_milliseconds() {
        let a = parse_datetime("2026-11-25T15:04:05Z").unwrap();
        assert_eq!(parse_datetime("2026-11-25T15:04:05.000+0000"), Some(a));
        assert_eq!(parse_datetime("2026-11-25T16:04:05+01:00"), Some(a));
        assert_eq!(parse_datetime("2026-11-25T15:04:05"), None);
        assert_eq!(render(a), "2026-11-25T15:04:05.000+0000");
        assert!(parse_date("2026-11-25").is_some());
        assert!(parse_date("2026-11-25T15").is_none());
    }
}
