//! The operator's address ranges (`LOCKSTEP_CONNECTION_DENY` / `LOCKSTEP_CONNECTION_ALLOW`),
//! applied process-wide: in a test binary of their own so no other test sees them.

mod support;

use engine::connectors::destination::{Ranges, configure, parse_ranges};
use support::TestApp;

#[tokio::test]
async fn the_operator_denies_or_allows_only_some_ranges() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let server = url::Url::parse(&support::admin_url()).unwrap();
    let port = server.port().unwrap_or(5432).to_string();
    let test = |host: &'static str| {
        let (ann, ws, port) = (&ann, ws.clone(), port.clone());
        async move {
            ann.call_ok(
                "save_connection",
                &[
                    ("workspace_id", ws.as_str()),
                    ("intent", "test"),
                    ("name", "Local"),
                    ("kind", "postgres"),
                    ("host", host),
                    ("port", port.as_str()),
                    ("database", "postgres"),
                    ("username", "postgres"),
                    ("ssl_mode", "disable"),
                ],
            )
            .await
        }
    };
    // By default loopback is allowed.
    assert_eq!(test("localhost").await["ok"], true);

    // Denied: a host name resolving into the range is refused too.
    configure(Ranges {
        allow: Vec::new(),
        deny: parse_ranges("127.0.0.0/8, ::1").unwrap(),
    });
    let body = test("localhost").await;
    assert_eq!(body["title"], "Not allowed", "{body}");
    assert!(
        body.to_string().contains("LOCKSTEP_CONNECTION_DENY"),
        "{body}"
    );
    // Cloud clients check every address they resolve (and literal ones) at each request,
    // without waiting and retrying.
    let api = engine::connectors::cloud::http::Api::new(
        "Test",
        engine::connectors::cloud::http::RetryPolicy::default(),
    )
    .unwrap();
    for url in [
        "http://localhost:9/",
        "http://127.0.0.1:9/",
        "http://[::1]:9/",
    ] {
        let started = std::time::Instant::now();
        let error = api
            .send("probe", || api.client().get(url))
            .await
            .expect_err("refused");
        assert!(
            error.to_string().contains("LOCKSTEP_CONNECTION_DENY"),
            "{url}: {error}"
        );
        assert!(!error.is_retryable());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{url}"
        );
    }

    // Allowed only elsewhere: refused, naming the setting.
    configure(Ranges {
        allow: parse_ranges("10.0.0.0/8").unwrap(),
        deny: Vec::new(),
    });
    let body = test("127.0.0.1").await;
    assert_eq!(body["title"], "Not allowed", "{body}");
    assert!(
        body.to_string().contains("LOCKSTEP_CONNECTION_ALLOW"),
        "{body}"
    );

    configure(Ranges::default());
    assert_eq!(test("127.0.0.1").await["ok"], true);
}
