//! The org's objects and their fields: what describe reports and what writes are checked against.

/// The field types the emulated objects use (describe's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Id,
    String,
    Textarea,
    Email,
    Phone,
    Url,
    Picklist,
    Boolean,
    Int,
    // No field of the standard objects is a double or a percent yet; their checks are written.
    #[allow(dead_code)]
    Double,
    Currency,
    #[allow(dead_code)]
    Percent,
    Date,
    Datetime,
    Reference,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::String => "string",
            FieldType::Textarea => "textarea",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Picklist => "picklist",
            FieldType::Boolean => "boolean",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Reference => "reference",
        }
    }

    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Int => "xsd:int",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Date => "xsd:date",
            FieldType::Datetime => "xsd:dateTime",
            _ => "xsd:string",
        }
    }

    /// Values are JSON strings (text, ids, picklists; not dates).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::Id
                | FieldType::String
                | FieldType::Textarea
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::Picklist
                | FieldType::Reference
        )
    }

    /// Values are record ids: compared exactly (case-sensitive), 15-character forms accepted.
    pub fn is_id(self) -> bool {
        matches!(self, FieldType::Id | FieldType::Reference)
    }

    pub fn is_number(self) -> bool {
        matches!(
            self,
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent
        )
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub ftype: FieldType,
    pub length: u32,
    pub precision: u32,
    pub scale: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted_on_create: bool,
    /// Set by the server only (Id, IsDeleted, audit stamps): no writer, API or user, sets it.
    pub system: bool,
    pub id_lookup: bool,
    pub picklist: &'static [&'static str],
    pub restricted_picklist: bool,
    pub reference_to: &'static [&'static str],
    pub relationship_name: Option<&'static str>,
}

impl Field {
    fn new(name: &'static str, label: &'static str, ftype: FieldType) -> Field {
        let length = match ftype {
            FieldType::Id | FieldType::Reference => 18,
            FieldType::String | FieldType::Url | FieldType::Picklist | FieldType::Textarea => 255,
            FieldType::Email => 80,
            FieldType::Phone => 40,
            _ => 0,
        };
        Field {
            name,
            label,
            ftype,
            length,
            precision: 0,
            scale: 0,
            nillable: ftype != FieldType::Boolean,
            createable: true,
            updateable: true,
            defaulted_on_create: ftype == FieldType::Boolean,
            system: false,
            id_lookup: false,
            picklist: &[],
            restricted_picklist: false,
            reference_to: &[],
            relationship_name: None,
        }
    }

    fn length(mut self, length: u32) -> Field {
        self.length = length;
        self
    }

    fn number(mut self, precision: u32, scale: u32) -> Field {
        self.precision = precision;
        self.scale = scale;
        self
    }

    /// Must be given on create (not nillable, no default).
    fn required(mut self) -> Field {
        self.nillable = false;
        self.defaulted_on_create = false;
        self
    }

    fn read_only(mut self) -> Field {
        self.createable = false;
        self.updateable = false;
        self
    }

    fn system(mut self) -> Field {
        self.system = true;
        self.nillable = false;
        self.defaulted_on_create = true;
        self.read_only()
    }

    fn picklist(mut self, values: &'static [&'static str]) -> Field {
        self.picklist = values;
        self.restricted_picklist = true;
        self
    }

    fn reference(mut self, to: &'static [&'static str], relationship: &'static str) -> Field {
        self.reference_to = to;
        self.relationship_name = Some(relationship);
        self
    }

    /// Long text areas can't be filtered, sorted or grouped in SOQL.
    pub fn filterable(&self) -> bool {
        !(self.ftype == FieldType::Textarea && self.length > 255)
    }

    /// Must be given on create: neither nillable nor defaulted.
    pub fn is_required_on_create(&self) -> bool {
        !self.system && !self.nillable && !self.defaulted_on_create
    }
}

#[derive(Debug, Clone)]
pub struct SObject {
    pub name: &'static str,
    pub label: &'static str,
    pub label_plural: &'static str,
    pub key_prefix: &'static str,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    pub fields: Vec<Field>,
}

