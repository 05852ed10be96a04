//! Static files: the favicon (an SVG, also answered at `/favicon.ico`, where browsers look
//! for one) and the front end's `/pkg/` assets. Those are served as `build-frontend.sh`
//! left them, compressed beforehand where it wrote a `.br` or `.gz` beside the file (else
//! compressed on the way). Their names carry a hash of their content
//! (`lockstep-<hash>.js`, `…_bg.wasm`, `….css`, named in `pkg/asset-name`), so browsers keep
//! them for a year without asking again; a new build has new names. Anything else under
//! `/pkg/` (assets built without a hash) is kept but revalidated (`no-cache`, `304`).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

/// Lockstep's mark: two arrows in step.
const FAVICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1f4fd1"/><path d="M7 11h15l-4-4M25 21H10l4 4" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>"##;

pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// The file `build-frontend.sh` writes the assets' hashed name to.
const ASSET_NAME_FILE: &str = "asset-name";

/// The name of assets built without a content hash (or not built at all).
pub const PLAIN_ASSET_NAME: &str = "lockstep";

/// The content-hashed name the front end's assets carry under `site_root/pkg`
/// (`lockstep-<hash>`), if `build-frontend.sh` wrote one.
pub fn hashed_asset_name(site_root: &str) -> Option<String> {
    let name = std::fs::read_to_string(
        std::path::Path::new(site_root)
            .join("pkg")
            .join(ASSET_NAME_FILE),
    )
    .ok()?;
    let name = name.trim();
    let hash = name.strip_prefix("lockstep-")?;
    (!hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit())).then(|| name.to_owned())
}

/// The service for `/pkg/`: files under `site_root/pkg`, their `.br` or `.gz` when the
/// browser accepts that encoding, with conditional requests answered. A file without them
/// (a build without the brotli tool) is compressed on the way, brotli included; pages are
/// only gzipped (see `startup`), assets are worth brotli's CPU: browsers keep them.
pub fn pkg(site_root: &str) -> tower_http::compression::Compression<ServeDir> {
    use tower::Layer as _;
    tower_http::compression::CompressionLayer::new()
        .quality(tower_http::CompressionLevel::Precise(9))
        .layer(
            ServeDir::new(std::path::Path::new(site_root).join("pkg"))
                .precompressed_br()
                .precompressed_gzip(),
        )
}

/// `Cache-Control` on `/pkg/` answers: a year, immutable, for the content-hashed assets
/// (`hashed` is their path prefix, `/pkg/lockstep-<hash>`, when they have one); revalidated
/// on each use for the rest.
pub async fn asset_caching(
    axum::extract::State(hashed): axum::extract::State<Option<std::sync::Arc<str>>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let assets = path.starts_with("/pkg/");
    let immutable = hashed
        .as_deref()
        .is_some_and(|prefix| path.starts_with(prefix));
    let mut response = next.run(request).await;
    if assets && response.status().is_success() {
        let policy = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}
