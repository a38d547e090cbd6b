//! The router's screens: with the `split` feature each arrives in a wasm file of its own the first time it opens.
//!
//! A phone on a village signal should download the code of the screen it opens first, not of all
//! thirteen. Built with `split` (the release build, see `Trunk.toml`), every screen's view is a
//! `wasm_split` function: the build tool cuts its code out of the main module into `split_<name>.wasm`
//! (see `xtask/src/split.rs`), fetched the first time the screen opens and then kept by the service
//! worker like every other file. Without the feature (tests, `trunk serve`) the same screens are plain
//! functions in one module. A screen whose file cannot be fetched shows a retry, never a dead app.

use leptos::prelude::*;

use crate::pages::{
    AdminPage, CampaignsPage, HazardsPage, InspectPage, LoginPage, MePage, PrintPage, RecordPage,
    RecordsPage, StatsPage, VenueEditPage, VenueNewPage, VenuesPage,
};

/// The screen in the main module: 登录, what a new phone opens first, so that an officer's first
/// contact with the app waits for one download only (the login's own request and take-over come in
/// the sync run's file, asked for once the officer is at the form: `crate::sync::login`).
macro_rules! in_main {
    ($( $name:ident => $view:expr; )*) => {
        $(
            pub fn $name() -> AnyView {
                $view.into_any()
            }
        )*
    };
}

/// The screens in files of their own, `$name in $file`: screens used together share a file, so
/// that one visit fetches few files (the splitter adds one more file for each set of files that
/// share code). Without `split` they are plain functions like the others.
macro_rules! split_off {
    ($( $name:ident in $file:ident => $view:expr; )*) => {
        $(
            #[cfg(feature = "split")]
            pub fn $name() -> AnyView {
                arriving(stringify!($name), || Box::pin(split::$name::$name()))
            }

            #[cfg(not(feature = "split"))]
            pub fn $name() -> AnyView {
                $view.into_any()
            }
        )*

        /// One module per screen: its view is the split function (named after the screen, which names
        /// its code in the wasm), `ahead` fetches its file.
        #[cfg(feature = "split")]
        mod split {
            $(
                pub mod $name {
                    use leptos::prelude::*;
                    use leptos::wasm_split::{SplitLoaderError, wasm_split};

                    #[allow(clippy::wildcard_imports)]
                    use super::super::*;

                    /// The screen's maker: the screen is made once the shell's parts are here
                    /// too (see `loaded`), its file and theirs fetched side by side.
                    #[wasm_split($file, wasm_split_path = ::leptos::wasm_split, fallible, preload(ahead))]
                    pub(in super::super) fn $name() -> Result<fn() -> AnyView, SplitLoaderError> {
                        Ok(|| $view.into_any())
                    }
                }
            )*

            /// Every screen's file, fetched one after another: called once the first screen is up, so
            /// that the app keeps working if the signal goes before the service worker has them all.
            pub async fn preload_all() {
                $(
                    if let Err(error) = $name::ahead().await {
                        leptos::logging::warn!("screen `{}` not fetched ahead: {error}", stringify!($name));
                    }
                )*
            }
        }
    };
}

in_main! {
    login => view! { <LoginPage /> };
}

split_off! {
    venues in venues => view! { <VenuesPage /> };
    inspect in inspect => view! { <InspectPage /> };
    venue_new in inspect => view! { <VenueNewPage /> };
    venue_edit in inspect => view! { <crate::app::ForReviewers><VenueEditPage /></crate::app::ForReviewers> };
    records in records => view! { <RecordsPage /> };
    record in records => view! { <RecordPage /> };
    print in records => view! { <PrintPage /> };
    me in me => view! { <MePage /> };
    hazards in review => view! { <HazardsPage /> };
    stats in review => view! { <crate::app::ForReviewers><StatsPage /></crate::app::ForReviewers> };
    campaigns in review => view! { <CampaignsPage /> };
    admin in review => view! { <crate::app::ForReviewers><AdminPage /></crate::app::ForReviewers> };
}

