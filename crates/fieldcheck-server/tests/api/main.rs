//! API tests: through `router(..).oneshot(..)` and against a real server on 127.0.0.1:0, each test
//! on its own temporary SQLite file. Areas with many cases have a module of their own.

mod accounts;
mod audit;
mod backend;
mod backup;
mod groups;
mod guards;
mod hostile;
mod instances;
mod matrix;
mod model;
mod photos;
mod repair;
mod supervisor;
mod tls;

use anyhow::{Context, bail, ensure};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::TimeDelta;
use fieldcheck_core::sync::{
    Entity, LoginResponse, MutationResult, MutationStatus, PullResponse, PushResponse,
};
use fieldcheck_core::{Role, Template, User, VenueKind, photo_name};
use fieldcheck_server::users::{NewUser, UserError};
use fieldcheck_server::{AppState, Settings, db, demo, router, users};
use serde_json::{Value, json};
use sqlx::AnyPool;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower::ServiceExt;

type TestResult = anyhow::Result<()>;

const PASSWORD: &str = "correct horse battery";
/// The phone installation pushes come from.
const DEVICE: &str = "0192f3a4-5b6c-7d8e-9f00-00000000d0d1";

// ---------------------------------------------------------------------------------------------
// Fixture: a database with two units and their users

/// A server state over a fresh temporary database, driven through `router(..).oneshot(..)`.
struct App {
    _dir: TempDir,
    state: AppState,
}

/// An [`App`] whose database holds unit A with inspectors `insp_a`, `insp_a2`, `partner_a` and
/// supervisor `super_a`; unit B with inspectors `insp_b`, `partner_b` and supervisor `super_b`; and
/// `admin` (in unit A). The partners are the second officer on the records tests build and are never
/// logged in, so `insp_a2` stays a colleague who is not named on them. The signatures those records
/// name are uploaded.
struct Fixture {
    app: App,
    insp_a: User,
    insp_a2: User,
    partner_a: User,
    insp_b: User,
    partner_b: User,
    super_b: User,
}

impl std::ops::Deref for Fixture {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

const UNIT_A: &str = "洛阳市老城区文化市场综合执法大队";
const UNIT_B: &str = "洛阳市西工区文化市场综合执法大队";

use backend::open_pool;

async fn add(pool: &AnyPool, username: &str, role: Role, unit: &str) -> anyhow::Result<User> {
    Ok(users::add_user(
        pool,
        NewUser {
            username: username.to_owned(),
            password: PASSWORD.to_owned(),
            role,
            unit_name: unit.to_owned(),
            name: None,
            cert_no: None,
        },
    )
    .await?)
}

/// A server state over a fresh database and photo folder in `dir`.
async fn state_in(dir: &Path, settings: Settings) -> anyhow::Result<AppState> {
    let pool = open_pool(dir).await?;
    Ok(AppState::new(pool, backend::photo_store(dir)?, settings))
}

async fn fixture_with(settings: Settings) -> anyhow::Result<Fixture> {
    let dir = tempfile::tempdir()?;
    let state = state_in(dir.path(), settings).await?;
    let pool = &state.pool;
    let insp_a = add(pool, "insp_a", Role::Inspector, UNIT_A).await?;
    let insp_a2 = add(pool, "insp_a2", Role::Inspector, UNIT_A).await?;
    let partner_a = add(pool, "partner_a", Role::Inspector, UNIT_A).await?;
    add(pool, "super_a", Role::Supervisor, UNIT_A).await?;
    let insp_b = add(pool, "insp_b", Role::Inspector, UNIT_B).await?;
    let partner_b = add(pool, "partner_b", Role::Inspector, UNIT_B).await?;
    let super_b = add(pool, "super_b", Role::Supervisor, UNIT_B).await?;
    add(pool, "admin", Role::Admin, UNIT_A).await?;
    // What each officer's phone would have uploaded before pushing the records that name these
    // signatures (an officer may name only photos they uploaded or their unit's records name).
    let uploaders: Vec<fieldcheck_core::UserId> = sqlx::query_scalar("SELECT id FROM users")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(fieldcheck_core::UserId)
        .collect();
    for uploader in &uploaders {
        for png in [OFFICER_SIGNATURE_PNG, PARTY_SIGNATURE_PNG] {
            fieldcheck_server::photos::upload(
                &state,
                &photo_name(png),
                axum::body::Bytes::from_static(png),
                uploader,
            )
            .await?;
        }
    }
    Ok(Fixture {
        app: App { _dir: dir, state },
        insp_a,
        insp_a2,
        partner_a,
        insp_b,
        partner_b,
        super_b,
    })
}

impl Fixture {
    /// The second officer on the records `author` makes in tests: the partner of their unit.
    fn partner_of(&self, author: &User) -> &User {
        if author.unit_id == self.partner_a.unit_id {
            &self.partner_a
        } else {
            &self.partner_b
        }
    }

    /// [`complete_inspection`] by `author` with their unit's partner as the second officer.
    fn inspection_body(&self, id: &str, venue_id: &str, author: &User) -> Value {
        complete_inspection(id, venue_id, &[author, self.partner_of(author)])
    }

    /// A new complete inspection by `author` at `venue_id`, pushed and applied: its id.
    async fn inspect(&self, token: &str, venue_id: &str, author: &User) -> anyhow::Result<String> {
        let id = new_id();
        self.push_ok(
            token,
            mutation(
                "inspection",
                &id,
                0,
                self.inspection_body(&id, venue_id, author),
            ),
        )
        .await?;
        Ok(id)
    }
}

async fn fixture() -> anyhow::Result<Fixture> {
    fixture_with(Settings::default()).await
}

/// An answer: status and the body as JSON (`Null` when empty, a string when not JSON).
struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Answer {
    /// Asserts an error answer in the API's shape.
    #[track_caller]
    fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "answer: {}", self.body);
        assert_eq!(self.body["error"]["code"], code, "answer: {}", self.body);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty()),
            "error without message: {}",
            self.body
        );
    }

    fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
}

impl App {
    /// One request through the router, as a phone would send it.
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> anyhow::Result<Answer> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(body.map_or_else(Body::empty, Body::from))?;
        read_answer(router(self.state.clone()).oneshot(request).await?).await
    }

    async fn get(&self, path: &str, token: &str) -> anyhow::Result<Answer> {
        self.call("GET", path, Some(token), None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> anyhow::Result<Answer> {
        self.call("POST", path, token, Some(body.to_string())).await
    }

    async fn login(&self, username: &str) -> anyhow::Result<String> {
        self.login_with(username, PASSWORD).await
    }

    async fn login_with(&self, username: &str, password: &str) -> anyhow::Result<String> {
        let answer = self
            .post(
                "/api/auth/login",
                None,
                &json!({"username": username, "password": password}),
            )
            .await?;
        ensure!(
            answer.status == StatusCode::OK,
            "login failed: {}",
            answer.body
        );
        let login: LoginResponse = serde_json::from_value(answer.body)?;
        Ok(login.token)
    }

    /// The server's answer to a push of `mutations` from the test phone, whatever its status.
    async fn push_answer(&self, token: &str, mutations: &[Value]) -> anyhow::Result<Answer> {
        self.post(
            "/api/sync/push",
            Some(token),
            &json!({"device_id": DEVICE, "mutations": mutations}),
        )
        .await
    }

    /// Pushes mutations and returns the per-mutation results (the push itself must answer 200).
    async fn push(&self, token: &str, mutations: &[Value]) -> anyhow::Result<Vec<MutationResult>> {
        let results = push_results(self.push_answer(token, mutations).await?)?;
        ensure!(results.len() == mutations.len(), "one result per mutation");
        Ok(results)
    }

    /// Pushes one mutation that must be applied; returns its rev.
    async fn push_ok(&self, token: &str, mutation: Value) -> anyhow::Result<u64> {
        let results = self.push(token, &[mutation]).await?;
        let result = &results[0];
        ensure!(
            result.status == MutationStatus::Applied,
            "not applied: {result:?}"
        );
        result.rev.context("applied without rev")
    }

    async fn pull(&self, token: &str, since: &str, limit: u32) -> anyhow::Result<PullResponse> {
        let answer = self
            .get(
                &format!("/api/sync/pull?since={since}&limit={limit}"),
                token,
            )
            .await?;
        ensure!(
            answer.status == StatusCode::OK,
            "pull failed: {}",
            answer.body
        );
        Ok(serde_json::from_value(answer.body)?)
    }

    /// Every record the caller can pull, as (entity, id) → (rev, body).
    async fn pull_all(&self, token: &str) -> anyhow::Result<Vec<(Entity, String, u64, Value)>> {
        let mut all = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = self.pull(token, &cursor, 1000).await?;
            all.extend(
                page.changes
                    .into_iter()
                    .map(|c| (c.entity, c.id, c.rev, c.body)),
            );
            cursor = page.cursor;
            if !page.has_more {
                return Ok(all);
            }
        }
    }

    /// A venue of unit `unit_of`'s, pushed by `token`'s user; returns its id.
    async fn venue(&self, token: &str, unit_of: &User, kind: VenueKind) -> anyhow::Result<String> {
        let id = new_id();
        self.push_ok(
            token,
            mutation("venue", &id, 0, venue_body(&id, unit_of, kind)),
        )
        .await?;
        Ok(id)
    }
}

