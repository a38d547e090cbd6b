//! The HTTP calls to the sync server (same origin): login, logout, push, pull, photos, officers.
//! Nothing else talks HTTP.

use fieldcheck_core::engine::Remote;
use fieldcheck_core::sync::{
    ErrorResponse, LoginRequest, LoginResponse, PullResponse, PushRequest, PushResponse,
    UsersResponse,
};
use gloo_net::http::{Request, RequestBuilder, Response};
use gloo_timers::callback::Timeout;
use serde::de::DeserializeOwned;

use crate::sync::SyncError;
use crate::timing::Span;

/// How long one request may take before it counts as "no network" (basements, villages).
const TIMEOUT_MS: u32 = 30_000;
/// A photo upload gets one more second per this many bytes: one whose bytes go slowly is still
/// moving, not hanging. The engine uploads three at once, so each gets a third of the link: a
/// 200 KB photo has 130 s, and three of them get through at 4.6 KB/s, where one alone with the
/// plain 30 s needed 6.7 KB/s.
const UPLOAD_BYTES_PER_SECOND: f64 = 2_000.0;
/// A push gets one more second per this many bytes: a full request (256 KiB, the core's
/// `PUSH_BYTES`) has 96 s, so it gets through at 2.7 KB/s, where a batch of 50 records in the plain
/// 30 s needed 4.4 KB/s. A deadline that a slow link always misses would resend the same batch
/// forever; a stalled link is given up after the same 96 s.
const PUSH_BYTES_PER_SECOND: f64 = 4_000.0;

/// `POST /api/auth/login`. A 401 here means wrong credentials, not an expired session.
pub async fn login(username: &str, password: &str) -> Result<LoginResponse, SyncError> {
    let body = LoginRequest {
        username: username.to_owned(),
        password: password.to_owned(),
    };
    let (builder, timeout) = with_timeout(Request::post("/api/auth/login"))?;
    let request = builder
        .json(&body)
        .map_err(|error| SyncError::Bug(format!("cannot encode the login request: {error}")))?;
    let response = send(request, timeout).await?;
    match response.status() {
        200..=299 => read_json(&response).await,
        401 => Err(SyncError::BadCredentials),
        _ => Err(server_error(&response).await),
    }
}

/// `POST /api/auth/logout`: revokes the token on the server. A token the server no longer accepts
/// (401) is as good as revoked.
pub async fn logout(token: &str) -> Result<(), SyncError> {
    let (builder, timeout) = with_timeout(authorized(Request::post("/api/auth/logout"), token))?;
    let request = builder
        .build()
        .map_err(|error| SyncError::Bug(format!("cannot build the logout request: {error}")))?;
    let response = send(request, timeout).await?;
    match response.status() {
        200..=299 | 401 => Ok(()),
        _ => Err(server_error(&response).await),
    }
}

/// The server as a sync run reaches it, with the session's token: the core engine's remote port.
pub struct HttpRemote<'a> {
    pub token: &'a str,
}

impl Remote for HttpRemote<'_> {
    type Error = SyncError;

    async fn push(&self, request: &PushRequest) -> Result<PushResponse, SyncError> {
        let _span = Span::start("fieldcheck:push");
        push(self.token, request).await
    }

    async fn pull(&self, since: Option<&str>, limit: u32) -> Result<PullResponse, SyncError> {
        let _span = Span::start("fieldcheck:pull");
        pull(self.token, since, limit).await
    }
}

/// `POST /api/sync/push`.
///
/// Like a photo, a push is given time by its size: a batch of large records on a weak uplink must not
/// time out where a small one would not.
pub async fn push(token: &str, request: &PushRequest) -> Result<PushResponse, SyncError> {
    let text = serde_json::to_string(request)
        .map_err(|error| SyncError::Bug(format!("cannot encode the push request: {error}")))?;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "a push is at most a few MB: its seconds fit in u32"
    )]
    let extra_ms = (text.len() as f64 / PUSH_BYTES_PER_SECOND * 1000.0) as u32;
    let (builder, timeout) = with_deadline(
        authorized(Request::post("/api/sync/push"), token)
            .header("Content-Type", "application/json"),
        TIMEOUT_MS.saturating_add(extra_ms),
    )?;
    let request = builder
        .body(text)
        .map_err(|error| SyncError::Bug(format!("cannot build the push request: {error}")))?;
    let response = send(request, timeout).await?;
    answer(&response).await
}

