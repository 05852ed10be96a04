//! A Microsoft Dataverse (Dynamics 365) org behind the Web API (OData v4, `v9.2`) and the
//! Microsoft identity platform token endpoint, both on one address, written from Microsoft's
//! public documentation (Web API: compose requests and handle errors, query data, page
//! results, filter rows, create/update/delete, conditional operations, execute batch
//! operations; service protection API limits; the identity platform's client credentials
//! flow), for testing our Dynamics 365 connector without a cloud org.
//!
//! # Implemented
//! - Token endpoint `POST /{tenant}/oauth2/v2.0/token`, client credentials grant, with
//!   `scope` = `<org url>/.default` (the org URL is this emulator's address): 200
//!   `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token"}` (a
//!   JWT-shaped token). Errors in the identity platform's shape: unknown tenant 400
//!   `invalid_request` AADSTS90002, unknown client 400 `unauthorized_client` AADSTS700016,
//!   wrong secret 401 `invalid_client` AADSTS7000215, missing parameter 400 AADSTS900144,
//!   other grant types 400 `unsupported_grant_type`, a scope without `/.default` 400
//!   `invalid_scope`, a scope for another host 400 `invalid_resource` AADSTS500011. Tokens
//!   live 3,599 s; [`Dynamics::expire_tokens`] forgets them.
//! - Every request, token requests included, passes the shared [`CallGate`] first: injected
//!   429s carry `Retry-After` and the service protection body (`0x80072322`, "Number of
//!   requests exceeded the limit of 6000 over time window of 300 seconds."), 503s
//!   `0x80040216`. Every answer carries `Date` and `x-ms-service-request-id`; Web API
//!   answers `OData-Version: 4.0` and `Content-Type: application/json; odata.metadata=minimal`.
//! - Web API root `/api/data/v9.x/` (any `v9.` minor version): a missing, unknown or expired
//!   bearer token answers 401 with an empty body and `WWW-Authenticate: Bearer
//!   authorization_uri=…, resource_id=…`. Errors are `{"error":{"code","message"}}`.
//!   Unknown segments 404 `0x8006088a` "Resource not found for the segment 'x'." (entity set
//!   names are case-sensitive); `POST WhoAmI` 404 "No HTTP resource was found…"; a wrong
//!   method on a known resource 405.
//! - `GET WhoAmI`; the service document (`GET /api/data/v9.2/`).
//! - `GET EntityDefinitions` (`$select`, `$filter` on its properties, `$expand=Attributes`),
//!   `GET EntityDefinitions(LogicalName='x')` or `(<MetadataId>)` with `$select` and
//!   `$expand=Attributes(…)`, `GET EntityDefinitions(…)/Attributes`. Attribute definitions
//!   carry their derived type (`@odata.type`), `LogicalName`, `AttributeType`,
//!   `IsValidForCreate/Update/Read`, `RequiredLevel.Value`, `MaxLength`/`Format` (String,
//!   Memo), `Precision` (Money), `MinValue`/`MaxValue`, `DateTimeBehavior`, `Targets`
//!   (Lookup); nested `$select` inside `$expand` is accepted and ignored (every property is
//!   returned). Unknown table 404 `0x80040217`. Lookups are metadata attributes named
//!   `createdby`/`modifiedby` whose Web API properties are `_createdby_value` /
//!   `_modifiedby_value`, as in Dataverse, and `account.parentaccountid`
//!   (`_parentaccountid_value`, target account), which a create or update sets through its
//!   single-valued navigation property: `"parentaccountid@odata.bind": "/accounts(id)"` (a
//!   relative or absolute URL; null disassociates; a record that does not exist is 404
//!   `0x80040217`); writing `_parentaccountid_value` itself is refused as an invalid
//!   property. `GET EntityDefinitions(…)/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata`
//!   lists the lookups with their `Targets`.
//! - Tables: `account` (`accounts`), `contact` (`contacts`, with the server-computed
//!   `fullname`), and `annotationlog` (`annotationlogs`: `annotationlogid`, `subject`,
//!   `createdon` — no `modifiedon`). Ordinary tables have `createdon`, `modifiedon`,
//!   `_createdby_value`, `_modifiedby_value`, `statecode` (default 0) and `versionnumber`.
//! - Rows: ids are random (v4) GUIDs, lowercase; `@odata.etag` `W/"N"` from an org-wide
//!   increasing row version. Stamps are server-set in UTC at whole seconds
//!   (`2026-11-25T15:04:05Z`); createdby/modifiedby are the acting user
//!   ([`Dynamics::APPLICATION_USER_ID`] for API calls, `user_*` methods for a person in the UI).
//! - Query `GET {set}`: `$select`, `$filter` (see the `filter` module: `eq ne gt ge lt le`, `and`,
//!   `or`, `not`, parentheses, `contains`/`startswith`/`endswith`,
//!   `Microsoft.Dynamics.CRM.In`/`NotIn`, typed literals), `$orderby` (several, `asc`/`desc`;
//!   nulls first ascending), `$top`, `$count=true` (`@odata.count`, at most 5,000). Rows
//!   without `$orderby` come by primary id. Pages of `Prefer: odata.maxpagesize=N` (1–5,000,
//!   default and maximum 5,000; `Preference-Applied` echoes it) with an absolute
//!   `@odata.nextLink` carrying a `$skiptoken` paging cookie (keyset: the next page starts
//!   after the last row's sort values). As documented, `$top` is ignored when
//!   `odata.maxpagesize` is given. Unknown properties 400 `0x80060888` "Could not find a
//!   property named 'x' on type 'Microsoft.Dynamics.CRM.account'."; syntax and type errors
//!   400 `0x80060888`. `GET {set}({id})` (`$select`; `If-None-Match` with the ETag → 304)
//!   or 404 `0x80040217` "account With Id = … Does Not Exist".
//! - Writes: `POST {set}` → 204 with `OData-EntityId`, or with `Prefer:
//!   return=representation` 201 and the row (`$select` honoured). `PATCH {set}({id})` → 204
//!   (200 and the row with `return=representation`); a missing row is created (upsert)
//!   unless `If-Match: *` (→ 404); `If-None-Match: *` refuses updates (412); `If-Match:
//!   W/"N"` must match the row's ETag (412 `0x80060882`). `DELETE {set}({id})` → 204 or 404.
//!   The primary id may be given on create (412 `0x80040237` when taken). Validation 400s:
//!   unknown property `0x0` "…Invalid property 'x' was found in entity
//!   'Microsoft.Dynamics.CRM.account'…"; wrong JSON type or bad JSON `0x80048d19` ("Error
//!   identified in Payload…"); column not valid for create/update, required column missing
//!   on create or nulled on update, invalid email `0x80040203`; string too long `0x80044331`
//!   ("The length of the 'name' attribute of the 'account' entity exceeded the maximum
//!   allowed length of '160'."); choice value not allowed `0x8004431a` ("…is outside the
//!   valid range. Accepted Values: 1,2,3,4,5"); number out of range `0x80044330`. Money is
//!   rounded to its precision; date-only values are stored `YYYY-MM-DD`.
//! - `POST $batch` (see the `batch` module): parts outside change sets and change sets (all or
//!   nothing, `Content-ID` references `$n` at the start of a URL), at most 1,000 requests,
//!   `Prefer: odata.continue-on-error`; without it the first failing part ends the batch and
//!   its status becomes the batch's status (as documented), the parts run so far included.
//!   Creates in a batch answer 204 with `Location` and `OData-EntityId`.
//!
//! # Not implemented
//! `$metadata` (CSDL), `$expand` on rows, `$apply`, FetchXML, saved queries, parameter
//! aliases (`@p1`), lambda operators, navigation properties and `@odata.bind`, alternate
//! keys, single-property URLs (`accounts(id)/name`), the other 60 Dataverse query functions,
//! formatted-value annotations, change tracking (`odata.track-changes`), `$skip` (unsupported
//! by Dataverse too), impersonation (`CallerObjectId`), statuscode and owner columns,
//! option-set metadata, real service protection limits (only injected faults refuse calls)
//! and their `x-ms-ratelimit-*` headers, token expiry shorter than its lifetime, other OAuth
//! flows. Filtering text is case-insensitive but wildcards in `eq` are not interpreted.
//! GUIDs order as their lowercase strings (SQL Server orders `uniqueidentifier` differently).
//! Error codes and messages for required columns, invalid emails, columns not valid for
//! create/update, ranges and batch-level errors are ours where the documentation gives none.

