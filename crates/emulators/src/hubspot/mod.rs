//! A HubSpot CRM API (v3) emulator, written from HubSpot's public developer documentation
//! (CRM objects, search, properties, batch endpoints, error handling, usage limits).
//!
//! One portal with two object types, `contacts` (also `contact`, `0-1`) and `companies`
//! (`company`, `0-2`), reached with a private app's token ([`HubSpot::TOKEN`]).
//!
//! # Implemented
//! - Every request passes the shared [`CallGate`] first: injected faults answer 429 with
//!   `Retry-After` and HubSpot's rate-limit body (`errorType: RATE_LIMIT`, `policyName`), or
//!   503 (`category: SERVICE_UNAVAILABLE`). Then `Authorization: Bearer <token>`; otherwise
//!   401 `INVALID_AUTHENTICATION`.
//! - Every answer has `Date`, `X-HubSpot-Correlation-Id` and the private-app rate-limit
//!   headers (`X-HubSpot-RateLimit-Daily`, `-Daily-Remaining`, `-Max`, `-Remaining`,
//!   `-Interval-Milliseconds`; counts are nominal, only injected faults refuse calls).
//! - Errors have HubSpot's shape: `status`, `message`, `correlationId`, `category`, and for
//!   property values `errors[]` with `code` (`PROPERTY_DOESNT_EXIST`, `READ_ONLY_VALUE`,
//!   `INVALID_EMAIL`, `INVALID_OPTION`, `INVALID_INTEGER`, `INVALID_DATE`,
//!   `INVALID_BOOLEAN`) and `context.propertyName`; the message is
//!   `Property values were not valid: [<validation results JSON>]`. Unknown object types:
//!   400 `Unable to infer object type from: …`. Unknown routes: 404 with the same shape.
//! - Properties API: `GET /crm/v3/properties/{objectType}` and `…/{propertyName}`; types
//!   `string`, `number`, `date`, `datetime`, `enumeration`, `bool`; read-only system
//!   properties `hs_object_id`, `createdate`, `hs_lastmodifieddate` (and `lastmodifieddate`
//!   on contacts; companies do not have it). Contacts also have `associatedcompanyid`
//!   ("Primary Associated Company ID", `number`, `hidden`, `referencedObjectType: COMPANY`,
//!   metadata `readOnlyValue: false` as a real portal reports it); see *Associations*.
//! - Values travel as strings; JSON numbers and booleans are accepted on write, datetimes
//!   as ISO 8601 or epoch milliseconds (stored `2026-11-25T15:04:05.123Z`), dates as
//!   `YYYY-MM-DD` or epoch milliseconds at midnight UTC (stored `YYYY-MM-DD`). An empty
//!   string clears a property. No property is required on create. Contact emails are
//!   stored lowercased and unique among live contacts (`CONFLICT`, "Contact already
//!   exists. Existing ID: …").
//! - Stamps at millisecond precision: `createdate`/`createdAt` on create,
//!   `hs_lastmodifieddate`/`lastmodifieddate`/`updatedAt` on create and every update;
//!   `hs_object_id` is the id. Ids are numeric strings from 1001, increasing, unique in the
//!   portal.
//! - Objects: `{id, properties, createdAt, updatedAt, archived, archivedAt?}`; the
//!   properties asked for (`null` without a value; unknown names left out) plus
//!   `createdate`, `hs_object_id` and the last-modified date, or the type's documented
//!   default set when none are asked for. Write answers carry every property that has a
//!   value.
//! - List `GET /crm/v3/objects/{objectType}` (`limit` 1–100, default 10; `after`;
//!   `properties`; `archived=true` lists archived objects only, kept forever here rather
//!   than HubSpot's 90 days), by id, `paging.next.{after,link}` unless the last page.
//!   Single objects: `GET`/`PATCH`/`DELETE …/{objectType}/{id}` (`idProperty`, `archived`
//!   on GET) and `POST …/{objectType}` (201).
//! - Search `POST …/{objectType}/search`: `filterGroups` (ORed; filters ANDed; at most 5
//!   groups, 6 filters each, 18 in all, else 400), operators `EQ NEQ LT LTE GT GTE BETWEEN
//!   IN NOT_IN HAS_PROPERTY NOT_HAS_PROPERTY CONTAINS_TOKEN NOT_CONTAINS_TOKEN`; numbers
//!   compare numerically, dates and datetimes chronologically (values as epoch milliseconds
//!   or ISO), strings case-insensitively (`IN` takes lowercase values), enumerations
//!   case-sensitively. One sort (`{propertyName, direction}` or `"prop"`/`"-prop"`), default
//!   creation order; `query` over the type's default searchable properties; `limit` up to
//!   200 (default 10); `after` an integer offset, 400 from 10,000 on; `total`; archived
//!   objects never match.
//! - Batch (at most 100 inputs, else 400): `read` (`idProperty`, `archived`; missing ids →
//!   207 `OBJECT_NOT_FOUND` with `context.ids`), `create` (201; with an `objectWriteTraceId`
//!   on every input refused inputs come back as 207 errors with
//!   `context.objectWriteTraceId` and the rest are created, results echo the trace id;
//!   without, one refused input fails the batch and nothing is created), `update` (same
//!   rule for refused values; unknown or archived ids → 207 `OBJECT_NOT_FOUND`, others
//!   applied; duplicate ids → 400), `archive` (204, unknown ids ignored).
//! - Associations between contacts and companies only (module `associations`), category
//!   `HUBSPOT_DEFINED`: contact→company primary 1 and unlabeled 279, company→contact primary 2
//!   and unlabeled 280; either direction names the same pair; other object pairs or types →
//!   400 `VALIDATION_ERROR`. Every pair is unlabeled; at most one per contact is also primary,
//!   and a new primary demotes the old one to unlabeled. v4 (ids as strings or numbers; at
//!   most 100 inputs, our cap):
//!   - `POST /crm/v4/associations/{from}/{to}/batch/create`
//!     `{inputs:[{from:{id},to:{id},types:[{associationCategory,associationTypeId}]}]}` → 201
//!     `{status,results:[{fromObjectTypeId,fromObjectId,toObjectTypeId,toObjectId,labels}],
//!     startedAt,completedAt}` (object ids as numbers, `labels` `["Primary"]` or `[]`); an
//!     input whose record is not live → 207 `OBJECT_NOT_FOUND` with `context.ids`,
//!     `fromObjectId`, `toObjectId`, the others applied.
//!   - `…/batch/labels/archive` (same body) → 204: the primary type leaves the pair
//!     unlabeled; the unlabeled type removes the pair (SDK: "Deleting an unlabeled association
//!     will also delete all labeled associations"). `…/batch/archive`
//!     `{inputs:[{from:{id},to:[{id}]}]}` → 204, removes the pairs. Both ignore unknown ids.
//!   - `…/batch/read` `{inputs:[{id}]}` → 200 `{status,results:[{from:{id},to:[{toObjectId,
//!     associationTypes:[{category,typeId,label}]}]}],startedAt,completedAt}` (primary type
//!     first, label `"Primary"`; unlabeled `label: null`). Ids without associations → 207
//!     `OBJECT_NOT_FOUND`, `subCategory: crm.associations.NO_ASSOCIATIONS_FOUND`, as
//!     third-party captures of HubSpot show it.
//!   - `PUT /crm/v4/objects/{from}/{id}/associations/{to}/{toId}` with
//!     `[{associationCategory,associationTypeId}]` → 201 `{fromObjectTypeId,fromObjectId,
//!     toObjectTypeId,toObjectId,labels}` (404 when a record is not live); `DELETE` → 204,
//!     removes the pair.
//!   - v3 `POST …/{objectType}` and `batch/create` take per input
//!     `associations:[{to:{id},types:[…]}]` (contacts: 1/279; companies: 2/280), made at the
//!     creation stamp. A `to` id that is not live refuses that input as any refused value
//!     does (`VALIDATION_ERROR`, "One or more associations are invalid: …"; HubSpot's exact
//!     wording is not documented); bad types → 400 for the request.
//!
//!   Assumptions, none documented by HubSpot in so many words:
//!   - `associatedcompanyid` is always derived: the primary company's id, or no value. It is
//!     read-only (changelog 2019-01-24: it "can no longer be set or updated when creating or
//!     updating contact records … use the CRM Associations API"): a write of it, even `""`,
//!     is refused as `READ_ONLY_VALUE` naming it, although clients report that real portals
//!     still accept it on create.
//!   - When a contact's primary changes (and only then: an unlabeled association changes no
//!     property), its `hs_lastmodifieddate`, `lastmodifieddate` and `updatedAt` move as for an
//!     update, so a search on the stamp finds it. HubSpot describes `hs_lastmodifieddate` as
//!     the "most recent timestamp of any property update".
//!   - Archiving a company removes its pairs; contacts whose primary it was lose
//!     `associatedcompanyid` and are stamped. Archiving a contact removes its pairs (it keeps
//!     its values). Savepoints of all-or-nothing batches cover the associations.
//!
//! # Not implemented
//! - HubSpot's real rate limiting (per-10-seconds burst, daily quota, the search endpoints'
//!   separate limit of five requests per second per account): only injected faults refuse.
//! - Indexing delay: new and updated objects are searchable at once (see
//!   [`HubSpot::user_update_late`] for a late-stamped change instead).
//! - Associations other than contact–company, custom association labels, the labels and
//!   definitions APIs, v4 `GET …/associations/{to}` and the `default` endpoints
//!   (`PUT …/associations/default/…`, `batch/associate/default`), paging of v4 `batch/read`,
//!   the v3 associations API, `associations=` on v3 reads and lists, the "associations
//!   updated" webhook. `propertiesWithHistory`, upsert, merge, GDPR delete, restoring archived
//!   objects, purge after 90 days, property and group management (create/update/archive
//!   properties), custom object types, owners, pipelines, webhooks, OAuth, scopes (403).
//! - Lifecycle-stage rules (no moving backwards), phone formatting, string length limits,
//!   multi-checkbox enumerations, `hs_additional_emails`, the 3,000-character limit beyond
//!   the `query` text, search tokenisation beyond whitespace and `*` wildcards.

