//! OAuth 2.0 token endpoint (client credentials and username-password flows) and the
//! Bearer check every data call goes through.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Salesforce;
use super::errors::ApiError;

pub const ORG_ID: &str = "00D000000000001AAA";

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// `POST /services/oauth2/token`, form-encoded.
pub async fn token(State(sf): State<Salesforce>, headers: HeaderMap, body: Bytes) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let param = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let grant = param("grant_type").unwrap_or_default();
    if grant != "client_credentials" && grant != "password" {
        return oauth_error("unsupported_grant_type", "grant type not supported");
    }
    if param("client_id") != Some(Salesforce::CLIENT_ID) {
        return oauth_error("invalid_client_id", "client identifier invalid");
    }
    if param("client_secret") != Some(Salesforce::CLIENT_SECRET) {
        return oauth_error("invalid_client", "invalid client credentials");
    }
    if grant == "password"
        && (param("username") != Some(Salesforce::USERNAME)
            || param("password") != Some(Salesforce::PASSWORD))
    {
        return oauth_error("invalid_grant", "authentication failure");
    }

    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let instance_url = format!("http://{host}");
    let access_token = format!(
        "{}!{}",
        &ORG_ID[..15],
        uuid::Uuid::new_v4().simple().to_string().to_uppercase()
    );
    sf.org().tokens.insert(access_token.clone());
    let mut random = Vec::with_capacity(32);
    random.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    random.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    let issued_at = chrono::Utc::now().timestamp_millis().to_string();
    Json(json!({
        "access_token": access_token,
        "instance_url": instance_url,
        "id": format!("{instance_url}/id/{ORG_ID}/{}", Salesforce::INTEGRATION_USER_ID),
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": base64(&random),
        "scope": "api",
    }))
    .into_response()
}

/// Standard base64 with padding (the token's `signature` shape; not an HMAC here).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Data calls: a known Bearer token (`OAuth` accepted too), an API version `vNN.N` in the path;
/// answers carry `Sforce-Limit-Info`.
pub async fn authorize(State(sf): State<Salesforce>, request: Request, next: Next) -> Response {
    let version_ok = request
        .uri()
        .path()
        .strip_prefix("/services/data/")
        .and_then(|rest| rest.split('/').next())
        .is_some_and(is_version);
    if !version_ok {
        return ApiError::not_found().into_response();
    }
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("OAuth "))
        })
        .map(str::trim);
    let known = token.is_some_and(|t| sf.org().tokens.contains(t));
    if !known {
        return ApiError::invalid_session().into_response();
    }
    let mut response = next.run(request).await;
    let usage = format!("api-usage={}/15000", sf.gate().served());
    if let Ok(value) = HeaderValue::from_str(&usage) {
        response.headers_mut().insert("sforce-limit-info", value);
    }
    response
}

/// `v60.0` and the like.
fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_and_versions() {
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert!(super::is_version("v60.0"));
        assert!(!super::is_version("60.0"));
        assert!(!super::is_version("v60"));
    }
}
