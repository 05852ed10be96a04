//! `POST $batch`: a `multipart/mixed` body of `application/http` parts (each an HTTP request:
//! request line with an absolute, root-relative or service-relative URL, headers, blank line,
//! body), and change sets (a nested `multipart/mixed` part whose requests succeed or fail
//! together; `Content-ID` references such as `$1` at the start of a URL). At most 1,000
//! requests. Parts run in order; without `Prefer: odata.continue-on-error` the first failure
//! stops the batch and the batch answers with that failure's status. CRLF or LF line endings.
//!
//! The answer is `multipart/mixed; boundary=batchresponse_<uuid>`, one part per request (one
//! per change set, itself multipart, or the failing request's answer alone when a change set
//! fails and is rolled back), in order, with CRLF line endings.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use super::errors::ApiError;
use super::options::Prefer;
use super::org::Org;
use super::paging::pct_decode;
use super::reply::{Body, JSON, Reply};
use super::webapi::{self, Call};

/// Requests per batch, change set requests included.
pub const MAX_REQUESTS: usize = 1000;

/// One request of a batch.
#[derive(Debug)]
struct Part {
    content_id: Option<String>,
    method: Method,
    url: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Debug)]
enum Item {
    Single(Part),
    ChangeSet(Vec<Part>),
}

/// The multipart boundary of a `Content-Type` value.
fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let media = params.next()?.trim();
    if !media.eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    params.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// The parts between `--boundary` lines (the line break before a delimiter belongs to it).
fn split(text: &str, boundary: &str) -> Result<Vec<String>, String> {
    let delimiter = format!("--{boundary}");
    let closing = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    let mut closed = false;
    for line in text.split('\n') {
        let trimmed = line.trim_end();
        if trimmed == closing {
            if let Some(lines) = current.take() {
                parts.push(lines.join("\n"));
            }
            closed = true;
            break;
        }
        if trimmed == delimiter {
            if let Some(lines) = current.take() {
                parts.push(lines.join("\n"));
            }
            current = Some(Vec::new());
        } else if let Some(lines) = current.as_mut() {
            lines.push(line);
        }
    }
    if !closed {
        return Err(format!(
            "The batch body does not end with the closing delimiter '{closing}'."
        ));
    }
    Ok(parts)
}

