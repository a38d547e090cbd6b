//! The model test: three phones — the core's sync engine over the in-memory phone store — against the
//! real server router on a real SQLite file, through random sequences of edits, syncs, answers lost
//! after the server applied them, failed pulls, server restarts, conflicting edits, reviews, person's
//! resolutions and user switches. After a final fault-free sync it checks what the product promises:
//!
//! - every edit saved on any phone is on the server (in the record's history) or is shown on its phone
//!   as waiting for a person (conflict, rejected), unless the person chose to drop it;
//! - no record and no op exists twice on the server, and every record's revs have no gaps;
//! - every other local copy equals the server's, and every phone holds every record its user may see.
//!
//! A phone's "killed browser" needs no event of its own: the store's every call is atomic (like one
//! IndexedDB transaction), so a kill can only fall between two calls — before a push is sent (as
//! `Offline`), after the server applied it but before the answer was stored (as `LoseAnswer`), or
//! during the pull (as `PullFails`).

use super::*;
use fieldcheck_core::engine::{Remote, sync_once};
use fieldcheck_core::local::{LocalState, ServerVersion, unsynced_count};
use fieldcheck_core::memory::MemoryStore;
use fieldcheck_core::rules::{FixedField, may_edit};
use fieldcheck_core::sync::{PushRequest, PushResponse};
use fieldcheck_core::{DeviceId, Inspection, ItemResult, OfficerSignature, Status, UserId};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

/// Cases the test command runs.
const CASES: u32 = 500;
const N_DEVICES: usize = 3;
const INSPECTORS: [&str; 2] = ["m_insp1", "m_insp2"];
const SUPERVISOR: &str = "m_boss";

// ---------------------------------------------------------------------------------------------
// The events

#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    /// The push never reaches the server (no signal, or the browser killed before sending).
    Offline,
    /// The server applies the push, the answer is lost (connection drop, browser killed).
    LoseAnswer,
    /// The pull fails after the push went through.
    PullFails,
}

#[derive(Debug, Clone, Copy)]
enum Edit {
    Notes,
    Answer { item: usize, result: usize },
    Submit,
    TogglePartner,
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        device: usize,
        with_partner: bool,
    },
    Edit {
        device: usize,
        pick: usize,
        edit: Edit,
    },
    Sync {
        device: usize,
        fault: Fault,
    },
    Review {
        pick: usize,
        approve: bool,
        stale: bool,
    },
    Resolve {
        device: usize,
        pick: usize,
        choice: usize,
    },
    RestartServer,
    SwitchUser {
        device: usize,
    },
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let device = 0..N_DEVICES;
    let fault = prop_oneof![
        4 => Just(Fault::None),
        1 => Just(Fault::Offline),
        2 => Just(Fault::LoseAnswer),
        1 => Just(Fault::PullFails),
    ];
    let edit = prop_oneof![
        3 => Just(Edit::Notes),
        3 => (0usize..6, 0usize..3).prop_map(|(item, result)| Edit::Answer { item, result }),
        3 => Just(Edit::Submit),
        1 => Just(Edit::TogglePartner),
    ];
    prop_oneof![
        3 => (device.clone(), any::<bool>()).prop_map(|(device, with_partner)| Op::Create { device, with_partner }),
        8 => (device.clone(), any::<usize>(), edit).prop_map(|(device, pick, edit)| Op::Edit { device, pick, edit }),
        7 => (device.clone(), fault).prop_map(|(device, fault)| Op::Sync { device, fault }),
        3 => (any::<usize>(), any::<bool>(), proptest::bool::weighted(0.2))
            .prop_map(|(pick, approve, stale)| Op::Review { pick, approve, stale }),
        4 => (device.clone(), any::<usize>(), 0usize..3).prop_map(|(device, pick, choice)| Op::Resolve { device, pick, choice }),
        1 => Just(Op::RestartServer),
        1 => device.prop_map(|device| Op::SwitchUser { device }),
    ]
}

