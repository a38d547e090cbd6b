//! Logging in and out, password hashing, the login throttle and the bearer-token extractor.

use crate::AppState;
use crate::db;
use crate::error::ApiError;
use crate::json::ApiJson;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng as HashRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use fieldcheck_core::User;
use fieldcheck_core::sync::{Caller, LoginRequest, LoginResponse};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Failed logins allowed inside [`THROTTLE_WINDOW`] for one username from one client address.
pub const MAX_FAILURES_PER_PAIR: usize = 5;
/// Failed logins allowed from one client address, whatever the usernames (password spraying).
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// Failed logins allowed for one username from all addresses together (distributed guessing). Higher
/// than the per-pair limit, so that a stranger cannot lock an officer out from one address.
pub const MAX_FAILURES_PER_USERNAME: usize = 50;
/// Failed logins allowed in total: a flood from many addresses is slowed down as a whole.
pub const MAX_FAILURES_OVERALL: usize = 1_000;
/// How far back failed logins count.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Argon2 checks running at once; more requests wait (`Settings::hash_wait`), then answer 503.
pub const MAX_CONCURRENT_HASHES: usize = 4;

/// `POST /api/auth/login`: checks the password and hands out a new bearer token.
///
/// The attempt is reserved in the throttle before the (slow) password check and released only by a
/// success, so parallel guesses cannot all slip past the limit while their hashes run.
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let username = request.username.trim().to_owned();
    let attempt = reserve(&state.pool, &username, client.0, Utc::now())
        .await?
        .ok_or(ApiError::TooManyAttempts)?;
    // No account's name holds a control character (PostgreSQL text cannot even hold NUL): such a
    // name is an unknown user, answered like one, without asking the database.
    let found = if username.chars().any(char::is_control) {
        None
    } else {
        db::account_by_username(&state.pool, &username).await?
    };
    // An unknown user is checked against a dummy hash, so the answer takes as long as for a wrong
    // password and response times do not reveal which usernames exist.
    let (account, password_hash) = match found {
        Some(account) => {
            let hash = account.password_hash.clone();
            (Some(account), hash)
        }
        None => (None, dummy_hash().await?),
    };
    let Ok(permit) =
        tokio::time::timeout(state.settings.hash_wait, state.throttle.hashing.acquire()).await
    else {
        // The password was never checked: not a failure, so a busy server locks nobody out.
        release(&state.pool, &attempt).await?;
        return Err(ApiError::Busy);
    };
    let permit =
        permit.map_err(|_| ApiError::Internal("the hashing semaphore is closed".to_owned()))?;
    let password_ok = verify_password(request.password, password_hash).await?;
    drop(permit);
    let account = match account {
        Some(account) if password_ok => account,
        // The reserved attempt stays counted as a failure.
        _ => return Err(ApiError::BadCredentials),
    };
    // The attempt is forgiven in the token's transaction: one turn to write after the check, not
    // two, so that a server too busy to finish a login seldom leaves the attempt counted.
    let mut tx = db::begin_write(&state.pool).await?;
    succeeded(&mut tx, &attempt).await?;
    if account.disabled {
        tx.commit().await?;
        return Err(ApiError::AccountDisabled);
    }
    let user = account.user;
    let token = new_token();
    let expires_at = Utc::now() + state.settings.token_ttl;
    // Handed out only if the password checked is still the account's and the account still active:
    // a reset or a disabling that committed during the check revokes every token, and a token
    // written after it would outlive it.
    let still = db::account_by_username(&mut *tx, &user.username).await?;
    if !still.is_some_and(|now| now.password_hash == account.password_hash && !now.disabled) {
        tx.commit().await?;
        return Err(ApiError::BadCredentials);
    }
    db::insert_token(&mut *tx, &token_hash(&token), &user.id, expires_at).await?;
    tx.commit().await?;
    tracing::info!(username = %user.username, "login");
    Ok(Json(LoginResponse {
        token,
        user,
        expires_at: Some(expires_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
    }))
}

