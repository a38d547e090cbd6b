//! `GET /api/health`: the server is up and its database answers.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use fieldcheck_core::sync::Health;

/// Answers `{"status":"ok","version":…}` once a trivial query succeeds, so a load balancer or the
/// xtask runner does not route phones to a server whose database is gone.
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    sqlx::query("SELECT 1").execute(&state.pool).await?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}
