//! Sign-in, sign-up and browser hardening, over HTTP against the real server: guesses cannot
//! outrun the limits, clients cannot choose their address, sign-up closes after the first
//! account (invitations still open it), `next` never leaves the site, pages carry a
//! nonce-based Content-Security-Policy, and other sites cannot post on a person's behalf.

mod support;

use catalog::sign_in_limits::{MAX_FAILURES_PER_EMAIL, MAX_FAILURES_PER_IP, MAX_SIGN_UPS_PER_IP};
use reqwest::StatusCode;
use support::{Browser, PASSWORD, TestApp, failure};

/// Runs `count` calls of `endpoint` at once, each from its own browser, and returns the
/// statuses.
async fn at_once(
    app: &TestApp,
    count: usize,
    form: impl Fn(usize) -> Vec<(String, String)>,
    header: impl Fn(usize) -> Option<(&'static str, String)>,
    endpoint: &'static str,
) -> Vec<StatusCode> {
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..count {
        let browser = app.browser();
        let form = form(i);
        let header = header(i);
        calls.spawn(async move {
            let mut request = browser
                .client
                .post(format!("{}/api/{endpoint}", browser.base))
                .header("Accept", "application/json")
                .form(&form);
            if let Some((name, value)) = header {
                request = request.header(name, value);
            }
            request.send().await.unwrap().status()
        });
    }
    calls.join_all().await
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

fn credentials(email: &str, password: &str) -> Vec<(String, String)> {
    vec![
        ("email".to_owned(), email.to_owned()),
        ("password".to_owned(), password.to_owned()),
    ]
}

#[tokio::test]
async fn twenty_parallel_wrong_passwords_reach_the_hash_at_most_the_limit() {
    let app = TestApp::spawn().await;
    app.browser().sign_up("ann@example.com").await;
    let statuses = at_once(
        &app,
        20,
        |_| credentials("ann@example.com", "wrong password!"),
        |_| None,
        "sign_in",
    )
    .await;
    let checked = count(&statuses, StatusCode::UNPROCESSABLE_ENTITY);
    let limited = count(&statuses, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        checked, MAX_FAILURES_PER_EMAIL as usize,
        "only the limit's worth of guesses is checked: {statuses:?}"
    );
    assert_eq!(checked + limited, 20, "{statuses:?}");
    // Even the right password waits for the window now.
    let (status, _) = failure(app.browser().sign_in("ann@example.com").await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_client_cannot_dodge_the_address_limit_by_sending_x_forwarded_for() {
    // No trusted proxies (the default): X-Forwarded-For is the client's own words.
    let app = TestApp::spawn().await;
    app.browser().sign_up("ann@example.com").await;
    let statuses = at_once(
        &app,
        MAX_FAILURES_PER_IP as usize,
        |i| credentials(&format!("nobody{i}@example.com"), "wrong password!"),
        |i| Some(("x-forwarded-for", format!("198.51.100.{}", i % 250))),
        "sign_in",
    )
    .await;
    assert_eq!(
        count(&statuses, StatusCode::UNPROCESSABLE_ENTITY),
        MAX_FAILURES_PER_IP as usize,
        "{statuses:?}"
    );
    let refused = app
        .browser()
        .client
        .post(format!("{}/api/sign_in", app.url))
        .header("Accept", "application/json")
        .header("x-forwarded-for", "192.0.2.200")
        .form(&credentials("ann@example.com", PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sign_ups_are_limited_per_client_address_behind_a_trusted_proxy() {
    let app = TestApp::spawn_with(|s| {
        s.trusted_proxies = server::client_address::TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await;
    let statuses = at_once(
        &app,
        MAX_SIGN_UPS_PER_IP as usize + 3,
        |i| credentials(&format!("person{i}@example.com"), PASSWORD),
        |_| Some(("x-forwarded-for", "203.0.113.5".to_owned())),
        "sign_up",
    )
    .await;
    assert_eq!(
        count(&statuses, StatusCode::OK),
        MAX_SIGN_UPS_PER_IP as usize,
        "{statuses:?}"
    );
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        3,
        "{statuses:?}"
    );
    let refused = app
        .browser()
        .client
        .post(format!("{}/api/sign_up", app.url))
        .header("Accept", "application/json")
        .header("x-forwarded-for", "203.0.113.5")
        .form(&credentials("late@example.com", PASSWORD))
        .send()
        .await
        .unwrap();
    let (status, body) = failure(refused).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        body["TooManyRequests"]
            .as_str()
            .unwrap()
            .contains("Too many sign-ups"),
        "{body}"
    );
    // Another client behind the same proxy is not held back.
    let other = app
        .browser()
        .client
        .post(format!("{}/api/sign_up", app.url))
        .header("Accept", "application/json")
        .header("x-forwarded-for", "203.0.113.6")
        .form(&credentials("other@example.com", PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_up_closes_after_the_first_account_and_an_invitation_link_still_opens_it() {
    let app = TestApp::spawn_with(|s| s.open_signup = false).await;
    let first = app.browser();
    assert_eq!(first.call_ok("sign_up_open", &[]).await, true);
    first.sign_up("ann@example.com").await;
    assert_eq!(first.call_ok("sign_up_open", &[]).await, false);

    // A stranger is told how sign-up works, by the page and by the server.
    let stranger = app.browser();
    let page = stranger.get("/signup").await.text().await.unwrap();
    assert!(
        page.contains("Sign-up is by invitation: ask a workspace owner for an invitation link"),
        "{page}"
    );
    assert!(!page.contains("Create account"), "no form to fill in");
    let (status, body) = failure(
        stranger
            .call(
                "sign_up",
                &[("email", "eve@example.com"), ("password", PASSWORD)],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["Forbidden"]
            .as_str()
            .unwrap()
            .contains("Sign-up is by invitation"),
        "{body}"
    );

    // Ann invites Bob: his link's sign-up page has the form, and it creates his account.
    let workspace = first.current_workspace_id().await;
    let invite = first
        .call_ok(
            "invite_member",
            &[
                ("workspace_id", workspace.as_str()),
                ("email", "bob@example.com"),
                ("role", "developer"),
            ],
        )
        .await;
    let token = invite["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let next = format!("/invite/{token}");
    let bob = app.browser();
    let page = bob
        .get(&format!(
            "/signup?next=%2Finvite%2F{token}&email=bob%40example.com"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Create account"), "{page}");
    // The link works for the invited email only.
    let (status, _) = failure(
        app.browser()
            .call(
                "sign_up",
                &[
                    ("email", "eve@example.com"),
                    ("password", PASSWORD),
                    ("next", &next),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    bob.call_ok(
        "sign_up",
        &[
            ("email", "bob@example.com"),
            ("password", PASSWORD),
            ("next", &next),
        ],
    )
    .await;
    bob.call_ok("accept_invitation", &[("token", &token)]).await;
    assert_eq!(bob.shell().await["current"]["id"], workspace.as_str());

    // A used link opens nothing any more.
    let (status, _) = failure(
        app.browser()
            .call(
                "sign_up",
                &[
                    ("email", "bob2@example.com"),
                    ("password", PASSWORD),
                    ("next", &next),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn sign_in_next(browser: &Browser, next: &str, accept: &str) -> reqwest::Response {
    browser
        .client
        .post(format!("{}/api/sign_in", browser.base))
        .header("Accept", accept)
        .form(&[
            ("email", "ann@example.com"),
            ("password", PASSWORD),
            ("next", next),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn after_sign_in_next_never_leaves_the_site_and_never_fails() {
    let app = TestApp::spawn().await;
    app.browser().sign_up("ann@example.com").await;
    let browser = app.browser();
    for (next, expected) in [
        ("/invite/abc", "/invite/abc"),
        ("/%09/evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/\r\nSet-Cookie: x=1", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example", "/"),
    ] {
        for accept in ["application/json", "text/html"] {
            let response = sign_in_next(&browser, next, accept).await;
            assert!(
                response.status().is_success() || response.status().is_redirection(),
                "{next:?} ({accept}): {}",
                response.status()
            );
            assert_eq!(
                response.headers()["location"],
                expected,
                "{next:?} ({accept})"
            );
        }
    }
    // The sign-in gate carries only plain paths along.
    let gate = app.browser().get("//evil.example/x").await;
    assert_eq!(gate.headers()["location"], "/signin");
}

#[tokio::test]
async fn pages_carry_a_fresh_nonce_policy_and_their_scripts_the_nonce() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let mut nonces = Vec::new();
    let signed_out = browser.get("/signin").await;
    nonces.push(
        signed_out.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned(),
    );
    browser.sign_up("ann@example.com").await;
    for path in ["/signup", "/packages", "/no-such-page"] {
        let response = browser.get(path).await;
        let headers = response.headers().clone();
        let csp = headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap()
            .to_owned();
        assert_eq!(headers["referrer-policy"], "same-origin");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert!(
            headers.get("strict-transport-security").is_none(),
            "not over http"
        );
        let html = response.text().await.unwrap();
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path}: the hydration script is there");
        assert_eq!(
            html.matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
                .count()
                + html.matches(&format!("<script nonce=\"{nonce}\"")).count(),
            scripts,
            "{path}: every inline script carries this response's nonce: {html}"
        );
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "a new nonce per response");
    // Server functions and plain routes get the headers too.
    let api = browser.call("shell", &[]).await;
    assert_eq!(api.headers()["x-frame-options"], "DENY");
    assert!(api.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn an_https_public_url_turns_on_hsts_and_secure_cookies_unless_overridden() {
    let https =
        TestApp::spawn_with(|s| s.public_url = Some("https://sync.example.com".into())).await;
    let response = https
        .browser()
        .call(
            "sign_up",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");

    let overridden = TestApp::spawn_with(|s| {
        s.public_url = Some("https://sync.example.com".into());
        s.secure_cookies = Some(false);
    })
    .await;
    let response = overridden
        .browser()
        .call(
            "sign_up",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!cookie.contains("Secure"), "{cookie}");

    let plain = TestApp::spawn().await;
    let response = plain
        .browser()
        .call(
            "sign_up",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
}

#[tokio::test]
async fn other_sites_cannot_post_on_a_signed_in_persons_behalf() {
    let app = TestApp::spawn_with(|s| s.public_url = Some("https://sync.example.com".into())).await;
    let browser = app.browser();
    browser.sign_up("ann@example.com").await;
    let post = |headers: Vec<(&'static str, String)>| {
        let mut request = browser
            .client
            .post(format!("{}/api/shell", app.url))
            .header("Accept", "application/json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let host = app.url.trim_start_matches("http://").to_owned();
    for (headers, expected) in [
        (
            vec![("origin", "https://evil.example".to_owned())],
            StatusCode::FORBIDDEN,
        ),
        (vec![("origin", "null".to_owned())], StatusCode::FORBIDDEN),
        (
            vec![("sec-fetch-site", "cross-site".to_owned())],
            StatusCode::FORBIDDEN,
        ),
        (
            vec![
                ("origin", "https://evil.example".to_owned()),
                ("sec-fetch-site", "same-origin".to_owned()),
            ],
            StatusCode::FORBIDDEN,
        ),
        (vec![("origin", app.url.clone())], StatusCode::OK),
        (
            vec![("origin", "https://sync.example.com".to_owned())],
            StatusCode::OK,
        ),
        (vec![("origin", format!("https://{host}"))], StatusCode::OK),
        (
            vec![("sec-fetch-site", "same-origin".to_owned())],
            StatusCode::OK,
        ),
        (vec![], StatusCode::OK),
    ] {
        let response = post(headers.clone()).await.unwrap();
        assert_eq!(response.status(), expected, "{headers:?}");
        if expected == StatusCode::OK {
            assert_eq!(
                response.json::<serde_json::Value>().await.unwrap()["email"],
                "ann@example.com"
            );
        }
    }
    // A cross-site sign-out is refused too: the session survives.
    let refused = browser
        .client
        .post(format!("{}/api/sign_out", app.url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.shell().await["email"], "ann@example.com");
    // Reading is not a write: a cross-site GET still answers (SameSite keeps cookies off it).
    let page = browser
        .client
        .get(format!("{}/signin", app.url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}
