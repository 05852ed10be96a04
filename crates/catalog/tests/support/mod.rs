//! Fresh, uniquely named databases on the test PostgreSQL server, and the cloud sides.
#![allow(dead_code)]

use sqlx::{Connection, Executor, PgConnection, PgPool};

pub mod cloud;

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
