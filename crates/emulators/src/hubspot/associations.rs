//! Contact–company associations (CRM associations API v4), and the `associations` a v3
//! create may carry.
//!
//! HubSpot defines two association types in each direction between contacts and companies
//! (category `HUBSPOT_DEFINED`): contact→company primary **1** and unlabeled **279**,
//! company→contact primary **2** and unlabeled **280**. Every associated pair has the unlabeled
//! type; a contact's primary company also has the primary one, and a contact has at most one
//! primary ("For records with multiple associated companies, this API supports changing which
//! company is considered the primary"): a new primary demotes the old one to unlabeled. Either
//! direction names the same pair. Other object types or association types answer 400
//! `VALIDATION_ERROR`.
//!
//! Requests name types `associationCategory`/`associationTypeId`; answers `category`/`typeId`
//! with a `label` (`null` for the unlabeled types). Ids are taken as strings or numbers.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::HubSpot;
use super::batch::{answer, check_size, id_text};
use super::errors::ApiError;
use super::objects::{parse_body, record_error};
use super::portal::{COMPANIES, CONTACTS, Link, Portal, WriteError, now};

const CATEGORY: &str = "HUBSPOT_DEFINED";

/// The label answers give the primary types (1, 2). HubSpot's changelog announced
/// "Contact with Primary Company" as the new label; only the type id is a stable reference,
/// and connectors must use that.
const PRIMARY_LABEL: &str = "Primary";

/// `{"associationCategory","associationTypeId"}` (the type id as a number or a string).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Spec {
    association_category: String,
    association_type_id: Value,
}

#[derive(Deserialize)]
pub(super) struct IdRef {
    id: Value,
}

/// One entry of a v3 create's `associations`: `{"to":{"id"},"types":[Spec]}`.
#[derive(Deserialize)]
pub(super) struct AssociationInput {
    to: IdRef,
    #[serde(default)]
    types: Vec<Spec>,
}

/// Which association types a request names.
#[derive(Debug, Clone, Copy, Default)]
struct Labels {
    primary: bool,
    unlabeled: bool,
}

/// The direction a request goes: from contacts to companies or the other way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    ContactToCompany,
    CompanyToContact,
}

impl Direction {
    /// From records of the store at `index` to the other type.
    fn from_index(index: usize) -> Self {
        if index == CONTACTS {
            Direction::ContactToCompany
        } else {
            Direction::CompanyToContact
        }
    }

    /// The direction between two object types as a path names them.
    fn between(portal: &Portal, from_type: &str, to_type: &str) -> Result<Self, ApiError> {
        let from = portal.index(from_type)?;
        let to = portal.index(to_type)?;
        if from == to {
            return Err(ApiError::validation(format!(
                "Associations from {from_type} to {to_type} are not supported: only contacts \
                 and companies can be associated here."
            )));
        }
        Ok(Self::from_index(from))
    }

    fn source_store(self) -> usize {
        match self {
            Direction::ContactToCompany => CONTACTS,
            Direction::CompanyToContact => COMPANIES,
        }
    }

    fn destination_store(self) -> usize {
        match self {
            Direction::ContactToCompany => COMPANIES,
            Direction::CompanyToContact => CONTACTS,
        }
    }

    fn primary_type(self) -> u64 {
        match self {
            Direction::ContactToCompany => 1,
            Direction::CompanyToContact => 2,
        }
    }

    fn unlabeled_type(self) -> u64 {
        match self {
            Direction::ContactToCompany => 279,
            Direction::CompanyToContact => 280,
        }
    }

    /// (contact id, company id) of a pair given as (from, to).
    fn pair(self, from: u64, to: u64) -> (u64, u64) {
        match self {
            Direction::ContactToCompany => (from, to),
            Direction::CompanyToContact => (to, from),
        }
    }

