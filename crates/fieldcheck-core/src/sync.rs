//! The sync protocol: wire types of the API (`docs/protocol.md`) and the server's pure decisions.
//!
//! The phone queues its edits and pushes them; the server answers each mutation on its own (`applied`,
//! `duplicate`, `conflict`, `rejected`), keeps a `rev` per entity, and hands out every visible change
//! after an opaque cursor. How the phone's records move with those answers is [`crate::local`]; how the
//! server classifies a mutation and who may see what is here, as pure functions.

use crate::ids::{DeviceId, OpId, UnitId, UserId};
use crate::inspection::ReviewDecision;
use crate::user::{Role, User};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The kinds of record that sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Venue,
    Campaign,
    Inspection,
}

impl Entity {
    pub const ALL: [Entity; 3] = [Entity::Venue, Entity::Campaign, Entity::Inspection];

    /// The wire code.
    pub fn code(self) -> &'static str {
        match self {
            Entity::Venue => "venue",
            Entity::Campaign => "campaign",
            Entity::Inspection => "inspection",
        }
    }

    /// The entity for a wire code.
    pub fn from_code(code: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|entity| entity.code() == code)
    }

    /// Whether `body` reads as a record of this entity (a pulled body that does not, from a newer
    /// server or a faulty one, is set aside rather than stored).
    pub fn reads(self, body: &Value) -> bool {
        // Through an owned value, as the phone decodes its records elsewhere: one deserializer per
        // type in the app's wasm instead of a second one for borrowed values.
        fn reads_as<T: serde::de::DeserializeOwned>(body: &Value) -> bool {
            serde_json::from_value::<T>(body.clone()).is_ok()
        }
        match self {
            Entity::Venue => reads_as::<crate::Venue>(body),
            Entity::Campaign => reads_as::<crate::Campaign>(body),
            Entity::Inspection => reads_as::<crate::Inspection>(body),
        }
    }
}

/// `GET /api/health` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// `POST /api/auth/login` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// `POST /api/auth/login` answer: a bearer token and who it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub user: User,
    /// When the token stops working (RFC 3339).
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// The error shape of every failed API call: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

/// A machine-readable code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// One queued change: create (`base_rev` 0) or update (`base_rev` = the rev it was based on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mutation {
    pub op_id: OpId,
    pub entity: Entity,
    pub id: String,
    pub base_rev: u64,
    pub body: Value,
}

/// `POST /api/sync/push` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The phone installation (a UUID, see [`DeviceId::is_well_formed`]), kept in the audit trail.
    pub device_id: DeviceId,
    pub mutations: Vec<Mutation>,
}

/// What the server did with one mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MutationStatus {
    /// Stored; `rev` is the new revision.
    Applied,
    /// This `op_id` was applied before; `rev` is what it produced, nothing changed now.
    Duplicate,
    /// `base_rev` is not the current rev; `current` holds the server copy.
    Conflict,
    /// Invalid or not allowed; `error` says why. Nothing changed.
    Rejected,
}

/// The answer for one mutation, in the order they were sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationResult {
    pub op_id: OpId,
    pub status: MutationStatus,
    #[serde(default)]
    pub rev: Option<u64>,
    #[serde(default)]
    pub error: Option<ErrorBody>,
    /// The server copy on conflict: `{rev, body}`.
    #[serde(default)]
    pub current: Option<Value>,
    /// On `applied`: the top-level fields of the server's copy at `rev` that differ from the body
    /// sent — those only the server sets (author, unit, receipt) — so that the phone holds the
    /// server's very copy without pulling it back ([`server_fields`], [`with_fields`]). Absent on a
    /// replay, and when the server's copy lacks a field the body had: the phone then keeps the body
    /// sent until the pull brings the server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Map<String, Value>>,
}

/// What the server's stored copy `stored` changed of the body `sent`: every top-level field whose
/// value differs or is new. `None` when either is not an object or `stored` lacks a field `sent`
/// had (such a change cannot be told as fields to set).
pub fn server_fields(sent: &Value, stored: &Value) -> Option<Map<String, Value>> {
    let (Value::Object(sent), Value::Object(stored)) = (sent, stored) else {
        return None;
    };
    if sent.keys().any(|key| !stored.contains_key(key)) {
        return None;
    }
    Some(
        stored
            .iter()
            .filter(|(key, value)| sent.get(*key) != Some(*value))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
    )
}

