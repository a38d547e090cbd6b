//! Reading JSON request bodies so that every failure answers in the API's error shape.

use crate::MAX_BODY_BYTES;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

/// Like `axum::Json`, but a body that is too large, not JSON or of the wrong shape becomes an
/// [`ApiError`] (413 / 400 `malformed` with serde's message) instead of axum's plain-text rejection.
///
/// The body must be declared `Content-Type: application/json` (415 otherwise): a cross-site form or
/// `text/plain` POST can be sent by any web page without a CORS preflight, a JSON one cannot.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !declares_json(&request) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge {
                        code: "body_too_large",
                        message: format!(
                            "the request body is larger than {} MiB",
                            MAX_BODY_BYTES / (1024 * 1024)
                        ),
                    }
                } else {
                    ApiError::Malformed(rejection.body_text())
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|error| {
                ApiError::Malformed(format!(
                    "the body is not valid JSON for this request: {error}"
                ))
            })
    }
}

/// `application/json`, with or without parameters (`; charset=utf-8`), in any letter case.
fn declares_json(request: &Request) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}