async fn read_answer(response: axum::response::Response) -> anyhow::Result<Answer> {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

// ---------------------------------------------------------------------------------------------
// Record builders

/// Starts one mutation's push from phone `phone_idx` (a device of its own) through a router of its
/// own, as phones pushing at the same moment do.
fn spawn_push(
    pushes: &mut tokio::task::JoinSet<anyhow::Result<Answer>>,
    app: &App,
    token: &str,
    phone_idx: u32,
    mutation: Value,
) -> TestResult {
    let request = push_request(token, phone_idx, &[mutation])?;
    let router = router(app.state.clone());
    pushes.spawn(async move { read_answer(router.oneshot(request).await?).await });
    Ok(())
}

/// A push of `mutations` from phone `phone_idx` (a device of its own).
fn push_request(token: &str, phone_idx: u32, mutations: &[Value]) -> anyhow::Result<Request<Body>> {
    Ok(Request::post("/api/sync/push")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"device_id": format!("0192f3a4-5b6c-7d8e-9f00-{phone_idx:012}"), "mutations": mutations})
                .to_string(),
        ))?)
}

/// The per-mutation results of a push's answer, which must be 200.
fn push_results(answer: Answer) -> anyhow::Result<Vec<MutationResult>> {
    ensure!(
        answer.status == StatusCode::OK,
        "push failed: {}",
        answer.body
    );
    let response: PushResponse = serde_json::from_value(answer.body)?;
    Ok(response.results)
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn mutation(entity: &str, id: &str, base_rev: u64, body: Value) -> Value {
    json!({"op_id": new_id(), "entity": entity, "id": id, "base_rev": base_rev, "body": body})
}

fn venue_body(id: &str, unit_of: &User, kind: VenueKind) -> Value {
    json!({
        "id": id, "kind": kind.code(), "name": format!("测试{}", kind.name_zh()),
        "licence_no": "41030210023", "address": "洛阳市老城区中州东路218号",
        "location": {"lat": 34.68, "lon": 112.47}, "contact_name": "刘建军",
        "contact_phone": "13903791234", "unit_id": unit_of.unit_id, "active": true
    })
}

/// A 1×1 grey PNG: every officer's signature on the records tests build.
const OFFICER_SIGNATURE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0xe5, 0x27, 0xde, 0xfc, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];
/// Another 1×1 PNG (white): the party's signature.
const PARTY_SIGNATURE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8, 0x0f, 0x00, 0x01,
    0x01, 0x01, 0x00, 0x1c, 0xb0, 0x8c, 0x99, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A complete submitted internet-café inspection at `venue_id` by `officers` (the first is the
/// author), as the server requires of a submitted record: every checklist item answered (the
/// certificates shown, the fire exits failed with a hazard rectified on site), every officer's
/// signature, the party's name and signature. The signatures are the fixture's uploaded PNGs.
fn complete_inspection(id: &str, venue_id: &str, officers: &[&User]) -> Value {
    let items = Template::by_id("internet_cafe@1").map_or_else(Vec::new, |template| template.items);
    let answers: Vec<Value> = items
        .iter()
        .map(|item| match item.code {
            "common.fire_exits" => {
                json!({"item": item.code, "result": "fail", "note": "后门堆放杂物"})
            }
            code => json!({"item": code, "result": "pass"}),
        })
        .collect();
    let officer_signature = photo_name(OFFICER_SIGNATURE_PNG);
    let signatures: Vec<Value> = officers
        .iter()
        .map(|officer| json!({"officer": officer.id, "signature": officer_signature}))
        .collect();
    json!({
        "id": id, "venue_id": venue_id, "kind": "routine", "template": "internet_cafe@1",
        "started_at": "2026-11-26T10:00:00+08:00", "finished_at": "2026-11-26T10:40:00+08:00",
        "inspectors": officers.iter().map(|officer| &officer.id).collect::<Vec<_>>(),
        "answers": answers,
        "hazards": [{"id": new_id(), "item": "common.fire_exits", "description": "安全出口堵塞",
                     "rectify": "on_site", "deadline": null, "status": "rectified"}],
        "warning_issued": false,
        "party": {"name": "刘建军", "title": "负责人", "signature": photo_name(PARTY_SIGNATURE_PNG),
                  "refused": false},
        "officer_signatures": signatures,
        "notes": "", "status": "submitted"
    })
}

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    if let Some(slot) = body.pointer_mut(pointer) {
        *slot = value;
    }
    body
}

