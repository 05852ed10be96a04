//! Property definitions (the properties API) and how a written value is checked and stored.
//!
//! HubSpot's wire form is a string for every type: numbers `"42"`, booleans `"true"`,
//! datetimes ISO 8601 UTC with milliseconds, dates `YYYY-MM-DD`. Writes may also give JSON
//! numbers and booleans, and datetimes/dates as epoch milliseconds; what is stored is the
//! wire form.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use super::HubSpot;
use super::errors::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PropertyType {
    String,
    Number,
    Date,
    Datetime,
    Enumeration,
    Bool,
}

impl PropertyType {
    fn wire_name(self) -> &'static str {
        match self {
            PropertyType::String => "string",
            PropertyType::Number => "number",
            PropertyType::Date => "date",
            PropertyType::Datetime => "datetime",
            PropertyType::Enumeration => "enumeration",
            PropertyType::Bool => "bool",
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct PropertyDef {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: PropertyType,
    pub field_type: &'static str,
    pub group: &'static str,
    pub description: &'static str,
    /// (label, value)
    pub options: Vec<(&'static str, &'static str)>,
    pub unique: bool,
    pub read_only: bool,
    /// A property HubSpot defines (false: a custom property of this portal).
    pub hubspot_defined: bool,
    /// An email address (validated as one).
    pub email: bool,
    /// Left out of HubSpot's UI (`hidden: true` in the properties API).
    pub hidden: bool,
    /// The object type the value is an id of (`referencedObjectType`, e.g. `COMPANY`).
    pub referenced_object_type: Option<&'static str>,
    /// Kept by the portal from the record's associations, never written: a write is refused
    /// as `READ_ONLY_VALUE` although the metadata says `readOnlyValue: false`, as a real
    /// portal's does for `associatedcompanyid` (see [`contact_properties`]).
    pub from_associations: bool,
}

impl PropertyDef {
    fn new(name: &'static str, label: &'static str, kind: PropertyType) -> Self {
        let field_type = match kind {
            PropertyType::String => "text",
            PropertyType::Number => "number",
            PropertyType::Date | PropertyType::Datetime => "date",
            PropertyType::Enumeration => "select",
            PropertyType::Bool => "booleancheckbox",
        };
        let options = if kind == PropertyType::Bool {
            vec![("True", "true"), ("False", "false")]
        } else {
            Vec::new()
        };
        PropertyDef {
            name,
            label,
            kind,
            field_type,
            group: "",
            description: "",
            options,
            unique: false,
            read_only: false,
            hubspot_defined: true,
            email: false,
            hidden: false,
            referenced_object_type: None,
            from_associations: false,
        }
    }

    fn group(mut self, group: &'static str) -> Self {
        self.group = group;
        self
    }

    fn describe(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    fn field(mut self, field_type: &'static str) -> Self {
        self.field_type = field_type;
        self
    }

    fn options(mut self, options: &[(&'static str, &'static str)]) -> Self {
        self.options = options.to_vec();
        self
    }

    fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// The properties API's JSON for this property.
    pub fn to_json(&self, display_order: usize) -> Value {
        let options: Vec<Value> = self
            .options
            .iter()
            .enumerate()
            .map(|(i, (label, value))| {
                json!({"label": label, "value": value, "displayOrder": i, "hidden": false})
            })
            .collect();
        let mut property = json!({
            "name": self.name,
            "label": self.label,
            "type": self.kind.wire_name(),
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group,
            "options": options,
            "displayOrder": display_order,
            "calculated": false,
            "externalOptions": false,
            "hasUniqueValue": self.unique,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "archived": false,
            "modificationMetadata": {
                "archivable": !self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "formField": !self.read_only && !self.hidden,
        });
        if let Some(referenced) = self.referenced_object_type {
            property["referencedObjectType"] = json!(referenced);
        }
        property
    }
}

/// The read-only stamps every object type has; `contact_style` adds `lastmodifieddate`.
fn system_properties(contact_style: bool) -> Vec<PropertyDef> {
    let mut props = vec![
        PropertyDef::new("hs_object_id", "Record ID", PropertyType::Number)
            .group("")
            .describe("The unique ID for this record. This value is set automatically by HubSpot.")
            .read_only(),
        PropertyDef::new("createdate", "Create Date", PropertyType::Datetime)
            .describe("The date the record was created.")
            .read_only(),
        PropertyDef::new(
            "hs_lastmodifieddate",
            "Last Modified Date",
            PropertyType::Datetime,
        )
        .describe("Most recent timestamp of any property update for this record.")
        .read_only(),
    ];
    if contact_style {
        props.push(
            PropertyDef::new(
                "lastmodifieddate",
                "Last Modified Date",
                PropertyType::Datetime,
            )
            .describe("The date any property on this contact was modified.")
            .read_only(),
        );
    }
    props
}

/// The contact property holding the id of the contact's primary company.
pub(super) const PRIMARY_COMPANY: &str = "associatedcompanyid";

pub(super) fn contact_properties() -> Vec<PropertyDef> {
    let info = "contactinformation";
    let mut email = PropertyDef::new("email", "Email", PropertyType::String)
        .group(info)
        .describe("A contact's email address.");
    email.unique = true;
    email.email = true;
    let mut renewal = PropertyDef::new("renewal_date", "Renewal date", PropertyType::Date)
        .group(info)
        .describe("A custom date property of this portal.");
    renewal.hubspot_defined = false;
    // As a real portal's properties API shows it (a 2024 capture): hidden, a reference to
    // COMPANY, `readOnlyValue: false`. Its value is the id of the contact's primary company,
    // kept from the associations; HubSpot's changelog of 2019-01-24 made it read-only ("can
    // no longer be set or updated when creating or updating contact records … use the CRM
    // Associations API"), so writes of it are refused here.
    let mut primary_company = PropertyDef::new(
        PRIMARY_COMPANY,
        "Primary Associated Company ID",
        PropertyType::Number,
    )
    .group(info)
    .describe("HubSpot defined ID of a contact's primary associated company in HubSpot.");
    primary_company.hidden = true;
    primary_company.referenced_object_type = Some("COMPANY");
    primary_company.from_associations = true;
    let mut props = vec![
        email,
        PropertyDef::new("firstname", "First Name", PropertyType::String)
            .group(info)
            .describe("A contact's first name."),
        PropertyDef::new("lastname", "Last Name", PropertyType::String)
            .group(info)
            .describe("A contact's last name."),
        PropertyDef::new("phone", "Phone Number", PropertyType::String)
            .group(info)
            .field("phonenumber")
            .describe("A contact's primary phone number."),
        PropertyDef::new("company", "Company Name", PropertyType::String)
            .group(info)
            .describe("Name of the contact's company."),
        PropertyDef::new(
            "lifecyclestage",
            "Lifecycle Stage",
            PropertyType::Enumeration,
        )
        .group(info)
        .field("radio")
        .describe("The qualification of contacts to sales readiness.")
        .options(&[
            ("Subscriber", "subscriber"),
            ("Lead", "lead"),
            ("Marketing Qualified Lead", "marketingqualifiedlead"),
            ("Sales Qualified Lead", "salesqualifiedlead"),
            ("Opportunity", "opportunity"),
            ("Customer", "customer"),
            ("Evangelist", "evangelist"),
            ("Other", "other"),
        ]),
        PropertyDef::new("annualrevenue", "Annual Revenue", PropertyType::Number)
            .group(info)
            .describe("Annual company revenue."),
        PropertyDef::new("closedate", "Close Date", PropertyType::Datetime)
            .group(info)
            .describe("Date the contact became a customer."),
        renewal,
        primary_company,
    ];
    props.extend(system_properties(true));
    props
}

pub(super) fn company_properties() -> Vec<PropertyDef> {
    let info = "companyinformation";
    let mut props = vec![
        PropertyDef::new("name", "Company name", PropertyType::String)
            .group(info)
            .describe("The name of the company or organization."),
        PropertyDef::new("domain", "Company Domain Name", PropertyType::String)
            .group(info)
            .describe("The domain name of the company or organization."),
        PropertyDef::new("industry", "Industry", PropertyType::Enumeration)
            .group(info)
            .describe("The type of business the company performs.")
            .options(&[
                ("Computer Software", "COMPUTER_SOFTWARE"),
                ("Banking", "BANKING"),
                ("Retail", "RETAIL"),
                ("Food & Beverages", "FOOD_BEVERAGES"),
                ("Hospital & Health Care", "HOSPITAL_HEALTH_CARE"),
            ]),
        PropertyDef::new(
            "numberofemployees",
            "Number of Employees",
            PropertyType::Number,
        )
        .group(info)
        .describe("The total number of employees who work for the company."),
        PropertyDef::new("annualrevenue", "Annual Revenue", PropertyType::Number)
            .group(info)
            .describe("The actual or estimated annual revenue of the company."),
        PropertyDef::new("description", "Description", PropertyType::String)
            .group(info)
            .field("textarea")
            .describe("A short statement about the company's mission and goals."),
        PropertyDef::new("is_public", "Is Public", PropertyType::Bool)
            .group(info)
            .describe("Indicates that the company is publicly traded."),
    ];
    props.extend(system_properties(false));
    props
}

/// Why one property's value was refused (HubSpot's `PropertyValidationResult`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PropertyError {
    pub name: String,
    pub code: &'static str,
    pub message: String,
}

impl PropertyError {
    fn new(name: &str, code: &'static str, message: String) -> Self {
        PropertyError {
            name: name.to_owned(),
            code,
            message,
        }
    }

    pub fn doesnt_exist(name: &str) -> Self {
        Self::new(
            name,
            "PROPERTY_DOESNT_EXIST",
            format!("Property \"{name}\" does not exist"),
        )
    }
}

/// The value to store for a write of `value` to `def`: `None` clears the property.
pub(super) fn normalize(def: &PropertyDef, value: &Value) -> Result<Option<String>, PropertyError> {
    if def.read_only || def.from_associations {
        return Err(PropertyError::new(
            def.name,
            "READ_ONLY_VALUE",
            format!(
                "\"{}\" is a read only property; its value cannot be set.",
                def.name
            ),
        ));
    }
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => {
            return Err(PropertyError::new(
                def.name,
                "INVALID_VALUE",
                format!("{value} is not a valid value for property {}", def.name),
            ));
        }
    };
    if text.is_empty() {
        return Ok(None);
    }
    let invalid = |code: &'static str, what: &str| {
        PropertyError::new(def.name, code, format!("{text} was not a valid {what}."))
    };
    match def.kind {
        PropertyType::String if def.email => {
            let lowered = text.trim().to_lowercase();
            if is_email(&lowered) {
                Ok(Some(lowered))
            } else {
                Err(PropertyError::new(
                    def.name,
                    "INVALID_EMAIL",
                    format!("Email address {text} is invalid"),
                ))
            }
        }
        PropertyType::String => Ok(Some(text)),
        PropertyType::Number => match parse_number(&text) {
            Some(_) => Ok(Some(text.trim().to_owned())),
            None => Err(invalid("INVALID_INTEGER", "number")),
        },
        PropertyType::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(Some("true".into())),
            "false" => Ok(Some("false".into())),
            _ => Err(invalid("INVALID_BOOLEAN", "boolean")),
        },
        PropertyType::Enumeration => {
            if def.options.iter().any(|(_, v)| *v == text) {
                Ok(Some(text))
            } else {
                let allowed: Vec<&str> = def.options.iter().map(|(_, v)| *v).collect();
                Err(PropertyError::new(
                    def.name,
                    "INVALID_OPTION",
                    format!(
                        "{text} was not one of the allowed options: [{}]",
                        allowed.join(", ")
                    ),
                ))
            }
        }
        PropertyType::Datetime => match parse_instant(&text) {
            Some(at) => Ok(Some(wire_datetime(at))),
            None => Err(invalid("INVALID_DATE", "datetime")),
        },
        PropertyType::Date => match parse_date(&text) {
            Some(day) => Ok(Some(day.format("%Y-%m-%d").to_string())),
            None => Err(PropertyError::new(
                def.name,
                "INVALID_DATE",
                format!(
                    "{text} is not a valid date: use YYYY-MM-DD or epoch milliseconds at midnight UTC."
                ),
            )),
        },
    }
}

