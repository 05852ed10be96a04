//! Configuration from environment variables, with defaults that run on one laptop.

use std::fmt;
use std::net::SocketAddr;

use secrecy::{ExposeSecret, SecretString};

use crate::client_address::TrustedProxies;
use crate::workers::WorkerConfig;

/// Everything the server reads from its environment.
#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: our metadata database. May hold a password, so it is secret.
    pub database_url: SecretString,
    /// `LOCKSTEP_ADDR`: where to listen (port 0 picks a free one).
    pub addr: SocketAddr,
    /// `LOCKSTEP_PUBLIC_URL`: how people reach us, for links we hand out; its origin is
    /// accepted for state-changing requests, and `https` turns on HSTS and `Secure` cookies.
    pub public_url: Option<String>,
    /// `LOCKSTEP_SITE_ROOT`: the folder holding `pkg/` (the WASM, JS and CSS).
    pub site_root: String,
    /// `LOCKSTEP_SECURE_COOKIES`: `Secure` session cookies. Unset: on when the public URL is
    /// `https`.
    pub secure_cookies: Option<bool>,
    /// `LOCKSTEP_OPEN_SIGNUP`: anyone may create an account. Default: only the first account,
    /// then by invitation.
    pub open_signup: bool,
    /// `LOCKSTEP_TRUSTED_PROXIES`: addresses or CIDR networks of reverse proxies whose
    /// `X-Forwarded-For` / `Forwarded` is believed for the client's address. Default: none.
    pub trusted_proxies: TrustedProxies,
    /// `LOCKSTEP_LOG_FORMAT`: `pretty` (default) or `json`.
    pub log_format: String,
    /// The key that encrypts connection passwords: `LOCKSTEP_SECRET_KEY` (64 hex characters),
    /// or else the file `LOCKSTEP_SECRET_KEY_FILE` (default `.local/secret.key`, created with a
    /// random key on first start).
    pub secret_key: SecretKey,
    /// `LOCKSTEP_WORKERS` (runs at once per process, default 2), `LOCKSTEP_RUN_LEASE_SECONDS`
    /// (a run without a heartbeat for this long is failed, default 30) and
    /// `LOCKSTEP_RETRY_DELAY_SECONDS` (first wait before retrying a connection failure,
    /// default 5, doubling up to 60).
    pub workers: WorkerConfig,
    /// `LOCKSTEP_API_RATE_LIMIT`: requests a minute one API token may send on average (half
    /// of it at once), per process; 0 turns the limit off. Default 600.
    pub api_requests_per_minute: u32,
}

/// Where the secret key comes from.
#[derive(Clone)]
pub enum SecretKey {
    Hex(SecretString),
    File(std::path::PathBuf),
}

