//! Reading HubSpot objects: keyset scans by `hs_object_id` with the search API, batch reads
//! by id, and the poll for changes (search by `hs_lastmodifieddate`, and the archived list
//! for deletions).

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value as Json, json};

use super::super::cloud::changes::Observed;
use super::super::cloud::values::{parse_instant, row_of};
use super::super::cloud::{Polled, digest};
use super::super::{ConnectorError, Key, Result, Row, TableSchema};
use super::describe::{KEY, MODIFIED};
use super::wire::{Object, Page};
use super::{HubSpotConnector, WRITE_BATCH};

const SEARCH_PAGE: usize = 200;
/// The search API pages through at most 10,000 results per query.
const SEARCH_WINDOW: usize = 10_000;

impl HubSpotConnector {
    fn property_names(schema: &TableSchema) -> Vec<&str> {
        schema.columns.iter().map(|c| c.name.as_str()).collect()
    }

    fn row(schema: &TableSchema, object: &Object) -> Result<(Key, Row)> {
        let mut row = row_of("HubSpot", schema, &object.id, &object.properties)?;
        row.insert(KEY.into(), crate::value::Value::Text(object.id.clone()));
        // A reference HubSpot keeps empty is no reference.
        for fk in &schema.foreign_keys {
            if matches!(row.get(&fk.column), Some(crate::value::Value::Text(t)) if t.trim().is_empty())
            {
                row.insert(fk.column.clone(), crate::value::Value::Null);
            }
        }
        Ok((Key(object.id.clone()), row))
    }

    async fn search(&self, schema: &TableSchema, body: &Json) -> Result<Page> {
        self.json(
            "search",
            Method::POST,
            &Self::objects_path(schema, "/search"),
            &[],
            Some(body),
        )
        .await
    }

    /// Objects in id order after `after`: keyset paging, so no 10,000-result window applies.
    async fn scan_objects(
        &self,
        schema: &TableSchema,
        after: Option<&Key>,
        limit: usize,
        properties: &[&str],
    ) -> Result<Vec<Object>> {
        let mut objects = Vec::new();
        let mut after = after.map(|k| k.0.clone());
        while objects.len() < limit {
            let filters = after.as_ref().map_or_else(Vec::new, |a| {
                vec![json!({ "filters": [{ "propertyName": KEY, "operator": "GT", "value": a }] })]
            });
            let page = self
                .search(
                    schema,
                    &json!({
                        "filterGroups": filters,
                        "sorts": [{ "propertyName": KEY, "direction": "ASCENDING" }],
                        "properties": properties,
                        "limit": SEARCH_PAGE.min(limit - objects.len()),
                    }),
                )
                .await?;
            let full = page.results.len() == SEARCH_PAGE.min(limit - objects.len());
            after = page.results.last().map(|o| o.id.clone());
            objects.extend(page.results);
            if !full {
                break;
            }
        }
        Ok(objects)
    }

    /// Batch read of these ids (those that no longer exist are left out).
    pub(super) async fn read_ids(
        &self,
        schema: &TableSchema,
        keys: &[Key],
        properties: &[&str],
    ) -> Result<Vec<Object>> {
        let mut objects = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(WRITE_BATCH) {
            let inputs: Vec<Json> = chunk.iter().map(|k| json!({ "id": k.0 })).collect();
            let page: Page = self
                .json(
                    "read records",
                    Method::POST,
                    &Self::objects_path(schema, "/batch/read"),
                    &[],
                    Some(&json!({ "properties": properties, "inputs": inputs })),
                )
                .await?;
            objects.extend(page.results);
        }
        Ok(objects)
    }