/// Replaces the text of record `id`'s current copy behind the server's back, as a damaged or
/// hand-edited database would hold it: the change log takes no updates, so a change of the same rev
/// with `text` is added to it (it takes inserts) and the current copy made to name it.
async fn damage_current_copy(pool: &AnyPool, id: &str, text: &str) -> anyhow::Result<()> {
    let added = sqlx::query(
        "INSERT INTO changes (entity, id, rev, unit_id, user_id, device_id, op_id, at, body) \
         SELECT entity, id, rev, unit_id, NULL, NULL, NULL, at, $2 FROM changes \
         WHERE id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(id)
    .bind(text)
    .execute(pool)
    .await?;
    ensure!(added.rows_affected() == 1, "no change of {id} to damage");
    let named = sqlx::query(
        "UPDATE records SET seq = (SELECT MAX(seq) FROM changes WHERE id = $1) WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await?;
    ensure!(named.rows_affected() == 1, "no current copy of {id}");
    Ok(())
}

/// Asserts one push result's status and, for rejections, its error code.
#[track_caller]
fn check(result: &MutationResult, status: MutationStatus, code: Option<&str>) {
    assert_eq!(result.status, status, "result: {result:?}");
    assert_eq!(
        result.error.as_ref().map(|error| error.code.as_str()),
        code,
        "result: {result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Health, login, tokens

#[tokio::test]
async fn health_answers_ok_with_the_version() -> TestResult {
    let app = fixture().await?;
    let answer = app.call("GET", "/api/health", None, None).await?;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
    Ok(())
}

#[tokio::test]
async fn health_fails_when_the_photo_store_or_the_database_is_gone() -> TestResult {
    let dir = tempfile::tempdir()?;
    let pool = open_pool(dir.path()).await?;
    // A bucket on a port nothing listens on, asked once.
    let unreachable = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name("photos")
        .with_region("us-east-1")
        .with_access_key_id("fieldcheck")
        .with_secret_access_key("secret")
        .with_endpoint("http://127.0.0.1:1")
        .with_allow_http(true)
        .with_retry(object_store::RetryConfig {
            max_retries: 0,
            ..object_store::RetryConfig::default()
        })
        .build()?;
    let app = App {
        state: AppState::new(
            pool.clone(),
            std::sync::Arc::new(unreachable),
            Settings::default(),
        ),
        _dir: dir,
    };
    let answer = app.call("GET", "/api/health", None, None).await?;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.body["error"]["code"], "internal");

    let app = App {
        state: AppState::new(
            pool.clone(),
            backend::photo_store(app._dir.path())?,
            Settings::default(),
        ),
        _dir: app._dir,
    };
    assert_eq!(
        app.call("GET", "/api/health", None, None).await?.status,
        StatusCode::OK
    );
    db::close(&pool).await;
    let answer = app.call("GET", "/api/health", None, None).await?;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    Ok(())
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_keeps_the_load_balancers() -> TestResult {
    let app = fixture().await?;
    let ask = |id: Option<&str>| {
        let mut request = Request::get("/api/health");
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        let request = request.body(Body::empty());
        let state = app.state.clone();
        async move { anyhow::Ok(router(state).oneshot(request?).await?) }
    };
    let fresh = ask(None).await?;
    let made = fresh
        .headers()
        .get("x-request-id")
        .context("no request id")?
        .to_str()?;
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");
    let kept = ask(Some("lb-7f3a")).await?;
    assert_eq!(
        kept.headers().get("x-request-id").map(|id| id.as_bytes()),
        Some(&b"lb-7f3a"[..])
    );
    Ok(())
}

#[tokio::test]
async fn login_hands_out_a_token_and_refuses_bad_credentials() -> TestResult {
    let app = fixture().await?;
    let answer = app
        .post(
            "/api/auth/login",
            None,
            &json!({"username": "insp_a", "password": PASSWORD}),
        )
        .await?;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let login: LoginResponse = serde_json::from_value(answer.body)?;
    assert_eq!(login.user, app.insp_a);
    assert_eq!(
        login.user.unit_name, UNIT_A,
        "screens show the unit by name"
    );
    assert_eq!(login.token.len(), 64, "32 random bytes, hex");
    let expires_at = chrono::DateTime::parse_from_rfc3339(&login.expires_at.context("expiry")?)?;
    let days_left = (expires_at.to_utc() - chrono::Utc::now()).num_days();
    assert!(
        (29..=30).contains(&days_left),
        "expires in {days_left} days"
    );
    // The token works.
    assert_eq!(
        app.get("/api/sync/pull", &login.token).await?.status,
        StatusCode::OK
    );

    let wrong_password = app
        .post(
            "/api/auth/login",
            None,
            &json!({"username": "insp_a", "password": "nope"}),
        )
        .await?;
    wrong_password.assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    let unknown_user = app
        .post(
            "/api/auth/login",
            None,
            &json!({"username": "nobody", "password": PASSWORD}),
        )
        .await?;
    unknown_user.assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    assert_eq!(
        wrong_password.message(),
        unknown_user.message(),
        "the answers must not tell which usernames exist"
    );
    Ok(())
}

#[tokio::test]
async fn login_is_throttled_after_five_failures_and_a_success_resets_the_count() -> TestResult {
    let app = fixture().await?;
    let attempt = |username: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.post(
                "/api/auth/login",
                None,
                &json!({"username": username, "password": password}),
            )
            .await
        }
    };
    // Four failures, then a success: the count starts again.
    for _ in 0..4 {
        attempt("insp_a", "wrong")
            .await?
            .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    assert_eq!(attempt("insp_a", PASSWORD).await?.status, StatusCode::OK);
    for _ in 0..5 {
        attempt("insp_a", "wrong")
            .await?
            .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    // The sixth attempt is refused even with the right password, and so is a wrong one.
    attempt("insp_a", PASSWORD)
        .await?
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    attempt("insp_a", "wrong")
        .await?
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    // Other users are not affected.
    assert_eq!(attempt("insp_b", PASSWORD).await?.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401() -> TestResult {
    let app = fixture().await?;
    let revoked = app.login("insp_a").await?;
    let still_valid = app.login("insp_a").await?;
    let logout = app
        .call("POST", "/api/auth/logout", Some(&revoked), None)
        .await?;
    assert_eq!(logout.status, StatusCode::NO_CONTENT, "{}", logout.body);

    // Tokens that expire the moment they are made.
    let expiring = fixture_with(Settings {
        token_ttl: TimeDelta::seconds(-1),
        ..Settings::default()
    })
    .await?;
    let expired = expiring.login("insp_a").await?;
    let answer = expiring.get("/api/sync/pull", &expired).await?;
    answer.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(answer.message().contains("expired"), "{}", answer.body);

    let cases: [(&str, Option<&str>, &str); 5] = [
        ("no header", None, "missing"),
        ("not bearer", Some("Basic aW5zcF9hOnB3"), "malformed"),
        ("empty bearer", Some("Bearer "), "malformed"),
        ("garbage", Some("Bearer 0123456789abcdef"), "unknown"),
        ("revoked", Some(&format!("Bearer {revoked}")), "revoked"),
    ];
    for (case, authorization, says) in cases {
        for (method, path) in [("GET", "/api/sync/pull"), ("POST", "/api/sync/push")] {
            let mut request = Request::builder().method(method).uri(path);
            if let Some(authorization) = authorization {
                request = request.header(header::AUTHORIZATION, authorization);
            }
            let request = request.body(Body::from(format!(
                r#"{{"device_id":"{DEVICE}","mutations":[]}}"#
            )))?;
            let answer = read_answer(router(app.state.clone()).oneshot(request).await?).await?;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{case} {method} {path}"
            );
            assert_eq!(answer.body["error"]["code"], "unauthorized", "{case}");
            assert!(answer.message().contains(says), "{case}: {}", answer.body);
        }
    }
    // Logging out revoked only the one token.
    assert_eq!(
        app.get("/api/sync/pull", &still_valid).await?.status,
        StatusCode::OK
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Push

#[tokio::test]
async fn push_creates_at_rev_1_updates_to_rev_2_and_a_replay_is_duplicate() -> TestResult {
    let app = fixture().await?;
    // A venue, the protocol's plainest record: its updates are the team leader's.
    let token = app.login("super_a").await?;
    let venue_id = new_id();
    let create = mutation(
        "venue",
        &venue_id,
        0,
        venue_body(&venue_id, &app.insp_a, VenueKind::Arcade),
    );
    let results = app.push(&token, std::slice::from_ref(&create)).await?;
    check(&results[0], MutationStatus::Applied, None);
    assert_eq!(results[0].rev, Some(1));
    assert_eq!(results[0].op_id.as_str(), create["op_id"]);

    let renamed = with(
        venue_body(&venue_id, &app.insp_a, VenueKind::Arcade),
        "/name",
        json!("改名游艺厅"),
    );
    let update = mutation("venue", &venue_id, 1, renamed);
    let results = app.push(&token, std::slice::from_ref(&update)).await?;
    check(&results[0], MutationStatus::Applied, None);
    assert_eq!(results[0].rev, Some(2));

    // Both ops replayed (the phone never heard the answers): the same revs, nothing changes.
    let results = app.push(&token, &[create, update]).await?;
    check(&results[0], MutationStatus::Duplicate, None);
    assert_eq!(results[0].rev, Some(1));
    check(&results[1], MutationStatus::Duplicate, None);
    assert_eq!(results[1].rev, Some(2));

    let pulled = app.pull_all(&token).await?;
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    let (entity, id, rev, body) = &pulled[0];
    assert_eq!(
        (*entity, id.as_str(), *rev),
        (Entity::Venue, venue_id.as_str(), 2)
    );
    assert_eq!(body["name"], "改名游艺厅");
    Ok(())
}

/// Inspectors register the venues they meet in the field, each as a registration for the team
/// leader to confirm; correcting, closing or confirming a venue of the register is the team
/// leader's: a venue closed drops off every officer's list.
#[tokio::test]
async fn an_inspector_registers_venues_and_only_the_team_leader_changes_the_register() -> TestResult
{
    let app = fixture().await?;
    let (inspector, leader) = (app.login("insp_a").await?, app.login("super_a").await?);
    let venue_id = new_id();
    // A registration claiming to be confirmed is stored as one to confirm.
    let claimed = with(
        venue_body(&venue_id, &app.insp_a, VenueKind::Arcade),
        "/field_registered",
        json!(false),
    );
    let results = app
        .push(&inspector, &[mutation("venue", &venue_id, 0, claimed)])
        .await?;
    check(&results[0], MutationStatus::Applied, None);
    assert_eq!(
        results[0]
            .fields
            .as_ref()
            .map(|fields| &fields["field_registered"]),
        Some(&json!(true)),
        "the phone is told what the server stored: {:?}",
        results[0]
    );
    let closed = with(
        venue_body(&venue_id, &app.insp_a, VenueKind::Arcade),
        "/active",
        json!(false),
    );
    let confirmed = with(
        venue_body(&venue_id, &app.insp_a, VenueKind::Arcade),
        "/field_registered",
        json!(false),
    );
    let results = app
        .push(
            &inspector,
            &[
                mutation("venue", &venue_id, 1, closed.clone()),
                mutation("venue", &venue_id, 1, confirmed),
            ],
        )
        .await?;
    for result in &results {
        check(result, MutationStatus::Rejected, Some("forbidden"));
    }
    // The same registration created again (a backup imported on another phone after it synced):
    // a conflict with the server's copy, for the officer to take, not a refusal.
    let again = app
        .push(
            &inspector,
            &[mutation(
                "venue",
                &venue_id,
                0,
                venue_body(&venue_id, &app.insp_a, VenueKind::Arcade),
            )],
        )
        .await?;
    check(&again[0], MutationStatus::Conflict, None);
    let pulled = app.pull_all(&inspector).await?;
    assert_eq!(
        (
            pulled[0].2,
            &pulled[0].3["active"],
            &pulled[0].3["field_registered"]
        ),
        (1, &json!(true), &json!(true)),
        "{pulled:?}"
    );
    assert_eq!(
        app.push_ok(&leader, mutation("venue", &venue_id, 1, closed))
            .await?,
        2
    );
    Ok(())
}

#[tokio::test]
async fn stale_base_rev_and_creating_an_existing_id_are_conflicts_with_the_server_copy()
-> TestResult {
    let app = fixture().await?;
    // The team leader on two phones: venues of the register are theirs to change.
    let token = app.login("super_a").await?;
    let other_token = app.login("super_a").await?;
    let venue_id = app.venue(&token, &app.insp_a, VenueKind::Hotel).await?;
    let edit = |name: &str| {
        with(
            venue_body(&venue_id, &app.insp_a, VenueKind::Hotel),
            "/name",
            json!(name),
        )
    };
    assert_eq!(
        app.push_ok(&token, mutation("venue", &venue_id, 1, edit("第一次修改")))
            .await?,
        2
    );

    // The second phone still holds rev 1.
    let results = app
        .push(
            &other_token,
            &[
                mutation("venue", &venue_id, 1, edit("第二部手机的修改")),
                mutation("venue", &venue_id, 0, edit("重复新建")),
            ],
        )
        .await?;
    for result in &results {
        check(result, MutationStatus::Conflict, None);
        assert_eq!(result.rev, None);
        let current = result
            .current
            .as_ref()
            .context("conflict without current")?;
        assert_eq!(current["rev"], 2);
        assert_eq!(current["body"]["name"], "第一次修改");
        assert_eq!(current["body"]["id"], venue_id.as_str());
    }
    let pulled = app.pull_all(&token).await?;
    assert_eq!(pulled[0].2, 2, "the conflicts changed nothing");
    assert_eq!(pulled[0].3["name"], "第一次修改");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_edits_on_the_same_rev_exactly_one_wins() -> TestResult {
    let app = fixture().await?;
    let token = app.login("super_a").await?;
    let venue_id = app.venue(&token, &app.insp_a, VenueKind::Hotel).await?;
    let mut pushes = tokio::task::JoinSet::new();
    for phone_idx in 0..8 {
        let body = with(
            venue_body(&venue_id, &app.insp_a, VenueKind::Hotel),
            "/name",
            json!(format!("手机{phone_idx}的修改")),
        );
        spawn_push(
            &mut pushes,
            &app,
            &token,
            phone_idx,
            mutation("venue", &venue_id, 1, body),
        )?;
    }
    let mut statuses = Vec::new();
    while let Some(joined) = pushes.join_next().await {
        let results = push_results(joined??)?;
        statuses.push((results[0].status, results[0].rev));
    }
    let applied = statuses
        .iter()
        .filter(|status| **status == (MutationStatus::Applied, Some(2)))
        .count();
    let conflicts = statuses
        .iter()
        .filter(|status| status.0 == MutationStatus::Conflict)
        .count();
    assert_eq!((applied, conflicts), (1, 7), "{statuses:?}");
    assert_eq!(app.pull_all(&token).await?[0].2, 2);
    Ok(())
}

/// Writers wait for their turn holding no connection: with more pushes waiting to write than the
/// pool has connections, a pull is answered while a write transaction is open, and every push is
/// applied once it ends. (Waiting in SQLite's busy handler, each push held a connection: the pull
/// waited until they gave up, and they failed.)
#[tokio::test]
async fn pushes_waiting_to_write_leave_the_connections_to_reads() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let venue_id = app
        .venue(&token, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let held = db::begin_write(&app.state.pool).await?;
    let mut pushes = tokio::task::JoinSet::new();
    // More pushes than the pool has connections.
    let phones = app.state.pool.options().get_max_connections() + 4;
    for phone_idx in 0..phones {
        let id = new_id();
        let body = app.inspection_body(&id, &venue_id, &app.insp_a);
        spawn_push(
            &mut pushes,
            &app,
            &token,
            phone_idx,
            mutation("inspection", &id, 0, body),
        )?;
    }
    // Time for every push to reach its wait. Shorter, the test only proves less: a push not yet
    // waiting holds nothing either way.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pulled = app.pull(&token, "", 1000).await?;
    ensure!(
        pulled.changes.iter().any(|change| change.id == venue_id),
        "the pull answered without the venue"
    );
    ensure!(
        pushes.len() == usize::try_from(phones)? && pushes.try_join_next().is_none(),
        "a push ended while the write transaction was still open"
    );
    held.commit().await?;
    while let Some(joined) = pushes.join_next().await {
        check(&push_results(joined??)?[0], MutationStatus::Applied, None);
    }
    Ok(())
}

/// SQLite's write-ahead log is folded into the database file by the pool's own task, beside the
/// writers, not in the commit of whichever writer takes it past SQLite's threshold (which held every
/// push behind it): rows a commit leaves in the log reach the file a moment later, though fewer
/// than that threshold (1 000 pages, 4 MB).
#[tokio::test]
async fn the_write_ahead_log_is_folded_in_beside_the_writers() -> TestResult {
    if backend::engine() != db::Engine::Sqlite {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let pool = db::open(db::connect_options(dir.path(), None)?).await?;
    let file = db::default_database_path(dir.path());
    sqlx::query("CREATE TABLE filler (body TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    let before = std::fs::metadata(&file)?.len();
    let mut tx = db::begin_write(&pool).await?;
    // About 2 MB: half SQLite's own threshold.
    for n in 0..1_000 {
        sqlx::query("INSERT INTO filler (body) VALUES ($1)")
            .bind(format!("{n:02000}"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let mut waited = 0;
    while std::fs::metadata(&file)?.len() < before + 2_000_000 {
        ensure!(
            waited < 300,
            "the log was not folded into the file within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    db::close(&pool).await;
    Ok(())
}

#[tokio::test]
async fn bad_mutations_are_rejected_while_the_rest_of_the_batch_applies() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let venue_id = new_id();
    let good_inspection = new_id();
    let good_after_bad = new_id();
    let inspection = |id: &str| app.inspection_body(id, &venue_id, &app.insp_a);
    let ids: Vec<String> = (0..6).map(|_| new_id()).collect();
    let mutations = [
        mutation(
            "venue",
            &venue_id,
            0,
            venue_body(&venue_id, &app.insp_a, VenueKind::InternetCafe),
        ),
        mutation(
            "inspection",
            &good_inspection,
            0,
            inspection(&good_inspection),
        ),
        mutation(
            "inspection",
            &ids[0],
            0,
            with(
                inspection(&ids[0]),
                "/answers/0/item",
                json!("internet_cafe.no_such_item"),
            ),
        ),
        mutation(
            "inspection",
            &ids[1],
            0,
            with(inspection(&ids[1]), "/hazards/0/rectify", json!("deadline")),
        ),
        mutation(
            "inspection",
            &ids[2],
            0,
            with(inspection(&ids[2]), "/kind", json!("surprise_visit")),
        ),
        mutation(
            "inspection",
            &ids[3],
            0,
            with(inspection(&ids[3]), "/venue_id", json!(new_id())),
        ),
        mutation("inspection", &ids[4], 0, inspection(&ids[5])),
        mutation(
            "inspection",
            &ids[4],
            0,
            with(
                with(inspection(&ids[4]), "/template", json!("hotel@1")),
                "/answers",
                json!([]),
            ),
        ),
        mutation(
            "inspection",
            &good_after_bad,
            0,
            inspection(&good_after_bad),
        ),
    ];
    let results = app.push(&token, &mutations).await?;
    let expected: [(MutationStatus, Option<&str>, &str); 9] = [
        (MutationStatus::Applied, None, ""),
        (MutationStatus::Applied, None, ""),
        (
            MutationStatus::Rejected,
            Some("invalid"),
            "internet_cafe.no_such_item",
        ),
        (
            MutationStatus::Rejected,
            Some("invalid"),
            "限期整改须填写整改期限",
        ),
        (MutationStatus::Rejected, Some("invalid"), "surprise_visit"),
        (
            MutationStatus::Rejected,
            Some("unknown_venue"),
            "push the venue first",
        ),
        (
            MutationStatus::Rejected,
            Some("invalid"),
            "differs from the mutation's id",
        ),
        (
            MutationStatus::Rejected,
            Some("invalid"),
            "does not fit a venue of kind internet_cafe",
        ),
        (MutationStatus::Applied, None, ""),
    ];
    for (result_idx, (result, (status, code, says))) in results.iter().zip(expected).enumerate() {
        check(result, status, code);
        let message = result
            .error
            .as_ref()
            .map(|error| error.message.as_str())
            .unwrap_or_default();
        assert!(message.contains(says), "mutation {result_idx}: {message}");
    }
    // A deadline without a date is explained in both languages.
    let deadline_message = &results[3].error.as_ref().context("error")?.message;
    assert!(
        deadline_message.contains("needs the deadline date"),
        "{deadline_message}"
    );

    let pulled: HashSet<String> = app
        .pull_all(&token)
        .await?
        .into_iter()
        .map(|c| c.1)
        .collect();
    let expected: HashSet<String> = [venue_id, good_inspection, good_after_bad].into();
    assert_eq!(pulled, expected, "only the good records were stored");
    Ok(())
}

#[tokio::test]
async fn the_server_sets_unit_author_and_receipt_time_of_inspections() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let venue_id = app
        .venue(&token, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let id = new_id();
    let both = complete_inspection(&id, &venue_id, &[&app.insp_a, &app.insp_a2]);
    let forged = with(
        with(both.clone(), "/unit_id", json!(app.insp_b.unit_id)),
        "/created_by",
        json!(app.insp_b.id),
    );
    let mut forged = with(forged, "/received_at", json!("2000-01-01T00:00:00+00:00"));
    forged["review_comment"] = json!("looks fine to me");
    forged["unexpected_field"] = json!(1);
    app.push_ok(&token, mutation("inspection", &id, 0, forged))
        .await?;

    let first = app
        .pull_all(&token)
        .await?
        .into_iter()
        .find(|c| c.1 == id)
        .context("pulled")?
        .3;
    assert_eq!(first["unit_id"], json!(app.insp_a.unit_id));
    assert_eq!(first["created_by"], json!(app.insp_a.id));
    assert_eq!(first["review_comment"], Value::Null);
    assert!(
        first.get("unexpected_field").is_none(),
        "stored as core normalises it"
    );
    let received_at = first["received_at"]
        .as_str()
        .context("received_at")?
        .to_owned();
    assert!(!received_at.starts_with("2000"), "{received_at}");

    // The second officer's edit keeps the first author and receipt time.
    let colleague = app.login("insp_a2").await?;
    let edit = with(both, "/notes", json!("补充说明"));
    assert_eq!(
        app.push_ok(&colleague, mutation("inspection", &id, 1, edit))
            .await?,
        2
    );
    let second = app
        .pull_all(&token)
        .await?
        .into_iter()
        .find(|c| c.1 == id)
        .context("pulled")?
        .3;
    assert_eq!(second["created_by"], json!(app.insp_a.id));
    assert_eq!(second["received_at"], json!(received_at));
    assert_eq!(second["notes"], "补充说明");
    Ok(())
}

#[tokio::test]
async fn campaigns_are_pushed_by_supervisors_not_inspectors() -> TestResult {
    let app = fixture().await?;
    let campaign_id = new_id();
    let campaign = json!({
        "id": campaign_id, "name": "燃气安全隐患大排查", "venue_kinds": ["hotel", "song_dance"],
        "starts_on": "2026-11-01", "ends_on": "2026-12-31", "unit_id": app.insp_a.unit_id
    });
    let inspector = app.login("insp_a").await?;
    let results = app
        .push(
            &inspector,
            &[mutation("campaign", &campaign_id, 0, campaign.clone())],
        )
        .await?;
    check(&results[0], MutationStatus::Rejected, Some("forbidden"));

    let supervisor = app.login("super_a").await?;
    assert_eq!(
        app.push_ok(
            &supervisor,
            mutation("campaign", &campaign_id, 0, campaign.clone())
        )
        .await?,
        1
    );
    // A supervisor files campaigns in their own unit only.
    let other_unit = with(campaign, "/unit_id", json!(app.super_b.unit_id));
    let other_id = new_id();
    let other_unit = with(other_unit, "/id", json!(other_id));
    let results = app
        .push(
            &supervisor,
            &[mutation("campaign", &other_id, 0, other_unit)],
        )
        .await?;
    check(&results[0], MutationStatus::Rejected, Some("forbidden"));
    // The inspector pulls the campaign.
    let pulled = app.pull_all(&inspector).await?;
    assert_eq!(
        pulled
            .iter()
            .map(|c| (c.0, c.1.as_str()))
            .collect::<Vec<_>>(),
        [(Entity::Campaign, campaign_id.as_str())]
    );
    Ok(())
}

#[tokio::test]
async fn push_limits_and_malformed_bodies_answer_in_the_error_shape() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let malformed = app
        .call(
            "POST",
            "/api/sync/push",
            Some(&token),
            Some(format!("{{\"device_id\": \"{DEVICE}\", \"mutations\": [")),
        )
        .await?;
    malformed.assert_error(StatusCode::BAD_REQUEST, "malformed");
    let wrong_shape = app
        .post("/api/sync/push", Some(&token), &json!({"mutations": 3}))
        .await?;
    wrong_shape.assert_error(StatusCode::BAD_REQUEST, "malformed");
    let malformed_login = app
        .call("POST", "/api/auth/login", None, Some("not json".to_owned()))
        .await?;
    malformed_login.assert_error(StatusCode::BAD_REQUEST, "malformed");

    let venue = |_| {
        let id = new_id();
        mutation(
            "venue",
            &id,
            0,
            venue_body(&id, &app.insp_a, VenueKind::Arcade),
        )
    };
    let too_many: Vec<Value> = (0..501).map(venue).collect();
    let answer = app.push_answer(&token, &too_many).await?;
    answer.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_many_mutations");
    let huge_note = "x".repeat(17 * 1024 * 1024);
    let answer = app
        .post(
            "/api/sync/push",
            Some(&token),
            &json!({"device_id": DEVICE, "mutations": [], "note": huge_note}),
        )
        .await?;
    answer.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    assert!(app.pull_all(&token).await?.is_empty(), "nothing was stored");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pull

#[tokio::test]
async fn pull_pages_by_limit_and_cursor() -> TestResult {
    let app = fixture().await?;
    // The team leader: the edit below closes a venue of the register.
    let token = app.login("super_a").await?;
    let mut pushed = Vec::new();
    for kind in &VenueKind::ALL[..5] {
        pushed.push(app.venue(&token, &app.insp_a, *kind).await?);
    }
    let mut seen = Vec::new();
    let mut cursor = "0".to_owned();
    let mut pages = Vec::new();
    loop {
        let page = app.pull(&token, &cursor, 2).await?;
        pages.push((page.changes.len(), page.has_more));
        seen.extend(page.changes.into_iter().map(|change| change.id));
        assert_ne!(page.cursor, cursor, "a page with changes moves the cursor");
        cursor = page.cursor;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(pages, [(2, true), (2, true), (1, false)]);
    assert_eq!(seen, pushed, "each record once, in the order of change");

    // Nothing new: no changes, the same cursor.
    let idle = app.pull(&token, &cursor, 2).await?;
    assert!(idle.changes.is_empty() && !idle.has_more);
    assert_eq!(idle.cursor, cursor);
    // An edit moves the record behind the cursor.
    let edited = with(
        venue_body(&pushed[0], &app.insp_a, VenueKind::ALL[0]),
        "/active",
        json!(false),
    );
    app.push_ok(&token, mutation("venue", &pushed[0], 1, edited))
        .await?;
    let next = app.pull(&token, &cursor, 2).await?;
    assert_eq!(
        next.changes
            .iter()
            .map(|c| (c.id.as_str(), c.rev))
            .collect::<Vec<_>>(),
        [(pushed[0].as_str(), 2)]
    );
    // No limit: the default page; empty cursor: from the start.
    let answer = app.get("/api/sync/pull?since=", &token).await?;
    assert_eq!(answer.body["changes"].as_array().map(Vec::len), Some(5));

    for bad in ["abc", "-1", "1.5", "99999999999999999999"] {
        let answer = app
            .get(&format!("/api/sync/pull?since={bad}"), &token)
            .await?;
        answer.assert_error(StatusCode::BAD_REQUEST, "bad_cursor");
    }
    app.get("/api/sync/pull?limit=many", &token)
        .await?
        .assert_error(StatusCode::BAD_REQUEST, "malformed");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Units and review

#[tokio::test]
async fn units_do_not_see_or_touch_each_others_records() -> TestResult {
    let app = fixture().await?;
    let token_a = app.login("insp_a").await?;
    let token_b = app.login("insp_b").await?;
    let venue_a = app
        .venue(&token_a, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let inspection_a = app.inspect(&token_a, &venue_a, &app.insp_a).await?;
    let venue_b = app
        .venue(&token_b, &app.insp_b, VenueKind::InternetCafe)
        .await?;

    let ids = |records: Vec<(Entity, String, u64, Value)>| -> HashSet<String> {
        records.into_iter().map(|record| record.1).collect()
    };
    assert_eq!(ids(app.pull_all(&token_b).await?), [venue_b.clone()].into());
    assert_eq!(
        ids(app.pull_all(&token_a).await?),
        [venue_a.clone(), inspection_a.clone()].into()
    );
    let admin = app.login("admin").await?;
    assert_eq!(
        ids(app.pull_all(&admin).await?),
        [venue_a.clone(), inspection_a.clone(), venue_b.clone()].into()
    );

    let b_inspects_a = new_id();
    let venue_for_a = new_id();
    let results = app
        .push(
            &token_b,
            &[
                // An inspection of unit A's venue.
                mutation(
                    "inspection",
                    &b_inspects_a,
                    0,
                    app.inspection_body(&b_inspects_a, &venue_a, &app.insp_b),
                ),
                // Editing A's venue, and A's inspection, even with the right rev.
                mutation(
                    "venue",
                    &venue_a,
                    1,
                    venue_body(&venue_a, &app.insp_b, VenueKind::InternetCafe),
                ),
                mutation(
                    "inspection",
                    &inspection_a,
                    1,
                    app.inspection_body(&inspection_a, &venue_b, &app.insp_b),
                ),
                // Registering a venue in unit A.
                mutation(
                    "venue",
                    &venue_for_a,
                    0,
                    venue_body(&venue_for_a, &app.insp_a, VenueKind::Arcade),
                ),
            ],
        )
        .await?;
    for result in &results {
        check(result, MutationStatus::Rejected, Some("forbidden"));
        assert!(result.current.is_none(), "nothing of unit A leaks");
    }

    // Unit B's supervisor cannot review A's inspection; it looks like it does not exist.
    let super_b = app.login("super_b").await?;
    let review = json!({"decision": "approve", "comment": null, "rev": 1});
    let answer = app
        .post(
            &format!("/api/inspections/{inspection_a}/review"),
            Some(&super_b),
            &review,
        )
        .await?;
    answer.assert_error(StatusCode::NOT_FOUND, "not_found");
    let missing = app
        .post(
            &format!("/api/inspections/{}/review", new_id()),
            Some(&super_b),
            &review,
        )
        .await?;
    missing.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.pull_all(&token_a).await?.len(),
        2,
        "unit A's records are unchanged"
    );
    assert!(
        app.pull_all(&token_a)
            .await?
            .iter()
            .all(|record| record.2 == 1)
    );
    Ok(())
}

#[tokio::test]
async fn review_approves_or_returns_and_approved_records_are_locked() -> TestResult {
    let app = fixture().await?;
    let inspector = app.login("insp_a").await?;
    let supervisor = app.login("super_a").await?;
    let venue_id = app
        .venue(&inspector, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let push_inspection = |status: &str| {
        let id = new_id();
        let body = with(
            app.inspection_body(&id, &venue_id, &app.insp_a),
            "/status",
            json!(status),
        );
        (id.clone(), mutation("inspection", &id, 0, body))
    };
    let review_path = |id: &str| format!("/api/inspections/{id}/review");

    // Inspectors do not review, nor set review outcomes by push.
    let (submitted, create) = push_inspection("submitted");
    app.push_ok(&inspector, create).await?;
    let approve = json!({"decision": "approve", "comment": "记录完整", "rev": 1});
    app.post(&review_path(&submitted), Some(&inspector), &approve)
        .await?
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let (_, self_approved) = push_inspection("approved");
    check(
        &app.push(&inspector, &[self_approved]).await?[0],
        MutationStatus::Rejected,
        Some("review_only"),
    );

    // A draft cannot be reviewed.
    let (draft, create) = push_inspection("draft");
    app.push_ok(&inspector, create).await?;
    app.post(&review_path(&draft), Some(&supervisor), &approve)
        .await?
        .assert_error(StatusCode::CONFLICT, "not_submitted");
    app.post(
        &review_path(&draft),
        Some(&supervisor),
        &json!({"decision": "maybe", "rev": 1}),
    )
    .await?
    .assert_error(StatusCode::BAD_REQUEST, "malformed");

    // Approve: rev 2, the comment stored, pulled by the inspector.
    let answer = app
        .post(&review_path(&submitted), Some(&supervisor), &approve)
        .await?;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["status"], "approved");
    assert_eq!(answer.body["review_comment"], "记录完整");
    assert_eq!(answer.body["id"], submitted.as_str());
    let pulled = app.pull_all(&inspector).await?;
    let (_, _, rev, body) = pulled
        .iter()
        .find(|record| record.1 == submitted)
        .context("pulled")?;
    assert_eq!((*rev, &body["status"]), (2, &json!("approved")));

    // The approved record is locked: for an edit on the current rev, and for a second review.
    let edit = with(
        app.inspection_body(&submitted, &venue_id, &app.insp_a),
        "/notes",
        json!("事后修改"),
    );
    check(
        &app.push(&inspector, &[mutation("inspection", &submitted, 2, edit)])
            .await?[0],
        MutationStatus::Rejected,
        Some("locked"),
    );
    app.post(
        &review_path(&submitted),
        Some(&supervisor),
        &with(approve.clone(), "/rev", json!(2)),
    )
    .await?
    .assert_error(StatusCode::CONFLICT, "locked");

    // Return with a comment; the inspector fixes and resubmits, the comment stays until the next review.
    let (returned, create) = push_inspection("submitted");
    app.push_ok(&inspector, create).await?;
    let answer = app
        .post(
            &review_path(&returned),
            Some(&supervisor),
            &json!({"decision": "return", "comment": "缺少当事人签名", "rev": 1}),
        )
        .await?;
    assert_eq!(answer.body["status"], "returned", "{}", answer.body);
    let fixed = with(
        app.inspection_body(&returned, &venue_id, &app.insp_a),
        "/notes",
        json!("已补签名"),
    );
    assert_eq!(
        app.push_ok(&inspector, mutation("inspection", &returned, 2, fixed))
            .await?,
        3
    );
    let pulled = app.pull_all(&inspector).await?;
    let (_, _, _, body) = pulled
        .iter()
        .find(|record| record.1 == returned)
        .context("pulled")?;
    assert_eq!(
        (&body["status"], &body["review_comment"]),
        (&json!("submitted"), &json!("缺少当事人签名"))
    );
    // An admin reviews too.
    let admin = app.login("admin").await?;
    let answer = app
        .post(
            &review_path(&returned),
            Some(&admin),
            &with(approve.clone(), "/rev", json!(3)),
        )
        .await?;
    assert_eq!(
        (answer.status, &answer.body["status"]),
        (StatusCode::OK, &json!("approved"))
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Routing and static files

#[tokio::test]
async fn unknown_api_paths_and_methods_answer_json_and_other_paths_404_without_a_static_folder()
-> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    app.get("/api/no/such/thing", &token)
        .await?
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.call("GET", "/api/nope", None, None)
        .await?
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/sync/push", &token)
        .await?
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let page = app.call("GET", "/inspections/new", None, None).await?;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.body
            .as_str()
            .is_some_and(|text| text.contains("static")),
        "{}",
        page.body
    );
    Ok(())
}

#[tokio::test]
async fn the_app_is_served_with_a_fallback_to_index_html() -> TestResult {
    let static_dir = tempfile::tempdir()?;
    std::fs::write(
        static_dir.path().join("index.html"),
        "<!doctype html><title>FieldCheck</title><style>body{margin:0}</style>\
         <script type=\"module\">start();</script><script src=\"/app-3f2a.js\"></script>",
    )?;
    std::fs::write(
        static_dir.path().join("sw.js"),
        "self.addEventListener('fetch', () => {});",
    )?;
    std::fs::write(static_dir.path().join("app-3f2a.js"), "console.log(1);")?;
    // A hashed asset with its precompressed copies, as the build leaves them.
    let hashed = "fieldcheck-28a27efd8a39992e_bg.wasm";
    std::fs::write(static_dir.path().join(hashed), b"plain wasm bytes")?;
    std::fs::write(
        static_dir.path().join(format!("{hashed}.br")),
        b"brotli bytes",
    )?;
    std::fs::write(
        static_dir.path().join(format!("{hashed}.gz")),
        b"gzip bytes",
    )?;
    let app = fixture_with(Settings {
        static_dir: Some(static_dir.path().to_path_buf()),
        ..Settings::default()
    })
    .await?;

    let cases: [(&str, &str, Option<&str>); 5] = [
        ("/", "FieldCheck", Some("no-cache")),
        ("/index.html", "FieldCheck", Some("no-cache")),
        ("/inspections/123", "FieldCheck", Some("no-cache")),
        ("/sw.js", "addEventListener", Some("no-cache")),
        ("/app-3f2a.js", "console.log", None),
    ];
    for (path, contains, cache_control) in cases {
        let answer = app.call("GET", path, None, None).await?;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(
            answer
                .body
                .as_str()
                .is_some_and(|text| text.contains(contains)),
            "{path}: {}",
            answer.body
        );
        let header = answer
            .headers
            .get(header::CACHE_CONTROL)
            .and_then(|value| value.to_str().ok());
        assert_eq!(header, cache_control, "{path}");
    }
    // Precompressed copies go to phones that accept them; hashed assets are kept for a year.
    for (accept, encoding, bytes) in [
        (Some("gzip, deflate, br"), Some("br"), "brotli bytes"),
        (Some("gzip"), Some("gzip"), "gzip bytes"),
        (None, None, "plain wasm bytes"),
    ] {
        let mut request = Request::get(format!("/{hashed}"));
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT_ENCODING, accept);
        }
        let response = router(app.state.clone())
            .oneshot(request.body(Body::empty())?)
            .await?;
        assert_eq!(response.status(), StatusCode::OK);
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            header(header::CONTENT_ENCODING).as_deref(),
            encoding,
            "{accept:?}"
        );
        assert_eq!(
            header(header::CACHE_CONTROL).as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        assert_eq!(&body[..], bytes.as_bytes(), "{accept:?}");
    }

    // A file that is not there is not found: the page stands in for the app's routes only, never
    // for a missing screen file that an older build asks for after a deploy.
    for missing in [
        "/split_records-0123456789abcdef.wasm",
        "/gone.js",
        "/a/b.css",
    ] {
        let answer = app.call("GET", missing, None, None).await?;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{missing}");
    }

    // The API still wins over the fallback.
    let api = app.call("GET", "/api/nope", None, None).await?;
    api.assert_error(StatusCode::NOT_FOUND, "not_found");

    // Every answer, app or API, carries the security headers; the policy allows the inline start-up
    // script and the inlined stylesheet by their hashes and nothing else inline.
    let hash = |text: &[u8]| {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text))
    };
    let start_hash = hash(b"start();");
    let style_hash = hash(b"body{margin:0}");
    for answer in [app.call("GET", "/", None, None).await?, api] {
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let policy = header("content-security-policy");
        assert!(
            policy.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-{start_hash}';"
            )),
            "{policy}"
        );
        assert!(
            policy.contains(&format!("style-src 'self' 'sha256-{style_hash}';")),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains("form-action 'none'"), "{policy}");
        assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert_eq!(
            policy.matches("'sha256-").count(),
            2,
            "only the inline script and style: {policy}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(header("x-frame-options"), "DENY");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Users and demo data

#[tokio::test]
async fn user_add_creates_the_unit_once_and_refuses_duplicates() -> TestResult {
    let dir = tempfile::tempdir()?;
    let pool = open_pool(dir.path()).await?;
    let new_user = |username: &str, unit: &str| NewUser {
        username: username.to_owned(),
        password: "pw".to_owned(),
        role: Role::Supervisor,
        unit_name: unit.to_owned(),
        name: Some("王芳".to_owned()),
        cert_no: Some("豫C-0101005".to_owned()),
    };
    let first = users::add_user(&pool, new_user("wangfang", UNIT_A)).await?;
    assert_eq!(
        (first.name.as_str(), first.cert_no.as_deref(), first.role),
        ("王芳", Some("豫C-0101005"), Role::Supervisor)
    );
    let colleague = users::add_user(&pool, new_user("colleague", UNIT_A)).await?;
    assert_eq!(
        colleague.unit_id, first.unit_id,
        "an existing unit is reused"
    );
    let elsewhere = users::add_user(&pool, new_user("elsewhere", UNIT_B)).await?;
    assert_ne!(elsewhere.unit_id, first.unit_id, "a new unit is created");
    assert!(db::unit_exists(&pool, &elsewhere.unit_id).await?);

    match users::add_user(&pool, new_user("wangfang", UNIT_B)).await {
        Err(UserError::DuplicateUsername(name)) => assert_eq!(name, "wangfang"),
        other => bail!("expected a duplicate-username error, got {other:?}"),
    }
    let empty_password = NewUser {
        password: String::new(),
        ..new_user("nopass", UNIT_A)
    };
    assert!(matches!(
        users::add_user(&pool, empty_password).await,
        Err(UserError::EmptyPassword)
    ));
    assert!(matches!(
        users::add_user(&pool, new_user("two words", UNIT_A)).await,
        Err(UserError::BadUsername)
    ));
    assert_eq!(db::count_users(&pool).await?, 3);
    Ok(())
}

#[tokio::test]
async fn demo_data_covers_every_venue_kind_and_is_pulled_per_unit() -> TestResult {
    let dir = tempfile::tempdir()?;
    let pool = open_pool(dir.path()).await?;
    let demo_data = demo::seed(&pool)
        .await?
        .context("an empty database gets demo data")?;
    let kinds: HashSet<VenueKind> = demo_data.venues.iter().map(|venue| venue.kind).collect();
    assert_eq!(kinds.len(), VenueKind::ALL.len());
    // A record is submitted by two officers of its unit and reviewed by its supervisor: every unit
    // can show the whole flow.
    for (unit, users) in &demo_data.units {
        let with_role = |role: Role| users.iter().filter(|user| user.role == role).count();
        let inspectors = with_role(Role::Inspector);
        assert!(inspectors >= 2, "{unit} has {inspectors} inspector(s)");
        assert!(with_role(Role::Supervisor) >= 1, "{unit} has no supervisor");
    }
    let table = demo_data.logins_table();
    assert!(
        table.contains("\n  zhangwei / fieldcheck  (inspector, 张伟)\n"),
        "{table}"
    );
    assert!(
        table.contains("\n  wangfang / fieldcheck  (supervisor, 王芳)\n"),
        "{table}"
    );
    assert!(
        demo::seed(&pool).await?.is_none(),
        "a second start adds nothing"
    );

    let app = App {
        state: AppState::new(pool, backend::photo_store(dir.path())?, Settings::default()),
        _dir: dir,
    };
    let zhangwei = app.login_with("zhangwei", demo::DEMO_PASSWORD).await?;
    let zhaolei = app.login_with("zhaolei", demo::DEMO_PASSWORD).await?;
    let main_unit = app.pull_all(&zhangwei).await?;
    let second_unit = app.pull_all(&zhaolei).await?;
    assert_eq!(main_unit.len() + second_unit.len(), demo_data.venues.len());
    assert!(!second_unit.is_empty() && second_unit.len() < main_unit.len());
    assert!(
        main_unit
            .iter()
            .chain(&second_unit)
            .all(|record| record.0 == Entity::Venue && record.2 == 1)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A real server over HTTP, restarted over the same database

struct RunningServer {
    base_url: String,
    pool: AnyPool,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Starts the server the binary runs, on a listener bound before the task starts (so no waiting).
async fn start_server(data_dir: &Path) -> anyhow::Result<RunningServer> {
    let state = state_in(data_dir, Settings::default()).await?;
    let pool = state.pool.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(fieldcheck_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Ok(RunningServer {
        base_url,
        pool,
        stop,
        task,
    })
}

impl RunningServer {
    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        db::close(&self.pool).await;
        Ok(())
    }
}

async fn http_pull_all(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
) -> anyhow::Result<Vec<(String, u64)>> {
    let mut records = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: PullResponse = client
            .get(format!("{base_url}/api/sync/pull?since={cursor}&limit=2"))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        records.extend(
            page.changes
                .into_iter()
                .map(|change| (change.id, change.rev)),
        );
        cursor = page.cursor;
        if !page.has_more {
            return Ok(records);
        }
    }
}

async fn http_login(
    client: &reqwest::Client,
    base_url: &str,
    username: &str,
) -> anyhow::Result<LoginResponse> {
    Ok(client
        .post(format!("{base_url}/api/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

async fn http_push(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    body: &Value,
) -> anyhow::Result<PushResponse> {
    let response = client
        .post(format!("{base_url}/api/sync/push"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    ensure!(
        response.status() == reqwest::StatusCode::OK,
        "push answered {}",
        response.status()
    );
    Ok(response.json().await?)
}

#[tokio::test]
async fn a_real_server_keeps_data_across_a_restart_and_answers_a_replay_as_duplicate() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let data_dir: PathBuf = dir.path().to_path_buf();
    let (inspector, partner) = {
        let pool = open_pool(&data_dir).await?;
        let inspector = add(&pool, "insp_a", Role::Inspector, UNIT_A).await?;
        let partner = add(&pool, "partner_a", Role::Inspector, UNIT_A).await?;
        db::close(&pool).await;
        (inspector, partner)
    };
    let venue_id = new_id();
    let inspection_id = new_id();
    let push_body = json!({"device_id": DEVICE, "mutations": [
        mutation("venue", &venue_id, 0, venue_body(&venue_id, &inspector, VenueKind::InternetCafe)),
        mutation("inspection", &inspection_id, 0, complete_inspection(&inspection_id, &venue_id, &[&inspector, &partner])),
    ]});
    // The phone uploads the signatures before the record naming them: 201 the first time, 200 when
    // the answer was lost and it sends them again (here after a restart).
    let upload_signatures = |client: &reqwest::Client, base_url: &str, token: &str| {
        let requests: Vec<_> = [OFFICER_SIGNATURE_PNG, PARTY_SIGNATURE_PNG]
            .into_iter()
            .map(|png| {
                client
                    .put(format!("{base_url}/api/photos/{}", photo_name(png)))
                    .bearer_auth(token)
                    .header(header::CONTENT_TYPE.as_str(), "image/png")
                    .body(png)
                    .send()
            })
            .collect();
        async move {
            let mut statuses = Vec::new();
            for request in requests {
                statuses.push(request.await?.status().as_u16());
            }
            anyhow::Ok(statuses)
        }
    };

    let server = start_server(&data_dir).await?;
    let client = reqwest::Client::new();
    let health: Value = client
        .get(format!("{}/api/health", server.base_url))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(health["status"], "ok");
    let login = http_login(&client, &server.base_url, "insp_a").await?;
    assert_eq!(
        upload_signatures(&client, &server.base_url, &login.token).await?,
        [201, 201]
    );
    let first = http_push(&client, &server.base_url, &login.token, &push_body).await?;
    let statuses: Vec<_> = first
        .results
        .iter()
        .map(|result| (result.status, result.rev))
        .collect();
    assert_eq!(
        statuses,
        [
            (MutationStatus::Applied, Some(1)),
            (MutationStatus::Applied, Some(1))
        ]
    );
    let before = http_pull_all(&client, &server.base_url, &login.token).await?;
    assert_eq!(before.len(), 2);
    drop(client);
    server.stop().await?;

    // A new process over the same file: the token, the records and the applied ops survived.
    let server = start_server(&data_dir).await?;
    let client = reqwest::Client::new();
    assert_eq!(
        upload_signatures(&client, &server.base_url, &login.token).await?,
        [200, 200]
    );
    let signature = client
        .get(format!(
            "{}/api/photos/{}",
            server.base_url,
            photo_name(PARTY_SIGNATURE_PNG)
        ))
        .bearer_auth(&login.token)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    assert_eq!(
        &signature[..],
        PARTY_SIGNATURE_PNG,
        "the bytes survived too"
    );
    let replay = http_push(&client, &server.base_url, &login.token, &push_body).await?;
    let statuses: Vec<_> = replay
        .results
        .iter()
        .map(|result| (result.status, result.rev))
        .collect();
    assert_eq!(
        statuses,
        [
            (MutationStatus::Duplicate, Some(1)),
            (MutationStatus::Duplicate, Some(1))
        ]
    );
    let ops: Vec<_> = replay
        .results
        .iter()
        .map(|result| result.op_id.clone())
        .collect();
    assert_eq!(
        ops,
        first
            .results
            .iter()
            .map(|result| result.op_id.clone())
            .collect::<Vec<_>>()
    );
    let after = http_pull_all(&client, &server.base_url, &login.token).await?;
    assert_eq!(after, before, "the replay created nothing new");
    let change_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM changes")
        .fetch_one(&server.pool)
        .await?;
    assert_eq!(
        change_rows, 2,
        "one change-log entry per applied mutation, none for the replay"
    );
    let unauthorized = client
        .get(format!("{}/api/sync/pull", server.base_url))
        .send()
        .await?;
    assert_eq!(unauthorized.status(), reqwest::StatusCode::UNAUTHORIZED);
    let error: Value = unauthorized.json().await?;
    assert_eq!(error["error"]["code"], "unauthorized");
    drop(client);
    server.stop().await
}
