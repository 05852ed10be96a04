//! Notifications as a team meets them: a failed run mails the chosen members and calls the
//! webhooks (signed; checked by the receiver), the next failures within the hour are held
//! back and counted, a recovery is announced, a package rule overrides the default, a
//! receiver that fails is retried, and nothing sent carries a secret.

mod support;

use std::time::Duration;

use catalog::runs::record::{Outcome, RunRecord, Watch};
use engine::sync::{Counts, TaskSummary};
use reqwest::StatusCode;
use serde_json::Value;
use server::notifications::{NotifierSettings, SmtpSettings, dispatch};
use support::TestApp;
use support::mail_and_hooks::{hook_receiver, signature_is_valid, smtp_server};
use support::packages::{connection, fresh_database, package, save_connection};
use wire::RunState;

const TABLES: &str = "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);";

/// Records a run of `package` that ends in `state` with `failed` failed records, the way a
/// worker records one.
async fn finished_run(app: &TestApp, ws: &str, package: &str, state: RunState, failed: u64) {
    let watch = Watch {
        cancel: Default::default(),
        progress: Default::default(),
        heartbeat: Duration::from_secs(1),
    };
    let record = RunRecord::start(
        &app.pool,
        ws.parse().unwrap(),
        package.parse().unwrap(),
        "cli",
        "test-worker",
        watch,
    )
    .await
    .unwrap();
    let tasks = [TaskSummary {
        task: "customers → customers".into(),
        source_to_target: Counts {
            inserted: 4,
            failed,
            ..Counts::default()
        },
        target_to_source: Counts::default(),
        expected: None,
        errors: Vec::new(),
    }];
    let error = (state == RunState::Failed).then_some("the target database refused the connection");
    assert!(
        record
            .finish(Outcome {
                state,
                error,
                tasks: &tasks,
                errors: &[],
                api_calls: None,
            })
            .await
            .unwrap()
    );
}

fn settings(smtp_url: &str, public_url: &str) -> NotifierSettings {
    NotifierSettings {
        smtp: Some(SmtpSettings::new(smtp_url, "Lockstep <lockstep@example.com>").unwrap()),
        public_url: public_url.into(),
        retry_base: Duration::from_millis(200),
        every: Duration::from_secs(1),
    }
}

