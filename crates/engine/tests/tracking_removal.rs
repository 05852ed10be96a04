//! Removing change tracking leaves nothing of Lockstep's in a synced database once its last
//! tracked table is gone: PostgreSQL's `lockstep` schema (logs, functions, the insert journal)
//! and MariaDB's `lockstep_…` tables and triggers. While another table is still tracked, the
//! shared journal stays.

mod support;

use engine::connectors::mysql::MySqlConnector;
use engine::connectors::postgres::PostgresConnector;
use engine::connectors::{Connector, Key, TableSchema, WriteOp};
use engine::package::TableRef;

async fn logged(connector: &dyn Connector, table: &str, log: &str) -> TableSchema {
    let mut schema = connector
        .describe(&TableRef::parse(table).unwrap())
        .await
        .unwrap();
    schema.log_name = log.to_owned();
    connector.install_tracking(&schema).await.unwrap();
    schema
}

/// Two tasks track two tables; an insert leaves a journal entry behind (a run that stopped
/// before it cleared it). Returns both logged schemas.
async fn track_two(connector: &dyn Connector) -> (TableSchema, TableSchema) {
    let people = logged(connector, "people", "task_a_s").await;
    let teams = logged(connector, "teams", "task_b_s").await;
    let row = [("name".to_owned(), engine::value::Value::Text("Ann".into()))]
        .into_iter()
        .collect();
    connector
        .write(
            &people,
            "task_a:source_to_target",
            vec![WriteOp::Insert {
                origin: Key("1".into()),
                row,
            }],
        )
        .await
        .unwrap();
    (people, teams)
}

#[tokio::test]
async fn postgres_keeps_nothing_of_lockstep_after_the_last_tracking_is_removed() {
    let (url, pool) = support::fresh_pg("untrack").await;
    sqlx::raw_sql(
        "CREATE TABLE people (id serial PRIMARY KEY, name text);
         CREATE TABLE teams (id serial PRIMARY KEY, name text);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let pg = PostgresConnector::connect(&url).await.unwrap();
    let (people, teams) = track_two(&pg).await;
    let objects = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname = 'lockstep'
             UNION ALL SELECT 'table ' || relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'lockstep' AND c.relkind = 'r'
             UNION ALL SELECT 'function ' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'lockstep'
             UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
             ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    pg.remove_tracking(&people).await.unwrap();
    let left = objects().await;
    assert!(
        left.contains(&"table journal_batches".to_owned()) && left.len() > 2,
        "another table is still tracked: {left:?}"
    );
    pg.remove_tracking(&teams).await.unwrap();
    assert_eq!(objects().await, Vec::<String>::new());
    // Tracking again after that works as on a fresh database.
    let people = logged(&pg, "people", "task_c_s").await;
    assert!(pg.tracking_installed(&people).await.unwrap());
}

#[tokio::test]
async fn mariadb_keeps_nothing_of_lockstep_after_the_last_tracking_is_removed() {
    let (url, pool) = support::fresh_mysql("untrack").await;
    sqlx::raw_sql(
        "CREATE TABLE people (id int AUTO_INCREMENT PRIMARY KEY, name text);
         CREATE TABLE teams (id int AUTO_INCREMENT PRIMARY KEY, name text);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let my = MySqlConnector::connect(&url).await.unwrap();
    let (people, teams) = track_two(&my).await;
    let objects = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT CAST(CONCAT('table ', TABLE_NAME) AS CHAR) FROM information_schema.TABLES
              WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'lockstep%'
             UNION ALL SELECT CAST(CONCAT('trigger ', TRIGGER_NAME) AS CHAR) FROM information_schema.TRIGGERS
              WHERE TRIGGER_SCHEMA = DATABASE()
             ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    my.remove_tracking(&people).await.unwrap();
    let left = objects().await;
    assert!(
        left.contains(&"table lockstep_journal_batches".to_owned()) && left.len() > 2,
        "another table is still tracked: {left:?}"
    );
    my.remove_tracking(&teams).await.unwrap();
    assert_eq!(objects().await, Vec::<String>::new());
    let people = logged(&my, "people", "task_c_s").await;
    assert!(my.tracking_installed(&people).await.unwrap());
}
