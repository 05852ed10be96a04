//! Connections: how a workspace reaches a database. Every member can list and open them;
//! Developers and Admins create, edit and delete. The password is sealed (`crate::secrets`)
//! with the connection's id as context and never returned: callers only learn whether one
//! is set.

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use uuid::Uuid;

use super::workspaces::require_role;
use super::{CatalogError, Role};
use crate::secrets::SecretBox;
use engine::package::ConnectionSpec;

/// The connectors a connection can use today.
pub const KINDS: [&str; 5] = ["postgres", "mysql", "salesforce", "hubspot", "dynamics"];

/// A cloud application's connector (its `host` is the API's base URL).
pub fn is_cloud(kind: &str) -> bool {
    matches!(kind, "salesforce" | "hubspot" | "dynamics")
}
pub const SSL_MODES: [&str; 4] = ["disable", "prefer", "require", "verify-full"];

pub fn default_port(kind: &str) -> u16 {
    match kind {
        "mysql" => 3306,
        "salesforce" | "hubspot" | "dynamics" => 443,
        _ => 5432,
    }
}

/// A connection as pages show it (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    pub ssl_mode: String,
    pub has_password: bool,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Names of the packages using it.
    pub used_by: Vec<String>,
}

/// What a person typed into the connection form, as typed.
#[derive(Clone, Default)]
pub struct ConnectionForm {
    pub name: String,
    pub kind: String,
    pub host: String,
    pub port: String,
    pub database: String,
    pub username: String,
    /// Empty: keep the stored password (when editing) or connect without one.
    pub password: String,
    /// Salesforce's user password with the security token (username-password flow). Empty:
    /// keep the stored one.
    pub extra_secret: String,
    pub ssl_mode: String,
    /// Remove the stored password on purpose (connect without one); `password` must be empty.
    pub clear_password: bool,
}

impl std::fmt::Debug for ConnectionForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &str| if s.is_empty() { "" } else { "***" };
        f.debug_struct("ConnectionForm")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("extra_secret", &hidden(&self.extra_secret))
            .field("ssl_mode", &self.ssl_mode)
            .field("clear_password", &self.clear_password)
            .finish()
    }
}

/// A form that passed validation.
#[derive(Debug, Clone)]
pub struct ValidForm {
    pub name: String,
    pub kind: &'static str,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    pub password: Option<SecretString>,
    pub extra_secret: Option<SecretString>,
    pub ssl_mode: &'static str,
}

fn one_of(
    field: &'static str,
    value: &str,
    allowed: &[&'static str],
) -> Result<&'static str, CatalogError> {
    allowed
        .iter()
        .find(|a| **a == value.trim())
        .copied()
        .ok_or_else(|| {
            CatalogError::validation(field, format!("choose one of: {}", allowed.join(", ")))
        })
}

fn required(field: &'static str, value: &str, what: &str) -> Result<String, CatalogError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(CatalogError::validation(field, format!("enter the {what}")));
    }
    if value.chars().count() > 255 {
        return Err(CatalogError::validation(
            field,
            "use at most 255 characters",
        ));
    }
    Ok(value.to_owned())
}

