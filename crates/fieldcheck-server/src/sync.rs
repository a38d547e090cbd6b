//! `POST /api/sync/push` and `GET /api/sync/pull`: executing core's sync decisions against the database.

use crate::AppState;
use crate::audit::{self, Action, Outcome};
use crate::auth::Authed;
use crate::db::{self, DbError, PushOrigin, RecordWrite, StoredRecord};
use crate::error::ApiError;
use crate::json::ApiJson;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use fieldcheck_core::rules::check_inspection_edit;
use fieldcheck_core::sync::{
    Caller, Change, Classification, Entity, ErrorBody, Mutation, MutationResult, MutationStatus,
    PullResponse, PushRequest, PushResponse, ServerCopy, classify, server_fields,
};
use fieldcheck_core::{
    Campaign, DeviceId, Inspection, OpId, Problems, Status, UnitId, UserId, Venue,
};
use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use tokio::sync::{mpsc, oneshot};

/// The most mutations one push may carry; the phone sends its outbox in batches below this.
pub const MAX_MUTATIONS: usize = 500;
/// The longest device id accepted (a UUID is 36 characters).
pub const MAX_DEVICE_ID_LEN: usize = 64;
/// Records per pull page when the phone does not ask for a size, and the most it may ask for.
pub const DEFAULT_PULL_LIMIT: u32 = 200;
pub const MAX_PULL_LIMIT: u32 = 1000;

/// Applies each mutation on its own and answers one result per mutation, in order.
///
/// The whole batch is one transaction (one commit, one sync to disk, instead of one per mutation),
/// shared with the pushes of other phones that wait at the same moment (see [`PushQueue`]). Each
/// mutation is decided by reads alone and written only when accepted: a rejected one leaves only its
/// audit row and does not stop the rest. A database failure, by contrast, fails the whole request
/// with 500 and commits nothing of it: the phone keeps its outbox and sends the batch again.
/// Answering `rejected` for a server fault would make the phone drop a change it should have kept.
pub async fn push(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if request.device_id.as_str().len() > MAX_DEVICE_ID_LEN || !request.device_id.is_well_formed() {
        return Err(ApiError::Invalid(
            "device_id must be the phone's installation UUID".to_owned(),
        ));
    }
    if request.mutations.len() > MAX_MUTATIONS {
        return Err(ApiError::TooLarge {
            code: "too_many_mutations",
            message: format!(
                "{} mutations in one push; send at most {MAX_MUTATIONS}",
                request.mutations.len()
            ),
        });
    }
    let (answer, answered) = oneshot::channel();
    // What depends on the push alone is worked out here, as pushes arrive on whichever core is free,
    // not in the writer's turn that every push waits for.
    let hashes = request
        .mutations
        .iter()
        .map(|mutation| audit::content_hash(mutation.base_rev, &mutation.body))
        .collect();
    let inspections = parse_inspections(&request.mutations);
    state.pushes.submit(
        &state.pool,
        Waiting {
            caller: authed.caller,
            request,
            hashes,
            inspections,
            answer,
        },
    )?;
    // The writer's own wait for the turn is bounded by `WRITE_WAIT`; this bounds the queue before
    // it. A push answered busy here may still be written later: the phone's next try is a replay.
    match tokio::time::timeout(2 * db::WRITE_WAIT, answered).await {
        Ok(Ok(answer)) => answer.map(Json),
        Ok(Err(_)) => Err(ApiError::Internal(
            "the push's writer stopped before it answered".to_owned(),
        )),
        Err(_) => Err(ApiError::Busy),
    }
}

/// The most mutations the pushes written together may carry: beyond a few dozen, a bigger group only
/// makes its first pushes wait for its last (and its bodies leave the processor's caches), while
/// the begin and commit it saves are already shared.
const GROUP_MUTATIONS: usize = 50;

/// The most pushes that may wait for the writer; one more is answered busy (the phone tries again
/// later) rather than queued behind more work than the writer can do before its phone gives up.
const WAITING_PUSHES: usize = 2_000;

/// Pushes waiting to be written, and the one writer task of the process that writes them: whatever
/// waits when the writer is free goes into one transaction and one commit, the disk's sync shared
/// by every phone in it. Started by the first push, and again should it ever stop.
#[derive(Default)]
pub struct PushQueue {
    writer: StdMutex<Option<mpsc::Sender<Waiting>>>,
    /// The most pushes written in one transaction so far: read by the tests. Shared with the writer,
    /// which holds no handle on the queue itself: when the server's state goes, its sender goes, the
    /// writer's queue closes and the writer ends, letting go of the pool.
    largest_group: Arc<AtomicUsize>,
}

/// One push waiting for the writer, what it brings already worked out, and where its answer goes.
struct Waiting {
    caller: Caller,
    request: PushRequest,
    /// Each mutation's content hash, in order.
    hashes: Vec<String>,
    /// The inspection bodies that parse, by the mutation's place (taken by the batch that writes
    /// them; one written again after a failed group parses them again).
    inspections: HashMap<usize, Inspection>,
    answer: oneshot::Sender<Result<PushResponse, ApiError>>,
}

impl Waiting {
    fn pushed(&self) -> Pushed<'_> {
        Pushed {
            caller: &self.caller,
            device_id: &self.request.device_id,
            mutations: &self.request.mutations,
            hashes: &self.hashes,
        }
    }
}

/// The inspection bodies among `mutations` that parse, by their place.
fn parse_inspections(mutations: &[Mutation]) -> HashMap<usize, Inspection> {
    mutations
        .iter()
        .enumerate()
        .filter(|(_, mutation)| mutation.entity == Entity::Inspection)
        .filter_map(|(n, mutation)| Some((n, Inspection::deserialize(&mutation.body).ok()?)))
        .collect()
}