mod access;
mod batch;
mod errors;
mod filter;
mod metadata;
mod options;
mod org;
mod paging;
mod query;
mod reply;
mod schema;
#[cfg(test)]
mod tests;
mod time;
mod token;
mod values;
mod webapi;
mod write;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{any, post};
use chrono::Utc;
use serde_json::{Map, Value};

use super::Running;
use super::faults::CallGate;
use org::Org;
use values::Mode;

/// The emulated org. Cheap to clone: clones share the org and the call gate.
#[derive(Clone)]
pub struct Dynamics {
    org: Arc<Mutex<Org>>,
    gate: CallGate,
}

impl Default for Dynamics {
    fn default() -> Self {
        Self::new()
    }
}

impl Dynamics {
    pub const TENANT: &'static str = "00000000-0000-0000-0000-0000000000aa";
    pub const CLIENT_ID: &'static str = "11111111-1111-1111-1111-111111111111";
    pub const CLIENT_SECRET: &'static str = "emulator-secret";
    /// The application user every API call acts as (systemuserid), returned by WhoAmI.
    pub const APPLICATION_USER_ID: &'static str = "22222222-2222-2222-2222-222222222222";
    /// A person using the Dynamics UI.
    pub const HUMAN_USER_ID: &'static str = "33333333-3333-3333-3333-333333333333";

