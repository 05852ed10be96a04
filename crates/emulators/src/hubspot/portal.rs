//! The portal's data: object types with their properties, and the records of each type.
//! Writes are checked here (property values, unique values) and stamped here.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};

use super::errors::ApiError;
use super::properties::{self, PropertyDef, PropertyError, normalize, wire_datetime};

/// An object type: its names, its properties and which of them answers return by default.
pub(super) struct ObjectKind {
    /// The plural path name, `contacts`.
    pub name: &'static str,
    /// Other names the API accepts for it (`contact`, `0-1`).
    pub aliases: &'static [&'static str],
    /// For messages: `Contact`.
    pub singular: &'static str,
    /// For batch messages: `CONTACT`.
    pub upper: &'static str,
    pub properties: Vec<PropertyDef>,
    /// Returned when no properties are asked for.
    pub defaults: &'static [&'static str],
    /// Returned whatever properties are asked for.
    pub always: &'static [&'static str],
    /// Searched by a search request's `query`.
    pub searchable: &'static [&'static str],
}

impl ObjectKind {
    pub fn property(&self, name: &str) -> Option<&PropertyDef> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Values of `input` as they would be stored; every refused property is reported.
    fn check_values(
        &self,
        input: &Map<String, Value>,
    ) -> Result<Vec<(String, Option<String>)>, Vec<PropertyError>> {
        let mut changes = Vec::new();
        let mut errors = Vec::new();
        for (name, value) in input {
            match self.property(name) {
                None => errors.push(PropertyError::doesnt_exist(name)),
                Some(def) => match normalize(def, value) {
                    Ok(stored) => changes.push((name.clone(), stored)),
                    Err(e) => errors.push(e),
                },
            }
        }
        if errors.is_empty() {
            Ok(changes)
        } else {
            Err(errors)
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Record {
    pub id: u64,
    /// Every property with a value, in wire form (the stamps included).
    pub properties: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// One object type's records.
pub(super) struct Store {
    pub kind: ObjectKind,
    pub records: BTreeMap<u64, Record>,
}

/// Why a write was refused.
#[derive(Debug)]
pub(super) enum WriteError {
    Invalid(Vec<PropertyError>),
    /// A unique value (a contact's email) that a live record already has.
    Conflict {
        existing_id: u64,
    },
    NotFound,
}

impl Store {
    /// A record: live ones, or archived ones only when `archived`.
    pub fn find(&self, id: u64, archived: bool) -> Option<&Record> {
        self.records
            .get(&id)
            .filter(|r| r.archived_at.is_some() == archived)
    }

    /// The id named by `text`: the record id, or a unique property's value (`idProperty`).
    pub fn resolve(
        &self,
        text: &str,
        id_property: Option<&str>,
        archived: bool,
    ) -> Result<Option<u64>, ApiError> {
        match id_property {
            None | Some("hs_object_id") => Ok(text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|id| self.find(*id, archived).is_some())),
            Some(name) => {
                let def = self.kind.property(name).filter(|p| p.unique).ok_or_else(|| {
                    ApiError::validation(format!(
                        "{name} is not a unique property of {}; it cannot be used as idProperty.",
                        self.kind.name
                    ))
                })?;
                let wanted = if def.email {
                    text.trim().to_lowercase()
                } else {
                    text.to_owned()
                };
                Ok(self
                    .records
                    .values()
                    .find(|r| {
                        r.archived_at.is_some() == archived
                            && r.properties.get(name) == Some(&wanted)
                    })
                    .map(|r| r.id))
            }
        }
    }

    /// `input` checked for a write to `id` (`None`: a new record).
    fn check(
        &self,
        input: &Map<String, Value>,
        id: Option<u64>,
    ) -> Result<Vec<(String, Option<String>)>, WriteError> {
        let changes = self.kind.check_values(input).map_err(WriteError::Invalid)?;
        for (name, value) in &changes {
            let Some(value) = value else { continue };
            if !self.kind.property(name).is_some_and(|p| p.unique) {
                continue;
            }
            let owner = self.records.values().find(|r| {
                r.archived_at.is_none() && Some(r.id) != id && r.properties.get(name) == Some(value)
            });
            if let Some(owner) = owner {
                return Err(WriteError::Conflict {
                    existing_id: owner.id,
                });
            }
        }
        Ok(changes)
    }
}

pub(super) struct Portal {
    next_id: u64,
    stores: Vec<Store>,
}

/// Now, at HubSpot's precision (milliseconds).
pub(super) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

impl Portal {
    pub fn new() -> Self {
        let contacts = ObjectKind {
            name: "contacts",
            aliases: &["contact", "0-1"],
            singular: "Contact",
            upper: "CONTACT",
            properties: properties::contact_properties(),
            defaults: &[
                "firstname",
                "lastname",
                "email",
                "lastmodifieddate",
                "hs_object_id",
                "createdate",
            ],
            always: &["createdate", "lastmodifieddate", "hs_object_id"],
            searchable: &["firstname", "lastname", "email", "phone", "company"],
        };
        let companies = ObjectKind {
            name: "companies",
            aliases: &["company", "0-2"],
            singular: "Company",
            upper: "COMPANY",
            properties: properties::company_properties(),
            defaults: &[
                "name",
                "domain",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
            ],
            always: &["createdate", "hs_lastmodifieddate", "hs_object_id"],
            searchable: &["name", "domain"],
        };
        Portal {
            next_id: 1001,
            stores: [contacts, companies]
                .into_iter()
                .map(|kind| Store {
                    kind,
                    records: BTreeMap::new(),
                })
                .collect(),
        }
    }

    fn index(&self, object_type: &str) -> Result<usize, ApiError> {
        let wanted = object_type.to_ascii_lowercase();
        self.stores
            .iter()
            .position(|s| s.kind.name == wanted || s.kind.aliases.contains(&wanted.as_str()))
            .ok_or_else(|| ApiError::unknown_object_type(object_type))
    }

    pub fn store(&self, object_type: &str) -> Result<&Store, ApiError> {
        Ok(&self.stores[self.index(object_type)?])
    }

    /// Creates a record of the store at `index`.
    fn create_at(
        &mut self,
        index: usize,
        input: &Map<String, Value>,
        at: DateTime<Utc>,
    ) -> Result<u64, WriteError> {
        let store = &mut self.stores[index];
        let changes = store.check(input, None)?;
        let id = self.next_id;
        self.next_id += 1;
        let mut properties: BTreeMap<String, String> = changes
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .collect();
        let stamp = wire_datetime(at);
        properties.insert("hs_object_id".into(), id.to_string());
        properties.insert("createdate".into(), stamp.clone());
        for name in ["hs_lastmodifieddate", "lastmodifieddate"] {
            if store.kind.property(name).is_some() {
                properties.insert(name.into(), stamp.clone());
            }
        }
        store.records.insert(
            id,
            Record {
                id,
                properties,
                created_at: at,
                updated_at: at,
                archived_at: None,
            },
        );
        Ok(id)
    }

    pub fn create(
        &mut self,
        object_type: &str,
        input: &Map<String, Value>,
        at: DateTime<Utc>,
    ) -> Result<Result<u64, WriteError>, ApiError> {
        let index = self.index(object_type)?;
        Ok(self.create_at(index, input, at))
    }

    /// Updates a live record; `stamp` is its new modification time.
    pub fn update(
        &mut self,
        object_type: &str,
        id: u64,
        input: &Map<String, Value>,
        stamp: DateTime<Utc>,
    ) -> Result<Result<(), WriteError>, ApiError> {
        let index = self.index(object_type)?;
        let store = &mut self.stores[index];
        if store.find(id, false).is_none() {
            return Ok(Err(WriteError::NotFound));
        }
        let changes = match store.check(input, Some(id)) {
            Ok(changes) => changes,
            Err(e) => return Ok(Err(e)),
        };
        let has_plain_modified = store.kind.property("lastmodifieddate").is_some();
        let Some(record) = store.records.get_mut(&id) else {
            return Ok(Err(WriteError::NotFound));
        };
        for (name, value) in changes {
            match value {
                Some(v) => record.properties.insert(name, v),
                None => record.properties.remove(&name),
            };
        }
        let wire = wire_datetime(stamp);
        record
            .properties
            .insert("hs_lastmodifieddate".into(), wire.clone());
        if has_plain_modified {
            record.properties.insert("lastmodifieddate".into(), wire);
        }
        record.updated_at = stamp;
        Ok(Ok(()))
    }

    /// Archives a live record; false when there is none.
    pub fn archive(
        &mut self,
        object_type: &str,
        id: u64,
        at: DateTime<Utc>,
    ) -> Result<bool, ApiError> {
        let index = self.index(object_type)?;
        match self.stores[index].records.get_mut(&id) {
            Some(record) if record.archived_at.is_none() => {
                record.archived_at = Some(at);
                record.updated_at = at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// What undoes the writes made after it (an all-or-nothing batch that failed).
    pub fn savepoint(&self, object_type: &str) -> Result<Savepoint, ApiError> {
        let index = self.index(object_type)?;
        Ok(Savepoint {
            index,
            next_id: self.next_id,
            records: self.stores[index].records.clone(),
        })
    }

    pub fn rollback(&mut self, savepoint: Savepoint) {
        self.next_id = savepoint.next_id;
        self.stores[savepoint.index].records = savepoint.records;
    }
}

pub(super) struct Savepoint {
    index: usize,
    next_id: u64,
    records: BTreeMap<u64, Record>,
}
