//! Logging in and out, password hashing, the login throttle and the bearer-token extractor.

use crate::AppState;
use crate::db;
use crate::error::ApiError;
use crate::json::ApiJson;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng as HashRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{SecondsFormat, Utc};
use fieldcheck_core::User;
use fieldcheck_core::sync::{Caller, LoginRequest, LoginResponse};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Failed logins allowed per username inside [`THROTTLE_WINDOW`] before further attempts are refused.
pub const MAX_FAILED_LOGINS: usize = 5;
/// How far back failed logins count.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// `POST /api/auth/login`: checks the password and hands out a new bearer token.
pub async fn login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let username = request.username.trim().to_owned();
    if state.throttle.is_blocked(&username, Instant::now()) {
        return Err(ApiError::TooManyAttempts);
    }
    let found = db::user_by_username(&state.pool, &username).await?;
    // An unknown user is checked against a dummy hash, so the answer takes as long as for a wrong
    // password and response times do not reveal which usernames exist.
    let (user, password_hash) = match found {
        Some((user, password_hash)) => (Some(user), password_hash),
        None => (None, dummy_hash().await?),
    };
    let password_ok = verify_password(request.password, password_hash).await?;
    let user = match user {
        Some(user) if password_ok => user,
        _ => {
            state.throttle.record_failure(&username, Instant::now());
            return Err(ApiError::BadCredentials);
        }
    };
    state.throttle.reset(&username);

    let token = new_token();
    let expires_at = Utc::now() + state.settings.token_ttl;
    db::insert_token(&state.pool, &token_hash(&token), &user.id, expires_at).await?;
    tracing::info!(username = %user.username, "login");
    Ok(Json(LoginResponse {
        token,
        user,
        expires_at: Some(expires_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
    }))
}

/// `POST /api/auth/logout`: revokes the presented token; it answers 401 from then on.
pub async fn logout(State(state): State<AppState>, authed: Authed) -> Result<StatusCode, ApiError> {
    db::revoke_token(&state.pool, &authed.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A request with a valid bearer token: who is asking, as core's [`Caller`] and as the full user.
#[derive(Debug, Clone)]
pub struct Authed {
    pub caller: Caller,
    pub user: User,
    token_hash: String,
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized("missing bearer token"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(ApiError::Unauthorized(
                "malformed Authorization header; expected \"Bearer <token>\"",
            ))?;
        let token_hash = token_hash(token);
        let record = db::token_by_hash(&state.pool, &token_hash)
            .await?
            .ok_or(ApiError::Unauthorized("unknown token"))?;
        if record.revoked {
            return Err(ApiError::Unauthorized("token revoked; log in again"));
        }
        if record.expires_at <= Utc::now() {
            return Err(ApiError::Unauthorized("token expired; log in again"));
        }
        let caller = Caller {
            user_id: record.user.id.clone(),
            role: record.user.role,
            unit_id: record.user.unit_id.clone(),
        };
        Ok(Authed {
            caller,
            user: record.user,
            token_hash,
        })
    }
}

/// Failed logins per username, in memory: a restart forgets them, which is acceptable for slowing
/// down online guessing (Argon2 makes each guess cost the attacker too).
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginThrottle {
    /// Whether `username` has used up its failed attempts inside the window ending `now`.
    pub fn is_blocked(&self, username: &str, now: Instant) -> bool {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        failures.get(username).is_some_and(|times| {
            times
                .iter()
                .filter(|time| within_window(**time, now))
                .count()
                >= MAX_FAILED_LOGINS
        })
    }

    pub fn record_failure(&self, username: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        // Guessing many different usernames must not grow the map without bound: drop stale entries
        // once it gets large.
        if failures.len() > 10_000 {
            failures.retain(|_, times| times.iter().any(|time| within_window(*time, now)));
        }
        let times = failures.entry(username.to_owned()).or_default();
        times.retain(|time| within_window(*time, now));
        times.push(now);
    }

    /// A successful login forgets earlier failures.
    pub fn reset(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        failures.remove(username);
    }
}

fn within_window(time: Instant, now: Instant) -> bool {
    now.saturating_duration_since(time) < THROTTLE_WINDOW
}

/// The password hasher failed: a bug or an exhausted machine, never the user's fault.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

/// Hashes a password with Argon2id (the argon2 crate's default algorithm and parameters) and a fresh
/// random salt, in PHC string form. Slow on purpose, so it runs off the async threads.
pub async fn hash_password(password: String) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut HashRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| HashError(error.to_string()))
    })
    .await
    .map_err(|error| HashError(error.to_string()))?
}

/// Whether `password` matches a stored PHC hash. An unreadable hash is an error, not a wrong password.
async fn verify_password(password: String, password_hash: String) -> Result<bool, HashError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&password_hash)
            .map_err(|error| HashError(format!("stored hash unreadable: {error}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|error| HashError(error.to_string()))?
}

/// A hash of a random password, made once, to verify unknown usernames against.
async fn dummy_hash() -> Result<String, HashError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash.clone());
    }
    let hash = hash_password(new_token()).await?;
    Ok(DUMMY.get_or_init(|| hash).clone())
}

/// 32 random bytes from the operating system, hex-encoded: the bearer token handed to the phone.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Only this is stored: a leaked database does not contain usable tokens. A fast hash is enough
/// because the token has 256 bits of entropy (unlike a password).
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
