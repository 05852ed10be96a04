//! API calls and wall time to sync records into and out of the CRM emulators, per connector:
//! - a first run copying `--records` rows from PostgreSQL into the emulator;
//! - a first run copying them from the emulator into another PostgreSQL table;
//! - an incremental run after 1% of the emulator's records were edited.
//!
//! `cargo bench -p catalog --bench cloud -- [--records 10000]`
//! Databases `lockstep_cloudbench_*` on `BENCH_PG` (default postgres://postgres@127.0.0.1:5432)
//! are created fresh and dropped at the end.

use std::time::Instant;

use catalog::runner::{RunReport, RunRequest, run_package};
use emulators::dynamics::Dynamics;
use emulators::hubspot::HubSpot;
use emulators::salesforce::Salesforce;
use engine::package::{ConnectionSpec, FieldSource, Mapping, Package, TableRef, TaskSpec};
use engine::sync::{CancelToken, SyncOptions};
use serde_json::{Map, json};
use sqlx::{Connection, Executor, PgPool};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const TABLE: &str = "CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL, note text, employees int, revenue numeric(18, 2))";

async fn fresh(server: &str, name: &str, ddl: Option<&str>) -> anyhow::Result<(String, PgPool)> {
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let url = format!("{server}/{name}");
    let pool = PgPool::connect(&url).await?;
    if let Some(ddl) = ddl {
        pool.execute(ddl).await?;
    }
    Ok((url, pool))
}

fn mapping(pairs: &[(&str, &str)]) -> Mapping {
    pairs
        .iter()
        .map(|(to, from)| ((*to).to_owned(), FieldSource::Column((*from).to_owned())))
        .collect()
}

fn package(
    name: &str,
    source: ConnectionSpec,
    target: ConnectionSpec,
    tables: (&str, &str),
    s2t: Mapping,
    t2s: Mapping,
) -> Package {
    Package {
        name: name.into(),
        source,
        target,
        locale: "invariant".into(),
        dedicated_account: false,
        tasks: vec![TaskSpec {
            source: TableRef::parse(tables.0).unwrap(),
            target: TableRef::parse(tables.1).unwrap(),
            source_to_target: s2t,
            target_to_source: t2s,
            matching: None,
        }],
        schedule: None,
    }
}

struct Bench {
    meta: PgPool,
    workspace: uuid::Uuid,
}

