//! The sync engine: runs the core's sync run against the store and the server, one run at a time, on
//! start, a moment after `online`, after each save and on a backoff timer.

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;

use chrono::{DateTime, FixedOffset};
use fieldcheck_core::engine::{RunError, sync_once};
use fieldcheck_core::sync::{backoff_ms, online_delay_ms};
use futures::future::join3;
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::store::{Resolution, Session, Store, StoreError, Unsynced};
use crate::sync::{Phase, SyncError, SyncStatus, api};
use crate::timing::Span;
use fieldcheck_core::sync::Entity;

/// The server's codes for photo bytes it will never take: anything else may go next time.
const PHOTO_REFUSALS: [&str; 4] = [
    "too_large",
    "hash_mismatch",
    "not_an_image",
    "bad_photo_name",
];

/// How long the first run waits after the app starts. The run's own code is a file of its own, and
/// so is the first screen's: fetched and compiled together, on a cheap phone, the screen waits for
/// the run's files too.
const START_DELAY_MS: u64 = 1_000;

/// Runs in a row whose code could not be fetched, with the browser online, before the app offers a
/// reload instead of saying 离线.
#[cfg(feature = "split")]
const CODE_MISSING_AFTER: u32 = 3;

/// When healthy, look for other people's changes this often.
const PERIODIC_MS: u64 = 5 * 60 * 1000;

/// The sync run in a wasm file of its own (the release build): the push, the pull, the photo uploads
/// and every record's encoding and decoding they need are a large part of the app, and none of it
/// is needed to draw the first screen. The run's loop comes in it too ([`Loop`]): the file is
/// fetched at the first kick with someone logged in (or a logout made offline waiting), or by 登录
/// (the login's code is in it too, `crate::sync::login`), and ahead with the screens' files; a
/// phone that opens offline has it from the service worker's cache.
#[cfg(feature = "split")]
mod split {
    use leptos::wasm_split::{SplitLoaderError, wasm_split};

    use super::Loop;

    #[wasm_split(sync, wasm_split_path = ::leptos::wasm_split, fallible, preload(ahead))]
    pub(super) fn engine_loop() -> Result<Loop, SplitLoaderError> {
        Ok(super::engine_loop())
    }
}

/// Fetches the sync run's file in the background (nothing without `split`).
pub(crate) async fn preload() {
    #[cfg(feature = "split")]
    if let Err(error) = split::ahead().await {
        leptos::logging::warn!("the sync's code not fetched ahead: {error}");
    }
}

/// The engine's code that drawing 登录 does without: the run's loop (run, settle, plan the next)
/// and the count of what waits, for the badge. In a split build it is in the sync run's file, out
/// of the main module, handed over as plain functions; until it is here a kick fetches it, and the
/// counts stay uncounted.
#[derive(Clone, Copy)]
pub struct Loop {
    run: fn(Rc<Engine>) -> Later<()>,
    count: fn(Store) -> Later<Result<Unsynced, StoreError>>,
}

/// The engine's [`Loop`]: called only where its code is to go (the sync run's file in a split
/// build, [`split`]).
pub(crate) fn engine_loop() -> Loop {
    Loop {
        run: |engine| Box::pin(engine.run_until_quiet()),
        count: |store| Box::pin(async move { store.badge_counts().await }),
    }
}

/// A future of the loop's code, boxed: reached through the function table from the main module.
type Later<T> = Pin<Box<dyn Future<Output = T>>>;

/// The engine behind [`crate::sync::SyncContext`].
pub struct Engine {
    store: Store,
    status: RwSignal<SyncStatus>,
    session: RwSignal<Option<Session>>,
    data_version: RwSignal<u64>,
    run: RefCell<RunState>,
    /// Local saves since the app started, to tell a count that may have missed one.
    saves: Cell<u64>,
    /// The run's loop and the count, once the sync run's file is here (see [`Loop`]).
    code: Cell<Option<Loop>>,
}

#[derive(Default)]
struct RunState {
    running: bool,
    /// A kick arrived during a run: run once more when it ends.
    again: bool,
    /// A kick came before the run's loop was here ([`Loop`]): it runs when the loop arrives.
    kicked_early: bool,
    /// The run's loop is being fetched.
    #[cfg(feature = "split")]
    fetching: bool,
    /// Failed runs in a row, for the backoff.
    failures: u32,
    /// Fetches of the run's loop in a row refused with the browser online.
    code_missing: u32,
    /// The next run already planned, if any.
    timer: Option<Planned>,
}

