//! A Salesforce org behind the REST API, written from Salesforce's public documentation
//! (REST API Developer Guide, SOQL and SOSL Reference, OAuth 2.0 flows), for testing our
//! Salesforce connector without a cloud org. Any API version `vNN.N` is accepted in paths.
//!
//! # Implemented
//! - OAuth 2.0 token endpoint `POST /services/oauth2/token`: client credentials and
//!   username-password flows; `invalid_client_id`, `invalid_client`, `invalid_grant`,
//!   `unsupported_grant_type` errors. `instance_url` is this emulator's own address (from the
//!   `Host` header). Tokens never expire by themselves; [`Salesforce::expire_tokens`] forgets
//!   them, after which data calls answer 401 `INVALID_SESSION_ID`.
//! - Every request (token requests too) passes the shared [`CallGate`] first: injected 429s
//!   answer `REQUEST_LIMIT_EXCEEDED` with `Retry-After`, 503s `SERVER_UNAVAILABLE`. Data
//!   answers carry `Sforce-Limit-Info: api-usage=N/15000`; every answer carries `Date`.
//! - Describe Global (`/sobjects`), sObject Basic Information (`/sobjects/{name}`, without
//!   recent items) and sObject Describe (`/sobjects/{name}/describe`) for Account, Contact and
//!   AccountHistory (the last without LastModifiedDate/SystemModstamp).
//! - SOQL through `query` and `queryAll` (queryAll also returns recycle-bin records with
//!   IsDeleted true): `SELECT f, … | COUNT() FROM Obj [WHERE …] [ORDER BY f [ASC|DESC]
//!   [NULLS FIRST|LAST], …] [LIMIT n] [OFFSET n]`; conditions `= != <> < <= > >=`,
//!   `[NOT] IN (…)`, `LIKE` (`%`, `_`), `NOT`, `AND`/`OR` (mixing them needs parentheses, as in
//!   SOQL); literals: quoted strings with backslash escapes, numbers, true/false, null, date
//!   (`2026-11-25`) and dateTime (`2026-11-25T15:04:05Z`, `…+01:00`, `….000+0000`) literals.
//!   Filters are typed as in SOQL (a quoted value for a dateTime field is
//!   `INVALID_QUERY_FILTER_OPERATOR`); text compares case-insensitively, ids exactly (15-character
//!   ids accepted); `!=` and `NOT IN` match nulls; long text areas can't be filtered or sorted.
//!   Field and object names are case-insensitive; answers use the describe spelling. Unknown
//!   field `INVALID_FIELD`, unknown object `INVALID_TYPE`, bad syntax `MALFORMED_QUERY`.
//!   Results are paged at 2,000 records (or `Sforce-Query-Options: batchSize=N`, 200–2,000),
//!   the rest behind `nextRecordsUrl` (`/query/{locator}`), a snapshot taken at query time.
//! - Replication: `sobjects/{name}/deleted/` and `sobjects/{name}/updated/` over `start`/`end`,
//!   whose seconds are ignored as documented (`latestDateCovered` is `end` to the minute);
//!   `INVALID_REPLICATION_DATE` for missing or bad dates, end before start, or a start more
//!   than 30 days ago. Deletions are kept (no 15-day purge).
//! - sObject Collections create, update and delete (up to 200 records, else 400
//!   `EXCEEDED_ID_LIMIT`), 200 OK with one result per record in order, `allOrNone` with
//!   `ALL_OR_NONE_OPERATION_ROLLED_BACK`. Per-record errors: `REQUIRED_FIELD_MISSING`,
//!   `INVALID_FIELD_FOR_INSERT_UPDATE` (system or read-only fields, an Id on create),
//!   `INVALID_FIELD` (unknown field), `STRING_TOO_LONG`, `INVALID_EMAIL_ADDRESS`,
//!   `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`, `NUMBER_OUTSIDE_VALID_RANGE`,
//!   `JSON_PARSER_ERROR` (wrong JSON type), `MALFORMED_ID` (not an id, or an id of another
//!   object), `ENTITY_IS_DELETED` (in the recycle bin), `INVALID_CROSS_REFERENCE_KEY` (no such
//!   record), `FIELD_INTEGRITY_EXCEPTION` (a lookup to the wrong object),
//!   `INVALID_TYPE_FOR_OPERATION` (AccountHistory is read-only). Empty strings are stored as
//!   null, currency is rounded to its scale, as Salesforce does.
//! - Single-record create/retrieve/update/delete under `sobjects/{name}[/{id}]`.
//! - Ids: key prefix + zero-padded counter + case-safe suffix (`001000000000001AAA`), so ids
//!   sort in creation order. Audit stamps (CreatedDate/ById, LastModifiedDate/ById,
//!   SystemModstamp) are server-set at whole seconds, in UTC, rendered
//!   `2026-11-25T15:04:05.000+0000`; one stamp per request. API writes act as
//!   [`Salesforce::INTEGRATION_USER_ID`]; the `user_*` methods stand for a person in the UI.
//!   A delete moves the record to the recycle bin and stamps it (IsDeleted true).
//! - Unknown routes: 404 `NOT_FOUND`; a known route with another method: 405.
//!
//! # Not implemented
//! Other OAuth flows (JWT bearer, web server, refresh tokens), token expiry by time, `/limits`
//! and other resources, sObject Collections retrieve and upsert, Composite, Bulk API,
//! relationship queries (`Account.Name`, subqueries), aggregate functions other than
//! `COUNT()`, date literals such as `TODAY` or `LAST_N_DAYS:n`, `GROUP BY`, `FOR UPDATE`,
//! `SOSL`, cursor expiry (15 minutes in Salesforce; here the oldest of 100 is dropped),
//! cascade deletes (deleting an Account leaves its Contacts), undelete and recycle-bin
//! purging, field history rows written on update, chunk limits for mixed object types in one
//! collections call, API usage limits. Results for failed creates and updates carry
//! `"id": null`; failed deletes carry the id asked for. A repeated id in one collections call
//! fails its later occurrences with `DUPLICATE_VALUE` (a choice: the documentation doesn't say).