impl ConnectionForm {
    /// Checks every field; the error names the first field at fault and how to fix it.
    pub fn validate(&self) -> Result<ValidForm, CatalogError> {
        let name = required("name", &self.name, "connection name")?;
        if name.chars().count() > 100 {
            return Err(CatalogError::validation(
                "name",
                "use at most 100 characters",
            ));
        }
        let kind = one_of("kind", &self.kind, &KINDS)?;
        if is_cloud(kind) {
            return self.validate_cloud(name, kind);
        }
        let host = required("host", &self.host, "host name or IP address")?;
        if host.contains(char::is_whitespace) || host.contains(['/', '\\', '@', '%', '?', '#']) {
            return Err(CatalogError::validation(
                "host",
                "enter only the host name or IP address (no spaces, slashes, %, user or port)",
            ));
        }
        let port = match self.port.trim() {
            "" => default_port(kind),
            text => text.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                CatalogError::validation("port", "enter a port between 1 and 65535")
            })?,
        };
        let database = required("database", &self.database, "database name")?;
        let username = required("username", &self.username, "user name")?;
        let ssl_mode = if self.ssl_mode.trim().is_empty() {
            "prefer"
        } else {
            one_of("ssl_mode", &self.ssl_mode, &SSL_MODES)?
        };
        Ok(ValidForm {
            name,
            kind,
            host,
            port,
            database,
            username,
            password: (!self.password.is_empty())
                .then(|| SecretString::from(self.password.clone())),
            extra_secret: None,
            ssl_mode,
        })
    }

    /// A cloud application: the API's base URL, and for Salesforce the connected app's
    /// consumer key and an optional user (username-password flow).
    fn validate_cloud(&self, name: String, kind: &'static str) -> Result<ValidForm, CatalogError> {
        let what = match kind {
            "salesforce" => {
                "login URL (https://login.salesforce.com, https://test.salesforce.com for a sandbox, or your My Domain URL)"
            }
            "dynamics" => "environment URL (https://yourorg.crm.dynamics.com)",
            _ => "API base URL (https://api.hubapi.com)",
        };
        let host = required("host", &self.host, what)?;
        let parsed = url::Url::parse(&host).ok().filter(|u| {
            matches!(u.scheme(), "https" | "http")
                && u.host_str().is_some()
                && u.username().is_empty()
        });
        if parsed.is_none() {
            return Err(CatalogError::validation(
                "host",
                format!("enter the {what}, starting with https://"),
            ));
        }
        let host = host.trim_end_matches('/').to_owned();
        let (database, username) = match kind {
            "salesforce" => (
                required("database", &self.database, "connected app's consumer key")?,
                self.username.trim().to_owned(),
            ),
            "dynamics" => {
                let tenant = required("database", &self.database, "directory (tenant) id")?;
                if !engine::connectors::dynamics::is_tenant_id(&tenant) {
                    return Err(CatalogError::validation(
                        "database",
                        "enter the directory (tenant) id: a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47 (Microsoft Entra ID → Overview), or the directory's domain such as contoso.onmicrosoft.com",
                    ));
                }
                (
                    tenant,
                    required("username", &self.username, "application (client) id")?,
                )
            }
            _ => (String::new(), String::new()),
        };
        let secret = |s: &str| (!s.is_empty()).then(|| SecretString::from(s.to_owned()));
        Ok(ValidForm {
            name,
            kind,
            host,
            port: default_port(kind),
            database,
            username,
            password: secret(&self.password),
            extra_secret: if kind == "salesforce" {
                secret(&self.extra_secret)
            } else {
                None
            },
            ssl_mode: "require",
        })
    }
}

/// Where a connection's secrets are sent: changing any of these makes the stored secrets
/// unusable until they are typed again (the server the form now names may be anybody's).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Destination {
    kind: String,
    /// A database's host (case does not matter), or a cloud API's URL.
    host: String,
    port: u16,
    /// A database's name; Salesforce's consumer key; Dynamics 365's tenant.
    database: String,
    /// A database's user; Salesforce's user; Dynamics 365's client id.
    username: String,
    /// A database's SSL mode: a password sent with weaker protection than it was saved with
    /// is sent somewhere else too (a listener on the path can ask for it in clear text).
    ssl_mode: String,
}

impl Destination {
    fn new(
        kind: &str,
        host: &str,
        port: u16,
        database: &str,
        username: &str,
        ssl_mode: &str,
    ) -> Self {
        Destination {
            kind: kind.to_owned(),
            host: if is_cloud(kind) {
                host.trim_end_matches('/').to_owned()
            } else {
                host.to_ascii_lowercase()
            },
            port,
            database: database.to_owned(),
            username: username.to_owned(),
            ssl_mode: ssl_mode.to_owned(),
        }
    }
}

/// A saved connection's destination and which secrets it has stored.
struct Stored {
    workspace: Uuid,
    destination: Destination,
    has_password: bool,
    has_extra: bool,
}

async fn stored(
    conn: &mut sqlx::PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<Stored>, CatalogError> {
    type Row = (
        Uuid,
        String,
        String,
        i32,
        String,
        String,
        bool,
        bool,
        String,
    );
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT workspace_id, kind, host, port, database, username, password IS NOT NULL, extra_secret IS NOT NULL, ssl_mode
           FROM connections WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Stored {
        workspace: r.0,
        destination: Destination::new(
            &r.1,
            &r.2,
            u16::try_from(r.3).unwrap_or_default(),
            &r.4,
            &r.5,
            &r.8,
        ),
        has_password: r.6,
        has_extra: r.7,
    }))
}

