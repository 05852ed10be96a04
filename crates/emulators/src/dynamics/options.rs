//! What a request asks for besides its resource: the OData system query options and the
//! `Prefer` header.

use axum::http::HeaderMap;

use super::errors::ApiError;

/// The system query options the emulator accepts; any other `$option` is refused.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub select: Option<String>,
    pub filter: Option<String>,
    pub orderby: Option<String>,
    pub top: Option<u64>,
    pub skiptoken: Option<String>,
    pub count: bool,
    pub expand: Option<String>,
}

impl Options {
    /// From a raw query string (`+` is a space, as in forms).
    pub fn parse(raw: &str) -> Result<Options, ApiError> {
        let mut options = Options::default();
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            let value = value.into_owned();
            match key.as_ref() {
                "$select" => options.select = Some(value),
                "$filter" => options.filter = Some(value),
                "$orderby" => options.orderby = Some(value),
                "$skiptoken" => options.skiptoken = Some(value),
                "$expand" => options.expand = Some(value),
                "$top" => {
                    let top = value.trim().parse::<u64>().map_err(|_| {
                        ApiError::query(format!(
                            "Invalid value '{value}' for $top query option found. The $top query \
                             option requires a non-negative integer value."
                        ))
                    })?;
                    options.top = Some(top);
                }
                "$count" => match value.trim() {
                    "true" => options.count = true,
                    "false" => options.count = false,
                    _ => {
                        return Err(ApiError::query(format!(
                            "'{value}' is not a valid count option."
                        )));
                    }
                },
                other if other.starts_with('$') => {
                    return Err(ApiError::query(format!(
                        "The query parameter '{other}' is not supported."
                    )));
                }
                // Parameter aliases (@p1) and anything else: not supported, ignored.
                _ => {}
            }
        }
        Ok(options)
    }

    /// The comma-separated `$select` list.
    pub fn selected(&self) -> Option<Vec<String>> {
        self.select.as_ref().map(|s| {
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
    }
}

/// The preferences of a `Prefer` header (several headers or comma-separated values).
#[derive(Debug, Clone, Default)]
pub struct Prefer {
    pub maxpagesize: Option<u64>,
    pub representation: bool,
    pub continue_on_error: bool,
}

impl Prefer {
    pub fn of(headers: &HeaderMap) -> Prefer {
        let mut prefer = Prefer::default();
        for value in headers.get_all("prefer") {
            let Ok(value) = value.to_str() else { continue };
            for preference in value.split(',') {
                let (name, setting) = match preference.split_once('=') {
                    Some((n, s)) => (n.trim(), Some(s.trim().trim_matches('"'))),
                    None => (preference.trim(), None),
                };
                match (name.to_ascii_lowercase().as_str(), setting) {
                    ("odata.maxpagesize", Some(n)) => prefer.maxpagesize = n.parse().ok(),
                    ("return", Some("representation")) => prefer.representation = true,
                    ("odata.continue-on-error", None | Some("true")) => {
                        prefer.continue_on_error = true;
                    }
                    _ => {}
                }
            }
        }
        prefer
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn options_and_preferences() {
        let options =
            Options::parse("$select=name,%20revenue&$filter=name%20eq%20'a+b'&$top=3&x=1").unwrap();
        assert_eq!(options.selected().unwrap(), ["name", "revenue"]);
        assert_eq!(options.filter.as_deref(), Some("name eq 'a b'"));
        assert_eq!(options.top, Some(3));
        assert!(Options::parse("$skip=3").is_err());
        assert!(Options::parse("$top=x").is_err());

        let mut headers = HeaderMap::new();
        headers.append("prefer", HeaderValue::from_static("odata.maxpagesize=2000"));
        headers.append(
            "prefer",
            HeaderValue::from_static("return=representation, odata.continue-on-error"),
        );
        let prefer = Prefer::of(&headers);
        assert_eq!(prefer.maxpagesize, Some(2000));
        assert!(prefer.representation && prefer.continue_on_error);
    }
}
