//! SOQL text. Object and field names come from `describe` (checked to be plain API names);
//! values are literals, quoted and escaped as the SOQL reference says.

use chrono::{DateTime, SecondsFormat, Utc};

/// A Salesforce API name: letters, digits and underscores (custom ones end in `__c`).
pub fn is_api_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// An API version as it goes into paths: `v60.0`.
pub fn is_api_version(text: &str) -> bool {
    text.strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major
                    .chars()
                    .chain(minor.chars())
                    .all(|c| c.is_ascii_digit())
        })
}

/// `'text'` with `\` and `'` (and line breaks) escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A dateTime literal (unquoted, UTC).
pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `Id IN ('a','b')`
pub fn id_in(ids: &[&str]) -> String {
    let list: Vec<String> = ids.iter().map(|id| quote(id)).collect();
    format!("Id IN ({})", list.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_cannot_break_out_of_their_quotes() {
        assert_eq!(quote(r"O'Brien \ co"), r"'O\'Brien \\ co'");
        assert!(is_api_name("Account") && is_api_name("Region__c"));
        assert!(!is_api_name("Account WHERE") && !is_api_name("1x") && !is_api_name(""));
        assert!(is_api_version(super::super::API_VERSION) && is_api_version("v9.0"));
        assert!(
            !is_api_version("v60.0/../../x") && !is_api_version("60.0") && !is_api_version("v.")
        );
    }
}
