//! Objects as the API shows them, the list endpoint (`archived` included) and the
//! single-object endpoints.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::HubSpot;
use super::associations::{AssociationInput, links_of};
use super::errors::{ApiError, invalid_properties_message};
use super::portal::{ObjectKind, Record, Store, WriteError, now};
use super::properties::wire_datetime;

/// The property names an answer shows: those asked for that exist, plus the ones always
/// shown; the type's defaults when none are asked for.
pub(super) fn shown_properties<'a>(kind: &'a ObjectKind, asked: &'a [String]) -> Vec<&'a str> {
    if asked.is_empty() {
        return kind.defaults.to_vec();
    }
    let mut names: Vec<&str> = asked
        .iter()
        .map(String::as_str)
        .filter(|name| kind.property(name).is_some())
        .collect();
    names.extend(kind.always.iter().copied());
    names.sort_unstable();
    names.dedup();
    names
}

/// `{id, properties, createdAt, updatedAt, archived, archivedAt?}` with the given properties
/// (null when a shown property has no value).
pub(super) fn render(record: &Record, shown: &[&str]) -> Value {
    let properties: Map<String, Value> = shown
        .iter()
        .map(|name| {
            let value = record
                .properties
                .get(*name)
                .map_or(Value::Null, |v| Value::String(v.clone()));
            ((*name).to_owned(), value)
        })
        .collect();
    render_with(record, properties)
}

/// The answer to a write: every property the record has.
pub(super) fn render_written(record: &Record) -> Value {
    let properties: Map<String, Value> = record
        .properties
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    render_with(record, properties)
}

fn render_with(record: &Record, properties: Map<String, Value>) -> Value {
    let mut object = json!({
        "id": record.id.to_string(),
        "properties": properties,
        "createdAt": wire_datetime(record.created_at),
        "updatedAt": wire_datetime(record.updated_at),
        "archived": record.archived_at.is_some(),
    });
    if let Some(at) = record.archived_at {
        object["archivedAt"] = json!(wire_datetime(at));
    }
    object
}

/// Query parameters, kept as pairs: `properties` may repeat and holds comma-separated lists.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn list(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn archived(&self) -> Result<bool, ApiError> {
        match self.get("archived") {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::validation(format!(
                "Invalid value for query parameter archived: {v}"
            ))),
        }
    }
}

/// Parses a JSON request body into `T`, answering HubSpot's 400 when it does not fit.
pub(super) fn parse_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(ApiError::invalid_json)
}

fn limit(params: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match params.get("limit") {
        None => Ok(default),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::validation(format!(
                "limit must be a number between 1 and {max}; got {text}"
            ))),
        },
    }
}

/// `GET /crm/v3/objects/{objectType}?limit&after&properties&archived`
pub(super) async fn list(
    State(hubspot): State<HubSpot>,
    Path(object_type): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = Params(params);
    let portal = hubspot.portal();
    let store = portal.store(&object_type)?;
    let limit = limit(&params, 10, 100)?;
    let archived = params.archived()?;
    let after = match params.get("after") {
        None | Some("") => 0,
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|_| ApiError::validation(format!("Invalid paging cursor (after): {text}")))?,
    };
    let asked = params.list("properties");
    let shown = shown_properties(&store.kind, &asked);
    let mut page = store
        .records
        .range(after..)
        .map(|(_, r)| r)
        .filter(|r| r.archived_at.is_some() == archived);
    let results: Vec<Value> = page
        .by_ref()
        .take(limit)
        .map(|r| render(r, &shown))
        .collect();
    let mut body = json!({ "results": results });
    if let Some(next) = page.next() {
        let cursor = next.id.to_string();
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params.0.iter().filter(|(k, _)| k != "after") {
            query.append_pair(k, v);
        }
        query.append_pair("after", &cursor);
        body["paging"] = json!({"next": {
            "after": cursor,
            "link": format!("http://{host}/crm/v3/objects/{}?{}", store.kind.name, query.finish()),
        }});
    }
    Ok(axum::Json(body).into_response())
}

fn resolve_one(store: &Store, id: &str, params: &Params, archived: bool) -> Result<u64, ApiError> {
    store
        .resolve(id, params.get("idProperty"), archived)?
        .ok_or_else(|| ApiError::not_found("resource not found"))
}

