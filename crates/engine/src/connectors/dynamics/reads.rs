//! Reading Dataverse records with `$filter`/`$orderby`: keyset scans by the entity's key,
//! records by id (`In(…)`), and the poll for changes (by `modifiedon`; deletions by
//! comparing the entity's ids with those of the last poll).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::super::cloud::changes::Observed;
use super::super::cloud::http::failure;
use super::super::cloud::values::{parse_instant, row_of};
use super::super::cloud::{Polled, digest};
use super::super::{Key, Result, Row, TableSchema};
use super::describe::{MODIFIED, MODIFIED_BY};
use super::{DynamicsConnector, guid};

/// Ids per `In(…)` query, keeping the URL short.
const IDS_PER_QUERY: usize = 100;

impl DynamicsConnector {
    fn select_list(schema: &TableSchema) -> String {
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        names.join(",")
    }

    fn row(schema: &TableSchema, record: &Map<String, Json>) -> Result<(Key, Row)> {
        let id = record
            .get(&schema.key)
            .and_then(Json::as_str)
            .ok_or_else(|| failure("Dynamics 365: a record came without its id".into(), false))?;
        Ok((
            Key(id.to_lowercase()),
            row_of("Dynamics 365", schema, id, record)?,
        ))
    }

    fn in_filter(schema: &TableSchema, keys: &[Key]) -> Result<String> {
        let ids: Vec<String> = keys
            .iter()
            .map(|k| guid(&k.0).map(|g| format!("'{g}'")))
            .collect::<Result<_>>()?;
        Ok(format!(
            "Microsoft.Dynamics.CRM.In(PropertyName='{}',PropertyValues=[{}])",
            schema.key,
            ids.join(",")
        ))
    }

    /// Records modified since `modified_since`; deletions by comparing the ids with those
    /// of the last poll.
    pub(super) async fn changes(
        &self,
        schema: &TableSchema,
        modified_since: DateTime<Utc>,
    ) -> Result<Polled> {
        let log = &schema.log_name;
        let since = modified_since.format("%Y-%m-%dT%H:%M:%SZ");
        let records = self
            .query(
                schema,
                &Self::select_list(schema),
                Some(format!("{MODIFIED} ge {since}")),
                Some(format!("{MODIFIED} asc,{} asc", schema.key)),
                None,
            )
            .await?;
        let started_at = self.api.server_time();
        let mut observed = Vec::with_capacity(records.len());
        for record in &records {
            let (Some(id), Some(at)) = (
                record.get(&schema.key).and_then(Json::as_str),
                record
                    .get(MODIFIED)
                    .and_then(Json::as_str)
                    .and_then(parse_instant),
            ) else {
                continue;
            };
            let values: Map<String, Json> = record
                .iter()
                .filter(|(k, _)| !k.starts_with('@'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            observed.push(Observed {
                key: Key(id.to_lowercase()),
                stamp: at,
                modified_by: record
                    .get(MODIFIED_BY)
                    .and_then(Json::as_str)
                    .map(str::to_lowercase),
                deleted: false,
                digest: Some(digest(&values)),
                values: Some(values),
            });
        }
        // Deletions: the ids that were there at the last poll and are gone now.
        let ids = self.query(schema, &schema.key, None, None, None).await?;
        let current: Vec<String> = ids
            .iter()
            .filter_map(|r| r.get(&schema.key).and_then(Json::as_str))
            .map(str::to_lowercase)
            .collect();
        let current: Vec<&str> = current.iter().map(String::as_str).collect();
        let deleted_until = self.api.server_time();
        for key in self.cloud.store.known_ids_gone(log, &current).await? {
            observed.push(Observed {
                key,
                stamp: deleted_until,
                modified_by: None,
                deleted: true,
                digest: None,
                values: None,
            });
        }
        Ok(Polled {
            observed,
            started_at,
            deleted_until,
        })
    }

    pub(super) async fn scan_rows(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        let filter = after
            .map(|k| guid(&k.0).map(|g| format!("{} gt {g}", table.key)))
            .transpose()?;
        let records = self
            .query(
                table,
                &Self::select_list(table),
                filter,
                Some(format!("{} asc", table.key)),
                Some(limit),
            )
            .await?;
        records.iter().map(|r| Self::row(table, r)).collect()
    }

    pub(super) async fn scan_ids(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        let filter = after
            .map(|k| guid(&k.0).map(|g| format!("{} gt {g}", table.key)))
            .transpose()?;
        let records = self
            .query(
                table,
                &table.key,
                filter,
                Some(format!("{} asc", table.key)),
                Some(limit),
            )
            .await?;
        Ok(records
            .iter()
            .filter_map(|r| r.get(&table.key).and_then(Json::as_str))
            .map(|id| Key(id.to_lowercase()))
            .collect())
    }

    pub(super) async fn fetch_rows(
        &self,
        table: &TableSchema,
        keys: &[Key],
    ) -> Result<Vec<(Key, Row)>> {
        let mut rows = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(IDS_PER_QUERY) {
            let records = self
                .query(
                    table,
                    &Self::select_list(table),
                    Some(Self::in_filter(table, chunk)?),
                    None,
                    None,
                )
                .await?;
            for record in &records {
                rows.push(Self::row(table, record)?);
            }
        }
        Ok(rows)
    }

    pub(super) async fn existing_ids(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(IDS_PER_QUERY) {
            let records = self
                .query(
                    table,
                    &table.key,
                    Some(Self::in_filter(table, chunk)?),
                    None,
                    None,
                )
                .await?;
            found.extend(
                records
                    .iter()
                    .filter_map(|r| r.get(&table.key).and_then(Json::as_str))
                    .map(|id| Key(id.to_lowercase())),
            );
        }
        Ok(found)
    }
}
