//! `POST /api/inspections/{id}/review`: a supervisor approves or returns a submitted inspection.

use crate::AppState;
use crate::audit::{self, Action, Outcome};
use crate::auth::Authed;
use crate::db::{self, DbError, RecordWrite};
use crate::error::ApiError;
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use fieldcheck_core::rules::{ReviewRefusal, check_review};
use fieldcheck_core::sync::{Entity, ReviewRequest};
use fieldcheck_core::{Inspection, Review};
use serde_json::Value;

/// The longest review comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// Applies core's review rules and stores the result as a new rev, with the review appended to the
/// record's history, a change-log entry and an audit row, so phones pull the outcome and the trail
/// shows who reviewed what when. A refused review is audited too.
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
    let comment = request
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|comment| !comment.is_empty())
        .map(str::to_owned);
    if comment
        .as_ref()
        .is_some_and(|comment| comment.chars().count() > MAX_COMMENT_CHARS)
    {
        return Err(ApiError::Invalid(format!(
            "the comment is longer than {MAX_COMMENT_CHARS} characters"
        )));
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
    let now = Utc::now();
    let content_hash = audit::content_hash(record.rev, &record.body);
    let event = |outcome, code, rev| audit::Event {
        at: now,
        user_id: Some(&caller.user_id),
        device_id: None,
        action: Action::Review,
        outcome,
        code,
        entity: Entity::Inspection.code(),
        id: &id,
        op_id: None,
        rev: Some(rev),
        content_hash: &content_hash,
    };
    let status = match check_review(
        &caller.user_id,
        &inspection,
        record.rev,
        request.rev,
        request.decision,
    ) {
        Ok(status) => status,
        Err(refusal) => {
            audit::append(
                &mut tx,
                event(Outcome::Rejected, Some(refusal.code()), request.rev),
            )
            .await?;
            tx.commit().await.map_err(DbError::from)?;
            return Err(refusal_error(&refusal));
        }
    };
    inspection.status = status;
    inspection.review_comment.clone_from(&comment);
    inspection.reviews.push(Review {
        by: caller.user_id.clone(),
        at: now.fixed_offset(),
        decision: request.decision,
        comment,
        rev: record.rev,
    });
    let body = serde_json::to_value(&inspection)
        .map_err(|error| ApiError::Internal(format!("re-serialising inspection {id}: {error}")))?;
    let new_rev = record.rev + 1;
    let write = RecordWrite {
        entity: Entity::Inspection,
        id: &id,
        unit_id: &record.unit_id,
        rev: new_rev,
        body: &body,
        user_id: Some(&caller.user_id),
        origin: None,
        at: now,
    };
    db::write_record(&mut tx, write).await?;
    audit::append(&mut tx, event(Outcome::Applied, None, new_rev)).await?;
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(inspection = %id, reviewer = %authed.user.username, status = inspection.status.code(), "review");
    Ok(Json(body))
}

fn refusal_error(refusal: &ReviewRefusal) -> ApiError {
    match refusal {
        ReviewRefusal::OwnRecord => ApiError::ForbiddenCode {
            code: "own_record",
            message: refusal.to_string(),
        },
        ReviewRefusal::Stale { .. } | ReviewRefusal::Status(_) => ApiError::Conflict {
            code: refusal.code(),
            message: refusal.to_string(),
        },
    }
}