// ---------------------------------------------------------------------------------------------
// The server: a database made once, copied for every case

/// Users, venues and tokens made once (Argon2 is slow); every case starts from a copy of the file.
struct Seed {
    dir: TempDir,
    tokens: HashMap<String, String>,
    users: HashMap<String, User>,
    venues: Vec<String>,
}

impl Seed {
    async fn create() -> anyhow::Result<Seed> {
        let dir = tempfile::tempdir()?;
        let pool = open_pool(dir.path()).await?;
        let mut users = HashMap::new();
        for (username, role) in [
            (INSPECTORS[0], Role::Inspector),
            (INSPECTORS[1], Role::Inspector),
            (SUPERVISOR, Role::Supervisor),
        ] {
            users.insert(
                username.to_owned(),
                add(&pool, username, role, UNIT_A).await?,
            );
        }
        let app = App {
            _dir: tempfile::tempdir()?,
            state: AppState::new(
                pool.clone(),
                backend::photo_store(dir.path())?,
                Settings::default(),
            ),
        };
        // The signatures every record names, uploaded as a phone would before its first push.
        for png in [OFFICER_SIGNATURE_PNG, PARTY_SIGNATURE_PNG] {
            fieldcheck_server::photos::upload(
                &app.state,
                &photo_name(png),
                axum::body::Bytes::from_static(png),
                &users[INSPECTORS[0]].id,
            )
            .await?;
        }
        let mut tokens = HashMap::new();
        for username in users.keys() {
            tokens.insert(username.clone(), app.login(username).await?);
        }
        let mut venues = Vec::new();
        for _ in 0..2 {
            venues.push(
                app.venue(
                    &tokens[INSPECTORS[0]],
                    &users[INSPECTORS[0]],
                    VenueKind::InternetCafe,
                )
                .await?,
            );
        }
        backend::settle(&pool).await?;
        db::close(&pool).await;
        Ok(Seed {
            dir,
            tokens,
            users,
            venues,
        })
    }
}

/// One case's server: a copy of the template database, restartable.
struct Server {
    dir: TempDir,
    state: RefCell<AppState>,
    /// 5xx answers or unusable answers seen: the test fails on any.
    faults: RefCell<Vec<String>>,
}

impl Server {
    async fn from(template: &Seed) -> anyhow::Result<Server> {
        let dir = tempfile::tempdir()?;
        backend::copy_database(template.dir.path(), dir.path()).await?;
        backend::copy_photos(template.dir.path(), dir.path()).await?;
        let pool = open_pool(dir.path()).await?;
        let photos = backend::photo_store(dir.path())?;
        Ok(Server {
            state: RefCell::new(AppState::new(pool, photos, Settings::default())),
            dir,
            faults: RefCell::new(Vec::new()),
        })
    }

    /// Stops the server (closing the database) and starts a new one over the same file.
    async fn restart(&self) -> anyhow::Result<()> {
        let old = self.state.borrow().pool.clone();
        db::close(&old).await;
        let pool = open_pool(self.dir.path()).await?;
        let photos = backend::photo_store(self.dir.path())?;
        *self.state.borrow_mut() = AppState::new(pool, photos, Settings::default());
        Ok(())
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<String>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let state = self.state.borrow().clone();
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let response = router(state)
            .oneshot(request.body(body.map_or_else(Body::empty, Body::from))?)
            .await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_server_error() {
            self.faults
                .borrow_mut()
                .push(format!("{method} {path} → {status}: {value}"));
        }
        Ok((status, value))
    }

    fn pool(&self) -> AnyPool {
        self.state.borrow().pool.clone()
    }
}

/// Copies a folder and everything in it (the template's photo store into a case's).
/// The server as one phone reaches it: its user's token and the fault planned for this run.
struct PhoneLink<'a> {
    server: &'a Server,
    token: &'a str,
    fault: Cell<Fault>,
}