/// `GET /api/sync/pull?since=CURSOR&limit=N`.
pub async fn pull(token: &str, since: Option<&str>, limit: u32) -> Result<PullResponse, SyncError> {
    let limit = limit.to_string();
    let mut query = vec![("limit", limit.as_str())];
    if let Some(since) = since {
        query.push(("since", since));
    }
    let (builder, timeout) =
        with_timeout(authorized(Request::get("/api/sync/pull"), token).query(query))?;
    let request = builder
        .build()
        .map_err(|error| SyncError::Bug(format!("cannot build the pull request: {error}")))?;
    let response = send(request, timeout).await?;
    answer(&response).await
}

/// `PUT /api/photos/{sha256}` with the photo's bytes. 200 and 201 both mean the server has them.
pub async fn put_photo(token: &str, name: &str, blob: &web_sys::Blob) -> Result<(), SyncError> {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a photo is a few MB at most: its seconds fit in u32"
    )]
    let extra_ms = (blob.size() / UPLOAD_BYTES_PER_SECOND * 1000.0) as u32;
    let (builder, timeout) = with_deadline(
        authorized(Request::put(&format!("/api/photos/{name}")), token)
            .header("Content-Type", &blob.type_()),
        TIMEOUT_MS.saturating_add(extra_ms),
    )?;
    let request = builder
        .body(blob.clone())
        .map_err(|error| SyncError::Bug(format!("cannot build the photo upload: {error}")))?;
    let response = send(request, timeout).await?;
    match response.status() {
        200..=299 => Ok(()),
        401 => Err(SyncError::Unauthorized),
        _ => Err(server_error(&response).await),
    }
}

/// `GET /api/photos/{sha256}`: the bytes as a Blob, with their content type. Bytes that do not hash
/// to the name are refused here too: a photo is evidence.
pub async fn get_photo(token: &str, name: &str) -> Result<(web_sys::Blob, String), SyncError> {
    // Past the browser's cache: one kept by an older server's answer would hand the bytes to
    // whoever uses the phone next, unasked. The app keeps its own copy, bound to its user.
    let (builder, timeout) = with_timeout(authorized(
        Request::get(&format!("/api/photos/{name}")).cache(web_sys::RequestCache::NoStore),
        token,
    ))?;
    let request = builder
        .build()
        .map_err(|error| SyncError::Bug(format!("cannot build the photo request: {error}")))?;
    let response = send(request, timeout).await?;
    match response.status() {
        200 => {}
        401 => return Err(SyncError::Unauthorized),
        _ => return Err(server_error(&response).await),
    }
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap_or_else(|| "image/jpeg".to_owned());
    let bytes = response
        .binary()
        .await
        .map_err(|error| SyncError::Offline(error.to_string()))?;
    if fieldcheck_core::photo_name(&bytes) != name {
        return Err(SyncError::Protocol(format!(
            "the server's bytes for photo {name} do not hash to its name"
        )));
    }
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&content_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|error| SyncError::Bug(format!("cannot make a Blob: {error:?}")))?;
    Ok((blob, content_type))
}

/// `GET /api/users`: the officers of the caller's unit, for picking a partner offline.
pub async fn users(token: &str) -> Result<UsersResponse, SyncError> {
    let (builder, timeout) = with_timeout(authorized(Request::get("/api/users"), token))?;
    let request = builder
        .build()
        .map_err(|error| SyncError::Bug(format!("cannot build the users request: {error}")))?;
    let response = send(request, timeout).await?;
    answer(&response).await
}

fn authorized(builder: RequestBuilder, token: &str) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {token}"))
}

/// Arms a timeout that aborts the request: a request that hangs counts as no network.
fn with_timeout(builder: RequestBuilder) -> Result<(RequestBuilder, Timeout), SyncError> {
    with_deadline(builder, TIMEOUT_MS)
}

