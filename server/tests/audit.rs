//! The audit log: every change to connections, packages, tasks, schedules, members,
//! invitations and tokens, and every run started or canceled, with who did it — a person,
//! a token, the schedule — never a secret; Admins only; as CSV too.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::api::{api, token};
use support::packages::{connection, fresh_database, package, post, save_connection, task_form};
use support::{TestApp, failure};

const TABLES: &str =
    "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text);";

/// The entries Ann's page lists (newest first), as "who | action | kind | name | summary".
async fn entries(browser: &support::Browser, query: &[(&str, &str)]) -> Vec<String> {
    let page = browser.call_ok("load_audit", query).await;
    page["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|e| {
            format!(
                "{} | {} | {} | {} | {}",
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["object_kind"].as_str().unwrap(),
                e["object_name"].as_str().unwrap(),
                e["summary"].as_str().unwrap()
            )
        })
        .collect()
}

fn has(log: &[String], wanted: &str) -> bool {
    log.iter().any(|line| line.contains(wanted))
}

#[tokio::test]
async fn every_change_is_logged_with_who_made_it_and_no_secret() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let (src, dst) = (fresh_database(TABLES).await, fresh_database(TABLES).await);
    let crm = connection(&ann, &ws, "CRM", &src).await;
    let shop = connection(&ann, &ws, "Shop", &dst).await;
    // A new password and a new name.
    save_connection(
        &ann,
        &ws,
        Some(&crm),
        "CRM main",
        &src,
        &[("password", "s3cret-pw")],
    )
    .await;
    let package = package(&ann, &ws, "Customers", (&crm, &shop), "invariant").await;
    let mut task = task_form(
        &ws,
        &package,
        "customers",
        "customers",
        &[("name", "column", "name")],
    );
    task.push(("intent".into(), "save".into()));
    assert!(post(&ann, "save_task", &task).await.status().is_success());

    // Bob joins as a Developer and is made a Viewer.
    let bob = support::join(&app, &ann, &ws, "bob@example.com", "developer").await;
    let members = ann.call_ok("load_members", &[]).await;
    let bob_id = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "bob@example.com")
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ann.call_ok(
        "change_member_role",
        &[
            ("workspace_id", &ws),
            ("user_id", &bob_id),
            ("role", "viewer"),
        ],
    )
    .await;

    // Through the API with a token: a schedule, a run started and canceled.
    let secret = token(&ann, &ws, "deploys", "developer").await;
    let schedule = json!({"when": {"kind": "recurring", "start": "2026-01-01T00:00:00",
        "repeat": {"every": "day", "interval": 1}, "time": {"kind": "once", "at": "02:00:00"}}, "time_zone": "UTC"});
    let put = api(
        &app,
        Some(&secret),
        Method::PUT,
        &format!("/packages/{package}/schedule"),
        Some(schedule.to_string()),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let run = api(
        &app,
        Some(&secret),
        Method::POST,
        &format!("/packages/{package}/runs"),
        None,
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let canceled = api(
        &app,
        Some(&secret),
        Method::POST,
        &format!("/runs/{run}/cancel"),
        None,
    )
    .await;
    assert_eq!(canceled.status, StatusCode::ACCEPTED);
    // The scheduler's own run, a day later.
    catalog::schedules::tick(&app.pool, chrono::Utc::now() + chrono::Duration::days(2))
        .await
        .unwrap();
    // A token revoked by Ann in the app.
    let tokens = ann.call_ok("load_api_tokens", &[]).await;
    let token_id = tokens["tokens"][0]["id"].as_str().unwrap().to_owned();
    ann.call_ok(
        "revoke_api_token",
        &[("workspace_id", &ws), ("id", &token_id)],
    )
    .await;

    let log = entries(&ann, &[]).await;
    let token = "token “deploys” of ann@example.com";
    for wanted in [
        "ann@example.com | created | member | ann@example.com | joined as Admin",
        "ann@example.com | created | connection | CRM | postgres",
        "ann@example.com | changed | connection | CRM main | name, password (was “CRM”)",
        "ann@example.com | created | package | Customers",
        "ann@example.com | created | task | Customers: customers → customers",
        "ann@example.com | created | invitation | bob@example.com | as Developer",
        "bob@example.com | accepted | invitation | bob@example.com",
        "bob@example.com | created | member | bob@example.com | joined as Developer",
        "ann@example.com | changed | member | bob@example.com | role Developer → Viewer",
        "ann@example.com | created | token | deploys | role Developer, for ann@example.com",
        &format!("{token} | created | schedule | Customers | enabled, UTC"),
        &format!("{token} | started | run | Customers | run of Customers"),
        &format!("{token} | canceled | run | Customers | was queued"),
        "schedule | started | run | Customers | scheduled run of Customers",
        "ann@example.com | revoked | token | deploys",
    ] {
        assert!(
            has(&log, wanted),
            "missing “{wanted}” in:\n{}",
            log.join("\n")
        );
    }
    // Newest first; the revocation was last.
    assert!(log[0].contains("| revoked | token |"), "{}", log[0]);
    // Engine bookkeeping (tracking, sync times, next occurrences) is not a change anyone made.
    assert!(
        !has(&log, "last sync") && !has(&log, "next run"),
        "{}",
        log.join("\n")
    );

    // No secret anywhere in the log.
    let everything: Vec<String> =
        sqlx::query_scalar("SELECT row_to_json(a)::text FROM audit_log a")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    for row in &everything {
        assert!(
            !row.contains("s3cret-pw") && !row.contains(&secret[4..]),
            "{row}"
        );
    }
    // The log cannot be rewritten.
    let rewrite = sqlx::query("UPDATE audit_log SET summary = 'nothing happened'")
        .execute(&app.pool)
        .await;
    assert!(rewrite.is_err());

    // Filters: by who (any part of the email, any case), only tokens; the CSV has the same.
    let bobs = entries(&ann, &[("who", "BOB@")]).await;
    assert_eq!(bobs.len(), 2, "{bobs:?}");
    assert!(
        bobs.iter().all(|l| l.starts_with("bob@example.com")),
        "{bobs:?}"
    );
    let csv = ann.get("/audit.csv?who=bob").await.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1 + 2, "{csv}");
    let tokens_only = entries(&ann, &[("kind", "token")]).await;
    assert_eq!(tokens_only.len(), 2, "{tokens_only:?}");
    let csv = ann.get("/audit.csv?kind=run").await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("at,who,action,kind,name,details\r\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 3, "{csv}");
    assert!(
        csv.contains("\"token “deploys” of ann@example.com\",\"canceled\""),
        "{csv}"
    );

    // Only Admins read it; another workspace's Admin sees only their own.
    let (status, _) = failure(bob.call("load_audit", &[]).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(bob.get("/audit.csv").await.status(), StatusCode::FORBIDDEN);
    let eve = app.browser();
    eve.sign_up("eve@example.com").await;
    let eves: Vec<String> = entries(&eve, &[]).await;
    assert!(
        eves.iter().all(|l| l.starts_with("eve@example.com")),
        "{eves:?}"
    );
    let bad: (StatusCode, Value) =
        failure(ann.call("load_audit", &[("kind", "spaceship")]).await).await;
    assert_eq!(bad.0, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_log_pages_newest_first_and_deleting_a_package_is_logged_once_per_thing() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let (src, dst) = (fresh_database(TABLES).await, fresh_database(TABLES).await);
    let crm = connection(&ann, &ws, "CRM", &src).await;
    let shop = connection(&ann, &ws, "Shop", &dst).await;
    for i in 0..60 {
        save_connection(&ann, &ws, Some(&crm), &format!("CRM {i}"), &src, &[]).await;
    }
    let package = package(&ann, &ws, "Customers", (&crm, &shop), "invariant").await;
    ann.call_ok("delete_package", &[("workspace_id", &ws), ("id", &package)])
        .await;

    let first = ann.call_ok("load_audit", &[]).await;
    let rows = first["entries"].as_array().unwrap();
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0]["action"], "deleted");
    assert_eq!(rows[0]["object_kind"], "package");
    assert_eq!(rows[1]["action"], "created");
    let older = first["older"].as_str().expect("a second page");
    let second = ann.call_ok("load_audit", &[("page", older)]).await;
    let rest = second["entries"].as_array().unwrap();
    // 1 member + 2 connections + 60 renames + package created and deleted.
    assert_eq!(rows.len() + rest.len(), 65, "{second}");
    assert!(second["older"].is_null());
    assert_eq!(rest.last().unwrap()["summary"], "joined as Admin");
}
