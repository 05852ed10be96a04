//! Which address a request comes from, for per-client rate limits. The socket's peer, unless
//! that peer is a reverse proxy the operator trusts (`LOCKSTEP_TRUSTED_PROXIES`): then the
//! address the proxies forwarded, read from the right (the hop nearest to us) past every
//! trusted proxy, so a client cannot choose its own address by sending the header itself.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::api::auth::ClientAddr;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use engine::connectors::destination::{Cidr, parse_ranges};
use http::HeaderMap;

/// The reverse proxies whose forwarding headers are believed. Empty by default: the
/// socket's peer is the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// A list of addresses or CIDR networks, separated by commas or spaces.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_ranges(text).map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client behind `peer`. `X-Forwarded-For` is read when present, else `Forwarded`;
    /// an entry that is not an address (`unknown`, garbage) stops the walk at the last
    /// trusted hop.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        for hop in forwarded_hops(headers).into_iter().rev() {
            let Some(ip) = hop else { break };
            client = ip.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// The forwarded-for chain, client first, as proxies appended it; `None` for an entry that is
/// not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff
            .iter()
            .flat_map(|v| v.split(','))
            .map(|hop| parse_hop(hop.trim()))
            .collect();
    }
    values("forwarded")
        .iter()
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(value.trim().trim_matches('"')))
            })
        })
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| t.parse().ok())
}

/// Puts the request's [`ClientAddr`] in its extensions, for rate limits.
pub async fn resolve(
    State(proxies): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let client = proxies.client_of(peer, request.headers());
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(none.client_of(ip("10.0.0.2"), &h), ip("10.0.0.2"));
    }

    #[test]
    fn a_trusted_proxy_forwards_the_client_and_spoofed_entries_are_skipped() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
        // The client sent its own X-Forwarded-For; the proxy appended the real peer.
        let h = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9")]);
        assert_eq!(proxies.client_of(ip("10.1.2.3"), &h), ip("203.0.113.9"));
        // Two trusted hops.
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.7")]);
        assert_eq!(proxies.client_of(ip("::1"), &h), ip("203.0.113.9"));
        // An untrusted peer's header is not believed.
        assert_eq!(proxies.client_of(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        // Garbage stops at the last trusted hop.
        let h = headers(&[("x-forwarded-for", "junk")]);
        assert_eq!(proxies.client_of(ip("10.1.2.3"), &h), ip("10.1.2.3"));
        // IPv4-mapped peers match IPv4 networks.
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            proxies.client_of(ip("::ffff:10.0.0.1"), &h),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_forwarded_header_is_read_when_there_is_no_x_forwarded_for() {
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        let h = headers(&[(
            "forwarded",
            r#"for=198.51.100.1;proto=https, for="[2001:db8::7]:4711""#,
        )]);
        assert_eq!(proxies.client_of(ip("127.0.0.1"), &h), ip("2001:db8::7"));
    }

    #[test]
    fn bad_lists_are_refused_with_the_entry() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(
            TrustedProxies::parse("proxy.local")
                .unwrap_err()
                .contains("proxy.local")
        );
        assert_eq!(
            TrustedProxies::parse(" ").unwrap(),
            TrustedProxies::default()
        );
        let any = TrustedProxies::parse("0.0.0.0/0").unwrap();
        assert!(any.trusts(ip("8.8.8.8")));
    }
}
