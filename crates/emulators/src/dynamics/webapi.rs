//! The Web API under `/api/data/v9.x/`: the bearer token check, then one dispatcher for every
//! resource, used for HTTP requests and for the parts of a `$batch` alike.

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Dynamics;
use super::errors::ApiError;
use super::options::Options;
use super::org::Org;
use super::paging::pct_decode;
use super::reply::Reply;
use super::schema::{by_set, entities};
use super::{batch, metadata, query, write};

/// Request bodies up to this size are read ($batch bodies can be large).
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// One Web API request, from HTTP or from a `$batch` part.
pub struct Call<'a> {
    pub method: &'a Method,
    /// The resource path after `/api/data/v9.2/`, percent-decoded (`accounts(…)`).
    pub path: &'a str,
    /// The raw query string (without `?`).
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The org URL: `http://host:port`.
    pub base: &'a str,
    /// The user the call acts as.
    pub who: &'a str,
    pub in_batch: bool,
}

impl Call<'_> {
    /// `http://host:port/api/data/v9.2`
    pub fn root_url(&self) -> String {
        format!("{}/api/data/v9.2", self.base)
    }

    pub fn metadata_url(&self) -> String {
        format!("{}/$metadata", self.root_url())
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
    }

    fn url(&self) -> String {
        if self.query.is_empty() {
            format!("{}/{}", self.root_url(), self.path)
        } else {
            format!("{}/{}?{}", self.root_url(), self.path, self.query)
        }
    }
}

/// `http://` + the Host header.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// Every request under `/api/data/`.
pub async fn handle(State(dynamics): State<Dynamics>, request: Request) -> Response {
    let base = base_url(request.headers());
    if !dynamics.authorized(request.headers()) {
        return unauthorized(&base);
    }
    let (parts, body) = request.into_parts();
    let Some(path) = parts
        .uri
        .path()
        .strip_prefix("/api/data/")
        .and_then(|rest| rest.split_once('/').or(Some((rest, ""))))
        .filter(|(version, _)| is_version(version))
        .map(|(_, path)| pct_decode(path))
    else {
        return Reply::from(ApiError::no_segment(parts.uri.path())).into_response();
    };
    let body = match to_bytes(body, BODY_LIMIT).await {
        Ok(body) => body,
        Err(_) => {
            return Reply::from(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "0x8004e003",
                "The request is too large.",
            ))
            .into_response();
        }
    };
    let call = Call {
        method: &parts.method,
        path: &path,
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
        base: &base,
        who: Dynamics::APPLICATION_USER_ID,
        in_batch: false,
    };
    let mut org = dynamics.org();
    dispatch(&mut org, &call).into_response()
}

/// `v9.2`, `v9.0`, …
fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix("v9.")
        .is_some_and(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
}

/// 401: no token, an unknown one or an expired one. Empty body, the challenge in the header.
fn unauthorized(base: &str) -> Response {
    let challenge = format!(
        "Bearer authorization_uri={base}/{}/oauth2/authorize, resource_id={base}/",
        Dynamics::TENANT
    );
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

pub fn dispatch(org: &mut Org, call: &Call) -> Reply {
    route(org, call).unwrap_or_else(Reply::from)
}

fn route(org: &mut Org, call: &Call) -> Result<Reply, ApiError> {
    let options = Options::parse(call.query)?;
    let path = call.path.trim_end_matches('/');
    let method = call.method;
    match path {
        "" if method == Method::GET => Ok(service_document(call)),
        "$batch" if call.in_batch => Err(ApiError::bad_request(
            "0x80060891",
            "A batch request can't contain another batch request.",
        )),
        "$batch" if method == Method::POST => Ok(batch::run(org, call)),
        "WhoAmI" | "WhoAmI()" if method == Method::GET => Ok(metadata::who_am_i(call)),
        "" | "$batch" | "WhoAmI" | "WhoAmI()" => Err(ApiError::no_resource(&call.url())),
        "EntityDefinitions" if method == Method::GET => metadata::definitions(call, &options),
        _ if path.starts_with("EntityDefinitions(") => {
            if method != Method::GET {
                return Err(ApiError::method_not_allowed(method.as_str()));
            }
            let (key, rest) = keyed(path, "EntityDefinitions")?;
            match rest {
                "" => metadata::definition(call, &options, key),
                "/Attributes" => metadata::attributes(call, key),
                "/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata" => {
                    metadata::lookup_attributes(call, key)
                }
                other => Err(ApiError::no_segment(other.trim_start_matches('/'))),
            }
        }
        "EntityDefinitions" => Err(ApiError::method_not_allowed(method.as_str())),
        _ => entity_set(org, call, path, &options),
    }
}

/// `name(key)rest` → (key, rest).
fn keyed<'p>(path: &'p str, name: &str) -> Result<(&'p str, &'p str), ApiError> {
    let inner = &path[name.len()..];
    let close = inner.find(')').ok_or_else(|| {
        ApiError::query(format!("Bad Request - Error in query syntax: '{path}'."))
    })?;
    Ok((&inner[1..close], &inner[close + 1..]))
}

