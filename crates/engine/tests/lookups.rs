//! Lookup mappings over in-memory sides: the value written is found in a table of the
//! written side by key columns of the read record. A match writes its value, no match is a
//! per-record error (retried next run) or null as the lookup says, two matches are an error,
//! a null key writes null; and a batch asks the written side once, never once per record.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use engine::connectors::memory::MemoryConnector;
use engine::connectors::{
    Connector, Key, Result, Row, TableSchema, TrackedChange, WriteOp, WriteOutcome,
};
use engine::mapping::locale::Locale;
use engine::package::{FieldSource, Lookup, Mapping, NoMatch, TableRef};
use engine::sync::{CancelToken, MemoryState, SyncOptions, TaskPlan, TaskSummary, check_task};
use engine::value::{ColumnType, Value};
use uuid::Uuid;

fn text() -> ColumnType {
    ColumnType::Text {
        max_chars: Some(80),
    }
}

fn int() -> ColumnType {
    ColumnType::Int {
        bits: 64,
        unsigned: false,
    }
}

/// A connector that counts how often the looked-up table is searched or read, and can
/// pretend to search by query (`by_query`) instead of by scanning.
struct Counting<'a> {
    inner: &'a MemoryConnector,
    by_query: bool,
    watched: TableRef,
    finds: AtomicUsize,
    scans: AtomicUsize,
    tuples_asked: Mutex<Vec<usize>>,
}

#[async_trait]
impl Connector for Counting<'_> {
    fn kind(&self) -> &'static str {
        "memory"
    }
    async fn list_tables(&self) -> Result<Vec<TableRef>> {
        self.inner.list_tables().await
    }
    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        self.inner.describe(table).await
    }
    async fn tracking_installed(&self, table: &TableSchema) -> Result<bool> {
        self.inner.tracking_installed(table).await
    }
    async fn install_tracking(&self, table: &TableSchema) -> Result<()> {
        self.inner.install_tracking(table).await
    }
    async fn remove_tracking(&self, table: &TableSchema) -> Result<()> {
        self.inner.remove_tracking(table).await
    }
    async fn read_changes(
        &self,
        table: &TableSchema,
        after: i64,
        limit: usize,
    ) -> Result<Vec<TrackedChange>> {
        self.inner.read_changes(table, after, limit).await
    }
    async fn consume_changes(&self, table: &TableSchema, seqs: &[i64]) -> Result<()> {
        self.inner.consume_changes(table, seqs).await
    }
    async fn requeue(&self, table: &TableSchema, keys: &[Key]) -> Result<()> {
        self.inner.requeue(table, keys).await
    }
    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        if table.table == self.watched {
            self.scans.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.scan(table, after, limit).await
    }
    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        self.inner.scan_keys(table, after, limit).await
    }
    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>> {
        self.inner.fetch(table, keys).await
    }
    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        self.inner.existing(table, keys).await
    }
    async fn find(
        &self,
        table: &TableSchema,
        columns: &[String],
        tuples: &[Vec<Value>],
    ) -> Result<Vec<(usize, Row)>> {
        self.finds.fetch_add(1, Ordering::SeqCst);
        self.tuples_asked.lock().unwrap().push(tuples.len());
        engine::connectors::find::by_scanning(self.inner, table, columns, tuples).await
    }
    fn finds_by_scanning(&self) -> bool {
        !self.by_query
    }
    async fn write(
        &self,
        table: &TableSchema,
        journal: &str,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<WriteOutcome>> {
        self.inner.write(table, journal, ops).await
    }
    async fn read_journal(&self, journal: &str) -> Result<Vec<(Key, Key)>> {
        self.inner.read_journal(journal).await
    }
    async fn clear_journal(&self, journal: &str) -> Result<()> {
        self.inner.clear_journal(journal).await
    }
}

struct Setup {
    source: MemoryConnector,
    target: MemoryConnector,
    people: TableRef,
    contacts: TableRef,
    companies: TableRef,
    state: MemoryState,
    task: Uuid,
}

fn lookup(no_match: NoMatch) -> FieldSource {
    FieldSource::Lookup(Box::new(Lookup {
        table: TableRef::parse("companies").unwrap(),
        column: "id".into(),
        keys: BTreeMap::from([("code".into(), FieldSource::Column("company_code".into()))]),
        no_match,
    }))
}

