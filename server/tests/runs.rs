//! Runs as a team sees them: Run from the app, a job worker runs it, the history records it;
//! one active run per package; cancel (queued: at once; running: at a batch boundary); a
//! retryable connection failure retried; a killed worker process detected by its lease and
//! repaired by the next run.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use server::workers::WorkerConfig;
use support::packages::{connection, fresh_database, package, post, save_connection, task_form};
use support::{Browser, TestApp, failure};

/// `rows` customers in the source, none in the target.
fn tables(rows: usize) -> String {
    format!(
        "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text);
         INSERT INTO customers (name, email)
              SELECT 'customer ' || i, 'c' || i || '@example.com' FROM generate_series(1, {rows}) i;"
    )
}

struct Setup {
    app: TestApp,
    ann: Browser,
    ws: String,
    package: String,
    source_db: String,
    target_db: String,
}

/// A package syncing `customers` between two new databases, the source holding `rows`.
/// `source_port` points the source connection elsewhere (a proxy) when given.
async fn setup(rows: usize, source_port: Option<u16>) -> Setup {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let source_db = fresh_database(&tables(rows)).await;
    let target_db = fresh_database(&tables(0)).await;
    let source = connection(&ann, &ws, "CRM", &source_db).await;
    let target = connection(&ann, &ws, "Shop", &target_db).await;
    let package = package(&ann, &ws, "Customers", (&source, &target), "invariant").await;
    let mut task = task_form(
        &ws,
        &package,
        "customers",
        "customers",
        &[("name", "column", "name"), ("email", "column", "email")],
    );
    task.push(("intent".into(), "save".into()));
    let saved = post(&ann, "save_task", &task).await;
    assert!(
        saved.status().is_success(),
        "{}",
        saved.text().await.unwrap()
    );
    if let Some(port) = source_port {
        // Saved after the task: the editor checks the tables through the connection.
        let port = port.to_string();
        let overrides = [("host", "127.0.0.1"), ("port", port.as_str())];
        save_connection(&ann, &ws, Some(&source), "CRM", &source_db, &overrides).await;
    }
    Setup {
        app,
        ann,
        ws,
        package,
        source_db,
        target_db,
    }
}

impl Setup {
    async fn run(&self) -> String {
        self.ann
            .call_ok(
                "run_package",
                &[("workspace_id", &self.ws), ("package_id", &self.package)],
            )
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Asks for a run that must be refused: its status and answer.
    async fn run_refused(&self) -> (StatusCode, Value) {
        failure(
            self.ann
                .call(
                    "run_package",
                    &[("workspace_id", &self.ws), ("package_id", &self.package)],
                )
                .await,
        )
        .await
    }

    async fn run_detail(&self, run: &str) -> Value {
        self.ann.call_ok("load_run", &[("id", run)]).await
    }

    /// Waits until the run's state satisfies `done`; returns its details.
    async fn wait_for(&self, run: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..600 {
            let detail = self.run_detail(run).await;
            if done(&detail) {
                return detail;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "run {run}: {what} did not happen in 60 s: {}",
            self.run_detail(run).await
        );
    }

    async fn wait_for_state(&self, run: &str, state: &str) -> Value {
        self.wait_for(run, state, |d| d["run"]["state"] == state)
            .await
    }

    /// Starts an in-process worker; it stops when the returned sender is dropped.
    fn worker(&self, config: WorkerConfig) -> tokio::sync::oneshot::Sender<()> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server::workers::run(
            self.app.pool.clone(),
            self.app.secrets.clone(),
            config,
            async move {
                let _ = stopped.await;
            },
        ));
        stop
    }

    async fn count(&self, database: &str, sql: &str) -> i64 {
        let pool = sqlx::PgPool::connect(&format!("{}/{database}", support::admin_url()))
            .await
            .unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }

    /// Target rows, and distinct e-mails among them (a duplicate copy would differ).
    async fn target_rows(&self) -> (i64, i64) {
        (
            self.count(&self.target_db, "SELECT count(*) FROM customers")
                .await,
            self.count(
                &self.target_db,
                "SELECT count(DISTINCT email) FROM customers",
            )
            .await,
        )
    }
}

