//! Email addresses as people type them, made comparable.

use super::CatalogError;

/// Trims and lower-cases an email and checks its shape (one `@`, a dotted domain, no
/// spaces). Deliverability is not checked: there is no mail server.
pub fn normalize_email(input: &str) -> Result<String, CatalogError> {
    let email = input.trim().to_lowercase();
    let invalid = |why: &str| {
        CatalogError::validation(
            "email",
            format!("“{}” is not a valid email address: {why}", input.trim()),
        )
    };
    if email.is_empty() {
        return Err(CatalogError::validation(
            "email",
            "Enter your email address.",
        ));
    }
    if email.len() > 254 {
        return Err(invalid("it is longer than 254 characters"));
    }
    if email.chars().any(char::is_whitespace) {
        return Err(invalid("it contains a space"));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(invalid("it has no @"));
    };
    if local.is_empty() || domain.contains('@') {
        return Err(invalid("it needs exactly one @ with a name before it"));
    }
    if !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(invalid(
            "the part after @ must be a domain such as example.com",
        ));
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_spaces_around() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
    }

    #[test]
    fn rejects_malformed_addresses_naming_the_problem() {
        for (input, needle) in [
            ("", "Enter"),
            ("ann.example.com", "no @"),
            ("@example.com", "exactly one @"),
            ("ann@example", "domain"),
            ("ann@@example.com", "exactly one @"),
            ("an n@example.com", "space"),
        ] {
            let err = normalize_email(input).unwrap_err().to_string();
            assert!(err.contains(needle), "{input:?} gave {err:?}");
        }
    }
}