/// `body` with `fields` set ([`server_fields`]'s inverse): the server's copy, from the body sent.
/// A body that is not an object is returned as it is.
pub fn with_fields(mut body: Value, fields: &Map<String, Value>) -> Value {
    if let Value::Object(object) = &mut body {
        for (key, value) in fields {
            object.insert(key.clone(), value.clone());
        }
    }
    body
}

/// `POST /api/sync/push` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<MutationResult>,
}

/// One changed record in a pull, or a tombstone (`deleted`): the record left the caller's sight (moved
/// to another unit) and the phone drops its copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub entity: Entity,
    pub id: String,
    pub rev: u64,
    /// The record at `rev`; absent (null) in a tombstone.
    #[serde(default)]
    pub body: Value,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// `GET /api/sync/pull` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Opaque: pass it back as `since` to continue.
    pub cursor: String,
    pub has_more: bool,
}

/// `GET /api/templates` answer: the current checklist of every venue kind, as data, so that other
/// clients and tools can build complete records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplatesResponse {
    pub templates: Vec<TemplateOnWire>,
}

/// One checklist template on the wire: `{id, kind, version, regulation, items}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateOnWire {
    /// `internet_cafe@1`: what a record's `template` names.
    pub id: String,
    pub kind: crate::VenueKind,
    pub version: u32,
    pub regulation: &'static str,
    pub items: Vec<crate::TemplateItem>,
}

impl TemplatesResponse {
    /// The current template of every venue kind.
    pub fn current() -> TemplatesResponse {
        let templates = crate::VenueKind::ALL
            .into_iter()
            .map(|kind| {
                let template = crate::Template::current(kind);
                TemplateOnWire {
                    id: template.id(),
                    kind,
                    version: template.version,
                    regulation: template.regulation,
                    items: template.items,
                }
            })
            .collect();
        TemplatesResponse { templates }
    }
}

/// One officer as `GET /api/users` lists them: the user and whether the account is active (a
/// disabled officer stays listed, to read old records, but cannot be named on new ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Officer {
    #[serde(flatten)]
    pub user: User,
    pub active: bool,
}

/// `GET /api/users` answer: the officers of the caller's unit (admins: every unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersResponse {
    pub users: Vec<Officer>,
}

/// `POST /api/inspections/{id}/review` body: a supervisor's decision on a submitted inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRequest {
    pub decision: ReviewDecision,
    /// The rev the supervisor saw: a record that changed since answers 409 `stale`, so nobody approves
    /// content they never read.
    pub rev: u64,
    /// Why a record is returned (or a remark on approval); stored as the inspection's `review_comment`.
    #[serde(default)]
    pub comment: Option<String>,
}

/// The server's record of an entity when a mutation for it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerCopy {
    pub rev: u64,
    /// An approved inspection: no edits, only amendments.
    pub locked: bool,
}

/// How the server classifies a (not yet seen) mutation before validating its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classification {
    /// A new record: store at rev 1.
    Create,
    /// An edit on the current rev: store at `rev + 1`.
    Update { next_rev: u64 },
    /// Based on another rev than the current one, or a create of an id that exists.
    Conflict,
    /// An edit of an approved record.
    Locked,
    /// An edit of a record the server does not have.
    NotFound,
}

/// Classifies a mutation by its `base_rev` against the server copy (optimistic concurrency).
pub fn classify(existing: Option<ServerCopy>, base_rev: u64) -> Classification {
    match (existing, base_rev) {
        (None, 0) => Classification::Create,
        (None, _) => Classification::NotFound,
        (Some(copy), _) if copy.locked => Classification::Locked,
        (Some(_), 0) => Classification::Conflict,
        (Some(copy), base_rev) if copy.rev == base_rev => Classification::Update {
            next_rev: copy.rev + 1,
        },
        (Some(_), _) => Classification::Conflict,
    }
}

/// Who is asking: enough to decide visibility and permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub role: Role,
    pub unit_id: UnitId,
}

