//! `GET /api/templates`: the checklist templates as data (codes, wording, legal basis, version).

use crate::auth::Authed;
use axum::Json;
use fieldcheck_core::sync::TemplatesResponse;

/// The current template of every venue kind, for other clients and tools that build records.
pub async fn list(_authed: Authed) -> Json<TemplatesResponse> {
    Json(TemplatesResponse::current())
}