/// Which stored secrets a form with empty secret fields may reuse: all of them when it points
/// where the saved connection points; otherwise none, and a secret the new destination needs
/// is asked for again (the error names the field).
fn reusable(valid: &ValidForm, stored: &Stored) -> Result<bool, CatalogError> {
    if valid.destination() == stored.destination {
        return Ok(true);
    }
    if valid.password.is_none() && stored.has_password {
        return Err(CatalogError::validation(
            "password",
            if is_cloud(valid.kind) {
                "Enter the secret again: the connection now points at another address or account"
            } else {
                "Enter the password again: the connection now points at another server or uses another SSL mode"
            },
        ));
    }
    if valid.kind == "salesforce"
        && !valid.username.is_empty()
        && valid.extra_secret.is_none()
        && stored.has_extra
    {
        return Err(CatalogError::validation(
            "extra_secret",
            "Enter the password and security token again: the connection now points at another address or user",
        ));
    }
    Ok(false)
}

impl ValidForm {
    fn destination(&self) -> Destination {
        Destination::new(
            self.kind,
            &self.host,
            self.port,
            &self.database,
            &self.username,
            self.ssl_mode,
        )
    }

    /// How the connectors reach it: a database URL (with the password, percent-encoded), or
    /// a cloud API's settings with its secrets (none given: none in the spec).
    pub fn spec(
        &self,
        password: Option<&SecretString>,
        extra_secret: Option<&SecretString>,
    ) -> ConnectionSpec {
        let secret =
            |s: Option<&SecretString>| s.map(|s| s.expose_secret().to_owned()).unwrap_or_default();
        match self.kind {
            "salesforce" => {
                return ConnectionSpec::Salesforce {
                    login_url: self.host.clone(),
                    client_id: self.database.clone(),
                    client_secret: secret(password),
                    username: self.username.clone(),
                    password: secret(extra_secret),
                };
            }
            "dynamics" => {
                // Tokens come from Microsoft Entra ID for a Dynamics 365 environment; any
                // other address (an emulator, a proxy) serves them itself.
                let entra = url::Url::parse(&self.host)
                    .ok()
                    .and_then(|u| u.host_str().map(|h| h.ends_with(".dynamics.com")))
                    .unwrap_or(true);
                return ConnectionSpec::Dynamics {
                    url: self.host.clone(),
                    tenant_id: self.database.clone(),
                    client_id: self.username.clone(),
                    client_secret: secret(password),
                    authority: (!entra).then(|| self.host.clone()),
                };
            }
            "hubspot" => {
                return ConnectionSpec::Hubspot {
                    base_url: self.host.clone(),
                    token: secret(password),
                };
            }
            _ => {}
        }
        let scheme = if self.kind == "mysql" {
            "mysql"
        } else {
            "postgres"
        };
        let mut url =
            url::Url::parse(&format!("{scheme}://placeholder/")).expect("a constant URL parses");
        let _ = url.set_host(Some(&self.host));
        let _ = url.set_port(Some(self.port));
        let _ = url.set_username(&self.username);
        if let Some(password) = password {
            let _ = url.set_password(Some(password.expose_secret()));
        }
        url.path_segments_mut()
            .expect("a base URL")
            .clear()
            .push(&self.database);
        let ssl = if self.kind == "mysql" {
            (
                "ssl-mode",
                match self.ssl_mode {
                    "disable" => "DISABLED",
                    "require" => "REQUIRED",
                    "verify-full" => "VERIFY_IDENTITY",
                    _ => "PREFERRED",
                },
            )
        } else {
            ("sslmode", self.ssl_mode)
        };
        url.query_pairs_mut().append_pair(ssl.0, ssl.1);
        let url = url.to_string();
        if self.kind == "mysql" {
            ConnectionSpec::Mysql { url }
        } else {
            ConnectionSpec::Postgres { url }
        }
    }
}

type Row = (
    Uuid,
    String,
    String,
    String,
    i32,
    String,
    String,
    String,
    bool,
    Option<String>,
    chrono::DateTime<chrono::Utc>,
    Vec<String>,
);

const SELECT: &str =
    "SELECT c.id, c.name, c.kind, c.host, c.port, c.database, c.username, c.ssl_mode,
        c.password IS NOT NULL, u.email, c.created_at,
        ARRAY(SELECT p.name FROM packages p
               WHERE p.source_connection_id = c.id OR p.target_connection_id = c.id ORDER BY p.name)
   FROM connections c LEFT JOIN users u ON u.id = c.created_by";

fn from_row(r: Row) -> Connection {
    Connection {
        id: r.0,
        name: r.1,
        kind: r.2,
        host: r.3,
        port: u16::try_from(r.4).unwrap_or_default(),
        database: r.5,
        username: r.6,
        ssl_mode: r.7,
        has_password: r.8,
        created_by: r.9,
        created_at: r.10,
        used_by: r.11,
    }
}

