//! The org's tables (entities) and columns (attributes): what `EntityDefinitions` reports and
//! what writes are checked against. Fixed for the life of the process.

use std::sync::LazyLock;

/// `AttributeType` of the columns the emulated tables use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    Uniqueidentifier,
    String,
    Memo,
    Integer,
    BigInt,
    Money,
    Picklist,
    State,
    DateTime,
    Lookup,
}

impl AttrType {
    /// `AttributeType`.
    pub fn name(self) -> &'static str {
        match self {
            AttrType::Uniqueidentifier => "Uniqueidentifier",
            AttrType::String => "String",
            AttrType::Memo => "Memo",
            AttrType::Integer => "Integer",
            AttrType::BigInt => "BigInt",
            AttrType::Money => "Money",
            AttrType::Picklist => "Picklist",
            AttrType::State => "State",
            AttrType::DateTime => "DateTime",
            AttrType::Lookup => "Lookup",
        }
    }

    /// `AttributeTypeName.Value`.
    pub fn type_name(self) -> &'static str {
        match self {
            AttrType::Uniqueidentifier => "UniqueidentifierType",
            AttrType::String => "StringType",
            AttrType::Memo => "MemoType",
            AttrType::Integer => "IntegerType",
            AttrType::BigInt => "BigIntType",
            AttrType::Money => "MoneyType",
            AttrType::Picklist => "PicklistType",
            AttrType::State => "StateType",
            AttrType::DateTime => "DateTimeType",
            AttrType::Lookup => "LookupType",
        }
    }

    /// The derived metadata type (`@odata.type`).
    pub fn odata_type(self) -> &'static str {
        match self {
            AttrType::Uniqueidentifier => {
                "#Microsoft.Dynamics.CRM.UniqueIdentifierAttributeMetadata"
            }
            AttrType::String => "#Microsoft.Dynamics.CRM.StringAttributeMetadata",
            AttrType::Memo => "#Microsoft.Dynamics.CRM.MemoAttributeMetadata",
            AttrType::Integer => "#Microsoft.Dynamics.CRM.IntegerAttributeMetadata",
            AttrType::BigInt => "#Microsoft.Dynamics.CRM.BigIntAttributeMetadata",
            AttrType::Money => "#Microsoft.Dynamics.CRM.MoneyAttributeMetadata",
            AttrType::Picklist => "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
            AttrType::State => "#Microsoft.Dynamics.CRM.StateAttributeMetadata",
            AttrType::DateTime => "#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata",
            AttrType::Lookup => "#Microsoft.Dynamics.CRM.LookupAttributeMetadata",
        }
    }

    /// The OData primitive type of the Web API property.
    pub fn edm(self) -> &'static str {
        match self {
            AttrType::Uniqueidentifier | AttrType::Lookup => "Edm.Guid",
            AttrType::String | AttrType::Memo => "Edm.String",
            AttrType::Integer | AttrType::Picklist | AttrType::State => "Edm.Int32",
            AttrType::BigInt => "Edm.Int64",
            AttrType::Money => "Edm.Decimal",
            AttrType::DateTime => "Edm.DateTimeOffset",
        }
    }
}

/// `RequiredLevel.Value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequiredLevel {
    None,
    SystemRequired,
    ApplicationRequired,
}

impl RequiredLevel {
    pub fn name(self) -> &'static str {
        match self {
            RequiredLevel::None => "None",
            RequiredLevel::SystemRequired => "SystemRequired",
            RequiredLevel::ApplicationRequired => "ApplicationRequired",
        }
    }
}

/// String formats and date-time formats that change what a value may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Email,
    Url,
    Phone,
    TextArea,
    DateOnly,
    DateAndTime,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "Text",
            Format::Email => "Email",
            Format::Url => "Url",
            Format::Phone => "Phone",
            Format::TextArea => "TextArea",
            Format::DateOnly => "DateOnly",
            Format::DateAndTime => "DateAndTime",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Attribute {
    /// `LogicalName` in the metadata (`createdby`).
    pub name: &'static str,
    pub schema_name: &'static str,
    /// The Web API property (`_createdby_value` for lookups, else the logical name).
    pub property: &'static str,
    pub kind: AttrType,
    pub format: Option<Format>,
    pub create: bool,
    pub update: bool,
    pub required: RequiredLevel,
    pub max_length: Option<u32>,
    pub precision: Option<u32>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Allowed values of a Picklist or State column.
    pub options: &'static [i64],
    /// The value a new record gets when the create doesn't say.
    pub default: Option<i64>,
    pub targets: &'static [&'static str],
    pub primary_id: bool,
    pub primary_name: bool,
}

