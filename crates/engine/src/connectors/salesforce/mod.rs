//! Salesforce through its REST API (`/services/data/v60.0/`): OAuth 2.0 sign-in, discovery
//! with `sobjects` and `describe`, reads with SOQL (keyset paging by `Id`, `nextRecordsUrl`
//! followed), changes by `SystemModstamp` (or `LastModifiedDate`) and the `deleted`
//! endpoint, writes with the sObject Collections API (200 records per call, one result per
//! record). Change tracking, echo suppression and the insert journal live in our metadata
//! database (see `connectors::cloud`).

mod auth;
mod client;
mod describe;
mod reads;
mod soql;
mod wire;
mod writes;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::RwLock;

pub use auth::SalesforceAuth;

use super::cloud::connector::CloudApi;
use super::cloud::http::Api;
use super::cloud::writes::{Applied, Batch, Batching};
use super::cloud::{CloudContext, Polled};
use super::{Key, Result, Row, TableSchema};
use crate::package::TableRef;
use auth::Session;

pub const API_VERSION: &str = "v60.0";
/// Records per sObject Collections call (the API's limit).
pub const WRITE_BATCH: usize = 200;

pub struct SalesforceConnector {
    api: Api,
    login_url: String,
    auth: SalesforceAuth,
    session: RwLock<Session>,
    /// The connection's user (`005…`), who the changes Lockstep makes are by.
    user_id: Option<String>,
    cloud: CloudContext,
}

/// The object's API name, as it goes into paths and SOQL.
fn object(schema: &TableSchema) -> &str {
    &schema.table.name
}

#[async_trait]
impl CloudApi for SalesforceConnector {
    fn kind(&self) -> &'static str {
        "salesforce"
    }

    fn api(&self) -> &Api {
        &self.api
    }

    fn context(&self) -> &CloudContext {
        &self.cloud
    }

    fn own_user(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    async fn list_tables(&self) -> Result<Vec<TableRef>> {
        self.list_objects().await
    }

    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        self.describe_object(table).await
    }

    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        self.scan_rows(table, after, limit).await
    }

    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        self.scan_ids(table, after, limit).await
    }

    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>> {
        self.fetch_rows(table, keys).await
    }

    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        self.existing_ids(table, keys).await
    }

    async fn poll(
        &self,
        table: &TableSchema,
        modified_since: DateTime<Utc>,
        deleted_since: DateTime<Utc>,
    ) -> Result<Polled> {
        self.changes(table, modified_since, deleted_since).await
    }

    const BATCHING: Batching = Batching::ByKind(WRITE_BATCH);

    async fn write_batch(&self, table: &TableSchema, batch: Batch<'_>) -> Result<Vec<Applied>> {
        match batch {
            Batch::Inserts(rows) => self.create(table, &rows).await,
            Batch::Updates(items) => self.update(table, &items).await,
            Batch::Deletes(keys) => self.delete(&keys).await,
            Batch::InOrder(_) => unreachable!("Salesforce's batches are of one kind"),
        }
    }
}
