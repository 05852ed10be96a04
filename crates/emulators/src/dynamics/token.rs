//! The Microsoft identity platform token endpoint, `POST /{tenant}/oauth2/v2.0/token`, client
//! credentials grant only. Errors have the identity platform's shape: `error`,
//! `error_description` (`AADSTS…: … Trace ID: … Correlation ID: … Timestamp: …`),
//! `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::Dynamics;
use super::webapi::base_url;

/// Lifetime of an access token, as the identity platform answers for Dataverse.
pub const EXPIRES_IN: i64 = 3599;

fn respond(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    response
}

fn failure(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let now = Utc::now();
    let trace = uuid::Uuid::new_v4();
    let correlation = uuid::Uuid::new_v4();
    respond(
        status,
        json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} \
                 Timestamp: {}",
                now.format("%Y-%m-%d %H:%M:%SZ")
            ),
            "error_codes": [code],
            "timestamp": now.format("%Y-%m-%d %H:%M:%SZ").to_string(),
            "trace_id": trace.to_string(),
            "correlation_id": correlation.to_string(),
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

fn missing(parameter: &str) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        &format!("The request body must contain the following parameter: '{parameter}'."),
    )
}

/// `host:port` of a URL (`http://127.0.0.1:8080/` → `127.0.0.1:8080`).
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or_default()
}

pub async fn token(
    State(dynamics): State<Dynamics>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !tenant.eq_ignore_ascii_case(Dynamics::TENANT) {
        return failure(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                 and are signing into the correct cloud. Check with your subscription \
                 administrator, this may happen if there are no active subscriptions for the \
                 tenant."
            ),
        );
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let param = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let Some(grant) = param("grant_type") else {
        return missing("grant_type");
    };
    if grant != "client_credentials" {
        return failure(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
        );
    }
    let Some(client_id) = param("client_id") else {
        return missing("client_id");
    };
    if !client_id.eq_ignore_ascii_case(Dynamics::CLIENT_ID) {
        return failure(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory \
                 'Emulator'. This can happen if the application has not been installed by the \
                 administrator of the tenant or consented to by any user in the tenant. You may \
                 have sent your authentication request to the wrong tenant."
            ),
        );
    }
    let Some(secret) = param("client_secret") else {
        return failure(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'.",
        );
    };
    if secret != Dynamics::CLIENT_SECRET {
        return failure(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is \
                 the client secret value, not the client secret ID, for a secret added to app \
                 '{}'.",
                Dynamics::CLIENT_ID
            ),
        );
    }
    let Some(scope) = param("scope") else {
        return missing("scope");
    };
    let Some(resource) = scope.trim().strip_suffix("/.default") else {
        return failure(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must \
                 have a scope value with /.default suffixed to the resource identifier \
                 (application ID URI)."
            ),
        );
    };
    let org_url = base_url(&headers);
    if !authority(resource).eq_ignore_ascii_case(authority(&org_url)) {
        return failure(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {resource} was not found in the tenant named \
                 Emulator. This can happen if the application has not been installed by the \
                 administrator of the tenant or consented to by any user in the tenant. You \
                 might have sent your authentication request to the wrong tenant."
            ),
        );
    }
    let access_token = jwt(resource.trim_end_matches('/'));
    dynamics.org().tokens.insert(
        access_token.clone(),
        Utc::now() + chrono::Duration::seconds(EXPIRES_IN),
    );
    respond(
        StatusCode::OK,
        json!({
            "token_type": "Bearer",
            "expires_in": EXPIRES_IN,
            "ext_expires_in": EXPIRES_IN,
            "access_token": access_token,
        }),
    )
}

/// A token shaped like the identity platform's (a JWT; the signature is random bytes).
fn jwt(audience: &str) -> String {
    let now = Utc::now().timestamp();
    let header = json!({ "typ": "JWT", "alg": "RS256" });
    let claims = json!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{}/", Dynamics::TENANT),
        "iat": now,
        "nbf": now,
        "exp": now + EXPIRES_IN,
        "appid": Dynamics::CLIENT_ID,
        "oid": Dynamics::APPLICATION_USER_ID,
        "tid": Dynamics::TENANT,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let mut signature = Vec::new();
    for _ in 0..8 {
        signature.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    format!(
        "{}.{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes()),
        base64url(&signature)
    )
}

/// Base64url without padding.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_and_authority() {
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(authority("http://127.0.0.1:80/"), "127.0.0.1:80");
        assert_eq!(jwt("http://x").split('.').count(), 3);
    }
}
