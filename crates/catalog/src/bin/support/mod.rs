//! What the catalog's benchmarks share: their command-line numbers, peak memory, and fresh
//! PostgreSQL databases.

use sqlx::{Connection, Executor, PgPool};

/// `--name N` from the command line, else `default`.
pub fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This process's peak resident memory, in MB.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Drops and re-creates database `name` on `server`; its URL and a pool on it.
pub async fn fresh_pg(server: &str, name: &str) -> (String, PgPool) {
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("reach PostgreSQL");
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin.execute(sql.as_str()).await.unwrap();
    }
    let url = format!("{server}/{name}");
    (url.clone(), PgPool::connect(&url).await.unwrap())
}