impl Remote for PhoneLink<'_> {
    type Error = String;

    async fn push(&self, request: &PushRequest) -> Result<PushResponse, String> {
        match self.fault.get() {
            Fault::Offline => return Err("offline".to_owned()),
            Fault::LoseAnswer => {
                // Applied on the server, answer lost; the phone goes offline for the rest of the run.
                self.fault.set(Fault::Offline);
                let body = serde_json::to_string(request).map_err(|e| e.to_string())?;
                self.server
                    .call("POST", "/api/sync/push", self.token, Some(body))
                    .await
                    .map_err(|e| e.to_string())?;
                return Err("the connection dropped before the answer".to_owned());
            }
            Fault::None | Fault::PullFails => {}
        }
        let body = serde_json::to_string(request).map_err(|e| e.to_string())?;
        let (status, value) = self
            .server
            .call("POST", "/api/sync/push", self.token, Some(body))
            .await
            .map_err(|e| e.to_string())?;
        if status != StatusCode::OK {
            return Err(format!("push answered {status}: {value}"));
        }
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    async fn pull(&self, since: Option<&str>, limit: u32) -> Result<PullResponse, String> {
        if matches!(self.fault.get(), Fault::PullFails | Fault::Offline) {
            return Err("offline".to_owned());
        }
        let path = format!(
            "/api/sync/pull?limit={limit}&since={}",
            since.unwrap_or_default()
        );
        let (status, value) = self
            .server
            .call("GET", &path, self.token, None)
            .await
            .map_err(|e| e.to_string())?;
        if status != StatusCode::OK {
            return Err(format!("pull answered {status}: {value}"));
        }
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// The phones

/// What a phone's user saved last for a record, and whether they later dropped it on purpose.
#[derive(Debug, Clone)]
struct Saved {
    body: Value,
    dropped: bool,
}

struct Phone {
    store: MemoryStore,
    user: String,
    device_id: DeviceId,
    saved: BTreeMap<String, Saved>,
}

impl Phone {
    fn save(&mut self, id: &str, body: Value) -> Result<(), TestCaseError> {
        self.store
            .save(Entity::Inspection, id, body.clone())
            .map_err(|error| TestCaseError::fail(format!("save refused: {error}")))?;
        self.saved.insert(
            id.to_owned(),
            Saved {
                body,
                dropped: false,
            },
        );
        Ok(())
    }

    /// The inspections this phone shows, by id, decoded.
    fn inspections(&self) -> Vec<(String, Inspection)> {
        self.store
            .records()
            .into_iter()
            .filter(|record| record.entity == Entity::Inspection)
            .filter_map(|record| {
                let body = record.local.shown()?.clone();
                Some((record.id, serde_json::from_value(body).ok()?))
            })
            .collect()
    }
}

/// The fields only the server sets: never part of what a phone's edit is compared on.
fn without_server_fields(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(fields) = body.as_object_mut() {
        for field in [
            "unit_id",
            "created_by",
            "received_at",
            "review_comment",
            "reviews",
        ] {
            fields.remove(field);
        }
    }
    body
}

struct Case<'a> {
    template: &'a Seed,
    stats: &'a Stats,
    server: Server,
    phones: Vec<Phone>,
    n_created: usize,
    n_edits: usize,
}

impl Case<'_> {
    fn user_id(&self, username: &str) -> UserId {
        self.template.users[username].id.clone()
    }

    fn partner_of(&self, username: &str) -> &'static str {
        if username == INSPECTORS[0] {
            INSPECTORS[1]
        } else {
            INSPECTORS[0]
        }
    }

    async fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Create {
                device,
                with_partner,
            } => {
                self.n_created += 1;
                let user = self.phones[device].user.clone();
                let mut officers = vec![&self.template.users[&user]];
                if with_partner {
                    officers.push(&self.template.users[self.partner_of(&user)]);
                }
                let id = uuid::Uuid::now_v7().to_string();
                let venue = &self.template.venues[self.n_created % self.template.venues.len()];
                // Whole but for what the edits change: submitting it alone is refused `incomplete`
                // (the partner and their signature missing), as is one whose answers an edit broke.
                let body = with(
                    complete_inspection(&id, venue, &officers),
                    "/status",
                    json!("draft"),
                );
                let record: Inspection =
                    serde_json::from_value(body).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let body = serde_json::to_value(&record)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                self.phones[device].save(&id, body)?;
            }
            Op::Edit { device, pick, edit } => {
                let me = self.user_id(&self.phones[device].user);
                let partner = self.user_id(self.partner_of(&self.phones[device].user));
                let editable: Vec<(String, Inspection)> = self.phones[device]
                    .inspections()
                    .into_iter()
                    .filter(|(_, record)| may_edit(&me, record))
                    .collect();
                if editable.is_empty() {
                    return Ok(());
                }
                let (id, mut record) = editable[pick % editable.len()].clone();
                self.n_edits += 1;
                match edit {
                    Edit::Notes => {
                        record.notes = format!("edit {} on phone {device}", self.n_edits);
                    }
                    Edit::Answer { item, result } => {
                        let template = Template::by_id(&record.template)
                            .ok_or_else(|| TestCaseError::fail("template"))?;
                        let code = template.items[item % template.items.len()].code;
                        let result = [ItemResult::Pass, ItemResult::Fail, ItemResult::Na][result];
                        record.set_answer(code, result);
                        // A failed item without its hazard is still a valid draft; keep hazards as they are.
                    }
                    Edit::Submit => {
                        if matches!(record.status, Status::Draft | Status::Returned) {
                            record.status = Status::Submitted;
                            record.finished_at = record
                                .finished_at
                                .or(Some(record.started_at + chrono::Duration::minutes(40)));
                        } else {
                            return Ok(());
                        }
                    }
                    Edit::TogglePartner => {
                        let author = record.created_by.clone().unwrap_or_else(|| me.clone());
                        if record.status != Status::Draft || author != me {
                            return Ok(());
                        }
                        // The partner comes and goes with their signature.
                        if record.inspectors.contains(&partner) {
                            record.inspectors.retain(|inspector| *inspector != partner);
                            record
                                .officer_signatures
                                .retain(|signed| signed.officer != partner);
                        } else {
                            record.inspectors.push(partner.clone());
                            record.officer_signatures.push(OfficerSignature {
                                officer: partner,
                                signature: photo_name(OFFICER_SIGNATURE_PNG),
                            });
                        }
                    }
                }
                let body = serde_json::to_value(&record)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let state = self.phones[device].store.get(Entity::Inspection, &id);
                if matches!(state, Some(LocalState::Quarantined { .. })) {
                    return Ok(());
                }
                self.phones[device].save(&id, body)?;
            }
            Op::Sync { device, fault } => {
                self.sync(device, fault).await?;
            }
            Op::Review {
                pick,
                approve,
                stale,
            } => {
                let inspections: Vec<(String, i64, String)> = sqlx::query_as(&format!(
                    "SELECT r.id, r.rev, COALESCE(c.body, '') FROM {} \
                     WHERE r.entity = 'inspection' ORDER BY r.id",
                    db::CURRENT_COPIES
                ))
                .fetch_all(&self.server.pool())
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let submitted: Vec<(String, i64)> = inspections
                    .into_iter()
                    .filter(|(_, _, body)| {
                        serde_json::from_str::<Value>(body)
                            .is_ok_and(|body| body["status"] == "submitted")
                    })
                    .map(|(id, rev, _)| (id, rev))
                    .collect();
                if submitted.is_empty() {
                    return Ok(());
                }
                let (id, rev) = &submitted[pick % submitted.len()];
                let seen = if stale { rev - 1 } else { *rev };
                let decision = if approve { "approve" } else { "return" };
                let body = json!({"decision": decision, "rev": seen, "comment": "model review"})
                    .to_string();
                let token = &self.template.tokens[SUPERVISOR];
                let (status, answer) = self
                    .server
                    .call(
                        "POST",
                        &format!("/api/inspections/{id}/review"),
                        token,
                        Some(body),
                    )
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let expected = if stale {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::OK
                };
                prop_assert_eq!(status, expected, "review: {}", answer);
                bump(&self.stats.reviews, 1);
            }
            Op::Resolve {
                device,
                pick,
                choice,
            } => {
                let waiting: Vec<(String, LocalState)> = self.phones[device]
                    .store
                    .records()
                    .into_iter()
                    .filter(|record| record.local.awaits_person())
                    .map(|record| (record.id, record.local))
                    .collect();
                if waiting.is_empty() {
                    return Ok(());
                }
                let (id, state) = waiting[pick % waiting.len()].clone();
                let phone = &mut self.phones[device];
                let outcome = match (&state, choice) {
                    (LocalState::Conflict { .. }, kept @ (0 | 1)) => {
                        let keep = if kept == 0 {
                            LocalState::keep_mine
                        } else {
                            LocalState::keep_merged
                        };
                        let merged = phone.store.resolve(Entity::Inspection, &id, keep);
                        if merged.is_ok()
                            && let Some(LocalState::Queued { mine, .. }) =
                                phone.store.get(Entity::Inspection, &id)
                        {
                            if kept == 0
                                && let LocalState::Conflict {
                                    base: Some(base),
                                    mine: edited,
                                    server,
                                } = &state
                            {
                                kept_mine_holds(&base.body, edited, &server.body, &mine)?;
                            }
                            // Their edit on top of the server's copy (kept or merged) is what the
                            // person chose to keep now.
                            phone.saved.insert(
                                id.clone(),
                                Saved {
                                    body: mine,
                                    dropped: false,
                                },
                            );
                        }
                        merged
                    }
                    (LocalState::Rejected { .. }, 0) => {
                        phone
                            .store
                            .resolve(Entity::Inspection, &id, LocalState::send_again)
                    }
                    _ => {
                        let taken = phone
                            .store
                            .resolve(Entity::Inspection, &id, |state, _| state.take_theirs());
                        if taken.is_ok()
                            && let Some(saved) = phone.saved.get_mut(&id)
                        {
                            saved.dropped = true;
                        }
                        taken
                    }
                };
                // Merging two edits of the same field, or taking a copy the server never had, is not
                // offered on the phone; here it simply changes nothing.
                if outcome.is_ok() {
                    bump(&self.stats.resolutions, 1);
                }
            }
            Op::RestartServer => {
                self.server
                    .restart()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                bump(&self.stats.restarts, 1);
            }
            Op::SwitchUser { device } => {
                let records = self.phones[device].store.records();
                if unsynced_count(records.iter().map(|record| &record.local)) > 0 {
                    // The phone refuses: another user cannot take over unsent work.
                    bump(&self.stats.refused_switches, 1);
                    return Ok(());
                }
                // Everything this user saved is on the server before the phone forgets it.
                self.check_saved_on_server_or_waiting(device).await?;
                let next_user = self.partner_of(&self.phones[device].user);
                let phone = &mut self.phones[device];
                phone.store.clear();
                phone.saved.clear();
                phone.user = next_user.to_owned();
                bump(&self.stats.switches, 1);
            }
        }
        Ok(())
    }

    async fn sync(&self, device: usize, fault: Fault) -> Result<bool, TestCaseError> {
        let phone = &self.phones[device];
        let link = PhoneLink {
            server: &self.server,
            token: &self.template.tokens[&phone.user],
            fault: Cell::new(fault),
        };
        let (report, result) = sync_once(&phone.store, &link, &phone.device_id).await;
        bump(&self.stats.synced, report.synced);
        bump(&self.stats.conflicts, report.conflicts);
        bump(&self.stats.rejections, report.rejected);
        if matches!(fault, Fault::LoseAnswer) && report.sent > 0 {
            bump(&self.stats.lost_answers, 1);
        }
        if matches!(fault, Fault::None) {
            prop_assert!(
                result.is_ok(),
                "a fault-free sync failed: {:?}",
                result.err().map(|e| e.to_string())
            );
        }
        Ok(report.changed_anything())
    }

    /// Every edit this phone's user saved is in the server's history of the record, or waits for a
    /// person on the phone, or the person dropped it.
    async fn check_saved_on_server_or_waiting(&self, device: usize) -> Result<(), TestCaseError> {
        let phone = &self.phones[device];
        for (id, saved) in &phone.saved {
            if saved.dropped {
                continue;
            }
            if let Some(state) = phone.store.get(Entity::Inspection, id)
                && state.awaits_person()
            {
                prop_assert_eq!(
                    state.shown(),
                    Some(&saved.body),
                    "phone {} shows another edit of {} than its last",
                    device,
                    id
                );
                continue;
            }
            let history: Vec<String> = sqlx::query_scalar(
                "SELECT body FROM changes WHERE entity = 'inspection' AND id = $1",
            )
            .bind(id)
            .fetch_all(&self.server.pool())
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let wanted = without_server_fields(&saved.body);
            let on_server = history.iter().any(|body| {
                serde_json::from_str::<Value>(body)
                    .is_ok_and(|body| without_server_fields(&body) == wanted)
            });
            prop_assert!(
                on_server,
                "phone {}'s last edit of {} is neither on the server nor waiting for a person: {:?}",
                device,
                id,
                phone.store.get(Entity::Inspection, id)
            );
        }
        Ok(())
    }

    async fn check_final(&self) -> Result<(), TestCaseError> {
        let pool = self.server.pool();
        let fail = |e: sqlx::Error| TestCaseError::fail(e.to_string());
        // No op applied twice; every record's revs are 1..=rev without gaps or repeats.
        let twice: Vec<(String, String)> = sqlx::query_as(
            "SELECT user_id, op_id FROM changes WHERE op_id IS NOT NULL GROUP BY user_id, op_id HAVING COUNT(*) > 1",
        )
        .fetch_all(&pool)
        .await
        .map_err(fail)?;
        prop_assert!(twice.is_empty(), "ops applied twice: {:?}", twice);
        let gaps: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT r.id, r.rev, COUNT(c.seq) FROM records r JOIN changes c ON c.entity = r.entity AND c.id = r.id \
             GROUP BY r.entity, r.id HAVING COUNT(c.seq) != r.rev OR COUNT(DISTINCT c.rev) != r.rev",
        )
        .fetch_all(&pool)
        .await
        .map_err(fail)?;
        prop_assert!(
            gaps.is_empty(),
            "records whose revs have gaps or repeats: {:?}",
            gaps
        );

        // A current copy without its text reads as empty text here, which fails the comparison.
        let server: Vec<(String, String, i64, String)> = sqlx::query_as(&format!(
            "SELECT r.entity, r.id, r.rev, COALESCE(c.body, '') FROM {}",
            db::CURRENT_COPIES
        ))
        .fetch_all(&pool)
        .await
        .map_err(fail)?;
        for (device, phone) in self.phones.iter().enumerate() {
            self.check_saved_on_server_or_waiting(device).await?;
            let local: HashMap<(Entity, String), LocalState> = phone
                .store
                .records()
                .into_iter()
                .map(|record| ((record.entity, record.id), record.local))
                .collect();
            // Every record the user may see is on the phone, as the server has it (or waits for a person,
            // knowing the server's current copy).
            for (entity, id, rev, body) in &server {
                let entity =
                    Entity::from_code(entity).ok_or_else(|| TestCaseError::fail("entity"))?;
                let body: Value =
                    serde_json::from_str(body).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let state = local.get(&(entity, id.clone()));
                let Some(state) = state else {
                    return Err(TestCaseError::fail(format!(
                        "phone {device} lacks {} {id}",
                        entity.code()
                    )));
                };
                let rev = u64::try_from(*rev).unwrap_or_default();
                match state {
                    LocalState::Synced { server } => {
                        prop_assert_eq!(
                            (server.rev, &server.body),
                            (rev, &body),
                            "phone {} has a stale copy of {}",
                            device,
                            id
                        );
                    }
                    waiting if waiting.awaits_person() => {
                        prop_assert_eq!(
                            waiting.server().map(|s| s.rev),
                            Some(rev),
                            "phone {} waits on an old server copy of {}",
                            device,
                            id
                        );
                    }
                    other => {
                        return Err(TestCaseError::fail(format!(
                            "phone {device} still has work for {id} after the final sync: {other:?}"
                        )));
                    }
                }
            }
            // Nothing on the phone that the server does not have, unless it waits for a person.
            for ((entity, id), state) in &local {
                let known = server
                    .iter()
                    .any(|(e, i, _, _)| e == entity.code() && i == id);
                prop_assert!(
                    known || state.awaits_person(),
                    "phone {} holds {} {} the server never got: {:?}",
                    device,
                    entity.code(),
                    id,
                    state
                );
            }
        }
        let faults = self.server.faults.borrow();
        prop_assert!(faults.is_empty(), "server faults: {:?}", *faults);
        Ok(())
    }
}

