//! What a run expects to read: each database connector's row estimate for a table, exact
//! on a table never analyzed, close once the database has statistics.

mod support;

use engine::connectors::Connector;
use engine::connectors::mysql::MySqlConnector;
use engine::connectors::postgres::PostgresConnector;
use engine::package::TableRef;

#[tokio::test]
async fn postgres_counts_a_table_never_analyzed_and_estimates_one_that_was() {
    let (url, pool) = support::fresh_pg("estimate").await;
    sqlx::raw_sql(
        "CREATE TABLE \"Odd Name\" (id bigserial PRIMARY KEY, note text);
         INSERT INTO \"Odd Name\" (note) SELECT 'row ' || g FROM generate_series(1, 1234) g;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let pg = PostgresConnector::connect(&url).await.unwrap();
    let schema = pg.describe(&TableRef::new(None, "Odd Name")).await.unwrap();
    assert_eq!(pg.estimate_rows(&schema).await.unwrap(), Some(1234));
    sqlx::raw_sql("ANALYZE \"Odd Name\"")
        .execute(&pool)
        .await
        .unwrap();
    let estimate = pg.estimate_rows(&schema).await.unwrap().unwrap();
    assert!((1100..=1400).contains(&estimate), "{estimate}");
}

#[tokio::test]
async fn mariadb_counts_the_rows() {
    let (url, pool) = support::fresh_mysql("estimate").await;
    sqlx::raw_sql(
        "CREATE TABLE `odd name` (id bigint AUTO_INCREMENT PRIMARY KEY, note text);
         INSERT INTO `odd name` (note) SELECT CONCAT('row ', seq) FROM seq_1_to_1234;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let my = MySqlConnector::connect(&url).await.unwrap();
    let schema = my.describe(&TableRef::new(None, "odd name")).await.unwrap();
    assert_eq!(my.estimate_rows(&schema).await.unwrap(), Some(1234));
}
