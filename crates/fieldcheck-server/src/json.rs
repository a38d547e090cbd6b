//! Reading JSON request bodies so that every failure answers in the API's error shape.

use crate::MAX_BODY_BYTES;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// Like `axum::Json`, but a body that is too large, not JSON or of the wrong shape becomes an
/// [`ApiError`] (413 / 400 `malformed` with serde's message) instead of axum's plain-text rejection.
/// The content type is not checked: the body is what matters, and clients differ in what they send.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
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
