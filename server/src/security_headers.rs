//! What browsers are told to enforce on our pages (a Content-Security-Policy with a fresh
//! nonce per response, no framing, no referrer leaving the site, no sniffing, HSTS behind
//! https), and state-changing requests from other sites refused by their `Origin`.
//!
//! The nonce is made here and put in the request's extensions; the server hands it to Leptos
//! (see `startup`), whose hydration and resource `<script>`s carry it. So inline scripts run
//! only when we wrote them, without `'unsafe-inline'`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use leptos::nonce::Nonce;

/// HSTS lifetime: one year.
const HSTS: &str = "max-age=31536000";

/// The policy for one installation, from its public URL.
#[derive(Clone, Debug)]
pub struct BrowserPolicy {
    /// `scheme://host[:port]` of the public URL.
    public_origin: String,
    /// The public URL is https: browsers should never use plain http again.
    hsts: bool,
}

impl BrowserPolicy {
    pub fn new(public_url: &str) -> Self {
        let parsed = url::Url::parse(public_url).ok();
        BrowserPolicy {
            public_origin: parsed
                .as_ref()
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default(),
            hsts: parsed.is_some_and(|u| u.scheme() == "https"),
        }
    }

    /// Same origin as the public URL, or as a host the request was sent to: its `Host`, or
    /// the `X-Forwarded-Host` a reverse proxy set (a browser cannot add that header to a
    /// cross-site request without a CORS preflight we never grant). Default ports are
    /// equal to none (`https://a` is `https://a:443`).
    fn origin_allowed(&self, origin: &str, hosts: &[&str]) -> bool {
        let Some(origin) = origin_of(origin) else {
            return false;
        };
        if !self.public_origin.is_empty() && origin == self.public_origin {
            return true;
        }
        hosts.iter().filter(|h| !h.is_empty()).any(|host| {
            ["http", "https"]
                .iter()
                .any(|scheme| origin_of(&format!("{scheme}://{host}")).as_ref() == Some(&origin))
        })
    }
}

/// `scheme://host[:port]` with a default port left out, lower-cased; `None` for anything
/// that is not an http(s) origin (`null`, garbage).
fn origin_of(text: &str) -> Option<String> {
    let parsed = url::Url::parse(text).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.origin().ascii_serialization())
}

/// The Content-Security-Policy of a response whose inline scripts carry `nonce`.
/// `'wasm-unsafe-eval'` lets the page compile our WASM; styles come from our stylesheet.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the security headers on every response, with a new nonce for each.
pub async fn set_headers(
    State(policy): State<Arc<BrowserPolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = Nonce::new();
    let csp = HeaderValue::from_str(&content_security_policy(&nonce));
    request.extensions_mut().insert(nonce);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    match csp {
        Ok(csp) => {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        // A nonce is URL-safe base64, always a valid header; refuse to serve without a policy.
        Err(e) => {
            tracing::error!(error = %e, "the Content-Security-Policy is not a valid header");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Links we put in URLs (invitations) must not leak to other sites.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        http::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if policy.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}

/// Refuses (403) a POST, PUT, PATCH or DELETE a browser sent from another site: its `Origin`
/// is neither the public URL's nor the requested host's, or, without `Origin`, its
/// `Sec-Fetch-Site` says `cross-site`. Requests with neither header (curl, other programs)
/// pass: they carry no one else's cookies by accident. SameSite=Lax cookies stay a second
/// line of defence.
pub async fn refuse_cross_site_writes(
    State(policy): State<Arc<BrowserPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    if !matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let refused = if let Some(origin) = headers.get(header::ORIGIN) {
        let authority = request.uri().authority().map(|a| a.to_string());
        let mut hosts: Vec<&str> = [header::HOST.as_str(), "x-forwarded-host"]
            .iter()
            .filter_map(|name| headers.get(*name)?.to_str().ok())
            .map(|value| value.split(',').next().unwrap_or_default().trim())
            .collect();
        hosts.extend(authority.as_deref());
        !origin
            .to_str()
            .is_ok_and(|o| policy.origin_allowed(o, &hosts))
    } else {
        headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    };
    if refused {
        tracing::warn!(
            method = %request.method(),
            path = request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "refused a cross-site request"
        );
        return (
            StatusCode::FORBIDDEN,
            "Refused: this request came from another site.",
        )
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_origin_and_the_requested_host_are_ours() {
        let policy = BrowserPolicy::new("https://sync.example.com/");
        assert!(policy.hsts);
        assert!(policy.origin_allowed("https://sync.example.com", &[]));
        assert!(policy.origin_allowed("https://SYNC.example.com:443", &[]));
        assert!(policy.origin_allowed("http://127.0.0.1:3000", &["127.0.0.1:3000"]));
        assert!(!policy.origin_allowed("https://evil.example", &["127.0.0.1:3000"]));
        assert!(!policy.origin_allowed("null", &["127.0.0.1:3000"]));
        assert!(!policy.origin_allowed("http://sync.example.com.evil.example", &[]));
        assert!(!BrowserPolicy::new("http://127.0.0.1:3000").hsts);
        // Behind a reverse proxy that passes `Host: 127.0.0.1:3000` and names the public host
        // in X-Forwarded-Host, without LOCKSTEP_PUBLIC_URL set.
        let unset = BrowserPolicy::new("http://0.0.0.0:3000");
        assert!(unset.origin_allowed(
            "https://sync.example.com",
            &["127.0.0.1:3000", "sync.example.com"]
        ));
        assert!(unset.origin_allowed("https://sync.example.com", &["sync.example.com:443"]));
        assert!(!unset.origin_allowed(
            "https://evil.example",
            &["127.0.0.1:3000", "sync.example.com"]
        ));
    }

    #[test]
    fn the_policy_allows_no_inline_script_without_the_nonce() {
        let csp = content_security_policy("abc");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
