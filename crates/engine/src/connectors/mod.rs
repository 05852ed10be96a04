//! What the sync algorithm needs from a data source, and nothing more. Databases and (later)
//! cloud APIs sit behind the same trait; an in-memory connector lets the algorithm be tested
//! without either.
//!
//! The contract every connector keeps (the algorithm's correctness rests on it):
//! - **Change log.** After `install_tracking`, every insert, update and delete made by anyone
//!   *except this connector's own `write`* is recorded as a [`TrackedChange`] (key + sequence
//!   number), visible once the change is committed. The engine's own writes are not recorded:
//!   that is how echo is suppressed without ignoring other people's edits made meanwhile.
//! - **Consumption by exact sequence numbers.** `consume_changes` deletes exactly the entries
//!   named, never "everything up to N", so an entry committed late with a lower number
//!   survives until a later run reads it.
//! - **Insert journal.** Every row `write` inserts is recorded, in the same transaction as the
//!   insert, as (origin key → new key) under the journal name given. Until the engine has moved
//!   those pairs into the ID map and cleared the journal, a crash cannot lose the fact that the
//!   copy exists: that is what makes a rerun create no duplicate.

mod batch;
pub mod cloud;
pub mod destination;
pub mod dynamics;
pub mod find;
pub mod hubspot;
pub mod memory;
pub mod mysql;
pub mod postgres;
pub mod probe;
pub mod salesforce;
pub mod sql_error;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::package::TableRef;
use crate::value::{ColumnType, Value};

/// A row: column name → value.
pub type Row = BTreeMap<String, Value>;

/// A primary key in text form (the same form in change logs, journals and the ID map).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Key(pub String);

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key(s.to_owned())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
    /// Has a default or is generated: need not be written on insert.
    pub has_default: bool,
    /// The database's own spelling of the type, for messages.
    pub db_type: String,
    /// Can be written (false: the application sets it, like Salesforce's CreatedDate).
    pub writable: bool,
}

/// What a table is described for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A task syncs it: every requirement applies (a single generated key, …).
    Sync,
    /// A lookup only searches it by some of its columns: no requirement applies, and the key
    /// is the first primary-key column, or empty when it has none.
    Lookup,
}

/// How the database generates the primary key (the only kinds sync accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyGeneration {
    Identity,
    Sequence,
    AutoIncrement,
    UuidDefault,
    /// A cloud API assigns the record's id.
    Vendor,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    pub table: TableRef,
    pub columns: Vec<ColumnInfo>,
    /// The single primary-key column.
    pub key: String,
    pub key_generation: KeyGeneration,
    /// Which change log of this table to use: set by the sync algorithm per task and side
    /// (`sync::log_name`), so every task has its own. Connectors add their own prefix.
    pub log_name: String,
    /// Single-column references to another table's key (foreign keys; reference fields).
    pub foreign_keys: Vec<ForeignKey>,
}

/// A column that holds keys of another table (a single-column foreign key to its primary
/// key, or a CRM reference field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub column: String,
    /// The referenced table, as its connector names it (schema-qualified for PostgreSQL).
    pub references: TableRef,
    /// The referenced column; None: the referenced table's key. Only a reference to the key
    /// is a relation (a foreign key to another unique column is copied as it is).
    pub referenced_column: Option<String>,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The columns' positions in the order of their names, the order of a `Row`'s: a row
    /// read in that order is built without searching for each column's place.
    pub fn positions_by_name(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.columns.len()).collect();
        order.sort_by(|a, b| self.columns[*a].name.cmp(&self.columns[*b].name));
        order
    }

    /// A row of every column, each value given by `value` (the column's position and
    /// description), built in `order` (`positions_by_name`).
    pub fn row_in_order<E>(
        &self,
        order: &[usize],
        mut value: impl FnMut(usize, &ColumnInfo) -> std::result::Result<Value, E>,
    ) -> std::result::Result<Row, E> {
        order
            .iter()
            .map(|i| {
                let column = &self.columns[*i];
                Ok((column.name.clone(), value(*i, column)?))
            })
            .collect()
    }

    /// The table whose key `column` references, if it is a foreign key to a key.
    pub fn references(&self, column: &str) -> Option<&TableRef> {
        self.foreign_keys
            .iter()
            .find(|f| f.column == column)
            .map(|f| &f.references)
    }

    /// The foreign key of `column`, if it has one.
    pub fn foreign_key(&self, column: &str) -> Option<&ForeignKey> {
        self.foreign_keys.iter().find(|f| f.column == column)
    }

    /// Columns an insert must give a value: NOT NULL, no default, not the generated key.
    pub fn required_columns(&self) -> impl Iterator<Item = &ColumnInfo> {
        self.columns
            .iter()
            .filter(|c| !c.nullable && !c.has_default && c.name != self.key)
    }
}