impl PushQueue {
    fn submit(&self, pool: &AnyPool, waiting: Waiting) -> Result<(), ApiError> {
        // Held only to send, or to start a writer: never across an await.
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let waiting = match writer.as_ref() {
            Some(writer) => match writer.try_send(waiting) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(_)) => return Err(ApiError::Busy),
                // The writer has stopped (its runtime was shut down): a new one is started.
                Err(mpsc::error::TrySendError::Closed(waiting)) => waiting,
            },
            None => waiting,
        };
        let (sender, queue) = mpsc::channel(WAITING_PUSHES);
        tokio::spawn(write_pushes(
            pool.clone(),
            Arc::clone(&self.largest_group),
            queue,
        ));
        // The writer was just made, empty, and holds its end: this send cannot fail.
        let _ = sender.try_send(waiting);
        *writer = Some(sender);
        Ok(())
    }

    /// The most pushes written in one transaction since the server started.
    pub fn largest_group(&self) -> usize {
        self.largest_group.load(Ordering::Relaxed)
    }
}

/// The writer: takes what waits (up to [`GROUP_MUTATIONS`]) and writes it on a connection it keeps
/// while pushes keep coming ([`Kept`], [`KEEP_IDLE`]), until the queue closes.
/// A push whose phone stopped waiting (it went, or was answered busy) is left out: nothing of it was
/// written, and the phone sends it again.
async fn write_pushes(
    pool: AnyPool,
    largest_group: Arc<AtomicUsize>,
    mut queue: mpsc::Receiver<Waiting>,
) {
    let mut kept: Kept = None;
    loop {
        let next = if kept.is_some() {
            match tokio::time::timeout(KEEP_IDLE, queue.recv()).await {
                Ok(next) => next,
                // Nothing came: an idle server holds no connection, and a pool being closed gets
                // it back.
                Err(_) => {
                    kept = None;
                    continue;
                }
            }
        } else {
            queue.recv().await
        };
        let Some(first) = next else { break };
        let mut mutations = first.request.mutations.len();
        let mut group = vec![first];
        while mutations < GROUP_MUTATIONS {
            let Ok(next) = queue.try_recv() else { break };
            mutations += next.request.mutations.len();
            group.push(next);
        }
        group.retain(|waiting| !waiting.answer.is_closed());
        if group.is_empty() {
            continue;
        }
        largest_group.fetch_max(group.len(), Ordering::Relaxed);
        // A task of its own, so that nothing a group does can stop the writer.
        match tokio::spawn(write_group(pool.clone(), group, kept.take())).await {
            Ok(connection) => kept = connection,
            Err(error) => tracing::error!(%error, "writing a group of pushes stopped"),
        }
    }
}

/// How long the writer keeps its connection with nothing to write: pushes of a burst arrive over
/// tens of milliseconds, with gaps in which the queue is empty for a moment.
const KEEP_IDLE: std::time::Duration = std::time::Duration::from_millis(50);

/// The writer's connection, kept from one group to the next while pushes keep coming: taken from
/// the pool before each group, it would wait behind every request of a burst (each checks its token
/// through the pool). Given up after any failure, so that a group written again starts afresh.
type Kept = Option<PoolConnection<Any>>;

/// Writes a group in one transaction, answering each push. Should the group fail on something one
/// of its pushes may have caused (a statement the database refused, a panic while deciding), nothing
/// of it is kept and each push is written again alone, so that the fault reaches only that push. A
/// failure no push causes (no turn to write, no connection) is every push's answer at once: written
/// one by one, each would wait for it again.
async fn write_group(pool: AnyPool, mut group: Vec<Waiting>, mut kept: Kept) -> Kept {
    if group.len() > 1 {
        let inspections = group
            .iter_mut()
            .enumerate()
            .flat_map(|(p, waiting)| {
                waiting
                    .inspections
                    .drain()
                    .map(move |(n, inspection)| ((p, n), inspection))
            })
            .collect();
        let pushes: Vec<Pushed<'_>> = group.iter().map(Waiting::pushed).collect();
        match guarded(write_together(&pool, &mut kept, &pushes, inspections)).await {
            Ok((answers, batch)) => {
                drop(pushes);
                answer_and_free(
                    group.into_iter().zip(answers.into_iter().map(Ok)),
                    Some(batch),
                );
                return kept;
            }
            Err(error) if !of_one_push(&error) => {
                drop(pushes);
                tracing::warn!(%error, pushes = group.len(), "a group of pushes could not be written");
                let answers = group
                    .iter()
                    .map(|_| Err(same_failure(&error)))
                    .collect::<Vec<_>>();
                answer_and_free(group.into_iter().zip(answers), None);
                return None;
            }
            Err(error) => {
                kept = None;
                tracing::warn!(%error, pushes = group.len(), "a group of pushes failed; each is written alone");
            }
        }
    }
    for mut waiting in group {
        // Written alone, each push waits for its own turn: one whose phone stopped waiting
        // meanwhile is left unwritten, as before a group (its next try is checked afresh).
        if waiting.answer.is_closed() {
            continue;
        }
        let inspections = waiting
            .inspections
            .drain()
            .map(|(n, inspection)| ((0, n), inspection))
            .collect();
        let written = guarded(write_together(
            &pool,
            &mut kept,
            &[waiting.pushed()],
            inspections,
        ))
        .await;
        let (answer, batch) = match written {
            Ok((mut answers, batch)) => (
                answers.pop().ok_or_else(|| {
                    ApiError::Internal("a push was written without an answer".to_owned())
                }),
                Some(batch),
            ),
            Err(error) => {
                kept = None;
                (Err(error), None)
            }
        };
        answer_and_free(std::iter::once((waiting, answer)), batch);
    }
    kept
}

/// `writing`, with a panic turned into the request's failure (500), so that the group's pushes are
/// answered, and written again alone.
async fn guarded<T>(writing: impl Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
    std::panic::AssertUnwindSafe(writing)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(ApiError::Internal("a push's writing panicked".to_owned())))
}

/// Whether a group's failure may come from one of its pushes (so each is written again alone), not
/// from the server's state at that moment (no turn to write within its wait, no connection).
fn of_one_push(error: &ApiError) -> bool {
    !matches!(
        error,
        ApiError::Busy
            | ApiError::Database(DbError::Sqlx(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
            ))
    )
}

