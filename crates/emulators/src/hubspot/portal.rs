//! The portal's data: object types with their properties, the records of each type, and the
//! contact–company associations. Writes are checked here (property values, unique values)
//! and stamped here; a contact's `associatedcompanyid` is kept here from its associations.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};

use super::errors::ApiError;
use super::properties::{
    self, PRIMARY_COMPANY, PropertyDef, PropertyError, normalize, wire_datetime,
};

/// The positions of the two object types' stores in the portal.
pub(super) const CONTACTS: usize = 0;
pub(super) const COMPANIES: usize = 1;

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
    /// The object type id (`0-1`), as the associations API answers name it.
    pub type_id: &'static str,
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
    /// An association given on create whose `to` id is no live record of the other type
    /// (`object_type` is that type's upper-case name, `COMPANY`).
    InvalidAssociation {
        object_type: &'static str,
        id: String,
    },
}

/// An association asked for on create: the id of a record of the other type (companies for
/// a contact, contacts for a company) as the request gave it, and whether it is primary.
#[derive(Debug, Clone)]
pub(super) struct Link {
    pub to: String,
    pub primary: bool,
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
    /// Contact–company associations: (contact id, company id) → is it the contact's primary?
    /// The unlabeled type (279 contact→company, 280 company→contact) exists for every pair;
    /// a primary pair also has the primary type (1, 2). At most one primary per contact, and
    /// only between live records.
    associations: BTreeMap<(u64, u64), bool>,
}

