//! Talking to the server: login, and the sync engine that pushes the outbox and pulls changes.
//!
//! This module is the only code that uses the network. Screens read the reactive [`SyncStatus`] and
//! the session through [`SyncContext`] and ask for a run with [`SyncContext::kick`]; they never fetch.

mod api;
mod engine;
mod office;

use std::rc::Rc;

use chrono::{DateTime, FixedOffset};
use leptos::prelude::*;

use crate::store::{Session, Store, StoreError, TakeOver, meta_keys};

pub use engine::Engine;
pub(crate) use engine::preload as preload_code;
pub use office::ExportFormat;

/// Why talking to the server did not work. Screens tell these apart; none is swallowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyncError {
    /// The server could not be reached (no signal, airplane mode, server down, timeout).
    #[error("offline: {0}")]
    Offline(String),
    /// The token is missing, expired or revoked: log in again; local data stays.
    #[error("the login has expired")]
    Unauthorized,
    /// Login only: wrong username or password.
    #[error("wrong username or password")]
    BadCredentials,
    /// Login only: too many attempts.
    #[error("too many attempts")]
    Throttled,
    /// Nobody is logged in on this phone.
    #[error("nobody is logged in")]
    NoSession,
    /// Login only: the phone holds another user's work that is not on the server yet. `owner` is the
    /// username it belongs to, when known.
    #[error("{n} records of another user are not synced yet")]
    OtherUsersWork { owner: Option<String>, n: u32 },
    /// The server answered with an error status.
    #[error("server error {status} {code}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The server's answer does not fit the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The release build's sync code (with the login's) could not be fetched while the browser
    /// reports a network, or for a login did not arrive in time: a file an older build names may be
    /// gone from the server after a deploy (a reload brings the newest build), or the link is poor.
    #[error("{0}")]
    CodeMissing(String),
    /// A bug in the app.
    #[error("bug: {0}")]
    Bug(String),
    /// The phone's database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the sync engine is doing, as the badge shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Not run yet, or nobody logged in.
    Idle,
    Syncing,
    /// The last run finished.
    Synced,
    /// No network, or the server could not be reached.
    Offline,
    /// The session expired: log in again.
    Unauthorized,
    /// The last run failed for another reason; the message is for the error line.
    Error(String),
    /// The sync's code could not be fetched several runs in a row with the browser online: the app
    /// offers a reload (see [`SyncError::CodeMissing`]).
    CodeMissing,
}

/// The reactive sync state: phase, how many changes wait to be sent and how many wait for a person,
/// when the phone last synced.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStatus {
    pub phase: Phase,
    pub pending: u32,
    /// Records in conflict, refused or unreadable: the inspector must look at them.
    pub waiting: u32,
    /// Photos and signatures not uploaded yet.
    pub photos: u32,
    /// Whether the counts above are current: false from the app's start, and again from a local
    /// save, until the engine has read them from the store. Until then they are not a finding, and
    /// the badge must not claim "synced".
    pub counted: bool,
    pub last_synced: Option<DateTime<FixedOffset>>,
}

impl SyncStatus {
    /// The badge's `data-state`: `offline|pending|attention|synced|error|idle`.
    pub fn badge_state(&self) -> &'static str {
        match self.phase {
            Phase::Offline => "offline",
            Phase::Unauthorized | Phase::Error(_) | Phase::CodeMissing => "error",
            _ if !self.counted => "idle",
            _ if self.pending > 0 || self.photos > 0 => "pending",
            _ if self.waiting > 0 => "attention",
            _ if self.last_synced.is_some() => "synced",
            Phase::Synced => "synced",
            Phase::Idle | Phase::Syncing => "idle",
        }
    }
}

/// The sync context: state for readers, commands for writers.
#[derive(Clone, Copy)]
pub struct SyncContext {
    status: RwSignal<SyncStatus>,
    session: RwSignal<Option<Session>>,
    data_version: RwSignal<u64>,
    engine: StoredValue<Rc<Engine>, LocalStorage>,
}

impl SyncContext {
    /// The sync state (reactive).
    pub fn status(&self) -> SyncStatus {
        self.status.get()
    }

