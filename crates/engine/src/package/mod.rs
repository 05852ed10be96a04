//! The synchronization package in its canonical form: the JSON file the `sync` command reads
//! and the UI imports and exports. Plain serde data plus a pure `validate()` (no I/O); what
//! needs the databases (tables exist, keys are generated, types fit) is checked by the
//! connectors before anything is written.

mod field_source;
mod lookup;
mod match_keys;
mod table_ref;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use field_source::{FieldSource, Relation};
pub use lookup::{Lookup, NoMatch};
pub use match_keys::{MatchKey, MatchSpec};
pub use table_ref::TableRef;

/// A package: two connections and the tasks that keep tables of one in step with the other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub name: String,
    /// Wins conflicts: when a record changed on both sides, the source's values are kept.
    pub source: ConnectionSpec,
    pub target: ConnectionSpec,
    /// How numbers, dates and booleans become text. `invariant` when absent.
    #[serde(default = "invariant")]
    pub locale: String,
    /// "Dedicated account for synchronization": the cloud side's user is used only by
    /// Lockstep, so every change that user made is Lockstep's own and is not synced back.
    /// Off: only the records Lockstep itself wrote are left out, and edits others make
    /// with the same account are synced.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dedicated_account: bool,
    pub tasks: Vec<TaskSpec>,
    /// When the app runs the package (kept by export and import; `lockstep sync` runs once
    /// and leaves it alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<PackageSchedule>,
}

/// A package's schedule in its file:
/// `{"when": {"kind": "recurring", …}, "time_zone": "Europe/Berlin", "enabled": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSchedule {
    pub when: crate::schedule::Schedule,
    /// An IANA time zone name.
    pub time_zone: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

fn invariant() -> String {
    "invariant".to_owned()
}

/// How to reach one side. `{:?}` shows no secret (a database URL's password, a client
/// secret, a token): see the `Debug` impl below.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ConnectionSpec {
    Postgres {
        url: String,
    },
    /// MySQL and MariaDB.
    Mysql {
        url: String,
    },
    /// Salesforce's REST API. Without `username`: the OAuth client credentials flow (the
    /// connected app's "run as" user); with it: the username-password flow.
    Salesforce {
        /// `https://login.salesforce.com`, `https://test.salesforce.com` (a sandbox), the
        /// org's My Domain URL, or an emulator's.
        login_url: String,
        client_id: String,
        /// Secret: left out of exported files.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        client_secret: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        username: String,
        /// Secret: the password with the security token appended.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        password: String,
    },
    /// Dynamics 365 (Dataverse Web API) with an application user: OAuth 2.0 client
    /// credentials of an app registered in Microsoft Entra ID.
    Dynamics {
        /// The environment's URL, `https://yourorg.crm.dynamics.com`.
        url: String,
        tenant_id: String,
        client_id: String,
        /// Secret: left out of exported files.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        client_secret: String,
        /// Where tokens come from: `https://login.microsoftonline.com` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authority: Option<String>,
    },
    /// HubSpot's CRM API with a private app's access token.
    Hubspot {
        #[serde(default = "hubspot_api")]
        base_url: String,
        /// Secret: left out of exported files.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        token: String,
    },
}

impl std::fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &str| if s.is_empty() { "" } else { "***" };
        match self {
            ConnectionSpec::Postgres { url } | ConnectionSpec::Mysql { url } => {
                let shown = match url::Url::parse(url) {
                    Ok(mut parsed) => {
                        if parsed.password().is_some() {
                            let _ = parsed.set_password(Some("***"));
                        }
                        // Query parameters may carry a password too (`?password=`).
                        if parsed.query().is_some() {
                            parsed.set_query(Some("…"));
                        }
                        parsed.to_string()
                    }
                    Err(_) => "<not a URL>".to_owned(),
                };
                f.debug_struct(if matches!(self, ConnectionSpec::Postgres { .. }) {
                    "Postgres"
                } else {
                    "Mysql"
                })
                .field("url", &shown)
                .finish()
            }
            ConnectionSpec::Salesforce {
                login_url,
                client_id,
                client_secret,
                username,
                password,
            } => f
                .debug_struct("Salesforce")
                .field("login_url", login_url)
                .field("client_id", client_id)
                .field("client_secret", &hidden(client_secret))
                .field("username", username)
                .field("password", &hidden(password))
                .finish(),
            ConnectionSpec::Dynamics {
                url,
                tenant_id,
                client_id,
                client_secret,
                authority,
            } => f
                .debug_struct("Dynamics")
                .field("url", url)
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("client_secret", &hidden(client_secret))
                .field("authority", authority)
                .finish(),
            ConnectionSpec::Hubspot { base_url, token } => f
                .debug_struct("Hubspot")
                .field("base_url", base_url)
                .field("token", &hidden(token))
                .finish(),
        }
    }
}