#[tokio::test]
async fn failures_and_recoveries_reach_members_and_webhooks_once_an_hour_at_most() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let bob = support::join(&app, &ann, &ws, "bob@example.com", "viewer").await;
    drop(bob);
    let (src, dst) = (fresh_database(TABLES).await, fresh_database(TABLES).await);
    let crm = connection(&ann, &ws, "CRM", &src).await;
    save_connection(
        &ann,
        &ws,
        Some(&crm),
        "CRM",
        &src,
        &[("password", "s3cret-pw")],
    )
    .await;
    let shop = connection(&ann, &ws, "Shop", &dst).await;
    let package = package(&ann, &ws, "Customers", (&crm, &shop), "invariant").await;

    let notifier = settings("smtp://127.0.0.1:9", &app.url);
    // A failure before anyone is set up to hear of it: nothing to send, and no hour of
    // silence starts for the package.
    finished_run(&app, &ws, &package, RunState::Failed, 0).await;
    let r = dispatch(&app.pool, &app.secrets, &notifier).await.unwrap();
    assert_eq!((r.runs, r.delivered, r.failed), (1, 0, 0));

    // Ann and Bob get the emails; one webhook.
    let smtp = smtp_server().await;
    let hooks = hook_receiver().await;
    let data = ann.call_ok("load_notifications", &[]).await;
    for r in data["recipients"].as_array().unwrap() {
        let member = r["user_id"].as_str().unwrap();
        ann.call_ok(
            "set_notification_recipient",
            &[
                ("workspace_id", &ws),
                ("member", member),
                ("receive", "yes"),
            ],
        )
        .await;
    }
    let added = ann
        .call_ok(
            "add_webhook",
            &[
                ("workspace_id", &ws),
                ("name", "On call"),
                ("url", &hooks.url),
            ],
        )
        .await;
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    // A threshold on failed records too.
    ann.call_ok(
        "save_notification_rule",
        &[
            ("workspace_id", &ws),
            ("on_failure", "yes"),
            ("on_recovery", "yes"),
            ("failed_records_over", "2"),
            ("by_email", "yes"),
            ("by_webhook", "yes"),
        ],
    )
    .await;
    let notifier = settings(&smtp.url, &app.url);
    let round = || dispatch(&app.pool, &app.secrets, &notifier);

    // 1. A failed run: two emails and one signed webhook call.
    finished_run(&app, &ws, &package, RunState::Failed, 0).await;
    let r = round().await.unwrap();
    assert_eq!((r.runs, r.delivered, r.failed), (1, 3, 0), "{r:?}");
    let mails = smtp.received.lock().unwrap().clone();
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["ann@example.com", "bob@example.com"]);
    let mail = &mails[0].data;
    assert!(mail.contains("Customers"), "{mail}");
    assert!(mail.contains("refused the connection"), "{mail}");
    assert!(mail.contains(&format!("{}/runs/", app.url)), "{mail}");
    let calls = hooks.received.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].event, "run.failed");
    assert!(signature_is_valid(
        &secret,
        &calls[0].signature,
        &calls[0].body
    ));
    assert!(!signature_is_valid(
        "whsec_wrong",
        &calls[0].signature,
        &calls[0].body
    ));
    let body: Value = serde_json::from_slice(&calls[0].body).unwrap();
    assert_eq!(body["package"]["name"], "Customers");
    assert_eq!(body["run"]["state"], "failed");
    assert_eq!(body["held_back"], 0);
    for sent in mails
        .iter()
        .map(|m| m.data.clone())
        .chain([String::from_utf8(calls[0].body.clone()).unwrap()])
    {
        assert!(
            !sent.contains("s3cret-pw") && !sent.contains(&secret),
            "{sent}"
        );
    }

    // 2. Two more failures within the hour: held back, nothing sent.
    finished_run(&app, &ws, &package, RunState::Failed, 0).await;
    finished_run(&app, &ws, &package, RunState::Failed, 0).await;
    let r = round().await.unwrap();
    assert_eq!((r.runs, r.delivered), (2, 0));

    // 3. Success after the failures: a recovery notice.
    finished_run(&app, &ws, &package, RunState::Succeeded, 0).await;
    round().await.unwrap();
    let calls = hooks.received.lock().unwrap().clone();
    assert_eq!(calls.last().unwrap().event, "package.recovered");
    // A second success is no news.
    finished_run(&app, &ws, &package, RunState::Succeeded, 0).await;
    assert_eq!(round().await.unwrap().delivered, 0);

    // 4. More than two failed records: a notice of its own.
    finished_run(&app, &ws, &package, RunState::SucceededWithErrors, 3).await;
    round().await.unwrap();
    let calls = hooks.received.lock().unwrap().clone();
    assert_eq!(calls.last().unwrap().event, "run.failed_records");
    let body: Value = serde_json::from_slice(&calls.last().unwrap().body).unwrap();
    assert_eq!(body["run"]["failed_records"], 3);

    // 5. An hour after the first notice, the next failure is sent and counts the two held.
    finished_run(&app, &ws, &package, RunState::Failed, 0).await;
    catalog::notifications::plan(
        &app.pool,
        &app.url,
        chrono::Utc::now() + chrono::Duration::minutes(61),
    )
    .await
    .unwrap();
    round().await.unwrap();
    let calls = hooks.received.lock().unwrap().clone();
    let body: Value = serde_json::from_slice(&calls.last().unwrap().body).unwrap();
    assert_eq!(
        (body["event"].as_str(), body["held_back"].as_u64()),
        (Some("run.failed"), Some(2))
    );
    let last_mail = smtp.received.lock().unwrap().last().unwrap().data.clone();
    assert!(
        last_mail.contains("2 more failure notice(s)"),
        "{last_mail}"
    );

    // 6. A package rule without failures silences this package's failures.
    ann.call_ok(
        "save_notification_rule",
        &[
            ("workspace_id", &ws),
            ("package", &package),
            ("on_recovery", "yes"),
            ("by_webhook", "yes"),
        ],
    )
    .await;
    let before = hooks.received.lock().unwrap().len();
    finished_run(&app, &ws, &package, RunState::Failed, 0).await;
    catalog::notifications::plan(
        &app.pool,
        &app.url,
        chrono::Utc::now() + chrono::Duration::hours(5),
    )
    .await
    .unwrap();
    round().await.unwrap();
    assert_eq!(hooks.received.lock().unwrap().len(), before);

    // The delivery log shows every delivery; the webhook secret is sealed at rest.
    let log = ann.call_ok("load_notifications", &[]).await;
    let states: Vec<&str> = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert!(
        states.len() >= 10 && states.iter().all(|s| *s == "delivered"),
        "{states:?}"
    );
    // Finished deliveries are forgotten after the log's days; pending ones never.
    let kept =
        catalog::notifications::prune(&app.pool, chrono::Utc::now() - chrono::Duration::days(1))
            .await
            .unwrap();
    assert_eq!(kept, 0);
    let gone =
        catalog::notifications::prune(&app.pool, chrono::Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap();
    assert_eq!(gone as usize, states.len());
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret FROM webhooks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains(&secret[6..]));
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_send_test_reaches_it() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let hooks = hook_receiver().await;
    hooks.answers.lock().unwrap().extend([500, 503]);
    let added = ann
        .call_ok(
            "add_webhook",
            &[
                ("workspace_id", &ws),
                ("name", "Flaky"),
                ("url", &hooks.url),
            ],
        )
        .await;
    let secret = added["secret"].as_str().unwrap().to_owned();
    let data = ann.call_ok("load_notifications", &[]).await;
    let webhook = data["webhooks"][0]["id"].as_str().unwrap().to_owned();
    ann.call_ok("test_webhook", &[("workspace_id", &ws), ("id", &webhook)])
        .await;

    // No mail server configured: webhooks still go out.
    let notifier = NotifierSettings {
        smtp: None,
        public_url: app.url.clone(),
        retry_base: Duration::from_millis(300),
        every: Duration::from_secs(1),
    };
    let mut delivered = false;
    for _ in 0..50 {
        let r = dispatch(&app.pool, &app.secrets, &notifier).await.unwrap();
        if r.delivered == 1 {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(delivered, "the test notification was never delivered");
    let calls = hooks.received.lock().unwrap().clone();
    assert_eq!(calls.len(), 3, "two failures, then delivered");
    assert!(
        calls.iter().all(|c| c.delivery == calls[0].delivery),
        "one delivery id across retries"
    );
    assert_eq!(calls[2].event, "test");
    assert!(signature_is_valid(
        &secret,
        &calls[2].signature,
        &calls[2].body
    ));
    let log = ann.call_ok("load_notifications", &[]).await;
    assert_eq!(log["deliveries"][0]["state"], "delivered");
    assert_eq!(log["deliveries"][0]["attempts"], 3);

    // Addresses that are not http(s) are refused, naming the field.
    for bad in [
        "ftp://example.com/x",
        "javascript:alert(1)",
        "https://user:pw@example.com/",
    ] {
        let (status, body) = support::failure(
            ann.call(
                "add_webhook",
                &[("workspace_id", &ws), ("name", "Bad"), ("url", bad)],
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["Validation"]["field"], "url", "{body}");
    }
    // Cloud metadata addresses are never called.
    ann.call_ok(
        "add_webhook",
        &[
            ("workspace_id", &ws),
            ("name", "Metadata"),
            ("url", "http://169.254.169.254/latest"),
        ],
    )
    .await;
    let data = ann.call_ok("load_notifications", &[]).await;
    let metadata = data["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "Metadata")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ann.call_ok("test_webhook", &[("workspace_id", &ws), ("id", &metadata)])
        .await;
    dispatch(&app.pool, &app.secrets, &notifier).await.unwrap();
    let log = ann.call_ok("load_notifications", &[]).await;
    let detail = log["deliveries"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("169.254.169.254"), "{detail}");

    // Only Admins see or change any of this.
    let viewer = support::join(&app, &ann, &ws, "vic@example.com", "developer").await;
    let (status, _) = support::failure(viewer.call("load_notifications", &[]).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = support::failure(
        viewer
            .call("test_webhook", &[("workspace_id", &ws), ("id", &webhook)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