impl Attribute {
    fn new(name: &'static str, schema_name: &'static str, kind: AttrType) -> Attribute {
        Attribute {
            name,
            schema_name,
            property: name,
            kind,
            format: None,
            create: true,
            update: true,
            required: RequiredLevel::None,
            max_length: None,
            precision: None,
            min: None,
            max: None,
            options: &[],
            default: None,
            targets: &[],
            primary_id: false,
            primary_name: false,
        }
    }

    fn text(name: &'static str, schema_name: &'static str, max_length: u32) -> Attribute {
        Attribute {
            max_length: Some(max_length),
            format: Some(Format::Text),
            ..Attribute::new(name, schema_name, AttrType::String)
        }
    }

    fn formatted(mut self, format: Format) -> Attribute {
        self.format = Some(format);
        self
    }

    fn required(mut self, level: RequiredLevel) -> Attribute {
        self.required = level;
        self
    }

    fn read_only(mut self) -> Attribute {
        self.create = false;
        self.update = false;
        self
    }

    fn primary_name(mut self) -> Attribute {
        self.primary_name = true;
        self
    }

    /// Whether a value of this column is a date without time (`2000-01-31`).
    pub fn is_date_only(&self) -> bool {
        self.format == Some(Format::DateOnly)
    }
}

fn primary_key(name: &'static str, schema_name: &'static str) -> Attribute {
    Attribute {
        update: false,
        required: RequiredLevel::SystemRequired,
        primary_id: true,
        ..Attribute::new(name, schema_name, AttrType::Uniqueidentifier)
    }
}

fn stamp(name: &'static str, schema_name: &'static str) -> Attribute {
    Attribute::new(name, schema_name, AttrType::DateTime)
        .formatted(Format::DateAndTime)
        .read_only()
}

fn user_lookup(name: &'static str, schema_name: &'static str, property: &'static str) -> Attribute {
    Attribute {
        property,
        targets: &["systemuser"],
        ..Attribute::new(name, schema_name, AttrType::Lookup).read_only()
    }
}

/// statecode, versionnumber and the audit columns every ordinary table has.
fn system_columns() -> Vec<Attribute> {
    vec![
        stamp("createdon", "CreatedOn"),
        stamp("modifiedon", "ModifiedOn"),
        user_lookup("createdby", "CreatedBy", "_createdby_value"),
        user_lookup("modifiedby", "ModifiedBy", "_modifiedby_value"),
        Attribute {
            create: false,
            required: RequiredLevel::SystemRequired,
            options: &[0, 1],
            default: Some(0),
            ..Attribute::new("statecode", "StateCode", AttrType::State)
        },
        Attribute::new("versionnumber", "VersionNumber", AttrType::BigInt).read_only(),
    ]
}

#[derive(Debug)]
pub struct Entity {
    pub name: &'static str,
    pub schema_name: &'static str,
    pub set_name: &'static str,
    pub primary_id: &'static str,
    pub primary_name: &'static str,
    pub metadata_id: &'static str,
    pub object_type_code: i64,
    pub display_name: &'static str,
    pub attributes: Vec<Attribute>,
}

impl Entity {
    /// By logical name (`createdby`).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// By Web API property (`_createdby_value`). Case-sensitive, as the Web API is.
    pub fn property(&self, property: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.property == property)
    }

    /// `Microsoft.Dynamics.CRM.account`, as errors name the entity type.
    pub fn type_name(&self) -> String {
        format!("Microsoft.Dynamics.CRM.{}", self.name)
    }
}