/// Sets a record's modification stamps, as an update does.
fn touch(kind: &ObjectKind, record: &mut Record, at: DateTime<Utc>) {
    let wire = wire_datetime(at);
    if kind.property("lastmodifieddate").is_some() {
        record
            .properties
            .insert("lastmodifieddate".into(), wire.clone());
    }
    record.properties.insert("hs_lastmodifieddate".into(), wire);
    record.updated_at = at;
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
            type_id: "0-1",
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
            type_id: "0-2",
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
            associations: BTreeMap::new(),
        }
    }

    /// The position of `object_type`'s store ([`CONTACTS`], [`COMPANIES`]).
    pub fn index(&self, object_type: &str) -> Result<usize, ApiError> {
        let wanted = object_type.to_ascii_lowercase();
        self.stores
            .iter()
            .position(|s| s.kind.name == wanted || s.kind.aliases.contains(&wanted.as_str()))
            .ok_or_else(|| ApiError::unknown_object_type(object_type))
    }

    pub fn store(&self, object_type: &str) -> Result<&Store, ApiError> {
        Ok(&self.stores[self.index(object_type)?])
    }

    pub fn store_at(&self, index: usize) -> &Store {
        &self.stores[index]
    }

    /// Whether the store at `index` has a live (not archived) record `id`.
    pub fn live(&self, index: usize, id: u64) -> bool {
        self.stores[index].find(id, false).is_some()
    }

    /// Creates a record of the store at `index`, with its associations (`links`).
    fn create_at(
        &mut self,
        index: usize,
        input: &Map<String, Value>,
        links: &[Link],
        at: DateTime<Utc>,
    ) -> Result<u64, WriteError> {
        let other = if index == CONTACTS {
            COMPANIES
        } else {
            CONTACTS
        };
        let changes = self.stores[index].check(input, None)?;
        let mut targets = Vec::with_capacity(links.len());
        for link in links {
            match link.to.trim().parse::<u64>() {
                Ok(to) if self.live(other, to) => targets.push((to, link.primary)),
                _ => {
                    return Err(WriteError::InvalidAssociation {
                        object_type: self.stores[other].kind.upper,
                        id: link.to.clone(),
                    });
                }
            }
        }
        let store = &mut self.stores[index];
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
        let mut restamp = BTreeSet::new();
        for (to, primary) in targets {
            let (contact, company) = if index == CONTACTS {
                (id, to)
            } else {
                (to, id)
            };
            self.link(contact, company, primary);
            restamp.insert(contact);
        }
        for contact in restamp {
            self.restamp_primary(contact, at);
        }
        Ok(id)
    }

    pub fn create(
        &mut self,
        object_type: &str,
        input: &Map<String, Value>,
        at: DateTime<Utc>,
    ) -> Result<Result<u64, WriteError>, ApiError> {
        self.create_linked(object_type, input, &[], at)
    }

    /// A create with associations (v3 create's `associations`): a `to` id that is no live
    /// record of the other type refuses the record, and nothing is written.
    pub fn create_linked(
        &mut self,
        object_type: &str,
        input: &Map<String, Value>,
        links: &[Link],
        at: DateTime<Utc>,
    ) -> Result<Result<u64, WriteError>, ApiError> {
        let index = self.index(object_type)?;
        Ok(self.create_at(index, input, links, at))
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
        let Some(record) = store.records.get_mut(&id) else {
            return Ok(Err(WriteError::NotFound));
        };
        for (name, value) in changes {
            match value {
                Some(v) => record.properties.insert(name, v),
                None => record.properties.remove(&name),
            };
        }
        touch(&store.kind, record, stamp);
        Ok(Ok(()))
    }

    /// Archives a live record; false when there is none. Its associations go with it: an
    /// archived company is no longer any contact's primary, so those contacts lose
    /// `associatedcompanyid` and are stamped `at` (an assumption: HubSpot does not document
    /// it). An archived contact keeps the values it had.
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
            }
            _ => return Ok(false),
        }
        let pairs: Vec<(u64, u64)> = self
            .associations
            .keys()
            .filter(|(contact, company)| {
                if index == CONTACTS {
                    *contact == id
                } else {
                    *company == id
                }
            })
            .copied()
            .collect();
        for pair in &pairs {
            self.associations.remove(pair);
        }
        if index == COMPANIES {
            for (contact, _) in pairs {
                self.restamp_primary(contact, at);
            }
        }
        Ok(true)
    }

    /// The companies of `contact`: (company id, is it the primary?), by company id.
    pub fn companies_of(&self, contact: u64) -> Vec<(u64, bool)> {
        self.associations
            .range((contact, 0)..=(contact, u64::MAX))
            .map(|((_, company), primary)| (*company, *primary))
            .collect()
    }

    /// The contacts of `company`: (contact id, is the company their primary?), by contact id.
    pub fn contacts_of(&self, company: u64) -> Vec<(u64, bool)> {
        self.associations
            .iter()
            .filter(|((_, c), _)| *c == company)
            .map(|((contact, _), primary)| (*contact, *primary))
            .collect()
    }

    /// Whether `contact` and `company` are associated, and if so whether as the primary.
    pub fn pair(&self, contact: u64, company: u64) -> Option<bool> {
        self.associations.get(&(contact, company)).copied()
    }

    /// Adds the pair (unlabeled), and the primary label when `primary`, which first demotes
    /// the contact's other primary to unlabeled. Adding the unlabeled type to a primary pair
    /// leaves it primary. Does not restamp.
    fn link(&mut self, contact: u64, company: u64, primary: bool) {
        if primary {
            for ((_, other), is_primary) in self
                .associations
                .range_mut((contact, 0)..=(contact, u64::MAX))
            {
                if *other != company {
                    *is_primary = false;
                }
            }
            self.associations.insert((contact, company), true);
        } else {
            self.associations.entry((contact, company)).or_insert(false);
        }
    }

    /// Associates a live contact with a live company (see [`Portal::link`]); false, and
    /// nothing written, when either is not live. When the contact's primary changes, its
    /// `associatedcompanyid` follows and it is stamped `at`.
    pub fn associate(
        &mut self,
        contact: u64,
        company: u64,
        primary: bool,
        at: DateTime<Utc>,
    ) -> bool {
        if !self.live(CONTACTS, contact) || !self.live(COMPANIES, company) {
            return false;
        }
        self.link(contact, company, primary);
        self.restamp_primary(contact, at);
        true
    }

    /// Removes the primary label of the pair (`labels/archive` of type 1 or 2); the pair stays
    /// associated, unlabeled. False when the pair was not primary.
    pub fn unlabel_primary(&mut self, contact: u64, company: u64, at: DateTime<Utc>) -> bool {
        match self.associations.get_mut(&(contact, company)) {
            Some(primary) if *primary => {
                *primary = false;
                self.restamp_primary(contact, at);
                true
            }
            _ => false,
        }
    }

    /// Removes the pair with every label; false when it was not associated.
    pub fn dissociate(&mut self, contact: u64, company: u64, at: DateTime<Utc>) -> bool {
        let found = self.associations.remove(&(contact, company)).is_some();
        if found {
            self.restamp_primary(contact, at);
        }
        found
    }

    /// Sets a live contact's `associatedcompanyid` to its primary company's id, or removes it
    /// when it has none; only when that changes the value, stamps the contact `at` as an update
    /// does (`hs_lastmodifieddate`, `lastmodifieddate`, `updatedAt`): the property changed.
    fn restamp_primary(&mut self, contact: u64, at: DateTime<Utc>) {
        let primary = self
            .associations
            .range((contact, 0)..=(contact, u64::MAX))
            .find(|(_, primary)| **primary)
            .map(|((_, company), _)| company.to_string());
        let store = &mut self.stores[CONTACTS];
        let Some(record) = store.records.get_mut(&contact) else {
            return;
        };
        if record.archived_at.is_some()
            || record.properties.get(PRIMARY_COMPANY) == primary.as_ref()
        {
            return;
        }
        match primary {
            Some(company) => record.properties.insert(PRIMARY_COMPANY.into(), company),
            None => record.properties.remove(PRIMARY_COMPANY),
        };
        touch(&store.kind, record, at);
    }

    /// What undoes the writes made after it (an all-or-nothing batch that failed): the
    /// records of every type (a create with associations restamps records of the other
    /// type) and the associations.
    pub fn savepoint(&self) -> Savepoint {
        Savepoint {
            next_id: self.next_id,
            records: self.stores.iter().map(|s| s.records.clone()).collect(),
            associations: self.associations.clone(),
        }
    }

    pub fn rollback(&mut self, savepoint: Savepoint) {
        self.next_id = savepoint.next_id;
        for (store, records) in self.stores.iter_mut().zip(savepoint.records) {
            store.records = records;
        }
        self.associations = savepoint.associations;
    }
}

pub(super) struct Savepoint {
    next_id: u64,
    records: Vec<BTreeMap<u64, Record>>,
    associations: BTreeMap<(u64, u64), bool>,
}
