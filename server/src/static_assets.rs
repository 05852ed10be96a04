//! Static files: the favicon (an SVG, also answered at `/favicon.ico`, where browsers look
//! for one) and the front end's `/pkg/` assets. Those are served as `build-frontend.sh`
//! left them, gzipped beforehand where it wrote a `.gz` beside the file (else compressed on
//! the way by the compression layer). Their names carry no content hash yet, so browsers
//! keep them but ask again each time (`no-cache`), and get `304 Not Modified` while the file
//! is unchanged.

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

/// The service for `/pkg/`: files under `site_root/pkg`, their `.gz` when the browser
/// accepts gzip, with conditional requests answered.
pub fn pkg(site_root: &str) -> ServeDir {
    ServeDir::new(std::path::Path::new(site_root).join("pkg")).precompressed_gzip()
}

/// `Cache-Control: no-cache` on `/pkg/` answers (kept, revalidated on each use).
pub async fn asset_caching(request: Request, next: Next) -> Response {
    let assets = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    if assets && response.status().is_success() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}
