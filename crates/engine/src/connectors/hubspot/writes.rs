//! HubSpot writes with the batch endpoints: `create` (each input traced by
//! `objectWriteTraceId`), `update` and `archive`, one kind per call. Results are matched to
//! the inputs by trace id or id; a record the batch could not attribute is sent again on its
//! own. The loop around these calls is the cloud connectors' (`cloud::writes`).
//!
//! A contact's primary company (`associatedcompanyid`, a foreign key to companies) is not
//! sent as a property. A created contact gets it as an association of the create call
//! (contact → company, type 1, "primary"). An updated contact's current primary is read
//! (one batch read per 100), and where it differs from the wanted one the old primary label
//! is removed (`/crm/v4/associations/contacts/companies/batch/labels/archive`: the contact
//! stays associated with that company, unlabeled) and the new one is set (`…/batch/create`,
//! type 1). At most three more calls per 100 updated contacts, none when nothing moved.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value as Json, json};

use super::super::cloud::changes::{Echo, Written};
use super::super::cloud::http::{failure, unexpected};
use super::super::cloud::values::to_text;
use super::super::cloud::writes::Applied;
use super::super::cloud::written;
use super::super::{Key, Result, Row, TableSchema, WriteOutcome};
use super::HubSpotConnector;
use super::describe::{COMPANIES, PRIMARY_COMPANY};
use super::wire::{BatchError, Page};

/// A created record's id and stamp, or why HubSpot refused it.
type Created = std::result::Result<(Key, Option<DateTime<Utc>>), String>;
/// An updated record's stamp, or (the record is missing, why HubSpot refused it).
type Updated = std::result::Result<Option<DateTime<Utc>>, (bool, String)>;

/// The association type of a contact's primary company (HubSpot-defined, contact → company).
const PRIMARY_TYPE: u32 = 1;

