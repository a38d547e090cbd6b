//! The router's screens: with the `split` feature each arrives in a wasm file of its own the first time it opens.
//!
//! A phone on a village signal should download the code of the screen it opens first, not of all
//! thirteen. Built with `split` (the release build, see `Trunk.toml`), every screen's view is a
//! `wasm_split` function: the build tool cuts its code out of the main module into `split_<name>.wasm`
//! (see `xtask/src/split.rs`), fetched the first time the screen opens and then kept by the service
//! worker like every other file. Without the feature (tests, `trunk serve`) the same screens are plain
//! functions in one module. A screen whose file cannot be fetched shows a retry, never a dead app.

use leptos::prelude::*;
use leptos_router::ChooseView;

use crate::pages::{
    AdminPage, CampaignsPage, HazardsPage, InspectPage, LoginPage, MePage, PrintPage, RecordPage,
    RecordsPage, StatsPage, VenueEditPage, VenueNewPage, VenuesPage,
};

/// The screen in the main module: 登录, what a new phone opens first, so that an officer's first
/// contact with the app waits for one download only.
macro_rules! in_main {
    ($( $name:ident => $view:expr; )*) => {
        $(
            pub fn $name() -> impl ChooseView {
                || $view
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
            pub fn $name() -> impl ChooseView {
                leptos_router::Lazy::<split::$name::Screen>::new()
            }

            #[cfg(not(feature = "split"))]
            pub fn $name() -> impl ChooseView {
                || $view
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
                    use leptos_router::LazyRoute;

                    #[allow(clippy::wildcard_imports)]
                    use super::super::*;

                    #[wasm_split($file, wasm_split_path = ::leptos::wasm_split, fallible, preload(ahead))]
                    pub(super) fn $name() -> Result<AnyView, SplitLoaderError> {
                        Ok($view.into_any())
                    }

                    pub struct Screen;

                    impl LazyRoute for Screen {
                        fn data() -> Self {
                            Screen
                        }

                        async fn view(_this: Self) -> AnyView {
                            super::super::loaded(stringify!($name), $name).await
                        }
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
    venue_edit in inspect => view! { <VenueEditPage /> };
    records in records => view! { <RecordsPage /> };
    record in records => view! { <RecordPage /> };
    print in records => view! { <PrintPage /> };
    me in me => view! { <MePage /> };
    hazards in review => view! { <HazardsPage /> };
    stats in review => view! { <crate::app::ForReviewers><StatsPage /></crate::app::ForReviewers> };
    campaigns in review => view! { <CampaignsPage /> };
    admin in review => view! { <crate::app::ForReviewers><AdminPage /></crate::app::ForReviewers> };
}

/// Fetches every screen's file in the background (nothing without `split`).
pub async fn preload_all() {
    #[cfg(feature = "split")]
    split::preload_all().await;
}

/// A screen's view once its file has arrived; if it cannot be fetched (no signal before the service
/// worker had it), a notice that says so and a button that fetches it afresh, in place: a failed
/// fetch is not remembered, and reloading the page offline could lose more than the screen.
#[cfg(feature = "split")]
async fn loaded<F, Fut>(name: &'static str, load: F) -> AnyView
where
    F: Fn() -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<AnyView, leptos::wasm_split::SplitLoaderError>> + 'static,
{
    match load().await {
        Ok(view) => view,
        Err(error) => {
            leptos::logging::error!("screen `{name}` did not load: {error}");
            let tries = RwSignal::new(0_u32);
            (move || {
                if tries.get() == 0 {
                    return view! { <LoadFailed tries /> }.into_any();
                }
                Suspend::new(send_wrapper::SendWrapper::new(async move {
                    match load().await {
                        Ok(view) => view,
                        Err(error) => {
                            leptos::logging::error!("screen `{name}` did not load: {error}");
                            view! { <LoadFailed tries /> }.into_any()
                        }
                    }
                }))
                .into_any()
            })
            .into_any()
        }
    }
}

/// Says that a screen's code is not on the phone, and offers to fetch it again (`tries` counts).
#[cfg(feature = "split")]
#[component]
fn LoadFailed(tries: RwSignal<u32>) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    view! {
        <section class="page">
            <p class="banner banner-warn" role="alert" data-testid="screen-load-failed">
                {move || i18n.lang().pick(
                    "这个页面还没有下载到手机上，请在有信号时重试。已保存的记录不受影响。",
                    "This screen is not on the phone yet: try again with a signal. Saved records are safe.",
                )}
            </p>
            <button class="button button-primary" on:click=move |_| tries.update(|n| *n += 1)>
                {move || i18n.lang().pick("重试", "Try again")}
            </button>
        </section>
    }
}
