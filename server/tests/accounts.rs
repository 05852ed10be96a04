//! Accounts over HTTP: sign-up, sign-in, sessions, sign-out, and the sign-in gate.

mod support;

use reqwest::StatusCode;
use support::{PASSWORD, TestApp, failure};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    assert_eq!(browser.get("/healthz").await.status(), StatusCode::OK);
    let ready = browser.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let response = browser.get("/members?tab=all").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "/signin?next=/members%3Ftab%3Dall"
    );
    let page = browser.get("/signin").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Sign in"));
    assert_eq!(browser.shell().await, serde_json::Value::Null);
}

#[tokio::test]
async fn the_first_workspace_takes_the_name_given_at_sign_up() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser
        .call_ok(
            "sign_up",
            &[
                ("email", "ann@example.com"),
                ("password", PASSWORD),
                ("workspace_name", "  Sales operations "),
            ],
        )
        .await;
    assert_eq!(browser.shell().await["current"]["name"], "Sales operations");

    // A name that is too long is refused under its field, and no account is made.
    let other = app.browser();
    let long = "x".repeat(81);
    let response = other
        .call(
            "sign_up",
            &[
                ("email", "bob@example.com"),
                ("password", PASSWORD),
                ("workspace_name", long.as_str()),
            ],
        )
        .await;
    let (status, body) = failure(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "workspace_name", "{body}");
    assert_eq!(other.shell().await, serde_json::Value::Null);
}

#[tokio::test]
async fn sign_up_signs_in_and_shows_the_empty_workspace() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_up("Ann@Example.com").await;
    let shell = browser.shell().await;
    assert_eq!(shell["email"], "ann@example.com");
    assert_eq!(shell["current"]["name"], "My workspace");
    assert_eq!(shell["current"]["role"], "admin");
    let page = browser.get("/packages").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("No packages yet"), "{html}");
    assert!(html.contains("My workspace"));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let response = browser
        .call(
            "sign_up",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("lockstep_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[tokio::test]
async fn bad_sign_up_input_gets_field_errors() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let (status, body) = failure(
        browser
            .call(
                "sign_up",
                &[("email", "ann.example.com"), ("password", PASSWORD)],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "email");
    let (status, body) = failure(
        browser
            .call(
                "sign_up",
                &[("email", "ann@example.com"), ("password", "short")],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "password");
    browser.sign_up("ann@example.com").await;
    let other = app.browser();
    let (status, body) = failure(
        other
            .call(
                "sign_up",
                &[("email", "ANN@example.com"), ("password", PASSWORD)],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["Conflict"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
}

#[tokio::test]
async fn failed_sign_ins_look_the_same_and_are_rate_limited() {
    let app = TestApp::spawn().await;
    app.browser().sign_up("ann@example.com").await;
    let browser = app.browser();
    let unknown = failure(
        browser
            .call(
                "sign_in",
                &[("email", "nobody@example.com"), ("password", PASSWORD)],
            )
            .await,
    )
    .await;
    let wrong = failure(
        browser
            .call(
                "sign_in",
                &[("email", "ann@example.com"), ("password", "wrong password")],
            )
            .await,
    )
    .await;
    assert_eq!(
        unknown, wrong,
        "unknown email and wrong password must be indistinguishable"
    );
    assert_eq!(unknown.0, StatusCode::UNPROCESSABLE_ENTITY);
    for _ in 0..4 {
        browser
            .call(
                "sign_in",
                &[("email", "ann@example.com"), ("password", "wrong password")],
            )
            .await;
    }
    let (status, body) = failure(browser.sign_in("ann@example.com").await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        body["TooManyRequests"]
            .as_str()
            .unwrap()
            .contains("Too many failed sign-ins"),
        "{body}"
    );
}

#[tokio::test]
async fn sign_in_rotates_the_session_and_sign_out_ends_it() {
    let app = TestApp::spawn().await;
    let first = app.browser();
    first.sign_up("ann@example.com").await;
    let session_cookie = |r: &reqwest::Response| {
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let a = first.sign_in("ann@example.com").await;
    assert!(
        a.status().is_success() || a.status().is_redirection(),
        "{}",
        a.status()
    );
    let cookie_a = session_cookie(&a);
    let b = first.sign_in("ann@example.com").await;
    let cookie_b = session_cookie(&b);
    assert_ne!(cookie_a, cookie_b, "a new session id at every sign-in");

    // The old session id no longer authenticates.
    let stale = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let shell = stale
        .post(format!("{}/api/shell", app.url))
        .header("cookie", &cookie_a)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        shell, "null",
        "the session id from before the second sign-in must be dead"
    );

    first.call_ok("sign_out", &[]).await;
    assert_eq!(first.shell().await, serde_json::Value::Null);
    assert_eq!(first.get("/packages").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_plain_form_post_without_javascript_comes_back_with_the_error() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let response = browser
        .client
        .post(format!("{}/api/sign_up", app.url))
        .header("Accept", "text/html")
        .header("Referer", format!("{}/signup", app.url))
        .form(&[("email", "ann@example.com"), ("password", "short")])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.contains("/signup") && location.contains("__err="),
        "{location}"
    );
    let page = browser
        .get(location.trim_start_matches(&app.url))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Use at least 10 characters"),
        "the form page shows the error"
    );
}
