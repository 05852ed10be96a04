//! OData `$batch` bodies (multipart/mixed): independent requests, outside change sets, so one
//! failing record does not undo the others (`Prefer: odata.continue-on-error`).

use serde_json::Value as Json;

/// One request of a batch.
pub struct Part {
    pub method: &'static str,
    /// Relative to the org (`/api/data/v9.2/accounts(…)`).
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Json>,
}

/// One answer of a batch, in request order.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Option<Json>,
}

/// The multipart body for `parts`, delimited by `boundary`.
pub fn body(boundary: &str, parts: &[Part]) -> String {
    let mut out = String::new();
    for part in parts {
        out.push_str(&format!("--{boundary}\r\n"));
        out.push_str("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n");
        out.push_str(&format!("{} {} HTTP/1.1\r\n", part.method, part.path));
        for (name, value) in &part.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        match &part.body {
            Some(body) => {
                out.push_str("Content-Type: application/json\r\n\r\n");
                out.push_str(&body.to_string());
                out.push_str("\r\n");
            }
            None => out.push_str("\r\n"),
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out
}

/// The boundary of a `multipart/mixed; boundary=…` content type.
pub fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|p| {
        let p = p.trim();
        p.strip_prefix("boundary=")
            .map(|b| b.trim_matches('"').to_owned())
    })
}

/// The answers of a batch response, in order.
pub fn answers(boundary: &str, text: &str) -> Result<Vec<Answer>, String> {
    let delimiter = format!("--{boundary}");
    let mut answers = Vec::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        // Part headers, blank line, then the HTTP response.
        let Some((_, http)) = split_blank(part) else {
            return Err("a batch part without headers".into());
        };
        let http = http.trim_start_matches(['\r', '\n']);
        let (head, body) = split_blank(http).unwrap_or((http, ""));
        let status_line = head.lines().next().unwrap_or_default();
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| format!("a batch part without a status line: “{status_line}”"))?;
        let body = body.trim();
        let body = if body.is_empty() {
            None
        } else {
            Some(serde_json::from_str(body).map_err(|e| format!("a batch part's body: {e}"))?)
        };
        answers.push(Answer { status, body });
    }
    Ok(answers)
}

/// Splits at the first blank line (CRLF or LF).
fn split_blank(text: &str) -> Option<(&str, &str)> {
    let crlf = text.find("\r\n\r\n").map(|i| (i, 4));
    let lf = text.find("\n\n").map(|i| (i, 2));
    let (at, len) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if a.0 <= b.0 {
                a
            } else {
                b
            }
        }
        (a, b) => a.or(b)?,
    };
    Some((&text[..at], &text[at + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_back_in_order_with_their_bodies() {
        let response = "--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 201 Created\r\nContent-Type: application/json; odata.metadata=minimal\r\n\r\n{\"accountid\":\"a\"}\r\n--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n{\"error\":{\"code\":\"0x80040217\",\"message\":\"gone\"}}\r\n--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--batchresponse_1--\r\n";
        let answers = answers("batchresponse_1", response).unwrap();
        assert_eq!(answers.len(), 3);
        assert_eq!(answers[0].status, 201);
        assert_eq!(answers[0].body.as_ref().unwrap()["accountid"], "a");
        assert_eq!(answers[1].status, 404);
        assert_eq!(
            answers[2],
            Answer {
                status: 204,
                body: None
            }
        );
        assert_eq!(
            boundary_of("multipart/mixed; boundary=batchresponse_1").as_deref(),
            Some("batchresponse_1")
        );
    }

    #[test]
    fn a_request_part_is_an_http_request() {
        let text = body(
            "batch_x",
            &[Part {
                method: "PATCH",
                path: "/api/data/v9.2/accounts(1)".into(),
                headers: vec![("If-Match", "*".into())],
                body: Some(serde_json::json!({"name": "A"})),
            }],
        );
        assert!(text.starts_with("--batch_x\r\nContent-Type: application/http\r\n"));
        assert!(text.contains("PATCH /api/data/v9.2/accounts(1) HTTP/1.1\r\nIf-Match: *\r\n"));
        assert!(text.ends_with("{\"name\":\"A\"}\r\n--batch_x--\r\n"));
    }
}
