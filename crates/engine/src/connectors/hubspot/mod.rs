//! HubSpot through the CRM API v3 with a private app's access token: discovery with the
//! properties API, reads with the search API (keyset paging by `hs_object_id`, 200 per
//! page), changes by `hs_lastmodifieddate` (search) and archived records (deletions), writes
//! with the batch endpoints (100 per call; create carries `objectWriteTraceId` so each
//! record gets its own result). HubSpot does not say who made a change through the API, so
//! the dedicated-account option does not apply; the engine's own writes are recognised by
//! the values they wrote and the exact `updatedAt` HubSpot answers with.

mod client;
mod describe;
mod reads;
mod wire;
mod writes;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::cloud::connector::CloudApi;
use super::cloud::http::Api;
use super::cloud::writes::{Applied, Batch, Batching};
use super::cloud::{CloudContext, Polled};
use super::{Key, Result, Row, TableSchema};
use crate::package::TableRef;

/// Inputs per batch call (the API's limit).
pub const WRITE_BATCH: usize = 100;

pub struct HubSpotConnector {
    api: Api,
    base_url: String,
    token: String,
    cloud: CloudContext,
}

#[async_trait]
impl CloudApi for HubSpotConnector {
    fn kind(&self) -> &'static str {
        "hubspot"
    }

    fn api(&self) -> &Api {
        &self.api
    }

    fn context(&self) -> &CloudContext {
        &self.cloud
    }

    /// HubSpot does not say which user made a change through the API.
    fn own_user(&self) -> Option<&str> {
        None
    }

    async fn poll(
        &self,
        table: &TableSchema,
        modified_since: DateTime<Utc>,
        deleted_since: DateTime<Utc>,
    ) -> Result<Polled> {
        self.changes(table, modified_since, deleted_since).await
    }

    async fn list_tables(&self) -> Result<Vec<TableRef>> {
        self.list_object_types().await
    }

    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        self.describe_object_type(table).await
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

    const BATCHING: Batching = Batching::ByKind(WRITE_BATCH);

    async fn write_batch(&self, table: &TableSchema, batch: Batch<'_>) -> Result<Vec<Applied>> {
        match batch {
            Batch::Inserts(rows) => self.apply_inserts(table, &rows).await,
            Batch::Updates(items) => self.apply_updates(table, &items).await,
            Batch::Deletes(keys) => self.apply_deletes(table, &keys).await,
            Batch::InOrder(_) => unreachable!("HubSpot's batches are of one kind"),
        }
    }
}
