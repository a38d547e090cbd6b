//! The sync engine: executes the core's sync decisions against the store and the server, one run at a time.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use fieldcheck_core::OpId;
use fieldcheck_core::sync::{
    Entity, OutboxEntry, PushOutcome, PushRequest, backoff_ms, next_batch, push_outcome,
};
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::rc::Rc;

use crate::store::{OutboxItem, OutboxKey, Session, Store, meta_keys};
use crate::sync::{Phase, SyncError, SyncStatus, api};

/// At most this many mutations per push request.
const PUSH_LIMIT: usize = 50;
/// At most this many changes per pull page.
const PULL_LIMIT: u32 = 200;
/// When healthy, look for other people's changes this often.
const PERIODIC_MS: u32 = 5 * 60 * 1000;

/// The engine behind [`crate::sync::SyncContext`].
pub struct Engine {
    store: Store,
    status: RwSignal<SyncStatus>,
    session: RwSignal<Option<Session>>,
    data_version: RwSignal<u64>,
    run: RefCell<RunState>,
}

#[derive(Default)]
struct RunState {
    running: bool,
    /// A kick arrived during a run: run once more when it ends.
    again: bool,
    /// Failed runs in a row, for the backoff.
    failures: u32,
    timer: Option<Timeout>,
}

impl Engine {
    pub(crate) fn new(
        store: Store,
        status: RwSignal<SyncStatus>,
        session: RwSignal<Option<Session>>,
        data_version: RwSignal<u64>,
    ) -> Engine {
        Engine {
            store,
            status,
            session,
            data_version,
            run: RefCell::new(RunState::default()),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Starts a run unless one is going; then one more run follows it.
    pub fn kick(self: &Rc<Self>) {
        {
            let mut run = self.run.borrow_mut();
            if run.running {
                run.again = true;
                return;
            }
            run.running = true;
            run.again = false;
            run.timer = None;
        }
        let engine = Rc::clone(self);
        spawn_local(async move { engine.run_until_quiet().await });
    }

    async fn run_until_quiet(self: Rc<Self>) {
        loop {
            self.refresh_pending().await;
            let result = self.run_once().await;
            self.settle(result).await;
            let again = {
                let mut run = self.run.borrow_mut();
                if run.again {
                    run.again = false;
                    true
                } else {
                    run.running = false;
                    false
                }
            };
            if !again {
                break;
            }
        }
        self.schedule_next();
    }

    /// One run: push the whole outbox, then pull until the server has no more.
    async fn run_once(&self) -> Result<DateTime<FixedOffset>, SyncError> {
        let Some(session) = self.session.get_untracked() else {
            return Err(SyncError::NoSession);
        };
        if session.expired {
            return Err(SyncError::Unauthorized);
        }
        if !navigator_online() {
            return Err(SyncError::Offline(
                "the browser reports no network".to_owned(),
            ));
        }
        self.status.update(|status| status.phase = Phase::Syncing);
        self.push_all(&session.token).await?;
        self.pull_all(&session.token).await?;
        let now = crate::i18n::now_china();
        self.store.meta_set(meta_keys::LAST_SYNCED_AT, &now).await?;
        Ok(now)
    }

    async fn push_all(&self, token: &str) -> Result<(), SyncError> {
        let device_id = self.store.device_id().await?;
        loop {
            let outbox = self.store.outbox().await?;
            // Entries that no longer decode stay in the outbox (nothing is deleted unacknowledged)
            // and are reported; the others still go out.
            let corrupt = outbox.corrupt.into_iter().next();
            if outbox.items.is_empty() {
                return corrupt.map_or(Ok(()), |error| Err(error.into()));
            }
            let records: Vec<(Entity, String)> = outbox
                .items
                .iter()
                .map(|item| (item.entry.entity, item.entry.id.clone()))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let revs = self.store.known_revs(&records).await?;
            let entries: Vec<OutboxEntry> =
                outbox.items.iter().map(|item| item.entry.clone()).collect();
            let batch = next_batch(
                &entries,
                |entity, id| revs.get(&(entity, id.to_owned())).copied().unwrap_or(0),
                PUSH_LIMIT,
            );
            let by_op: HashMap<OpId, &OutboxItem> = outbox
                .items
                .iter()
                .map(|item| (item.entry.op_id.clone(), item))
                .collect();
            let keys: Vec<OutboxKey> = batch
                .iter()
                .filter_map(|mutation| by_op.get(&mutation.op_id).map(|item| item.key))
                .collect();
            // Counted before sending: from now on the server may have applied these entries.
            self.store.mark_attempted(&keys).await?;
            let n_sent = batch.len();
            let request = PushRequest {
                device_id: device_id.clone(),
                mutations: batch,
            };
            let response = api::push(token, &request).await?;
            let mut n_settled = 0;
            for result in &response.results {
                // An answer for an op we did not send is ignored; ours stay queued.
                let Some(item) = by_op.get(&result.op_id) else {
                    continue;
                };
                let outcome = push_outcome(result);
                if outcome != PushOutcome::Retry {
                    n_settled += 1;
                }
                self.store.apply_push_outcome(item, &outcome).await?;
            }
            self.refresh_pending().await;
            self.data_version.update(|version| *version += 1);
            if n_settled == 0 {
                return Err(SyncError::Protocol(format!(
                    "the server settled none of the {n_sent} changes sent"
                )));
            }
        }
    }

    async fn pull_all(&self, token: &str) -> Result<(), SyncError> {
        let mut cursor = self.store.pull_cursor().await?;
        loop {
            let page = api::pull(token, cursor.as_deref(), PULL_LIMIT).await?;
            let applied = self.store.apply_pulled(&page.changes, &page.cursor).await?;
            if applied.stored > 0 {
                self.data_version.update(|version| *version += 1);
            }
            if !page.has_more {
                return Ok(());
            }
            if cursor.as_deref() == Some(page.cursor.as_str()) {
                return Err(SyncError::Protocol(
                    "the pull cursor did not advance".to_owned(),
                ));
            }
            cursor = Some(page.cursor);
        }
    }

    /// Turns a run's result into the visible state and the failure count.
    async fn settle(&self, result: Result<DateTime<FixedOffset>, SyncError>) {
        let failed = match result {
            Ok(at) => {
                self.status.update(|status| {
                    status.phase = Phase::Synced;
                    status.last_synced = Some(at);
                });
                false
            }
            Err(SyncError::NoSession) => {
                self.status.update(|status| status.phase = Phase::Idle);
                false
            }
            Err(SyncError::Offline(_)) => {
                self.status.update(|status| status.phase = Phase::Offline);
                true
            }
            Err(SyncError::Unauthorized) => {
                // Only the session changes; the outbox and records wait for the next login.
                match self.store.expire_session().await {
                    Ok(session) => self.session.set(session),
                    Err(error) => {
                        leptos::logging::error!("cannot mark the session expired: {error}");
                    }
                }
                self.status
                    .update(|status| status.phase = Phase::Unauthorized);
                false
            }
            Err(other) => {
                leptos::logging::error!("sync failed: {other}");
                let message = other.to_string();
                self.status
                    .update(|status| status.phase = Phase::Error(message));
                true
            }
        };
        {
            let mut run = self.run.borrow_mut();
            run.failures = if failed {
                run.failures.saturating_add(1)
            } else {
                0
            };
        }
        self.refresh_pending().await;
    }

    /// Arms the timer for the next run: backoff after failures (unless the browser is offline, when
    /// the `online` event will kick), a slow periodic pull when healthy and logged in.
    fn schedule_next(self: &Rc<Self>) {
        let mut run = self.run.borrow_mut();
        if run.running {
            return;
        }
        let logged_in = self
            .session
            .with_untracked(|session| session.as_ref().is_some_and(|session| !session.expired));
        if !logged_in || !navigator_online() {
            run.timer = None;
            return;
        }
        let delay_ms = if run.failures > 0 {
            let jitter = js_sys::Math::random();
            u32::try_from(backoff_ms(run.failures - 1, jitter)).unwrap_or(u32::MAX)
        } else {
            PERIODIC_MS
        };
        let engine = Rc::clone(self);
        run.timer = Some(Timeout::new(delay_ms, move || engine.kick()));
    }

    async fn refresh_pending(&self) {
        match self.store.pending_count().await {
            Ok(pending) => self.status.update(|status| status.pending = pending),
            Err(error) => leptos::logging::error!("cannot count the outbox: {error}"),
        }
    }
}

/// Whether the browser believes it has a network (`navigator.onLine`); true if unknown.
pub(crate) fn navigator_online() -> bool {
    web_sys::window().is_none_or(|window| window.navigator().on_line())
}