/// One entry of a table's change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedChange {
    pub seq: i64,
    pub key: Key,
}

/// A write the engine asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Insert `row` (the key is generated) as the copy of `origin` on the other side.
    Insert {
        origin: Key,
        row: Row,
    },
    Update {
        key: Key,
        row: Row,
    },
    Delete {
        key: Key,
    },
}

/// What happened to one `WriteOp`, in the same order.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Inserted(Key),
    Updated,
    Deleted,
    /// Update or delete of a row that is no longer there.
    Missing,
    /// A record-level failure (constraint, value that does not fit): the rest goes on.
    Failed(String),
}

/// Failures that concern the whole connection or table, not one record. The message is
/// what people see (in the run history, the editor, the `sync` command's output); the
/// driver's or client's own error, when there is one, stays as the `source` for the logs.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectorError {
    /// The table cannot be synced as it is; the message names the table/column and the fix.
    #[error("{0}")]
    Requirement(String),
    /// Reaching the data source failed. `retryable`: worth trying again (dropped connection,
    /// restart, HTTP 429/503); otherwise (bad credentials, missing database) it is not.
    #[error("{message}")]
    Connection {
        message: String,
        retryable: bool,
        #[source]
        source: Option<Cause>,
    },
    /// Anything else the data source reported for a whole statement.
    #[error("{message}")]
    Other {
        message: String,
        #[source]
        source: Option<Cause>,
    },
}

/// The error a connector error came from (shared, as connector errors are cloned).
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// Runs `work` as a task of its own, so that the runtime's other thread can run it beside the
/// caller: a sync run's one task reads the next page, maps a batch and writes the last one at
/// once, and the database connectors' reads and writes go on while it maps. Dropping the
/// returned future aborts the task, as dropping `work` itself would.
pub(crate) async fn on_own_task<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut task = AbortOnDrop(tokio::spawn(work));
    match (&mut task.0).await {
        Ok(result) => result,
        Err(e) => Err(ConnectorError::Other {
            message: "a database task stopped unexpectedly".into(),
            source: Some(std::sync::Arc::new(e)),
        }),
    }
}

/// A page of a table's rows, decoded: each row's key and values.
pub(crate) type Page = Vec<(Key, Row)>;

/// Decodes a page of a scan with `decode`: a page of 256 rows or more on a blocking thread,
/// so that the run's task goes on writing the previous page meanwhile.
pub(crate) async fn decode_beside<R: Send + 'static>(
    schema: &TableSchema,
    rows: Vec<R>,
    decode: fn(&TableSchema, Vec<R>) -> Result<Page>,
) -> Result<Page> {
    if rows.len() < 256 {
        return decode(schema, rows);
    }
    let schema = schema.clone();
    tokio::task::spawn_blocking(move || decode(&schema, rows))
        .await
        .map_err(|e| ConnectorError::Other {
            message: "decoding rows stopped unexpectedly".into(),
            source: Some(std::sync::Arc::new(e)),
        })?
}

impl ConnectorError {
    pub fn other(message: impl Into<String>) -> Self {
        ConnectorError::Other {
            message: message.into(),
            source: None,
        }
    }

    pub fn connection(message: impl Into<String>, retryable: bool) -> Self {
        ConnectorError::Connection {
            message: message.into(),
            retryable,
            source: None,
        }
    }

    /// Keeps `cause` as this error's source (a `Requirement` has none: it is about the
    /// table, not a failure).
    pub fn caused_by(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        match &mut self {
            ConnectorError::Connection { source, .. } | ConnectorError::Other { source, .. } => {
                *source = Some(std::sync::Arc::new(cause));
            }
            ConnectorError::Requirement(_) => {}
        }
        self
    }