    /// The phone's store the engine syncs.
    fn store(&self) -> Store {
        self.engine.with_value(|engine| engine.store().clone())
    }

    /// The session (reactive): `None` before the first login.
    pub fn session(&self) -> Option<Session> {
        self.session.get()
    }

    /// The session, without tracking (for event handlers).
    pub fn session_untracked(&self) -> Option<Session> {
        self.session.get_untracked()
    }

    /// A photo or signature to show: the phone's own copy, or else the server's (fetched with the
    /// session and kept on the phone, so that it shows offline next time). `None` when neither is
    /// reachable (offline, or the server does not let this user see it).
    pub async fn photo(&self, name: &str) -> Option<web_sys::Blob> {
        let store = self.engine.with_value(|engine| engine.store().clone());
        if let Ok(Some(photo)) = store.photo(name).await {
            return Some(photo.blob);
        }
        let session = self
            .session
            .get_untracked()
            .filter(|session| !session.expired)?;
        // Only for the phone's owner: another user's session must not fill this user's store.
        let owner = store.owner().await.ok().flatten()?;
        if owner.id != session.user.id {
            return None;
        }
        match api::get_photo(&session.token, name).await {
            Ok((blob, content_type)) => {
                if let Err(error) = store
                    .keep_downloaded_photo(name, &content_type, &blob)
                    .await
                {
                    leptos::logging::warn!("photo {name} shown but not kept: {error}");
                }
                Some(blob)
            }
            Err(error) => {
                leptos::logging::warn!("photo {name} not fetched: {error}");
                None
            }
        }
    }

    /// A counter that moves whenever sync changed local data; lists read it to refetch.
    pub fn data_version(&self) -> u64 {
        self.data_version.get()
    }

    /// Asks for a sync run now (one at a time; a request during a run queues one more run).
    pub fn kick(&self) {
        self.engine.with_value(|engine| engine.kick());
    }

    /// Call after a local save: recounts the outbox and starts a run. Until the run has counted, the
    /// badge says 未同步, not the 已同步 of before the save.
    pub fn saved_locally(&self) {
        self.engine.with_value(|engine| engine.saved());
        self.data_version.update(|version| *version += 1);
        self.kick();
    }

    /// Call after a successful login: keeps the session and starts a run.
    ///
    /// The badge starts over: what it said was about the previous session, possibly another user's
    /// data (taken off the phone by the login), and until the run ends this session has not synced.
    pub fn logged_in(&self, session: Session) {
        self.status.update(|status| {
            status.phase = Phase::Idle;
            status.last_synced = None;
            status.counted = false;
        });
        self.session.set(Some(session));
        tell_other_tabs();
        self.kick();
    }

    /// Logs out: the session goes, its token is revoked on the server (now, or at the first run that
    /// reaches it); the records and the queue stay on the phone for the same user's next login.
    pub async fn log_out(&self) -> Result<(), StoreError> {
        let store = self.engine.with_value(|engine| engine.store().clone());
        store.log_out().await?;
        self.session.set(None);
        tell_other_tabs();
        self.status.update(|status| status.phase = Phase::Idle);
        self.kick();
        Ok(())
    }

    /// Call after a person resolved a record: recounts and starts a run.
    pub fn resolved(&self) {
        self.saved_locally();
    }
}

