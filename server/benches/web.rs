//! The pages under load: a workspace with `--packages` packages (200), `--members` members (20)
//! and `--runs` runs (100,000), served by the real application over HTTP, read by `--clients`
//! (100) signed-in clients at once for `--seconds` (20), each asking for the next page as soon
//! as the last one arrived (`--think-ms` adds a pause between a client's requests, 0.5–1.5×
//! that, the clients out of step). Pages
//! asked for, in turn: the packages list, a package page, a Runs log page (the newest, a page
//! deep in the history, a package's log, the oldest) and a run's details. Prints p50 / p99 /
//! max per page, the bytes sent per page (compressed, as a browser asks) and requests per
//! second. Asserts nothing.
//!
//!     cargo bench -p server --bench web -- [--clients 100] [--seconds 20] [--runs 100000]
//!
//! `WEB_BENCH_DUMP=<folder>` writes one page of each kind there, to look at what is sent.
//!
//! Needs PostgreSQL (BENCH_PG, default postgres://postgres@127.0.0.1:5432), where it creates
//! the database `lockstep_web_bench` afresh. The server runs in this process on its own
//! runtime; the clients run on another (both on the same machine, as a load test on one box
//! does).

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::package::{ConnectionSpec, FieldSource, Mapping, Package, TableRef, TaskSpec};
use secrecy::SecretString;
use sqlx::{Connection, Executor, PgPool};
use uuid::Uuid;

/// As the `lockstep` binary has it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PASSWORD: &str = "correct horse battery";

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mapping(columns: &[&str]) -> Mapping {
    columns
        .iter()
        .map(|c| ((*c).to_owned(), FieldSource::Column((*c).to_owned())))
        .collect()
}

/// The workspace: members, packages with two tasks each, and runs spread over the packages
/// and over a year, a few of them failed with failed records.
struct Seeded {
    emails: Vec<String>,
    packages: Vec<Uuid>,
    runs: Vec<Uuid>,
    /// `page` parameters of Runs log pages spread over the history.
    deep_pages: Vec<String>,
}

async fn seed(pool: &PgPool, members: u64, packages: u64, runs: u64) -> Seeded {
    let owner = catalog::users::sign_up(pool, "owner@example.com", PASSWORD)
        .await
        .expect("sign up the owner");
    let workspace = owner.default_workspace_id.expect("a first workspace");
    let mut emails = vec![owner.email.clone()];
    for i in 1..members {
        let email = format!("member{i}@example.com");
        let role = match i % 3 {
            0 => catalog::Role::Viewer,
            1 => catalog::Role::Developer,
            _ => catalog::Role::Admin,
        };
        let (_, token) = catalog::invitations::create(pool, owner.id, workspace, &email, role)
            .await
            .expect("invite");
        let user = catalog::users::sign_up(pool, &email, PASSWORD)
            .await
            .expect("sign up a member");
        catalog::invitations::accept(pool, &user, &token)
            .await
            .expect("accept");
        catalog::workspaces::switch(pool, user.id, workspace)
            .await
            .expect("switch");
        emails.push(email);
    }
    let mut package_ids = Vec::new();
    for i in 0..packages {
        let task = |table: &str| TaskSpec {
            source: TableRef::parse(table).unwrap(),
            target: TableRef::parse(table).unwrap(),
            source_to_target: mapping(&["name", "email", "phone"]),
            target_to_source: mapping(&["name", "email", "phone"]),
            matching: None,
        };
        let file = Package {
            name: format!("Package {i:03}"),
            source: ConnectionSpec::Postgres {
                url: format!("postgres://sync@db{}.example.com/crm", i % 7),
            },
            target: ConnectionSpec::Postgres {
                url: format!("postgres://sync@warehouse{}.example.com/dw", i % 5),
            },
            locale: "invariant".into(),
            dedicated_account: false,
            tasks: vec![task("customers"), task("contacts")],
            schedule: None,
        };
        let saved = catalog::packages::save_from_file(pool, workspace, &file, true)
            .await
            .expect("save a package");
        package_ids.push(saved.id);
    }
    let summary = serde_json::json!([
        {"task": "customers → customers",
         "source_to_target": {"inserted": 12, "updated": 340, "deleted": 2, "failed": 0},
         "target_to_source": {"inserted": 0, "updated": 5, "deleted": 0, "failed": 0}},
        {"task": "contacts → contacts",
         "source_to_target": {"inserted": 3, "updated": 41, "deleted": 0, "failed": 1},
         "target_to_source": {"inserted": 1, "updated": 0, "deleted": 0, "failed": 0}}
    ]);
    sqlx::query(
        "INSERT INTO runs (id, workspace_id, package_id, state, started_by, summary, error,
                           queued_at, started_at, finished_at)
         SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + g % cardinality($2)],
                CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'succeeded' END,
                CASE WHEN g % 4 = 0 THEN 'user' ELSE 'schedule' END, $3,
                CASE WHEN g % 50 = 0 THEN 'target: connection refused' END,
                t, t + interval '1 second', t + interval '9 seconds'
           FROM generate_series(1, $4) g,
                LATERAL (SELECT now() - make_interval(secs => ($4 - g) * 300)) q(t)",
    )
    .bind(workspace)
    .bind(&package_ids)
    .bind(&summary)
    .bind(runs as i64)
    .execute(pool)
    .await
    .expect("insert runs");
    sqlx::query(
        "INSERT INTO run_errors (run_id, task, direction, side, record_key, operation, message)
         SELECT r.id, 'contacts → contacts', 'source_to_target', 'target', g::text, 'update',
                'email: value too long for type character varying(80)'
           FROM runs r, generate_series(1, 20) g WHERE r.state = 'failed'",
    )
    .execute(pool)
    .await
    .expect("insert failed records");
    // A year of runs has been vacuumed by autovacuum many times over; rows inserted a moment
    // ago have not, and would make every index-only scan visit the table.
    pool.execute("VACUUM ANALYZE").await.expect("vacuum");
    let run_ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM runs ORDER BY random() LIMIT 1000")
        .fetch_all(pool)
        .await
        .unwrap();
    let positions: Vec<(chrono::DateTime<chrono::Utc>, Uuid)> =
        sqlx::query_as("SELECT queued_at, id FROM runs ORDER BY random() LIMIT 200")
            .fetch_all(pool)
            .await
            .unwrap();
    let deep_pages = positions
        .into_iter()
        .map(|(queued_at, id)| {
            catalog::runs::list::PageStart::Older(catalog::runs::list::RunPosition {
                queued_at,
                id,
            })
            .to_param()
            .expect("an older page has a parameter")
        })
        .collect();
    Seeded {
        emails,
        packages: package_ids,
        runs: run_ids,
        deep_pages,
    }
}

