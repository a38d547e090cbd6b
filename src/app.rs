//! The app shell: opens the store, provides the contexts, and lays out top bar, routes and tab bar.

use chrono::{DateTime, FixedOffset};
use leptos::prelude::*;

use crate::chrome::{provide_chrome, use_chrome};
use crate::components::{TopBar, provide_draft_keeper};
use crate::i18n::{Lang, Strings, provide_i18n, use_i18n};
use crate::pages::NotFoundPage;
use crate::router::{Route, current_screen, provide_router, use_location, use_navigate};
use crate::screens;
use crate::store::{Session, Store, StoreError, meta_keys, provide_store};
use crate::sync::{Phase, provide_sync, use_sync};

/// The IndexedDB database the app uses.
pub const DB_NAME: &str = "fieldcheck";

/// What the app needs before it can show anything: the open store and what meta remembers.
#[derive(Debug, Clone)]
struct Booted {
    store: Store,
    session: Option<Session>,
    lang: Lang,
    last_synced: Option<DateTime<FixedOffset>>,
}

/// What the app watches about its database while it runs.
#[derive(Debug, Clone, Copy)]
struct DbWatch {
    /// An older version of the app in another tab holds the database: the upgrade waits for it.
    blocked: RwSignal<bool>,
    /// A newer version of the app in another tab upgraded the database: this one must reload.
    outdated: RwSignal<bool>,
}

async fn boot(watch: DbWatch) -> Result<Booted, StoreError> {
    // Opened in the task after the first draw, not in it (see `crate::mount`).
    crate::frame::next_task().await;
    let store = Store::open_watched(
        DB_NAME,
        move || watch.blocked.set(true),
        move || watch.outdated.set(true),
    )
    .await?;
    watch.blocked.set(false);
    // Three reads of meta, sent together: each is a transaction of its own, and they run side by side.
    let (session, lang, last_synced) = futures::join!(
        store.session(),
        store.meta_get::<Lang>(meta_keys::LANG),
        store.last_synced()
    );
    // A damaged meta value must not lock the inspector out of the records: fall back and say so.
    let session = session.unwrap_or_else(|error| {
        leptos::logging::error!("{error}; asking to log in again");
        None
    });
    let lang = lang
        .unwrap_or_else(|error| {
            leptos::logging::error!("{error}; using Chinese");
            None
        })
        .unwrap_or_default();
    let last_synced = last_synced.unwrap_or_else(|error| {
        leptos::logging::error!("{error}; last sync time unknown");
        None
    });
    Ok(Booted {
        store,
        session,
        lang,
        last_synced,
    })
}

/// The root component: opens the phone's database, then shows the shell.
#[component]
pub fn App() -> impl IntoView {
    let watch = DbWatch {
        blocked: RwSignal::new(false),
        outdated: RwSignal::new(false),
    };
    let booted = LocalResource::new(move || boot(watch));
    move || match booted.get() {
        // What stops the app must be seen: the page's own login form (index.html) would hide it.
        None if watch.blocked.get() => {
            crate::boot_form::discard();
            crate::boot_snapshot::take();
            blocked_view()
        }
        None => view! {
            <p class="splash" role="status">
                {crate::i18n::ZH.loading}
            </p>
        }
        .into_any(),
        Some(Ok(booted)) => view! { <Shell booted outdated=watch.outdated /> }.into_any(),
        Some(Err(error)) => {
            crate::boot_form::discard();
            crate::boot_snapshot::take();
            failed_view(&error)
        }
    }
}

/// Another tab holds the database at an older version: this one waits, and says so.
fn blocked_view() -> AnyView {
    view! {
        <div class="splash" role="alert" data-testid="db-blocked">
            <p>{crate::i18n::ZH.db_blocked}</p>
            <p lang="en">{crate::i18n::EN.db_blocked}</p>
            <button type="button" class="button button-primary" on:click=|_| reload()>
                {crate::i18n::ZH.reload} " / " {crate::i18n::EN.reload}
            </button>
        </div>
    }
    .into_any()
}

