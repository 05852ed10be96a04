//! The scheduler over a simulated clock, on the real metadata database: two schedulers
//! ticking at once queue every occurrence of every package exactly once; a missed stretch
//! gives one catch-up run; an occurrence finding the previous run active is skipped and
//! recorded; Disabled stops a schedule.

mod support;

use catalog::schedules::{self, ScheduleForm};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use engine::schedule::{Repeat, Schedule, TimeOfDay};
use support::TestApp;
use uuid::Uuid;

fn every_minute() -> Schedule {
    Schedule::Recurring {
        start: NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_time(NaiveTime::MIN),
        repeat: Repeat::Day { interval: 1 },
        time: TimeOfDay::Every {
            minutes: 1,
            window: None,
        },
    }
}

/// A workspace owned by a new user, with `n` packages (no tasks: the scheduler only
/// queues), each scheduled every minute.
async fn packages_due_every_minute(
    app: &TestApp,
    n: usize,
    now: DateTime<Utc>,
) -> (Uuid, Vec<Uuid>, support::Browser) {
    let browser = app.browser();
    browser.sign_up("ann@example.com").await;
    let ws: Uuid = browser.current_workspace_id().await.parse().unwrap();
    let user: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'ann@example.com'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO packages (id, workspace_id, name, source_kind, target_kind, source_fingerprint, target_fingerprint)
             VALUES ($1, $2, $3, 'postgres', 'postgres', '', '')",
        )
        .bind(id)
        .bind(ws)
        .bind(format!("Package {i}"))
        .execute(&app.pool)
        .await
        .unwrap();
        let form = ScheduleForm {
            schedule: every_minute(),
            time_zone: "Europe/Berlin".into(),
            enabled: true,
        };
        let next = schedules::save(&app.pool, user, ws, id, &form, now)
            .await
            .unwrap();
        let next = next.expect("an every-minute schedule has a next run");
        assert!(next > now && next <= now + Duration::minutes(1), "{next}");
        ids.push(id);
    }
    (ws, ids, browser)
}

