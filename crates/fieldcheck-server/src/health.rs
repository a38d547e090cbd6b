//! `GET /api/health`: the server is up, its database answers and its photo store can be reached.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use fieldcheck_core::sync::Health;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;

/// A name no photo has (photos are named by 64 hex digits): asking for it reaches the store and
/// answers "not found" when all is well.
const PROBE: &str = "health-probe";

/// Answers `{"status":"ok","version":…}` once a trivial query succeeds and the photo store answers,
/// so a load balancer or the xtask runner does not route phones to a server whose database or
/// bucket is gone; 500 otherwise (the cause is logged, not sent).
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    sqlx::query("SELECT 1").execute(&state.pool).await?;
    match state.photos.head(&ObjectPath::from(PROBE)).await {
        Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
        Err(error) => {
            return Err(ApiError::Internal(format!(
                "the photo store does not answer: {error}"
            )));
        }
    }
    Ok(Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}