/// The database could not be opened: the app cannot start, and says why.
fn failed_view(error: &StoreError) -> AnyView {
    view! {
        <div class="splash" role="alert">
            <p>{crate::i18n::ZH.boot_failed}</p>
            <p lang="en">{crate::i18n::EN.boot_failed}</p>
            <p class="small">{error.to_string()}</p>
        </div>
    }
    .into_any()
}

#[component]
fn Shell(booted: Booted, outdated: RwSignal<bool>) -> impl IntoView {
    // The page's own login form (index.html) is 登录's to take; an officer with a session opens on
    // the screens instead, and the form goes now, unread.
    let on_login = window()
        .location()
        .pathname()
        .is_ok_and(|path| path == "/login");
    if booted.session.is_some() && !on_login {
        crate::boot_form::discard();
    }
    provide_store(booted.store.clone());
    let i18n = provide_i18n(booted.lang);
    let sync = provide_sync(booted.store, booted.session, booted.last_synced);
    // The page's notes follow the session (a change of officer also forgets the last one's copy of
    // the venue list, src/boot_snapshot.rs, before the new one's is drawn).
    Effect::new(move |_| {
        let user = sync.session().map(|session| session.user.id);
        crate::boot_form::note_session(user.as_ref().map(|user| user.as_str()));
    });
    let keeper = provide_draft_keeper();
    let chrome = provide_chrome(sync);
    // Once an officer is logged in and the first screen is up, fetch the other screens' code while
    // the signal lasts; and again when the signal comes back, for any that did not arrive (those that
    // did answer at once). Not before the login: on a first visit over a weak signal the login goes
    // first, and the service worker is fetching every file of the app then anyway.
    Effect::new(move |started: Option<bool>| {
        let started = started.unwrap_or(false);
        if started || sync.session().is_none() {
            return started;
        }
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(2_000).await;
            (chrome.here().await.preload_all)().await;
        });
        true
    });
    let online = window_event_listener(leptos::ev::online, move |_| {
        if sync.session_untracked().is_some() {
            leptos::task::spawn_local(async move {
                if let Some(parts) = chrome.load().await {
                    (parts.preload_all)().await;
                }
            });
        }
    });
    on_cleanup(move || online.remove());
    let code_missing = move || sync.status().phase == Phase::CodeMissing;
    // The open form is saved first (a save under way is waited for), and a newer version waiting in
    // the service worker is taken up, since that is what brings the missing file.
    let reload_for_sync = move |_| keeper.reload_keeping_form();
    view! {
        {move || chrome.get().map(|parts| (parts.banners)())}
        <Show when=code_missing>
            <div class="banner banner-warn banner-top" role="alert" data-testid="sync-code-missing">
                <span>{move || i18n.t().sync_code_missing}</span>
                " "
                <button
                    type="button"
                    class="button button-small"
                    disabled=move || keeper.reloading()
                    on:click=reload_for_sync
                >
                    {move || i18n.t().reload}
                </button>
            </div>
        </Show>
        <Show when=move || outdated.get()>
            <div class="banner banner-warn banner-top" role="alert" data-testid="db-outdated">
                <span>{move || i18n.t().db_outdated}</span>
                " "
                <button type="button" class="button button-small" on:click=|_| reload()>
                    {move || i18n.t().reload}
                </button>
            </div>
        </Show>
        <Layout />
    }
}

/// Every path of the app and its screen; the first that matches opens.
static ROUTES: [Route; 13] = [
    ("/", screens::venues),
    ("/venues/new", screens::venue_new),
    ("/venues/:id/edit", screens::venue_edit),
    ("/login", screens::login),
    ("/inspect/:venue_id", screens::inspect),
    ("/records", screens::records),
    ("/records/:id", screens::record),
    ("/records/:id/print", screens::print),
    ("/me", screens::me),
    ("/hazards", screens::hazards),
    ("/stats", screens::stats),
    ("/campaigns", screens::campaigns),
    ("/admin", screens::admin),
];

