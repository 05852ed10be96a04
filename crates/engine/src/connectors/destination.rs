//! Where a connection may point. Lockstep connects wherever a workspace's Developer says, from
//! inside the installation's network, so the address is checked after DNS resolution before
//! anything is sent there:
//!
//! - the installation's own metadata database (same server, reached by any of its addresses,
//!   and same database name) is never a connection: it holds sessions, accounts and sealed
//!   secrets;
//! - link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254,
//!   100.100.100.200, Azure's 168.63.129.16), multicast and broadcast are refused;
//! - the operator may refuse more ranges (`LOCKSTEP_CONNECTION_DENY`) or allow only some
//!   (`LOCKSTEP_CONNECTION_ALLOW`). Private ranges and loopback stay allowed by default:
//!   syncing a database on the same machine or network is what many installations do.
//!
//! Cloud clients apply the same check to every address their HTTP client resolves
//! (`cloud::http`), so a host name that later resolves elsewhere is refused at that moment.
//! Database drivers resolve the name again when they connect; a DNS answer that changes
//! between the check and the connection is not caught for them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::sync::RwLock;

use sqlx::PgPool;

use crate::package::ConnectionSpec;

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().map_err(|_| {
            format!("“{text}” is not an address range such as 10.0.0.0/8 or fd00::/8")
        })?;
        let network = canonical(network);
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("“{text}”: the prefix length must be 0 to {max}"))?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A comma- or space-separated list of ranges (an operator setting).
pub fn parse_ranges(text: &str) -> Result<Vec<Cidr>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(Cidr::from_str)
        .collect()
}

/// The operator's ranges: `deny` are refused; `allow`, when not empty, is all that is allowed.
/// Neither lifts the built-in refusals or the metadata database's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranges {
    pub allow: Vec<Cidr>,
    pub deny: Vec<Cidr>,
}

static OPERATOR: RwLock<Option<Ranges>> = RwLock::new(None);

/// Sets the operator's ranges for this process (the server reads them from its environment
/// at start-up).
pub fn configure(ranges: Ranges) {
    *OPERATOR.write().unwrap_or_else(|e| e.into_inner()) = Some(ranges);
}

fn operator() -> Ranges {
    OPERATOR
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Always refused, whatever the operator says, and why.
const BUILT_IN: [(&str, &str); 11] = [
    // Connecting to 0.0.0.0 or :: reaches this machine's listeners while matching no
    // loopback range an operator may deny: refused, 127.0.0.1 or ::1 say it plainly.
    (
        "0.0.0.0/32",
        "the unspecified address (write 127.0.0.1 for this machine)",
    ),
    (
        "::/128",
        "the unspecified address (write ::1 for this machine)",
    ),
    (
        "169.254.0.0/16",
        "a link-local address, where cloud instance metadata lives",
    ),
    ("fe80::/10", "a link-local address"),
    ("fd00:ec2::254/128", "a cloud instance metadata address"),
    ("100.100.100.200/32", "a cloud instance metadata address"),
    ("168.63.129.16/32", "a cloud platform address"),
    ("224.0.0.0/4", "a multicast address"),
    ("ff00::/8", "a multicast address"),
    ("255.255.255.255/32", "a broadcast address"),
    ("192.0.0.192/32", "a cloud instance metadata address"),
];

/// IPv4 addresses written as IPv6 (`::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) as IPv4, so a
/// range check cannot be stepped around by spelling.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let bits = (u32::from(s[6]) << 16) | u32::from(s[7]);
                return IpAddr::V4(Ipv4Addr::from(bits));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

/// Why a connection's destination is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "this is Lockstep's own metadata database (same server and database name); it cannot be used as a connection: choose another database"
    )]
    MetadataDatabase,
    #[error("{host} is {address}, {reason}: connections there are refused")]
    Address {
        host: String,
        address: IpAddr,
        reason: &'static str,
    },
    #[error(
        "{host} is {address}, which this installation refuses (LOCKSTEP_CONNECTION_DENY); ask its operator, or choose another server"
    )]
    Denied { host: String, address: IpAddr },
    #[error(
        "{host} is {address}, outside the address ranges this installation allows (LOCKSTEP_CONNECTION_ALLOW); ask its operator, or choose another server"
    )]
    NotAllowed { host: String, address: IpAddr },
    #[error(
        "the host name “{host}” does not resolve to an address: check its spelling and this server's DNS"
    )]
    Unresolved { host: String },
    #[error("{0}")]
    Invalid(String),
}

