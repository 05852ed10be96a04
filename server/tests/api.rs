//! The REST API under `/api/v1`, driven with API tokens the way a script would: packages as
//! files, runs started, watched and canceled, failed records, connections and schedules;
//! and every endpoint refusing other workspaces, dead tokens and low roles exactly as the
//! pages do.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::workers::WorkerConfig;
use support::api::{Answer, Script, api, token};
use support::packages::{connection, fresh_database, package, post, task_form};
use support::{Browser, TestApp};

const TABLES: &str =
    "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text);
     INSERT INTO customers (name, email) SELECT 'customer ' || i, 'c' || i || '@example.com'
       FROM generate_series(1, 30) i;";
const EMPTY: &str =
    "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text);";

struct Setup {
    app: TestApp,
    ann: Browser,
    ws: String,
    package: String,
    source: String,
    target_db: String,
}

/// Ann's workspace: a package syncing `customers` (30 rows) into an empty table.
async fn setup(adjust: impl FnOnce(&mut server::config::Settings)) -> Setup {
    let app = TestApp::spawn_with(adjust).await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let source_db = fresh_database(TABLES).await;
    let target_db = fresh_database(EMPTY).await;
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
    assert!(post(&ann, "save_task", &task).await.status().is_success());
    Setup {
        app,
        ann,
        ws,
        package,
        source,
        target_db,
    }
}

fn is_problem(answer: &Answer) -> bool {
    answer.headers["content-type"] == "application/problem+json"
        && answer.json()["status"] == answer.status.as_u16()
}