/// The workspace's connections, by name. Any member.
pub async fn list(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
) -> Result<Vec<Connection>, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Viewer).await?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE c.workspace_id = $1 ORDER BY lower(c.name)"
    ))
    .bind(workspace)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// One connection. Any member; `NotFound` for another workspace's.
pub async fn get(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    id: Uuid,
) -> Result<Connection, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Viewer).await?;
    let row: Row = sqlx::query_as(&format!("{SELECT} WHERE c.workspace_id = $1 AND c.id = $2"))
        .bind(workspace)
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map_err(CatalogError::from_fetch)?;
    Ok(from_row(row))
}

fn name_taken(e: sqlx::Error) -> CatalogError {
    match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("connections_name") => {
            CatalogError::conflict(
                "name",
                "another connection of this workspace has this name; choose another",
            )
        }
        _ => CatalogError::Database(e),
    }
}

/// Creates (`id` None) or updates a connection. Developers and Admins. An empty password
/// keeps the stored one while the connection points where it pointed (see `reusable`),
/// unless `clear_password` removes it.
pub async fn save(
    pool: &PgPool,
    secrets: &SecretBox,
    user: Uuid,
    workspace: Uuid,
    id: Option<Uuid>,
    form: &ConnectionForm,
) -> Result<Uuid, CatalogError> {
    let valid = form.validate()?;
    if form.clear_password && valid.password.is_some() {
        return Err(CatalogError::validation(
            "password",
            "type a new password or remove the saved one, not both",
        ));
    }
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    // Never our metadata database, never a refused address (checked again at each connect,
    // where a host that does not resolve is refused too; saving one is fine: it may resolve
    // only where the runs execute).
    match engine::connectors::destination::admit(&valid.spec(None, None), Some(pool)).await {
        Ok(()) | Err(engine::connectors::destination::Refusal::Unresolved { .. }) => {}
        Err(refusal) => {
            return Err(CatalogError::validation(
                refusal.field(),
                refusal.to_string(),
            ));
        }
    }
    let id = id.unwrap_or_else(Uuid::new_v4);
    // An id of another workspace's connection is NotFound, never overwritten.
    let existing = stored(&mut tx, id, true).await?;
    let keep_stored = match &existing {
        Some(s) if s.workspace != workspace => return Err(CatalogError::NotFound),
        Some(s) => reusable(&valid, s)?,
        None => false,
    };
    let sealed = valid
        .password
        .as_ref()
        .map(|p| secrets.seal(p.expose_secret(), id.as_bytes()));
    let sealed_extra = valid
        .extra_secret
        .as_ref()
        .map(|p| secrets.seal(p.expose_secret(), &extra_context(id)));
    let done = sqlx::query(
        "INSERT INTO connections (id, workspace_id, name, kind, host, port, database, username, password, ssl_mode, created_by, extra_secret)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, host = excluded.host,
                port = excluded.port, database = excluded.database, username = excluded.username,
                password = CASE WHEN $14 THEN NULL
                                WHEN $13 THEN coalesce(excluded.password, connections.password)
                                ELSE excluded.password END,
                ssl_mode = excluded.ssl_mode,
                extra_secret = CASE WHEN $13 THEN coalesce(excluded.extra_secret, connections.extra_secret) ELSE excluded.extra_secret END,
                updated_at = now()
          WHERE connections.workspace_id = excluded.workspace_id",
    )
    .bind(id)
    .bind(workspace)
    .bind(&valid.name)
    .bind(valid.kind)
    .bind(&valid.host)
    .bind(i32::from(valid.port))
    .bind(&valid.database)
    .bind(&valid.username)
    .bind(&sealed)
    .bind(valid.ssl_mode)
    .bind(user)
    .bind(&sealed_extra)
    .bind(keep_stored)
    .bind(form.clear_password)
    .execute(&mut *tx)
    .await
    .map_err(name_taken)?;
    if done.rows_affected() != 1 {
        return Err(CatalogError::NotFound);
    }
    tx.commit().await?;
    Ok(id)
}

/// Deletes a connection no package uses. Developers and Admins.
pub async fn delete(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    id: Uuid,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Developer).await?;
    let users: Vec<String> = sqlx::query_scalar(
        "SELECT p.name FROM packages p JOIN connections c ON c.id = $2 AND c.workspace_id = $1
          WHERE p.source_connection_id = c.id OR p.target_connection_id = c.id ORDER BY p.name FOR UPDATE OF p",
    )
    .bind(workspace)
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    if !users.is_empty() {
        return Err(CatalogError::conflict(
            "connection",
            format!(
                "this connection is used by {}: {}. Choose another connection in {} first",
                if users.len() == 1 {
                    "a package"
                } else {
                    "packages"
                },
                users.join(", "),
                if users.len() == 1 { "it" } else { "them" },
            ),
        ));
    }
    let done = sqlx::query("DELETE FROM connections WHERE workspace_id = $1 AND id = $2")
        .bind(workspace)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// The stored secrets of a saved connection (password or token; Salesforce's user
