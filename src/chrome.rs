//! The shell's parts 登录 does without (sync badge, tab bar, 新版本可用), in the venue list's wasm file with `split`.
//!
//! A new phone's first screen is 登录, and everything the main module holds is downloaded before
//! it can be drawn. The badge (with its words for every state), the tab bar (with its icons) and the
//! banner of a new version are a large part of the logged-in shell, and none of them is needed to
//! draw 登录 or take the officer's typing. So with `split` they come in the file of 检查's venue list,
//! the screen every logged-in open shows first (a file of their own would share code with every
//! screen and the sync run, and the splitter would cut each of those into half as many files again:
//! measured, the login's code then took 16 s instead of 14 on slow 3G, past its patience). They are
//! asked for once someone is logged in and the first screen is painted, and awaited by every screen
//! but 登录 beside its own file, so that a screen never shows without its tab bar and badge, and the
//! page's copy of the venue list (`src/boot_snapshot.rs`) is kept and taken with the bars in place.
//! Without `split` (tests, `trunk serve`) the parts are there from the start.
//!
//! What must work when files are missing stays in the main module: the reload that keeps the open
//! form (`DraftKeeper`) and the banner offering it when the sync's code cannot be fetched.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;

use crate::components::{SyncBadge, TabBar, UpdateBanner};
use crate::router::use_location;
use crate::sync::SyncContext;

/// The parts, as plain functions: in a split build, code of the venue list's file reached through
/// the function table, so that the main module holds none of it.
#[derive(Clone, Copy)]
pub struct Parts {
    /// The sync badge, in the top bar.
    pub badge: fn() -> AnyView,
    /// The tab bar, on every screen but 登录.
    pub tab_bar: fn() -> AnyView,
    /// The banners over every screen: a new version waits; forms left that could not be kept.
    pub banners: fn() -> AnyView,
    /// Fetches every screen's file and the sync run's, one after another.
    pub preload_all: fn() -> Pin<Box<dyn Future<Output = ()>>>,
}

fn parts() -> Parts {
    Parts {
        badge: || view! { <SyncBadge /> }.into_any(),
        tab_bar: || view! { <TabBarOffLogin /> }.into_any(),
        banners: || view! { <UpdateBanner /> }.into_any(),
        preload_all: || Box::pin(crate::screens::preload_all()),
    }
}

/// The tab bar, but not on 登录 (nowhere to go before a login).
#[component]
fn TabBarOffLogin() -> impl IntoView {
    let location = use_location();
    view! {
        <Show when=move || location.pathname.get() != "/login">
            <TabBar />
        </Show>
    }
}

#[cfg(feature = "split")]
mod split {
    use leptos::wasm_split::{SplitLoaderError, wasm_split};

    #[wasm_split(venues, wasm_split_path = ::leptos::wasm_split, fallible)]
    pub(super) fn parts() -> Result<super::Parts, SplitLoaderError> {
        Ok(super::parts())
    }
}

/// Where the shell's parts stand: `None` until their file has arrived (never, without `split`).
#[derive(Clone, Copy)]
pub struct Chrome {
    parts: RwSignal<Option<Parts>>,
}

impl Chrome {
    /// The parts once here (reactive).
    pub fn get(&self) -> Option<Parts> {
        self.parts.get()
    }

    /// Whether the parts are here (not reactive).
    pub fn is_here(self) -> bool {
        self.parts.try_with_untracked(Option::is_some) == Some(true)
    }

    /// The parts, their file fetched first if need be (within the app's patience); `None` when it
    /// cannot be had now, which is logged: the next screen to open asks again, and shows a retry if
    /// it still cannot.
    pub async fn load(self) -> Option<Parts> {
        if let Some(parts) = self.parts.try_get_untracked().flatten() {
            return Some(parts);
        }
        #[cfg(feature = "split")]
        {
            let parts = match crate::patience::within(split::parts()).await {
                Some(Ok(parts)) => parts,
                Some(Err(error)) => {
                    leptos::logging::error!("the shell's parts did not load: {error}");
                    return None;
                }
                None => {
                    leptos::logging::warn!(
                        "the shell's parts still loading after {} ms",
                        crate::patience::PATIENCE_MS
                    );
                    return None;
                }
            };
            // Once: a second load that raced this one finds the parts set and leaves them.
            if self.parts.try_with_untracked(Option::is_none) == Some(true) {
                self.parts.try_set(Some(parts));
            }
            Some(parts)
        }
        // Without `split` the parts are there from the start.
        #[cfg(not(feature = "split"))]
        None
    }

    /// The parts, once here: waits for a load (the shell's own, or a screen's) to bring them.
    pub async fn here(self) -> Parts {
        loop {
            if let Some(parts) = self.parts.try_get_untracked().flatten() {
                return parts;
            }
            gloo_timers::future::TimeoutFuture::new(HERE_POLL_MS).await;
        }
    }
}

/// How often [`Chrome::here`] looks for the parts.
const HERE_POLL_MS: u32 = 500;

/// How long after the parts' file could not be fetched the shell asks again, doubling up to
/// [`RETRY_LAST_MS`].
#[cfg(feature = "split")]
const RETRY_FIRST_MS: u32 = 5_000;
#[cfg(feature = "split")]
const RETRY_LAST_MS: u32 = 5 * 60 * 1_000;
/// How long the shell waits for the first screen's paint before asking for the parts anyway.
#[cfg(feature = "split")]
const BACKGROUND_MS: u32 = 1_000;

/// Provides the parts' place; with `split` their file is asked for once someone is logged in and
/// the first screen is painted.
pub fn provide_chrome(sync: SyncContext) -> Chrome {
    #[cfg(feature = "split")]
    let chrome = {
        let chrome = Chrome {
            parts: RwSignal::new(None),
        };
        // With someone logged in (at the start, or from a login) every screen needs them; with
        // nobody, 登录 needs none of them. Asked for once: the loop tries until they are here.
        Effect::new(move |asked: Option<bool>| {
            if asked == Some(true) || sync.session().is_none() {
                return asked.unwrap_or(false);
            }
            leptos::task::spawn_local(async move {
                // After the first screen's paint; a page opened in the background paints nothing
                // until shown, and must not wait for that.
                let painted = std::pin::pin!(crate::frame::after_paint());
                let background = gloo_timers::future::TimeoutFuture::new(BACKGROUND_MS);
                futures::future::select(painted, background).await;
                // Tried again and again, more slowly; a screen that opens meanwhile asks at once.
                let mut wait_ms = RETRY_FIRST_MS;
                while chrome.load().await.is_none() {
                    gloo_timers::future::TimeoutFuture::new(wait_ms).await;
                    wait_ms = wait_ms.saturating_mul(2).min(RETRY_LAST_MS);
                }
            });
            true
        });
        chrome
    };
    #[cfg(not(feature = "split"))]
    let chrome = {
        let _ = sync;
        Chrome {
            parts: RwSignal::new(Some(parts())),
        }
    };
    provide_context(chrome);
    chrome
}

/// The parts' place the shell provides.
pub fn use_chrome() -> Chrome {
    expect_context::<Chrome>()
}
