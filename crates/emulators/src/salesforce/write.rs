//! Creating, updating and deleting one record: the per-record checks Salesforce makes
//! (field names, field-level access, types, lengths, picklists, references, required fields),
//! split into a plan (checked against the org as it is) and its application.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::errors::RecordError;
use super::ids;
use super::org::{Found, Org};
use super::schema::{Field, FieldType, SObject};
use super::time;

/// Who writes: the API (the integration user, held to field-level access), or a person in
/// the UI (`user_*`: any non-system field, as an admin could).
#[derive(Debug, Clone, Copy)]
pub enum Writer<'a> {
    Api,
    User(&'a str),
}

impl Writer<'_> {
    pub fn user_id(&self) -> &str {
        match self {
            Writer::Api => super::Salesforce::INTEGRATION_USER_ID,
            Writer::User(id) => id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Insert,
    Update,
}

/// A checked write, to apply unless the request is rolled back.
#[derive(Debug)]
pub enum Planned {
    Insert {
        object: String,
        values: Vec<(&'static str, Value)>,
    },
    Update {
        object: String,
        id: String,
        values: Vec<(&'static str, Value)>,
    },
    Delete {
        object: String,
        id: String,
    },
}

impl Planned {
    /// Applies the plan; the record's id.
    pub fn apply(self, org: &mut Org, by: &str, at: DateTime<Utc>) -> String {
        let schema = org.schema();
        match self {
            Planned::Insert { object, values } => {
                let object = schema.object(&object).expect("planned on a known object");
                org.insert(object, values, by, at)
            }
            Planned::Update { object, id, values } => {
                let object = schema.object(&object).expect("planned on a known object");
                org.update(object, &id, values, by, at);
                id
            }
            Planned::Delete { object, id } => {
                let object = schema.object(&object).expect("planned on a known object");
                org.delete(object, &id, by, at);
                id
            }
        }
    }
}

/// Checks a create of `object` with the fields of `body` (`attributes` ignored).
pub fn plan_insert(
    org: &Org,
    object: &SObject,
    body: &Map<String, Value>,
    writer: Writer,
) -> Result<Planned, RecordError> {
    if matches!(writer, Writer::Api) && !object.createable {
        return Err(RecordError::new(
            "INVALID_TYPE_FOR_OPERATION",
            format!("entity type cannot be inserted: {}", object.label),
        ));
    }
    let values = check_fields(org, object, body, Op::Insert, writer)?;
    Ok(Planned::Insert {
        object: object.name.to_string(),
        values,
    })
}

/// Checks an update of the record `id` (as given) of `object`.
pub fn plan_update(
    org: &Org,
    object: &SObject,
    id: &str,
    body: &Map<String, Value>,
    writer: Writer,
) -> Result<Planned, RecordError> {
    let id = existing_id(org, object, id)?;
    if matches!(writer, Writer::Api) && !object.updateable {
        return Err(RecordError::new(
            "INVALID_TYPE_FOR_OPERATION",
            format!("entity type cannot be updated: {}", object.label),
        ));
    }
    let values = check_fields(org, object, body, Op::Update, writer)?;
    Ok(Planned::Update {
        object: object.name.to_string(),
        id,
        values,
    })
}

/// Checks a delete of the record `id`, whose object its key prefix tells.
pub fn plan_delete(org: &Org, id: &str, writer: Writer) -> Result<Planned, RecordError> {
    let schema = org.schema();
    let malformed = || RecordError::new("MALFORMED_ID", format!("malformed id {id}"));
    let full = ids::normalize(id).ok_or_else(malformed)?;
    let object = schema.object_of_id(&full).ok_or_else(malformed)?;
    let full = existing_id(org, object, &full)?;
    if matches!(writer, Writer::Api) && !object.deletable {
        return Err(RecordError::new(
            "INVALID_TYPE_FOR_OPERATION",
            format!("entity type cannot be deleted: {}", object.label),
        ));
    }
    Ok(Planned::Delete {
        object: object.name.to_string(),
        id: full,
    })
}

/// The 18-character id of a live record of `object`, or why there is none.
fn existing_id(org: &Org, object: &SObject, id: &str) -> Result<String, RecordError> {
    let Some(full) = ids::normalize(id) else {
        return Err(RecordError::new("MALFORMED_ID", format!("malformed id {id}")).on("Id"));
    };
    if !full.starts_with(object.key_prefix) {
        return Err(RecordError::new(
            "MALFORMED_ID",
            format!("{} ID: id value of incorrect type: {id}", object.label),
        )
        .on("Id"));
    }
    match org.find(&full) {
        Found::Live(_) => Ok(full),
        Found::Deleted => Err(RecordError::entity_is_deleted()),
        Found::Missing => Err(RecordError::new(
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
        )),
    }
}

/// The checked values of `body`'s fields, or the record's first error.
fn check_fields(
    org: &Org,
    object: &SObject,
    body: &Map<String, Value>,
    op: Op,
    writer: Writer,
) -> Result<Vec<(&'static str, Value)>, RecordError> {
    let mut given: Vec<(&Field, &Value)> = Vec::new();
    for (name, value) in body {
        if name == "attributes" {
            continue;
        }
        if name.eq_ignore_ascii_case("Id") {
            if op == Op::Update || value.is_null() {
                continue;
            }
            return Err(RecordError::new(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "cannot specify Id in an insert call",
            )
            .on("Id"));
        }
        let Some(field) = object.field(name) else {
            return Err(RecordError::new(
                "INVALID_FIELD",
                format!("No such column '{name}' on sobject of type {}", object.name),
            ));
        };
        given.push((field, value));
    }

    let not_writable: Vec<&str> = given
        .iter()
        .map(|(field, _)| *field)
        .filter(|field| match writer {
            Writer::User(_) => field.system,
            Writer::Api => match op {
                Op::Insert => !field.createable,
                Op::Update => !field.updateable,
            },
        })
        .map(|field| field.name)
        .collect();
    if !not_writable.is_empty() {
        let verb = if op == Op::Insert { "create" } else { "update" };
        let mut error = RecordError::new(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!(
                "Unable to {verb} fields: {}. Please check the security settings of this field \
                 and verify that it is read/write for your profile or permission set.",
                not_writable.join(", ")
            ),
        );
        error.fields = not_writable.iter().map(|f| f.to_string()).collect();
        return Err(error);
    }

    let mut values = Vec::with_capacity(given.len());
    for (field, value) in given {
        values.push((field.name, check_value(org, field, value)?));
    }

    let missing: Vec<String> = match op {
        Op::Insert => object
            .fields
            .iter()
            .filter(|f| f.is_required_on_create())
            .filter(|f| !values.iter().any(|(n, v)| *n == f.name && !v.is_null()))
            .map(|f| f.name.to_string())
            .collect(),
        Op::Update => values
            .iter()
            .filter(|(n, v)| v.is_null() && object.field(n).is_some_and(|f| !f.nillable))
            .map(|(n, _)| n.to_string())
            .collect(),
    };
    if !missing.is_empty() {
        let mut error = RecordError::new(
            "REQUIRED_FIELD_MISSING",
            format!("Required fields are missing: [{}]", missing.join(", ")),
        );
        error.fields = missing;
        return Err(error);
    }
    Ok(values)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "VALUE_NULL",
        Value::Bool(true) => "VALUE_TRUE",
        Value::Bool(false) => "VALUE_FALSE",
        Value::Number(n) if n.is_f64() => "VALUE_NUMBER_FLOAT",
        Value::Number(_) => "VALUE_NUMBER_INT",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn parse_error(field: &Field, expected: &str, value: &Value) -> RecordError {
    RecordError::new(
        "JSON_PARSER_ERROR",
        format!(
            "Cannot deserialize instance of {expected} from {} value {value} or request may be \
             missing a required field",
            json_type(value)
        ),
    )
    .on(field.name)
}

/// A value as stored, or why the field can't take it. Empty strings are nulls, as in Salesforce.
fn check_value(org: &Org, field: &Field, value: &Value) -> Result<Value, RecordError> {
    if value.is_null() || value.as_str() == Some("") {
        return Ok(match field.ftype {
            FieldType::Boolean => Value::Bool(false),
            _ => Value::Null,
        });
    }
    let ftype = field.ftype;
    if ftype.is_id() {
        let text = value
            .as_str()
            .ok_or_else(|| parse_error(field, "reference", value))?;
        return check_reference(org, field, text).map(Value::String);
    }
    if ftype.is_text() {
        let text = value
            .as_str()
            .ok_or_else(|| parse_error(field, "string", value))?;
        return check_text(field, text).map(|()| Value::String(text.to_string()));
    }
    match ftype {
        FieldType::Boolean => value
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| parse_error(field, "boolean", value)),
        FieldType::Int => {
            let n = value
                .as_f64()
                .filter(|n| n.fract() == 0.0)
                .ok_or_else(|| parse_error(field, "int", value))?;
            check_range(field, n)?;
            Ok(Value::from(n as i64))
        }
        FieldType::Double | FieldType::Currency | FieldType::Percent => {
            let n = value
                .as_f64()
                .ok_or_else(|| parse_error(field, "double", value))?;
            let factor = 10f64.powi(field.scale as i32);
            let n = (n * factor).round() / factor;
            check_range(field, n)?;
            Ok(Value::from(n))
        }
        FieldType::Date => value
            .as_str()
            .and_then(time::parse_date)
            .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
            .ok_or_else(|| parse_error(field, "date", value)),
        FieldType::Datetime => value
            .as_str()
            .and_then(time::parse_datetime)
            .map(|at| Value::String(time::render(chrono::SubsecRound::trunc_subsecs(at, 0))))
            .ok_or_else(|| parse_error(field, "datetime", value)),
        _ => unreachable!("text and id types handled above"),
    }
}

fn check_text(field: &Field, text: &str) -> Result<(), RecordError> {
    if text.chars().count() > field.length as usize {
        return Err(RecordError::new(
            "STRING_TOO_LONG",
            format!(
                "{}: data value too large: {text} (max length={})",
                field.label, field.length
            ),
        )
        .on(field.name));
    }
    if field.ftype == FieldType::Email && !is_email(text) {
        return Err(RecordError::new(
            "INVALID_EMAIL_ADDRESS",
            format!("{}: invalid email address: {text}", field.label),
        )
        .on(field.name));
    }
    if field.restricted_picklist && !field.picklist.contains(&text) {
        return Err(RecordError::new(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            format!(
                "{}: bad value for restricted picklist field: {text}",
                field.label
            ),
        )
        .on(field.name));
    }
    Ok(())
}

/// local@domain.tld, no spaces, one `@`.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && domain
            .split_once('.')
            .is_some_and(|(host, tld)| !host.is_empty() && !tld.is_empty() && !tld.ends_with('.'))
}

fn check_range(field: &Field, n: f64) -> Result<(), RecordError> {
    let digits = field.precision.saturating_sub(field.scale);
    let limit = if field.ftype == FieldType::Int && field.precision == 0 {
        f64::from(i32::MAX)
    } else {
        10f64.powi(digits as i32)
    };
    if n.abs() >= limit {
        return Err(RecordError::new(
            "NUMBER_OUTSIDE_VALID_RANGE",
            format!(
                "{}: value outside of valid range on numeric field: {n}",
                field.label
            ),
        )
        .on(field.name));
    }
    Ok(())
}

/// A lookup's value: an id of a live record of the referenced object.
fn check_reference(org: &Org, field: &Field, text: &str) -> Result<String, RecordError> {
    let schema = org.schema();
    let Some(full) = ids::normalize(text) else {
        return Err(RecordError::new(
            "MALFORMED_ID",
            format!("{}: id value of incorrect type: {text}", field.label),
        )
        .on(field.name));
    };
    let of_type = field.reference_to.iter().any(|to| {
        schema
            .object(to)
            .is_some_and(|o| full.starts_with(o.key_prefix))
    });
    if !of_type {
        return Err(RecordError::new(
            "FIELD_INTEGRITY_EXCEPTION",
            format!("{}: id value of incorrect type: {text}", field.label),
        )
        .on(field.name));
    }
    match org.find(&full) {
        Found::Live(_) => Ok(full),
        Found::Deleted => Err(RecordError::entity_is_deleted().on(field.name)),
        Found::Missing => Err(RecordError::new(
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
        )
        .on(field.name)),
    }
}