    /// An org with the tables account, contact and annotationlog, and no rows.
    pub fn new() -> Self {
        Dynamics {
            org: Arc::new(Mutex::new(Org::new())),
            gate: CallGate::default(),
        }
    }

    fn org(&self) -> MutexGuard<'_, Org> {
        self.org.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token::token))
            .route("/api/data/{version}", any(webapi::handle))
            .route("/api/data/{version}/", any(webapi::handle))
            .route("/api/data/{version}/{*rest}", any(webapi::handle))
            .fallback(access::no_route)
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                access::gate,
            ))
            .with_state(self.clone())
    }

    /// Serves on 127.0.0.1, any free port.
    pub async fn start(&self) -> std::io::Result<Running> {
        self.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn start_on(&self, addr: SocketAddr) -> std::io::Result<Running> {
        super::serve(self.router(), addr).await
    }

    /// Fault injection and the API call count.
    pub fn gate(&self) -> &CallGate {
        &self.gate
    }

    /// Issued tokens become invalid: the next Web API call answers 401.
    pub fn expire_tokens(&self) {
        self.org().tokens.clear();
    }

    /// Whether the request carries a live bearer token.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim);
        token.is_some_and(|t| {
            self.org()
                .tokens
                .get(t)
                .is_some_and(|expires| *expires > Utc::now())
        })
    }

    fn entity(entity: &str, method: &str) -> &'static schema::Entity {
        schema::by_name(entity).unwrap_or_else(|| panic!("{method}: no entity {entity}"))
    }

    /// A person creates a row in the UI (not an API call: not counted, no faults). Stamps as
    /// for API writes, by [`Self::HUMAN_USER_ID`]. Returns the new id (lowercase GUID).
    /// Panics on an unknown entity (logical name) or on values Dataverse would refuse.
    pub fn user_insert(&self, entity: &str, fields: Map<String, Value>) -> String {
        let entity = Self::entity(entity, "user_insert");
        let checked = values::check(entity, &fields, Mode::Create)
            .unwrap_or_else(|e| panic!("user_insert {}: {}", entity.name, e.message));
        self.org()
            .insert(entity, checked, Self::HUMAN_USER_ID, time::now())
            .unwrap_or_else(|e| panic!("user_insert {}: {}", entity.name, e.message))
    }

    /// A person edits a row in the UI; false when there is no such row.
    pub fn user_update(&self, entity: &str, id: &str, fields: Map<String, Value>) -> bool {
        self.user_update_as(Self::HUMAN_USER_ID, entity, id, fields)
    }

    /// [`Self::user_update`] by another user (stamped as `_modifiedby_value`).
    pub fn user_update_as(
        &self,
        user_id: &str,
        entity: &str,
        id: &str,
        fields: Map<String, Value>,
    ) -> bool {
        self.user_update_at(user_id, entity, id, fields, time::now())
    }

    /// [`Self::user_update_as`] stamped `at` (to the second), e.g. within the second of
    /// another write.
    pub fn user_update_at(
        &self,
        user_id: &str,
        entity: &str,
        id: &str,
        fields: Map<String, Value>,
        at: chrono::DateTime<Utc>,
    ) -> bool {
        let entity = Self::entity(entity, "user_update");
        let id = id.to_lowercase();
        let mut org = self.org();
        if org.get(entity, &id).is_none() {
            return false;
        }
        let checked = values::check(entity, &fields, Mode::Update)
            .unwrap_or_else(|e| panic!("user_update {} {id}: {}", entity.name, e.message));
        let at = chrono::SubsecRound::trunc_subsecs(at, 0);
        org.update(entity, &id, checked, user_id, at)
    }

    /// A person deletes a row in the UI; false when there is no such row.
    pub fn user_delete(&self, entity: &str, id: &str) -> bool {
        let entity = Self::entity(entity, "user_delete");
        self.org().delete(entity, &id.to_lowercase())
    }

    /// Live rows, every attribute (Web API property names, including createdon, modifiedon,
    /// `_modifiedby_value` and the primary id), ordered by id. Panics on an unknown entity.
    pub fn records(&self, entity: &str) -> Vec<Map<String, Value>> {
        let entity = Self::entity(entity, "records");
        self.org()
            .rows(entity)
            .map(|row| row.values.clone())
            .collect()
    }
}
