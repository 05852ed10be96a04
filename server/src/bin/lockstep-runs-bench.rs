//! Measures the job workers end to end on real PostgreSQL and prints figures:
//! - how long a due scheduled run waits until a worker starts it (scheduler tick + queue poll);
//! - one worker's throughput on a first run and an incremental run of the engine's bench
//!   shape (a `customers` table of `--rows` rows, PostgreSQL → PostgreSQL).
//!
//! `cargo run --release -p server --bin lockstep-runs-bench -- [--rows 200000] [--samples 10]`
//! Databases `lockstep_runsbench_*` on `BENCH_PG` (default postgres://postgres@127.0.0.1:5432)
//! are created fresh and dropped at the end.

use std::time::{Duration, Instant};

use anyhow::Context;
use catalog::connections::{self, ConnectionForm};
use catalog::package_editor::{self, PackageForm, TaskForm};
use catalog::schedules::{self, ScheduleForm};
use catalog::secrets::SecretBox;
use chrono::Utc;
use engine::package::FieldSource;
use engine::schedule::Schedule;
use sqlx::{Connection, Executor, PgPool};
use uuid::Uuid;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn fresh(server: &str, name: &str, sql: &str) -> anyhow::Result<PgPool> {
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let pool = PgPool::connect(&format!("{server}/{name}")).await?;
    sqlx::raw_sql(sql).execute(&pool).await?;
    Ok(pool)
}