fn not_found() -> AnyView {
    view! { <NotFoundPage /> }.into_any()
}

/// Reloads the page (a newer app version took over the database, or a screen's file is gone).
pub(crate) fn reload() {
    if let Some(window) = web_sys::window()
        && let Err(error) = window.location().reload()
    {
        leptos::logging::error!("cannot reload: {error:?}");
    }
}

/// The screen title for a path.
fn title_for(path: &str, t: &'static Strings) -> &'static str {
    match path {
        "/" => t.title_venues,
        "/records" => t.title_records,
        "/me" => t.title_me,
        "/login" => t.title_login,
        "/venues/new" => t.register_venue,
        "/hazards" => t.title_hazards,
        "/stats" => t.title_stats,
        "/campaigns" => t.title_campaigns,
        "/admin" => t.title_admin,
        other if other.starts_with("/venues/") && other.ends_with("/edit") => t.title_venue_edit,
        other if other.starts_with("/inspect/") => t.title_inspect,
        other if other.starts_with("/records/") && other.ends_with("/print") => t.print_record,
        other if other.starts_with("/records/") => t.title_record,
        _ => t.title_not_found,
    }
}

#[component]
fn Layout() -> impl IntoView {
    provide_router(&ROUTES, not_found);
    let i18n = use_i18n();
    let sync = use_sync();
    let location = use_location();
    let navigate = use_navigate();
    let chrome = use_chrome();
    let on_login = move || location.pathname.get() == "/login";

    // Nobody logged in on this phone yet: the only place to go is the login page. Once a session
    // exists (even an expired one) the app opens straight into its screens, offline too.
    Effect::new(move |_| {
        if sync.session().is_none() && !on_login() {
            navigate.replace("/login");
        }
    });
    // The page's copy of the venue list (src/boot_snapshot.rs) is for an open at the list: the app
    // went elsewhere (to 登录, with nobody logged in), so it goes, and a tap on it with it.
    Effect::new(move |_| {
        if location.pathname.get() != "/" {
            crate::boot_snapshot::take();
        }
    });
    // Keep the document title in step with the screen.
    Effect::new(move |_| {
        let t = i18n.t();
        document().set_title(&format!(
            "{} · {}",
            title_for(&location.pathname.get(), t),
            t.app_name
        ));
    });

    // The screen is drawn in the task after the shell around it (see `crate::mount`).
    let screen_due = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        crate::frame::next_task().await;
        screen_due.set(true);
    });
    let title = Signal::derive(move || title_for(&location.pathname.get(), i18n.t()).to_owned());
    let expired = move || sync.session().is_some_and(|session| session.expired) && !on_login();
    view! {
        <TopBar title />
        <Show when=expired>
            <div class="banner banner-warn" role="alert">
                <span>{move || i18n.t().session_expired}</span>
                " "
                <a href="/login">{move || i18n.t().relogin}</a>
            </div>
        </Show>
        <main id="main" class="content">
            {current_screen(screen_due)}
        </main>
        {move || chrome.get().map(|parts| (parts.tab_bar)())}
    }
}

/// A supervisor's or an administrator's screen: an inspector who reaches it by its address is told
/// so, in words, instead of seeing forms the server would refuse.
#[component]
pub(crate) fn ForReviewers(children: ChildrenFn) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let reviews = move || {
        sync.session()
            .is_some_and(|session| session.user.role.reviews())
    };
    view! {
        <Show
            when=reviews
            fallback=move || view! {
                <section class="page">
                    <p class="banner banner-warn" role="alert" data-testid="reviewers-only">
                        {move || i18n.lang().pick(
                            "此页面仅供队长和管理员使用。",
                            "This screen is for team leaders and administrators.",
                        )}
                        " "
                        <a href="/">{move || i18n.lang().pick("返回检查", "Back to inspections")}</a>
                    </p>
                </section>
            }
        >
            {children()}
        </Show>
    }
}
