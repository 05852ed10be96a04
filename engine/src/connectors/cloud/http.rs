//! The HTTP side every cloud connector shares: timeouts, rate limits honoured (HTTP 429 and
//! 503, `Retry-After` in seconds or as a date, else exponential backoff), a bounded number of
//! attempts, the API calls counted (users pay for quota), the vendor's clock read from the
//! `Date` header, and request ids logged. Request bodies and headers are never logged: they
//! carry tokens and secrets.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{RequestBuilder, Response, StatusCode};

use super::super::ConnectorError;

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
    ConnectorError::Connection { message, retryable }
}

impl Api {
    pub fn new(vendor: &'static str, policy: RetryPolicy) -> Result<Self, ConnectorError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("Lockstep/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| failure(format!("{vendor}: cannot build an HTTP client: {e}"), false))?;
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
            })?;
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
                Err(e) if e.is_connect() || (replayable && (e.is_timeout() || e.is_request())) => {
                    last = format!("cannot reach {vendor}: {}", error_chain(&e));
                    wait
                }
                // Retryable by the run (which reconciles what was written), not by repeating
                // the request here.
                Err(e) => {
                    return Err(failure(
                        format!("{vendor}: {what}: {}", error_chain(&e)),
                        e.is_timeout() || e.is_request(),
                    ));
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
/// worth retrying (credentials, permissions), 5xx are.
pub async fn unexpected(vendor: &str, what: &str, response: Response) -> ConnectorError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let detail: String = body.chars().take(500).collect();
    failure(
        format!("{vendor}: {what}: {status}: {detail}"),
        status.is_server_error(),
    )
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
}
