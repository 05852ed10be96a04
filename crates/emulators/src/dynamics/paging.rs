//! The `$skiptoken` of `@odata.nextLink`: a paging cookie in Dataverse's shape,
//! `<cookie pagenumber="2" pagingcookie="…" istracking="False" />`, whose inner cookie
//! (`<cookie page="1"><name last="…" /><accountid last="{GUID}" first="{GUID}" /></cookie>`,
//! percent-encoded) holds the sort values of the last row returned. The next page starts
//! after that row, so rows created or deleted between pages don't shift it (keyset paging,
//! as Dataverse's paging cookies do). Clients must treat the link as opaque.

use super::errors::ApiError;

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Cookie {
    /// The page the link leads to (2 for the first nextLink).
    pub page: u64,
    /// `(property, last value)`: the `$orderby` properties in order, then the primary id.
    /// The value is the JSON text of a number, the text of anything else; `None` for null.
    pub last: Vec<(String, Option<String>)>,
    /// The primary id of the page's first row.
    pub first_id: String,
}

impl Cookie {
    /// The `$skiptoken` value, percent-encoded for a URL query.
    pub fn to_skiptoken(&self) -> String {
        let mut inner = format!("<cookie page=\"{}\">", self.page.saturating_sub(1));
        let count = self.last.len();
        for (i, (property, value)) in self.last.iter().enumerate() {
            inner.push('<');
            inner.push_str(property);
            if let Some(value) = value {
                let value = if i + 1 == count {
                    format!("{{{}}}", value.to_uppercase())
                } else {
                    value.clone()
                };
                inner.push_str(&format!(" last=\"{}\"", xml_escape(&value)));
            }
            if i + 1 == count {
                inner.push_str(&format!(" first=\"{{{}}}\"", self.first_id.to_uppercase()));
            }
            inner.push_str(" />");
        }
        inner.push_str("</cookie>");
        let outer = format!(
            "<cookie pagenumber=\"{}\" pagingcookie=\"{}\" istracking=\"False\" />",
            self.page,
            pct_encode(&inner, b"", true)
        );
        pct_encode(&outer, b"=", false)
    }

    /// Reads a `$skiptoken` value (already URL-decoded once).
    pub fn parse(token: &str) -> Result<Cookie, ApiError> {
        let invalid = || ApiError::query(format!("The $skiptoken '{token}' is not valid."));
        let (_, outer_attrs) = element(token).ok_or_else(invalid)?;
        let page = attr(&outer_attrs, "pagenumber")
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let inner = pct_decode(&attr(&outer_attrs, "pagingcookie").ok_or_else(invalid)?);
        let body = inner
            .strip_prefix("<cookie")
            .and_then(|rest| rest.split_once('>'))
            .map(|(_, rest)| rest)
            .and_then(|rest| rest.strip_suffix("</cookie>"))
            .ok_or_else(invalid)?;
        let mut last = Vec::new();
        let mut first_id = None;
        let mut rest = body;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find("/>").ok_or_else(invalid)? + start;
            let (name, attrs) = element(&rest[start..end + 2]).ok_or_else(invalid)?;
            let value = attr(&attrs, "last");
            if let Some(first) = attr(&attrs, "first") {
                first_id = Some(unbrace(&first));
                last.push((name, value.map(|v| unbrace(&v))));
            } else {
                last.push((name, value));
            }
            rest = &rest[end + 2..];
        }
        Ok(Cookie {
            page,
            last,
            first_id: first_id.ok_or_else(invalid)?,
        })
    }
}

fn unbrace(text: &str) -> String {
    text.trim_start_matches('{')
        .trim_end_matches('}')
        .to_lowercase()
}

/// `<name a="1" b="2" />` → (name, attributes).
fn element(text: &str) -> Option<(String, Vec<(String, String)>)> {
    let body = text.trim().strip_prefix('<')?.strip_suffix("/>")?;
    let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
    let name = body[..name_end].to_string();
    let mut attrs = Vec::new();
    let mut rest = body[name_end..].trim_start();
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let (value, after) = after.split_once('"')?;
        attrs.push((key.trim().to_string(), xml_unescape(value)));
        rest = after.trim_start();
    }
    Some((name, attrs))
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&")
}

/// Percent-encodes everything but unreserved characters and `keep`.
pub fn pct_encode(text: &str, keep: &[u8], lowercase: bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else if lowercase {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (not `+`).
pub fn pct_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let cookie = Cookie {
            page: 3,
            last: vec![
                ("name".into(), Some("A \"quoted\" <name> & co%".into())),
                ("revenue".into(), None),
                (
                    "accountid".into(),
                    Some("0f8fad5b-d9cb-469f-a165-70867728950e".into()),
                ),
            ],
            first_id: "1f8fad5b-d9cb-469f-a165-70867728950e".into(),
        };
        let token = cookie.to_skiptoken();
        assert!(token.starts_with("%3Ccookie%20pagenumber=%223%22%20pagingcookie=%22%253ccookie"));
        let decoded = pct_decode(&token);
        assert_eq!(Cookie::parse(&decoded).unwrap(), cookie);
        assert!(Cookie::parse("garbage").is_err());
    }
}