impl SecretKey {
    pub fn load(&self) -> Result<catalog::secrets::SecretBox, catalog::secrets::SecretError> {
        match self {
            SecretKey::Hex(hex) => catalog::secrets::SecretBox::from_hex(hex.expose_secret()),
            SecretKey::File(path) => catalog::secrets::SecretBox::load_or_create(path),
        }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretKey::Hex(_) => f.write_str("LOCKSTEP_SECRET_KEY(***)"),
            SecretKey::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/lockstep";

/// Configuration that cannot be used, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}={value:?} is not valid: {reason}")]
pub struct ConfigError {
    variable: &'static str,
    value: String,
    reason: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let addr_text = var("LOCKSTEP_ADDR").unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        let addr = addr_text
            .parse()
            .map_err(|e: std::net::AddrParseError| ConfigError {
                variable: "LOCKSTEP_ADDR",
                value: addr_text.clone(),
                reason: format!("{e}; expected host:port such as 127.0.0.1:3000"),
            })?;
        let flag = |variable: &'static str| -> Result<Option<bool>, ConfigError> {
            let Some(text) = var(variable) else {
                return Ok(None);
            };
            match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(Some(true)),
                "false" | "0" | "no" => Ok(Some(false)),
                _ => Err(ConfigError {
                    variable,
                    value: text,
                    reason: "expected true or false".into(),
                }),
            }
        };
        let secure_cookies = flag("LOCKSTEP_SECURE_COOKIES")?;
        let open_signup = flag("LOCKSTEP_OPEN_SIGNUP")?.unwrap_or(false);
        let trusted_proxies = match var("LOCKSTEP_TRUSTED_PROXIES") {
            None => TrustedProxies::default(),
            Some(text) => TrustedProxies::parse(&text).map_err(|reason| ConfigError {
                variable: "LOCKSTEP_TRUSTED_PROXIES",
                value: text.clone(),
                reason,
            })?,
        };
        let public_url = var("LOCKSTEP_PUBLIC_URL");
        if let Some(text) = &public_url {
            let ok = url::Url::parse(text)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(ConfigError {
                    variable: "LOCKSTEP_PUBLIC_URL",
                    value: text.clone(),
                    reason: "expected an http:// or https:// URL such as https://sync.example.com"
                        .into(),
                });
            }
        }
        let log_format = var("LOCKSTEP_LOG_FORMAT").unwrap_or_else(|| "pretty".to_owned());
        if !matches!(log_format.as_str(), "pretty" | "json") {
            return Err(ConfigError {
                variable: "LOCKSTEP_LOG_FORMAT",
                value: log_format,
                reason: "expected pretty or json".into(),
            });
        }
        let number =
            |variable: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| {
                let Some(text) = var(variable) else {
                    return Ok(default);
                };
                text.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| ConfigError {
                        variable,
                        value: text.clone(),
                        reason: format!(
                            "expected a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    })
            };
        let mut workers = WorkerConfig::new(number("LOCKSTEP_WORKERS", 2, 1..=64)? as usize);
        let lease = number("LOCKSTEP_RUN_LEASE_SECONDS", 30, 2..=3600)?;
        workers.set_lease(std::time::Duration::from_secs(lease));
        workers.run.retry.first_delay =
            std::time::Duration::from_secs(number("LOCKSTEP_RETRY_DELAY_SECONDS", 5, 0..=600)?);
        let api_requests_per_minute = number("LOCKSTEP_API_RATE_LIMIT", 600, 0..=1_000_000)? as u32;
        workers.notifier.retry_base =
            std::time::Duration::from_secs(number("LOCKSTEP_NOTIFY_RETRY_SECONDS", 10, 1..=3600)?);
        workers.notifier.public_url = public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        if let Some(url) = var("LOCKSTEP_SMTP_URL") {
            let from =
                var("LOCKSTEP_SMTP_FROM").unwrap_or_else(|| "Lockstep <lockstep@localhost>".into());
            workers.notifier.smtp = Some(
                crate::notifications::SmtpSettings::new(&url, &from).map_err(|reason| {
                    ConfigError {
                        variable: "LOCKSTEP_SMTP_URL",
                        value: redact_url(&url),
                        reason,
                    }
                })?,
            );
        }
        Ok(Settings {
            workers,
            api_requests_per_minute,
            database_url: SecretString::from(
                var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            ),
            addr,
            public_url,
            site_root: var("LOCKSTEP_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()),
            secure_cookies,
            open_signup,
            trusted_proxies,
            log_format,
            secret_key: match var("LOCKSTEP_SECRET_KEY") {
                Some(hex) => SecretKey::Hex(SecretString::from(hex)),
                None => SecretKey::File(
                    var("LOCKSTEP_SECRET_KEY_FILE")
                        .unwrap_or_else(|| ".local/secret.key".to_owned())
                        .into(),
                ),
            },
        })
    }
}

/// `LOCKSTEP_CONNECTION_DENY` (address ranges connections may not reach, besides the
/// link-local and cloud metadata ones always refused) and `LOCKSTEP_CONNECTION_ALLOW` (when
/// set, the only ranges they may reach): CIDRs separated by commas or spaces, such as
/// `10.0.0.0/8, fd00::/8`. Neither set: any address but the refused ones, private ranges and
/// loopback included. Apply with `engine::connectors::destination::configure`.
pub fn connection_ranges() -> Result<engine::connectors::destination::Ranges, ConfigError> {
    let list = |variable: &'static str| {
        let text = var(variable).unwrap_or_default();
        engine::connectors::destination::parse_ranges(&text).map_err(|reason| ConfigError {
            variable,
            value: text.clone(),
            reason,
        })
    };
    Ok(engine::connectors::destination::Ranges {
        allow: list("LOCKSTEP_CONNECTION_ALLOW")?,
        deny: list("LOCKSTEP_CONNECTION_DENY")?,
    })
}

/// A database URL with its password replaced, safe to log and to show.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

impl Settings {
    /// The public URL as given, or `http://` and the address we listen on.
    pub fn public_url_or(&self, addr: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
    }

    /// `Secure` cookies: as configured, else when the public URL is `https`.
    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| {
            self.public_url
                .as_deref()
                .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
        })
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field(
                "database_url",
                &redact_url(self.database_url.expose_secret()),
            )
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .field("site_root", &self.site_root)
            .field("secure_cookies", &self.secure_cookies)
            .field("open_signup", &self.open_signup)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("log_format", &self.log_format)
            .field("secret_key", &self.secret_key)
            .field("workers", &self.workers.concurrency)
            .field("api_requests_per_minute", &self.api_requests_per_minute)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_logs() {
        let settings = Settings {
            database_url: SecretString::from("postgres://app:hunter2@db:5432/lockstep"),
            addr: "127.0.0.1:3000".parse().unwrap(),
            public_url: None,
            site_root: "target/site".into(),
            secure_cookies: None,
            open_signup: false,
            trusted_proxies: TrustedProxies::default(),
            secret_key: SecretKey::Hex(SecretString::from("00".repeat(32))),
            log_format: "pretty".into(),
            workers: WorkerConfig::new(1),
            api_requests_per_minute: 600,
        };
        let logged = format!("{settings:?}");
        assert!(!logged.contains("hunter2"), "{logged}");
        assert!(
            logged.contains("postgres://app:***@db:5432/lockstep"),
            "{logged}"
        );
    }
}
