//! Fresh, uniquely named databases on the test PostgreSQL server.
#![allow(dead_code)]

use sqlx::{Connection, Executor, PgConnection, PgPool};

pub fn pg_server() -> String {
    if let Ok(server) = std::env::var("TEST_DATABASE_SERVER") {
        return server;
    }
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    url.rsplit_once('/')
        .map(|(server, _)| server.to_owned())
        .unwrap_or(url)
}

/// Creates an empty database and returns its URL and a pool on it.
pub async fn fresh_pg(label: &str) -> (String, PgPool) {
    let name = format!("lockstep_test_{label}_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&format!("{}/postgres", pg_server()))
        .await
        .expect("reach PostgreSQL");
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("create database");
    let url = format!("{}/{name}", pg_server());
    let pool = PgPool::connect(&url).await.expect("connect");
    (url, pool)
}

pub fn mysql_server() -> String {
    std::env::var("TEST_MYSQL_SERVER").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

/// Creates an empty MySQL/MariaDB database and returns its URL and a pool on it.
pub async fn fresh_mysql(label: &str) -> (String, sqlx::MySqlPool) {
    use sqlx::mysql::MySqlConnection;
    let name = format!("lockstep_test_{label}_{}", uuid::Uuid::new_v4().simple());
    let mut admin = MySqlConnection::connect(&mysql_server())
        .await
        .expect("reach MySQL/MariaDB");
    admin
        .execute(format!("CREATE DATABASE `{name}`").as_str())
        .await
        .expect("create database");
    let url = format!("{}/{name}", mysql_server());
    let pool = sqlx::MySqlPool::connect(&url).await.expect("connect");
    (url, pool)
}

pub mod harness {
    //! Runs one task between any two connectors and checks convergence value by value.
    use engine::connectors::{Connector, Key, Row};
    use engine::mapping::CompiledMapping;
    use engine::mapping::locale::Locale;
    use engine::package::{FieldSource, Mapping, TableRef};
    use engine::sync::{CancelToken, MemoryState, SyncOptions, TaskPlan, TaskSummary, run_task};
    use std::collections::BTreeMap;
    use uuid::Uuid;

    pub fn same_names(columns: &[&str]) -> Mapping {
        columns
            .iter()
            .map(|c| ((*c).to_owned(), FieldSource::Column((*c).to_owned())))
            .collect()
    }

    pub struct Harness {
        pub source: Box<dyn Connector>,
        pub target: Box<dyn Connector>,
        pub source_table: TableRef,
        pub target_table: TableRef,
        pub source_to_target: Mapping,
        pub target_to_source: Mapping,
        pub state: MemoryState,
        pub task: Uuid,
    }

    impl Harness {
        pub fn new(
            source: Box<dyn Connector>,
            target: Box<dyn Connector>,
            source_table: &str,
            target_table: &str,
            columns: &[&str],
        ) -> Self {
            Harness {
                source,
                target,
                source_table: TableRef::parse(source_table).unwrap(),
                target_table: TableRef::parse(target_table).unwrap(),
                source_to_target: same_names(columns),
                target_to_source: same_names(columns),
                state: MemoryState::new(),
                task: Uuid::new_v4(),
            }
        }

        pub async fn plan(&self) -> TaskPlan<'_> {
            let ss = self.source.describe(&self.source_table).await.unwrap();
            let ts = self.target.describe(&self.target_table).await.unwrap();
            TaskPlan {
                matching: None,
                id: self.task,
                label: format!("{} → {}", self.source_table, self.target_table),
                source: self.source.as_ref(),
                target: self.target.as_ref(),
                source_to_target: CompiledMapping::compile(
                    &self.source_to_target,
                    &ss,
                    &ts,
                    Locale::Invariant,
                )
                .unwrap(),
                target_to_source: CompiledMapping::compile(
                    &self.target_to_source,
                    &ts,
                    &ss,
                    Locale::Invariant,
                )
                .unwrap(),
                source_schema: ss,
                target_schema: ts,
            }
        }

        pub async fn run(&self) -> TaskSummary {
            run_task(
                &self.plan().await,
                &self.state,
                &SyncOptions {
                    batch_size: 50,
                    ..Default::default()
                },
                &CancelToken::default(),
            )
            .await
            .expect("run succeeds")
        }

        async fn all_rows(
            connector: &dyn Connector,
            schema: &engine::connectors::TableSchema,
        ) -> BTreeMap<Key, Row> {
            let mut rows = BTreeMap::new();
            let mut after: Option<Key> = None;
            loop {
                let page = connector.scan(schema, after.as_ref(), 500).await.unwrap();
                let Some((last, _)) = page.last() else {
                    return rows;
                };
                after = Some(last.clone());
                rows.extend(page);
            }
        }

        /// Every row on each side has exactly one counterpart, equal through the mapping.
        pub async fn assert_converged(&self, context: &str) {
            let plan = self.plan().await;
            let source_rows = Self::all_rows(plan.source, &plan.source_schema).await;
            let target_rows = Self::all_rows(plan.target, &plan.target_schema).await;
            let pairs = self.state.pairs(self.task);
            assert_eq!(
                source_rows.len(),
                pairs.len(),
                "{context}: source rows vs pairs"
            );
            assert_eq!(
                target_rows.len(),
                pairs.len(),
                "{context}: target rows vs pairs"
            );
            for (s, t) in pairs {
                let expected = plan.source_to_target.apply(&source_rows[&s]).unwrap();
                for (column, value) in expected {
                    let ty = &plan.target_schema.column(&column).unwrap().ty;
                    let actual = target_rows[&t]
                        .get(&column)
                        .cloned()
                        .unwrap()
                        .convert_to(ty)
                        .unwrap();
                    assert_eq!(value, actual, "{context}: pair {s}→{t}, column {column}");
                }
            }
        }
    }
}
