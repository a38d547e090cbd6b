//! `POST /api/inspections/{id}/review`: a supervisor approves or returns a submitted inspection.

use crate::AppState;
use crate::auth::Authed;
use crate::db::{self, DbError, RecordWrite};
use crate::error::ApiError;
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use fieldcheck_core::sync::{Entity, ReviewRequest};
use fieldcheck_core::{Inspection, TransitionError};
use serde_json::Value;

/// Applies core's review rule and stores the result as a new rev, with a change-log entry like a
/// push, so phones pull the outcome and the audit trail shows who reviewed when.
///
/// Answers the updated inspection. A record in another unit answers 404 like a missing one, so
/// supervisors cannot probe other units' ids.
pub async fn review(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReviewRequest>,
) -> Result<Json<Value>, ApiError> {
    let caller = &authed.caller;
    if !caller.role.reviews() {
        return Err(ApiError::Forbidden(
            "only supervisors and admins review inspections".to_owned(),
        ));
    }
    let mut tx = db::begin_write(&state.pool).await?;
    let record = db::get_record(&mut *tx, Entity::Inspection, &id)
        .await?
        .filter(|record| caller.sees_unit(&record.unit_id))
        .ok_or_else(|| ApiError::NotFound(format!("no inspection {id}")))?;
    let mut inspection: Inspection =
        serde_json::from_value(record.body.clone()).map_err(|error| {
            ApiError::Internal(format!("stored inspection {id} does not parse: {error}"))
        })?;
    inspection.status = inspection
        .status
        .review(request.decision)
        .map_err(|error| {
            let code = match error {
                TransitionError::Locked => "locked",
                TransitionError::NotSubmitted(_) => "not_submitted",
                TransitionError::ReviewOnly(_) => "invalid",
            };
            ApiError::Conflict {
                code,
                message: error.to_string(),
            }
        })?;
    inspection.review_comment = request
        .comment
        .map(|comment| comment.trim().to_owned())
        .filter(|comment| !comment.is_empty());
    let body = serde_json::to_value(&inspection)
        .map_err(|error| ApiError::Internal(format!("re-serialising inspection {id}: {error}")))?;
    let write = RecordWrite {
        entity: Entity::Inspection,
        id: &id,
        unit_id: &record.unit_id,
        rev: record.rev + 1,
        body: &body,
        user_id: Some(&caller.user_id),
        origin: None,
        at: Utc::now(),
    };
    db::write_record(&mut tx, write).await?;
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(inspection = %id, reviewer = %authed.user.username, status = inspection.status.code(), "review");
    Ok(Json(body))
}