/// Starts the sync engine and provides its context. Runs once now, a random moment (at most
/// [`fieldcheck_core::sync::ONLINE_SPREAD_MS`]) after every `online` event, after each save and on a
/// backoff timer after failures.
pub fn provide_sync(
    store: Store,
    session: Option<Session>,
    last_synced: Option<DateTime<FixedOffset>>,
) -> SyncContext {
    let status = RwSignal::new(SyncStatus {
        // A session the server refused before needs a new login, not a run (the badge says so from
        // the start, rather than 同步中 until the run's code has arrived to find it out).
        phase: if session.as_ref().is_some_and(|session| session.expired) {
            Phase::Unauthorized
        } else if engine::navigator_online() {
            Phase::Idle
        } else {
            Phase::Offline
        },
        pending: 0,
        waiting: 0,
        photos: 0,
        counted: false,
        last_synced,
    });
    let session = RwSignal::new(session);
    let data_version = RwSignal::new(0);
    let engine = Rc::new(Engine::new(store, status, session, data_version));
    let context = SyncContext {
        status,
        session,
        data_version,
        engine: StoredValue::new_local(Rc::clone(&engine)),
    };
    provide_context(context);

    // The listeners live as long as the app; their handles are not needed to remove them.
    let online_engine = Rc::clone(&engine);
    let _ = window_event_listener(leptos::ev::online, move |_| online_engine.came_online());
    let offline_engine = Rc::clone(&engine);
    let _ = window_event_listener(leptos::ev::offline, move |_| offline_engine.went_offline());
    listen_to_other_tabs();
    // Without `split` the run's loop is here from the start; with it, the first kick fetches it.
    #[cfg(not(feature = "split"))]
    engine.arrived(engine::engine_loop());
    engine.start();
    context
}

/// The channel on which tabs of the app tell each other that the session changed.
const SESSION_CHANNEL: &str = "fieldcheck-session";

/// Another tab logged in or out: this tab's session (and the user its screens act for) is stale, so
/// it reloads rather than save or sync under the wrong name.
fn listen_to_other_tabs() {
    let Ok(channel) = web_sys::BroadcastChannel::new(SESSION_CHANNEL) else {
        return;
    };
    let on_message = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
        |_message: web_sys::MessageEvent| {
            if let Some(window) = web_sys::window()
                && let Err(error) = window.location().reload()
            {
                leptos::logging::error!("cannot reload after another tab's login: {error:?}");
            }
        },
    );
    channel.set_onmessage(Some(wasm_bindgen::JsCast::unchecked_ref(
        on_message.as_ref(),
    )));
    // Both live as long as the page.
    on_message.forget();
    std::mem::forget(channel);
}

fn tell_other_tabs() {
    if let Ok(channel) = web_sys::BroadcastChannel::new(SESSION_CHANNEL) {
        if let Err(error) =
            channel.post_message(&wasm_bindgen::JsValue::from_str("session-changed"))
        {
            leptos::logging::error!("cannot tell other tabs: {error:?}");
        }
        channel.close();
    }
}

/// The sync context provided by the app shell.
pub fn use_sync() -> SyncContext {
    expect_context::<SyncContext>()
}

/// Logs in against the server, hands the phone's data to the user, keeps the session so the app works
/// offline afterwards, and asks the browser to keep the data (`navigator.storage.persist()`).
///
/// The phone's data belongs to one user. Another user's work that is not on the server yet stops the
/// login before anything is sent (it would go up under the wrong name): the phone offers to log in as
/// that user, or to export the work first; `how` is [`TakeOver::DiscardingUnsynced`] only after that.
///
/// In a split build this code is in the sync run's file (`split_sync`), which 登录 asks for when the
/// officer is first at its form, and the tap waits for: none of it is needed to draw 登录 and take
/// the officer's typing, and the first sync run, which follows every login, needs that file anyway.
/// Until the file is here nothing is sent or written. One that cannot be fetched, or is still on its
/// way after the patience, with the browser online, is `CodeMissing`, and 登录 offers another tap
/// (which joins a download still under way) and a reload (which starts a stalled one again); with
/// the browser offline, `Offline`.
pub async fn login(
    store: &Store,
    username: &str,
    password: &str,
    how: TakeOver,
) -> Result<Session, SyncError> {
    #[cfg(feature = "split")]
    {
        let login = split::login(store.clone(), username.to_owned(), password.to_owned(), how);
        code_in_time(login, "login's", Late::Missing).await?.await
    }
    #[cfg(not(feature = "split"))]
    login_now(store, username, password, how).await
}

/// What code still on its way after the app's patience means to the one waiting for it.
#[cfg(feature = "split")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Late {
    /// `CodeMissing` (browser online): the officer, waiting at 登录, is offered another tap and a
    /// reload.
    Missing,
    /// `Offline`: the sync run tries again on its backoff, joining the same download. A slow file
    /// still arriving over a weak link must not count toward 同步未就绪, whose reload would start it
    /// from nothing.
    Offline,
}