    /// The message people see.
    pub fn message(&self) -> &str {
        match self {
            ConnectorError::Requirement(message)
            | ConnectorError::Connection { message, .. }
            | ConnectorError::Other { message, .. } => message,
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ConnectorError::Connection {
                retryable: true,
                ..
            }
        )
    }
}

impl From<destination::Refusal> for ConnectorError {
    fn from(refusal: destination::Refusal) -> Self {
        // A name that did not resolve may resolve a moment later (a resolver hiccup);
        // every other refusal stands.
        let retryable = matches!(refusal, destination::Refusal::Unresolved { .. });
        ConnectorError::connection(refusal.to_string(), retryable).caused_by(refusal)
    }
}

pub type Result<T> = std::result::Result<T, ConnectorError>;

#[async_trait]
pub trait Connector: Send + Sync {
    /// `postgres`, `mysql`, `memory`, …
    fn kind(&self) -> &'static str;

    /// API calls made so far (cloud connectors; users pay for the quota).
    fn api_calls(&self) -> u64 {
        0
    }

    /// How many of a run's batches this connector takes as one write in a first run's copy
    /// (the copy goes by the smaller figure of its two ends). A database writes thousands of
    /// rows in a few milliseconds, so there the fixed cost of a batch (its transaction, the
    /// round trips around it, the saved cursor and the ID-map record) weighs on every row
    /// unless batches are larger; a cloud API takes a few hundred records a call, so its
    /// batches stay as they are, to report progress and stop on cancel as often.
    fn copy_batches(&self) -> usize {
        1
    }

    /// The tables a task could use (the engine's own tracking tables left out), by name.
    async fn list_tables(&self) -> Result<Vec<TableRef>>;

    /// The table's columns and key, or a `Requirement` error when it cannot be synced.
    async fn describe(&self, table: &TableRef) -> Result<TableSchema>;

    /// The table's columns, for a lookup that only searches it (`Purpose::Lookup`): a
    /// table without a generated key will do. Connectors whose every table can be synced
    /// keep the default.
    async fn describe_for_lookup(&self, table: &TableRef) -> Result<TableSchema> {
        self.describe(table).await
    }

    async fn tracking_installed(&self, table: &TableSchema) -> Result<bool>;
    /// Creates the change log and its triggers (idempotent).
    async fn install_tracking(&self, table: &TableSchema) -> Result<()>;
    /// Removes the change log and its triggers (idempotent).
    async fn remove_tracking(&self, table: &TableSchema) -> Result<()>;

    /// Change-log entries with `seq > after`, oldest first, at most `limit`.
    async fn read_changes(
        &self,
        table: &TableSchema,
        after: i64,
        limit: usize,
    ) -> Result<Vec<TrackedChange>>;
    /// Deletes exactly these entries.
    async fn consume_changes(&self, table: &TableSchema, seqs: &[i64]) -> Result<()>;
    /// Records these keys as changed again, so the next run retries them.
    async fn requeue(&self, table: &TableSchema, keys: &[Key]) -> Result<()>;

    /// Rows in key order after `after`, at most `limit`.
    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>>;
    /// Only the keys, in the same order as `scan`: a full pass's cheap first look at a side
    /// whose rows are mostly copies already.
    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>>;
    /// The rows that still exist among `keys`.
    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>>;
    /// Which of `keys` still exist (no row data read).
    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>>;

    /// About how many records the table holds, cheaply (for a run's progress); None when the
    /// connector cannot tell without reading them all.
    async fn estimate_rows(&self, _table: &TableSchema) -> Result<Option<u64>> {
        Ok(None)
    }

    /// The rows of `table` whose `columns` equal, column for column, one of `tuples`
    /// (values of those columns' types, none null), each with the index of the tuple it
    /// matched, compared the way the data source compares (a case-insensitive collation
    /// matches any case). Databases answer with one statement per few hundred tuples; the
    /// default reads the whole table (see `finds_by_scanning`).
    async fn find(
        &self,
        table: &TableSchema,
        columns: &[String],
        tuples: &[Vec<Value>],
    ) -> Result<Vec<(usize, Row)>> {
        find::by_scanning(self, table, columns, tuples).await
    }

