//! Administration: users (add, edit, reset password, disable), units, and importing the venue register
//! from a spreadsheet. Admins manage everything; supervisors manage the inspectors of their own unit
//! and their unit's venues. Every change is audited.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;
use fieldcheck_core::import::{self, FileProblem, ImportReport, RowAction};
use fieldcheck_core::sync::{
    Entity, NewUnit, NewUserRequest, Officer, PasswordReset, Unit, UnitsResponse, UserPatch,
};
use fieldcheck_core::{Role, UnitId, User, UserId, Venue, VenueId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::audit::{self, Action, Outcome};
use crate::auth::{Authed, hash_password};
use crate::db::{self, DbError, RecordWrite};
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::users::{self, NewUser, UserError};

/// The shortest password an administrator may set.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Whether the caller may manage a user of `role` in `unit`: admins anyone, supervisors the
/// inspectors of their own unit.
fn check_manages(authed: &Authed, unit: &UnitId, role: Role) -> Result<(), ApiError> {
    let caller = &authed.caller;
    match caller.role {
        Role::Admin => Ok(()),
        Role::Supervisor if &caller.unit_id == unit && role == Role::Inspector => Ok(()),
        Role::Supervisor => Err(ApiError::Forbidden(
            "supervisors manage the inspectors of their own unit only".to_owned(),
        )),
        Role::Inspector => Err(ApiError::Forbidden(
            "only supervisors and admins manage users".to_owned(),
        )),
    }
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::Invalid(format!(
            "the password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.trim().is_empty() {
        return Err(ApiError::Invalid(
            "the password must not be only spaces".to_owned(),
        ));
    }
    Ok(())
}

/// Appends an administrative change to the audit chain: `what` describes it (never a password).
async fn audit_change(
    tx: &mut sqlx::AnyConnection,
    authed: &Authed,
    entity: &str,
    id: &str,
    what: &Value,
) -> Result<(), ApiError> {
    let content_hash = audit::content_hash(0, what);
    audit::append(
        tx,
        audit::Event {
            at: Utc::now(),
            user_id: Some(&authed.caller.user_id),
            device_id: None,
            action: Action::Admin,
            outcome: Outcome::Applied,
            code: None,
            entity,
            id,
            op_id: None,
            rev: None,
            content_hash: &content_hash,
        },
    )
    .await?;
    Ok(())
}

/// `POST /api/users`: adds a user; answers 201 with the user.
pub async fn add_user(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(request): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, Json<Officer>), ApiError> {
    let unit_id = request
        .unit_id
        .clone()
        .unwrap_or_else(|| authed.caller.unit_id.clone());
    check_manages(&authed, &unit_id, request.role)?;
    check_password(&request.password)?;
    if request.name.trim().is_empty() {
        return Err(ApiError::Invalid("the user needs a name".to_owned()));
    }
    plain_text("name", &request.name)?;
    plain_text("cert_no", request.cert_no.as_deref().unwrap_or_default())?;
    let unit_name = db::units(&state.pool, Some(&unit_id))
        .await?
        .into_iter()
        .next()
        .map(|(_, name)| name)
        .ok_or_else(|| ApiError::Invalid(format!("there is no unit {unit_id}")))?;
    let user_error = |error| match error {
        UserError::Hash(error) => ApiError::Internal(error.to_string()),
        UserError::Database(error) => ApiError::from(error),
        UserError::DuplicateUsername(name) => ApiError::Conflict {
            code: "username_taken",
            message: format!("a user named \"{name}\" already exists"),
        },
        other => ApiError::Invalid(other.to_string()),
    };
    let prepared = users::prepare(NewUser {
        username: request.username,
        password: request.password,
        role: request.role,
        unit_name,
        name: Some(request.name),
        cert_no: request.cert_no,
    })
    .await
    .map_err(user_error)?;
    // The user and its audit row in one transaction: the officer exists exactly when it is audited.
    let mut tx = db::begin_write(&state.pool).await?;
    let user = users::insert(&mut tx, prepared).await.map_err(user_error)?;
    audit_change(
        &mut tx,
        &authed,
        "user",
        user.id.as_str(),
        &json!({"added": user}),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(user = %user.username, by = %authed.user.username, "user added");
    Ok((StatusCode::CREATED, Json(Officer { user, active: true })))
}

/// The user `id` if the caller may manage them (others answer 404, like a missing user, so that ids of
/// other units cannot be probed).
async fn managed_user(
    conn: &mut sqlx::AnyConnection,
    authed: &Authed,
    id: &str,
) -> Result<(User, bool), ApiError> {
    let (user, active) = db::user_by_id(&mut *conn, &UserId(id.to_owned()))
        .await?
        .filter(|(user, _)| authed.caller.sees_unit(&user.unit_id))
        .ok_or_else(|| ApiError::NotFound(format!("no user {id}")))?;
    check_manages(authed, &user.unit_id, user.role)?;
    Ok((user, active))
}

/// `PATCH /api/users/{id}`: changes name, role, certificate number or whether the account works.
/// Disabling revokes every token at once. Nobody disables or demotes themselves, so an active admin
/// always remains: only an admin changes an admin, and never their own account.
pub async fn patch_user(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<Officer>, ApiError> {
    let mut tx = db::begin_write(&state.pool).await?;
    let (mut user, was_active) = managed_user(&mut tx, &authed, &id).await?;
    if user.id == authed.caller.user_id
        && (patch.active == Some(false) || patch.role.is_some_and(|role| role != user.role))
    {
        return Err(ApiError::ForbiddenCode {
            code: "own_account",
            message: "you cannot disable your own account or change your own role".to_owned(),
        });
    }
    if let Some(role) = patch.role {
        check_manages(&authed, &user.unit_id, role)?;
        user.role = role;
    }
    if let Some(name) = &patch.name {
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiError::Invalid("the user needs a name".to_owned()));
        }
        plain_text("name", name)?;
        name.clone_into(&mut user.name);
    }
    if let Some(cert_no) = &patch.cert_no {
        plain_text("cert_no", cert_no)?;
        user.cert_no = Some(cert_no.trim().to_owned()).filter(|cert_no| !cert_no.is_empty());
    }
    db::update_user(&mut *tx, &user).await?;
    let active = patch.active.unwrap_or(was_active);
    if active != was_active {
        db::set_user_active(&mut *tx, &user.id, active).await?;
        if !active {
            db::revoke_tokens_of(&mut *tx, &user.id).await?;
        }
    }
    audit_change(
        &mut tx,
        &authed,
        "user",
        user.id.as_str(),
        &json!({"changed": patch, "now": user, "active": active}),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(Json(Officer { user, active }))
}

/// `POST /api/users/{id}/password`: sets a new password and logs the user out everywhere.
pub async fn reset_password(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    ApiJson(reset): ApiJson<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    check_password(&reset.password)?;
    // Checked before the slow hash, and again in the transaction that writes it.
    {
        let mut conn = state.pool.acquire().await.map_err(DbError::from)?;
        managed_user(&mut conn, &authed, &id).await?;
    }
    let hash = hash_password(reset.password)
        .await
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    let mut tx = db::begin_write(&state.pool).await?;
    let (user, _) = managed_user(&mut tx, &authed, &id).await?;
    db::set_password_hash(&mut *tx, &user.id, &hash).await?;
    db::revoke_tokens_of(&mut *tx, &user.id).await?;
    audit_change(
        &mut tx,
        &authed,
        "user",
        user.id.as_str(),
        &json!({"password_reset": true}),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/units`: every unit for admins, the caller's own for everyone else.
pub async fn list_units(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<UnitsResponse>, ApiError> {
    let only = (!authed.caller.sees_all_units()).then_some(&authed.caller.unit_id);
    let units = db::units(&state.pool, only)
        .await?
        .into_iter()
        .map(|(id, name)| Unit { id, name })
        .collect();
    Ok(Json(UnitsResponse { units }))
}

/// `POST /api/units`: adds a unit (admins); 409 `unit_exists` for a name already taken.
pub async fn add_unit(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(request): ApiJson<NewUnit>,
) -> Result<(StatusCode, Json<Unit>), ApiError> {
    if authed.caller.role != Role::Admin {
        return Err(ApiError::Forbidden("only admins add units".to_owned()));
    }
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::Invalid(
            "the unit needs a name of at most 100 characters".to_owned(),
        ));
    }
    plain_text("name", name)?;
    let mut tx = db::begin_write(&state.pool).await?;
    if db::unit_by_name(&mut *tx, name).await?.is_some() {
        return Err(ApiError::Conflict {
            code: "unit_exists",
            message: format!("a unit named \"{name}\" already exists"),
        });
    }
    let unit = Unit {
        id: UnitId(uuid::Uuid::now_v7().to_string()),
        name: name.to_owned(),
    };
    db::insert_unit(&mut *tx, &unit.id, &unit.name).await?;
    audit_change(
        &mut tx,
        &authed,
        "unit",
        unit.id.as_str(),
        &json!({"added": unit}),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok((StatusCode::CREATED, Json(unit)))
}

/// Query of `POST /api/venues/import`.
#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    /// `true` stores the good rows; otherwise the answer is a preview.
    commit: Option<String>,
    /// Admins: the unit the venues belong to (their own by default).
    unit: Option<String>,
}

/// `POST /api/venues/import[?commit=true]`: the venue register from an XLSX (first sheet) or CSV
/// body. Answers every row's verdict; with `commit=true` the good rows are stored (licence numbers
/// already in the unit update that venue) and reach phones on their next pull. Bad rows are named
/// and skipped.
pub async fn import_venues(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    if !authed.caller.role.reviews() {
        return Err(ApiError::Forbidden(
            "only supervisors and admins import the venue register".to_owned(),
        ));
    }
    let unit_id = match query.unit {
        Some(unit) if authed.caller.sees_all_units() => UnitId(unit),
        Some(_) => {
            return Err(ApiError::Forbidden(
                "only admins choose the unit; supervisors import into their own".to_owned(),
            ));
        }
        None => authed.caller.unit_id.clone(),
    };
    if !db::unit_exists(&state.pool, &unit_id).await? {
        return Err(ApiError::Invalid(format!("there is no unit {unit_id}")));
    }
    let commit = match query.commit.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::Malformed(format!(
                "commit \"{other}\" is neither true nor false"
            )));
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let sheet = read_sheet(content_type, &body)?;
    // Before the register is read or the write lock taken.
    if sheet.len() > import::MAX_ROWS + 1 {
        return Err(FileProblem::TooManyRows.into());
    }
    // A preview only reads; a commit reads the register again inside its write transaction, so the
    // revs it writes follow exactly what it read.
    let mut tx = if commit {
        Some(db::begin_write(&state.pool).await?)
    } else {
        None
    };
    let stored = match tx.as_mut() {
        Some(tx) => db::records_of(&mut **tx, Entity::Venue, Some(&unit_id)).await?,
        None => db::records_of(&state.pool, Entity::Venue, Some(&unit_id)).await?,
    };
    let existing: Vec<(Venue, u64)> = stored
        .into_iter()
        .filter_map(|record| {
            serde_json::from_value::<Venue>(record.body)
                .ok()
                .map(|venue| (venue, record.rev))
        })
        .collect();
    let venues: Vec<Venue> = existing.iter().map(|(venue, _)| venue.clone()).collect();
    let mut rows = import::read_venues(&sheet, &unit_id, &venues, || {
        VenueId(uuid::Uuid::now_v7().to_string())
    })?;
    let count = |action| rows.iter().filter(|row| row.action == action).count();
    let mut report = ImportReport {
        created: count(RowAction::Create),
        updated: count(RowAction::Update),
        unchanged: count(RowAction::Unchanged),
        bad: rows.iter().filter(|row| !row.problems.is_empty()).count(),
        committed: commit,
        rows: Vec::new(),
    };
    if let Some(mut tx) = tx {
        let now = Utc::now();
        for row in &mut rows {
            let Some(venue) = row
                .venue
                .as_mut()
                .filter(|_| matches!(row.action, RowAction::Create | RowAction::Update))
            else {
                continue;
            };
            venue.initials = crate::initials::pinyin_initials(&venue.name);
            let rev = existing
                .iter()
                .find(|(known, _)| known.id == venue.id)
                .map_or(1, |(_, rev)| rev + 1);
            let body = serde_json::to_value(&*venue)
                .map_err(|error| ApiError::Internal(format!("serialising a venue: {error}")))?;
            db::write_record(
                &mut tx,
                RecordWrite {
                    entity: Entity::Venue,
                    id: venue.id.as_str(),
                    unit_id: &unit_id,
                    rev,
                    body: &body,
                    user_id: Some(&authed.caller.user_id),
                    origin: None,
                    at: now,
                },
            )
            .await?;
            let content_hash = audit::content_hash(rev, &body);
            audit::append(
                &mut tx,
                audit::Event {
                    at: now,
                    user_id: Some(&authed.caller.user_id),
                    device_id: None,
                    action: Action::Admin,
                    outcome: Outcome::Applied,
                    code: None,
                    entity: Entity::Venue.code(),
                    id: venue.id.as_str(),
                    op_id: None,
                    rev: Some(rev),
                    content_hash: &content_hash,
                },
            )
            .await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        tracing::info!(created = report.created, updated = report.updated, bad = report.bad, by = %authed.user.username, "venues imported");
    }
    report.rows = rows;
    Ok(Json(report))
}

/// The body as rows of text cells: an XLSX workbook's first sheet, or CSV (UTF-8, with or without a
/// byte-order mark).
fn read_sheet(content_type: &str, body: &[u8]) -> Result<Vec<Vec<String>>, FileProblem> {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => read_xlsx(body),
        "text/csv" => {
            let text = std::str::from_utf8(body).map_err(|_| FileProblem::CsvNotUtf8)?;
            Ok(read_csv(text.trim_start_matches('\u{feff}')))
        }
        _ => Err(FileProblem::NotASheet),
    }
}

fn read_xlsx(body: &[u8]) -> Result<Vec<Vec<String>>, FileProblem> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(body.to_vec())).map_err(|_| FileProblem::NotAWorkbook)?;
    let first = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or(FileProblem::NoSheet)?;
    let range = workbook
        .worksheet_range(&first)
        .map_err(|_| FileProblem::NoSheet)?;
    Ok(range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Empty => String::new(),
                    Data::Float(number) => number.to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect())
}

/// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Refuses a name with control characters: nobody types them, and a database may not hold them
/// (PostgreSQL text cannot hold NUL), so both engines answer the same 422.
fn plain_text(field: &str, value: &str) -> Result<(), ApiError> {
    if value.chars().any(char::is_control) {
        return Err(ApiError::Invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::read_csv;

    #[test]
    fn csv_fields_may_be_quoted_across_lines() {
        assert_eq!(
            read_csv("名称,地址\r\n\"星际,网咖\",\"一\n二\"\r\n\"说\"\"好\"\"\",x"),
            vec![
                vec!["名称".to_owned(), "地址".to_owned()],
                vec!["星际,网咖".to_owned(), "一\n二".to_owned()],
                vec!["说\"好\"".to_owned(), "x".to_owned()],
            ]
        );
    }
}
