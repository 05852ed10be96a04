//! PostgreSQL's COPY text format: fields separated by tabs, rows by newlines, `\N` for NULL,
//! and backslash escapes for the characters that would otherwise end a field or a row.

/// Appends one field.
pub fn field(out: &mut String, value: Option<&str>) {
    let Some(value) = value else {
        out.push_str("\\N");
        return;
    };
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    fn encoded(value: Option<&str>) -> String {
        let mut out = String::new();
        field(&mut out, value);
        out
    }

    #[test]
    fn null_and_plain_text() {
        assert_eq!(encoded(None), "\\N");
        assert_eq!(encoded(Some("Zoë")), "Zoë");
        // The text "\N" is not NULL: its backslash is escaped.
        assert_eq!(encoded(Some("\\N")), "\\\\N");
    }

    #[test]
    fn separators_are_escaped() {
        assert_eq!(encoded(Some("a\tb\nc\rd")), "a\\tb\\nc\\rd");
        assert_eq!(encoded(Some("\\x00ff")), "\\\\x00ff");
    }
}
