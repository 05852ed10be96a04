//! First-run matching over in-memory sides that both hold people before the first run: equal
//! keys are paired (the source wins), keys differing by case and spaces pair when asked,
//! ambiguous keys are held and reported, the rest is copied; nothing is duplicated, and a
//! LastSyncTime reset after the data is fixed pairs what was held.

use std::collections::BTreeMap;

use engine::connectors::memory::MemoryConnector;
use engine::connectors::{Connector, Key, Row};
use engine::mapping::CompiledMapping;
use engine::mapping::locale::Locale;
use engine::package::{FieldSource, MatchKey, MatchSpec, TableRef};
use engine::sync::{
    CancelToken, FullPass, MatchReport, Matching, MemoryState, StateStore, SyncOptions, TaskPlan,
    TaskSummary, find_matches, run_task,
};
use engine::value::{ColumnType, Value};
use uuid::Uuid;

fn text() -> ColumnType {
    ColumnType::Text {
        max_chars: Some(80),
    }
}

struct Sides {
    source: MemoryConnector,
    target: MemoryConnector,
    s: TableRef,
    t: TableRef,
    state: MemoryState,
    task: Uuid,
}

fn person(name: &str, email: Option<&str>) -> Row {
    BTreeMap::from([
        ("full_name".into(), Value::Text(name.into())),
        (
            "email".into(),
            email.map_or(Value::Null, |e| Value::Text(e.into())),
        ),
    ])
}

fn contact(name: &str, email: Option<&str>) -> Row {
    BTreeMap::from([
        ("Name".into(), Value::Text(name.into())),
        (
            "Email".into(),
            email.map_or(Value::Null, |e| Value::Text(e.into())),
        ),
    ])
}

impl Sides {
    fn new() -> Sides {
        let source = MemoryConnector::new();
        let target = MemoryConnector::new();
        let s = source.create_table(
            "people",
            &[("full_name", text(), false), ("email", text(), true)],
        );
        let t = target.create_table(
            "contacts",
            &[("Name", text(), false), ("Email", text(), true)],
        );
        Sides {
            source,
            target,
            s,
            t,
            state: MemoryState::new(),
            task: Uuid::new_v4(),
        }
    }

    fn spec(fold: bool) -> MatchSpec {
        MatchSpec {
            keys: vec![MatchKey {
                source: FieldSource::Column("email".into()),
                target: FieldSource::Column("Email".into()),
            }],
            ignore_case_and_spaces: fold,
        }
    }

    async fn plan(&self, fold: bool) -> TaskPlan<'_> {
        let ss = self.source.describe(&self.s).await.unwrap();
        let ts = self.target.describe(&self.t).await.unwrap();
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(w, r)| ((*w).to_owned(), FieldSource::Column((*r).to_owned())))
                .collect()
        };
        TaskPlan {
            id: self.task,
            label: "people → contacts".into(),
            source: &self.source,
            target: &self.target,
            source_to_target: CompiledMapping::compile(
                &map(&[("Name", "full_name"), ("Email", "email")]),
                &ss,
                &ts,
                Locale::Invariant,
            )
            .unwrap(),
            target_to_source: CompiledMapping::compile(
                &map(&[("full_name", "Name"), ("email", "Email")]),
                &ts,
                &ss,
                Locale::Invariant,
            )
            .unwrap(),
            matching: Some(Matching::compile(&Sides::spec(fold), &ss, &ts).unwrap()),
            source_schema: ss,
            target_schema: ts,
        }
    }

    async fn run(&self, fold: bool) -> TaskSummary {
        let options = SyncOptions {
            batch_size: 2,
            ..Default::default()
        };
        run_task(
            &self.plan(fold).await,
            &self.state,
            &options,
            &CancelToken::default(),
        )
        .await
        .unwrap()
    }

    async fn preview(&self, fold: bool) -> MatchReport {
        let plan = self.plan(fold).await;
        find_matches(&plan, plan.matching.as_ref().unwrap(), &self.state, 2)
            .await
            .unwrap()
    }

    fn emails(&self) -> (Vec<String>, Vec<String>) {
        let text =
            |row: &Row, c: &str| row.get(c).map(Value::to_invariant_text).unwrap_or_default();
        let mut s: Vec<String> = self
            .source
            .rows(&self.s)
            .values()
            .map(|r| text(r, "email"))
            .collect();
        let mut t: Vec<String> = self
            .target
            .rows(&self.t)
            .values()
            .map(|r| text(r, "Email"))
            .collect();
        s.sort();
        t.sort();
        (s, t)
    }
}

fn fill(sides: &Sides) -> (Key, Key, Key) {
    let ann = sides
        .source
        .user_insert(&sides.s, person("Ann Source", Some("ann@x.org")));
    sides
        .source
        .user_insert(&sides.s, person("Bob", Some("  Bob@X.org ")));
    let dup = sides
        .source
        .user_insert(&sides.s, person("Dup", Some("dup@x.org")));
    sides
        .source
        .user_insert(&sides.s, person("Cy", Some("cy@x.org")));
    sides.source.user_insert(&sides.s, person("Nobody", None));
    let ann_t = sides
        .target
        .user_insert(&sides.t, contact("Ann Target", Some("ann@x.org")));
    sides
        .target
        .user_insert(&sides.t, contact("Bob", Some("bob@x.org")));
    let dup_t = sides
        .target
        .user_insert(&sides.t, contact("Dup 1", Some("dup@x.org")));
    sides
        .target
        .user_insert(&sides.t, contact("Dup 2", Some("dup@x.org")));
    sides
        .target
        .user_insert(&sides.t, contact("Dee", Some("dee@x.org")));
    let _ = dup;
    (ann, ann_t, dup_t)
}

