//! The HTTP side every cloud connector shares: timeouts, rate limits honoured (HTTP 429 and
//! 503, `Retry-After` in seconds or as a date, else exponential backoff), a bounded number of
//! attempts, the API calls counted (users pay for quota), the vendor's clock read from the
//! `Date` header, and request ids logged. Request bodies and headers are never logged: they
//! carry tokens and secrets.
//!
//! Where requests go is held tight, since they carry a token: no redirect is followed, every
//! address a host name resolves to passes `connectors::destination` (a literal IP address in
//! the URL too), paging links must stay on the connection's own scheme, host and port
//! ([`pin_link`]), and a vendor's error answer is shown as a short summary ([`summary`]),
//! never its raw body.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{RequestBuilder, Response, StatusCode};

use super::super::ConnectorError;
use super::super::destination;

/// How hard to insist when the vendor asks us to slow down.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request in all (the first included).
    pub attempts: u32,
    /// The first wait when the vendor does not say how long; doubled each time.
    pub backoff: Duration,
    /// No single wait is longer (a longer `Retry-After` fails the call as retryable, and
    /// the run's own retry takes over).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
        }
    }
}

pub struct Api {
    vendor: &'static str,
    client: reqwest::Client,
    policy: RetryPolicy,
    calls: AtomicU64,
    /// The vendor's clock at the last response (`Date` header).
    server_time: Mutex<Option<DateTime<Utc>>>,
}

/// A call that failed for the whole request (not one record).
pub fn failure(message: String, retryable: bool) -> ConnectorError {
    ConnectorError::connection(message, retryable)
}

