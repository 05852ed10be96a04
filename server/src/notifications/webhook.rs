//! Notifications to webhooks: a JSON POST signed with the webhook's secret.
//!
//! Headers: `Lockstep-Event` (`run.failed`, `package.recovered`, `run.failed_records`,
//! `test`), `Lockstep-Delivery` (the delivery's id, the same on every retry), and
//! `Lockstep-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. A receiver
//! recomputes the HMAC with its secret over the timestamp, a dot and the raw body, compares
//! in constant time, and refuses old timestamps (replays).
//!
//! The address is resolved once and checked against the connection address rules
//! (`engine::connectors::destination`: never cloud metadata or link-local addresses, and
//! the operator's deny/allow ranges); the request goes to exactly that address. No redirect
//! is followed. A 2xx answer is delivered; anything else is retried.

use std::time::Duration;

use catalog::notifications::DueDelivery;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// `t=<timestamp>,v1=<signature>` for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

pub async fn send(
    url: &str,
    secret: &SecretString,
    delivery: &DueDelivery,
) -> Result<Option<i32>, (String, Option<i32>)> {
    let fail = |why: String| (why, None);
    let parsed = url::Url::parse(url).map_err(|e| fail(format!("not a URL: {e}")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| fail("the URL has no host".into()))?
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addresses: Vec<std::net::SocketAddr> = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare.as_str(), port))
            .await
            .map_err(|e| fail(format!("{host} does not resolve: {e}")))?
            .collect(),
    };
    let address = addresses
        .first()
        .copied()
        .ok_or_else(|| fail(format!("{host} does not resolve")))?;
    for a in &addresses {
        engine::connectors::destination::check_address(&host, a.ip())
            .map_err(|refusal| fail(refusal.to_string()))?;
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .resolve(&bare, address)
        .build()
        .map_err(|e| fail(format!("no HTTP client: {e}")))?;
    let body = serde_json::to_vec(&delivery.payload).map_err(|e| fail(e.to_string()))?;
    let timestamp = chrono::Utc::now().timestamp();
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "Lockstep-Webhook/1")
        .header("lockstep-event", &delivery.event)
        .header("lockstep-delivery", delivery.id.to_string())
        .header(
            "lockstep-signature",
            signature(secret.expose_secret(), timestamp, &body),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| fail(format!("the request failed: {}", without_url(&e))))?;
    let status = i32::from(response.status().as_u16());
    if response.status().is_success() {
        Ok(Some(status))
    } else {
        Err((
            format!("the receiver answered {}", response.status()),
            Some(status),
        ))
    }
}

/// A request error's message without the URL (which may carry a key).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "the webhook");
    }
    if e.is_timeout() {
        "no answer within 10 s".into()
    } else if e.is_connect() {
        format!("could not connect ({text})")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let a = signature("whsec_x", 1_700_000_000, b"{}");
        assert!(a.starts_with("t=1700000000,v1="));
        assert_eq!(a.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(a, signature("whsec_x", 1_700_000_001, b"{}"));
        assert_ne!(a, signature("whsec_x", 1_700_000_000, b"{ }"));
        assert_ne!(a, signature("whsec_y", 1_700_000_000, b"{}"));
    }
}
