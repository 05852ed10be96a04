//! A large first run through `lockstep sync` on a fresh installation, as a user starts one:
//! a PostgreSQL table of `--rows` rows into an empty one, a metadata database created by the
//! command itself, autovacuum off for it (as on machines that run PostgreSQL without
//! autovacuum). It samples the ID map while the command runs and prints the rate of each
//! tenth of the run: the rate of the last tenth must stay close to the first (no step may
//! slow down as the map grows). Then it times five incremental runs of the command, 1,000
//! rows changed on each side, from start to exit.
//!
//! `cargo run --release -p server --bin lockstep-first-run-bench -- [--rows 1000000]`
//! Runs the `lockstep` binary built beside it. Databases `lockstep_firstrun_*` on `BENCH_PG`
//! (default postgres://postgres@127.0.0.1:5432) are created fresh and dropped at the end.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::{Connection, Executor, PgPool};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn recreate(server: &str, name: &str) -> anyhow::Result<()> {
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    Ok(())
}

const TABLE: &str = "CREATE TABLE people (id bigserial PRIMARY KEY, name text NOT NULL,
    email text, note text, born date, updated_at timestamptz NOT NULL DEFAULT now())";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows = arg("--rows", 1_000_000).max(10_000);
    let server =
        std::env::var("BENCH_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let lockstep = std::env::current_exe()?
        .parent()
        .context("the bench's folder")?
        .join("lockstep");
    anyhow::ensure!(
        lockstep.exists(),
        "{} is missing: build it first (cargo build --release -p server)",
        lockstep.display()
    );
    println!(
        "Lockstep first-run bench — {rows} rows through `lockstep sync`, fresh metadata database, autovacuum off"
    );

    for name in [
        "lockstep_firstrun_src",
        "lockstep_firstrun_dst",
        "lockstep_firstrun_meta",
    ] {
        recreate(&server, name).await?;
    }
    let src = PgPool::connect(&format!("{server}/lockstep_firstrun_src")).await?;
    let dst = PgPool::connect(&format!("{server}/lockstep_firstrun_dst")).await?;
    src.execute(TABLE).await?;
    dst.execute(TABLE).await?;
    let filled = Instant::now();
    src.execute(
        format!(
            "INSERT INTO people (name, email, note, born)
             SELECT 'Person ' || g, 'p' || g || '@example.com', repeat('x', 40), DATE '1960-01-01' + (g % 15000)
             FROM generate_series(1, {rows}) g"
        )
        .as_str(),
    )
    .await?;
    println!("source filled in {:.1} s", filled.elapsed().as_secs_f64());

    // The metadata database: migrated by a first `lockstep migrate`, then autovacuum off for
    // every table, so only Lockstep's own statistics upkeep can help the planner.
    let meta_url = format!("{server}/lockstep_firstrun_meta");
    let status = tokio::process::Command::new(&lockstep)
        .arg("migrate")
        .env("DATABASE_URL", &meta_url)
        .env("RUST_LOG", "warn")
        .status()
        .await?;
    anyhow::ensure!(status.success(), "lockstep migrate failed");
    let meta = PgPool::connect(&meta_url).await?;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(&meta)
            .await?;
    for table in tables {
        meta.execute(format!("ALTER TABLE \"{table}\" SET (autovacuum_enabled = false)").as_str())
            .await?;
    }

    let dir = std::env::temp_dir().join("lockstep-first-run-bench");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("package.json");
    let columns =
        serde_json::json!({ "name": "name", "email": "email", "note": "note", "born": "born" });
    std::fs::write(
        &file,
        serde_json::to_string(&serde_json::json!({
            "name": "First run bench",
            "source": { "kind": "postgres", "url": format!("{server}/lockstep_firstrun_src") },
            "target": { "kind": "postgres", "url": format!("{server}/lockstep_firstrun_dst") },
            "tasks": [{ "source": "people", "target": "people",
                        "source_to_target": columns, "target_to_source": columns }],
        }))?,
    )?;

    // `lockstep sync --file <package>` on the bench's metadata database.
    let sync = || {
        let mut command = tokio::process::Command::new(&lockstep);
        command
            .arg("sync")
            .arg("--file")
            .arg(&file)
            .env("DATABASE_URL", &meta_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        command
    };
    let started = Instant::now();
    let mut child = sync().spawn()?;
    // (seconds since start, pairs in the ID map)
    let mut samples: Vec<(f64, i64)> = vec![(0.0, 0)];
    let status = loop {
        tokio::select! {
            status = child.wait() => break status?,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                // Counted from the stored rows (a run of pairs is one row with its length),
                // not through the `id_map_pairs` view, which would expand every run.
                let pairs: i64 = sqlx::query_scalar(
                    "SELECT (SELECT count(*) FROM id_map)
                          + (SELECT coalesce(sum(length), 0) FROM id_map_ranges)::bigint",
                )
                .fetch_one(&meta)
                .await?;
                samples.push((started.elapsed().as_secs_f64(), pairs));
            }
        }
    };
    let total = started.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "lockstep sync exited with {status}");
    samples.push((total, rows as i64));

    println!("\n  tenth   rows/s   (seconds for it)");
    let mut rates = Vec::new();
    for tenth in 1..=10 {
        let mark = |fraction: u64| rows as i64 * fraction as i64 / 10;
        // When the map reached `pairs`, interpolated between the samples around it.
        let at = |pairs: i64| {
            let Some(after) = samples.iter().position(|(_, p)| *p >= pairs) else {
                return total;
            };
            let (t1, p1) = samples[after];
            let Some(&(t0, p0)) = after.checked_sub(1).map(|before| &samples[before]) else {
                return t1;
            };
            t0 + (t1 - t0) * (pairs - p0) as f64 / (p1 - p0).max(1) as f64
        };
        let (from, to) = (at(mark(tenth - 1)), at(mark(tenth)));
        let seconds = (to - from).max(0.001);
        let rate = (rows / 10) as f64 / seconds;
        rates.push(rate);
        println!("  {tenth:>5}  {rate:>8.0}   ({seconds:.2} s)");
    }
    let first = rates[1..3].iter().sum::<f64>() / 2.0;
    let last = rates[8..10].iter().sum::<f64>() / 2.0;
    println!(
        "\n{rows} rows in {total:.1} s = {:.0} rows/s; rate of the last fifth / second fifth: {:.2} (flat is ≈1; a plan that degrades with the map's size falls towards 0)",
        rows as f64 / total,
        last / first
    );

    // Then what a scheduled run costs: 1,000 rows changed on each side, synced by the
    // command, timed from start to exit (the whole process: start-up, connections, the run).
    let mut took = Vec::new();
    for round in 0..5 {
        src.execute(format!("UPDATE people SET note = 'source {round}' WHERE id <= 1000").as_str())
            .await?;
        dst.execute(
            format!(
                "UPDATE people SET note = 'target {round}' WHERE id > {}",
                rows - 1000
            )
            .as_str(),
        )
        .await?;
        let started = Instant::now();
        let status = sync().status().await?;
        anyhow::ensure!(status.success(), "lockstep sync exited with {status}");
        took.push(started.elapsed().as_secs_f64());
    }
    took.sort_by(f64::total_cmp);
    println!(
        "\nIncremental, 1,000 changed rows on each side of {rows}, whole `lockstep sync` process: median {:.3} s, best {:.3} s, worst {:.3} s over 5 (goal ≤ 0.3 s)",
        took[2], took[0], took[4]
    );

    drop((src, dst, meta));
    for name in [
        "lockstep_firstrun_src",
        "lockstep_firstrun_dst",
        "lockstep_firstrun_meta",
    ] {
        let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await?;
    }
    Ok(())
}