fn entity_set(
    org: &mut Org,
    call: &Call,
    path: &str,
    options: &Options,
) -> Result<Reply, ApiError> {
    let set = path.split(['(', '/']).next().unwrap_or_default();
    let entity = by_set(set).ok_or_else(|| ApiError::no_segment(set))?;
    let method = call.method;
    if path == set {
        return match *method {
            Method::GET => query::collection(org, entity, call, options),
            Method::POST => write::create(org, entity, call, options),
            _ => Err(ApiError::method_not_allowed(method.as_str())),
        };
    }
    if !path[set.len()..].starts_with('(') {
        let segment = path[set.len()..].trim_start_matches('/');
        return Err(ApiError::no_segment(segment));
    }
    let (key, rest) = keyed(path, set)?;
    if !rest.is_empty() {
        return Err(ApiError::no_segment(rest.trim_start_matches('/')));
    }
    let id = parse_key(key)?;
    match *method {
        Method::GET => query::single(org, entity, &id, call, options),
        Method::PATCH => write::update(org, entity, &id, call, options),
        Method::DELETE => write::delete(org, entity, &id),
        _ => Err(ApiError::method_not_allowed(method.as_str())),
    }
}

/// A primary key in a URL: a GUID (braces tolerated), lowercased.
fn parse_key(key: &str) -> Result<String, ApiError> {
    let trimmed = key.trim().trim_start_matches('{').trim_end_matches('}');
    if key.contains('=') {
        return Err(ApiError::query(format!(
            "Alternate keys are not supported by this emulator: '{key}'."
        )));
    }
    uuid::Uuid::parse_str(trimmed)
        .map(|id| id.to_string())
        .map_err(|_| {
            ApiError::query(format!(
                "Unrecognized 'Edm.Guid' literal '{key}' at '0' in '{key}'."
            ))
        })
}

/// `GET /api/data/v9.2/`: the entity sets.
fn service_document(call: &Call) -> Reply {
    let sets: Vec<_> = entities()
        .iter()
        .map(|e| json!({ "name": e.set_name, "kind": "EntitySet", "url": e.set_name }))
        .collect();
    Reply::json(
        StatusCode::OK,
        json!({ "@odata.context": call.metadata_url(), "value": sets }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_versions() {
        assert_eq!(
            parse_key("{0F8FAD5B-D9CB-469F-A165-70867728950E}").unwrap(),
            "0f8fad5b-d9cb-469f-a165-70867728950e"
        );
        assert!(parse_key("name='x'").is_err());
        assert!(parse_key("12").is_err());
        assert!(is_version("v9.2"));
        assert!(!is_version("v8.2"));
        assert_eq!(
            keyed(
                "EntityDefinitions(LogicalName='account')/Attributes",
                "EntityDefinitions"
            )
            .unwrap(),
            ("LogicalName='account'", "/Attributes")
        );
    }
}