    /// Objects modified (by `hs_lastmodifieddate`) and archived since the given moments.
    pub(super) async fn changes(
        &self,
        schema: &TableSchema,
        modified_since: DateTime<Utc>,
        deleted_since: DateTime<Utc>,
    ) -> Result<Polled> {
        let mut observed = Vec::new();
        let mut since = modified_since;
        let mut started_at = None;
        'windows: loop {
            let mut offset = 0usize;
            let mut newest = None;
            loop {
                let mut body = json!({
                    "filterGroups": [{ "filters": [{
                        "propertyName": MODIFIED,
                        "operator": "GTE",
                        "value": since.timestamp_millis().to_string(),
                    }] }],
                    "sorts": [{ "propertyName": MODIFIED, "direction": "ASCENDING" }],
                    "properties": Self::property_names(schema),
                    "limit": SEARCH_PAGE,
                });
                if offset > 0 {
                    body["after"] = Json::from(offset.to_string());
                }
                let page = self.search(schema, &body).await?;
                started_at.get_or_insert_with(|| self.api.server_time());
                for object in &page.results {
                    if let Some(stamp) = object.stamp() {
                        newest = Some(stamp);
                        observed.push(Observed {
                            key: Key(object.id.clone()),
                            stamp,
                            modified_by: None,
                            deleted: false,
                            digest: Some(digest(&object.properties)),
                            values: Some(object.properties.clone()),
                        });
                    }
                }
                offset += page.results.len();
                if page.paging.and_then(|p| p.next).is_none() || page.results.is_empty() {
                    break 'windows;
                }
                if offset + SEARCH_PAGE > SEARCH_WINDOW {
                    // The search API's window is used up: start again from the newest stamp
                    // read (records at that stamp are read twice, and logged once).
                    match newest {
                        Some(stamp) if stamp > since => {
                            since = stamp;
                            continue 'windows;
                        }
                        _ => {
                            return Err(ConnectorError::other(format!(
                                "HubSpot: more than {SEARCH_WINDOW} {} share the modification time {since}; the search API cannot page past them",
                                schema.table.name
                            )));
                        }
                    }
                }
            }
        }
        let deleted_until = self.api.server_time();
        observed.extend(self.archived_since(schema, deleted_since).await?);
        Ok(Polled {
            observed,
            started_at: started_at.unwrap_or_else(|| self.api.server_time()),
            deleted_until,
        })
    }

    /// Archived (deleted) objects since `since`. HubSpot's list of archived objects has no
    /// time filter, so it is read whole (100 per page) and filtered here.
    async fn archived_since(
        &self,
        schema: &TableSchema,
        since: DateTime<Utc>,
    ) -> Result<Vec<Observed>> {
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![
                ("archived", "true".to_owned()),
                ("limit", "100".to_owned()),
                ("properties", KEY.to_owned()),
            ];
            if let Some(a) = &after {
                query.push(("after", a.clone()));
            }
            let page: Page = self
                .json(
                    "archived records",
                    Method::GET,
                    &Self::objects_path(schema, ""),
                    &query,
                    None,
                )
                .await?;
            for object in &page.results {
                let at = object.archived_at.as_deref().and_then(parse_instant);
                if let Some(at) = at.filter(|at| *at >= since) {
                    found.push(Observed {
                        key: Key(object.id.clone()),
                        stamp: at,
                        modified_by: None,
                        deleted: true,
                        digest: None,
                        values: None,
                    });
                }
            }
            match page.paging.and_then(|p| p.next) {
                Some(next) if !page.results.is_empty() => after = Some(next.after),
                _ => return Ok(found),
            }
        }
    }

    pub(super) async fn scan_rows(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        let objects = self
            .scan_objects(table, after, limit, &Self::property_names(table))
            .await?;
        objects.iter().map(|o| Self::row(table, o)).collect()
    }

    pub(super) async fn scan_ids(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        let objects = self.scan_objects(table, after, limit, &[KEY]).await?;
        Ok(objects.into_iter().map(|o| Key(o.id)).collect())
    }

    pub(super) async fn fetch_rows(
        &self,
        table: &TableSchema,
        keys: &[Key],
    ) -> Result<Vec<(Key, Row)>> {
        let objects = self
            .read_ids(table, keys, &Self::property_names(table))
            .await?;
        objects.iter().map(|o| Self::row(table, o)).collect()
    }

    pub(super) async fn existing_ids(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        let objects = self.read_ids(table, keys, &[KEY]).await?;
        Ok(objects.into_iter().map(|o| Key(o.id)).collect())
    }
}