/// Fetches every screen's file and the sync run's in the background (nothing without `split`).
pub async fn preload_all() {
    #[cfg(feature = "split")]
    split::preload_all().await;
    crate::sync::preload_code().await;
}

/// A screen's split function, boxed: one `loaded` serves every screen (a generic one would be
/// copied into the main module once per screen). It gives the screen's maker.
#[cfg(feature = "split")]
type Load = fn() -> std::pin::Pin<
    Box<dyn Future<Output = Result<fn() -> AnyView, leptos::wasm_split::SplitLoaderError>>>,
>;

/// A split screen's place while its file arrives: empty at first (a file the phone has arrives at
/// once), a note after a moment that it is being fetched, then the screen, or what `loaded` says
/// when the file cannot be had. The view is made under the owner of the router's screen, so that
/// leaving the path disposes it; and leaving before the file arrives drops the wait, so that a
/// screen the officer left is never made (its reads, or a request for the phone's position over
/// another screen).
#[cfg(feature = "split")]
fn arriving(name: &'static str, load: Load) -> AnyView {
    let chrome = crate::chrome::use_chrome();
    let arrival = RwSignal::new(Arrival::Soon);
    let arrived = StoredValue::new_local(None::<AnyView>);
    leptos::task::spawn_local_scoped_with_cancellation(async move {
        let view = loaded(name, load, chrome).await;
        if arrived.try_set_value(Some(view)).is_none() {
            arrival.try_set(Arrival::Here);
        }
    });
    leptos::task::spawn_local_scoped_with_cancellation(async move {
        gloo_timers::future::TimeoutFuture::new(FETCHING_AFTER_MS).await;
        if arrival.try_get_untracked() == Some(Arrival::Soon) {
            arrival.try_set(Arrival::Slow);
        }
    });
    (move || match arrival.get() {
        Arrival::Soon => None,
        Arrival::Slow => Some(view! { <Fetching /> }.into_any()),
        Arrival::Here => arrived.try_update_value(Option::take).flatten(),
    })
    .into_any()
}

/// How long a screen's file may take before the officer is told it is being fetched: a file the
/// phone has arrives well within it, and a note flashed on every tap would be noise.
#[cfg(feature = "split")]
const FETCHING_AFTER_MS: u32 = 300;

/// Where a split screen's file stands.
#[cfg(feature = "split")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrival {
    Soon,
    Slow,
    Here,
}