impl Setup {
    fn new() -> Setup {
        let source = MemoryConnector::new();
        let target = MemoryConnector::new();
        let people = source.create_table(
            "people",
            &[("name", text(), false), ("company_code", text(), true)],
        );
        let contacts = target.create_table(
            "contacts",
            &[("Name", text(), false), ("CompanyId", int(), true)],
        );
        let companies = target.create_table(
            "companies",
            &[("code", text(), false), ("founded", ColumnType::Date, true)],
        );
        Setup {
            source,
            target,
            people,
            contacts,
            companies,
            state: MemoryState::new(),
            task: Uuid::new_v4(),
        }
    }

    fn company(&self, code: &str) -> Key {
        self.target.user_insert(
            &self.companies,
            Row::from([("code".into(), Value::Text(code.into()))]),
        )
    }

    fn person(&self, name: &str, code: Option<&str>) -> Key {
        self.source.user_insert(
            &self.people,
            Row::from([
                ("name".into(), Value::Text(name.into())),
                (
                    "company_code".into(),
                    code.map_or(Value::Null, |c| Value::Text(c.into())),
                ),
            ]),
        )
    }

    async fn run(&self, target: &dyn Connector, no_match: NoMatch, batch: usize) -> TaskSummary {
        let forward: Mapping = [
            ("Name".to_owned(), FieldSource::Column("name".into())),
            ("CompanyId".to_owned(), lookup(no_match)),
        ]
        .into_iter()
        .collect();
        let backward: Mapping = [("name".to_owned(), FieldSource::Column("Name".into()))]
            .into_iter()
            .collect();
        let checked = check_task(
            &self.source,
            target,
            (&self.people, &self.contacts),
            (&forward, &backward),
            Locale::Invariant,
        )
        .await
        .unwrap();
        let plan = TaskPlan {
            id: self.task,
            label: "people → contacts".into(),
            source: &self.source,
            target,
            source_schema: checked.source_schema,
            target_schema: checked.target_schema,
            source_to_target: checked.source_to_target,
            target_to_source: checked.target_to_source,
            matching: None,
        };
        let options = SyncOptions {
            batch_size: batch,
            ..Default::default()
        };
        engine::sync::run_task(&plan, &self.state, &options, &CancelToken::default())
            .await
            .unwrap()
    }

    /// Contact name → the code of the company it points at.
    fn contacts(&self) -> HashMap<String, Option<String>> {
        let companies = self.target.rows(&self.companies);
        self.target
            .rows(&self.contacts)
            .values()
            .map(|row| {
                let company = match &row["CompanyId"] {
                    Value::Int(id) => match &companies[&Key(id.to_string())]["code"] {
                        Value::Text(code) => Some(code.clone()),
                        other => panic!("code {other:?}"),
                    },
                    Value::Null => None,
                    other => panic!("CompanyId {other:?}"),
                };
                match &row["Name"] {
                    Value::Text(name) => (name.clone(), company),
                    other => panic!("Name {other:?}"),
                }
            })
            .collect()
    }
}

fn counting<'a>(setup: &'a Setup, by_query: bool) -> Counting<'a> {
    Counting {
        inner: &setup.target,
        by_query,
        watched: setup.companies.clone(),
        finds: AtomicUsize::new(0),
        scans: AtomicUsize::new(0),
        tuples_asked: Mutex::new(Vec::new()),
    }
}

#[tokio::test]
async fn a_lookup_writes_the_found_value_and_reports_what_it_cannot_find() {
    let setup = Setup::new();
    setup.company("ACME");
    setup.company("DUP");
    setup.company("DUP");
    setup.person("Ann", Some("ACME"));
    setup.person("Bob", Some("NOPE"));
    setup.person("Cyd", Some("DUP"));
    setup.person("Dee", None);

    let target = counting(&setup, false);
    let summary = setup.run(&target, NoMatch::Error, 10).await;
    let contacts = setup.contacts();
    assert_eq!(contacts["Ann"].as_deref(), Some("ACME"));
    assert_eq!(contacts["Dee"], None, "a null key writes null");
    assert!(!contacts.contains_key("Bob") && !contacts.contains_key("Cyd"));
    let messages: Vec<&str> = summary.errors.iter().map(|e| e.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("CompanyId") && m.contains("no row of companies has code = 'NOPE'")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("2 rows of companies have code = 'DUP'")),
        "{messages:?}"
    );
    assert_eq!(summary.errors.len(), 2, "{messages:?}");

    // The missing company appears: the record waiting in the change log is written.
    setup.company("NOPE");
    let target = counting(&setup, false);
    let summary = setup.run(&target, NoMatch::Error, 10).await;
    assert_eq!(setup.contacts()["Bob"].as_deref(), Some("NOPE"));
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
}

