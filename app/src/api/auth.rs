//! Sign-up, sign-in, sign-out and "who am I".

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Shell;

/// The client's address as the server worked it out (the socket's peer, or what a trusted
/// reverse proxy forwarded), put in the request's extensions before any handler runs.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Who may sign up, provided to every server function by the server (`LOCKSTEP_OPEN_SIGNUP`).
/// Without it, sign-up is by invitation once the first account exists.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy, Debug, Default)]
pub struct SignUpPolicy {
    pub open_to_all: bool,
}

/// Creates an account (and its first workspace), signs it in, and goes to `next`. Once an
/// account exists, only a person coming from a pending invitation for their email may sign
/// up, unless the operator opened sign-up to anyone.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    next: Option<String>,
    #[server(default)] workspace_name: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    use catalog::{CatalogError, users};
    respond(async move {
        let policy = use_context::<SignUpPolicy>().unwrap_or_default();
        let ip = client_address();
        let pool = pool()?;
        let session = session().await?;
        let rules = users::SignUpRules {
            open_to_all: policy.open_to_all,
            invitation_token: next.as_deref().and_then(invitation_token),
            client_ip: &ip,
            workspace_name: workspace_name.as_deref(),
        };
        let user = users::sign_up_visitor(&pool, &email, &password, rules)
            .await
            .map_err(|e| match e {
                CatalogError::RateLimited { retry_after_secs } => {
                    AppError::TooManyRequests(format!(
                        "Too many sign-ups from your network. Wait {} minute(s) and try again.",
                        (retry_after_secs + 59) / 60
                    ))
                }
                other => other.into(),
            })?;
        start_session(&session, user.id).await?;
        leptos_axum::redirect(&safe_next(next.as_deref()));
        Ok(())
    })
    .await
}

/// True when anyone may create an account here (the sign-up page shows its form); false
/// when sign-up is by invitation.
#[server(endpoint = "sign_up_open")]
pub async fn sign_up_open() -> Result<bool, AppError> {
    use super::ssr::*;
    respond(async move {
        let policy = use_context::<SignUpPolicy>().unwrap_or_default();
        Ok(catalog::users::sign_up_open_to_all(&pool()?, policy.open_to_all).await?)
    })
    .await
}

/// Signs in. Unknown email and wrong password answer the same; repeated failures are
/// refused for a while (per email and per client address).
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let ip = client_address();
        let pool = pool()?;
        let session = session().await?;
        let user = catalog::users::sign_in(&pool, &email, &password, &ip).await?;
        start_session(&session, user.id).await?;
        leptos_axum::redirect(&safe_next(next.as_deref()));
        Ok(())
    })
    .await
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        end_session(&session().await?).await?;
        leptos_axum::redirect("/signin");
        Ok(())
    })
    .await
}

/// The signed-in person with their workspaces, or `None` when signed out.
#[server(endpoint = "shell")]
pub async fn get_shell() -> Result<Option<Shell>, AppError> {
    use super::ssr::*;
    respond(async move {
        let Some(found) = signed_in().await? else {
            return Ok(None);
        };
        let current = found.current().cloned();
        Ok(Some(Shell {
            user_id: found.user.id,
            email: found.user.email,
            workspaces: found.workspaces.into_iter().map(Into::into).collect(),
            current: current.map(Into::into),
        }))
    })
    .await
}

/// The client's address for rate limiting: what the server's client-address layer found,
/// else the socket's peer. (See [`rate_limit_key`].)
#[cfg(feature = "ssr")]
fn client_address() -> String {
    use axum::extract::ConnectInfo;
    let Some(parts) = use_context::<http::request::Parts>() else {
        return "unknown".to_owned();
    };
    if let Some(ClientAddr(ip)) = parts.extensions.get::<ClientAddr>() {
        return rate_limit_key(*ip);
    }
    parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(addr)| rate_limit_key(addr.ip()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Who a per-client limit counts: an IPv4 address, or an IPv6 address's /64 network (one
/// client usually holds a whole /64 and could otherwise take a new address per attempt).
#[cfg(feature = "ssr")]
fn rate_limit_key(ip: std::net::IpAddr) -> String {
    match ip.to_canonical() {
        std::net::IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(network))
        }
        v4 => v4.to_string(),
    }
}

/// The invitation token in a `next` of the form `/invite/<token>`.
#[cfg(feature = "ssr")]
fn invitation_token(next: &str) -> Option<&str> {
    let token = next.strip_prefix("/invite/")?;
    let token = token.split(['?', '#', '/']).next().unwrap_or_default();
    (!token.is_empty()).then_some(token)
}

/// Where to go after signing in: `next` when it is a path on this site, else `/`.
///
/// Browsers forgive a lot in a `Location` (a tab or newline is dropped, a backslash reads as a
/// slash, `%09` may be decoded), so anything but a plain same-site path is refused: it must
/// start with exactly one `/`, and neither it nor its percent-decoded forms may hold a
/// backslash, `//` at the start, whitespace, control characters or non-ASCII bytes.
pub fn safe_next(next: Option<&str>) -> String {
    const MAX_LEN: usize = 2048;
    /// A path on this site: one leading `/`, no backslash (browsers read it as `/`), no
    /// control character (browsers drop tabs and newlines, joining `/` and `/`).
    fn on_site(path: &str) -> bool {
        path.starts_with('/')
            && !path.starts_with("//")
            && !path.contains('\\')
            && !path.chars().any(char::is_control)
    }
    // What goes into the Location header is the text as given: visible ASCII only (an
    // encoded space or letter like `%20` or `%C3%A9` is fine).
    let Some(raw) = next
        .filter(|n| n.len() <= MAX_LEN && on_site(n) && n.bytes().all(|b| b.is_ascii_graphic()))
    else {
        return "/".to_owned();
    };
    // Decoding can reveal more encoding (`%2509`): check every layer.
    let mut layer = raw.to_owned();
    for _ in 0..4 {
        match percent_decode(&layer) {
            Some(decoded) if decoded == layer => return raw.to_owned(),
            Some(decoded) if on_site(&decoded) => layer = decoded,
            _ => return "/".to_owned(),
        }
    }
    "/".to_owned()
}

/// `%XX` sequences decoded; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[cfg(feature = "ssr")]
    #[test]
    fn ipv6_clients_are_counted_by_their_network() {
        let key = |text: &str| super::rate_limit_key(text.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
    }

    #[test]
    fn local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/invite/abc")), "/invite/abc");
        assert_eq!(safe_next(Some("/members?tab=all")), "/members?tab=all");
        assert_eq!(safe_next(Some("/packages/%41")), "/packages/%41");
        // Encoded spaces and letters stay on the site.
        assert_eq!(safe_next(Some("/runs?q=a%20b")), "/runs?q=a%20b");
        assert_eq!(
            safe_next(Some("/packages/caf%C3%A9")),
            "/packages/caf%C3%A9"
        );
    }

    #[test]
    fn anything_that_could_leave_the_site_becomes_the_root() {
        for next in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/%09/evil.example",
            "/%2509/evil.example",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/\u{0}x",
            "/%00",
            "/%zz",
            "/%",
            "/é",
            "/%C3%A9%ff",
            "",
            "packages",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(Some(next)), "/", "{next:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(5000)))), "/");
    }
}