impl Api {
    pub fn new(vendor: &'static str, policy: RetryPolicy) -> Result<Self, ConnectorError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("Lockstep/", env!("CARGO_PKG_VERSION")))
            // A redirect would take the token (or the sign-in form) somewhere unchecked.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(CheckedResolver))
            .build()
            .map_err(|e| {
                failure(format!("{vendor}: cannot build an HTTP client: {e}"), false).caused_by(e)
            })?;
        Ok(Api {
            vendor,
            client,
            policy,
            calls: AtomicU64::new(0),
            server_time: Mutex::new(None),
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// API calls made so far (each attempt counts: the vendor counts them too).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The vendor's clock as of the last response, else ours.
    pub fn server_time(&self) -> DateTime<Utc> {
        self.server_time
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(Utc::now)
    }

    /// Sends the request `build` makes (called again for each attempt), waiting out 429 and
    /// 503 answers (the vendor did not act on the request) and connections that could not be
    /// opened. A request that may have reached the vendor and timed out is tried again only
    /// when repeating it is harmless (GET, PUT, DELETE): a create sent twice would create
    /// twice. Any other answer is returned as it is.
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, ConnectorError> {
        let vendor = self.vendor;
        let mut wait = self.policy.backoff;
        let mut last = String::new();
        for attempt in 1..=self.policy.attempts {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let started = std::time::Instant::now();
            let request = build().build().map_err(|e| {
                failure(
                    format!("{vendor}: {what}: cannot build the request: {e}"),
                    false,
                )
                .caused_by(e)
            })?;
            check_literal_host(request.url())?;
            let replayable = matches!(
                *request.method(),
                reqwest::Method::GET | reqwest::Method::PUT | reqwest::Method::DELETE
            );
            let result = self.client.execute(request).await;
            let delay = match result {
                Ok(response) => {
                    self.note_date(&response);
                    let status = response.status();
                    tracing::debug!(
                        vendor,
                        what,
                        status = status.as_u16(),
                        request_id = request_id(&response),
                        ms = started.elapsed().as_millis() as u64,
                        "API call"
                    );
                    if status != StatusCode::TOO_MANY_REQUESTS
                        && status != StatusCode::SERVICE_UNAVAILABLE
                    {
                        return Ok(response);
                    }
                    last = format!("{vendor} answered {status}");
                    retry_after(&response).unwrap_or(wait)
                }
                // A refused address stays refused: no waiting, no retry.
                Err(e) if refusal_of(&e).is_some() => {
                    return Err(refusal_of(&e).cloned().expect("checked").into());
                }
                Err(e) if e.is_connect() || (replayable && (e.is_timeout() || e.is_request())) => {
                    last = format!("cannot reach {vendor}: {}", error_chain(&e));
                    wait
                }
                // Retryable by the run (which reconciles what was written), not by repeating
                // the request here.
                Err(e) => {
                    let retryable = e.is_timeout() || e.is_request();
                    return Err(failure(
                        format!("{vendor}: {what}: {}", error_chain(&e)),
                        retryable,
                    )
                    .caused_by(e));
                }
            };
            if attempt == self.policy.attempts || delay > self.policy.max_wait {
                break;
            }
            tracing::info!(vendor, what, attempt, wait_ms = delay.as_millis() as u64, reason = %last, "waiting before trying again");
            tokio::time::sleep(delay).await;
            wait = (wait * 2).min(self.policy.max_wait);
        }
        Err(failure(
            format!(
                "{what}: {last} (gave up after {} attempts; the run will be retried)",
                self.policy.attempts
            ),
            true,
        ))
    }

    /// `send` for the common shape: a bearer token, query parameters, an optional JSON body.
    pub async fn call(
        &self,
        what: &str,
        method: &reqwest::Method,
        url: &str,
        token: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Response, ConnectorError> {
        self.send(what, || {
            let request = self
                .client
                .request(method.clone(), url)
                .bearer_auth(token)
                .query(query);
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        })
        .await
    }

    fn note_date(&self, response: &Response) {
        let date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
        if let Some(date) = date {
            *self.server_time.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(date.with_timezone(&Utc));
        }
    }
}

fn request_id(response: &Response) -> Option<String> {
    [
        "sforce-request-id",
        "x-hubspot-correlation-id",
        "x-request-id",
        "request-id",
        "x-ms-service-request-id",
    ]
    .iter()
    .find_map(|h| response.headers().get(*h))
    .and_then(|v| v.to_str().ok())
    .map(str::to_owned)
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    parse_retry_after(value, Utc::now())
}

fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The address refusal (from [`CheckedResolver`]) behind a failed request, if that is why.
fn refusal_of(e: &reqwest::Error) -> Option<&destination::Refusal> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(refusal) = s.downcast_ref::<destination::Refusal>() {
            return Some(refusal);
        }
        source = s.source();
    }
    None
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A vendor's answer that is not a success, as an error for the whole call: 401/403 are not
/// worth retrying (credentials, permissions), 5xx are. The body is summarised, not echoed.
pub async fn unexpected(vendor: &str, what: &str, response: Response) -> ConnectorError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    failure(
        format!("{vendor}: {what}: {}", summary(status, &body)),
        status.is_server_error(),
    )
}

/// What a person may read of a vendor's error answer: the status and the error code and
/// message of the documented error shapes (Salesforce `[{errorCode, message}]`, OData
/// `{error: {code, message}}`, HubSpot `{category, message}`, OAuth `{error,
/// error_description}`), at most [`SUMMARY_CHARS`] characters, control characters removed.
/// Anything else in the body (an HTML page, a proxy's or another server's answer) is left out.
pub fn summary(status: StatusCode, body: &str) -> String {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let text = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (code, message) = match &json {
        Some(serde_json::Value::Array(items)) => {
            let first = items.first();
            (
                text(first.and_then(|e| e.get("errorCode"))),
                text(first.and_then(|e| e.get("message"))),
            )
        }
        Some(j) => match j.get("error") {
            Some(serde_json::Value::Object(e)) => (text(e.get("code")), text(e.get("message"))),
            Some(serde_json::Value::String(code)) => {
                (code.clone(), text(j.get("error_description")))
            }
            _ => (text(j.get("category")), text(j.get("message"))),
        },
        None => (String::new(), String::new()),
    };
    let mut out = status.to_string();
    if status.is_redirection() {
        out.push_str(" (redirects are not followed: check the address)");
    }
    for part in [code, message] {
        let part: String = part.chars().filter(|c| !c.is_control()).collect();
        if !part.trim().is_empty() {
            out.push_str(": ");
            out.push_str(part.trim());
        }
    }
    clip(&out)
}

/// The longest vendor error summary shown.
pub const SUMMARY_CHARS: usize = 120;

/// `text` without control characters, at most [`SUMMARY_CHARS`] characters.
pub fn clip(text: &str) -> String {
    let clean: Vec<char> = text.chars().filter(|c| !c.is_control()).collect();
    if clean.len() <= SUMMARY_CHARS {
        clean.into_iter().collect()
    } else {
        let mut out: String = clean[..SUMMARY_CHARS - 1].iter().collect();
        out.push('…');
        out
    }
}

/// A paging link the vendor handed back (`nextRecordsUrl`, `@odata.nextLink`), resolved
/// against `base`, only if it stays on `base`'s scheme, host and port: the request carries
/// the connection's token.
pub fn pin_link(vendor: &str, base: &str, link: &str) -> Result<url::Url, ConnectorError> {
    let refused = || {
        failure(
            format!("{vendor}: the next page's link points away from {base}; it was not followed"),
            false,
        )
    };
    let base_url = url::Url::parse(base).map_err(|_| refused())?;
    let url = base_url.join(link).map_err(|_| refused())?;
    if url.origin() != base_url.origin() || !url.username().is_empty() || url.password().is_some() {
        return Err(refused());
    }
    Ok(url)
}

/// A URL whose host is an IP address is not resolved, so its address is checked here.
fn check_literal_host(url: &url::Url) -> Result<(), ConnectorError> {
    let address = match url.host() {
        Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
        _ => return Ok(()),
    };
    destination::check_address(&address.to_string(), address).map_err(Into::into)
}

/// The system's resolver, keeping only addresses `connectors::destination` admits: a host
/// name that resolves (now, or after a DNS change) to a refused address is not connected to.
struct CheckedResolver;

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut admitted = Vec::with_capacity(found.len());
            for address in found {
                destination::check_address(&host, address.ip())?;
                admitted.push(address);
            }
            Ok(Box::new(admitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 25 Nov 2026 12:00:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn vendor_errors_are_summarised_not_echoed() {
        let salesforce =
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        assert_eq!(
            summary(StatusCode::UNAUTHORIZED, salesforce),
            "401 Unauthorized: INVALID_SESSION_ID: Session expired or invalid"
        );
        let odata =
            r#"{"error":{"code":"0x80040217","message":"account\nWith Id = x Does Not Exist"}}"#;
        assert_eq!(
            summary(StatusCode::NOT_FOUND, odata),
            "404 Not Found: 0x80040217: accountWith Id = x Does Not Exist"
        );
        let hubspot = r#"{"status":"error","message":"Property values were not valid","category":"VALIDATION_ERROR"}"#;
        assert_eq!(
            summary(StatusCode::BAD_REQUEST, hubspot),
            "400 Bad Request: VALIDATION_ERROR: Property values were not valid"
        );
        let page = "<html><body>internal admin console: users, sessions, keys</body></html>";
        assert_eq!(
            summary(StatusCode::INTERNAL_SERVER_ERROR, page),
            "500 Internal Server Error"
        );
        let long = format!(
            r#"{{"error":"invalid_client","error_description":"{}"}}"#,
            "x".repeat(500)
        );
        let text = summary(StatusCode::BAD_REQUEST, &long);
        assert_eq!(text.chars().count(), SUMMARY_CHARS);
        assert!(text.ends_with('…'));
        assert!(summary(StatusCode::FOUND, "").contains("redirects are not followed"));
    }

    #[test]
    fn paging_links_stay_on_the_connection() {
        let base = "https://org.my.salesforce.com";
        assert_eq!(
            pin_link("S", base, "/services/data/v60.0/query/01g-2000")
                .unwrap()
                .as_str(),
            "https://org.my.salesforce.com/services/data/v60.0/query/01g-2000"
        );
        for away in [
            "https://evil.example/services/data/v60.0/query/01g-2000",
            "//evil.example/x",
            "http://org.my.salesforce.com/x",
            "https://org.my.salesforce.com:8443/x",
            "https://org.my.salesforce.com@evil.example/x",
        ] {
            assert!(pin_link("S", base, away).is_err(), "{away}");
        }
        // Concatenation would have made this one a user name on another host.
        assert!(
            pin_link("S", base, "@evil.example/x")
                .is_ok_and(|u| u.host_str() == Some("org.my.salesforce.com"))
        );
    }
}