impl Refusal {
    /// The connection form's field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Refusal::MetadataDatabase => "database",
            _ => "host",
        }
    }
}

/// Whether an address a host name resolved to may be connected to.
pub fn check_address(host: &str, address: IpAddr) -> Result<(), Refusal> {
    let ip = canonical(address);
    for (range, reason) in BUILT_IN {
        let range: Cidr = range.parse().expect("the built-in ranges parse");
        if range.contains(ip) {
            return Err(Refusal::Address {
                host: host.to_owned(),
                address: ip,
                reason,
            });
        }
    }
    let ranges = operator();
    if ranges.deny.iter().any(|r| r.contains(ip)) {
        return Err(Refusal::Denied {
            host: host.to_owned(),
            address: ip,
        });
    }
    if !ranges.allow.is_empty() && !ranges.allow.iter().any(|r| r.contains(ip)) {
        return Err(Refusal::NotAllowed {
            host: host.to_owned(),
            address: ip,
        });
    }
    Ok(())
}

/// The addresses `host` resolves to (an IP address as itself). A name that does not
/// resolve is refused: the driver would look it up again, and a second answer is not one
/// this check has seen.
async fn resolve(host: &str, port: u16) -> Result<Vec<IpAddr>, Refusal> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let unresolved = || Refusal::Unresolved {
        host: host.to_owned(),
    };
    match tokio::net::lookup_host((bare, port)).await {
        Ok(found) => {
            let found: Vec<IpAddr> = found.map(|a| a.ip()).collect();
            if found.is_empty() {
                Err(unresolved())
            } else {
                Ok(found)
            }
        }
        Err(_) => Err(unresolved()),
    }
}

/// Unix sockets reach this machine's servers with its own operating-system user (which
/// `pg_hba.conf` and MariaDB often trust without a password): never a connection's way in.
fn refuse_socket() -> Refusal {
    Refusal::Invalid(
        "connections through a Unix socket are not allowed: enter a host name or address (127.0.0.1 for this machine)"
            .into(),
    )
}

/// One machine as seen from here: this one (any loopback, unspecified or own interface's
/// address, or a Unix socket), or another one by address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Machine {
    This,
    Other(IpAddr),
}

fn machine(ip: IpAddr) -> Machine {
    let ip = canonical(ip);
    // An address this machine can bind to is one of its own interfaces'.
    if ip.is_loopback() || ip.is_unspecified() || std::net::UdpSocket::bind((ip, 0)).is_ok() {
        Machine::This
    } else {
        Machine::Other(ip)
    }
}

/// A PostgreSQL server and database as the driver will reach it.
struct PgPlace {
    machines: Vec<Machine>,
    port: u16,
    database: String,
}

async fn pg_place(options: &sqlx::postgres::PgConnectOptions) -> PgPlace {
    let machines = if options.get_socket().is_some() || options.get_host().starts_with('/') {
        vec![Machine::This]
    } else {
        resolve(options.get_host(), options.get_port())
            .await
            .unwrap_or_default()
            .into_iter()
            .map(machine)
            .collect()
    };
    PgPlace {
        machines,
        port: options.get_port(),
        database: options
            .get_database()
            .unwrap_or(options.get_username())
            .to_owned(),
    }
}

async fn check_host(host: &str, port: u16) -> Result<(), Refusal> {
    for address in resolve(host, port).await? {
        check_address(host, address)?;
    }
    Ok(())
}

