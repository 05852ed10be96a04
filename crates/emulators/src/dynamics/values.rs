//! Checking a create or update payload against the table's columns, in the order Dataverse
//! reports problems: the payload is read first (unknown properties, wrong JSON types), then
//! each column's rules (valid for create/update, length, email, choice values, ranges), then
//! required columns.

use serde_json::{Map, Value};

use super::errors::{ApiError, INVALID_ARGUMENT};
use super::org::Values;
use super::schema::{AttrType, Attribute, Entity, Format, RequiredLevel};
use super::time;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// The checked values of `body`, ready to store.
pub fn check(
    entity: &'static Entity,
    body: &Map<String, Value>,
    mode: Mode,
) -> Result<Values, ApiError> {
    let mut read = Vec::new();
    for (key, value) in body {
        if key.starts_with('@') {
            continue; // instance annotations such as @odata.type
        }
        if let Some(navigation) = key.strip_suffix("@odata.bind") {
            let attribute = entity
                .attribute(navigation)
                .filter(|a| a.kind == AttrType::Lookup)
                .ok_or_else(|| ApiError::invalid_property(&entity.type_name(), navigation))?;
            read.push((attribute, bind(entity, attribute, value)?));
            continue;
        }
        if let Some((name, _)) = key.split_once('@') {
            return Err(ApiError::payload(
                entity.set_name,
                &format!(
                    "An undeclared property '{name}' which only has property annotations in the \
                     payload but no property value was found in the payload."
                ),
            ));
        }
        // A lookup's `_x_value` is read-only: it is written through `x@odata.bind`.
        let Some(attribute) = entity
            .property(key)
            .filter(|a| a.kind != AttrType::Lookup || a.property == a.name)
        else {
            return Err(ApiError::invalid_property(&entity.type_name(), key));
        };
        read.push((attribute, convert(entity, attribute, value)?));
    }
    for (attribute, value) in &read {
        rules(entity, attribute, value, mode)?;
    }
    if mode == Mode::Create {
        let missing = entity.attributes.iter().find(|a| {
            a.required != RequiredLevel::None
                && a.create
                && !a.primary_id
                && a.default.is_none()
                && !read.iter().any(|(r, v)| r.name == a.name && !v.is_null())
        });
        if let Some(attribute) = missing {
            return Err(required_missing(entity, attribute));
        }
    }
    Ok(read)
}

/// `accounts(00000000-…)`, `/accounts(…)` or an absolute URL ending so, naming a record of
/// one of the lookup's targets; null disassociates. The record's id, or null.
fn bind(entity: &Entity, attribute: &Attribute, value: &Value) -> Result<Value, ApiError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let refuse = || {
        ApiError::bad_request(
            INVALID_ARGUMENT,
            format!(
                "The value '{value}' of '{}@odata.bind' on '{}' is not a reference to a record of                  {}.",
                attribute.name,
                entity.name,
                attribute.targets.join(" or ")
            ),
        )
    };
    let text = value.as_str().ok_or_else(refuse)?;
    let last = text.rsplit('/').next().unwrap_or(text);
    let (set, rest) = last.split_once('(').ok_or_else(refuse)?;
    let id = rest.strip_suffix(')').ok_or_else(refuse)?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| refuse())?;
    let target_ok = attribute
        .targets
        .iter()
        .any(|t| super::schema::by_name(t).is_some_and(|e| e.set_name == set));
    if !target_ok {
        return Err(refuse());
    }
    Ok(Value::String(id.to_string()))
}

fn required_missing(entity: &Entity, attribute: &Attribute) -> ApiError {
    ApiError::bad_request(
        INVALID_ARGUMENT,
        format!(
            "A validation error occurred. The value for the required attribute '{}' of the '{}' \
             entity is missing.",
            attribute.name, entity.name
        ),
    )
}

/// Reads a JSON value as the column's OData type (what the OData layer does before Dataverse
/// sees the record).
fn convert(entity: &Entity, attribute: &Attribute, value: &Value) -> Result<Value, ApiError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let refuse = || {
        let literal = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        ApiError::payload(
            entity.set_name,
            &format!(
                "Cannot convert the literal '{literal}' to the expected type '{}'.",
                attribute.kind.edm()
            ),
        )
    };
    match attribute.kind {
        AttrType::String | AttrType::Memo => match value {
            Value::String(_) => Ok(value.clone()),
            _ => Err(refuse()),
        },
        AttrType::Uniqueidentifier | AttrType::Lookup => value
            .as_str()
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .map(|id| Value::String(id.to_string()))
            .ok_or_else(refuse),
        AttrType::Integer | AttrType::Picklist | AttrType::State => value
            .as_i64()
            .filter(|n| i32::try_from(*n).is_ok())
            .map(Value::from)
            .ok_or_else(refuse),
        AttrType::BigInt => value.as_i64().map(Value::from).ok_or_else(refuse),
        AttrType::Money => {
            let number = match value {
                Value::Number(n) => n.as_f64(),
                // Edm.Decimal may travel as a string (IEEE754Compatible).
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|n| n.is_finite())
            .ok_or_else(refuse)?;
            let scale = 10f64.powi(attribute.precision.unwrap_or(2) as i32);
            Ok(Value::from((number * scale).round() / scale))
        }
        AttrType::DateTime => {
            let text = value.as_str().ok_or_else(refuse)?;
            if attribute.is_date_only() {
                let date = time::parse_date(text)
                    .or_else(|| time::parse_datetime(text).map(|at| at.date_naive()))
                    .ok_or_else(refuse)?;
                Ok(Value::String(time::render_date(date)))
            } else {
                let at = time::parse_datetime(text).ok_or_else(refuse)?;
                Ok(Value::String(time::render(
                    chrono::SubsecRound::trunc_subsecs(at, 0),
                )))
            }
        }
    }
}