mod auth;
mod collections;
mod deleted;
mod describe;
mod errors;
mod eval;
mod ids;
mod org;
mod query;
mod records;
mod schema;
mod soql;
mod time;
mod write;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::{Map, Value};

use super::Running;
use super::faults::{CallGate, Refusal};
use errors::{ApiError, RecordError};
use org::Org;
use write::Writer;

/// The emulated org. Cheap to clone: clones share the org and the call gate.
#[derive(Clone)]
pub struct Salesforce {
    org: Arc<Mutex<Org>>,
    gate: CallGate,
}

impl Default for Salesforce {
    fn default() -> Self {
        Self::new()
    }
}

impl Salesforce {
    pub const CLIENT_ID: &'static str = "lockstep-emulator";
    pub const CLIENT_SECRET: &'static str = "emulator-secret";
    /// The integration user.
    pub const USERNAME: &'static str = "integration@example.com";
    /// Username-password flow: the password (the security token is empty).
    pub const PASSWORD: &'static str = "emulator-password";
    /// The user every API call acts as.
    pub const INTEGRATION_USER_ID: &'static str = "005000000000001AAA";
    /// A person using the Salesforce UI.
    pub const HUMAN_USER_ID: &'static str = "005000000000002AAA";

    /// An org with Account, Contact and AccountHistory, and no records.
    pub fn new() -> Self {
        Salesforce {
            org: Arc::new(Mutex::new(Org::new())),
            gate: CallGate::default(),
        }
    }

    fn org(&self) -> MutexGuard<'_, Org> {
        self.org.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fault injection and the API call count.
    pub fn gate(&self) -> &CallGate {
        &self.gate
    }

    /// Forgets every issued token: the next data call answers 401 `INVALID_SESSION_ID`.
    pub fn expire_tokens(&self) {
        self.org().tokens.clear();
    }

    pub fn router(&self) -> Router {
        let data = Router::new()
            .route("/services/data/{version}/sobjects", get(describe::global))
            .route("/services/data/{version}/sobjects/", get(describe::global))
            .route(
                "/services/data/{version}/sobjects/{name}",
                get(describe::basic).post(records::create),
            )
            .route(
                "/services/data/{version}/sobjects/{name}/{id}",
                get(records::get)
                    .patch(records::update)
                    .delete(records::delete),
            );
        let data = [
            ("sobjects/{name}/describe", get(describe::object)),
            ("sobjects/{name}/deleted", get(deleted::deleted)),
            ("sobjects/{name}/updated", get(deleted::updated)),
            ("query", get(query::query)),
            ("queryAll", get(query::query_all)),
            (
                "composite/sobjects",
                post(collections::create)
                    .patch(collections::update)
                    .delete(collections::delete),
            ),
        ]
        .into_iter()
        .fold(data, |router, (path, methods)| {
            with_slash(router, path, methods)
        })
        .route("/services/data/{version}/query/{locator}", get(query::more))
        .route(
            "/services/data/{version}/queryAll/{locator}",
            get(query::more_all),
        )
        .route_layer(middleware::from_fn_with_state(
            self.clone(),
            auth::authorize,
        ));

        Router::new()
            .route("/services/oauth2/token", post(auth::token))
            .route("/services/data", get(versions))
            .route("/services/data/", get(versions))
            .merge(data)
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(middleware::from_fn_with_state(self.clone(), gate))
            .with_state(self.clone())
    }