#[tokio::test]
async fn a_lookup_that_finds_nothing_can_write_null() {
    let setup = Setup::new();
    setup.company("ACME");
    setup.person("Ann", Some("ACME"));
    setup.person("Bob", Some("NOPE"));
    let target = counting(&setup, false);
    let summary = setup.run(&target, NoMatch::Null, 10).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    let contacts = setup.contacts();
    assert_eq!(contacts["Ann"].as_deref(), Some("ACME"));
    assert_eq!(contacts["Bob"], None);
}

#[tokio::test]
async fn a_batch_searches_the_written_side_once_not_once_per_record() {
    for by_query in [true, false] {
        let setup = Setup::new();
        for c in 0..5 {
            setup.company(&format!("C{c}"));
        }
        for p in 0..60 {
            setup.person(&format!("P{p}"), Some(&format!("C{}", p % 5)));
        }
        let target = counting(&setup, by_query);
        let summary = setup.run(&target, NoMatch::Error, 20).await;
        assert!(summary.errors.is_empty(), "{:?}", summary.errors);
        let contacts = setup.contacts();
        assert_eq!(contacts.len(), 60);
        assert_eq!(contacts["P7"].as_deref(), Some("C2"));
        if by_query {
            // The first batch asks for its 5 distinct codes; later batches find them cached.
            assert_eq!(target.finds.load(Ordering::SeqCst), 1);
            assert_eq!(*target.tuples_asked.lock().unwrap(), vec![5]);
        } else {
            // The looked-up table is read once for the run (one page, and the empty page
            // that ends it).
            assert_eq!(target.finds.load(Ordering::SeqCst), 0);
            assert_eq!(target.scans.load(Ordering::SeqCst), 2);
        }
    }
}

#[tokio::test]
async fn a_lookup_on_a_missing_table_or_column_is_refused_before_anything_is_written() {
    let setup = Setup::new();
    setup.person("Ann", Some("ACME"));
    let backward: Mapping = [("name".to_owned(), FieldSource::Column("Name".into()))]
        .into_iter()
        .collect();
    let cases = [
        (
            Lookup {
                table: TableRef::parse("firms").unwrap(),
                column: "id".into(),
                keys: BTreeMap::from([("code".into(), FieldSource::Column("company_code".into()))]),
                no_match: NoMatch::Error,
            },
            "firms",
        ),
        (
            Lookup {
                table: TableRef::parse("companies").unwrap(),
                column: "id".into(),
                keys: BTreeMap::from([("vat".into(), FieldSource::Column("company_code".into()))]),
                no_match: NoMatch::Error,
            },
            "keys.vat",
        ),
        (
            Lookup {
                table: TableRef::parse("companies").unwrap(),
                column: "id".into(),
                keys: BTreeMap::from([("code".into(), FieldSource::Column("missing".into()))]),
                no_match: NoMatch::Error,
            },
            "missing",
        ),
        (
            Lookup {
                table: TableRef::parse("companies").unwrap(),
                column: "founded".into(),
                keys: BTreeMap::from([("code".into(), FieldSource::Column("company_code".into()))]),
                no_match: NoMatch::Error,
            },
            "cannot be written",
        ),
    ];
    for (lookup, named) in cases {
        let forward: Mapping = [
            ("Name".to_owned(), FieldSource::Column("name".into())),
            (
                "CompanyId".to_owned(),
                FieldSource::Lookup(Box::new(lookup)),
            ),
        ]
        .into_iter()
        .collect();
        let Err(error) = check_task(
            &setup.source,
            &setup.target,
            (&setup.people, &setup.contacts),
            (&forward, &backward),
            Locale::Invariant,
        )
        .await
        else {
            panic!("a lookup naming {named} was accepted");
        };
        let message = error.to_string();
        assert!(
            message.starts_with("source_to_target.CompanyId: lookup: ") && message.contains(named),
            "{message}"
        );
    }
    assert!(setup.target.rows(&setup.contacts).is_empty());
}
