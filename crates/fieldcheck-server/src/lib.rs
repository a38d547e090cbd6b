//! FieldCheck sync server: the JSON API (`docs/protocol.md`) and the built app, from one port.
//!
//! `router` is the whole HTTP surface in one table; `serve` runs it on a bound listener (the binary and
//! the tests use the same function). The rules themselves (validation, status transitions, conflict
//! classification, visibility) live in `fieldcheck-core`; this crate executes them against SQLite.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod db;
pub mod demo;
pub mod error;
pub mod health;
pub mod initials;
pub mod inspections;
pub mod json;
pub mod photos;
pub mod repair;
pub mod reports;
pub mod security;
pub mod static_files;
pub mod sync;
pub mod templates;
pub mod tls;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use chrono::TimeDelta;
use sqlx::AnyPool;
use std::any::Any;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use error::ApiError;

/// The largest request body accepted: a full push of 500 inspections with long notes fits easily.
/// A photo upload has its own limit, [`Settings::photo_limit_bytes`].
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How the server runs; everything a test may want to change without touching the code.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a login token works.
    pub token_ttl: TimeDelta,
    /// The built app (`dist/`); `None` or a missing folder serves only the API.
    pub static_dir: Option<PathBuf>,
    /// How long a login waits for one of the [`auth::MAX_CONCURRENT_HASHES`] password checks before
    /// it answers 503 `busy`.
    pub hash_wait: std::time::Duration,
    /// The largest photo `PUT /api/photos/{sha256}` accepts, in bytes (413 `too_large` above it).
    pub photo_limit_bytes: usize,
    /// Load balancers or reverse proxies whose `X-Forwarded-For` names the client: without them,
    /// every phone behind a balancer would share its address in the login throttle.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_ttl: TimeDelta::days(30),
            static_dir: None,
            hash_wait: std::time::Duration::from_secs(5),
            photo_limit_bytes: photos::DEFAULT_LIMIT_BYTES,
            trusted_proxies: Vec::new(),
        }
    }
}

/// What every handler shares: one pool for the whole process, the photo store, the settings and the
/// login throttle.
#[derive(Clone)]
pub struct AppState {
    pub pool: AnyPool,
    /// Where photos and signatures are kept ([`photos::open_store`]: a folder or a bucket).
    pub photos: photos::PhotoStore,
    pub settings: Arc<Settings>,
    pub throttle: Arc<auth::LoginThrottle>,
    /// Pushes waiting to be written together ([`sync::PushQueue`]).
    pub pushes: Arc<sync::PushQueue>,
}

impl AppState {
    pub fn new(pool: AnyPool, photos: photos::PhotoStore, settings: Settings) -> AppState {
        AppState {
            pool,
            photos,
            settings: Arc::new(settings),
            throttle: Arc::new(auth::LoginThrottle::default()),
            pushes: Arc::default(),
        }
    }
}

/// The whole HTTP surface: the API under `/api`, the app's static files everywhere else.
pub fn router(state: AppState) -> Router {
    // A photo's own limit replaces the JSON one on its route, enforced while the body is read.
    let photo_limit = DefaultBodyLimit::max(state.settings.photo_limit_bytes);
    let api = Router::new()
        .route("/health", get(health::health))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/sync/push", post(sync::push))
        .route("/sync/pull", get(sync::pull))
        .route("/inspections/{id}/review", post(inspections::review))
        .route("/templates", get(templates::list))
        .route("/stats", get(reports::stats))
        .route("/export.xlsx", get(reports::export_xlsx))
        .route("/export.csv", get(reports::export_csv))
        .route("/users", get(users::list).post(admin::add_user))
        .route("/users/{id}", patch(admin::patch_user))
        .route("/users/{id}/password", post(admin::reset_password))
        .route("/units", get(admin::list_units).post(admin::add_unit))
        .route("/venues/import", post(admin::import_venues))
        .route(
            "/photos/{sha256}",
            put(photos::put).get(photos::get).layer(photo_limit),
        )
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed);

    let headers = security::SecurityHeaders::for_app(state.settings.static_dir.as_deref());
    Router::new()
        .nest("/api", api)
        .fallback_service(static_files::service(state.settings.static_dir.as_deref()))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(panic_response))
        // Outside the panic catcher, so that even a bug's answer carries the headers.
        .layer(axum::middleware::map_response(
            move |mut response: Response| {
                headers.apply(response.headers_mut());
                std::future::ready(response)
            },
        ))
        // Every request's log lines carry its id: the load balancer's `x-request-id` if it sent one,
        // else a new UUID; the answer carries it back, so a phone's report can be matched to a line.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Serves `router(state)` on an already bound listener until `shutdown` completes, then lets requests
/// in flight finish. Binding first is what lets callers print (or test against) the real port.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The connection's address feeds the login throttle's per-address limits.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Like [`serve`], over HTTPS with `certificate` (phones on the LAN need a secure context).
pub async fn serve_tls(
    listener: std::net::TcpListener,
    state: AppState,
    certificate: tls::Certificate,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config =
        axum_server::tls_rustls::RustlsConfig::from_pem(certificate.cert_pem, certificate.key_pem)
            .await?;
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        // Requests under way get a few seconds to finish; new connections are refused at once.
        stopping.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum_server::from_tcp_rustls(listener, config)?
        .handle(handle)
        .serve(app)
        .await
}

/// The span a request's log lines are in: method, path (no query) and request id.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
    )
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("no such API endpoint".to_owned())
}

async fn api_method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// A panic is a bug: log it and answer like any internal error, never with the panic text.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    ApiError::Internal(format!("handler panicked: {detail}")).into_response()
}