    /// (from, to) object type names, for messages.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Direction::ContactToCompany => ("contacts", "companies"),
            Direction::CompanyToContact => ("companies", "contacts"),
        }
    }

    /// The types `types` names; 400 for none, another category or another type id.
    fn labels(self, types: &[Spec]) -> Result<Labels, ApiError> {
        let (from, to) = self.names();
        if types.is_empty() {
            return Err(ApiError::validation(format!(
                "At least one association type is required to associate {from} with {to}."
            )));
        }
        let mut labels = Labels::default();
        for spec in types {
            let id = id_text(&spec.association_type_id);
            let known = spec.association_category == CATEGORY;
            match id.trim().parse::<u64>() {
                Ok(n) if known && n == self.primary_type() => labels.primary = true,
                Ok(n) if known && n == self.unlabeled_type() => labels.unlabeled = true,
                _ => {
                    return Err(ApiError::validation(format!(
                        "{} {id} is not a valid association type from {from} to {to}: use \
                         {CATEGORY} {} (primary) or {} (unlabeled).",
                        spec.association_category,
                        self.primary_type(),
                        self.unlabeled_type()
                    )));
                }
            }
        }
        Ok(labels)
    }

    /// The live record of the store at `index` named by `text`.
    fn live(portal: &Portal, index: usize, text: &str) -> Option<u64> {
        text.trim()
            .parse::<u64>()
            .ok()
            .filter(|id| portal.live(index, *id))
    }

    /// `{fromObjectTypeId, fromObjectId, toObjectTypeId, toObjectId, labels}` for an
    /// associated pair (ids as numbers; `labels` leaves out the unlabeled type).
    fn pair_json(self, portal: &Portal, from: u64, to: u64) -> Value {
        let (contact, company) = self.pair(from, to);
        let labels: Vec<&str> = if portal.pair(contact, company) == Some(true) {
            vec![PRIMARY_LABEL]
        } else {
            Vec::new()
        };
        json!({
            "fromObjectTypeId": portal.store_at(self.source_store()).kind.type_id,
            "fromObjectId": from,
            "toObjectTypeId": portal.store_at(self.destination_store()).kind.type_id,
            "toObjectId": to,
            "labels": labels,
        })
    }

    /// `[{category, typeId, label}]` of a pair: the primary type first when it has it, then
    /// the unlabeled one.
    fn types_json(self, primary: bool) -> Value {
        let mut types = Vec::new();
        if primary {
            types.push(json!({
                "category": CATEGORY,
                "typeId": self.primary_type(),
                "label": PRIMARY_LABEL,
            }));
        }
        types.push(json!({
            "category": CATEGORY,
            "typeId": self.unlabeled_type(),
            "label": Value::Null,
        }));
        Value::Array(types)
    }
}

