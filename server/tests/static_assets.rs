//! What the server sends besides pages: a favicon anyone may fetch, answers compressed as
//! the browser accepts, content-hashed `/pkg/` assets that browsers keep for a year, and
//! other `/pkg/` files that browsers keep but revalidate.

mod support;

use support::TestApp;

fn client() -> reqwest::Client {
    // No automatic decompression: the test reads the encoding the server chose.
    reqwest::Client::builder().build().unwrap()
}

#[tokio::test]
async fn the_favicon_is_served_to_anyone() {
    let app = TestApp::spawn().await;
    for path in ["/favicon.ico", "/favicon.svg"] {
        let response = client()
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "image/svg+xml");
        assert!(response.text().await.unwrap().starts_with("<svg"));
    }
}

/// The encoding the server chose for `path` and the bytes it sent.
async fn fetch_encoded(base: &str, path: &str, accept: &str) -> (String, Vec<u8>) {
    let response = client()
        .get(format!("{base}{path}"))
        .header("accept-encoding", accept)
        .send()
        .await
        .unwrap();
    let encoding = response.headers()["content-encoding"]
        .to_str()
        .unwrap()
        .to_owned();
    (encoding, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn pages_and_assets_are_compressed_and_assets_revalidated() {
    let site =
        std::env::temp_dir().join(format!("lockstep-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let css = "body { color: black; }\n".repeat(200);
    std::fs::write(site.join("pkg/lockstep.css"), &css).unwrap();
    // A build with content-hashed names, as build-frontend.sh leaves it.
    std::fs::write(site.join("pkg/asset-name"), "lockstep-0123abcd\n").unwrap();
    std::fs::write(site.join("pkg/lockstep-0123abcd.css"), &css).unwrap();
    let root = site.to_str().unwrap().to_owned();
    let app = TestApp::spawn_with(|s| s.site_root = root).await;

    // Pages name the hashed files, which are kept for a year.
    let page = client()
        .get(format!("{}/signin", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for asset in [
        "/pkg/lockstep-0123abcd.css",
        "/pkg/lockstep-0123abcd.js",
        "/pkg/lockstep-0123abcd_bg.wasm",
    ] {
        assert!(page.contains(asset), "the page does not name {asset}");
    }
    let hashed = client()
        .get(format!("{}/pkg/lockstep-0123abcd.css", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(hashed.status(), 200);
    assert_eq!(
        hashed.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    for (path, encoding) in [("/signin", "gzip"), ("/pkg/lockstep.css", "br")] {
        let response = client()
            .get(format!("{}{path}", app.url))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-encoding"], encoding, "{path}");
        let sent = response.bytes().await.unwrap().len();
        if path.starts_with("/pkg/") {
            assert!(
                sent < css.len() / 10,
                "{sent} bytes for {} of CSS",
                css.len()
            );
        }
    }
    // Pages are gzipped even for a browser that prefers brotli (brotli on the fly costs more
    // CPU than rendering the page).
    assert_eq!(
        fetch_encoded(&app.url, "/signin", "br, gzip").await.0,
        "gzip"
    );
    // A file gzipped beforehand (by build-frontend.sh) is sent as it is.
    std::fs::write(site.join("pkg/lockstep.js"), "export default 1;").unwrap();
    std::fs::write(site.join("pkg/lockstep.js.gz"), b"prepared gzip bytes").unwrap();
    assert_eq!(
        fetch_encoded(&app.url, "/pkg/lockstep.js", "gzip, br").await,
        ("gzip".to_owned(), b"prepared gzip bytes".to_vec())
    );
    // With brotli beside it too, a browser that accepts both gets brotli.
    std::fs::write(site.join("pkg/lockstep.js.br"), b"prepared brotli bytes").unwrap();
    assert_eq!(
        fetch_encoded(&app.url, "/pkg/lockstep.js", "gzip, br").await,
        ("br".to_owned(), b"prepared brotli bytes".to_vec())
    );

    let asset = client()
        .get(format!("{}/pkg/lockstep.css", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.headers()["cache-control"], "no-cache");
    assert!(
        asset.headers().get("content-encoding").is_none(),
        "not asked for"
    );
    let modified = asset.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(asset.text().await.unwrap(), css);
    let again = client()
        .get(format!("{}/pkg/lockstep.css", app.url))
        .header("if-modified-since", modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}