fn hubspot_api() -> String {
    "https://api.hubapi.com".to_owned()
}

impl ConnectionSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectionSpec::Postgres { .. } => "postgres",
            ConnectionSpec::Mysql { .. } => "mysql",
            ConnectionSpec::Salesforce { .. } => "salesforce",
            ConnectionSpec::Dynamics { .. } => "dynamics",
            ConnectionSpec::Hubspot { .. } => "hubspot",
        }
    }

    /// Where the data lives, as a URL (a database's URL; a cloud API's address), for
    /// fingerprints and messages. May hold a database password.
    pub fn url(&self) -> &str {
        match self {
            ConnectionSpec::Postgres { url } | ConnectionSpec::Mysql { url } => url,
            ConnectionSpec::Salesforce { login_url, .. } => login_url,
            ConnectionSpec::Dynamics { url, .. } => url,
            ConnectionSpec::Hubspot { base_url, .. } => base_url,
        }
    }

    /// A cloud application (no tables of ours there; change tracking by timestamps).
    pub fn is_cloud(&self) -> bool {
        matches!(
            self,
            ConnectionSpec::Salesforce { .. }
                | ConnectionSpec::Dynamics { .. }
                | ConnectionSpec::Hubspot { .. }
        )
    }

    /// The user a cloud connection acts as, part of what identifies the data it reaches.
    pub fn account(&self) -> &str {
        match self {
            ConnectionSpec::Salesforce {
                client_id,
                username,
                ..
            } => {
                if username.is_empty() {
                    client_id
                } else {
                    username
                }
            }
            ConnectionSpec::Dynamics { client_id, .. } => client_id,
            _ => "",
        }
    }

    /// The same connection without passwords, secrets or tokens: for files people share.
    pub fn without_secrets(&self) -> ConnectionSpec {
        match self.clone() {
            ConnectionSpec::Postgres { url } => ConnectionSpec::Postgres {
                url: url_without_password(&url),
            },
            ConnectionSpec::Mysql { url } => ConnectionSpec::Mysql {
                url: url_without_password(&url),
            },
            ConnectionSpec::Salesforce {
                login_url,
                client_id,
                username,
                ..
            } => ConnectionSpec::Salesforce {
                login_url,
                client_id,
                client_secret: String::new(),
                username,
                password: String::new(),
            },
            ConnectionSpec::Dynamics {
                url,
                tenant_id,
                client_id,
                authority,
                ..
            } => ConnectionSpec::Dynamics {
                url,
                tenant_id,
                client_id,
                client_secret: String::new(),
                authority,
            },
            ConnectionSpec::Hubspot { base_url, .. } => ConnectionSpec::Hubspot {
                base_url,
                token: String::new(),
            },
        }
    }
}

fn url_without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

/// One table on each side, and how each direction writes the other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    pub source: TableRef,
    pub target: TableRef,
    /// Keys: target columns written; values: where each value comes from on the source.
    pub source_to_target: Mapping,
    /// Keys: source columns written; values: where each value comes from on the target.
    pub target_to_source: Mapping,
    /// Records both sides already hold, recognized by these keys on a full pass.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matching: Option<MatchSpec>,
}

impl TaskSpec {
    /// The task's name in summaries and errors: `source → target`.
    pub fn label(&self) -> String {
        format!("{} → {}", self.source, self.target)
    }
}

/// Written column → where its value comes from. Ordered, so files round-trip stably.
pub type Mapping = BTreeMap<String, FieldSource>;

/// Which way data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    SourceToTarget,
    TargetToSource,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SourceToTarget => "source_to_target",
            Direction::TargetToSource => "target_to_source",
        }
    }
}

/// A package file that cannot be used, with the path of the offending part
/// (`tasks[0].source_to_target.label`) and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PackageError {
    pub path: String,
    pub message: String,
}