/// The answer for every push of a group that failed on something none of them caused.
fn same_failure(error: &ApiError) -> ApiError {
    match error {
        ApiError::Busy => ApiError::Busy,
        other => ApiError::Internal(other.to_string()),
    }
}

/// Sends each push its answer, then frees the pushes' bodies and what their batch held in a task of
/// its own: freeing takes about as long as deciding them, and the writer goes on to the next group
/// meanwhile. A phone that has gone meanwhile gets nothing: its next try is a replay.
fn answer_and_free(
    answered: impl Iterator<Item = (Waiting, Result<PushResponse, ApiError>)>,
    batch: Option<Batch>,
) {
    let mut spent = Vec::new();
    for (waiting, answer) in answered {
        let _ = waiting.answer.send(answer);
        spent.push(waiting.request);
    }
    tokio::spawn(async move { drop((spent, batch)) });
}

/// One transaction for `pushes` on the writer's connection (taken from the pool if none is kept),
/// committed: one answer per push, in order.
async fn write_together(
    pool: &AnyPool,
    kept: &mut Kept,
    pushes: &[Pushed<'_>],
    inspections: HashMap<(usize, usize), Inspection>,
) -> Result<(Vec<PushResponse>, Batch), ApiError> {
    let connection = match kept {
        Some(connection) => connection,
        None => kept.insert(pool.acquire().await.map_err(DbError::from)?),
    };
    let mut tx = db::begin_write_on(pool, connection).await?;
    let (answers, batch) = apply_pushes(&mut tx, pushes, inspections).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok((answers, batch))
}

/// Decides and holds every mutation of `pushes` in `tx`, then writes what was held: one answer per
/// push, in order. Nothing is committed here.
async fn apply_pushes(
    tx: &mut db::WriteTx<'_>,
    pushes: &[Pushed<'_>],
    inspections: HashMap<(usize, usize), Inspection>,
) -> Result<(Vec<PushResponse>, Batch), ApiError> {
    let mut batch = Batch::read_ahead(tx, pushes, inspections).await?;
    let mut answers = Vec::with_capacity(pushes.len());
    for (p, push) in pushes.iter().enumerate() {
        let mut results = Vec::with_capacity(push.mutations.len());
        for n in 0..push.mutations.len() {
            results.push(apply_mutation(tx, &mut batch, *push, (p, n)).await?);
        }
        answers.push(PushResponse { results });
    }
    batch.write(tx).await?;
    Ok((answers, batch))
}

/// Query of `GET /api/sync/pull`. Both are read as text so that bad values get our own messages.
#[derive(Debug, Deserialize)]
pub struct PullQuery {
    since: Option<String>,
    limit: Option<String>,
}

/// Hands out the records the caller may see that changed after the cursor, oldest change first.
pub async fn pull(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    let since = parse_cursor(query.since.as_deref())?;
    let limit = parse_limit(query.limit.as_deref())?;
    let caller = &authed.caller;
    let unit = if caller.sees_all_units() {
        None
    } else {
        Some(&caller.unit_id)
    };
    // One more than asked tells whether another page follows without a second query.
    let mut rows = db::changes_since(&state.pool, since, unit, limit + 1).await?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let cursor = rows.last().map_or(since, |row| row.seq).to_string();
    let changes = rows
        .into_iter()
        .map(|row| Change {
            entity: row.entity,
            id: row.id,
            rev: row.rev,
            deleted: row.body.is_none(),
            body: row.body.unwrap_or(Value::Null),
        })
        .collect();
    Ok(Json(PullResponse {
        changes,
        cursor,
        has_more,
    }))
}

/// The cursor is the last seq a pull returned, as text; empty, absent and "0" mean "from the start".
fn parse_cursor(since: Option<&str>) -> Result<i64, ApiError> {
    let since = since.map(str::trim).unwrap_or_default();
    if since.is_empty() {
        return Ok(0);
    }
    since
        .parse::<u64>()
        .ok()
        .and_then(|seq| i64::try_from(seq).ok())
        .ok_or_else(|| {
            ApiError::BadCursor(format!(
                "\"{since}\" is not a cursor this server handed out; pull again from the start"
            ))
        })
}

fn parse_limit(limit: Option<&str>) -> Result<u32, ApiError> {
    match limit.map(str::trim) {
        None | Some("") => Ok(DEFAULT_PULL_LIMIT),
        Some(text) => text
            .parse::<u32>()
            .map(|limit| limit.clamp(1, MAX_PULL_LIMIT))
            .map_err(|_| ApiError::Malformed(format!("limit \"{text}\" is not a whole number"))),
    }
}

/// One phone's push as a batch decides it: who sent it, from which phone, and its mutations with
/// their content hashes.
#[derive(Clone, Copy)]
struct Pushed<'a> {
    caller: &'a Caller,
    device_id: &'a DeviceId,
    mutations: &'a [Mutation],
    hashes: &'a [String],
}

/// What the mutations of one or more pushes share inside their transaction, so that each does not
/// ask again: the units' active officers, each caller's ops and the records the batch names. A batch
/// changes neither users nor anybody else's appends, ops or records, since the transaction holds the
/// write lock; what the batch itself writes, it notes here as it goes. The rows nothing in the batch
/// reads back (its audit rows, ops and photo references) are held and written together at its end.
#[derive(Default)]
struct Batch {
    /// The accepted revs, in order: the change log and the current copies.
    writes: Vec<HeldWrite>,
    audit: audit::Pending,
    new_ops: Vec<db::NewOp>,
    /// `(photo, inspection)` pairs the batch's records name.
    photo_refs: BTreeSet<(String, String)>,
    /// The inspection bodies that parsed, by the push and the mutation's place in it (each taken
    /// once).
    inspections: HashMap<(usize, usize), Inspection>,
    /// Photo names already asked about for a caller (see [`PhotoAsker`]), and those of them the
    /// caller may not name.
    photos_asked: HashSet<(PhotoAsker, String)>,
    photos_missing: HashSet<(PhotoAsker, String)>,
    officers: HashMap<UnitId, HashSet<UserId>>,
    /// Each caller's applied ops among the batch's op ids (op ids are scoped per user).
    ops: HashMap<(UserId, String), db::AppliedOp>,
    /// Current copies by entity and id; `None`: the server has no such record. Shared, so that
    /// asking for a copy and holding an accepted one for the batch's end copy no body.
    records: HashMap<(Entity, String), Option<Arc<StoredRecord>>>,
    /// Venue bodies parsed once per batch, by id, with the rev they were parsed at.
    venues: HashMap<String, (u64, Venue)>,
}

/// Who asks whether a photo may be named: the user, and the unit whose records' photos they may
/// name too (none for an administrator, who sees every unit), which is what the answer depends on.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PhotoAsker(UserId, Option<UnitId>);

impl PhotoAsker {
    fn of(caller: &Caller) -> PhotoAsker {
        PhotoAsker(
            caller.user_id.clone(),
            (!caller.sees_all_units()).then(|| caller.unit_id.clone()),
        )
    }
}

/// An accepted mutation's new rev, held for the batch's end.
struct HeldWrite {
    /// The new current copy, the one later mutations of the batch see too.
    record: Arc<StoredRecord>,
    user_id: UserId,
    device_id: DeviceId,
    op_id: OpId,
    content_hash: String,
    at: DateTime<Utc>,
}

impl Batch {
    /// Reads in one query each what the batch's mutations will ask for one by one: each caller's
    /// ops with these op ids, the records they change, the venues and amended records their
    /// inspections name and which of their photos each caller may not name. Anything not read ahead
    /// (a body too odd to peek into) is read when asked. `inspections` are the bodies parsed already,
    /// by push and place.
    async fn read_ahead(
        conn: &mut sqlx::AnyConnection,
        pushes: &[Pushed<'_>],
        mut inspections: HashMap<(usize, usize), Inspection>,
    ) -> Result<Batch, DbError> {
        for (p, push) in pushes.iter().enumerate() {
            if !inspections.keys().any(|(q, _)| *q == p) {
                inspections.extend(
                    parse_inspections(push.mutations)
                        .into_iter()
                        .map(|(n, inspection)| ((p, n), inspection)),
                );
            }
        }
        // Text the database cannot hold is left out: its mutation is refused before it asks.
        let mut by_user: HashMap<&UserId, (&Caller, Vec<&Mutation>)> = HashMap::new();
        for push in pushes {
            by_user
                .entry(&push.caller.user_id)
                .or_insert_with(|| (push.caller, Vec::new()))
                .1
                .extend(push.mutations.iter().filter(|mutation| {
                    storable(mutation.op_id.as_str()) && storable(&mutation.id)
                }));
        }
        let mut ops = HashMap::new();
        for (user, (_, mutations)) in &by_user {
            let op_ids: Vec<&str> = mutations
                .iter()
                .map(|mutation| mutation.op_id.as_str())
                .collect();
            for (op_id, op) in db::applied_ops(&mut *conn, user, &op_ids).await? {
                ops.insert(((*user).clone(), op_id), op);
            }
        }
        let mut named: HashMap<Entity, HashSet<&str>> = HashMap::new();
        for mutation in by_user.values().flat_map(|(_, mutations)| mutations) {
            named
                .entry(mutation.entity)
                .or_default()
                .insert(mutation.id.as_str());
            if mutation.entity == Entity::Inspection {
                for (field, entity) in [("venue_id", Entity::Venue), ("amends", Entity::Inspection)]
                {
                    if let Some(id) = mutation.body.get(field).and_then(Value::as_str)
                        && storable(id)
                    {
                        named.entry(entity).or_default().insert(id);
                    }
                }
            }
        }
        let mut records = HashMap::new();
        for (entity, ids) in named {
            let ids: Vec<&str> = ids.into_iter().collect();
            // Every id asked for is known after this: found, or known to be absent.
            for id in &ids {
                records.insert((entity, (*id).to_owned()), None);
            }
            for (id, record) in db::records_named(&mut *conn, entity, &ids).await? {
                match record {
                    Ok(record) => records.insert((entity, id), Some(Arc::new(record))),
                    // Left to be read again, and to fail, only if a mutation asks for it.
                    Err(_) => records.remove(&(entity, id)),
                };
            }
        }
        let mut batch = Batch {
            ops,
            records,
            ..Batch::default()
        };
        let mut photos: HashMap<PhotoAsker, (&Caller, HashSet<&str>)> = HashMap::new();
        for ((p, _), inspection) in &inspections {
            let caller = pushes[*p].caller;
            photos
                .entry(PhotoAsker::of(caller))
                .or_insert_with(|| (caller, HashSet::new()))
                .1
                .extend(
                    inspection
                        .photo_names()
                        .into_iter()
                        .filter(|name| storable(name)),
                );
        }
        for (caller, names) in photos.into_values() {
            let names: Vec<&str> = names.into_iter().collect();
            batch.ask_photos(conn, caller, &names).await?;
        }
        batch.inspections = inspections;
        Ok(batch)
    }

    /// Those of `names` the caller may not name in a record (see [`db::missing_photos`]), in order.
    /// The batch's own photo references are written at its end, so they are looked at here: a photo
    /// an accepted record of the caller's unit names (another officer's push in the same batch, say),
    /// the caller may name, as they could once that push was committed. What the database said is
    /// as it stood when the batch began: a name the caller could name then stays nameable through
    /// the batch even if an earlier push in it moved the record naming it out of the caller's
    /// sight, as if this push had come first (arriving at the same moment, it could have).
    async fn missing_photos(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        caller: &Caller,
        names: &[&str],
    ) -> Result<Vec<String>, DbError> {
        let key = |name: &str| (PhotoAsker::of(caller), name.to_owned());
        let unasked: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| !self.photos_asked.contains(&key(name)))
            .collect();
        self.ask_photos(conn, caller, &unasked).await?;
        Ok(names
            .iter()
            .filter(|name| self.photos_missing.contains(&key(name)))
            .filter(|name| !self.named_in_sight(caller, name))
            .map(|name| (*name).to_owned())
            .collect())
    }

    /// Whether a record this batch accepted, in a unit the caller sees, names photo `name`.
    fn named_in_sight(&self, caller: &Caller, name: &str) -> bool {
        self.photo_refs
            .range((name.to_owned(), String::new())..)
            .take_while(|(photo, _)| photo == name)
            .any(|(_, inspection)| {
                self.records
                    .get(&(Entity::Inspection, inspection.clone()))
                    .and_then(Option::as_ref)
                    .is_some_and(|record| caller.sees_unit(&record.unit_id))
            })
    }

    async fn ask_photos(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        caller: &Caller,
        names: &[&str],
    ) -> Result<(), DbError> {
        if names.is_empty() {
            return Ok(());
        }
        let asker = PhotoAsker::of(caller);
        let missing = db::missing_photos(&mut *conn, names, &asker.0, asker.1.as_ref()).await?;
        self.photos_asked
            .extend(names.iter().map(|name| (asker.clone(), (*name).to_owned())));
        self.photos_missing
            .extend(missing.into_iter().map(|name| (asker.clone(), name)));
        Ok(())
    }

    /// Writes what the batch held back: its records' new revs, audit rows, ops and photo
    /// references, a statement for many rows each. Before the commit, in the batch's transaction.
    async fn write(&mut self, conn: &mut sqlx::AnyConnection) -> Result<(), DbError> {
        let writes: Vec<RecordWrite<'_>> = self
            .writes
            .iter()
            .map(|held| RecordWrite {
                entity: held.record.entity,
                id: &held.record.id,
                unit_id: &held.record.unit_id,
                rev: held.record.rev,
                body: &held.record.body,
                user_id: Some(&held.user_id),
                origin: Some(PushOrigin {
                    op_id: &held.op_id,
                    device_id: &held.device_id,
                    content_hash: &held.content_hash,
                }),
                at: held.at,
            })
            .collect();
        db::write_records(&mut *conn, &writes).await?;
        drop(writes);
        self.writes.clear();
        self.audit.write(&mut *conn).await?;
        db::remember_ops(&mut *conn, &self.new_ops).await?;
        self.new_ops.clear();
        let refs: Vec<(&str, &str)> = self
            .photo_refs
            .iter()
            .map(|(photo, inspection)| (photo.as_str(), inspection.as_str()))
            .collect();
        db::add_photo_refs(&mut *conn, &refs).await?;
        self.photo_refs.clear();
        Ok(())
    }

    /// The current copy of a record as it stands in the batch's transaction. A stored row that cannot
    /// be read back refuses only the mutation that asked (see [`corrupt`]).
    async fn record(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        entity: Entity,
        id: &str,
    ) -> Result<Option<Arc<StoredRecord>>, Stop> {
        if let Some(known) = self.records.get(&(entity, id.to_owned())) {
            return Ok(known.clone());
        }
        let record = match db::get_record(&mut *conn, entity, id).await {
            Ok(record) => record,
            Err(DbError::Corrupt(error)) => {
                tracing::error!(entity = entity.code(), id, %error, "a stored row does not read");
                return Err(unreadable(entity, id));
            }
            Err(error) => return Err(error.into()),
        }
        .map(Arc::new);
        self.records.insert((entity, id.to_owned()), record.clone());
        Ok(record)
    }

    /// The venue `record` holds, parsed once per batch and rev.
    fn venue(&mut self, record: &StoredRecord) -> Result<&Venue, Stop> {
        let stale = self
            .venues
            .get(&record.id)
            .is_none_or(|(rev, _)| *rev != record.rev);
        if stale {
            let venue =
                Venue::deserialize(&record.body).map_err(|error| corrupt(record, &error))?;
            self.venues.insert(record.id.clone(), (record.rev, venue));
        }
        Ok(&self.venues[&record.id].1)
    }
}

/// Whether the database can hold `text` as it is: PostgreSQL text cannot hold NUL, so ids with
/// control characters are refused before any query names them.
fn storable(text: &str) -> bool {
    !text.contains(char::is_control)
}

/// Why a mutation stops short of being stored.
enum Stop {
    Rejected(ErrorBody),
    Conflict {
        rev: u64,
        body: Value,
    },
    /// Not the mutation's fault: fail the request (see [`push`]).
    Failed(ApiError),
}

impl From<DbError> for Stop {
    fn from(error: DbError) -> Self {
        Stop::Failed(ApiError::from(error))
    }
}

fn reject(code: &str, message: impl Into<String>) -> Stop {
    Stop::Rejected(ErrorBody::new(code, message))
}

/// A stored body that no longer parses is the server's fault, never the phone's: it is logged, and
/// only this mutation is refused (the phone keeps its copy and shows why), so one damaged record never
/// stops a whole push.
fn corrupt(record: &StoredRecord, error: &serde_json::Error) -> Stop {
    tracing::error!(
        entity = record.entity.code(),
        id = %record.id,
        %error,
        "a stored body does not parse"
    );
    unreadable(record.entity, &record.id)
}

fn unreadable(entity: Entity, id: &str) -> Stop {
    reject(
        "server_copy_unreadable",
        format!(
            "the server's copy of {} {id} cannot be read; an administrator has been told",
            entity.code()
        ),
    )
}

/// A mutation that passed every check: what to store.
struct Accepted {
    unit_id: UnitId,
    rev: u64,
    body: Value,
    /// For an inspection, every photo and signature its new rev names (all stored on the server).
    photo_refs: Option<Vec<String>>,
}

/// Decides and applies one mutation of a batch inside the batch's transaction.
async fn apply_mutation(
    outer: &mut db::WriteTx<'_>,
    batch: &mut Batch,
    push: Pushed<'_>,
    at: (usize, usize),
) -> Result<MutationResult, ApiError> {
    let Pushed {
        caller, device_id, ..
    } = push;
    let mutation = &push.mutations[at.1];
    // Ids with control characters can be neither stored nor audited (PostgreSQL text cannot hold
    // NUL): refused here, alone, so the rest of the batch goes on.
    if ![mutation.op_id.as_str(), mutation.id.as_str()]
        .iter()
        .all(|text| storable(text))
    {
        return Ok(MutationResult {
            error: Some(ErrorBody::new(
                "invalid",
                "op_id and id must not contain control characters",
            )),
            ..result(mutation, MutationStatus::Rejected, None)
        });
    }
    let content_hash = push
        .hashes
        .get(at.1)
        .cloned()
        .unwrap_or_else(|| audit::content_hash(mutation.base_rev, &mutation.body));
    // A replay of an applied op (the phone never heard the answer) changes nothing and gets the same
    // rev, whatever happened to the record since. The op id is bound to the mutation it first came
    // with: the same op id with another record or other content is refused, never "duplicate".
    let op_key = (caller.user_id.clone(), mutation.op_id.as_str().to_owned());
    let decided = match batch.ops.get(&op_key) {
        Some(op)
            if op.entity == mutation.entity
                && op.id == mutation.id
                && op
                    .content_hash
                    .as_ref()
                    .is_none_or(|hash| *hash == content_hash) =>
        {
            return Ok(result(mutation, MutationStatus::Duplicate, Some(op.rev)));
        }
        Some(_) => Err(reject(
            "op_id_reused",
            "this op_id was already used for another change; make a new op_id for each change",
        )),
        // No rev the server hands out is this large; refused here, so that the audit row and the
        // rest of the batch are unaffected.
        None if i64::try_from(mutation.base_rev).is_err() => Err(reject(
            "invalid",
            format!(
                "base_rev {} is not a rev this server handed out",
                mutation.base_rev
            ),
        )),
        None if !caller.may_push(mutation.entity) => Err(reject(
            "forbidden",
            format!(
                "the role {} may not change {}s",
                caller.role.code(),
                mutation.entity.code()
            ),
        )),
        None => match mutation.entity {
            Entity::Venue => accept_venue(outer, batch, caller, mutation).await,
            Entity::Campaign => accept_campaign(outer, batch, caller, mutation).await,
            Entity::Inspection => accept_inspection(outer, batch, caller, (at, mutation)).await,
        },
    };
    let now = Utc::now();
    let event = |outcome, code, rev| audit::Event {
        at: now,
        user_id: Some(&caller.user_id),
        device_id: Some(device_id),
        action: Action::Push,
        outcome,
        code,
        entity: mutation.entity.code(),
        id: &mutation.id,
        op_id: Some(&mutation.op_id),
        rev,
        content_hash: &content_hash,
    };
    // Deciding only reads, so a refusal has nothing to take back and writes only its audit row. An
    // accepted mutation's writes need no savepoint either: input the database cannot hold is
    // refused before (ids above, the rest by validation), so a failing write is a server fault,
    // and that fails the whole request.
    let answer = match decided {
        Ok(accepted) => {
            // The fields the server set, so that the phone need not pull its own change back.
            let fields = server_fields(&mutation.body, &accepted.body);
            let record = Arc::new(StoredRecord {
                entity: mutation.entity,
                id: mutation.id.clone(),
                unit_id: accepted.unit_id,
                rev: accepted.rev,
                body: accepted.body,
                // Known once the batch's writes are made; nothing in the batch reads it.
                seq: 0,
            });
            batch.writes.push(HeldWrite {
                record: Arc::clone(&record),
                user_id: caller.user_id.clone(),
                device_id: device_id.clone(),
                op_id: mutation.op_id.clone(),
                content_hash: content_hash.clone(),
                at: now,
            });
            // With the record, in its transaction: a photo is referenced exactly while a current
            // record names it, so the collector never takes one a record needs.
            for photo in accepted.photo_refs.iter().flatten() {
                batch
                    .photo_refs
                    .insert((photo.clone(), mutation.id.clone()));
            }
            batch.new_ops.push(db::NewOp {
                user_id: caller.user_id.clone(),
                op_id: mutation.op_id.clone(),
                entity: mutation.entity,
                id: mutation.id.clone(),
                rev: accepted.rev,
                content_hash: content_hash.clone(),
                device_id: device_id.clone(),
                at: now,
            });
            batch
                .audit
                .push(outer, event(Outcome::Applied, None, Some(accepted.rev)))
                .await?;
            // What later mutations of the batch see: this op applied, this rev current.
            batch.ops.insert(
                op_key,
                db::AppliedOp {
                    entity: mutation.entity,
                    id: mutation.id.clone(),
                    rev: accepted.rev,
                    content_hash: Some(content_hash.clone()),
                },
            );
            batch
                .records
                .insert((mutation.entity, mutation.id.clone()), Some(record));
            MutationResult {
                fields,
                ..result(mutation, MutationStatus::Applied, Some(accepted.rev))
            }
        }
        Err(Stop::Rejected(error)) => {
            let code = error.code.clone();
            batch
                .audit
                .push(
                    outer,
                    event(
                        Outcome::Rejected,
                        Some(&code),
                        audited_rev(mutation.base_rev),
                    ),
                )
                .await?;
            MutationResult {
                error: Some(error),
                ..result(mutation, MutationStatus::Rejected, None)
            }
        }
        Err(Stop::Conflict { rev, body }) => {
            batch
                .audit
                .push(
                    outer,
                    event(
                        Outcome::Conflict,
                        Some("conflict"),
                        audited_rev(mutation.base_rev),
                    ),
                )
                .await?;
            MutationResult {
                current: Some(json!({ "rev": rev, "body": body })),
                ..result(mutation, MutationStatus::Conflict, None)
            }
        }
        // The batch's transaction is dropped by the caller: nothing of the request is kept.
        Err(Stop::Failed(error)) => return Err(error),
    };
    Ok(answer)
}

/// The rev a refused mutation named, as the audit row keeps it (none when out of range).
fn audited_rev(base_rev: u64) -> Option<u64> {
    i64::try_from(base_rev).is_ok().then_some(base_rev)
}

fn result(mutation: &Mutation, status: MutationStatus, rev: Option<u64>) -> MutationResult {
    MutationResult {
        op_id: mutation.op_id.clone(),
        status,
        rev,
        error: None,
        current: None,
        fields: None,
    }
}

async fn accept_venue(
    conn: &mut sqlx::AnyConnection,
    batch: &mut Batch,
    caller: &Caller,
    mutation: &Mutation,
) -> Result<Accepted, Stop> {
    let mut venue: Venue = parse_body(mutation)?;
    same_id(venue.id.as_str(), mutation)?;
    // Server-owned: whatever the phone sent, the initials follow the name.
    venue.initials = crate::initials::pinyin_initials(&venue.name);
    venue.validate().map_err(|problems| invalid(&problems))?;
    check_owner_unit(conn, caller, &venue.unit_id).await?;
    let existing = batch.record(conn, Entity::Venue, &mutation.id).await?;
    // A create of a venue the server already holds (an inspector's registration imported from a
    // backup after it synced) goes on to answer `conflict` with the server's copy, to take.
    if !caller.may_change_venue(existing.is_some()) && mutation.base_rev != 0 {
        return Err(reject(
            "forbidden",
            "an inspector registers new venues; correcting, closing or confirming a venue of the register is for team leaders",
        ));
    }
    if !caller.role.reviews() {
        // Whatever the phone sent: a registration by an inspector waits for the team leader.
        venue.field_registered = true;
    }
    let rev = next_rev(caller, existing.as_deref(), false, mutation.base_rev)?;
    Ok(Accepted {
        unit_id: venue.unit_id.clone(),
        rev,
        body: normalised(&venue)?,
        photo_refs: None,
    })
}

async fn accept_campaign(
    conn: &mut sqlx::AnyConnection,
    batch: &mut Batch,
    caller: &Caller,
    mutation: &Mutation,
) -> Result<Accepted, Stop> {
    let campaign: Campaign = parse_body(mutation)?;
    same_id(campaign.id.as_str(), mutation)?;
    campaign.validate().map_err(|problems| invalid(&problems))?;
    check_owner_unit(conn, caller, &campaign.unit_id).await?;
    let existing = batch.record(conn, Entity::Campaign, &mutation.id).await?;
    let rev = next_rev(caller, existing.as_deref(), false, mutation.base_rev)?;
    Ok(Accepted {
        unit_id: campaign.unit_id.clone(),
        rev,
        body: normalised(&campaign)?,
        photo_refs: None,
    })
}

async fn accept_inspection(
    conn: &mut sqlx::AnyConnection,
    batch: &mut Batch,
    caller: &Caller,
    (at, mutation): ((usize, usize), &Mutation),
) -> Result<Accepted, Stop> {
    let mut inspection: Inspection = match batch.inspections.remove(&at) {
        Some(parsed) => parsed,
        None => parse_body(mutation)?,
    };
    same_id(inspection.id.as_str(), mutation)?;
    inspection
        .validate()
        .map_err(|problems| invalid(&problems))?;

    // The venue decides the unit: an inspection belongs to whoever supervises the venue.
    let venue_record = batch
        .record(conn, Entity::Venue, inspection.venue_id.as_str())
        .await?
        .ok_or_else(|| {
            reject(
                "unknown_venue",
                format!(
                    "venue {} is not on the server; push the venue first",
                    inspection.venue_id
                ),
            )
        })?;
    if !caller.sees_unit(&venue_record.unit_id) {
        return Err(reject("forbidden", "the venue belongs to another unit"));
    }
    inspection
        .validate_for_venue(batch.venue(&venue_record)?)
        .map_err(|problems| invalid(&problems))?;

    let existing = batch.record(conn, Entity::Inspection, &mutation.id).await?;
    let server_copy: Option<Inspection> = match &existing {
        Some(record) => {
            Some(Inspection::deserialize(&record.body).map_err(|error| corrupt(record, &error))?)
        }
        None => None,
    };
    // An approved record is locked, and so is an amendment once on the server: later facts about it
    // go in as another amendment.
    let locked = server_copy
        .as_ref()
        .is_some_and(|copy| copy.status == Status::Approved || copy.amends.is_some());
    let rev = next_rev(caller, existing.as_deref(), locked, mutation.base_rev)?;
    // The unit's active officers are the only people a record may name.
    if !batch.officers.contains_key(&venue_record.unit_id) {
        let active = db::active_user_ids(&mut *conn, &venue_record.unit_id).await?;
        batch.officers.insert(venue_record.unit_id.clone(), active);
    }
    let no_officers = HashSet::new();
    let officers = batch
        .officers
        .get(&venue_record.unit_id)
        .unwrap_or(&no_officers);
    check_inspection_edit(&caller.user_id, server_copy.as_ref(), &inspection, |user| {
        officers.contains(user)
    })
    .map_err(|refusal| reject(refusal.code(), refusal.to_string()))?;
    // An amendment adds later facts to an approved (locked) record of the same venue; it is made once
    // and cannot be moved to another record (`check_inspection_edit` keeps `amends` fixed).
    if server_copy.is_none()
        && let Some(amended) = &inspection.amends
    {
        let target = batch
            .record(conn, Entity::Inspection, amended.as_str())
            .await?
            .filter(|record| record.unit_id == venue_record.unit_id);
        let target: Option<Inspection> = match &target {
            Some(record) => Some(
                Inspection::deserialize(&record.body).map_err(|error| corrupt(record, &error))?,
            ),
            None => None,
        };
        match target {
            Some(target)
                if !target.inspectors.contains(&caller.user_id)
                    && target.created_by.as_ref() != Some(&caller.user_id) =>
            {
                return Err(reject(
                    "not_yours",
                    "only the officers on a record amend it / 只有记录中的执法人员可以补充该记录",
                ));
            }
            Some(target)
                if target.status == Status::Approved && target.venue_id == inspection.venue_id => {}
            Some(_) => {
                return Err(reject(
                    "amends_not_approved",
                    "only an approved record of the same venue takes an amendment; edit the record itself / 只有已通过审核的同一场所记录可以补充，请直接修改原记录",
                ));
            }
            None => {
                return Err(reject(
                    "amends_unknown",
                    format!(
                        "the amended record {amended} is not in your unit / 被补充的记录不存在"
                    ),
                ));
            }
        }
    }
    // A submitted record stands as the on-site record: it must be whole, judged on the day of the
    // visit (a record synced days later is not refused for a deadline that was after that day).
    // Checked after the edit rules, so that someone who may not change the record at all hears that,
    // not what the record lacks.
    if inspection.must_be_complete() {
        inspection
            .check_submission(server_copy.as_ref())
            .map_err(|problems| {
                reject(
                    "incomplete",
                    format!("{problems} / {}", problems.message_zh()),
                )
            })?;
    }
    // The phone uploads photos and signatures before the record naming them: a record the server
    // stores never points at bytes it does not have.
    let photo_refs: Vec<String> = inspection
        .photo_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let names: Vec<&str> = photo_refs.iter().map(String::as_str).collect();
    let missing = batch.missing_photos(conn, caller, &names).await?;
    if !missing.is_empty() {
        return Err(reject(
            "photo_missing",
            format!(
                "upload these photos before the record that names them: {} / 请先上传记录中的照片和签名：{}",
                missing.join(", "),
                missing.join("、")
            ),
        ));
    }

    // Fields only the server sets: the phone's values are ignored, the first receipt is kept.
    inspection.unit_id = Some(venue_record.unit_id.clone());
    match server_copy {
        Some(server_copy) => {
            inspection.created_by = server_copy.created_by;
            inspection.received_at = server_copy.received_at;
            inspection.review_comment = server_copy.review_comment;
            inspection.reviews = server_copy.reviews;
        }
        None => {
            inspection.created_by = Some(caller.user_id.clone());
            inspection.received_at = Some(Utc::now().fixed_offset());
            inspection.review_comment = None;
            inspection.reviews = Vec::new();
        }
    }
    Ok(Accepted {
        unit_id: venue_record.unit_id.clone(),
        rev,
        body: normalised(&inspection)?,
        photo_refs: Some(photo_refs),
    })
}

fn parse_body<T: DeserializeOwned>(mutation: &Mutation) -> Result<T, Stop> {
    T::deserialize(&mutation.body).map_err(|error| {
        reject(
            "invalid",
            format!(
                "the {} body does not parse: {error}",
                mutation.entity.code()
            ),
        )
    })
}

fn same_id(body_id: &str, mutation: &Mutation) -> Result<(), Stop> {
    if body_id == mutation.id {
        Ok(())
    } else {
        Err(reject(
            "invalid",
            format!(
                "the body's id \"{body_id}\" differs from the mutation's id \"{}\"",
                mutation.id
            ),
        ))
    }
}

/// Core's problems, English first and then Chinese, so either reader finds their half.
fn invalid(problems: &Problems) -> Stop {
    reject("invalid", format!("{problems} / {}", problems.message_zh()))
}

/// Venues and campaigns are registered in the caller's own unit; only admins file them elsewhere.
async fn check_owner_unit(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    unit_id: &UnitId,
) -> Result<(), Stop> {
    // An administrator sees every unit, so this id reaches the database: it must be one it can hold.
    if !storable(unit_id.as_str()) {
        return Err(reject(
            "invalid",
            "unit_id must not contain control characters",
        ));
    }
    if !caller.sees_unit(unit_id) {
        return Err(reject(
            "forbidden",
            "records can only be filed in your own unit",
        ));
    }
    if !db::unit_exists(&mut *conn, unit_id).await? {
        return Err(reject(
            "unknown_unit",
            format!("unit {unit_id} does not exist"),
        ));
    }
    Ok(())
}

/// The rev to store at, by core's classification against the server copy.
///
/// A record in a unit the caller cannot see answers `forbidden` before anything else, so that
/// neither its existence's details nor (through `conflict`) its body leak.
fn next_rev(
    caller: &Caller,
    existing: Option<&StoredRecord>,
    locked: bool,
    base_rev: u64,
) -> Result<u64, Stop> {
    if let Some(record) = existing
        && !caller.sees_unit(&record.unit_id)
    {
        return Err(reject("forbidden", "the record belongs to another unit"));
    }
    let server_copy = existing.map(|record| ServerCopy {
        rev: record.rev,
        locked,
    });
    match (classify(server_copy, base_rev), existing) {
        (Classification::Create, _) => Ok(1),
        (Classification::Update { next_rev }, _) => Ok(next_rev),
        (Classification::Conflict, Some(record)) => Err(Stop::Conflict {
            rev: record.rev,
            body: record.body.clone(),
        }),
        (Classification::Locked, _) => Err(reject(
            "locked",
            fieldcheck_core::TransitionError::Locked.to_string(),
        )),
        (Classification::NotFound, _) => Err(reject(
            "not_found",
            format!("no record to update at base_rev {base_rev}; create it with base_rev 0"),
        )),
        (Classification::Conflict, None) => Err(Stop::Failed(ApiError::Internal(
            "classify answered conflict without a server copy".to_owned(),
        ))),
    }
}

/// The body as the server stores and hands it out: the core type re-serialised, so unknown fields
/// are dropped and every field has its canonical form.
fn normalised<T: Serialize>(record: &T) -> Result<Value, Stop> {
    serde_json::to_value(record).map_err(|error| {
        Stop::Failed(ApiError::Internal(format!(
            "re-serialising a body: {error}"
        )))
    })
}