/// Header lines up to the first blank line, and the rest.
fn head(text: &str) -> (Vec<(String, String)>, &str) {
    let mut headers = Vec::new();
    let mut rest = text;
    loop {
        let (line, after) = match rest.split_once('\n') {
            Some((line, after)) => (line, after),
            None => (rest, ""),
        };
        if line.trim().is_empty() {
            return (headers, after);
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        if after.is_empty() {
            return (headers, "");
        }
        rest = after;
    }
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// An `application/http` part: MIME headers, then the request.
fn request(text: &str) -> Result<Part, String> {
    let (mime, rest) = head(text);
    let rest = rest.trim_start_matches(['\n', ' ', '\t']);
    let (line, rest) = rest.split_once('\n').unwrap_or((rest, ""));
    let mut words = line.split_whitespace();
    let (Some(method), Some(url)) = (words.next(), words.next()) else {
        return Err(format!("The request line '{line}' is not valid."));
    };
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("The method '{method}' is not valid."))?;
    let (fields, body) = head(rest);
    let mut headers = HeaderMap::new();
    for (name, value) in &fields {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    let content_id = header(&mime, "content-id")
        .or_else(|| header(&fields, "content-id"))
        .map(str::to_owned);
    Ok(Part {
        content_id,
        method,
        url: url.to_string(),
        headers,
        body: body.trim().to_string(),
    })
}

fn items(text: &str, boundary: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    for part in split(text, boundary)? {
        let (mime, rest) = head(&part);
        let content_type = header(&mime, "content-type").unwrap_or_default();
        if let Some(inner) = self::boundary(content_type) {
            let requests = split(rest, &inner)?
                .iter()
                .map(|p| request(p))
                .collect::<Result<Vec<_>, _>>()?;
            items.push(Item::ChangeSet(requests));
        } else if content_type
            .split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/http"))
        {
            items.push(Item::Single(request(&part)?));
        } else {
            return Err(format!(
                "A batch part has the content type '{content_type}'; expected \
                 'application/http' or 'multipart/mixed'."
            ));
        }
    }
    Ok(items)
}

/// A part's URL as (resource path after the version, raw query).
fn target(url: &str) -> Result<(String, String), String> {
    let without_origin = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    };
    let (path, query) = without_origin
        .split_once('?')
        .unwrap_or((without_origin, ""));
    let resource = match path.strip_prefix("/api/data/") {
        Some(rest) => rest.split_once('/').map_or("", |(_, r)| r),
        None if path.starts_with('/') => {
            return Err(format!("The URL '{url}' is not under /api/data/."));
        }
        None => path,
    };
    Ok((pct_decode(resource), query.to_string()))
}

/// A batch-level failure (bad multipart, too many requests): a plain JSON error.
fn refuse(message: impl Into<String>) -> Reply {
    Reply::from(ApiError::bad_request("0x80048d19", message))
}

pub fn run(org: &mut Org, call: &Call) -> Reply {
    let Some(boundary) = call
        .header("content-type")
        .as_deref()
        .and_then(self::boundary)
    else {
        return refuse(
            "The batch request must have a Content-Type header of 'multipart/mixed' with a \
             boundary.",
        );
    };
    let text = String::from_utf8_lossy(call.body).replace("\r\n", "\n");
    let items = match items(&text, &boundary) {
        Ok(items) => items,
        Err(message) => return refuse(message),
    };
    let count: usize = items
        .iter()
        .map(|i| match i {
            Item::Single(_) => 1,
            Item::ChangeSet(parts) => parts.len(),
        })
        .sum();
    if count > MAX_REQUESTS {
        return refuse(format!(
            "The batch contains {count} requests; the maximum is {MAX_REQUESTS}."
        ));
    }
    let continue_on_error = Prefer::of(call.headers).continue_on_error;
    let response_boundary = format!("batchresponse_{}", uuid::Uuid::new_v4());
    let mut out = String::new();
    let mut status = StatusCode::OK;
    for item in items {
        let (text, failed) = match item {
            Item::Single(part) => {
                let reply = execute(org, call, &part, &[]);
                (
                    render(&reply, None),
                    reply.is_error().then_some(reply.status),
                )
            }
            Item::ChangeSet(parts) => change_set(org, call, &parts),
        };
        out.push_str(&format!("--{response_boundary}\r\n{text}\r\n"));
        if let Some(failure) = failed
            && !continue_on_error
        {
            status = failure;
            break;
        }
    }
    out.push_str(&format!("--{response_boundary}--\r\n"));
    Reply {
        status,
        headers: Vec::new(),
        body: Body::Raw {
            content_type: format!("multipart/mixed; boundary={response_boundary}"),
            text: out,
        },
    }
}

/// Runs one request; `created` maps change-set Content-IDs to the URLs of rows created.
fn execute(org: &mut Org, call: &Call, part: &Part, created: &[(String, String)]) -> Reply {
    let mut url = part.url.clone();
    if let Some(reference) = url.strip_prefix('$') {
        let id: String = reference.chars().take_while(char::is_ascii_digit).collect();
        match created.iter().find(|(cid, _)| *cid == id) {
            Some((_, entity_url)) => url = format!("{entity_url}{}", &reference[id.len()..]),
            None => {
                return refuse(format!(
                    "Content-ID Reference: '${id}' does not exist in the batch context."
                ));
            }
        }
    }
    let (path, query) = match target(&url) {
        Ok(target) => target,
        Err(message) => return refuse(message),
    };
    let inner = Call {
        method: &part.method,
        path: &path,
        query: &query,
        headers: &part.headers,
        body: part.body.as_bytes(),
        base: call.base,
        who: call.who,
        in_batch: true,
    };
    webapi::dispatch(org, &inner)
}

/// All or nothing: on the first failure the org is restored and that failure answers for
/// the whole change set.
fn change_set(org: &mut Org, call: &Call, parts: &[Part]) -> (String, Option<StatusCode>) {
    let snapshot = org.clone();
    let mut created: Vec<(String, String)> = Vec::new();
    let mut replies = Vec::new();
    for part in parts {
        let reply = if part.method == Method::GET {
            refuse("GET requests are not allowed within a change set.")
        } else {
            execute(org, call, part, &created)
        };
        if reply.is_error() {
            *org = snapshot;
            return (
                render(&reply, part.content_id.as_deref()),
                Some(reply.status),
            );
        }
        if let (Some(cid), Some((_, url))) = (
            &part.content_id,
            reply.headers.iter().find(|(n, _)| *n == "odata-entityid"),
        ) {
            created.push((cid.clone(), url.clone()));
        }
        replies.push((reply, part.content_id.clone()));
    }
    let boundary = format!("changesetresponse_{}", uuid::Uuid::new_v4());
    let mut text = format!("Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n");
    for (reply, content_id) in &replies {
        text.push_str(&format!(
            "--{boundary}\r\n{}\r\n",
            render(reply, content_id.as_deref())
        ));
    }
    text.push_str(&format!("--{boundary}--"));
    (text, None)
}

/// One `application/http` answer part (without the delimiter and the line break after it).
fn render(reply: &Reply, content_id: Option<&str>) -> String {
    let mut text =
        String::from("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = content_id {
        text.push_str(&format!("Content-ID: {id}\r\n"));
    }
    text.push_str(&format!(
        "\r\nHTTP/1.1 {} {}\r\n",
        reply.status.as_u16(),
        reply.status.canonical_reason().unwrap_or("")
    ));
    if reply.is_error() {
        text.push_str(&format!("REQ_ID: {}\r\n", uuid::Uuid::new_v4()));
    }
    let (content_type, body) = match &reply.body {
        Body::Json(value) => (Some(JSON), value.to_string()),
        Body::Empty => (None, String::new()),
        Body::Raw { content_type, text } => (Some(content_type.as_str()), text.clone()),
    };
    if let Some(content_type) = content_type {
        text.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    text.push_str("OData-Version: 4.0\r\n");
    for (name, value) in &reply.headers {
        let name = match *name {
            "odata-entityid" => {
                text.push_str(&format!("Location: {value}\r\n"));
                "OData-EntityId"
            }
            "preference-applied" => "Preference-Applied",
            other => other,
        };
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(&body);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parts_and_change_sets() {
        let body = "--batch_1\n\
            Content-Type: application/http\n\
            Content-Transfer-Encoding: binary\n\
            \n\
            POST http://h/api/data/v9.2/accounts HTTP/1.1\n\
            Content-Type: application/json; type=entry\n\
            \n\
            {\"name\":\"a\"}\n\
            --batch_1\n\
            Content-Type: multipart/mixed; boundary=\"changeset_2\"\n\
            \n\
            --changeset_2\n\
            Content-Type: application/http\n\
            Content-Transfer-Encoding:binary\n\
            Content-ID: 1\n\
            \n\
            PATCH /api/data/v9.2/accounts(0f8fad5b-d9cb-469f-a165-70867728950e) HTTP/1.1\n\
            \n\
            {}\n\
            --changeset_2--\n\
            --batch_1--\n";
        let items = items(body, "batch_1").unwrap();
        assert_eq!(items.len(), 2);
        let Item::Single(first) = &items[0] else {
            panic!("not a single request")
        };
        assert_eq!(first.method, Method::POST);
        assert_eq!(first.body, "{\"name\":\"a\"}");
        assert_eq!(
            target(&first.url).unwrap(),
            ("accounts".to_string(), String::new())
        );
        let Item::ChangeSet(parts) = &items[1] else {
            panic!("not a change set")
        };
        assert_eq!(parts[0].content_id.as_deref(), Some("1"));
        assert_eq!(
            boundary("multipart/mixed; boundary=\"batch_x\"").as_deref(),
            Some("batch_x")
        );
        assert_eq!(
            target("accounts?$select=name").unwrap(),
            ("accounts".into(), "$select=name".into())
        );
        assert!(items_missing_close());
    }

    fn items_missing_close() -> bool {
        items(
            "--b\nContent-Type: application/http\n\nGET accounts HTTP/1.1\n",
            "b",
        )
        .is_err()
    }
}