async fn run_case(template: &Seed, stats: &Stats, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let server = Server::from(template)
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let phones = (0..N_DEVICES)
        .map(|device| Phone {
            store: MemoryStore::new(device as u64 + 1),
            user: INSPECTORS[device % 2].to_owned(),
            device_id: DeviceId(format!("0192f3a4-5b6c-7d8e-9f00-{:012}", device + 1)),
            saved: BTreeMap::new(),
        })
        .collect();
    let mut case = Case {
        template,
        stats,
        server,
        phones,
        n_created: 0,
        n_edits: 0,
    };
    for op in &ops {
        case.apply(op).await?;
    }
    // The final fault-free sync: rounds until no phone hears of anything new.
    for _ in 0..6 {
        let mut changed = false;
        for device in 0..N_DEVICES {
            changed |= case.sync(device, Fault::None).await?;
        }
        if !changed {
            break;
        }
    }
    case.check_final().await
}

#[test]
fn three_phones_and_a_supervisor_never_lose_or_duplicate_a_record() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|error| panic!("a runtime: {error}"));
    let template = runtime
        .block_on(Seed::create())
        .unwrap_or_else(|error| panic!("the template database: {error:#}"));
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let stats = Stats::default();
    let result = runner.run(&proptest::collection::vec(op_strategy(), 5..45), |ops| {
        runtime.block_on(run_case(&template, &stats, ops))
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    println!("model test: {CASES} cases; {stats:?}");
    // The cases must have gone through the paths they are about, not around them.
    for (what, count) in [
        ("conflicts", stats.conflicts.get()),
        ("rejections", stats.rejections.get()),
        ("lost answers", stats.lost_answers.get()),
        ("resolutions", stats.resolutions.get()),
        ("reviews", stats.reviews.get()),
        ("server restarts", stats.restarts.get()),
        ("user switches", stats.switches.get()),
        ("refused user switches", stats.refused_switches.get()),
    ] {
        assert!(count > 0, "no {what} in {CASES} cases: {stats:?}");
    }
}

/// A phone's own push answered `applied` leaves it holding the server's very copy (the fields only the
/// server sets included): the pull after it finds nothing to change and writes nothing back.
#[tokio::test]
async fn a_pushed_record_is_held_as_the_server_keeps_it_without_pulling_it_back() {
    let template = Seed::create().await.expect("the template database");
    let server = Server::from(&template).await.expect("a server");
    let phone = Phone {
        store: MemoryStore::new(1),
        user: INSPECTORS[0].to_owned(),
        device_id: DeviceId("0192f3a4-5b6c-7d8e-9f00-000000000001".to_owned()),
        saved: BTreeMap::new(),
    };
    let mut case = Case {
        template: &template,
        stats: &Stats::default(),
        server,
        phones: vec![phone],
        n_created: 0,
        n_edits: 0,
    };
    let link = PhoneLink {
        server: &case.server,
        token: &template.tokens[INSPECTORS[0]],
        fault: Cell::new(Fault::None),
    };
    // What the phone is allowed to see, first: the later pull then brings only its own records.
    let (_, first) = sync_once(&case.phones[0].store, &link, &case.phones[0].device_id).await;
    assert!(first.is_ok(), "the first sync: {first:?}");
    let ops = [true, false, true].map(|with_partner| Op::Create {
        device: 0,
        with_partner,
    });
    for op in &ops {
        case.apply(op).await.expect("a record saved");
    }
    let link = PhoneLink {
        server: &case.server,
        token: &template.tokens[INSPECTORS[0]],
        fault: Cell::new(Fault::None),
    };
    let (report, result) = sync_once(&case.phones[0].store, &link, &case.phones[0].device_id).await;
    assert!(result.is_ok(), "the sync: {result:?}");
    assert_eq!((report.sent, report.synced), (3, 3), "{report:?}");
    assert_eq!(
        report.pulled, 0,
        "the pull rewrote records the push had already settled: {report:?}"
    );
    let on_server = link.pull(None, 500).await.expect("a pull");
    let mut compared = 0;
    for change in on_server
        .changes
        .iter()
        .filter(|change| change.entity == Entity::Inspection)
    {
        let local = case.phones[0]
            .store
            .get(Entity::Inspection, &change.id)
            .expect("the pushed record on the phone");
        assert_eq!(
            local,
            LocalState::Synced {
                server: ServerVersion {
                    rev: change.rev,
                    body: change.body.clone(),
                }
            },
            "record {}",
            change.id
        );
        assert!(
            change
                .body
                .get("received_at")
                .is_some_and(|at| !at.is_null()),
            "the server's own field is there: {}",
            change.body
        );
        compared += 1;
    }
    assert_eq!(compared, 3);
}

/// What the cases went through, summed: printed, and each must have happened at least once.
#[derive(Debug, Default)]
struct Stats {
    synced: Cell<usize>,
    conflicts: Cell<usize>,
    rejections: Cell<usize>,
    lost_answers: Cell<usize>,
    resolutions: Cell<usize>,
    reviews: Cell<usize>,
    restarts: Cell<usize>,
    switches: Cell<usize>,
    refused_switches: Cell<usize>,
}

fn bump(counter: &Cell<usize>, by: usize) {
    counter.set(counter.get() + by);
}

/// "Keep mine" on a record's plain fields: each field the officer's edit changed since `base` is
/// the officer's, each one it left as it was is the server copy's (a colleague's change is not
/// undone). Lists (answers, hazards, photos, the people) merge element by element and the fields the
/// server freezes follow its copy: `merge`'s own tests cover those.
fn kept_mine_holds(
    base: &Value,
    edited: &Value,
    server: &Value,
    kept: &Value,
) -> Result<(), TestCaseError> {
    let fields = |value: &Value| -> Vec<String> {
        value
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut names = fields(base);
    names.extend(fields(edited));
    names.extend(fields(server));
    names.sort();
    names.dedup();
    for name in names {
        let at = |value: &Value| value.get(&name).cloned();
        let (was, mine, theirs, now) = (at(base), at(edited), at(server), at(kept));
        let list = [&was, &mine, &theirs]
            .iter()
            .any(|value| matches!(value, Some(Value::Array(_))));
        let frozen = FixedField::ALL.iter().any(|field| field.name() == name);
        if list || frozen {
            continue;
        }
        let expected = if mine == was { theirs } else { mine };
        prop_assert_eq!(
            now,
            expected,
            "keep mine changed field {} against the officer's edit or the server's copy",
            name
        );
    }
    Ok(())
}