impl Caller {
    /// Inspectors and supervisors see their own unit; admins see all.
    pub fn sees_unit(&self, unit_id: &UnitId) -> bool {
        self.sees_all_units() || &self.unit_id == unit_id
    }

    /// Whether the caller sees every unit's records (admins), so a query for them needs no unit filter.
    pub fn sees_all_units(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the caller may push this entity at all (for venues, see also [`Caller::may_change_venue`]).
    pub fn may_push(&self, entity: Entity) -> bool {
        match entity {
            // Inspectors meet unregistered venues in the field and register them.
            Entity::Venue | Entity::Inspection => true,
            Entity::Campaign => matches!(self.role, Role::Supervisor | Role::Admin),
        }
    }

    /// Whether the caller may write a venue the server already holds (`stored`) or a new one.
    /// Inspectors register the venues they meet in the field, each stored as a field registration
    /// for the team leader to confirm; correcting, closing or confirming a venue of the register is
    /// the team leader's (or an admin's): a venue closed drops off every officer's list.
    pub fn may_change_venue(&self, stored: bool) -> bool {
        self.role.reviews() || !stored
    }
}

/// The delay before the next sync attempt after `failures` failures in a row: exponential from 2 s,
/// capped at 5 minutes, with `jitter` (0.0..1.0) spreading phones that come back online together.
pub fn backoff_ms(failures: u32, jitter: f64) -> u64 {
    const BASE_MS: u64 = 2_000;
    const CAP_MS: u64 = 300_000;
    let exponential = BASE_MS.saturating_mul(1u64 << failures.min(16));
    let capped = exponential.min(CAP_MS);
    let jitter = jitter.clamp(0.0, 1.0);
    // Up to half the delay again as jitter; the product stays well inside f64's exact integer range.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let extra = (capped as f64 * 0.5 * jitter) as u64;
    capped + extra
}

/// The longest a phone waits before its first sync after the browser comes back online.
///
/// Phones regain signal together — a tower back in service, the office Wi-Fi at the morning
/// briefing — each with the work it kept meanwhile, and without a wait they would all reach the
/// server in the same second. Each waits a random part of this instead: 200 phones bringing three
/// photos and fifteen inspections each arrive about seven a second, below what one server takes
/// without queueing (BENCHMARKS.md, "Province scale"; over ten seconds they queued). A save or a
/// tap on 立即同步 does not wait.
///
/// The rule behind the figure: spread ≥ phones regaining signal together × mutations each ÷
/// (the server's mutations a second × the share of it a wave may take). For 200 phones of 16
/// mutations on the two-core machine of the benchmarks (about 300 a second, half of it): 21 s, so
/// 30 s leaves room. A deployment expecting larger waves needs a larger server or a longer spread.
pub const ONLINE_SPREAD_MS: u64 = 30_000;

/// The wait before the first sync after coming back online, for `jitter` in 0.0..1.0: a share of
/// [`ONLINE_SPREAD_MS`].
pub fn online_delay_ms(jitter: f64) -> u64 {
    // At most 30 000: exact in f64, and the product is never negative.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let delay = (ONLINE_SPREAD_MS as f64 * jitter.clamp(0.0, 1.0)) as u64;
    delay
}

/// `POST /api/users` body: a new user. Supervisors add inspectors to their own unit; admins anyone
/// anywhere (`unit_id` absent: the admin's unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserRequest {
    pub username: String,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub cert_no: Option<String>,
    pub password: String,
    #[serde(default)]
    pub unit_id: Option<UnitId>,
}

/// `PATCH /api/users/{id}` body: what changes; absent fields stay. Disabling revokes every token.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    /// `Some("")` clears it.
    #[serde(default)]
    pub cert_no: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// `POST /api/users/{id}/password` body: the new password; every token of the user is revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub password: String,
}

/// A unit (大队, 科室) as `GET /api/units` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: UnitId,
    pub name: String,
}

/// `GET /api/units` answer (admins: every unit; others: their own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitsResponse {
    pub units: Vec<Unit>,
}

/// `POST /api/units` body (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUnit {
    pub name: String,
}