/// A v3 create's `associations` for a record of the store at `index`, checked for their
/// types (400 otherwise); whether the `to` ids exist is checked on create.
pub(super) fn links_of(index: usize, inputs: &[AssociationInput]) -> Result<Vec<Link>, ApiError> {
    let direction = Direction::from_index(index);
    inputs
        .iter()
        .map(|input| {
            let labels = direction.labels(&input.types)?;
            Ok(Link {
                to: id_text(&input.to.id),
                primary: labels.primary,
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct LabelBody {
    inputs: Vec<LabelInput>,
}

/// `{"from":{"id"},"to":{"id"},"types":[Spec]}`
#[derive(Deserialize)]
struct LabelInput {
    from: IdRef,
    to: IdRef,
    #[serde(default)]
    types: Vec<Spec>,
}

/// The 207 error of a batch input naming a record that is not live.
fn missing_error(portal: &Portal, index: usize, missing: &str, from: &str, to: &str) -> Value {
    let mut context = Map::new();
    context.insert("ids".into(), json!([missing]));
    context.insert("fromObjectId".into(), json!([from]));
    context.insert("toObjectId".into(), json!([to]));
    record_error(&portal.store_at(index).kind, &WriteError::NotFound, context)
}

/// `POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create` → 201
/// `{status, results:[{fromObjectTypeId, fromObjectId, toObjectTypeId, toObjectId, labels}],
/// startedAt, completedAt}`. An input whose `from` or `to` is not a live record is reported
/// with 207 (`OBJECT_NOT_FOUND`, `context.ids`, `fromObjectId`, `toObjectId`); the others are
/// applied. At most 100 inputs (our cap; HubSpot's is not documented).
pub(super) async fn batch_create(
    State(hubspot): State<HubSpot>,
    Path((from_type, to_type)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now();
    let body: LabelBody = parse_body(&body)?;
    let mut portal = hubspot.portal();
    let direction = Direction::between(&portal, &from_type, &to_type)?;
    check_size(body.inputs.len())?;
    let labels = body
        .inputs
        .iter()
        .map(|i| direction.labels(&i.types))
        .collect::<Result<Vec<_>, _>>()?;
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (input, labels) in body.inputs.iter().zip(labels) {
        let (from_text, to_text) = (id_text(&input.from.id), id_text(&input.to.id));
        let from = Direction::live(&portal, direction.source_store(), &from_text);
        let to = Direction::live(&portal, direction.destination_store(), &to_text);
        let (Some(from), Some(to)) = (from, to) else {
            let (index, missing) = if from.is_none() {
                (direction.source_store(), &from_text)
            } else {
                (direction.destination_store(), &to_text)
            };
            errors.push(missing_error(&portal, index, missing, &from_text, &to_text));
            continue;
        };
        let (contact, company) = direction.pair(from, to);
        portal.associate(contact, company, labels.primary, started);
        results.push(direction.pair_json(&portal, from, to));
    }
    Ok(answer(results, errors, started, StatusCode::CREATED))
}

/// `POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/labels/archive` → 204.
/// Removes the types named: the primary type leaves the pair associated, unlabeled; the
/// unlabeled type removes the pair with every label (the SDK's documentation: "Deleting an
/// unlabeled association will also delete all labeled associations between those two
/// objects"). Pairs that are not associated, and unknown ids, are ignored.
pub(super) async fn batch_labels_archive(
    State(hubspot): State<HubSpot>,
    Path((from_type, to_type)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: LabelBody = parse_body(&body)?;
    let mut portal = hubspot.portal();
    let direction = Direction::between(&portal, &from_type, &to_type)?;
    check_size(body.inputs.len())?;
    let labels = body
        .inputs
        .iter()
        .map(|i| direction.labels(&i.types))
        .collect::<Result<Vec<_>, _>>()?;
    let at = now();
    for (input, labels) in body.inputs.iter().zip(labels) {
        let from = id_text(&input.from.id).trim().parse::<u64>();
        let to = id_text(&input.to.id).trim().parse::<u64>();
        let (Ok(from), Ok(to)) = (from, to) else {
            continue;
        };
        let (contact, company) = direction.pair(from, to);
        if labels.unlabeled {
            portal.dissociate(contact, company, at);
        } else if labels.primary {
            portal.unlabel_primary(contact, company, at);
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct ArchiveBody {
    inputs: Vec<ArchiveInput>,
}

/// `{"from":{"id"},"to":[{"id"}]}`
#[derive(Deserialize)]
struct ArchiveInput {
    from: IdRef,
    #[serde(default)]
    to: Vec<IdRef>,
}

/// `POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive` → 204: removes
/// the pairs with every label. Pairs that are not associated, and unknown ids, are ignored.
pub(super) async fn batch_archive(
    State(hubspot): State<HubSpot>,
    Path((from_type, to_type)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: ArchiveBody = parse_body(&body)?;
    let mut portal = hubspot.portal();
    let direction = Direction::between(&portal, &from_type, &to_type)?;
    check_size(body.inputs.len())?;
    let at = now();
    for input in &body.inputs {
        let Ok(from) = id_text(&input.from.id).trim().parse::<u64>() else {
            continue;
        };
        for to in &input.to {
            if let Ok(to) = id_text(&to.id).trim().parse::<u64>() {
                let (contact, company) = direction.pair(from, to);
                portal.dissociate(contact, company, at);
            }
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct ReadBody {
    inputs: Vec<IdRef>,
}

/// `POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read` → 200
/// `{status, results:[{from:{id}, to:[{toObjectId, associationTypes:[{category, typeId,
/// label}]}]}], startedAt, completedAt}`, `to` by id. An id with no associations (unknown and
/// archived ids included) is reported with 207 as third-party captures of HubSpot show it:
/// `{category: OBJECT_NOT_FOUND, subCategory: crm.associations.NO_ASSOCIATIONS_FOUND,
/// message: "No company is associated with contact 1.", context: {fromObjectId,
/// fromObjectType, toObjectType}}`. No paging: an id's associations all come at once.
pub(super) async fn batch_read(
    State(hubspot): State<HubSpot>,
    Path((from_type, to_type)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now();
    let body: ReadBody = parse_body(&body)?;
    let portal = hubspot.portal();
    let direction = Direction::between(&portal, &from_type, &to_type)?;
    check_size(body.inputs.len())?;
    let mut seen = BTreeSet::new();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in &body.inputs {
        let text = id_text(&input.id);
        let found = match text.trim().parse::<u64>() {
            Ok(from) if !seen.insert(from) => continue,
            Ok(from) => match direction {
                Direction::ContactToCompany => portal.companies_of(from),
                Direction::CompanyToContact => portal.contacts_of(from),
            },
            Err(_) => Vec::new(),
        };
        if found.is_empty() {
            let singular = |index: usize| portal.store_at(index).kind.singular.to_lowercase();
            let (from_name, to_name) = (
                singular(direction.source_store()),
                singular(direction.destination_store()),
            );
            errors.push(json!({
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": format!("No {to_name} is associated with {from_name} {text}."),
                "context": {
                    "fromObjectId": [text],
                    "fromObjectType": [from_name],
                    "toObjectType": [to_name],
                },
            }));
            continue;
        }
        let to: Vec<Value> = found
            .into_iter()
            .map(|(other, primary)| {
                json!({
                    "toObjectId": other,
                    "associationTypes": direction.types_json(primary),
                })
            })
            .collect();
        results.push(json!({ "from": {"id": text}, "to": to }));
    }
    Ok(answer(results, errors, started, StatusCode::OK))
}

/// `PUT /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}`
/// with `[Spec]` → 201 `{fromObjectTypeId, fromObjectId, toObjectTypeId, toObjectId,
/// labels}`; 404 when either record is not live.
pub(super) async fn put(
    State(hubspot): State<HubSpot>,
    Path((from_type, from_id, to_type, to_id)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let types: Vec<Spec> = parse_body(&body)?;
    let mut portal = hubspot.portal();
    let direction = Direction::between(&portal, &from_type, &to_type)?;
    let labels = direction.labels(&types)?;
    let from = Direction::live(&portal, direction.source_store(), &from_id);
    let to = Direction::live(&portal, direction.destination_store(), &to_id);
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::not_found("resource not found"));
    };
    let (contact, company) = direction.pair(from, to);
    portal.associate(contact, company, labels.primary, now());
    let body = direction.pair_json(&portal, from, to);
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// `DELETE /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}`
/// → 204: removes the pair with every label (also when it was not associated).
pub(super) async fn delete(
    State(hubspot): State<HubSpot>,
    Path((from_type, from_id, to_type, to_id)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let mut portal = hubspot.portal();
    let direction = Direction::between(&portal, &from_type, &to_type)?;
    if let (Ok(from), Ok(to)) = (from_id.trim().parse::<u64>(), to_id.trim().parse::<u64>()) {
        let (contact, company) = direction.pair(from, to);
        portal.dissociate(contact, company, now());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
