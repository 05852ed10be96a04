//! The org's state: records of each object, the recycle bin, issued tokens, open query cursors.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::ids;
use super::query::Cursors;
use super::schema::{FieldType, SObject, standard_objects};
use super::time;

/// A record: every field of its object, by describe name; values as the API renders them.
pub type Record = Map<String, Value>;

/// The objects of the org (fixed once the org exists).
#[derive(Debug)]
pub struct Schema {
    pub objects: Vec<SObject>,
}

impl Schema {
    /// Object names are case-insensitive.
    pub fn object(&self, name: &str) -> Option<&SObject> {
        self.objects
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    }

    /// The object an (18-character) id belongs to, by its key prefix.
    pub fn object_of_id(&self, id: &str) -> Option<&SObject> {
        let prefix = id.get(..3)?;
        self.objects.iter().find(|o| o.key_prefix == prefix)
    }
}

/// A deleted record in the recycle bin.
#[derive(Debug, Clone)]
pub struct Binned {
    pub object: &'static str,
    pub record: Record,
    pub deleted_at: DateTime<Utc>,
}

/// Where an id stands.
pub enum Found<'a> {
    Live(&'a Record),
    Deleted,
    Missing,
}

pub struct Org {
    schema: Arc<Schema>,
    live: HashMap<&'static str, BTreeMap<String, Record>>,
    bin: BTreeMap<String, Binned>,
    next_id: u64,
    pub tokens: HashSet<String>,
    pub cursors: Cursors,
    pub created_at: DateTime<Utc>,
}

impl Org {
    pub fn new() -> Org {
        let schema = Arc::new(Schema {
            objects: standard_objects(),
        });
        let live = schema
            .objects
            .iter()
            .map(|o| (o.name, BTreeMap::new()))
            .collect();
        Org {
            schema,
            live,
            bin: BTreeMap::new(),
            next_id: 1,
            tokens: HashSet::new(),
            cursors: Cursors::default(),
            created_at: time::now(),
        }
    }

    pub fn schema(&self) -> Arc<Schema> {
        self.schema.clone()
    }

    /// Live records of an object, ordered by Id.
    pub fn live_records(&self, object: &str) -> impl Iterator<Item = &Record> {
        self.live
            .get(object)
            .into_iter()
            .flat_map(|records| records.values())
    }

    /// Deleted records of an object, ordered by Id.
    pub fn binned(&self, object: &str) -> impl Iterator<Item = &Binned> {
        self.bin.values().filter(move |b| b.object == object)
    }

    pub fn find(&self, id: &str) -> Found<'_> {
        let Some(object) = self.schema.object_of_id(id) else {
            return Found::Missing;
        };
        if let Some(record) = self.live.get(object.name).and_then(|r| r.get(id)) {
            return Found::Live(record);
        }
        if self.bin.contains_key(id) {
            return Found::Deleted;
        }
        Found::Missing
    }

    /// Creates a record from checked values; sets Id, IsDeleted, defaults and audit stamps.
    pub fn insert(
        &mut self,
        object: &SObject,
        values: Vec<(&'static str, Value)>,
        by: &str,
        at: DateTime<Utc>,
    ) -> String {
        let id = ids::make(object.key_prefix, self.next_id);
        self.next_id += 1;
        let mut record = Record::new();
        for field in &object.fields {
            let initial = match field.ftype {
                FieldType::Boolean => Value::Bool(false),
                _ => Value::Null,
            };
            record.insert(field.name.to_string(), initial);
        }
        record.insert("Id".into(), Value::String(id.clone()));
        record.insert("CreatedDate".into(), Value::String(time::render(at)));
        record.insert("CreatedById".into(), Value::String(by.to_string()));
        for (name, value) in values {
            record.insert(name.to_string(), value);
        }
        stamp_modified(object, &mut record, by, at);
        self.live
            .entry(object.name)
            .or_default()
            .insert(id.clone(), record);
        id
    }

    /// Applies checked values to a live record; false when there is none.
    pub fn update(
        &mut self,
        object: &SObject,
        id: &str,
        values: Vec<(&'static str, Value)>,
        by: &str,
        at: DateTime<Utc>,
    ) -> bool {
        let Some(record) = self.live.get_mut(object.name).and_then(|r| r.get_mut(id)) else {
            return false;
        };
        for (name, value) in values {
            record.insert(name.to_string(), value);
        }
        stamp_modified(object, record, by, at);
        true
    }

    /// Moves a live record to the recycle bin; false when there is none.
    pub fn delete(&mut self, object: &SObject, id: &str, by: &str, at: DateTime<Utc>) -> bool {
        let Some(mut record) = self.live.get_mut(object.name).and_then(|r| r.remove(id)) else {
            return false;
        };
        record.insert("IsDeleted".into(), Value::Bool(true));
        stamp_modified(object, &mut record, by, at);
        self.bin.insert(
            id.to_string(),
            Binned {
                object: object.name,
                record,
                deleted_at: at,
            },
        );
        true
    }
}

/// LastModifiedDate, LastModifiedById and SystemModstamp, where the object has them.
fn stamp_modified(object: &SObject, record: &mut Record, by: &str, at: DateTime<Utc>) {
    let stamp = Value::String(time::render(at));
    if object.has_field("LastModifiedDate") {
        record.insert("LastModifiedDate".into(), stamp.clone());
    }
    if object.has_field("LastModifiedById") {
        record.insert("LastModifiedById".into(), Value::String(by.to_string()));
    }
    if object.has_field("SystemModstamp") {
        record.insert("SystemModstamp".into(), stamp);
    }
}