/// `GET /crm/v3/objects/{objectType}/{objectId}?properties&archived&idProperty`
pub(super) async fn read(
    State(hubspot): State<HubSpot>,
    Path((object_type, id)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let params = Params(params);
    let portal = hubspot.portal();
    let store = portal.store(&object_type)?;
    let archived = params.archived()?;
    let id = resolve_one(store, &id, &params, archived)?;
    let asked = params.list("properties");
    let shown = shown_properties(&store.kind, &asked);
    let record = store
        .find(id, archived)
        .ok_or_else(|| ApiError::not_found("resource not found"))?;
    Ok(axum::Json(render(record, &shown)).into_response())
}

#[derive(Deserialize)]
struct WriteBody {
    #[serde(default)]
    properties: Map<String, Value>,
    /// On create only: `[{"to":{"id"},"types":[{"associationCategory","associationTypeId"}]}]`.
    #[serde(default)]
    associations: Vec<AssociationInput>,
}

/// The whole-request answer to a refused write.
pub(super) fn write_error(kind: &ObjectKind, error: WriteError) -> ApiError {
    match error {
        WriteError::Invalid(errors) => ApiError::invalid_properties(&errors),
        WriteError::Conflict { existing_id } => {
            ApiError::conflict(kind.singular, &existing_id.to_string())
        }
        WriteError::NotFound => ApiError::not_found("resource not found"),
        WriteError::InvalidAssociation { object_type, id } => {
            ApiError::validation(invalid_association_message(object_type, &id))
        }
    }
}

/// The message of a refused association on create. HubSpot's wording is not documented; the
/// first sentence is what clients report seeing.
fn invalid_association_message(object_type: &str, id: &str) -> String {
    format!("One or more associations are invalid: there is no {object_type} with id {id}.")
}

/// The per-record batch error for a refused write.
pub(super) fn record_error(
    kind: &ObjectKind,
    error: &WriteError,
    context: Map<String, Value>,
) -> Value {
    let (category, message) = match error {
        WriteError::Invalid(errors) => ("VALIDATION_ERROR", invalid_properties_message(errors)),
        WriteError::Conflict { existing_id } => (
            "CONFLICT",
            format!(
                "{} already exists. Existing ID: {existing_id}",
                kind.singular
            ),
        ),
        WriteError::NotFound => (
            "OBJECT_NOT_FOUND",
            format!(
                "Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.",
                kind.upper
            ),
        ),
        WriteError::InvalidAssociation { object_type, id } => (
            "VALIDATION_ERROR",
            invalid_association_message(object_type, id),
        ),
    };
    let mut context = context;
    if let WriteError::Conflict { existing_id } = error {
        context.insert("existingId".into(), json!([existing_id.to_string()]));
    }
    let mut body = json!({
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
    });
    if let WriteError::Invalid(errors) = error {
        body["errors"] = super::errors::detail_list(errors);
    }
    body
}

/// `POST /crm/v3/objects/{objectType}` → 201
pub(super) async fn create(
    State(hubspot): State<HubSpot>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: WriteBody = parse_body(&body)?;
    let mut portal = hubspot.portal();
    let links = links_of(portal.index(&object_type)?, &body.associations)?;
    let outcome = portal.create_linked(&object_type, &body.properties, &links, now())?;
    let store = portal.store(&object_type)?;
    let id = outcome.map_err(|e| write_error(&store.kind, e))?;
    let record = &store.records[&id];
    Ok((StatusCode::CREATED, axum::Json(render_written(record))).into_response())
}

/// `PATCH /crm/v3/objects/{objectType}/{objectId}?idProperty`
pub(super) async fn update(
    State(hubspot): State<HubSpot>,
    Path((object_type, id)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = Params(params);
    let body: WriteBody = parse_body(&body)?;
    let mut portal = hubspot.portal();
    let id = resolve_one(portal.store(&object_type)?, &id, &params, false)?;
    let outcome = portal.update(&object_type, id, &body.properties, now())?;
    let store = portal.store(&object_type)?;
    outcome.map_err(|e| write_error(&store.kind, e))?;
    Ok(axum::Json(render_written(&store.records[&id])).into_response())
}

/// `DELETE /crm/v3/objects/{objectType}/{objectId}` → 204 (archives; unknown ids too)
pub(super) async fn archive(
    State(hubspot): State<HubSpot>,
    Path((object_type, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let mut portal = hubspot.portal();
    portal.store(&object_type)?;
    if let Ok(id) = id.trim().parse::<u64>() {
        portal.archive(&object_type, id, now())?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