mod access;
mod associations;
mod batch;
mod errors;
mod objects;
mod portal;
mod properties;
mod search;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::routing::{get, post, put};
use serde_json::{Map, Value};

use super::faults::CallGate;
use portal::{Portal, WriteError, now};

/// The emulator: one portal, shared by every clone.
#[derive(Clone)]
pub struct HubSpot {
    portal: Arc<Mutex<Portal>>,
    gate: CallGate,
}

impl Default for HubSpot {
    fn default() -> Self {
        Self::new()
    }
}

impl HubSpot {
    /// The private app's access token.
    pub const TOKEN: &'static str = "pat-na1-emulator-token";

    /// A portal with the object types `contacts` and `companies`, no records.
    pub fn new() -> Self {
        HubSpot {
            portal: Arc::new(Mutex::new(Portal::new())),
            gate: CallGate::default(),
        }
    }

    fn portal(&self) -> MutexGuard<'_, Portal> {
        self.portal.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn router(&self) -> Router {
        let objects = "/crm/v3/objects/{object_type}";
        let v4_batch = "/crm/v4/associations/{from_type}/{to_type}/batch";
        Router::new()
            .route("/crm/v3/properties/{object_type}", get(properties::list))
            .route(
                "/crm/v3/properties/{object_type}/{property_name}",
                get(properties::read),
            )
            .route(objects, get(objects::list).post(objects::create))
            .route(&format!("{objects}/search"), post(search::search))
            .route(&format!("{objects}/batch/read"), post(batch::read))
            .route(&format!("{objects}/batch/create"), post(batch::create))
            .route(&format!("{objects}/batch/update"), post(batch::update))
            .route(&format!("{objects}/batch/archive"), post(batch::archive))
            .route(
                &format!("{objects}/{{object_id}}"),
                get(objects::read)
                    .patch(objects::update)
                    .delete(objects::archive),
            )
            .route(
                "/crm/v4/objects/{object_type}/{object_id}/associations/{to_type}/{to_id}",
                put(associations::put).delete(associations::delete),
            )
            .route(
                &format!("{v4_batch}/create"),
                post(associations::batch_create),
            )
            .route(&format!("{v4_batch}/read"), post(associations::batch_read))
            .route(
                &format!("{v4_batch}/archive"),
                post(associations::batch_archive),
            )
            .route(
                &format!("{v4_batch}/labels/archive"),
                post(associations::batch_labels_archive),
            )
            .fallback(access::no_route)
            .method_not_allowed_fallback(access::wrong_method)
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                access::access,
            ))
            .with_state(self.clone())
    }

    /// Serves on 127.0.0.1, any free port.
    pub async fn start(&self) -> std::io::Result<super::Running> {
        self.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn start_on(&self, addr: SocketAddr) -> std::io::Result<super::Running> {
        super::serve(self.router(), addr).await
    }

    /// Counts calls and injects faults.
    pub fn gate(&self) -> &CallGate {
        &self.gate
    }

    /// A person creating a record in HubSpot's UI (not an API call: not counted, no
    /// faults). Values in wire form; panics on an unknown type or a refused value.
    pub fn user_insert(&self, object_type: &str, properties: Map<String, Value>) -> String {
        let mut portal = self.portal();
        match portal.create(object_type, &properties, now()) {
            Ok(Ok(id)) => id.to_string(),
            Ok(Err(e)) => panic!("user_insert into {object_type}: refused: {e:?}"),
            Err(e) => panic!("user_insert: unknown object type {object_type}: {e:?}"),
        }
    }

    /// A person editing a record in the UI; false when there is no live record `id`.
    pub fn user_update(&self, object_type: &str, id: &str, properties: Map<String, Value>) -> bool {
        self.user_update_late(object_type, id, properties, chrono::Duration::zero())
    }

    /// A person archiving (deleting) a record in the UI; false when there is no live one.
    pub fn user_delete(&self, object_type: &str, id: &str) -> bool {
        let Ok(id) = id.trim().parse::<u64>() else {
            return false;
        };
        self.portal()
            .archive(object_type, id, now())
            .unwrap_or_else(|e| panic!("user_delete: unknown object type {object_type}: {e:?}"))
    }

    /// An update whose `hs_lastmodifieddate`/`updatedAt` is `lag` in the past (indexed late).
    pub fn user_update_late(
        &self,
        object_type: &str,
        id: &str,
        properties: Map<String, Value>,
        lag: chrono::Duration,
    ) -> bool {
        self.user_update_at(object_type, id, properties, now() - lag)
    }

    /// An update stamped `at` (to the millisecond), e.g. within the millisecond of another
    /// write.
    pub fn user_update_at(
        &self,
        object_type: &str,
        id: &str,
        properties: Map<String, Value>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        let Ok(id) = id.trim().parse::<u64>() else {
            return false;
        };
        let at = chrono::SubsecRound::trunc_subsecs(at, 3);
        let mut portal = self.portal();
        match portal.update(object_type, id, &properties, at) {
            Ok(Ok(())) => true,
            Ok(Err(WriteError::NotFound)) => false,
            Ok(Err(e)) => panic!("user_update of {object_type} {id}: refused: {e:?}"),
            Err(e) => panic!("user_update: unknown object type {object_type}: {e:?}"),
        }
    }

    /// A person associating a contact with a company in the UI (not an API call). `primary`
    /// makes the company the contact's primary (the previous one stays associated, unlabeled);
    /// otherwise the pair is left associated without the primary label (removing it if the
    /// company was the primary). When the contact's primary changes, so does its
    /// `associatedcompanyid`, and it is stamped now. False when either record is not live.
    pub fn user_associate(&self, contact_id: &str, company_id: &str, primary: bool) -> bool {
        let (Ok(contact), Ok(company)) = (
            contact_id.trim().parse::<u64>(),
            company_id.trim().parse::<u64>(),
        ) else {
            return false;
        };
        let at = now();
        let mut portal = self.portal();
        if !portal.associate(contact, company, primary, at) {
            return false;
        }
        if !primary {
            portal.unlabel_primary(contact, company, at);
        }
        true
    }

    /// A person removing a contact–company association in the UI (every label of the pair);
    /// false when they were not associated.
    pub fn user_dissociate(&self, contact_id: &str, company_id: &str) -> bool {
        let (Ok(contact), Ok(company)) = (
            contact_id.trim().parse::<u64>(),
            company_id.trim().parse::<u64>(),
        ) else {
            return false;
        };
        self.portal().dissociate(contact, company, now())
    }

    /// A contact's companies: (company id, is it the primary?), by company id.
    pub fn associations(&self, contact_id: &str) -> Vec<(String, bool)> {
        let Ok(contact) = contact_id.trim().parse::<u64>() else {
            return Vec::new();
        };
        self.portal()
            .companies_of(contact)
            .into_iter()
            .map(|(company, primary)| (company.to_string(), primary))
            .collect()
    }

    /// Live (not archived) objects: (id, every stored property as a string), by id.
    pub fn records(&self, object_type: &str) -> Vec<(String, Map<String, Value>)> {
        let portal = self.portal();
        let store = portal
            .store(object_type)
            .unwrap_or_else(|e| panic!("records: unknown object type {object_type}: {e:?}"));
        store
            .records
            .values()
            .filter(|r| r.archived_at.is_none())
            .map(|r| {
                let properties = r
                    .properties
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                (r.id.to_string(), properties)
            })
            .collect()
    }
}