impl Bench {
    async fn run(
        &self,
        label: &str,
        package: &Package,
        calls: impl Fn() -> u64,
    ) -> anyhow::Result<RunReport> {
        let before = calls();
        let started = Instant::now();
        let report = run_package(
            &self.meta,
            self.workspace,
            package,
            RunRequest {
                allow_connection_change: false,
                reset: None,
                started_by: "cli",
            },
            &SyncOptions::default(),
            &CancelToken::default(),
        )
        .await?;
        let seconds = started.elapsed().as_secs_f64();
        let written: u64 = report
            .tasks
            .iter()
            .map(|t| {
                let (a, b) = (&t.source_to_target, &t.target_to_source);
                a.inserted + a.updated + a.deleted + b.inserted + b.updated + b.deleted
            })
            .sum();
        println!(
            "{label:<44} {written:>7} records  {:>6} API calls  {seconds:>7.2} s  {:>8.0} records/s  ({})",
            calls() - before,
            written as f64 / seconds,
            report.state
        );
        anyhow::ensure!(
            report.state == wire::RunState::Succeeded,
            "{label}: {:?}",
            report.error
        );
        Ok(report)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let records = arg("--records", 10_000) as usize;
    let server =
        std::env::var("BENCH_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let (_, meta) = fresh(&server, "lockstep_cloudbench_meta", None).await?;
    catalog::migrate(&meta).await?;
    let workspace = catalog::workspaces::resolve_for_command(&meta, None)
        .await?
        .id;
    let bench = Bench { meta, workspace };
    let (src_url, src) = fresh(&server, "lockstep_cloudbench_src", Some(TABLE)).await?;
    src.execute(
        format!(
            "INSERT INTO accounts (name, note, employees, revenue)
             SELECT 'Account ' || i, '+1 555 ' || i, i % 5000, (i % 100000) / 100.0 FROM generate_series(1, {records}) i"
        )
        .as_str(),
    )
    .await?;
    println!("{records} records, one task, PostgreSQL 15 and the emulators on this machine\n");

    // Salesforce.
    let org = Salesforce::new();
    let running = org.start().await?;
    let sf = ConnectionSpec::Salesforce {
        login_url: running.base_url(),
        client_id: Salesforce::CLIENT_ID.into(),
        client_secret: Salesforce::CLIENT_SECRET.into(),
        username: String::new(),
        password: String::new(),
    };
    let to_db = mapping(&[
        ("name", "Name"),
        ("note", "Phone"),
        ("employees", "NumberOfEmployees"),
        ("revenue", "AnnualRevenue"),
    ]);
    let from_db = mapping(&[
        ("Name", "name"),
        ("Phone", "note"),
        ("NumberOfEmployees", "employees"),
        ("AnnualRevenue", "revenue"),
    ]);
    let calls = || org.gate().calls();
    bench
        .run(
            "Salesforce: PostgreSQL → Salesforce, first run",
            &package(
                "bench pg→sf",
                ConnectionSpec::Postgres {
                    url: src_url.clone(),
                },
                sf.clone(),
                ("accounts", "Account"),
                from_db.clone(),
                to_db.clone(),
            ),
            calls,
        )
        .await?;
    let (dst_url, _dst) = fresh(&server, "lockstep_cloudbench_dst_sf", Some(TABLE)).await?;
    let out = package(
        "bench sf→pg",
        sf.clone(),
        ConnectionSpec::Postgres { url: dst_url },
        ("Account", "accounts"),
        to_db.clone(),
        from_db.clone(),
    );
    bench
        .run(
            "Salesforce: Salesforce → PostgreSQL, first run",
            &out,
            calls,
        )
        .await?;
    for (i, account) in org
        .records("Account")
        .iter()
        .take(records / 100)
        .enumerate()
    {
        let mut fields = Map::new();
        fields.insert("Name".into(), json!(format!("Edited {i}")));
        org.user_update(
            "Account",
            account["Id"].as_str().unwrap_or_default(),
            fields,
        );
    }
    bench
        .run("Salesforce: 1% edited, incremental run", &out, calls)
        .await?;
    drop(running);

    // HubSpot.
    let portal = HubSpot::new();
    let running = portal.start().await?;
    let hs = ConnectionSpec::Hubspot {
        base_url: running.base_url(),
        token: HubSpot::TOKEN.into(),
    };
    let to_db = mapping(&[
        ("name", "name"),
        ("note", "description"),
        ("employees", "numberofemployees"),
        ("revenue", "annualrevenue"),
    ]);
    let from_db = mapping(&[
        ("name", "name"),
        ("description", "note"),
        ("numberofemployees", "employees"),
        ("annualrevenue", "revenue"),
    ]);
    let calls = || portal.gate().calls();
    bench
        .run(
            "HubSpot: PostgreSQL → HubSpot, first run",
            &package(
                "bench pg→hs",
                ConnectionSpec::Postgres {
                    url: src_url.clone(),
                },
                hs.clone(),
                ("accounts", "companies"),
                from_db.clone(),
                to_db.clone(),
            ),
            calls,
        )
        .await?;
    let (dst_url, _dst) = fresh(&server, "lockstep_cloudbench_dst_hs", Some(TABLE)).await?;
    let out = package(
        "bench hs→pg",
        hs,
        ConnectionSpec::Postgres { url: dst_url },
        ("companies", "accounts"),
        to_db,
        from_db,
    );
    bench
        .run("HubSpot: HubSpot → PostgreSQL, first run", &out, calls)
        .await?;
    for (i, (id, _)) in portal
        .records("companies")
        .iter()
        .take(records / 100)
        .enumerate()
    {
        let mut properties = Map::new();
        properties.insert("name".into(), json!(format!("Edited {i}")));
        portal.user_update("companies", id, properties);
    }
    bench
        .run("HubSpot: 1% edited, incremental run", &out, calls)
        .await?;
    drop(running);

    // Dynamics 365.
    let org = Dynamics::new();
    let running = org.start().await?;
    let dy = ConnectionSpec::Dynamics {
        url: running.base_url(),
        tenant_id: Dynamics::TENANT.into(),
        client_id: Dynamics::CLIENT_ID.into(),
        client_secret: Dynamics::CLIENT_SECRET.into(),
        authority: Some(running.base_url()),
    };
    let to_db = mapping(&[
        ("name", "name"),
        ("note", "telephone1"),
        ("employees", "numberofemployees"),
        ("revenue", "revenue"),
    ]);
    let from_db = mapping(&[
        ("name", "name"),
        ("telephone1", "note"),
        ("numberofemployees", "employees"),
        ("revenue", "revenue"),
    ]);
    let calls = || org.gate().calls();
    bench
        .run(
            "Dynamics 365: PostgreSQL → Dynamics, first run",
            &package(
                "bench pg→dy",
                ConnectionSpec::Postgres { url: src_url },
                dy.clone(),
                ("accounts", "account"),
                from_db.clone(),
                to_db.clone(),
            ),
            calls,
        )
        .await?;
    let (dst_url, _dst) = fresh(&server, "lockstep_cloudbench_dst_dy", Some(TABLE)).await?;
    let out = package(
        "bench dy→pg",
        dy,
        ConnectionSpec::Postgres { url: dst_url },
        ("account", "accounts"),
        to_db,
        from_db,
    );
    bench
        .run(
            "Dynamics 365: Dynamics → PostgreSQL, first run",
            &out,
            calls,
        )
        .await?;
    for (i, account) in org
        .records("account")
        .iter()
        .take(records / 100)
        .enumerate()
    {
        let mut fields = Map::new();
        fields.insert("name".into(), json!(format!("Edited {i}")));
        org.user_update(
            "account",
            account["accountid"].as_str().unwrap_or_default(),
            fields,
        );
    }
    bench
        .run("Dynamics 365: 1% edited, incremental run", &out, calls)
        .await?;
    drop(running);

    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    for db in [
        "lockstep_cloudbench_src",
        "lockstep_cloudbench_dst_sf",
        "lockstep_cloudbench_dst_hs",
        "lockstep_cloudbench_dst_dy",
        "lockstep_cloudbench_meta",
    ] {
        admin
            .execute(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str())
            .await?;
    }
    Ok(())
}