/// Waits for code in a file of its own (`what`: the login's, the sync run's), within the app's
/// patience. Code that cannot be fetched with the browser online is `CodeMissing`; with the browser
/// offline, `Offline`; code still on its way after the patience is as `late` says.
#[cfg(feature = "split")]
pub(crate) async fn code_in_time<T>(
    load: impl Future<Output = Result<T, leptos::wasm_split::SplitLoaderError>>,
    what: &str,
    late: Late,
) -> Result<T, SyncError> {
    let (why, missing) = match crate::patience::within(load).await {
        Some(Ok(code)) => return Ok(code),
        Some(Err(error)) => (error.to_string(), true),
        None => (
            format!("not here within {} ms", crate::patience::PATIENCE_MS),
            late == Late::Missing,
        ),
    };
    Err(if missing && engine::navigator_online() {
        SyncError::CodeMissing(format!("the {what} code could not be fetched: {why}"))
    } else {
        SyncError::Offline(format!("the {what} code could not be fetched: {why}"))
    })
}

/// The login's code in the sync run's file (see [`login`]).
#[cfg(feature = "split")]
mod split {
    use std::pin::Pin;

    use leptos::wasm_split::{SplitLoaderError, wasm_split};

    use crate::store::{Session, Store, TakeOver};
    use crate::sync::SyncError;

    /// A login under way, boxed: a split function cannot be `async`.
    pub(super) type Login = Pin<Box<dyn Future<Output = Result<Session, SyncError>>>>;

    #[wasm_split(sync, wasm_split_path = ::leptos::wasm_split, fallible)]
    pub(super) fn login(
        store: Store,
        username: String,
        password: String,
        how: TakeOver,
    ) -> Result<Login, SplitLoaderError> {
        Ok(Box::pin(async move {
            super::login_now(&store, &username, &password, how).await
        }))
    }
}

/// [`login`] itself.
async fn login_now(
    store: &Store,
    username: &str,
    password: &str,
    how: TakeOver,
) -> Result<Session, SyncError> {
    let owner = store.owner().await.unwrap_or(None);
    let someone_else = owner
        .as_ref()
        .is_none_or(|owner| owner.username != username);
    if someone_else && how == TakeOver::OnlyIfSynced {
        let unsynced = store.unsynced().await?.total();
        if unsynced > 0 {
            return Err(SyncError::OtherUsersWork {
                owner: owner.map(|owner| owner.username),
                n: unsynced,
            });
        }
    }
    let answer = api::login(username, password).await?;
    match store.take_over(&answer.user, how).await {
        Ok(()) => {}
        Err(StoreError::UnsyncedWork(n)) => {
            // Another account name for the same person is still another user: revoke and refuse.
            revoke(&answer.token).await;
            return Err(SyncError::OtherUsersWork {
                owner: store
                    .owner()
                    .await
                    .ok()
                    .flatten()
                    .map(|owner| owner.username),
                n,
            });
        }
        Err(other) => {
            revoke(&answer.token).await;
            return Err(other.into());
        }
    }
    let session = Session {
        token: answer.token,
        user: answer.user,
        expires_at: answer.expires_at,
        expired: false,
    };
    if let Err(error) = store.set_session(&session).await {
        // Not kept, the token would be live on the server with nobody holding it.
        revoke(&session.token).await;
        return Err(error.into());
    }
    // The session is kept: a note that could not be written does not undo the login.
    let persisted = crate::store::request_persistence().await;
    if let Err(error) = store
        .meta_set(meta_keys::STORAGE_PERSISTED, &persisted)
        .await
    {
        leptos::logging::error!("{error}; whether the browser keeps the data is not noted");
    }
    Ok(session)
}

/// Revokes a token the server issued to a login that did not complete on the phone (best effort: a
/// token nobody holds expires on its own).
async fn revoke(token: &str) {
    if let Err(error) = api::logout(token).await {
        leptos::logging::warn!("could not revoke the refused login: {error}");
    }
}