async fn wait_state(meta: &PgPool, run: Uuid, states: &[&str]) -> anyhow::Result<String> {
    loop {
        let state: String = sqlx::query_scalar("SELECT state FROM runs WHERE id = $1")
            .bind(run)
            .fetch_one(meta)
            .await?;
        if states.contains(&state.as_str()) {
            return Ok(state);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows = arg("--rows", 200_000);
    let samples = arg("--samples", 10);
    let server =
        std::env::var("BENCH_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let url = url::Url::parse(&server)?;

    let meta = fresh(&server, "lockstep_runsbench_meta", "").await?;
    server::database::prepare(&format!("{server}/lockstep_runsbench_meta").into()).await?;
    let table = "CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL, email text, score numeric(12,2), updated_at timestamptz NOT NULL DEFAULT now());";
    let source = fresh(
        &server,
        "lockstep_runsbench_src",
        &format!(
            "{table} INSERT INTO customers (name, email, score)
               SELECT 'customer ' || i, 'c' || i || '@example.com', i * 1.5 FROM generate_series(1, {rows}) i;"
        ),
    )
    .await?;
    let _target = fresh(&server, "lockstep_runsbench_dst", table).await?;

    let secrets = std::sync::Arc::new(SecretBox::from_hex(&SecretBox::generate_hex())?);
    let user = catalog::users::sign_up(&meta, "bench@example.com", "bench password 1")
        .await
        .context("sign up")?;
    let ws = catalog::workspaces::current_for_user(&meta, user.id)
        .await?
        .context("workspace")?
        .id;
    let connection = |name: &str, database: &str| ConnectionForm {
        name: name.into(),
        kind: "postgres".into(),
        host: url.host_str().unwrap_or("127.0.0.1").into(),
        port: url.port().unwrap_or(5432).to_string(),
        database: database.into(),
        username: url.username().into(),
        password: url.password().unwrap_or_default().into(),
        extra_secret: String::new(),
        ssl_mode: "disable".into(),
        clear_password: false,
    };
    let src = connections::save(
        &meta,
        &secrets,
        user.id,
        ws,
        None,
        &connection("src", "lockstep_runsbench_src"),
    )
    .await?;
    let dst = connections::save(
        &meta,
        &secrets,
        user.id,
        ws,
        None,
        &connection("dst", "lockstep_runsbench_dst"),
    )
    .await?;
    let package = package_editor::save(
        &meta,
        user.id,
        ws,
        None,
        &PackageForm {
            name: "Bench".into(),
            source_connection: Some(src),
            target_connection: Some(dst),
            locale: "invariant".into(),
            dedicated_account: false,
        },
        false,
    )
    .await?;
    let mapping = ["name", "email", "score"]
        .iter()
        .map(|c| ((*c).to_owned(), FieldSource::Column((*c).to_owned())))
        .collect::<engine::package::Mapping>();
    package_editor::save_task(
        &meta,
        user.id,
        ws,
        package,
        None,
        &TaskForm {
            source_table: "customers".into(),
            target_table: "customers".into(),
            source_to_target: mapping.clone(),
            target_to_source: mapping,
            matching: None,
        },
    )
    .await?;

    let mut config = server::workers::WorkerConfig::new(1);
    config.poll = Duration::from_millis(500);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let workers = tokio::spawn(server::workers::run(
        meta.clone(),
        secrets.clone(),
        config.clone(),
        async move {
            let _ = stopped.await;
        },
    ));

    // One worker's throughput: a first run, then 1% changed rows.
    let first = catalog::runs::queue::run_now(&meta, user.id, ws, package).await?;
    let t = Instant::now();
    let state = wait_state(&meta, first, &["succeeded", "failed"]).await?;
    let first_secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(state == "succeeded", "first run {state}");
    let changed = (rows / 100).max(1);
    source
        .execute(format!("UPDATE customers SET score = score + 1 WHERE id <= {changed}").as_str())
        .await?;
    let next = catalog::runs::queue::run_now(&meta, user.id, ws, package).await?;
    let t = Instant::now();
    wait_state(&meta, next, &["succeeded", "failed"]).await?;
    let incremental_secs = t.elapsed().as_secs_f64();

    // Scheduler pickup: a one-time schedule due a moment from now, repeated.
    let mut delays = Vec::new();
    for _ in 0..samples {
        let due = Utc::now() + chrono::Duration::milliseconds(1500);
        let form = ScheduleForm {
            schedule: Schedule::OneTime {
                at: due.naive_utc(),
            },
            time_zone: "UTC".into(),
            enabled: true,
        };
        schedules::save(&meta, user.id, ws, package, &form, Utc::now()).await?;
        let run: Uuid = loop {
            let found: Option<Uuid> = sqlx::query_scalar(
                "SELECT id FROM runs WHERE package_id = $1 AND scheduled_for IS NOT NULL",
            )
            .bind(package)
            .fetch_optional(&meta)
            .await?;
            match found {
                Some(id) => break id,
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        wait_state(&meta, run, &["running", "succeeded", "failed"]).await?;
        let delay: f64 = sqlx::query_scalar(
            "SELECT extract(epoch FROM (started_at - scheduled_for))::float8 FROM runs WHERE id = $1",
        )
        .bind(run)
        .fetch_one(&meta)
        .await?;
        delays.push(delay);
        wait_state(&meta, run, &["succeeded", "failed"]).await?;
        sqlx::query("DELETE FROM runs WHERE id = $1")
            .bind(run)
            .execute(&meta)
            .await?;
    }
    let _ = stop.send(());
    let _ = workers.await;

    delays.sort_by(|a, b| a.total_cmp(b));
    let mean = delays.iter().sum::<f64>() / delays.len().max(1) as f64;
    println!("one worker, PostgreSQL → PostgreSQL, {rows} rows:");
    println!(
        "  first run (queue → succeeded): {first_secs:.2} s = {:.0} rows/s",
        rows as f64 / first_secs
    );
    println!("  incremental run, {changed} changed rows: {incremental_secs:.2} s");
    println!(
        "scheduler pickup (occurrence due → run started), {} samples: mean {mean:.2} s, min {:.2} s, max {:.2} s (tick every {} s, queue poll every {} ms)",
        delays.len(),
        delays.first().copied().unwrap_or_default(),
        delays.last().copied().unwrap_or_default(),
        config.scheduler.every.as_secs(),
        config.poll.as_millis()
    );

    meta.close().await;
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    for db in [
        "lockstep_runsbench_meta",
        "lockstep_runsbench_src",
        "lockstep_runsbench_dst",
    ] {
        admin
            .execute(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str())
            .await?;
    }
    Ok(())
}