fn fast_worker() -> WorkerConfig {
    let mut config = WorkerConfig::new(1);
    config.poll = Duration::from_millis(100);
    config.set_lease(Duration::from_secs(3));
    config.run.retry.first_delay = Duration::from_millis(500);
    config
}

#[tokio::test]
async fn a_run_from_the_app_is_run_by_a_worker_and_recorded() {
    let s = setup(30, None).await;
    let run = s.run().await;

    // One active run per package: a second request is answered clearly.
    let (status, body) = s.run_refused().await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.to_string().contains("already queued or running"),
        "{body}"
    );
    assert_eq!(s.run_detail(&run).await["run"]["state"], "queued");

    let _worker = s.worker(fast_worker());
    let detail = s.wait_for_state(&run, "succeeded").await;
    assert_eq!(detail["run"]["totals"]["inserted"], 30, "{detail}");
    assert_eq!(detail["run"]["started_by"], "ann@example.com");
    // Times to the second: "2026-11-29 02:56:03 UTC".
    let started = detail["run"]["started_at"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(started, "%Y-%m-%d %H:%M:%S UTC").is_ok(),
        "{started}"
    );
    assert_eq!(detail["run"]["tasks"][0]["task"], "customers → customers");
    assert_eq!(detail["attempts"], 1);
    assert_eq!(s.target_rows().await, (30, 30));

    // The package page and the Runs page show it; filters narrow the list.
    let panel = s
        .ann
        .call_ok("load_package_runs", &[("package_id", &s.package)])
        .await;
    assert!(panel["active"].is_null(), "{panel}");
    assert_eq!(panel["recent"][0]["id"], run.as_str());
    assert_eq!(panel["history"], serde_json::json!([[30, 0]]));
    let all = s.ann.call_ok("load_runs", &[("state", "succeeded")]).await;
    assert_eq!(all["total"], 1);
    let failed = s.ann.call_ok("load_runs", &[("failed_only", "yes")]).await;
    assert_eq!(failed["total"], 0);
    let (status, body) = failure(s.ann.call("load_runs", &[("from", "yesterday")]).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "from", "{body}");
    // One page holds it all: no link to newer or older runs; a made-up page link is refused.
    assert!(all["newer"].is_null() && all["older"].is_null(), "{all}");
    assert_eq!(all["total_exact"], true);
    let (status, body) = failure(s.ann.call("load_runs", &[("page", "older.soon.x")]).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "page", "{body}");
    // The package list holds it on one page, and refuses a made-up page link.
    let packages = s.ann.call_ok("load_packages", &[]).await;
    assert!(
        packages["next"].is_null() && packages["first_page"] == true,
        "{packages}"
    );
    assert_eq!(packages["total"], 1);
    let (status, body) = failure(s.ann.call("load_packages", &[("after", "nope")]).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "after", "{body}");

    // A second run moves nothing: the first one's copies are known.
    let again = s.run().await;
    let detail = s.wait_for_state(&again, "succeeded").await;
    assert_eq!(detail["run"]["totals"]["inserted"], 0, "{detail}");
    assert_eq!(s.target_rows().await, (30, 30));

    // Another workspace cannot see or cancel it.
    let eve = s.app.browser();
    eve.sign_up("eve@example.com").await;
    let eve_ws = eve.current_workspace_id().await;
    let (status, _) = failure(eve.call("load_run", &[("id", &run)]).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = failure(
        eve.call("cancel_run", &[("workspace_id", &eve_ws), ("run_id", &run)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cancel_stops_a_queued_run_at_once_and_a_running_one_at_a_batch_boundary() {
    let s = setup(20_000, None).await;
    let queued = s.run().await;
    s.ann
        .call_ok(
            "cancel_run",
            &[("workspace_id", &s.ws), ("run_id", &queued)],
        )
        .await;
    assert_eq!(s.run_detail(&queued).await["run"]["state"], "canceled");

    // Small batches keep the run going long enough to be canceled in the middle (a first run
    // between databases writes five batches at a time: 50 rows a write here).
    let mut config = fast_worker();
    config.run.batch_size = 10;
    let _worker = s.worker(config);
    let run = s.run().await;
    s.wait_for(&run, "progress", |d| {
        d["run"]["state"] == "running" && d["run"]["totals"]["inserted"].as_u64() > Some(0)
    })
    .await;
    s.ann
        .call_ok("cancel_run", &[("workspace_id", &s.ws), ("run_id", &run)])
        .await;
    let detail = s.wait_for_state(&run, "canceled").await;
    let copied = s.target_rows().await;
    assert!(copied.0 < 20_000, "canceled before the end: {copied:?}");
    assert_eq!(copied.0, copied.1, "no duplicates");
    assert!(
        detail["run"]["totals"]["inserted"].as_u64().unwrap() > 0,
        "{detail}"
    );
    // A queued run was never claimed by the worker.
    assert_eq!(s.run_detail(&queued).await["run"]["state"], "canceled");

    // The next run finishes the job without duplicates.
    let next = s.run().await;
    s.wait_for_state(&next, "succeeded").await;
    assert_eq!(s.target_rows().await, (20_000, 20_000));
}

/// Forwards a local port to the PostgreSQL server.
async fn proxy_to_postgres(listener: tokio::net::TcpListener) {
    let upstream = url::Url::parse(&support::admin_url()).unwrap();
    let upstream = format!(
        "{}:{}",
        upstream.host_str().unwrap(),
        upstream.port().unwrap_or(5432)
    );
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            return;
        };
        let upstream = upstream.clone();
        tokio::spawn(async move {
            if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
    }
}

#[tokio::test]
async fn a_connection_failure_is_retried_with_a_backoff() {
    // A port nothing listens on yet: the first attempt is refused.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let s = setup(10, Some(port)).await;
    let mut config = fast_worker();
    config.run.retry.first_delay = Duration::from_secs(2);
    let _worker = s.worker(config);
    let run = s.run().await;
    s.wait_for(&run, "a retry", |d| {
        d["retried_after"].as_array().is_some_and(|r| !r.is_empty())
    })
    .await;
    // The database comes back during the backoff.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(proxy_to_postgres(listener));
    let detail = s.wait_for_state(&run, "succeeded").await;
    assert_eq!(detail["attempts"], 2, "{detail}");
    assert!(
        detail["retried_after"][0]
            .as_str()
            .unwrap()
            .starts_with("source:"),
        "{detail}"
    );
    assert_eq!(s.target_rows().await, (10, 10));
}

#[tokio::test]
async fn a_connection_that_never_comes_back_fails_the_run_after_its_attempts() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let s = setup(10, Some(port)).await;
    let mut config = fast_worker();
    config.run.retry.attempts = 2;
    config.run.retry.first_delay = Duration::from_millis(300);
    let _worker = s.worker(config);
    let run = s.run().await;
    let failed = s.wait_for_state(&run, "failed").await;
    assert_eq!(failed["attempts"], 2, "{failed}");
    assert_eq!(
        failed["retried_after"].as_array().map(Vec::len),
        Some(1),
        "{failed}"
    );
    assert!(
        failed["run"]["error"]
            .as_str()
            .unwrap()
            .starts_with("source:"),
        "{failed}"
    );
    // The package is free again: nothing stays queued or running.
    let next = s.run().await;
    assert_ne!(next, run);
}

#[tokio::test]
async fn a_killed_worker_process_fails_its_run_and_the_next_run_repairs_everything() {
    let s = setup(60_000, None).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .arg("worker")
        .env("DATABASE_URL", &s.app.database_url)
        .env("LOCKSTEP_SECRET_KEY", &s.app.secret_hex)
        .env("LOCKSTEP_RUN_LEASE_SECONDS", "3")
        .env("LOCKSTEP_WORKERS", "1")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("start a worker process");
    let run = s.run().await;
    let running = s
        .wait_for(&run, "progress in the worker process", |d| {
            d["run"]["totals"]["inserted"].as_u64() > Some(0)
        })
        .await;
    assert!(
        running["worker"].as_str().unwrap().starts_with("worker@"),
        "{running}"
    );
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    // Another process of this machine sees the dead process at once (one on another
    // machine would wait for the lease: see the next test).
    let _worker = s.worker(fast_worker());
    let failed = s.wait_for_state(&run, "failed").await;
    assert!(
        failed["run"]["error"]
            .as_str()
            .unwrap()
            .contains("has stopped (killed or crashed)"),
        "{failed}"
    );
    let (copied, distinct) = s.target_rows().await;
    assert!(copied < 60_000, "killed midway: {copied}");
    assert_eq!(copied, distinct);

    let next = s.run().await;
    s.wait_for_state(&next, "succeeded").await;
    assert_eq!(
        s.target_rows().await,
        (60_000, 60_000),
        "nothing duplicated or lost"
    );
    // Source rows were not copied back either.
    assert_eq!(
        s.count(&s.source_db, "SELECT count(*) FROM customers")
            .await,
        60_000
    );
}

#[tokio::test]
async fn a_run_whose_worker_machine_is_lost_is_failed_after_its_lease() {
    let s = setup(10, None).await;
    let run = s.run().await;
    let run_id: uuid::Uuid = run.parse().unwrap();
    // A worker on another machine claims it and beats once, then its machine is lost.
    let worker = "worker@lost-machine:4242";
    let claim = catalog::runs::queue::claim(&s.app.pool, run_id, worker)
        .await
        .unwrap();
    assert!(claim.is_some());
    let mut conn = s.app.pool.acquire().await.unwrap();
    let lease = Duration::from_secs(2);
    let early = catalog::runs::queue::reap(&mut conn, lease, None)
        .await
        .unwrap();
    assert!(early.is_empty(), "within its lease the run stays");
    // The package cannot run twice meanwhile.
    let (status, _) = s.run_refused().await;
    assert_eq!(status, StatusCode::CONFLICT);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let reaped = catalog::runs::queue::reap(&mut conn, lease, None)
        .await
        .unwrap();
    assert_eq!(reaped, vec![run_id]);
    let detail = s.run_detail(&run).await;
    assert_eq!(detail["run"]["state"], "failed");
    assert!(
        detail["run"]["error"]
            .as_str()
            .unwrap()
            .contains("worker@lost-machine:4242) stopped responding"),
        "{detail}"
    );
    // Its late heartbeat learns it lost the run; the package runs again.
    let beat = catalog::runs::queue::heartbeat(&s.app.pool, run_id, worker, &serde_json::json!([]))
        .await
        .unwrap();
    assert_eq!(beat, catalog::runs::queue::Beat::Lost);
    let _worker = s.worker(fast_worker());
    let next = s.run().await;
    s.wait_for_state(&next, "succeeded").await;
    assert_eq!(s.target_rows().await, (10, 10));
}

#[tokio::test]
async fn two_workers_share_the_queue_and_run_each_run_once() {
    let s = setup(5, None).await;
    // More packages: copies of the first (each has its own ID map and first run).
    let mut packages = vec![s.package.clone()];
    for _ in 0..5 {
        let copy = s
            .ann
            .call_ok(
                "clone_package",
                &[("workspace_id", &s.ws), ("id", &s.package)],
            )
            .await;
        packages.push(copy.as_str().unwrap().to_owned());
    }
    let mut a = fast_worker();
    a.run.name = catalog::runs::queue::this_process("worker-a");
    let mut b = fast_worker();
    b.run.name = catalog::runs::queue::this_process("worker-b");
    let _a = s.worker(a);
    let _b = s.worker(b);
    let mut runs = Vec::new();
    for package in &packages {
        let run = s
            .ann
            .call_ok(
                "run_package",
                &[("workspace_id", &s.ws), ("package_id", package)],
            )
            .await;
        runs.push(run.as_str().unwrap().to_owned());
    }
    for run in &runs {
        let detail = s.wait_for_state(run, "succeeded").await;
        assert_eq!(detail["attempts"], 1, "{detail}");
        assert!(
            detail["worker"].as_str().unwrap().starts_with("worker-"),
            "{detail}"
        );
    }
    // Each job was taken once and acknowledged: none is left to deliver again.
    let open_jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'lockstep::run' AND status IN ('Pending', 'Failed')",
    )
    .fetch_one(&s.app.pool)
    .await
    .unwrap();
    assert_eq!(open_jobs, 0);
}