/// password), opened, for "Test connection" on an edited form (`valid`) whose secret fields
/// were left empty: only while the form points where the saved connection points, else a
/// field error asks for them again. Developers and Admins.
pub async fn stored_secrets(
    pool: &PgPool,
    secrets: &SecretBox,
    user: Uuid,
    workspace: Uuid,
    id: Uuid,
    valid: &ValidForm,
) -> Result<(Option<SecretString>, Option<SecretString>), CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Developer).await?;
    match stored(&mut conn, id, false).await? {
        Some(s) if s.workspace == workspace => {
            if !reusable(valid, &s)? {
                return Ok((None, None));
            }
        }
        _ => return Err(CatalogError::NotFound),
    }
    let (sealed, sealed_extra): (Option<Vec<u8>>, Option<Vec<u8>>) = sqlx::query_as(
        "SELECT password, extra_secret FROM connections WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace)
    .bind(id)
    .fetch_one(&mut *conn)
    .await
    .map_err(CatalogError::from_fetch)?;
    open_secrets(secrets, id, sealed, sealed_extra, "password")
}

fn extra_context(id: Uuid) -> Vec<u8> {
    let mut context = id.as_bytes().to_vec();
    context.extend_from_slice(b":extra");
    context
}

/// Opens a connection's sealed secrets; `field` is the form field an error names.
fn open_secrets(
    secrets: &SecretBox,
    id: Uuid,
    sealed: Option<Vec<u8>>,
    sealed_extra: Option<Vec<u8>>,
    field: &'static str,
) -> Result<(Option<SecretString>, Option<SecretString>), CatalogError> {
    let open = |sealed: Option<Vec<u8>>, context: &[u8]| {
        sealed
            .map(|s| {
                secrets.open(&s, context).map_err(|e| {
                    tracing::error!(connection = %id, error = %e, "a stored secret cannot be opened");
                    CatalogError::validation(
                        field,
                        "the connection's stored password or token cannot be read with this server's secret key; enter it again in the connection",
                    )
                })
            })
            .transpose()
    };
    Ok((
        open(sealed, id.as_bytes())?,
        open(sealed_extra, &extra_context(id))?,
    ))
}

/// How to reach a saved connection without its password: for a package file to share.
/// Callers check the person's role first; this only keeps to the workspace.
pub async fn spec_without_password(
    pool: &PgPool,
    workspace: Uuid,
    id: Uuid,
) -> Result<ConnectionSpec, CatalogError> {
    let (form, _, _) = load(pool, workspace, id).await?;
    Ok(form.validate()?.spec(None, None))
}

/// A saved connection as its form (no secrets) and its sealed secrets.
async fn load(
    pool: &PgPool,
    workspace: Uuid,
    id: Uuid,
) -> Result<(ConnectionForm, Option<Vec<u8>>, Option<Vec<u8>>), CatalogError> {
    type Row = (
        String,
        String,
        i32,
        String,
        String,
        String,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    );
    let row: Row = sqlx::query_as(
        "SELECT kind, host, port, database, username, ssl_mode, password, extra_secret FROM connections
          WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace)
    .bind(id)
    .fetch_one(pool)
    .await
    .map_err(CatalogError::from_fetch)?;
    let (kind, host, port, database, username, ssl_mode, sealed, sealed_extra) = row;
    let form = ConnectionForm {
        name: "stored".into(),
        kind,
        host,
        port: port.to_string(),
        database,
        username,
        password: String::new(),
        extra_secret: String::new(),
        ssl_mode,
        clear_password: false,
    };
    Ok((form, sealed, sealed_extra))
}

/// How to reach a saved connection (secrets opened), for the package editor and runs.
/// Callers check the person's role first; this only keeps to the workspace.
pub async fn open(
    pool: &PgPool,
    secrets: &SecretBox,
    workspace: Uuid,
    id: Uuid,
) -> Result<ConnectionSpec, CatalogError> {
    let (form, sealed, sealed_extra) = load(pool, workspace, id).await?;
    let (password, extra) = open_secrets(secrets, id, sealed, sealed_extra, "connection")?;
    Ok(form.validate()?.spec(password.as_ref(), extra.as_ref()))
}