    /// Serves on 127.0.0.1, any free port.
    pub async fn start(&self) -> std::io::Result<Running> {
        self.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn start_on(&self, addr: SocketAddr) -> std::io::Result<Running> {
        super::serve(self.router(), addr).await
    }

    /// A person creates a record in the UI (not an API call: not counted, no faults). Stamps
    /// and id as for API writes, by [`Self::HUMAN_USER_ID`]. Panics on an unknown object or
    /// on values Salesforce would refuse.
    pub fn user_insert(&self, object: &str, fields: Map<String, Value>) -> String {
        let mut org = self.org();
        let schema = org.schema();
        let sobject = schema
            .object(object)
            .unwrap_or_else(|| panic!("user_insert: no object {object}"));
        let writer = Writer::User(Self::HUMAN_USER_ID);
        let planned = write::plan_insert(&org, sobject, &fields, writer)
            .unwrap_or_else(|e| panic!("user_insert {object}: {} {}", e.status_code, e.message));
        planned.apply(&mut org, writer.user_id(), time::now())
    }

    /// A person edits a record in the UI; false when there is no such live record.
    pub fn user_update(&self, object: &str, id: &str, fields: Map<String, Value>) -> bool {
        self.user_update_as(Self::HUMAN_USER_ID, object, id, fields)
    }

    /// A person deletes a record in the UI (to the recycle bin); false when there is no such
    /// live record of `object`.
    pub fn user_delete(&self, object: &str, id: &str) -> bool {
        let mut org = self.org();
        let schema = org.schema();
        let sobject = schema
            .object(object)
            .unwrap_or_else(|| panic!("user_delete: no object {object}"));
        if !ids::normalize(id).is_some_and(|full| full.starts_with(sobject.key_prefix)) {
            return false;
        }
        let writer = Writer::User(Self::HUMAN_USER_ID);
        match write::plan_delete(&org, id, writer) {
            Ok(planned) => {
                planned.apply(&mut org, writer.user_id(), time::now());
                true
            }
            Err(_) => false,
        }
    }

    /// [`Self::user_update`] by another user.
    pub fn user_update_as(
        &self,
        user_id: &str,
        object: &str,
        id: &str,
        fields: Map<String, Value>,
    ) -> bool {
        self.user_update_at(user_id, object, id, fields, time::now())
    }

    /// An update whose SystemModstamp/LastModifiedDate is `lag` in the past (a transaction
    /// that committed late).
    pub fn user_update_late(
        &self,
        object: &str,
        id: &str,
        fields: Map<String, Value>,
        lag: chrono::Duration,
    ) -> bool {
        self.user_update_at(Self::HUMAN_USER_ID, object, id, fields, time::now() - lag)
    }

    /// [`Self::user_update_as`] stamped `at` (to the second), e.g. within the second of
    /// another write.
    pub fn user_update_at(
        &self,
        user_id: &str,
        object: &str,
        id: &str,
        fields: Map<String, Value>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        let mut org = self.org();
        let schema = org.schema();
        let sobject = schema
            .object(object)
            .unwrap_or_else(|| panic!("user_update: no object {object}"));
        match write::plan_update(&org, sobject, id, &fields, Writer::User(user_id)) {
            Ok(planned) => {
                let at = chrono::SubsecRound::trunc_subsecs(at, 0);
                planned.apply(&mut org, user_id, at);
                true
            }
            Err(e) if is_no_record(&e) => false,
            Err(e) => panic!("user_update {object} {id}: {} {}", e.status_code, e.message),
        }
    }

    /// Live (not deleted) records of `object`, every field including system fields, ordered
    /// by Id. Panics on an unknown object.
    pub fn records(&self, object: &str) -> Vec<Map<String, Value>> {
        let org = self.org();
        let schema = org.schema();
        let sobject = schema
            .object(object)
            .unwrap_or_else(|| panic!("records: no object {object}"));
        org.live_records(sobject.name).cloned().collect()
    }
}

fn is_no_record(e: &RecordError) -> bool {
    matches!(
        e.status_code,
        "MALFORMED_ID" | "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY"
    ) && (e.fields.is_empty() || e.fields == ["Id"])
}

/// `path` under `/services/data/{version}/`, with and without a trailing slash.
fn with_slash(
    router: Router<Salesforce>,
    path: &str,
    methods: MethodRouter<Salesforce>,
) -> Router<Salesforce> {
    let path = format!("/services/data/{{version}}/{path}");
    router
        .route(&path, methods.clone())
        .route(&format!("{path}/"), methods)
}

/// Every request, token requests included, is counted and may meet an injected fault.
async fn gate(State(sf): State<Salesforce>, request: Request, next: Next) -> Response {
    if let Some(refusal) = sf.gate.admit() {
        let body = match &refusal {
            Refusal::RateLimited { .. } => {
                ApiError::body("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            }
            Refusal::Unavailable => {
                ApiError::body("SERVER_UNAVAILABLE", "Service temporarily unavailable")
            }
        };
        return refusal.into_response_with(body);
    }
    next.run(request).await
}

/// `GET /services/data`: the API versions this org serves.
async fn versions() -> Response {
    axum::Json(serde_json::json!([
        { "label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0" },
        { "label": "Summer '24", "url": "/services/data/v61.0", "version": "61.0" },
        { "label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0" },
    ]))
    .into_response()
}

async fn not_found() -> Response {
    ApiError::not_found().into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("HTTP Method '{}' not allowed", request.method()),
    )
    .into_response()
}