/// A plausible address: one `@`, something before it, a dotted domain, no spaces.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && domain.contains('.')
        && domain.split('.').all(|part| !part.is_empty())
}

pub(super) fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The wire form of an instant: `2026-11-25T15:04:05.123Z`.
pub(super) fn wire_datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// An instant given as epoch milliseconds, RFC 3339 or a bare date (midnight UTC).
pub(super) fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Utc.timestamp_millis_opt(ms).single();
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// A date given as `YYYY-MM-DD`, or as epoch milliseconds / an instant at midnight UTC.
pub(super) fn parse_date(text: &str) -> Option<NaiveDate> {
    if let Ok(day) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Some(day);
    }
    let at = parse_instant(text)?;
    (at.time() == chrono::NaiveTime::MIN).then(|| at.date_naive())
}

/// `GET /crm/v3/properties/{objectType}`
pub(super) async fn list(
    State(hubspot): State<HubSpot>,
    Path(object_type): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let portal = hubspot.portal();
    let store = portal.store(&object_type)?;
    let results: Vec<Value> = store
        .kind
        .properties
        .iter()
        .enumerate()
        .map(|(i, p)| p.to_json(i))
        .collect();
    Ok(Json(json!({ "results": results })))
}

/// `GET /crm/v3/properties/{objectType}/{propertyName}`
pub(super) async fn read(
    State(hubspot): State<HubSpot>,
    Path((object_type, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let portal = hubspot.portal();
    let store = portal.store(&object_type)?;
    let (i, def) = store
        .kind
        .properties
        .iter()
        .enumerate()
        .find(|(_, p)| p.name == name)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Unable to find property {name} for object type {}",
                store.kind.name
            ))
        })?;
    Ok(Json(def.to_json(i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str) -> PropertyDef {
        contact_properties()
            .into_iter()
            .chain(company_properties())
            .find(|p| p.name == name)
            .unwrap()
    }

    #[test]
    fn values_are_checked_and_stored_in_wire_form() {
        let n = |p: &str, v: Value| normalize(&def(p), &v);
        assert_eq!(n("annualrevenue", json!(42)), Ok(Some("42".into())));
        assert_eq!(
            n("annualrevenue", json!("x")).unwrap_err().code,
            "INVALID_INTEGER"
        );
        assert_eq!(
            n("email", json!("A@B.example")),
            Ok(Some("a@b.example".into()))
        );
        assert_eq!(
            n("email", json!("not-an-email")).unwrap_err().code,
            "INVALID_EMAIL"
        );
        assert_eq!(
            n("lifecyclestage", json!("Lead")).unwrap_err().code,
            "INVALID_OPTION"
        );
        assert_eq!(
            n("hs_object_id", json!("1")).unwrap_err().code,
            "READ_ONLY_VALUE"
        );
        assert_eq!(
            n("associatedcompanyid", json!("1001")).unwrap_err().code,
            "READ_ONLY_VALUE"
        );
        assert_eq!(n("is_public", json!(true)), Ok(Some("true".into())));
        assert_eq!(n("firstname", json!("")), Ok(None));
        assert_eq!(
            n("closedate", json!("1764083045123")),
            Ok(Some("2025-11-25T15:04:05.123Z".into()))
        );
        assert_eq!(
            n("renewal_date", json!("1764028800000")),
            Ok(Some("2025-11-25".into()))
        );
        assert_eq!(
            n("renewal_date", json!("1764083045123")).unwrap_err().code,
            "INVALID_DATE"
        );
    }
}