/// A run planned for later: the timer that will kick, and when (`Date.now()` milliseconds).
struct Planned {
    _timeout: Timeout,
    due_ms: f64,
}

impl RunState {
    /// Plans the next run `delay_ms` from now, in place of any planned before.
    fn plan(&mut self, engine: &Rc<Engine>, delay_ms: u64) {
        let engine = Rc::clone(engine);
        let due_ms = due_in(delay_ms);
        self.timer = Some(Planned {
            _timeout: Timeout::new(u32::try_from(delay_ms).unwrap_or(u32::MAX), move || {
                engine.kick();
            }),
            due_ms,
        });
    }
}

/// `Date.now()` milliseconds `delay_ms` from now.
fn due_in(delay_ms: u64) -> f64 {
    // At most 2^32 ms (seven weeks) in practice: exact in f64.
    #[allow(clippy::cast_precision_loss)]
    let delay = delay_ms as f64;
    js_sys::Date::now() + delay
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
            saves: Cell::new(0),
            code: Cell::new(None),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The app has started: the first run goes a moment later ([`START_DELAY_MS`]), so that the
    /// screen the officer opened is drawn first; a save or a tap on 立即同步 meanwhile starts it at once.
    /// (The counts come with the run's loop, [`Engine::arrived`].)
    pub fn start(self: &Rc<Self>) {
        self.run.borrow_mut().plan(self, START_DELAY_MS);
    }

    /// Starts a run unless one is going; then one more run follows it.
    pub fn kick(self: &Rc<Self>) {
        let Some(code) = self.code.get() else {
            self.fetch_loop();
            return;
        };
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
        spawn_local((code.run)(Rc::clone(self)));
    }

    /// The browser is back online: a run starts after a random part of the online spread, so that
    /// phones regaining signal together do not reach the server in the same second. A save or a tap
    /// on 立即同步 meanwhile starts it at once (a kick drops the timer). A run already planned
    /// sooner stays planned: a phone at the edge of coverage, online again and again, is not put
    /// off each time. With nobody logged in there is no sync to spread, only a pending logout to
    /// send: that goes at once.
    pub fn came_online(self: &Rc<Self>) {
        self.status.update(|status| {
            if status.phase == Phase::Offline {
                status.phase = Phase::Idle;
            }
        });
        let logged_in = self
            .session
            .with_untracked(|session| session.as_ref().is_some_and(|session| !session.expired));
        if !logged_in {
            self.kick();
            return;
        }
        let mut run = self.run.borrow_mut();
        if run.running {
            run.again = true;
            return;
        }
        let delay_ms = online_delay_ms(js_sys::Math::random());
        if run
            .timer
            .as_ref()
            .is_none_or(|planned| planned.due_ms > due_in(delay_ms))
        {
            run.plan(self, delay_ms);
        }
    }

    /// The browser went offline: the badge says so, and a planned run is dropped (it could only
    /// fail and lengthen the backoff); the `online` event plans the next.
    pub fn went_offline(&self) {
        self.status.update(|status| status.phase = Phase::Offline);
        self.run.borrow_mut().timer = None;
    }

    /// Who the session is for, if anyone is logged in.
    fn session_user(&self) -> Option<fieldcheck_core::UserId> {
        self.session
            .with_untracked(|session| session.as_ref().map(|session| session.user.id.clone()))
    }

    async fn run_until_quiet(self: Rc<Self>) {
        loop {
            self.refresh_counts().await;
            let user = self.session_user();
            let result = {
                let _span = Span::start("fieldcheck:run");
                self.run_once().await
            };
            if self.session_user() == user {
                self.settle(result).await;
            } else {
                // Someone logged out and another logged in during the run: its outcome was the
                // previous session's and says nothing of this one (a login started the badge over),
                // so only the counts are read again, and the run the login asked for follows.
                self.refresh_counts().await;
            }
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

    /// One run: a pending logout first, then the core's run (push the queue, then pull).
    async fn run_once(&self) -> Result<DateTime<FixedOffset>, SyncError> {
        if !navigator_online() {
            return Err(SyncError::Offline(
                "the browser reports no network".to_owned(),
            ));
        }
        let logout = self.send_pending_logout().await;
        let Some(session) = self.session.get_untracked() else {
            // Nobody to sync for: the run was for the logout, and one not sent fails the run, so
            // that it is tried again on the backoff (`schedule_next`). With a session the run goes
            // on, and the logout goes with the next run.
            logout?;
            return Err(SyncError::NoSession);
        };
        if session.expired {
            return Err(SyncError::Unauthorized);
        }
        self.status.update(|status| status.phase = Phase::Syncing);
        let device_id = self.store.device_id().await?;
        let remote = api::HttpRemote {
            token: &session.token,
        };
        // Bound to the session's user: if someone else takes the phone over mid-run, its next
        // transaction fails instead of writing this user's pages into their store.
        let store = self.store.bound_to(session.user.id.clone());
        // Photos and the officers list belong to the phone's owner: a session left in another tab
        // after someone else took the phone over must not upload or overwrite them.
        let owner_is_session = self
            .store
            .owner()
            .await?
            .is_some_and(|owner| owner.id == session.user.id);
        if owner_is_session {
            {
                let _span = Span::start("fieldcheck:photos");
                self.upload_photos(&session.token).await?;
            }
            let _span = Span::start("fieldcheck:officers");
            self.refresh_officers(&store, &session.token).await;
        }
        let (report, result) = {
            let _span = Span::start("fieldcheck:sync-once");
            sync_once(&store, &remote, &device_id).await
        };
        // Before anything that can fail the run: the screens re-read what this run changed even if
        // a later step stops it (the next run may change nothing and never tell them).
        if report.changed_anything() {
            self.data_version.update(|version| *version += 1);
        }
        let send_again = Span::start("fieldcheck:send-again");
        if owner_is_session && self.send_again_with_photos().await? {
            self.run.borrow_mut().again = true;
        }
        drop(send_again);
        result.map_err(|error| match error {
            RunError::Local(error) => SyncError::Store(error),
            RunError::Remote(error) => error,
            RunError::Protocol(message) => SyncError::Protocol(message),
        })?;
        let now = crate::i18n::now_china();
        // Through the bound store: the time is this user's, never written over another's takeover.
        store.set_last_synced(&now).await?;
        // Only now, with the queue sent and the pages in: what goes is what the server holds.
        if owner_is_session {
            let _span = Span::start("fieldcheck:sweep");
            match store.sweep_old_copies(now).await {
                Ok(0) => {}
                Ok(_) => self.data_version.update(|version| *version += 1),
                Err(error) => leptos::logging::warn!("keeping the phone light: {error}"),
            }
        }
        Ok(now)
    }

    /// Uploads the queued photos and signatures that saved records name, three at a time: one at a
    /// time, a week's photos spend most of the time waiting on each answer (a round trip, the
    /// server's write, the phone's own bookkeeping); three keep a narrow link busy without one
    /// photo's bytes crowding out the rest for long.
    ///
    /// A photo the server refuses for good (too large, not an image, not its hash) leaves the
    /// queue with the reason, so the record naming it is sent and its refusal shown. Offline or a
    /// lost session stops the run; any other failure of one photo (a server error, an unreadable
    /// Blob) is logged and that photo waits for the next run, while everything else goes on:
    /// `take_batch` holds back only the records that name a photo still queued.
    async fn upload_photos(&self, token: &str) -> Result<(), SyncError> {
        let queue = RefCell::new(self.store.photos_to_upload().await?.into_iter());
        let stopped = Cell::new(false);
        let uploader = || async {
            while !stopped.get() {
                let Some(name) = queue.borrow_mut().next() else {
                    break;
                };
                if let Err(error) = self.upload_photo(token, &name).await {
                    stopped.set(true);
                    return Err(error);
                }
            }
            Ok(())
        };
        let (first, second, third) = join3(uploader(), uploader(), uploader()).await;
        first.and(second).and(third)
    }

    async fn upload_photo(&self, token: &str, name: &str) -> Result<(), SyncError> {
        let photo = match self.store.photo(name).await {
            Ok(Some(photo)) => photo,
            Ok(None) => return Ok(()),
            Err(error) => {
                leptos::logging::error!("photo {name} cannot be read: {error}");
                return Ok(());
            }
        };
        match api::put_photo(token, name, &photo.blob).await {
            Ok(()) => self.store.photo_uploaded(name).await?,
            Err(SyncError::Server { code, message, .. })
                if PHOTO_REFUSALS.contains(&code.as_str()) =>
            {
                leptos::logging::error!("photo {name} refused ({code}): {message}");
                self.store.photo_refused(name, &code).await?;
            }
            Err(error @ (SyncError::Offline(_) | SyncError::Unauthorized)) => return Err(error),
            Err(other) => leptos::logging::warn!("photo {name} not uploaded yet: {other}"),
        }
        self.refresh_counts().await;
        Ok(())
    }

    /// Records the server refused because it does not have (or no longer has) a photo they name:
    /// the phone queues the photos it holds again and sends the record again. Returns whether it
    /// did, so that the run goes once more.
    async fn send_again_with_photos(&self) -> Result<bool, SyncError> {
        let mut again = false;
        for awaiting in self.store.awaiting_person().await? {
            if awaiting.entity != Entity::Inspection || awaiting.code != "photo_missing" {
                continue;
            }
            let Some(local) = self
                .store
                .inspection(&fieldcheck_core::InspectionId(awaiting.id.clone()))
                .await?
            else {
                continue;
            };
            let names = local.record.photo_names();
            // Only when the phone holds every photo again: otherwise a person must look.
            if self.store.queue_photos_again(&names).await? == names.len() {
                self.store
                    .resolve(Entity::Inspection, &awaiting.id, Resolution::SendAgain)
                    .await?;
                again = true;
            }
        }
        Ok(again)
    }

    /// Keeps the unit's officers on the phone, for picking a partner with no signal, through the
    /// run's `store` (bound to its user): a takeover while the list is asked for keeps the unit's
    /// names out of the next owner's phone. A failure only leaves the list that is there.
    async fn refresh_officers(&self, store: &Store, token: &str) {
        match api::users(token).await {
            Ok(answer) => {
                if let Err(error) = store.set_officers(&answer.users).await {
                    leptos::logging::error!("cannot keep the officers: {error}");
                }
            }
            Err(error) => leptos::logging::warn!("officers not refreshed: {error}"),
        }
    }

    /// Whether a logout is waiting to be sent. A store that cannot say is taken as yes: the run
    /// then tries to read it again, and logs what is wrong.
    #[cfg(feature = "split")]
    async fn logout_pending(&self) -> bool {
        self.store
            .pending_logouts()
            .await
            .map_or(true, |pending| !pending.is_empty())
    }

    /// Revokes the tokens left from logouts made offline, oldest first; each is kept for the next
    /// run until the server says it is revoked (or no longer valid). An error when one could not be
    /// sent (the later ones wait for the next run too).
    async fn send_pending_logout(&self) -> Result<(), SyncError> {
        let pending = match self.store.pending_logouts().await {
            Ok(pending) => pending,
            Err(error) => {
                leptos::logging::error!("cannot read the pending logouts: {error}");
                return Ok(());
            }
        };
        for token in pending {
            if let Err(error) = api::logout(&token).await {
                leptos::logging::warn!("logout not sent yet: {error}");
                return Err(error);
            }
            if let Err(error) = self.store.logout_sent(&token).await {
                leptos::logging::error!("cannot clear a pending logout: {error}");
            }
        }
        Ok(())
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
                // Only the session changes; the queue and the records wait for the next login.
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
        self.refresh_counts().await;
    }

    /// Arms the timer for the next run: backoff after failures (unless the browser is offline, when
    /// the `online` event will kick), a slow periodic pull when healthy and logged in, nothing when
    /// nobody is logged in and no logout failed to go.
    fn schedule_next(self: &Rc<Self>) {
        let mut run = self.run.borrow_mut();
        if run.running {
            return;
        }
        let logged_in = self
            .session
            .with_untracked(|session| session.as_ref().is_some_and(|session| !session.expired));
        // With nobody logged in a run only sends a logout left pending; one that failed (failures
        // count only such runs then) is tried again on the backoff, so that the token is revoked
        // without waiting for a restart or a login.
        if (!logged_in && run.failures == 0) || !navigator_online() {
            run.timer = None;
            return;
        }
        let delay_ms = if run.failures > 0 {
            backoff_ms(run.failures - 1, js_sys::Math::random())
        } else {
            PERIODIC_MS
        };
        run.plan(self, delay_ms);
    }

    /// Marks the counts stale after a local save: the badge says 未同步 until a count that began
    /// after this save has been read.
    pub(crate) fn saved(&self) {
        self.saves.set(self.saves.get().wrapping_add(1));
        self.status.update(|status| status.counted = false);
    }

    /// A kick before the run's loop is here (the sync run's file, [`Loop`]): fetches it, one fetch
    /// at a time, and the run follows when it arrives. With nobody logged in and no logout waiting
    /// to be sent there is nothing to run, and the file is not fetched for nothing: 登录 asks for it
    /// itself once the officer is at its form (the login's code is in it), so that a phone that
    /// only shows 登录 downloads the app alone; the login's own kick then finds it there.
    #[cfg(feature = "split")]
    fn fetch_loop(self: &Rc<Self>) {
        {
            let mut run = self.run.borrow_mut();
            run.kicked_early = true;
            run.timer = None;
            if run.fetching {
                return;
            }
            run.fetching = true;
        }
        let engine = Rc::clone(self);
        spawn_local(async move {
            let wanted =
                engine.session.with_untracked(Option::is_some) || engine.logout_pending().await;
            // Offline too: the service worker's cache has the file (and a failed fetch with the
            // browser offline is `Offline`).
            let fetched = if wanted {
                let load = split::engine_loop();
                Some(super::code_in_time(load, "sync run's", super::Late::Offline).await)
            } else {
                None
            };
            engine.run.borrow_mut().fetching = false;
            match fetched {
                // Someone logged in while the phone was asked: their login's kick found this fetch
                // under way, so it goes now.
                None if engine.session.with_untracked(Option::is_some) => engine.fetch_loop(),
                None => engine.run.borrow_mut().kicked_early = false,
                Some(Ok(code)) => engine.arrived(code),
                Some(Err(error)) => engine.loop_missing(&error),
            }
        });
    }

    /// Without `split` the loop is there from the start ([`crate::sync::provide_sync`]).
    #[cfg(not(feature = "split"))]
    fn fetch_loop(self: &Rc<Self>) {
        self.run.borrow_mut().kicked_early = true;
    }

    /// The run's loop could not be fetched: the run it was for failed, as offline (nothing was
    /// sent or taken), and is tried again on the backoff, joining a download still under way. A
    /// file refused three times in a row with the network up is missing code: a file an older build
    /// names may be gone after a deploy, and the app offers the reload that brings the newest build.
    /// A file still arriving does not count (`Late::Offline`): the reload would start it afresh.
    #[cfg(feature = "split")]
    fn loop_missing(self: &Rc<Self>, error: &SyncError) {
        let phase = match error {
            SyncError::CodeMissing(_) => {
                let in_a_row = {
                    let mut run = self.run.borrow_mut();
                    run.code_missing = run.code_missing.saturating_add(1);
                    run.code_missing
                };
                leptos::logging::warn!("{error} ({in_a_row} runs in a row)");
                if in_a_row >= CODE_MISSING_AFTER {
                    Phase::CodeMissing
                } else {
                    Phase::Offline
                }
            }
            _ => {
                leptos::logging::warn!("the sync run's code not here: {error}");
                Phase::Offline
            }
        };
        self.status.update(|status| status.phase = phase);
        let mut run = self.run.borrow_mut();
        run.failures = run.failures.saturating_add(1);
        if navigator_online() {
            let delay_ms = backoff_ms(run.failures - 1, js_sys::Math::random());
            run.plan(self, delay_ms);
        }
    }

    /// The run's loop and the count have arrived: the counts are read now, and a kick that came
    /// before them runs.
    pub(crate) fn arrived(self: &Rc<Self>, code: Loop) {
        if self.code.replace(Some(code)).is_some() {
            return;
        }
        self.run.borrow_mut().code_missing = 0;
        let engine = Rc::clone(self);
        spawn_local(async move { engine.refresh_counts().await });
        let kicked = std::mem::take(&mut self.run.borrow_mut().kicked_early);
        if kicked {
            self.kick();
        }
    }

    /// Recounts what waits to be sent and what waits for a person, for the badge. Until the shell's
    /// parts are here nothing shows the counts, and they stay uncounted (`counted` false).
    pub(crate) async fn refresh_counts(&self) {
        let Some(code) = self.code.get() else {
            return;
        };
        let saves_before = self.saves.get();
        match (code.count)(self.store.clone()).await {
            Ok(unsynced) => self.status.update(|status| {
                status.pending = unsynced.queued;
                status.photos = unsynced.photos;
                status.waiting = unsynced.awaiting;
                // A save during the read may be missing from these counts: the run it kicked
                // counts again.
                status.counted = self.saves.get() == saves_before;
            }),
            Err(error) => leptos::logging::error!("cannot count unsynced records: {error}"),
        }
    }
}

/// Whether the browser believes it has a network (`navigator.onLine`); true if unknown.
pub(crate) fn navigator_online() -> bool {
    web_sys::window().is_none_or(|window| window.navigator().on_line())
}