/// A screen's view once its file and the shell's parts (`crate::chrome`: the tab bar, the badge)
/// have arrived, fetched side by side: a screen never shows without its tab bar. If either cannot be
/// fetched (no signal before the service worker had it) or takes too long, a notice that says so
/// and a button that fetches them afresh, in place: a failed fetch is not remembered. Without the
/// parts, the screen also tries again when the shell's own retries bring them.
#[cfg(feature = "split")]
async fn loaded(name: &'static str, load: Load, chrome: crate::chrome::Chrome) -> AnyView {
    // Either the view, or why there is none (the parts' own load logs theirs).
    let attempt = move || async move {
        let (screen, parts) = futures::join!(crate::patience::within(load()), chrome.load());
        match screen {
            Some(Ok(_)) if parts.is_none() => None,
            Some(Ok(make)) => Some(make()),
            Some(Err(error)) => {
                leptos::logging::error!("screen `{name}` did not load: {error}");
                None
            }
            None => {
                leptos::logging::warn!(
                    "screen `{name}` still loading after {} ms",
                    crate::patience::PATIENCE_MS
                );
                None
            }
        }
    };
    if let Some(view) = attempt().await {
        return view;
    }
    // What is shown now is the notice below: the page's copy of the venue list must not hide it.
    crate::boot_snapshot::take();
    // Retried in place: the view, once it arrives, is handed to the screen through `arrived`.
    let state = RwSignal::new(Retry::Failed);
    let arrived = StoredValue::new_local(None::<AnyView>);
    // The screen's view is made where the router would have made it: under the route's owner,
    // whose contexts (store, sync, language) its components read. Held weakly: the route owns
    // these values, and a strong hold from inside it would keep the route alive forever.
    let owner = StoredValue::new(Owner::current().map(|owner| owner.downgrade()));
    let retry = move || {
        state.set(Retry::Fetching);
        let fetch = async move {
            match attempt().await {
                Some(view) => {
                    arrived.set_value(Some(view));
                    state.set(Retry::Arrived);
                }
                None => state.set(Retry::Failed),
            }
        };
        // The officer has left the screen: nothing to make it for.
        if let Some(owner) = owner.get_value().and_then(|owner| owner.upgrade()) {
            owner.with(|| leptos::task::spawn_local_scoped_with_cancellation(fetch));
        } else {
            state.set(Retry::Failed);
        }
    };
    // The shell keeps asking for its parts in the background (`crate::chrome`): a screen that lacked
    // them tries again by itself once they are here, its own file with them (most often the same).
    if !chrome.is_here()
        && let Some(owner) = owner.get_value().and_then(|owner| owner.upgrade())
    {
        owner.with(|| {
            leptos::task::spawn_local_scoped_with_cancellation(async move {
                chrome.here().await;
                if state.try_get_untracked() == Some(Retry::Failed) {
                    retry();
                }
            });
        });
    }
    (move || match state.get() {
        Retry::Failed => view! { <LoadFailed retry /> }.into_any(),
        Retry::Fetching => view! { <Fetching /> }.into_any(),
        Retry::Arrived => arrived
            .try_update_value(Option::take)
            .flatten()
            .unwrap_or_else(|| view! { <Fetching /> }.into_any()),
    })
    .into_any()
}

/// Where a screen that did not load stands.
#[cfg(feature = "split")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    Failed,
    Fetching,
    Arrived,
}

/// Says that a screen's code is not on the phone, and offers to fetch it again (`retry`), or
/// to reload the app: a file an older build names may be gone from the server after a deploy, and
/// the reload brings the newest build. Reloading is offered only while the service worker controls
/// the page, so that a reload with no signal opens the app from its cache, never the browser's
/// offline error. (No form is open: the screen that failed replaced it, and a form saves itself
/// when it closes.)
#[cfg(feature = "split")]
#[component]
fn LoadFailed(retry: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    view! {
        <section class="page">
            <p class="banner banner-warn" role="alert" data-testid="screen-load-failed">
                {move || i18n.lang().pick(
                    "这个页面还没有下载到手机上，请在有信号时重试。已保存的记录不受影响。",
                    "This screen is not on the phone yet: try again with a signal. Saved records are safe.",
                )}
            </p>
            <div class="actions">
                <button type="button" class="button button-primary" on:click=move |_| retry()>
                    {move || i18n.lang().pick("重试", "Try again")}
                </button>
                {served_offline().then(|| view! {
                    <button type="button" class="button button-secondary" on:click=move |_| crate::app::reload()>
                        {move || i18n.t().reload}
                    </button>
                })}
            </div>
        </section>
    }
}

/// Whether the service worker controls this page, so that a reload opens from its cache offline.
#[cfg(feature = "split")]
fn served_offline() -> bool {
    let navigator = window().navigator();
    js_sys::Reflect::get(&navigator, &"serviceWorker".into())
        .ok()
        .filter(|container| !container.is_undefined())
        .and_then(|container| js_sys::Reflect::get(&container, &"controller".into()).ok())
        .is_some_and(|controller| controller.is_truthy())
}

/// Shown while a screen's file is fetched (after a moment, or on a retry).
#[cfg(feature = "split")]
#[component]
fn Fetching() -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    view! {
        <p class="empty" role="status">
            {move || i18n.lang().pick("正在下载这个页面…", "Fetching this screen…")}
        </p>
    }
}