/// What one client asks for, in turn.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum PageKind {
    Packages,
    Package,
    RunsNewest,
    RunsDeep,
    RunsOfPackage,
    RunsOldest,
    Run,
}

impl PageKind {
    const ALL: [PageKind; 7] = [
        PageKind::Packages,
        PageKind::Package,
        PageKind::RunsNewest,
        PageKind::RunsDeep,
        PageKind::RunsOfPackage,
        PageKind::RunsOldest,
        PageKind::Run,
    ];

    fn label(self) -> &'static str {
        match self {
            PageKind::Packages => "packages list",
            PageKind::Package => "package page",
            PageKind::RunsNewest => "Runs log, newest",
            PageKind::RunsDeep => "Runs log, deep page",
            PageKind::RunsOfPackage => "a package's log",
            PageKind::RunsOldest => "Runs log, oldest",
            PageKind::Run => "run details",
        }
    }

    fn path(self, seeded: &Seeded, n: usize) -> String {
        let package = seeded.packages[n % seeded.packages.len()];
        match self {
            PageKind::Packages => "/packages".into(),
            PageKind::Package => format!("/packages/{package}"),
            PageKind::RunsNewest => "/runs".into(),
            PageKind::RunsDeep => format!(
                "/runs?page={}",
                seeded.deep_pages[n % seeded.deep_pages.len()]
            ),
            PageKind::RunsOfPackage => format!("/runs?package={package}"),
            PageKind::RunsOldest => "/runs?page=oldest".into(),
            PageKind::Run => format!("/runs/{}", seeded.runs[n % seeded.runs.len()]),
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:>7.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let clients = arg("--clients", 100) as usize;
    let seconds = arg("--seconds", 20);
    let think = Duration::from_millis(arg("--think-ms", 0));
    let members = arg("--members", 20).max(1);
    let packages = arg("--packages", 200).max(1);
    let runs = arg("--runs", 100_000).max(1);
    let server =
        std::env::var("BENCH_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());

    // The server's runtime: as `lockstep serve` has it (one worker thread per core).
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("server")
        .build()
        .unwrap();
    let (url, seeded) = server_runtime.block_on(async {
        let name = "lockstep_web_bench";
        let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
            .await
            .expect("reach PostgreSQL");
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .unwrap();
        let database_url = SecretString::from(format!("{server}/{name}"));
        let pool = server::database::prepare(&database_url)
            .await
            .expect("prepare the database");
        let seeding = Instant::now();
        let seeded = seed(&pool, members, packages, runs).await;
        println!(
            "Lockstep web bench — {members} members, {packages} packages, {runs} runs (seeded in {:.1} s)",
            seeding.elapsed().as_secs_f64()
        );
        let settings = server::config::Settings {
            database_url,
            addr: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            site_root: "target/site".into(),
            secure_cookies: None,
            open_signup: false,
            trusted_proxies: Default::default(),
            log_format: "pretty".into(),
            secret_key: server::config::SecretKey::Hex(SecretString::from(
                catalog::secrets::SecretBox::generate_hex(),
            )),
            workers: server::workers::WorkerConfig::new(1),
            api_requests_per_minute: 0,
        };
        let secrets = Arc::new(settings.secret_key.load().unwrap());
        let app = server::startup::Application::build(settings, pool, secrets)
            .await
            .expect("build the app");
        let url = app.url();
        tokio::spawn(app.run_until_stopped());
        (url, seeded)
    });

    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let seeded = Arc::new(seeded);
    client_runtime.block_on(async move {
        // Sign everyone in first (password hashing is not what this measures).
        let mut browsers = Vec::new();
        for i in 0..clients {
            let browser = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap();
            let email = &seeded.emails[i % seeded.emails.len()];
            let answer = browser
                .post(format!("{url}/api/sign_in"))
                .header("Accept", "application/json")
                .form(&[("email", email.as_str()), ("password", PASSWORD)])
                .send()
                .await
                .expect("sign in");
            assert!(answer.status().is_success(), "sign-in: {}", answer.status());
            browsers.push(browser);
        }
        // Warm up: every kind of page once per client.
        let base = url.clone();
        let ask = move |browser: reqwest::Client, path: String| {
            let url = base.clone();
            async move {
                let started = Instant::now();
                // As Chromium asks: the answer comes compressed, and its size is what
                // travels.
                let response = browser
                    .get(format!("{url}{path}"))
                    .header("Accept-Encoding", "gzip, deflate, br, zstd")
                    .send()
                    .await;
                let size = match response {
                    Ok(r) if r.status().is_success() => r.bytes().await.map(|b| b.len()).ok(),
                    _ => None,
                };
                (started.elapsed(), size)
            }
        };
        for (i, browser) in browsers.iter().enumerate() {
            for kind in PageKind::ALL {
                let (_, size) = ask(browser.clone(), kind.path(&seeded, i)).await;
                assert!(size.is_some(), "warm-up: {} failed", kind.label());
            }
            if i == 0
                && let Ok(folder) = std::env::var("WEB_BENCH_DUMP")
            {
                // One page of each kind, to look at what is sent.
                for kind in PageKind::ALL {
                    let page = browser
                        .get(format!("{url}{}", kind.path(&seeded, 0)))
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap();
                    let file = format!("{folder}/{kind:?}.html");
                    std::fs::write(&file, page).expect("write the page");
                }
            }
        }
        println!(
            "{clients} signed-in clients, {seconds} s, {} ms between a client's requests",
            think.as_millis()
        );
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (i, browser) in browsers.into_iter().enumerate() {
            let seeded = seeded.clone();
            let ask = ask.clone();
            tasks.push(tokio::spawn(async move {
                let mut seen: Vec<(PageKind, Duration, Option<usize>)> = Vec::new();
                let mut n = i;
                // People do not click in step: each client starts at its own moment and
                // pauses between half and one and a half times the think time.
                let mut random = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut jittered = move || {
                    random ^= random << 13;
                    random ^= random >> 7;
                    random ^= random << 17;
                    think.mul_f64(0.5 + (random % 1000) as f64 / 1000.0)
                };
                if !think.is_zero() {
                    tokio::time::sleep(think.mul_f64(i as f64 / clients as f64)).await;
                }
                while Instant::now() < deadline {
                    let kind = PageKind::ALL[n % PageKind::ALL.len()];
                    let (took, size) = ask(browser.clone(), kind.path(&seeded, n * 7 + i)).await;
                    seen.push((kind, took, size));
                    n += 1;
                    if !think.is_zero() {
                        tokio::time::sleep(jittered()).await;
                    }
                }
                seen
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        let elapsed = started.elapsed();
        let failed = all.iter().filter(|(_, _, size)| size.is_none()).count();
        println!(
            "\n  {:<22} {:>9} {:>10} {:>10} {:>10} {:>9}",
            "page", "requests", "p50", "p99", "max", "sent"
        );
        let mut every: Vec<Duration> = all.iter().map(|(_, d, _)| *d).collect();
        every.sort();
        for kind in PageKind::ALL {
            let of_kind: Vec<_> = all.iter().filter(|(k, _, _)| *k == kind).collect();
            let mut times: Vec<Duration> = of_kind.iter().map(|(_, d, _)| *d).collect();
            times.sort();
            let bytes: usize = of_kind.iter().filter_map(|(_, _, size)| *size).sum();
            println!(
                "  {:<22} {:>9} {} {} {} {:>6} KB",
                kind.label(),
                times.len(),
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.99)),
                ms(times.last().copied().unwrap_or_default()),
                bytes / of_kind.len().max(1) / 1000
            );
        }
        println!(
            "  {:<22} {:>9} {} {} {}   (goal: p99 ≤ 50 ms)",
            "all pages",
            every.len(),
            ms(percentile(&every, 0.5)),
            ms(percentile(&every, 0.99)),
            ms(every.last().copied().unwrap_or_default())
        );
        println!(
            "  {:.0} requests/s; {failed} failed",
            every.len() as f64 / elapsed.as_secs_f64()
        );
    });
    drop(server_runtime);
}