impl SObject {
    /// Field names are case-insensitive.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name)
    }
}

fn id_field() -> Field {
    let mut id = Field::new("Id", "Record ID", FieldType::Id).system();
    id.id_lookup = true;
    id
}

fn is_deleted() -> Field {
    Field::new("IsDeleted", "Deleted", FieldType::Boolean).system()
}

fn created() -> [Field; 2] {
    [
        Field::new("CreatedDate", "Created Date", FieldType::Datetime).system(),
        Field::new("CreatedById", "Created By ID", FieldType::Reference)
            .reference(&["User"], "CreatedBy")
            .system(),
    ]
}

fn modified() -> [Field; 3] {
    [
        Field::new(
            "LastModifiedDate",
            "Last Modified Date",
            FieldType::Datetime,
        )
        .system(),
        Field::new(
            "LastModifiedById",
            "Last Modified By ID",
            FieldType::Reference,
        )
        .reference(&["User"], "LastModifiedBy")
        .system(),
        Field::new("SystemModstamp", "System Modstamp", FieldType::Datetime).system(),
    ]
}

pub const INDUSTRIES: &[&str] = &["Agriculture", "Banking", "Technology", "Retail", "Other"];

fn account() -> SObject {
    let mut fields = vec![
        id_field(),
        is_deleted(),
        Field::new("Name", "Account Name", FieldType::String).required(),
        Field::new("Phone", "Account Phone", FieldType::Phone),
        Field::new("Website", "Website", FieldType::Url),
        Field::new("Industry", "Industry", FieldType::Picklist).picklist(INDUSTRIES),
        Field::new("NumberOfEmployees", "Employees", FieldType::Int).number(8, 0),
        Field::new("AnnualRevenue", "Annual Revenue", FieldType::Currency).number(18, 2),
        Field::new("Description", "Account Description", FieldType::Textarea).length(32000),
    ];
    fields[2].id_lookup = true;
    fields.extend(created());
    fields.extend(modified());
    SObject {
        name: "Account",
        label: "Account",
        label_plural: "Accounts",
        key_prefix: "001",
        createable: true,
        updateable: true,
        deletable: true,
        fields,
    }
}

fn contact() -> SObject {
    let mut fields = vec![
        id_field(),
        is_deleted(),
        Field::new("FirstName", "First Name", FieldType::String).length(40),
        Field::new("LastName", "Last Name", FieldType::String)
            .length(80)
            .required(),
        Field::new("Email", "Email", FieldType::Email),
        Field::new("Phone", "Business Phone", FieldType::Phone),
        Field::new("Birthdate", "Birthdate", FieldType::Date),
        Field::new("AccountId", "Account ID", FieldType::Reference)
            .reference(&["Account"], "Account"),
        Field::new("DoNotCall", "Do Not Call", FieldType::Boolean),
    ];
    fields[4].id_lookup = true;
    fields.extend(created());
    fields.extend(modified());
    SObject {
        name: "Contact",
        label: "Contact",
        label_plural: "Contacts",
        key_prefix: "003",
        createable: true,
        updateable: true,
        deletable: true,
        fields,
    }
}

/// Field history: no LastModifiedDate or SystemModstamp, so it can't be synced incrementally.
fn account_history() -> SObject {
    let mut fields = vec![
        id_field(),
        is_deleted(),
        Field::new("AccountId", "Account ID", FieldType::Reference)
            .reference(&["Account"], "Account")
            .read_only(),
        Field::new("Field", "Changed Field", FieldType::String).read_only(),
    ];
    fields.extend(created());
    SObject {
        name: "AccountHistory",
        label: "Account History",
        label_plural: "Account History",
        key_prefix: "017",
        createable: false,
        updateable: false,
        deletable: false,
        fields,
    }
}

/// The objects of a new org.
pub fn standard_objects() -> Vec<SObject> {
    vec![account(), contact(), account_history()]
}