#[tokio::test]
async fn a_script_runs_a_package_and_reads_its_history_with_a_token() {
    let s = setup(|_| {}).await;
    let secret = token(&s.ann, &s.ws, "deploys", "developer").await;
    let dev = Script::new(&s.app, &secret);

    // The package list and the package as a file.
    let listed = dev.get("/packages").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.json()["packages"][0]["name"], "Customers");
    assert_eq!(listed.json()["total"], 1);
    let file = dev.get(&format!("/packages/{}", s.package)).await;
    assert_eq!(file.status, StatusCode::OK);
    let mut file = file.json();
    assert_eq!(file["tasks"][0]["source"], "customers");

    // Replaced from an edited file: renamed, with a schedule.
    file["name"] = json!("Customers (nightly)");
    file["schedule"] = json!({"when": {"kind": "recurring", "start": "2026-01-01T00:00:00", "repeat": {"every": "day", "interval": 1}, "time": {"kind": "once", "at": "02:00:00"}}, "time_zone": "Europe/Berlin"});
    let replaced = dev
        .put(&format!("/packages/{}", s.package), file.to_string())
        .await;
    assert_eq!(replaced.status, StatusCode::NO_CONTENT, "{}", replaced.text);
    let again = dev.get(&format!("/packages/{}", s.package)).await.json();
    assert_eq!(again["name"], "Customers (nightly)");
    let schedule = dev.get(&format!("/packages/{}/schedule", s.package)).await;
    assert_eq!(schedule.status, StatusCode::OK, "{}", schedule.text);
    assert_eq!(schedule.json()["time_zone"], "Europe/Berlin");
    assert!(schedule.json()["next_run_at"].is_string());
    let removed = dev
        .delete(&format!("/packages/{}/schedule", s.package))
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        dev.get(&format!("/packages/{}/schedule", s.package))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Run now: 202 with the run; a second while it is queued: 409. Nothing runs it yet (no
    // worker), so the 409 is certain.
    let started = dev
        .post(&format!("/packages/{}/runs", s.package), None)
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let run = started.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        started.headers["location"],
        format!("/api/v1/runs/{run}").as_str()
    );
    let twice = dev
        .post(&format!("/packages/{}/runs", s.package), None)
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(is_problem(&twice), "{}", twice.text);

    // Canceled while queued, then canceling again is a conflict.
    let canceled = dev.post(&format!("/runs/{run}/cancel"), None).await;
    assert_eq!(canceled.status, StatusCode::ACCEPTED, "{}", canceled.text);
    let detail = dev.get(&format!("/runs/{run}")).await.json();
    assert_eq!(detail["state"], "canceled");
    assert_eq!(detail["started_by"], "api");
    assert_eq!(detail["started_by_email"], "ann@example.com");
    assert_eq!(
        dev.post(&format!("/runs/{run}/cancel"), None).await.status,
        StatusCode::CONFLICT
    );

    // A real run, watched to its end.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::workers::run(
        s.app.pool.clone(),
        s.app.secrets.clone(),
        WorkerConfig::new(1),
        async move {
            let _ = stopped.await;
        },
    ));
    let run = dev
        .post(&format!("/packages/{}/runs", s.package), None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut detail = Value::Null;
    for _ in 0..600 {
        detail = dev.get(&format!("/runs/{run}")).await.json();
        if detail["finished_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(stop);
    assert_eq!(detail["state"], "succeeded", "{detail}");
    assert_eq!(detail["totals"]["inserted"], 30, "{detail}");
    assert_eq!(detail["error_count"], 0);
    let copied: i64 = {
        let pool = sqlx::PgPool::connect(&format!("{}/{}", support::admin_url(), s.target_db))
            .await
            .unwrap();
        sqlx::query_scalar("SELECT count(*) FROM customers")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(copied, 30);

    // The runs list, filtered and paged.
    let page = dev
        .get(&format!("/runs?package={}&state=succeeded", s.package))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let runs = page.json()["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["id"], run.as_str());
    let first = dev.get("/runs?per_page=1").await.json();
    assert_eq!(first["runs"][0]["id"], run.as_str(), "newest first");
    let older = first["older"].as_str().expect("an older page");
    let second = dev
        .get(&format!("/runs?per_page=1&page={older}"))
        .await
        .json();
    assert_eq!(second["runs"][0]["state"], "canceled");
    assert!(second["older"].is_null());
    for (query, field) in [
        ("/runs?package=x", "package"),
        ("/runs?per_page=1&since=yesterday", "since"),
        ("/packages?after=3", "after"),
    ] {
        let bad = dev.get(query).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(bad.json()["field"], field, "{query}: {}", bad.text);
    }
    let bad = dev.get("/runs?state=done").await;
    assert_eq!(
        (bad.status, bad.json()["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("state"))
    );

    // Failed records, as JSON and CSV (none here).
    let errors = dev.get(&format!("/runs/{run}/errors")).await;
    assert_eq!(errors.json(), json!([]));
    let csv = dev.get(&format!("/runs/{run}/errors.csv")).await;
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.text
            .starts_with("task,direction,side,record_key,operation,message")
    );

    // Connections without secrets, and their test.
    let connections = dev.get("/connections").await;
    assert_eq!(connections.json().as_array().unwrap().len(), 2);
    assert!(
        !connections.text.contains("password\":\""),
        "{}",
        connections.text
    );
    let tested = dev
        .post(&format!("/connections/{}/test", s.source), None)
        .await;
    assert_eq!(tested.json()["ok"], true, "{}", tested.text);

    // The run shows in the app as started through the API by Ann's token.
    let log = s.ann.call_ok("load_runs", &[]).await;
    let by: Vec<&str> = log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["started_by"].as_str())
        .collect();
    assert!(
        by.iter().all(|b| *b == "ann@example.com (API token)"),
        "{by:?}"
    );
    // The token's last use is on its list.
    let tokens = s.ann.call_ok("load_api_tokens", &[]).await;
    assert!(tokens["tokens"][0]["last_used"].is_string(), "{tokens}");
    assert!(
        !tokens.to_string().contains(&secret),
        "the list never shows the secret"
    );

    // Deleted, with its tracking removed from both databases.
    let deleted = dev.delete(&format!("/packages/{}", s.package)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_eq!(
        dev.get(&format!("/packages/{}", s.package)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_package_file_creates_a_package_and_a_bad_one_is_refused_by_its_place() {
    let s = setup(|_| {}).await;
    let dev = Script::new(&s.app, &token(&s.ann, &s.ws, "deploys", "developer").await);
    let file = dev.get(&format!("/packages/{}", s.package)).await.json();
    let target = s.ann.call_ok("load_connections", &[]).await["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Shop")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = format!(
        "/packages?source_connection={}&target_connection={target}&name=Copy",
        s.source
    );

    // Not JSON, a task that names a missing column, no connections: 422 each, naming where.
    let garbage = dev.post(&query, Some("{\"name\": ".into())).await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_problem(&garbage));
    assert!(
        garbage.json()["field"].as_str().unwrap().contains("line 1"),
        "{}",
        garbage.text
    );
    let mut wrong = file.clone();
    wrong["tasks"][0]["source_to_target"]["nickname"] = json!("nickname");
    let refused = dev.post(&query, Some(wrong.to_string())).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("tasks[0]"),
        "{}",
        refused.text
    );
    let unplaced = dev.post("/packages", Some(file.to_string())).await;
    assert_eq!(
        unplaced.json()["field"],
        "source_connection",
        "{}",
        unplaced.text
    );
    let listed = dev.get("/packages").await.json();
    assert_eq!(listed["total"], 1, "nothing was created by a refused file");

    let created = dev.post(&query, Some(file.to_string())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let copy = dev.get(&format!("/packages/{id}")).await.json();
    assert_eq!(copy["name"], "Copy");
    assert_eq!(copy["tasks"], file["tasks"]);
    // A name taken is a conflict.
    let taken = dev.post(&query, Some(file.to_string())).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
}

/// Every endpoint, as (method, path, body, least role).
fn endpoints(
    package: &str,
    run: &str,
    connection: &str,
    file: &str,
) -> Vec<(Method, String, Option<String>, &'static str)> {
    let schedule = json!({"when": {"kind": "recurring", "start": "2026-01-01T00:00:00", "repeat": {"every": "day", "interval": 1}, "time": {"kind": "once", "at": "02:00:00"}}, "time_zone": "UTC"}).to_string();
    vec![
        (Method::GET, "/packages".into(), None, "viewer"),
        (Method::GET, format!("/packages/{package}"), None, "viewer"),
        (
            Method::GET,
            format!("/packages/{package}/schedule"),
            None,
            "viewer",
        ),
        (Method::GET, "/runs".into(), None, "viewer"),
        (Method::GET, format!("/runs/{run}"), None, "viewer"),
        (Method::GET, format!("/runs/{run}/errors"), None, "viewer"),
        (
            Method::GET,
            format!("/runs/{run}/errors.csv"),
            None,
            "viewer",
        ),
        (Method::GET, "/connections".into(), None, "viewer"),
        (
            Method::GET,
            format!("/connections/{connection}"),
            None,
            "viewer",
        ),
        (
            Method::POST,
            format!("/packages?source_connection={connection}&target_connection={connection}"),
            Some(file.to_owned()),
            "developer",
        ),
        (
            Method::PUT,
            format!("/packages/{package}"),
            Some(file.to_owned()),
            "developer",
        ),
        (
            Method::PUT,
            format!("/packages/{package}/schedule"),
            Some(schedule),
            "developer",
        ),
        (
            Method::DELETE,
            format!("/packages/{package}/schedule"),
            None,
            "developer",
        ),
        (
            Method::POST,
            format!("/packages/{package}/runs"),
            None,
            "developer",
        ),
        (
            Method::POST,
            format!("/runs/{run}/cancel"),
            None,
            "developer",
        ),
        (
            Method::POST,
            format!("/connections/{connection}/test"),
            None,
            "developer",
        ),
        (
            Method::DELETE,
            format!("/packages/{package}"),
            None,
            "developer",
        ),
    ]
}

#[tokio::test]
async fn every_endpoint_refuses_other_workspaces_dead_tokens_and_low_roles() {
    let s = setup(|_| {}).await;
    let app = &s.app;
    // A finished run to read and (not) cancel.
    let run = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO runs (id, workspace_id, package_id, state, started_by, finished_at)
         VALUES ($1::uuid, $2::uuid, $3::uuid, 'succeeded', 'schedule', now())",
    )
    .bind(&run)
    .bind(&s.ws)
    .bind(&s.package)
    .execute(&app.pool)
    .await
    .unwrap();
    let admin = token(&s.ann, &s.ws, "admin", "admin").await;
    let file = api(
        app,
        Some(&admin),
        Method::GET,
        &format!("/packages/{}", s.package),
        None,
    )
    .await
    .text;
    let viewer = token(&s.ann, &s.ws, "reader", "viewer").await;
    let revoked = token(&s.ann, &s.ws, "old", "admin").await;
    let expired = token(&s.ann, &s.ws, "short", "admin").await;
    let tokens = s.ann.call_ok("load_api_tokens", &[]).await;
    let id_of = |name: &str| {
        tokens["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    s.ann
        .call_ok(
            "revoke_api_token",
            &[("workspace_id", &s.ws), ("id", &id_of("old"))],
        )
        .await;
    sqlx::query(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1::uuid",
    )
    .bind(id_of("short"))
    .execute(&app.pool)
    .await
    .unwrap();
    // Bob made a Developer token, then was made a Viewer.
    let bob = support::join(app, &s.ann, &s.ws, "bob@example.com", "developer").await;
    let demoted = token(&bob, &s.ws, "bob's", "developer").await;
    let members = s.ann.call_ok("load_members", &[]).await;
    let bob_id = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "bob@example.com")
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.ann
        .call_ok(
            "change_member_role",
            &[
                ("workspace_id", &s.ws),
                ("user_id", &bob_id),
                ("role", "viewer"),
            ],
        )
        .await;
    // Eve is an Admin of her own workspace.
    let eve = app.browser();
    eve.sign_up("eve@example.com").await;
    let eve_ws = eve.current_workspace_id().await;
    let stranger = token(&eve, &eve_ws, "eve's", "admin").await;

    // A schedule to read.
    let put = api(
        app,
        Some(&admin),
        Method::PUT,
        &format!("/packages/{}/schedule", s.package),
        Some(json!({"when": {"kind": "recurring", "start": "2026-01-01T00:00:00", "repeat": {"every": "day", "interval": 1}, "time": {"kind": "once", "at": "02:00:00"}}, "time_zone": "UTC"}).to_string()),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);

    for (method, path, body, least) in endpoints(&s.package, &run, &s.source, &file) {
        let what = format!("{method} {path}");
        for dead in [
            None,
            Some("lst_nope"),
            Some(revoked.as_str()),
            Some(expired.as_str()),
        ] {
            let answer = api(app, dead, method.clone(), &path, body.clone()).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{what} with {dead:?}: {}",
                answer.text
            );
            assert!(is_problem(&answer), "{what}");
            assert!(answer.headers.contains_key("www-authenticate"), "{what}");
        }
        // Another workspace's token: what it names does not exist for it.
        let foreign = api(app, Some(&stranger), method.clone(), &path, body.clone()).await;
        if path.contains(&s.package) || path.contains(&run) || path.contains(&s.source) {
            assert_eq!(
                foreign.status,
                StatusCode::NOT_FOUND,
                "{what} by another workspace: {}",
                foreign.text
            );
        } else {
            assert_eq!(foreign.status, StatusCode::OK, "{what}");
            assert!(
                !foreign.text.contains(&s.package) && !foreign.text.contains(&s.source),
                "{what}: {}",
                foreign.text
            );
        }
        // Too low a role: 403, as the pages answer a Viewer.
        if least == "developer" {
            for low in [&viewer, &demoted] {
                let answer = api(app, Some(low), method.clone(), &path, body.clone()).await;
                assert_eq!(
                    answer.status,
                    StatusCode::FORBIDDEN,
                    "{what}: {}",
                    answer.text
                );
                assert!(is_problem(&answer), "{what}");
            }
        } else {
            for reader in [&viewer, &demoted] {
                let answer = api(app, Some(reader), method.clone(), &path, body.clone()).await;
                assert_eq!(answer.status, StatusCode::OK, "{what}: {}", answer.text);
            }
        }
    }
    // Nothing the refused calls asked for happened.
    let still = api(
        app,
        Some(&viewer),
        Method::GET,
        &format!("/packages/{}", s.package),
        None,
    )
    .await;
    assert_eq!(still.status, StatusCode::OK);
    assert_eq!(
        api(
            app,
            Some(&viewer),
            Method::GET,
            &format!("/packages/{}/schedule", s.package),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM runs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(runs, 1);
}

#[tokio::test]
async fn a_token_over_its_rate_limit_waits_and_the_api_describes_itself() {
    let s = setup(|settings| settings.api_requests_per_minute = 6).await;
    let viewer = token(&s.ann, &s.ws, "reader", "viewer").await;
    let other = token(&s.ann, &s.ws, "other", "viewer").await;
    // A burst of half a minute's allowance, then 429 with Retry-After.
    for _ in 0..3 {
        assert_eq!(
            api(&s.app, Some(&viewer), Method::GET, "/packages", None)
                .await
                .status,
            StatusCode::OK
        );
    }
    let limited = api(&s.app, Some(&viewer), Method::GET, "/packages", None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(is_problem(&limited));
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&wait), "{wait}");
    // Another token is not held back.
    assert_eq!(
        api(&s.app, Some(&other), Method::GET, "/packages", None)
            .await
            .status,
        StatusCode::OK
    );

    // The OpenAPI document needs no token and lists every endpoint.
    let doc = api(&s.app, None, Method::GET, "/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for (method, path, _, _) in endpoints("{id}", "{id}", "{id}", "") {
        let path = path.split('?').next().unwrap();
        let operation = &doc["paths"][path][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {path} is not in the document"
        );
        assert!(operation["responses"].is_object(), "{method} {path}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // An unknown path is a problem too.
    let unknown = api(&s.app, Some(&other), Method::GET, "/nothing", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(is_problem(&unknown));
}

#[tokio::test]
async fn without_wasm_a_new_token_is_shown_once_and_never_put_in_the_address() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let response = ann
        .client
        .post(format!("{}/api/create_api_token", app.url))
        .header("Accept", "text/html")
        .header("Referer", format!("{}/settings/tokens", app.url))
        .form(&[
            ("workspace_id", ws.as_str()),
            ("name", "cron"),
            ("role", "viewer"),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("/settings/tokens"), "{location}");
    assert!(
        !location.contains("lst_"),
        "the token is in the address: {location}"
    );
    let page = ann.get("/settings/tokens").await.text().await.unwrap();
    let start = page.find("lst_").expect("the new token is on the page");
    let secret = format!("lst_{}", &page[start + 4..start + 4 + 64]);
    assert!(
        secret.len() == 68 && secret[4..].chars().all(|c| c.is_ascii_hexdigit()),
        "{secret}"
    );
    // It works, and the page does not show it again.
    let listed = api(&app, Some(&secret), Method::GET, "/packages", None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let again = ann.get("/settings/tokens").await.text().await.unwrap();
    assert!(
        !again.contains(&secret[4..]),
        "the token is shown a second time"
    );
    assert!(again.contains("cron"));
}