/// The client's address as the connection gives it, or — when the connection comes from a trusted
/// proxy — the last address in `X-Forwarded-For` that is not a trusted proxy itself (the earlier
/// entries are the client's to write, so they are never believed); the unspecified address when
/// unknown (requests driven through the router without a connection, as in tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        // IPv4 behind an IPv6 listener arrives as ::ffff:a.b.c.d: compared in canonical form.
        let peer = peer.to_canonical();
        let trusted = &state.settings.trusted_proxies;
        if !trusted.iter().any(|proxy| proxy.to_canonical() == peer) {
            return Ok(ClientAddress(peer));
        }
        // Entry by entry from the raw bytes: a client's unreadable entry in the same line must not
        // hide the address the proxy appended after it.
        let forwarded: Vec<&[u8]> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|value| value.as_bytes().split(|byte| *byte == b','))
            .collect();
        let client = forwarded
            .iter()
            .rev()
            .map(|entry| {
                std::str::from_utf8(entry)
                    .ok()
                    .and_then(|entry| entry.trim().parse::<IpAddr>().ok())
                    .map(|address| address.to_canonical())
            })
            .take_while(Option::is_some)
            .flatten()
            .find(|address| !trusted.iter().any(|proxy| proxy.to_canonical() == *address));
        Ok(ClientAddress(client.unwrap_or(peer)))
    }
}

/// `POST /api/auth/logout`: revokes the presented token; it answers 401 from then on.
pub async fn logout(State(state): State<AppState>, authed: Authed) -> Result<StatusCode, ApiError> {
    // Every write takes its turn (see `db::begin_write`), even one statement: one that skipped the
    // queue would wait in SQLite's busy handler, and lose the lock to queued writers in a burst.
    let mut tx = db::begin_write(&state.pool).await?;
    db::revoke_token(&mut *tx, &authed.token_hash).await?;
    tx.commit().await?;
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
        if record.disabled {
            return Err(ApiError::Unauthorized("account disabled"));
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

/// The login throttle: failed logins per (username, address), per address, per username and
/// overall, kept in the database so that every server instance behind a load balancer counts the
/// same failures and a restart forgets nothing; and this instance's cap on concurrent password checks
/// (CPU is per instance).
#[derive(Debug)]
pub struct LoginThrottle {
    hashing: Semaphore,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            hashing: Semaphore::new(MAX_CONCURRENT_HASHES),
        }
    }
}

/// An attempt counted as a failure until [`succeeded`] takes it back.
#[derive(Debug)]
pub struct Attempt {
    id: String,
    username: String,
    address: String,
}

/// Counts an attempt before the password is checked, unless a limit is reached: `None` means "refuse
/// with 429". Check and count happen in one write transaction, so parallel attempts — on any
/// instance — queue up there and cannot all slip past a limit.
pub async fn reserve(
    pool: &sqlx::AnyPool,
    username: &str,
    address: IpAddr,
    now: DateTime<Utc>,
) -> Result<Option<Attempt>, db::DbError> {
    let window = TimeDelta::from_std(THROTTLE_WINDOW).unwrap_or(TimeDelta::MAX);
    let attempt = Attempt {
        id: uuid::Uuid::new_v4().to_string(),
        username: username.to_owned(),
        address: address.to_string(),
    };
    let mut tx = db::begin_write(pool).await?;
    db::forget_login_failures(&mut *tx, now - window).await?;
    let counts = db::count_login_failures(&mut *tx, &attempt.username, &attempt.address).await?;
    if counts.pair >= MAX_FAILURES_PER_PAIR
        || counts.address >= MAX_FAILURES_PER_ADDRESS
        || counts.username >= MAX_FAILURES_PER_USERNAME
        || counts.overall >= MAX_FAILURES_OVERALL
    {
        tx.commit().await?;
        return Ok(None);
    }
    db::insert_login_failure(
        &mut *tx,
        &attempt.id,
        &attempt.username,
        &attempt.address,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(attempt))
}

/// A successful login: its attempt is not a failure, and the earlier failures of this username from
/// this address no longer count against the pair (they still count for the username, the address
/// and overall, so a success does not wipe a guesser's count elsewhere).
///
/// Run in a write transaction ([`db::begin_write`]).
pub async fn succeeded(
    conn: &mut sqlx::AnyConnection,
    attempt: &Attempt,
) -> Result<(), db::DbError> {
    db::forgive_login_failures(conn, &attempt.id, &attempt.username, &attempt.address).await
}

/// An attempt whose password was never checked (the server was busy): taken back entirely.
pub async fn release(pool: &sqlx::AnyPool, attempt: &Attempt) -> Result<(), db::DbError> {
    let mut tx = db::begin_write(pool).await?;
    db::drop_login_failure(&mut *tx, &attempt.id).await?;
    tx.commit().await?;
    Ok(())
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
