//! Serving the built app (`dist/`) with a fallback to `index.html`, so client-side routes load too.
//!
//! The build leaves brotli (`.br`) and gzip (`.gz`) copies beside every text asset; a phone that
//! accepts them gets the compressed bytes as they are (the wasm is about a third of its size in
//! brotli), without the server compressing anything per request.

use axum::Router;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};

/// The service for every non-API path. Without a static folder it answers a plain 404, so the server
/// still runs for API-only use and tests.
pub fn service(static_dir: Option<&Path>) -> Router {
    match static_dir {
        Some(dir) if dir.is_dir() => {
            let index = ServeFile::new(dir.join("index.html"))
                .precompressed_br()
                .precompressed_gzip();
            let files = ServeDir::new(dir)
                .precompressed_br()
                .precompressed_gzip()
                .fallback(index);
            Router::new()
                .fallback_service(files)
                .layer(middleware::from_fn(cache_policy))
                .layer(middleware::from_fn(missing_files))
        }
        _ => Router::new().fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "not found (this server was started without the app's static files)",
            )
        }),
    }
}

/// A missing file answers 404, not the app's page: the page stands in only for the app's own routes
/// (which have no extension). A phone running an older build that asks for one of its screens' files
/// after a deploy must hear that the file is gone, not receive HTML it would try to run as wasm.
async fn missing_files(request: Request, next: Next) -> Response {
    let names_a_file = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(|name| name.contains('.') && !name.ends_with(".html"));
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("text/html"));
    if names_a_file && is_html {
        let mut gone = Response::new(axum::body::Body::from("not found"));
        *gone.status_mut() = StatusCode::NOT_FOUND;
        return gone;
    }
    response
}

/// How long phones may keep what they load. `index.html` (also served for every client-side route)
/// and the service worker are revalidated on each load, or phones keep running an old app after a
/// deploy; assets whose name carries Trunk's content hash never change under that name, so they are
/// kept for a year without asking again.
async fn cache_policy(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("text/html"));
    let policy = if path == "/sw.js" || is_html {
        Some("no-cache")
    } else if response.status().is_success() && has_content_hash(&path) {
        Some("public, max-age=31536000, immutable")
    } else {
        None
    };
    if let Some(policy) = policy {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// Whether a file name carries a content hash as Trunk writes it: `name-<hash>.ext` (the wasm adds
/// `_bg`). The hash is a 64-bit number in hex without leading zeros, so one build in sixteen has 15
/// digits; fewer than 12 would be one in 65 536, and such a file is merely revalidated (no policy).
fn has_content_hash(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (12..=16).contains(&hash.len()) && hash.chars().all(|c| c.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::has_content_hash;

    #[test]
    fn trunks_hashed_names_are_told_from_the_rest() {
        for hashed in [
            "/fieldcheck-a92eb608d28deba2_bg.wasm",
            "/fieldcheck-a92eb608d28deba2.js",
            "/main-841bb125564cb06a.css",
            // A hash with a leading zero digit is written one digit shorter.
            "/fieldcheck-fc3f800c4a2ce80_bg.wasm",
            "/fieldcheck-fc3f800c4a2ce80.js",
        ] {
            assert!(has_content_hash(hashed), "{hashed}");
        }
        for plain in [
            "/sw.js",
            "/index.html",
            "/icon-192.png",
            "/icon-maskable-512.png",
            "/manifest.webmanifest",
            "/robots.txt",
            "/fieldcheck-a92eb608d28deba2x.js",
        ] {
            assert!(!has_content_hash(plain), "{plain}");
        }
    }
}
