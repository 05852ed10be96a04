//! Related tables with real foreign keys, PostgreSQL ↔ MariaDB, both sides holding data
//! before the first run: plain column mappings between foreign keys become relations, parents
//! are written before children, a self-reference is set in a second pass, and deletes with
//! ON DELETE CASCADE / SET NULL on either side leave no reference pointing at a wrong record.

mod support;

use std::collections::BTreeMap;

use engine::connectors::Connector;
use engine::connectors::mysql::MySqlConnector;
use engine::connectors::postgres::PostgresConnector;
use engine::mapping::locale::Locale;
use engine::package::{FieldSource, Mapping, TableRef};
use engine::sync::{
    CancelToken, MemoryState, SyncOptions, TaskPlan, check_task, link_package, run_package,
};
use uuid::Uuid;

async fn pg_exec(pool: &sqlx::PgPool, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn my_exec(pool: &sqlx::MySqlPool, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn same_names(columns: &[&str]) -> Mapping {
    columns
        .iter()
        .map(|c| ((*c).to_owned(), FieldSource::Column((*c).to_owned())))
        .collect()
}

/// Each side's view: contact name → its account's name, account name → its parent's name.
type View = (
    BTreeMap<String, Option<String>>,
    BTreeMap<String, Option<String>>,
);

async fn pg_view(pool: &sqlx::PgPool) -> View {
    let contacts: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT c.name, a.name FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let accounts: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT a.name, p.name FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (
        contacts.into_iter().collect(),
        accounts.into_iter().collect(),
    )
}

async fn my_view(pool: &sqlx::MySqlPool) -> View {
    let contacts: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT c.name, a.name FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let accounts: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT a.name, p.name FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (
        contacts.into_iter().collect(),
        accounts.into_iter().collect(),
    )
}

async fn run(pg: &dyn Connector, my: &dyn Connector, state: &MemoryState, ids: &[Uuid]) {
    let tasks = [
        ("contacts", same_names(&["name", "account_id"])),
        ("accounts", same_names(&["name", "parent_id"])),
    ];
    let mut plans = Vec::new();
    for ((name, mapping), id) in tasks.iter().zip(ids) {
        let table = TableRef::parse(name).unwrap();
        let checked = check_task(
            pg,
            my,
            (&table, &table),
            (mapping, mapping),
            Locale::Invariant,
        )
        .await
        .unwrap();
        plans.push(TaskPlan {
            matching: None,
            id: *id,
            label: format!("{name} → {name}"),
            source: pg,
            target: my,
            source_schema: checked.source_schema,
            target_schema: checked.target_schema,
            source_to_target: checked.source_to_target,
            target_to_source: checked.target_to_source,
        });
    }
    let names: Vec<TableRef> = tasks
        .iter()
        .map(|(n, _)| TableRef::parse(n).unwrap())
        .collect();
    let order = link_package(&mut plans, &names).unwrap();
    let options = SyncOptions {
        batch_size: 3,
        ..Default::default()
    };
    let ran = run_package(&plans, &order, state, &options, &CancelToken::default()).await;
    if let Some((task, e)) = ran.failure {
        panic!("{task}: {e}");
    }
    for task in &ran.tasks {
        assert!(task.errors.is_empty(), "{:?}", task.errors);
    }
}

#[tokio::test]
async fn related_tables_with_foreign_keys_sync_between_postgresql_and_mariadb() {
    let (pu, pp) = support::fresh_pg("rel").await;
    let (mu, mp) = support::fresh_mysql("rel").await;
    pg_exec(
        &pp,
        "CREATE TABLE accounts (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE,
                                parent_id bigint REFERENCES accounts (id) ON DELETE SET NULL);
         CREATE TABLE contacts (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE,
                                account_id bigint REFERENCES accounts (id) ON DELETE CASCADE);
         INSERT INTO accounts (name) VALUES ('Acme'), ('Acme EU'), ('Initech');
         UPDATE accounts SET parent_id = (SELECT id FROM accounts WHERE name = 'Acme EU') WHERE name = 'Acme';
         INSERT INTO contacts (name, account_id) SELECT 'Ann', id FROM accounts WHERE name = 'Acme';
         INSERT INTO contacts (name, account_id) SELECT 'Bob', id FROM accounts WHERE name = 'Initech';
         INSERT INTO contacts (name) VALUES ('Cyd');",
    )
    .await;
    my_exec(
        &mp,
        "CREATE TABLE accounts (id bigint AUTO_INCREMENT PRIMARY KEY, name varchar(60) NOT NULL UNIQUE,
                                parent_id bigint, FOREIGN KEY (parent_id) REFERENCES accounts (id) ON DELETE SET NULL);
         CREATE TABLE contacts (id bigint AUTO_INCREMENT PRIMARY KEY, name varchar(60) NOT NULL UNIQUE,
                                account_id bigint, FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE SET NULL);
         ALTER TABLE accounts AUTO_INCREMENT = 500;
         ALTER TABLE contacts AUTO_INCREMENT = 700;
         INSERT INTO accounts (name) VALUES ('Globex'), ('Globex Labs');
         UPDATE accounts SET parent_id = (SELECT id FROM (SELECT id FROM accounts WHERE name = 'Globex') g) WHERE name = 'Globex Labs';
         INSERT INTO contacts (name, account_id) SELECT 'Dee', id FROM accounts WHERE name = 'Globex Labs';",
    )
    .await;
    let pg = PostgresConnector::connect(&pu).await.unwrap();
    let my = MySqlConnector::connect(&mu).await.unwrap();
    let state = MemoryState::new();
    let ids = [Uuid::new_v4(), Uuid::new_v4()];

    run(&pg, &my, &state, &ids).await;
    let view = pg_view(&pp).await;
    assert_eq!(view, my_view(&mp).await);
    assert_eq!(view.0["Ann"].as_deref(), Some("Acme"));
    assert_eq!(view.0["Dee"].as_deref(), Some("Globex Labs"));
    assert_eq!(view.1["Acme"].as_deref(), Some("Acme EU"));
    assert_eq!(view.1["Globex Labs"].as_deref(), Some("Globex"));

    // Moves on both sides, a delete that cascades on PostgreSQL, one that sets null on
    // MariaDB, and a new child of a new parent.
    pg_exec(
        &pp,
        "UPDATE contacts SET account_id = (SELECT id FROM accounts WHERE name = 'Globex') WHERE name = 'Bob';
         DELETE FROM accounts WHERE name = 'Initech';
         INSERT INTO accounts (name) VALUES ('Umbrella');
         INSERT INTO contacts (name, account_id) SELECT 'Eve', id FROM accounts WHERE name = 'Umbrella';",
    )
    .await;
    my_exec(
        &mp,
        "UPDATE contacts SET account_id = NULL WHERE name = 'Cyd';
         UPDATE contacts SET account_id = (SELECT id FROM (SELECT id FROM accounts WHERE name = 'Acme EU') a) WHERE name = 'Dee';
         UPDATE accounts SET parent_id = NULL WHERE name = 'Acme';",
    )
    .await;
    run(&pg, &my, &state, &ids).await;
    let view = pg_view(&pp).await;
    assert_eq!(view, my_view(&mp).await);
    assert_eq!(view.0["Bob"].as_deref(), Some("Globex"));
    assert_eq!(view.0["Dee"].as_deref(), Some("Acme EU"));
    assert_eq!(view.0["Eve"].as_deref(), Some("Umbrella"));
    assert!(!view.1.contains_key("Initech"));
    assert_eq!(view.1["Acme"], None);

    // A parent deleted on MariaDB, which clears its children there by its own SET NULL (no
    // trigger of the child table fires for that): the children follow on PostgreSQL, whose
    // CASCADE deleted them first.
    my_exec(&mp, "DELETE FROM accounts WHERE name = 'Globex';").await;
    run(&pg, &my, &state, &ids).await;
    let view = pg_view(&pp).await;
    assert_eq!(view, my_view(&mp).await);
    assert_eq!(view.0["Bob"], None);
    assert_eq!(view.1["Globex Labs"], None);

    // A parent deleted on PostgreSQL whose children cascade there: gone on both sides.
    pg_exec(&pp, "DELETE FROM accounts WHERE name = 'Umbrella';").await;
    run(&pg, &my, &state, &ids).await;
    let view = pg_view(&pp).await;
    assert_eq!(view, my_view(&mp).await);
    assert!(!view.0.contains_key("Eve"));
}

