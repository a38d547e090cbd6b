//! Users: `GET /api/users` (the officers of the caller's unit, for picking a partner offline), and
//! adding users (and their unit if it is new) for `fieldcheck-server user add` and the demo data.

use crate::AppState;
use crate::auth::{self, Authed, HashError};
use crate::db::{self, DbError};
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use fieldcheck_core::sync::{Officer, UsersResponse};
use fieldcheck_core::{Role, UnitId, User, UserId};
use sqlx::{AnyConnection, AnyPool};

/// `GET /api/users`: the officers of the caller's unit, active or not (admins: every unit), so that
/// the phone can offer a partner from its own unit while offline and show old records' officers.
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<UsersResponse>, ApiError> {
    let caller = &authed.caller;
    let unit = (!caller.sees_all_units()).then_some(&caller.unit_id);
    let users = db::users_of(&state.pool, unit)
        .await?
        .into_iter()
        .map(|(user, active)| Officer { user, active })
        .collect();
    Ok(Json(UsersResponse { users }))
}

/// Everything needed to add a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    /// The unit's name; the unit is created if no unit has this name yet.
    pub unit_name: String,
    /// The person's name; the username when not given.
    pub name: Option<String>,
    /// Enforcement certificate number (执法证号).
    pub cert_no: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the username must not be empty or contain spaces or control characters")]
    BadUsername,
    #[error("the password must not be empty")]
    EmptyPassword,
    #[error("the unit name must not be empty or contain control characters")]
    EmptyUnit,
    #[error("a user named \"{0}\" already exists")]
    DuplicateUsername(String),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Database(#[from] DbError),
}

/// Adds a user with an Argon2id-hashed password, creating the unit if it does not exist yet.
pub async fn add_user(pool: &AnyPool, new_user: NewUser) -> Result<User, UserError> {
    let prepared = prepare(new_user).await?;
    let mut tx = db::begin_write(pool).await?;
    let user = insert(&mut tx, prepared).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(user)
}

/// A new user checked, with the password hashed: what [`insert`] writes.
pub struct Prepared {
    new_user: NewUser,
    username: String,
    unit_name: String,
    password_hash: String,
}

/// Checks a new user and hashes the password, before any write transaction: hashing is the slow
/// part and needs no database.
pub async fn prepare(mut new_user: NewUser) -> Result<Prepared, UserError> {
    let username = new_user.username.trim().to_owned();
    if username.is_empty() || username.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(UserError::BadUsername);
    }
    if new_user.password.is_empty() {
        return Err(UserError::EmptyPassword);
    }
    let unit_name = new_user.unit_name.trim().to_owned();
    if unit_name.is_empty() || unit_name.contains(char::is_control) {
        return Err(UserError::EmptyUnit);
    }
    let password = std::mem::take(&mut new_user.password);
    let password_hash = auth::hash_password(password).await?;
    Ok(Prepared {
        new_user,
        username,
        unit_name,
        password_hash,
    })
}

/// Writes a prepared user, and its unit if new, in the caller's write transaction (so that what
/// the caller writes with it, an audit row, commits or fails with it).
pub async fn insert(conn: &mut AnyConnection, prepared: Prepared) -> Result<User, UserError> {
    let Prepared {
        new_user,
        username,
        unit_name,
        password_hash,
    } = prepared;
    if db::username_taken(&mut *conn, &username).await? {
        return Err(UserError::DuplicateUsername(username));
    }
    let unit_id = match db::unit_by_name(&mut *conn, &unit_name).await? {
        Some(unit_id) => unit_id,
        None => {
            let unit_id = UnitId(uuid::Uuid::now_v7().to_string());
            db::insert_unit(&mut *conn, &unit_id, &unit_name).await?;
            unit_id
        }
    };
    let user = User {
        id: UserId(uuid::Uuid::now_v7().to_string()),
        name: new_user
            .name
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| username.clone()),
        username,
        role: new_user.role,
        unit_id,
        unit_name,
        cert_no: new_user
            .cert_no
            .map(|cert_no| cert_no.trim().to_owned())
            .filter(|cert_no| !cert_no.is_empty()),
    };
    db::insert_user(&mut *conn, &user, &password_hash).await?;
    Ok(user)
}