fn primary_spec() -> Json {
    json!([{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": PRIMARY_TYPE }])
}

/// A whole-batch refusal (a 400): one error for all inputs.
fn refusal(status: StatusCode, text: &str) -> BatchError {
    serde_json::from_str(text).unwrap_or(BatchError {
        category: status.to_string(),
        message: "the answer is not HubSpot's error JSON".into(),
        context: Map::new(),
    })
}

impl HubSpotConnector {
    /// The properties a row sends: every written column but the key and the references
    /// (written as associations).
    fn properties_body(schema: &TableSchema, row: &Row) -> Map<String, Json> {
        row.iter()
            .filter(|(name, _)| *name != &schema.key && schema.foreign_key(name).is_none())
            .map(|(name, value)| (name.clone(), Json::String(to_text(value))))
            .collect()
    }

    /// The primary company a row asks for: None when the row does not write it, Some(None)
    /// to clear it.
    fn primary_of(schema: &TableSchema, row: &Row) -> Option<Option<String>> {
        schema.foreign_key(PRIMARY_COMPANY)?;
        row.get(PRIMARY_COMPANY)
            .map(|value| Some(to_text(value)).filter(|t| !value.is_null() && !t.trim().is_empty()))
    }

    /// What a write leaves on the record, as a poll reads it back (for the echo rule): the
    /// properties and the primary company.
    fn read_back_body(schema: &TableSchema, row: &Row) -> Map<String, Json> {
        let mut body = Self::properties_body(schema, row);
        if let Some(company) = Self::primary_of(schema, row) {
            body.insert(
                PRIMARY_COMPANY.into(),
                company.map_or(Json::Null, Json::String),
            );
        }
        body
    }

    /// One batch call whose per-record results are matched to `inputs` by position (the
    /// caller's trace ids / ids). Records the batch could not attribute errors to are sent
    /// again one at a time, so one bad record never fails the others.
    async fn batch(
        &self,
        what: &str,
        schema: &TableSchema,
        action: &str,
        inputs: Vec<Json>,
    ) -> Result<(Page, StatusCode)> {
        let path = Self::objects_path(schema, &format!("/batch/{action}"));
        let (status, text) = self.post_inputs(what, &path, inputs).await?;
        let page = if status == StatusCode::NO_CONTENT {
            Page {
                results: Vec::new(),
                paging: None,
                errors: Vec::new(),
            }
        } else if status.is_success() {
            serde_json::from_str(&text).map_err(|e| {
                failure(format!("HubSpot: {what}: unexpected answer: {e}"), true).caused_by(e)
            })?
        } else {
            Page {
                results: Vec::new(),
                paging: None,
                errors: vec![refusal(status, &text)],
            }
        };
        Ok((page, status))
    }

    /// POSTs `{"inputs": …}` to `path`: the status and the answer's text, or the failure of
    /// the whole call (a server error, or a path HubSpot does not know).
    async fn post_inputs(
        &self,
        what: &str,
        path: &str,
        inputs: Vec<Json>,
    ) -> Result<(StatusCode, String)> {
        let response = self
            .send(
                what,
                Method::POST,
                path,
                &[],
                Some(&json!({ "inputs": inputs })),
            )
            .await?;
        let status = response.status();
        if status.is_server_error() || status == StatusCode::NOT_FOUND {
            return Err(unexpected("HubSpot", what, response).await);
        }
        Ok((status, response.text().await.unwrap_or_default()))
    }

    async fn create(&self, schema: &TableSchema, rows: &[&Row]) -> Result<Vec<Created>> {
        let inputs: Vec<Json> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut input = json!({ "properties": Self::properties_body(schema, row), "objectWriteTraceId": i.to_string() });
                if let Some(Some(company)) = Self::primary_of(schema, row) {
                    input["associations"] =
                        json!([{ "to": { "id": company }, "types": primary_spec() }]);
                }
                input
            })
            .collect();
        let (page, status) = self
            .batch("create records", schema, "create", inputs)
            .await?;
        let mut outcomes: Vec<Option<Created>> = vec![None; rows.len()];
        let traced = |trace: Option<&str>| {
            trace
                .and_then(|t| t.parse::<usize>().ok())
                .filter(|i| *i < rows.len())
        };
        let all_untraced = page
            .results
            .iter()
            .all(|o| o.object_write_trace_id.is_none());
        for (position, object) in page.results.iter().enumerate() {
            let index = traced(object.object_write_trace_id.as_deref())
                .or_else(|| (all_untraced && page.results.len() == rows.len()).then_some(position));
            if let Some(i) = index {
                outcomes[i] = Some(Ok((Key(object.id.clone()), object.stamp())));
            }
        }
        for error in &page.errors {
            for trace in error.context("objectWriteTraceId") {
                if let Some(i) = traced(Some(&trace)) {
                    outcomes[i] = Some(Err(error.text()));
                }
            }
        }
        let mut done = Vec::with_capacity(rows.len());
        for (i, outcome) in outcomes.into_iter().enumerate() {
            done.push(match outcome {
                Some(o) => o,
                // Not attributed: alone, its answer is its own.
                None if rows.len() > 1 => {
                    Box::pin(self.create(schema, &[rows[i]])).await?.remove(0)
                }
                None => Err(page.errors.first().map_or_else(
                    || format!("HubSpot did not create the record ({status})"),
                    BatchError::text,
                )),
            });
        }
        Ok(done)
    }

    async fn update(&self, schema: &TableSchema, items: &[(&Key, &Row)]) -> Result<Vec<Updated>> {
        let inputs: Vec<Json> = items
            .iter()
            .map(|(key, row)| json!({ "id": key.0, "properties": Self::properties_body(schema, row) }))
            .collect();
        let (page, status) = self
            .batch("update records", schema, "update", inputs)
            .await?;
        let position: HashMap<&str, usize> = items
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.0.as_str(), i))
            .collect();
        let mut outcomes: Vec<Option<Updated>> = vec![None; items.len()];
        for object in &page.results {
            if let Some(i) = position.get(object.id.as_str()) {
                outcomes[*i] = Some(Ok(object.stamp()));
            }
        }
        for error in &page.errors {
            let missing = error.category == "OBJECT_NOT_FOUND";
            for id in error.context("ids").into_iter().chain(error.context("id")) {
                if let Some(i) = position.get(id.as_str()) {
                    outcomes[*i] = Some(Err((missing, error.text())));
                }
            }
        }
        let mut done = Vec::with_capacity(items.len());
        for (i, outcome) in outcomes.into_iter().enumerate() {
            done.push(match outcome {
                Some(o) => o,
                None if items.len() > 1 => {
                    Box::pin(self.update(schema, &[items[i]])).await?.remove(0)
                }
                None => Err((
                    false,
                    page.errors.first().map_or_else(
                        || format!("HubSpot did not update the record ({status})"),
                        BatchError::text,
                    ),
                )),
            });
        }
        Ok(done)
    }

    /// What a row sends, for the echo rule: from the exact stamp HubSpot answers with (else
    /// its clock before the call), less a second of tolerance.
    fn sent(
        table: &TableSchema,
        row: &Row,
        before: DateTime<Utc>,
        stamp: Option<DateTime<Utc>>,
    ) -> Written {
        let from = stamp.unwrap_or(before) - chrono::Duration::seconds(1);
        written(table, from, &Self::read_back_body(table, row))
    }

    /// One batch call of the associations API: its errors (none: every input was applied).
    /// Its results are not read (the v4 answers name the pairs, not our records).
    async fn associations_batch(
        &self,
        what: &str,
        path: &str,
        inputs: Vec<Json>,
    ) -> Result<Vec<BatchError>> {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(default)]
            errors: Vec<BatchError>,
        }
        let (status, text) = self.post_inputs(what, path, inputs).await?;
        if status.is_success() {
            return Ok(serde_json::from_str::<Answer>(&text)
                .map(|a| a.errors)
                .unwrap_or_default());
        }
        Ok(vec![refusal(status, &text)])
    }

    /// Makes each contact's primary company the one asked for (`wanted`: contact, company or
    /// None to clear), where it is not already. Per contact: Ok, or (missing, why not).
    async fn move_primaries(
        &self,
        schema: &TableSchema,
        wanted: &[(&Key, Option<String>)],
    ) -> Result<Vec<std::result::Result<(), (bool, String)>>> {
        let keys: Vec<Key> = wanted.iter().map(|(k, _)| (*k).clone()).collect();
        let current: HashMap<String, Option<String>> = self
            .read_ids(schema, &keys, &[PRIMARY_COMPANY])
            .await?
            .into_iter()
            .map(|object| {
                let company = object
                    .properties
                    .get(PRIMARY_COMPANY)
                    .and_then(|v| match v {
                        Json::String(s) => Some(s.trim().to_owned()),
                        Json::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .filter(|s| !s.is_empty());
                (object.id, company)
            })
            .collect();
        let mut results = vec![Ok(()); wanted.len()];
        let mut unlabel = Vec::new();
        let mut label = Vec::new();
        for (i, (key, company)) in wanted.iter().enumerate() {
            let Some(now) = current.get(&key.0) else {
                results[i] = Err((true, format!("HubSpot has no contact {key}")));
                continue;
            };
            if now == company {
                continue;
            }
            if let Some(old) = now {
                unlabel.push((i, json!({ "from": { "id": key.0 }, "to": { "id": old }, "types": primary_spec() })));
            }
            if let Some(new) = company {
                label.push((i, json!({ "from": { "id": key.0 }, "to": { "id": new }, "types": primary_spec() })));
            }
        }
        let path = |action: &str| {
            format!(
                "/crm/v4/associations/{}/{COMPANIES}/batch/{action}",
                schema.table.name
            )
        };
        for (what, action, inputs) in [
            ("remove primary companies", "labels/archive", unlabel),
            ("set primary companies", "create", label),
        ] {
            let inputs: Vec<(usize, Json)> = inputs
                .into_iter()
                .filter(|(i, _)| results[*i].is_ok())
                .collect();
            if inputs.is_empty() {
                continue;
            }
            let fail = |errors: Vec<BatchError>| {
                errors
                    .first()
                    .map(|e| (false, format!("HubSpot could not {what}: {}", e.text())))
            };
            let errors = self
                .associations_batch(
                    what,
                    &path(action),
                    inputs.iter().map(|(_, j)| j.clone()).collect(),
                )
                .await?;
            let Some(error) = fail(errors) else {
                continue;
            };
            if let [(i, _)] = inputs.as_slice() {
                results[*i] = Err(error);
                continue;
            }
            // Some failed: each alone, so that one bad company fails only its contact.
            for (i, input) in inputs {
                let errors = self
                    .associations_batch(what, &path(action), vec![input])
                    .await?;
                if let Some(error) = fail(errors) {
                    results[i] = Err(error);
                }
            }
        }
        Ok(results)
    }

    pub(super) async fn apply_inserts(
        &self,
        table: &TableSchema,
        rows: &[&Row],
    ) -> Result<Vec<Applied>> {
        let now = || self.api.server_time();
        let before = now();
        let results = self.create(table, rows).await?;
        Ok(rows
            .iter()
            .zip(results)
            .map(|(row, result)| match result {
                Ok((key, stamp)) => Applied {
                    echo: Some(Echo {
                        key: key.clone(),
                        until: stamp.unwrap_or_else(now),
                        by_user_only: false,
                        written: Some(Self::sent(table, row, before, stamp)),
                    }),
                    outcome: WriteOutcome::Inserted(key),
                },
                Err(message) => WriteOutcome::Failed(message).into(),
            })
            .collect())
    }

    pub(super) async fn apply_updates(
        &self,
        table: &TableSchema,
        items: &[(&Key, &Row)],
    ) -> Result<Vec<Applied>> {
        let now = || self.api.server_time();
        let before = now();
        // Rows that write only references send no properties.
        let with_properties: Vec<usize> = (0..items.len())
            .filter(|&i| !Self::properties_body(table, items[i].1).is_empty())
            .collect();
        let sent: Vec<(&Key, &Row)> = with_properties.iter().map(|&i| items[i]).collect();
        let mut results: Vec<Updated> = vec![Ok(None); items.len()];
        if !sent.is_empty() {
            for (i, result) in with_properties.iter().zip(self.update(table, &sent).await?) {
                results[*i] = result;
            }
        }
        // Then the primary companies of those that were updated (or sent nothing).
        let moving: Vec<(usize, (&Key, Option<String>))> = items
            .iter()
            .enumerate()
            .filter(|(i, _)| results[*i].is_ok())
            .filter_map(|(i, (key, row))| Some((i, (*key, Self::primary_of(table, row)?))))
            .collect();
        let mut moved_until = None;
        if !moving.is_empty() {
            let wanted: Vec<(&Key, Option<String>)> =
                moving.iter().map(|(_, w)| w.clone()).collect();
            for ((i, _), result) in moving
                .iter()
                .zip(self.move_primaries(table, &wanted).await?)
            {
                if let Err(e) = result {
                    results[*i] = Err(e);
                }
            }
            // HubSpot restamps a contact whose primary changed: our own change until now
            // (its clock, known to the second from the answers' Date header).
            moved_until = Some(now() + chrono::Duration::seconds(1));
        }
        Ok(items
            .iter()
            .zip(results)
            .map(|((key, row), result)| match result {
                Ok(stamp) => Applied {
                    outcome: WriteOutcome::Updated,
                    echo: Some(Echo {
                        key: (*key).clone(),
                        until: match (stamp, moved_until) {
                            (Some(s), Some(m)) => s.max(m),
                            (Some(s), None) => s,
                            (None, Some(m)) => m,
                            (None, None) => now(),
                        },
                        by_user_only: false,
                        written: Some(Self::sent(table, row, before, stamp)),
                    }),
                },
                Err((true, _)) => WriteOutcome::Missing.into(),
                Err((false, message)) => WriteOutcome::Failed(message).into(),
            })
            .collect())
    }

    pub(super) async fn apply_deletes(
        &self,
        table: &TableSchema,
        keys: &[&Key],
    ) -> Result<Vec<Applied>> {
        let inputs: Vec<Json> = keys.iter().map(|k| json!({ "id": k.0 })).collect();
        let (page, status) = self
            .batch("archive records", table, "archive", inputs)
            .await?;
        if !status.is_success() {
            let message = page
                .errors
                .first()
                .map_or_else(|| status.to_string(), BatchError::text);
            return Ok(keys
                .iter()
                .map(|_| WriteOutcome::Failed(message.clone()).into())
                .collect());
        }
        // HubSpot answers 204 for the batch; archiving an archived record is no error.
        Ok(keys.iter().map(|_| WriteOutcome::Deleted.into()).collect())
    }
}