fn account() -> Entity {
    let mut attributes = vec![
        primary_key("accountid", "AccountId"),
        Attribute::text("name", "Name", 160)
            .required(RequiredLevel::ApplicationRequired)
            .primary_name(),
        Attribute::text("telephone1", "Telephone1", 50).formatted(Format::Phone),
        Attribute::text("websiteurl", "WebSiteURL", 200).formatted(Format::Url),
        Attribute {
            min: Some(0.0),
            max: Some(1_000_000_000.0),
            ..Attribute::new("numberofemployees", "NumberOfEmployees", AttrType::Integer)
        },
        Attribute {
            precision: Some(2),
            min: Some(-922_337_203_685_477.0),
            max: Some(922_337_203_685_477.0),
            ..Attribute::new("revenue", "Revenue", AttrType::Money)
        },
        Attribute {
            max_length: Some(2000),
            format: Some(Format::TextArea),
            ..Attribute::new("description", "Description", AttrType::Memo)
        },
        Attribute {
            options: &[1, 2, 3, 4, 5],
            ..Attribute::new("industrycode", "IndustryCode", AttrType::Picklist)
        },
        // The parent account: read as `_parentaccountid_value`, written through the
        // single-valued navigation property (`parentaccountid@odata.bind`).
        Attribute {
            property: "_parentaccountid_value",
            targets: &["account"],
            ..Attribute::new("parentaccountid", "ParentAccountId", AttrType::Lookup)
        },
    ];
    attributes.extend(system_columns());
    Entity {
        name: "account",
        schema_name: "Account",
        set_name: "accounts",
        primary_id: "accountid",
        primary_name: "name",
        metadata_id: "70816501-edb9-4740-a16c-6a5efbc05d84",
        object_type_code: 1,
        display_name: "Account",
        attributes,
    }
}

fn contact() -> Entity {
    let mut attributes = vec![
        primary_key("contactid", "ContactId"),
        Attribute::text("firstname", "FirstName", 50),
        Attribute::text("lastname", "LastName", 50).required(RequiredLevel::ApplicationRequired),
        // Set by the server from firstname and lastname.
        Attribute::text("fullname", "FullName", 160)
            .read_only()
            .primary_name(),
        Attribute::text("emailaddress1", "EMailAddress1", 100).formatted(Format::Email),
        Attribute::text("telephone1", "Telephone1", 50).formatted(Format::Phone),
        Attribute::new("birthdate", "BirthDate", AttrType::DateTime).formatted(Format::DateOnly),
    ];
    attributes.extend(system_columns());
    Entity {
        name: "contact",
        schema_name: "Contact",
        set_name: "contacts",
        primary_id: "contactid",
        primary_name: "fullname",
        metadata_id: "608861bc-50a4-4c5f-a02c-21fe1943e2cf",
        object_type_code: 2,
        display_name: "Contact",
        attributes,
    }
}

/// A log table whose rows are never modified: no `modifiedon`.
fn annotation_log() -> Entity {
    Entity {
        name: "annotationlog",
        schema_name: "AnnotationLog",
        set_name: "annotationlogs",
        primary_id: "annotationlogid",
        primary_name: "subject",
        metadata_id: "7d4c3a5e-1b2f-4e60-9a8d-0c6b5f4e3d21",
        object_type_code: 10400,
        display_name: "Annotation Log",
        attributes: vec![
            primary_key("annotationlogid", "AnnotationLogId"),
            Attribute::text("subject", "Subject", 500).primary_name(),
            stamp("createdon", "CreatedOn"),
        ],
    }
}

static ENTITIES: LazyLock<Vec<Entity>> =
    LazyLock::new(|| vec![account(), contact(), annotation_log()]);

pub fn entities() -> &'static [Entity] {
    &ENTITIES
}

/// By logical name (`account`).
pub fn by_name(name: &str) -> Option<&'static Entity> {
    entities().iter().find(|e| e.name == name)
}

/// By entity set name (`accounts`), case-sensitive as in the Web API.
pub fn by_set(set_name: &str) -> Option<&'static Entity> {
    entities().iter().find(|e| e.set_name == set_name)
}

/// A stable MetadataId for an attribute (FNV-1a over `entity.attribute`).
pub fn attribute_metadata_id(entity: &Entity, attribute: &Attribute) -> String {
    let hash = |seed: u64| {
        format!("{}.{}", entity.name, attribute.name)
            .bytes()
            .fold(seed, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
    };
    uuid::Uuid::from_u64_pair(hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_properties() {
        let account = by_set("accounts").unwrap();
        assert_eq!(account.name, "account");
        assert_eq!(
            account.property("_modifiedby_value").unwrap().name,
            "modifiedby"
        );
        assert!(account.property("modifiedby").is_none());
        assert!(by_set("Accounts").is_none());
        assert!(
            by_name("annotationlog")
                .unwrap()
                .attribute("modifiedon")
                .is_none()
        );
        let id = account.attribute("name").unwrap();
        assert_eq!(
            attribute_metadata_id(account, id),
            attribute_metadata_id(account, id)
        );
    }
}