    /// Whether `find` reads the whole table: then a caller that will ask many times reads
    /// the table once (`scan`) and keeps what it needs.
    fn finds_by_scanning(&self) -> bool {
        true
    }

    /// Applies `ops` atomically per record (a failing record does not undo the others) and
    /// journals inserts under `journal`. Not recorded in the change log.
    async fn write(
        &self,
        table: &TableSchema,
        journal: &str,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<WriteOutcome>>;
    /// Journal entries: (origin key on the other side, key of the copy here).
    async fn read_journal(&self, journal: &str) -> Result<Vec<(Key, Key)>>;
    /// Forgets every entry under `journal` (the engine has put them all into the ID map).
    async fn clear_journal(&self, journal: &str) -> Result<()>;
}

/// (origins, keys of the copies) of the inserts that succeeded, for the journal.
pub(crate) fn inserted_pairs<'a>(
    ops: &'a [WriteOp],
    outcomes: &'a [WriteOutcome],
) -> (Vec<&'a str>, Vec<&'a str>) {
    ops.iter()
        .zip(outcomes)
        .filter_map(|(op, outcome)| match (op, outcome) {
            (WriteOp::Insert { origin, .. }, WriteOutcome::Inserted(key)) => {
                Some((origin.0.as_str(), key.0.as_str()))
            }
            _ => None,
        })
        .unzip()
}

/// What connecting needs besides the connection itself.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    /// Our metadata database, which no connection may point at (`destination::admit`).
    pub metadata: Option<sqlx::PgPool>,
    /// Where cloud connectors keep their change tracking (the catalog gives its own).
    pub tracking: Option<cloud::CloudStore>,
    /// The package's "dedicated account for synchronization".
    pub dedicated_account: bool,
}

impl ConnectOptions {
    fn cloud(&self, kind: &str) -> Result<cloud::CloudContext> {
        let store = self.tracking.clone().ok_or_else(|| {
            ConnectorError::other(format!(
                "a {kind} connection keeps its change tracking in Lockstep's metadata database, and none was given"
            ))
        })?;
        Ok(cloud::CloudContext {
            store,
            dedicated_account: self.dedicated_account,
        })
    }
}

/// Connects to the data source a package names, once its destination is admitted
/// (`destination::admit`: never our metadata database, never a refused address).
pub async fn connect(
    spec: &crate::package::ConnectionSpec,
    options: &ConnectOptions,
) -> Result<Box<dyn Connector>> {
    use crate::package::ConnectionSpec;
    destination::admit(spec, options.metadata.as_ref()).await?;
    Ok(match spec {
        ConnectionSpec::Postgres { url } => {
            Box::new(postgres::PostgresConnector::connect(url).await?)
        }
        ConnectionSpec::Mysql { url } => Box::new(mysql::MySqlConnector::connect(url).await?),
        ConnectionSpec::Salesforce {
            login_url,
            client_id,
            client_secret,
            username,
            password,
        } => {
            let auth = if username.is_empty() {
                salesforce::SalesforceAuth::ClientCredentials {
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                }
            } else {
                salesforce::SalesforceAuth::Password {
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    username: username.clone(),
                    password: password.clone(),
                }
            };
            Box::new(cloud::connector::CloudConnector(
                salesforce::SalesforceConnector::connect(
                    login_url,
                    auth,
                    options.cloud("Salesforce")?,
                )
                .await?,
            ))
        }
        ConnectionSpec::Dynamics {
            url,
            tenant_id,
            client_id,
            client_secret,
            authority,
        } => Box::new(cloud::connector::CloudConnector(
            dynamics::DynamicsConnector::connect(
                url,
                dynamics::DynamicsAuth {
                    authority: authority
                        .clone()
                        .unwrap_or_else(|| "https://login.microsoftonline.com".into()),
                    tenant_id: tenant_id.clone(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                },
                options.cloud("Dynamics 365")?,
            )
            .await?,
        )),
        ConnectionSpec::Hubspot { base_url, token } => Box::new(cloud::connector::CloudConnector(
            hubspot::HubSpotConnector::connect(base_url, token, options.cloud("HubSpot")?)?,
        )),
    })
}