/// A foreign key to another unique column than the key (a code) is not a relation: the code
/// is the same on both sides, so it is copied as it is.
#[tokio::test]
async fn a_foreign_key_to_a_unique_code_is_copied_not_translated() {
    let (su, sp) = support::fresh_pg("code").await;
    let (tu, tp) = support::fresh_pg("code").await;
    for (pool, start) in [(&sp, 1), (&tp, 900)] {
        pg_exec(
            pool,
            &format!(
                "CREATE TABLE tags (id bigint GENERATED BY DEFAULT AS IDENTITY (START {start}) PRIMARY KEY,
                                    code text NOT NULL UNIQUE);
                 CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL,
                                     tag_code text REFERENCES tags (code));"
            ),
        )
        .await;
    }
    pg_exec(
        &sp,
        "INSERT INTO tags (code) VALUES ('red'), ('blue');
         INSERT INTO items (name, tag_code) VALUES ('ball', 'red'), ('sky', 'blue');",
    )
    .await;
    let source = PostgresConnector::connect(&su).await.unwrap();
    let target = PostgresConnector::connect(&tu).await.unwrap();
    let tasks = [
        ("items", same_names(&["name", "tag_code"])),
        ("tags", same_names(&["code"])),
    ];
    let mut plans = Vec::new();
    let ids = [Uuid::new_v4(), Uuid::new_v4()];
    for ((name, mapping), id) in tasks.iter().zip(&ids) {
        let table = TableRef::parse(name).unwrap();
        let checked = check_task(
            &source,
            &target,
            (&table, &table),
            (mapping, mapping),
            Locale::Invariant,
        )
        .await
        .unwrap();
        plans.push(TaskPlan {
            matching: None,
            id: *id,
            label: format!("{name} → {name}"),
            source: &source,
            target: &target,
            source_schema: checked.source_schema,
            target_schema: checked.target_schema,
            source_to_target: checked.source_to_target,
            target_to_source: checked.target_to_source,
        });
    }
    let names: Vec<TableRef> = tasks
        .iter()
        .map(|(n, _)| TableRef::parse(n).unwrap())
        .collect();
    let order = link_package(&mut plans, &names).unwrap();
    let state = MemoryState::new();
    let ran = run_package(
        &plans,
        &order,
        &state,
        &SyncOptions::default(),
        &CancelToken::default(),
    )
    .await;
    assert!(ran.failure.is_none(), "{:?}", ran.failure);
    assert!(
        ran.tasks.iter().all(|t| t.errors.is_empty()),
        "{:?}",
        ran.tasks
    );
    let codes: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT name, tag_code FROM items ORDER BY name")
            .fetch_all(&tp)
            .await
            .unwrap();
    assert_eq!(
        codes,
        vec![
            ("ball".to_owned(), Some("red".to_owned())),
            ("sky".to_owned(), Some("blue".to_owned()))
        ]
    );
}
