//! Serving the built app (`dist/`) with a fallback to `index.html`, so client-side routes load too.

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
            let index = ServeFile::new(dir.join("index.html"));
            Router::new()
                .fallback_service(ServeDir::new(dir).fallback(index))
                .layer(middleware::from_fn(no_cache_for_shell))
        }
        _ => Router::new().fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "not found (this server was started without the app's static files)",
            )
        }),
    }
}

/// `index.html` (also served for every client-side route) and the service worker must be revalidated
/// on each load, or phones keep running an old app after a deploy; the hashed assets they name may be
/// cached as the browser likes.
async fn no_cache_for_shell(request: Request, next: Next) -> Response {
    let is_service_worker = request.uri().path() == "/sw.js";
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("text/html"));
    if is_service_worker || is_html {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}
