//! Lookups against real databases, PostgreSQL ↔ MariaDB: two keys (a column and a constant)
//! compared with MariaDB's own case-insensitive collation, an expression key, looked-up
//! tables that no task syncs and that have no generated key (or no key at all), and a
//! record whose keys find nothing reported and left for the next run.

mod support;

use std::collections::BTreeMap;

use engine::connectors::mysql::MySqlConnector;
use engine::connectors::postgres::PostgresConnector;
use engine::mapping::locale::Locale;
use engine::package::{FieldSource, Lookup, Mapping, NoMatch, TableRef};
use engine::sync::{CancelToken, MemoryState, SyncOptions, TaskPlan, TaskSummary, check_task};
use uuid::Uuid;

async fn exec<'e, E: sqlx::Executor<'e>>(executor: E, sql: &'e str) {
    sqlx::raw_sql(sql)
        .execute(executor)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn run(
    pg: &PostgresConnector,
    my: &MySqlConnector,
    state: &MemoryState,
    task: Uuid,
) -> TaskSummary {
    let forward: Mapping = [
        ("name".to_owned(), FieldSource::Column("name".into())),
        (
            "company_id".to_owned(),
            FieldSource::Lookup(Box::new(Lookup {
                table: TableRef::parse("companies").unwrap(),
                column: "id".into(),
                keys: BTreeMap::from([
                    ("code".into(), FieldSource::Column("company_code".into())),
                    ("region".into(), FieldSource::Constant("EU".into())),
                ]),
                no_match: NoMatch::Error,
            })),
        ),
    ]
    .into_iter()
    .collect();
    let backward: Mapping = [
        ("name".to_owned(), FieldSource::Column("name".into())),
        (
            "country".to_owned(),
            FieldSource::Lookup(Box::new(Lookup {
                table: TableRef::parse("countries").unwrap(),
                column: "code".into(),
                keys: BTreeMap::from([(
                    "name".into(),
                    FieldSource::Expression("trim(country_name)".into()),
                )]),
                no_match: NoMatch::Null,
            })),
        ),
    ]
    .into_iter()
    .collect();
    let people = TableRef::parse("people").unwrap();
    let contacts = TableRef::parse("contacts").unwrap();
    let checked = check_task(
        pg,
        my,
        (&people, &contacts),
        (&forward, &backward),
        Locale::Invariant,
    )
    .await
    .unwrap();
    let plan = TaskPlan {
        matching: None,
        id: task,
        label: "people → contacts".into(),
        source: pg,
        target: my,
        source_schema: checked.source_schema,
        target_schema: checked.target_schema,
        source_to_target: checked.source_to_target,
        target_to_source: checked.target_to_source,
    };
    let options = SyncOptions {
        batch_size: 2,
        ..Default::default()
    };
    engine::sync::run_task(&plan, state, &options, &CancelToken::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn lookups_search_the_written_database_in_its_own_terms() {
    let (pu, pp) = support::fresh_pg("lookup").await;
    let (mu, mp) = support::fresh_mysql("lookup").await;
    exec(
        &pp,
        "CREATE TABLE people (id bigserial PRIMARY KEY, name text NOT NULL, company_code text, country char(2));
         CREATE TABLE countries (code char(2) NOT NULL, name text NOT NULL);
         INSERT INTO countries VALUES ('DE', 'Germany'), ('FR', 'France');
         INSERT INTO people (name, company_code) VALUES ('Ann', 'ACME'), ('Bob', 'globex'), ('Cyd', 'Initech'), ('Dan', NULL);",
    )
    .await;
    exec(
        &mp,
        "CREATE TABLE companies (id int PRIMARY KEY, code varchar(20) NOT NULL, region varchar(4) NOT NULL)
             COLLATE utf8mb4_general_ci;
         INSERT INTO companies VALUES (10, 'acme', 'EU'), (11, 'acme', 'US'), (12, 'Globex', 'EU');
         CREATE TABLE contacts (id bigint AUTO_INCREMENT PRIMARY KEY, name varchar(60) NOT NULL,
                                company_id int NULL, country_name varchar(60) NULL);
         INSERT INTO contacts (name, country_name) VALUES ('Eve', ' Germany '), ('Fay', 'Atlantis');",
    )
    .await;
    let pg = PostgresConnector::connect(&pu).await.unwrap();
    let my = MySqlConnector::connect(&mu).await.unwrap();
    let state = MemoryState::new();
    let task = Uuid::new_v4();

    let summary = run(&pg, &my, &state, task).await;
    let companies: BTreeMap<String, Option<i32>> =
        sqlx::query_as("SELECT name, company_id FROM contacts")
            .fetch_all(&mp)
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(companies.get("Ann"), Some(&Some(10)), "{companies:?}");
    assert_eq!(companies.get("Bob"), Some(&Some(12)), "{companies:?}");
    assert_eq!(companies.get("Dan"), Some(&None), "{companies:?}");
    assert!(!companies.contains_key("Cyd"), "{companies:?}");
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
    assert!(
        summary.errors[0]
            .message
            .contains("companies has code = 'Initech' and region = 'EU'"),
        "{:?}",
        summary.errors
    );
    let countries: BTreeMap<String, Option<String>> =
        sqlx::query_as("SELECT name, country::text FROM people")
            .fetch_all(&pp)
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(countries.get("Eve"), Some(&Some("DE".to_owned())));
    assert_eq!(
        countries.get("Fay"),
        Some(&None),
        "no match writes null here"
    );

    // Initech appears in Europe: the waiting record is written on the next run.
    exec(&mp, "INSERT INTO companies VALUES (13, 'INITECH', 'EU');").await;
    let summary = run(&pg, &my, &state, task).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    let cyd: Option<i32> = sqlx::query_scalar("SELECT company_id FROM contacts WHERE name = 'Cyd'")
        .fetch_one(&mp)
        .await
        .unwrap();
    assert_eq!(cyd, Some(13));
}