/// Plays the workers: every queued run finishes at once.
async fn finish_queued_runs(pool: &sqlx::PgPool) {
    sqlx::query("UPDATE runs SET state = 'succeeded', finished_at = now() WHERE state = 'queued'")
        .execute(pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn two_schedulers_queue_every_occurrence_exactly_once() {
    let app = TestApp::spawn().await;
    let start = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap();
    let (_, packages, _) = packages_due_every_minute(&app, 20, start).await;
    let other = sqlx::PgPool::connect(&app.database_url).await.unwrap();

    const MINUTES: i64 = 15;
    for minute in 1..=MINUTES {
        let now = start + Duration::minutes(minute) + Duration::seconds(2);
        let (a, b) = tokio::join!(
            schedules::tick(&app.pool, now),
            schedules::tick(&other, now)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.queued + b.queued, 20, "minute {minute}: {a:?} {b:?}");
        finish_queued_runs(&app.pool).await;
    }

    for package in &packages {
        let occurrences: Vec<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT scheduled_for FROM runs WHERE package_id = $1 ORDER BY scheduled_for",
        )
        .bind(package)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        let expected: Vec<DateTime<Utc>> = (1..=MINUTES)
            .map(|m| start + Duration::minutes(m))
            .collect();
        assert_eq!(occurrences, expected, "package {package}");
    }
    // The jobs went to the queue with the runs.
    let jobs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = 'lockstep::run'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(jobs, 20 * MINUTES);
}

#[tokio::test]
async fn missed_occurrences_give_one_catch_up_run_and_busy_packages_skip() {
    let app = TestApp::spawn().await;
    let start = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap();
    let (ws, packages, _) = packages_due_every_minute(&app, 1, start).await;
    let package = packages[0];

    // Nothing ran for an hour: one catch-up run, then the schedule moves on from now.
    let later = start + Duration::minutes(60) + Duration::seconds(30);
    let tick = schedules::tick(&app.pool, later).await.unwrap();
    assert_eq!((tick.queued, tick.skipped), (1, 0));
    let next: DateTime<Utc> =
        sqlx::query_scalar("SELECT next_run_at FROM schedules WHERE package_id = $1")
            .bind(package)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(next, start + Duration::minutes(61));

    // The catch-up run is still queued when the next occurrence comes: skipped, recorded.
    let tick = schedules::tick(&app.pool, next + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!((tick.queued, tick.skipped), (0, 1));
    let states: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT state, error FROM runs WHERE package_id = $1 ORDER BY scheduled_for",
    )
    .bind(package)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(states[0].0, "queued");
    assert_eq!(states[1].0, "skipped");
    assert!(
        states[1]
            .1
            .as_deref()
            .unwrap()
            .contains("still queued or running")
    );

    // Disabled keeps the schedule but stops it.
    let user: Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let form = ScheduleForm {
        schedule: every_minute(),
        time_zone: "Europe/Berlin".into(),
        enabled: false,
    };
    schedules::save(&app.pool, user, ws, package, &form, next)
        .await
        .unwrap();
    finish_queued_runs(&app.pool).await;
    let tick = schedules::tick(&app.pool, next + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!((tick.queued, tick.skipped), (0, 0));
    let kept = schedules::get(&app.pool, user, ws, package).await.unwrap();
    assert!(kept.is_some_and(|s| !s.enabled));
}

#[tokio::test]
async fn the_schedule_editor_previews_saves_and_names_bad_fields() {
    let app = TestApp::spawn().await;
    let (ws, packages, ann) = packages_due_every_minute(&app, 1, Utc::now()).await;
    let (ws, package) = (ws.to_string(), packages[0].to_string());
    let form = |intent: &'static str, every_n: &'static str, tz: &'static str| {
        vec![
            ("workspace_id", ws.clone()),
            ("package_id", package.clone()),
            ("intent", intent.to_owned()),
            ("kind", "recurring".to_owned()),
            ("every", "week".to_owned()),
            // Unchecked boxes are not sent: the indices have gaps.
            ("days[0]", "Mon".to_owned()),
            ("days[4]", "Fri".to_owned()),
            ("time_mode", "every".to_owned()),
            ("every_n", every_n.to_owned()),
            ("every_unit", "hours".to_owned()),
            ("window_from", "09:00".to_owned()),
            ("window_to", "17:00".to_owned()),
            ("start_date", "2026-01-01".to_owned()),
            ("start_time", "00:00".to_owned()),
            ("time_zone", tz.to_owned()),
            ("enabled", "yes".to_owned()),
        ]
    };
    let call = |f: Vec<(&'static str, String)>| {
        let ann = &ann;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ann.call("save_schedule", &pairs).await
        }
    };

    // A preview shows the next five runs and saves nothing.
    let preview: serde_json::Value = call(form("preview", "2", "Europe/Berlin"))
        .await
        .json()
        .await
        .unwrap();
    let next = preview["next"].as_array().unwrap();
    assert_eq!(next.len(), 5, "{preview}");
    for t in next {
        let t = t.as_str().unwrap();
        assert!(t.starts_with("Mon") || t.starts_with("Fri"), "{t}");
        assert!(
            ["09:00", "11:00", "13:00", "15:00", "17:00"]
                .iter()
                .any(|h| t.contains(h)),
            "{t}"
        );
    }
    let loaded = ann
        .call_ok("load_schedule", &[("package_id", &package)])
        .await;
    assert_eq!(
        loaded["summary"].as_str().unwrap(),
        "Every minute every day (Europe/Berlin)"
    );

    // Bad input names its field, and nothing is saved.
    let response = call(form("save", "0", "Europe/Berlin")).await;
    let (status, body) = support::failure(response).await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "every_n", "{body}");
    let (_, body) = support::failure(call(form("save", "2", "Mars/Base")).await).await;
    assert_eq!(body["Validation"]["field"], "time_zone", "{body}");

    call(form("save", "2", "Europe/Berlin")).await;
    let loaded = ann
        .call_ok("load_schedule", &[("package_id", &package)])
        .await;
    assert_eq!(
        loaded["summary"].as_str().unwrap(),
        "Every 2 hours on Mon, Fri from 09:00 to 17:00 (Europe/Berlin)"
    );
    assert_eq!(loaded["fields"]["days"], serde_json::json!(["Mon", "Fri"]));
    assert_eq!(loaded["next"].as_array().unwrap().len(), 5);
}