/// [`with_timeout`] with a time of its own.
fn with_deadline(
    builder: RequestBuilder,
    timeout_ms: u32,
) -> Result<(RequestBuilder, Timeout), SyncError> {
    let controller = web_sys::AbortController::new()
        .map_err(|error| SyncError::Bug(format!("AbortController: {error:?}")))?;
    let builder = builder.abort_signal(Some(&controller.signal()));
    let timeout = Timeout::new(timeout_ms, move || controller.abort());
    Ok((builder, timeout))
}

/// Sends; a request that never reaches the server is [`SyncError::Offline`].
async fn send(request: Request, timeout: Timeout) -> Result<Response, SyncError> {
    let result = request.send().await;
    // Dropping the timeout cancels it.
    drop(timeout);
    result.map_err(|error| SyncError::Offline(error.to_string()))
}

/// Reads a 2xx answer, or turns a failure status into the error it stands for.
async fn answer<T: DeserializeOwned>(response: &Response) -> Result<T, SyncError> {
    match response.status() {
        200..=299 => read_json(response).await,
        401 => Err(SyncError::Unauthorized),
        _ => Err(server_error(response).await),
    }
}

async fn read_json<T: DeserializeOwned>(response: &Response) -> Result<T, SyncError> {
    response.json::<T>().await.map_err(|error| {
        SyncError::Protocol(format!(
            "unexpected answer from {}: {error}",
            response.url()
        ))
    })
}

async fn server_error(response: &Response) -> SyncError {
    let status = response.status();
    // A proxy or captive portal may answer with HTML: keep the status, note the missing body.
    let (code, message) = match response.json::<ErrorResponse>().await {
        Ok(body) => (body.error.code, body.error.message),
        Err(_) => ("no_error_body".to_owned(), response.status_text()),
    };
    if status == 429 {
        return SyncError::Throttled;
    }
    SyncError::Server {
        status,
        code,
        message,
    }
}

/// A JSON request of a supervisor's or administrator's screen (`method` and `path` under `/api`),
/// answered with JSON; `None` body for a GET.
pub async fn call_json<B: serde::Serialize, T: DeserializeOwned>(
    token: &str,
    method: &str,
    path: &str,
    body: Option<&B>,
) -> Result<T, SyncError> {
    let builder = match method {
        "POST" => Request::post(path),
        "PATCH" => Request::patch(path),
        _ => Request::get(path),
    };
    let (builder, timeout) = with_timeout(authorized(builder, token))?;
    let request = match body {
        Some(body) => builder.json(body),
        None => builder.build(),
    }
    .map_err(|error| SyncError::Bug(format!("cannot build the request to {path}: {error}")))?;
    let response = send(request, timeout).await?;
    match response.status() {
        // 204: nothing to read; `T` is `()` for those calls.
        204 => serde_json::from_value(serde_json::Value::Null)
            .map_err(|error| SyncError::Protocol(format!("no answer from {path}: {error}"))),
        _ => answer(&response).await,
    }
}

/// A file from the server (an export), as a Blob.
pub async fn get_file(token: &str, path: &str) -> Result<web_sys::Blob, SyncError> {
    let (builder, timeout) = with_timeout(authorized(Request::get(path), token))?;
    let request = builder
        .build()
        .map_err(|error| SyncError::Bug(format!("cannot build the request to {path}: {error}")))?;
    let response = send(request, timeout).await?;
    match response.status() {
        200..=299 => {
            let bytes = response
                .binary()
                .await
                .map_err(|error| SyncError::Offline(error.to_string()))?;
            let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
            web_sys::Blob::new_with_u8_array_sequence(&parts)
                .map_err(|error| SyncError::Bug(format!("Blob: {error:?}")))
        }
        401 => Err(SyncError::Unauthorized),
        _ => Err(server_error(&response).await),
    }
}

/// A file to the server (a venue register), answered with JSON.
pub async fn post_file<T: DeserializeOwned>(
    token: &str,
    path: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<T, SyncError> {
    let (builder, timeout) =
        with_timeout(authorized(Request::post(path), token).header("Content-Type", content_type))?;
    let body = js_sys::Uint8Array::from(bytes);
    let request = builder
        .body(body)
        .map_err(|error| SyncError::Bug(format!("cannot build the upload to {path}: {error}")))?;
    let response = send(request, timeout).await?;
    answer(&response).await
}