#[tokio::test]
async fn the_preview_reads_both_sides_and_writes_nothing() {
    let sides = Sides::new();
    fill(&sides);
    let report = sides.preview(true).await;
    assert_eq!(report.paired.len(), 2, "{report:?}"); // ann, bob
    assert_eq!(report.ambiguous.len(), 1, "{report:?}");
    assert_eq!(report.ambiguous[0].value, "dup@x.org");
    assert_eq!(
        (
            report.ambiguous[0].source.len(),
            report.ambiguous[0].target.len()
        ),
        (1, 2)
    );
    assert_eq!(report.new_on_source, 2, "{report:?}"); // cy, nobody
    assert_eq!(report.new_on_target, 1, "{report:?}"); // dee
    assert!(sides.state.pairs(sides.task).is_empty());
    assert_eq!(sides.source.rows(&sides.s).len(), 5);
    assert_eq!(sides.target.rows(&sides.t).len(), 5);
    // Compared exactly, Bob's differing case and spaces do not match.
    assert_eq!(sides.preview(false).await.paired.len(), 1);
}

#[tokio::test]
async fn records_both_sides_hold_are_paired_not_copied_and_ambiguous_ones_are_held() {
    let sides = Sides::new();
    let (ann, ann_t, dup_t) = fill(&sides);
    let summary = sides.run(true).await;
    assert_eq!(summary.source_to_target.paired, 2, "{summary:?}");
    // Ann is one record on each side, the source's values won.
    let pairs: BTreeMap<Key, Key> = sides.state.pairs(sides.task).into_iter().collect();
    assert_eq!(pairs.get(&ann), Some(&ann_t));
    assert_eq!(
        sides.target.rows(&sides.t)[&ann_t].get("Name"),
        Some(&Value::Text("Ann Source".into()))
    );
    // The ambiguous key: reported for each of its three records, none copied.
    let held: Vec<_> = summary
        .errors
        .iter()
        .filter(|e| e.operation == "match")
        .collect();
    assert_eq!(held.len(), 3, "{:?}", summary.errors);
    assert!(held[0].message.contains("dup@x.org"), "{}", held[0].message);
    let (s, t) = sides.emails();
    assert_eq!(s.iter().filter(|e| e.as_str() == "dup@x.org").count(), 1);
    assert_eq!(t.iter().filter(|e| e.as_str() == "dup@x.org").count(), 2);
    // Everything else exists once on each side: cy, nobody and dee were copied.
    assert_eq!(s.len(), 6, "{s:?}");
    assert_eq!(t.len(), 7, "{t:?}");
    assert_eq!(pairs.len(), 5);

    // Later runs copy nothing twice, even when a held record changes.
    let dup = sides
        .source
        .rows(&sides.s)
        .into_iter()
        .find(|(_, r)| r.get("email") == Some(&Value::Text("dup@x.org".into())))
        .unwrap()
        .0;
    sides
        .source
        .user_update(&sides.s, &dup, person("Dup renamed", Some("dup@x.org")));
    let summary = sides.run(true).await;
    assert_eq!(summary.source_to_target.inserted, 0, "{summary:?}");
    assert_eq!(summary.source_to_target.held, 1, "{summary:?}");
    assert_eq!(sides.emails().1.len(), 7);

    // A person fixes the data and resets LastSyncTime: the key now pairs.
    sides
        .target
        .user_update(&sides.t, &dup_t, contact("Dup 1", Some("dup.one@x.org")));
    let mut state = sides.state.load(sides.task).await.unwrap();
    state.full_pass = Some(FullPass::start());
    sides.state.save(sides.task, &state).await.unwrap();
    let summary = sides.run(true).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(summary.source_to_target.paired, 1, "{summary:?}");
    let (s, t) = sides.emails();
    assert_eq!(s, t, "both sides hold the same people");
    assert_eq!(s.len(), 7);
}

#[tokio::test]
async fn match_keys_of_different_kinds_are_refused() {
    let source = MemoryConnector::new();
    let target = MemoryConnector::new();
    let s = source.create_table("people", &[("born", ColumnType::Date, true)]);
    let t = target.create_table(
        "contacts",
        &[(
            "Score",
            ColumnType::Int {
                bits: 32,
                unsigned: false,
            },
            true,
        )],
    );
    let spec = MatchSpec {
        keys: vec![MatchKey {
            source: FieldSource::Column("born".into()),
            target: FieldSource::Column("Score".into()),
        }],
        ignore_case_and_spaces: false,
    };
    let err = Matching::compile(
        &spec,
        &source.describe(&s).await.unwrap(),
        &target.describe(&t).await.unwrap(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("match.keys[0]") && err.contains("different kinds"),
        "{err}"
    );
    let missing = MatchSpec {
        keys: vec![MatchKey {
            source: FieldSource::Column("mail".into()),
            target: FieldSource::Column("Score".into()),
        }],
        ignore_case_and_spaces: false,
    };
    let err = Matching::compile(
        &missing,
        &source.describe(&s).await.unwrap(),
        &target.describe(&t).await.unwrap(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("match.keys[0].source") && err.contains("mail"),
        "{err}"
    );
}