/// The column's own rules.
fn rules(
    entity: &Entity,
    attribute: &Attribute,
    value: &Value,
    mode: Mode,
) -> Result<(), ApiError> {
    let allowed = match mode {
        Mode::Create => attribute.create,
        // The primary id may be repeated in an update body (it must match the URL's).
        Mode::Update => attribute.update || attribute.primary_id,
    };
    if !allowed {
        let operation = match mode {
            Mode::Create => "create",
            Mode::Update => "update",
        };
        return Err(ApiError::bad_request(
            INVALID_ARGUMENT,
            format!(
                "Attribute '{}' of entity '{}' is not valid for {operation}.",
                attribute.name, entity.name
            ),
        ));
    }
    if value.is_null() {
        if mode == Mode::Update
            && attribute.required != RequiredLevel::None
            && !attribute.primary_id
        {
            return Err(required_missing(entity, attribute));
        }
        return Ok(());
    }
    if let (Some(max), Some(text)) = (attribute.max_length, value.as_str())
        && text.chars().count() > max as usize
    {
        return Err(ApiError::bad_request(
            "0x80044331",
            format!(
                "A validation error occurred.  The length of the '{}' attribute of the '{}' \
                 entity exceeded the maximum allowed length of '{max}'.",
                attribute.name, entity.name
            ),
        ));
    }
    if attribute.format == Some(Format::Email)
        && let Some(text) = value.as_str()
        && !text.is_empty()
        && !is_email(text)
    {
        return Err(ApiError::bad_request(
            INVALID_ARGUMENT,
            format!(
                "A validation error occurred. The value '{text}' of '{}' on record of type '{}' \
                 is not a valid email address.",
                attribute.name, entity.name
            ),
        ));
    }
    if !attribute.options.is_empty()
        && let Some(n) = value.as_i64()
        && !attribute.options.contains(&n)
    {
        let accepted: Vec<String> = attribute.options.iter().map(i64::to_string).collect();
        return Err(ApiError::bad_request(
            "0x8004431a",
            format!(
                "A validation error occurred. The value {n} of '{}' on record of type '{}' is \
                 outside the valid range. Accepted Values: {}",
                attribute.name,
                entity.name,
                accepted.join(",")
            ),
        ));
    }
    if let Some(n) = value.as_f64()
        && (attribute.min.is_some_and(|min| n < min) || attribute.max.is_some_and(|max| n > max))
    {
        return Err(ApiError::bad_request(
            "0x80044330",
            format!(
                "A validation error occurred. The value {n} of '{}' on record of type '{}' is \
                 outside the valid range ({} to {}).",
                attribute.name,
                entity.name,
                attribute.min.unwrap_or(f64::MIN),
                attribute.max.unwrap_or(f64::MAX)
            ),
        ));
    }
    Ok(())
}

/// `local@domain.tld`: one `@`, a non-empty local part, a dotted domain, no spaces.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| !label.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::dynamics::schema::by_name;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn code(entity: &str, value: Value, mode: Mode) -> String {
        check(by_name(entity).unwrap(), &body(value), mode)
            .unwrap_err()
            .code
            .to_string()
    }

    #[test]
    fn refusals() {
        assert_eq!(code("account", json!({"Name": "x"}), Mode::Create), "0x0");
        assert_eq!(
            code("account", json!({"telephone1": "1"}), Mode::Create),
            INVALID_ARGUMENT
        );
        assert_eq!(
            code("account", json!({"name": "x".repeat(161)}), Mode::Create),
            "0x80044331"
        );
        assert_eq!(
            code(
                "account",
                json!({"name": "x", "industrycode": 9}),
                Mode::Create
            ),
            "0x8004431a"
        );
        assert_eq!(
            code(
                "account",
                json!({"name": "x", "createdon": "2026-01-01T00:00:00Z"}),
                Mode::Create
            ),
            INVALID_ARGUMENT
        );
        assert_eq!(
            code(
                "account",
                json!({"numberofemployees": "many"}),
                Mode::Update
            ),
            "0x80048d19"
        );
        assert_eq!(
            code(
                "contact",
                json!({"lastname": "x", "emailaddress1": "nope"}),
                Mode::Create
            ),
            INVALID_ARGUMENT
        );
        assert_eq!(
            code("account", json!({"name": null}), Mode::Update),
            INVALID_ARGUMENT
        );
    }

    #[test]
    fn conversions() {
        let values = check(
            by_name("contact").unwrap(),
            &body(json!({"lastname": "Smith", "birthdate": "2000-01-31T00:00:00Z"})),
            Mode::Create,
        )
        .unwrap();
        let birthdate = values.iter().find(|(a, _)| a.name == "birthdate").unwrap();
        assert_eq!(birthdate.1, json!("2000-01-31"));
        // The primary id may be repeated in an update (the handler compares it with the URL's).
        let values = check(
            by_name("account").unwrap(),
            &body(json!({"accountid": "0F8FAD5B-D9CB-469F-A165-70867728950E"})),
            Mode::Update,
        )
        .unwrap();
        assert_eq!(values[0].1, json!("0f8fad5b-d9cb-469f-a165-70867728950e"));
        let values = check(
            by_name("account").unwrap(),
            &body(json!({"name": "a", "revenue": 10.555})),
            Mode::Create,
        )
        .unwrap();
        let revenue = values.iter().find(|(a, _)| a.name == "revenue").unwrap();
        assert_eq!(revenue.1, json!(10.56));
        assert!(is_email("a.b@example.com"));
        assert!(!is_email("a@b"));
    }
}