impl PackageError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        PackageError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl Package {
    /// Parses a package file, naming the line and column of a syntax error.
    pub fn from_json(text: &str) -> Result<Package, PackageError> {
        let package: Package = serde_json::from_str(text).map_err(|e| {
            PackageError::new(
                format!("line {}, column {}", e.line(), e.column()),
                e.to_string(),
            )
        })?;
        package.validate()?;
        Ok(package)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a package always serializes")
    }

    /// Checks everything that can be checked without connecting.
    pub fn validate(&self) -> Result<(), PackageError> {
        if self.name.trim().is_empty() {
            return Err(PackageError::new("name", "give the package a name"));
        }
        for (side, spec) in [("source", &self.source), ("target", &self.target)] {
            validate_url(side, spec)?;
        }
        if self.tasks.is_empty() {
            return Err(PackageError::new(
                "tasks",
                "add at least one task (a source table and a target table)",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, task) in self.tasks.iter().enumerate() {
            let at = format!("tasks[{i}]");
            if let Some(matching) = &task.matching {
                matching
                    .validate()
                    .map_err(|m| PackageError::new(format!("{at}.match"), m))?;
            }
            if !seen.insert((task.source.clone(), task.target.clone())) {
                return Err(PackageError::new(
                    at,
                    format!("{} is synced by an earlier task already", task.label()),
                ));
            }
            for (direction, mapping) in [
                (Direction::SourceToTarget, &task.source_to_target),
                (Direction::TargetToSource, &task.target_to_source),
            ] {
                if mapping.is_empty() {
                    return Err(PackageError::new(
                        format!("{at}.{}", direction.as_str()),
                        "map at least one column (every required column of the written table must be mapped)",
                    ));
                }
                for (column, source) in mapping {
                    if column.is_empty() {
                        return Err(PackageError::new(
                            format!("{at}.{}", direction.as_str()),
                            "a mapped column name is empty",
                        ));
                    }
                    source.validate().map_err(|m| {
                        PackageError::new(format!("{at}.{}.{column}", direction.as_str()), m)
                    })?;
                    if let FieldSource::Relation(relation) = source
                        && !self
                            .tasks
                            .iter()
                            .any(|t| t.source.name == relation.task.name)
                    {
                        return Err(PackageError::new(
                            format!("{at}.{}.{column}", direction.as_str()),
                            format!(
                                "no task of this package reads “{}”; a relation names the source table of the task that \
                                 syncs the referenced records (the tasks read: {})",
                                relation.task,
                                self.tasks
                                    .iter()
                                    .map(|t| t.source.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    }
                }
            }
        }
        crate::mapping::locale::Locale::parse(&self.locale)
            .map_err(|m| PackageError::new("locale", m))?;
        if let Some(schedule) = &self.schedule {
            schedule
                .when
                .validate()
                .map_err(|e| PackageError::new(format!("schedule.when.{}", e.field), e.message))?;
            crate::schedule::time_zone(&schedule.time_zone)
                .map_err(|e| PackageError::new("schedule.time_zone", e.message))?;
        }
        Ok(())
    }
}

fn validate_url(side: &str, spec: &ConnectionSpec) -> Result<(), PackageError> {
    let url = spec.url();
    let (field, schemes): (&str, &[&str]) = match spec {
        ConnectionSpec::Postgres { .. } => ("url", &["postgres://", "postgresql://"]),
        ConnectionSpec::Mysql { .. } => ("url", &["mysql://", "mariadb://"]),
        ConnectionSpec::Salesforce { client_id, .. } => {
            if client_id.trim().is_empty() {
                return Err(PackageError::new(
                    format!("{side}.client_id"),
                    "give the connected app's consumer key",
                ));
            }
            ("login_url", &["https://", "http://"])
        }
        ConnectionSpec::Dynamics {
            tenant_id,
            client_id,
            ..
        } => {
            for (field, value, what) in [
                ("tenant_id", tenant_id, "the directory (tenant) id"),
                ("client_id", client_id, "the application (client) id"),
            ] {
                if value.trim().is_empty() {
                    return Err(PackageError::new(
                        format!("{side}.{field}"),
                        format!("give {what} of the app registration"),
                    ));
                }
            }
            ("url", &["https://", "http://"])
        }
        ConnectionSpec::Hubspot { .. } => ("base_url", &["https://", "http://"]),
    };
    if !schemes.iter().any(|s| url.starts_with(s)) {
        return Err(PackageError::new(
            format!("{side}.{field}"),
            format!(
                "a {} connection URL starts with {}",
                spec.kind(),
                schemes.join(" or ")
            ),
        ));
    }
    Ok(())
}