async fn check_url(url: &str, what: &str) -> Result<(), Refusal> {
    let parsed = url::Url::parse(url)
        .map_err(|_| Refusal::Invalid(format!("the {what} “{url}” is not a URL")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| Refusal::Invalid(format!("the {what} “{url}” has no host")))?;
    check_host(host, parsed.port_or_known_default().unwrap_or(443)).await
}

/// Checks where `spec` points before anything is sent there: the metadata database (reached
/// through `metadata`) and the address ranges. Every path that opens a connection calls this
/// (`connectors::connect`, `probe`), and saving a connection does too.
pub async fn admit(spec: &ConnectionSpec, metadata: Option<&PgPool>) -> Result<(), Refusal> {
    match spec {
        ConnectionSpec::Postgres { url } => {
            // What the driver cannot parse it cannot connect to either; it says why.
            let Ok(options) = sqlx::postgres::PgConnectOptions::from_str(url) else {
                return Ok(());
            };
            if options.get_socket().is_some() || options.get_host().starts_with('/') {
                return Err(refuse_socket());
            }
            check_host(options.get_host(), options.get_port()).await?;
            if let Some(pool) = metadata {
                let ours = pg_place(&pool.connect_options()).await;
                let theirs = pg_place(&options).await;
                let same_machine = theirs.machines.iter().any(|m| ours.machines.contains(m));
                if same_machine && theirs.port == ours.port && theirs.database == ours.database {
                    return Err(Refusal::MetadataDatabase);
                }
            }
            Ok(())
        }
        ConnectionSpec::Mysql { url } => {
            let Ok(options) = sqlx::mysql::MySqlConnectOptions::from_str(url) else {
                return Ok(());
            };
            if options.get_socket().is_some() || options.get_host().starts_with('/') {
                return Err(refuse_socket());
            }
            check_host(options.get_host(), options.get_port()).await
        }
        ConnectionSpec::Salesforce { login_url, .. } => check_url(login_url, "login URL").await,
        ConnectionSpec::Hubspot { base_url, .. } => check_url(base_url, "API base URL").await,
        ConnectionSpec::Dynamics { url, authority, .. } => {
            check_url(url, "environment URL").await?;
            match authority {
                Some(authority) => check_url(authority, "sign-in authority").await,
                None => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn metadata_and_link_local_addresses_are_refused_however_they_are_spelt() {
        for refused in [
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "fe80::1",
            "fd00:ec2::254",
            "100.100.100.200",
            "168.63.129.16",
            "0.0.0.0",
            "::",
            "::ffff:0.0.0.0",
        ] {
            assert!(
                matches!(
                    check_address("h", ip(refused)),
                    Err(Refusal::Address { .. })
                ),
                "{refused}"
            );
        }
        for allowed in ["127.0.0.1", "::1", "10.1.2.3", "192.168.0.10", "8.8.8.8"] {
            assert_eq!(check_address("h", ip(allowed)), Ok(()), "{allowed}");
        }
    }

    #[test]
    fn ranges_parse_and_match() {
        let ranges = parse_ranges("10.0.0.0/8, fd00::/8 192.168.1.7").unwrap();
        assert_eq!(ranges.len(), 3);
        assert!(ranges[0].contains(ip("10.200.0.1")));
        assert!(!ranges[0].contains(ip("11.0.0.1")));
        assert!(ranges[1].contains(ip("fd12::1")));
        assert!(ranges[2].contains(ip("192.168.1.7")));
        assert!(!ranges[2].contains(ip("192.168.1.8")));
        assert!(parse_ranges("0.0.0.0/0").unwrap()[0].contains(ip("1.2.3.4")));
        assert!(parse_ranges("10.0.0.0/33").is_err());
        assert!(parse_ranges("intranet").is_err());
    }

    #[test]
    fn this_machine_is_one_machine_whatever_its_address() {
        assert_eq!(machine(ip("127.0.0.1")), Machine::This);
        assert_eq!(machine(ip("127.0.0.2")), Machine::This);
        assert_eq!(machine(ip("0.0.0.0")), Machine::This);
        assert_eq!(machine(IpAddr::V6(Ipv6Addr::LOCALHOST)), Machine::This);
        assert_eq!(machine(ip("192.0.2.1")), Machine::Other(ip("192.0.2.1")));
    }

    #[tokio::test]
    async fn unix_sockets_and_names_that_do_not_resolve_are_refused() {
        for url in [
            "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/app",
            "postgres:///app?host=/var/run/postgresql",
            "mysql://root@localhost/app?socket=/run/mysqld/mysqld.sock",
        ] {
            let spec = if url.starts_with("mysql") {
                ConnectionSpec::Mysql { url: url.into() }
            } else {
                ConnectionSpec::Postgres { url: url.into() }
            };
            assert!(
                matches!(admit(&spec, None).await, Err(Refusal::Invalid(m)) if m.contains("Unix socket")),
                "{url}"
            );
        }
        let spec = ConnectionSpec::Postgres {
            url: "postgres://u@no-such-host.invalid/app".into(),
        };
        assert!(matches!(
            admit(&spec, None).await,
            Err(Refusal::Unresolved { .. })
        ));
    }
}
