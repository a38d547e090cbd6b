//! The app's own router: the address as signals, taps on the app's links followed without a reload, and each path's screen.
//!
//! The app has thirteen flat paths and no nested routes, transitions or server rendering. A general
//! router's matching, nesting and route views were about 13 KiB gzip of the main module, which a
//! phone downloads and compiles at every start; this one is a table and a few listeners. A screen
//! whose code is in a file of its own makes its own placeholder while the file arrives
//! (`src/screens.rs`), so the router only ever makes a view.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

/// Makes a screen's view: called when its path opens, under an owner the next path disposes.
pub type View = fn() -> AnyView;

/// A path pattern (`/records/:id`, each `:name` one segment) and the screen it opens.
pub type Route = (&'static str, View);

/// Where the app is: the address's path and its query without the `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Address {
    path: String,
    query: String,
}

impl Address {
    /// The browser's address now.
    fn current() -> Self {
        let location = window().location();
        Address {
            path: location.pathname().unwrap_or_else(|_| "/".to_owned()),
            query: location
                .search()
                .unwrap_or_default()
                .trim_start_matches('?')
                .to_owned(),
        }
    }

    /// An address inside the app, written as a link writes it (`/records?saved=1`).
    fn parse(to: &str) -> Self {
        let to = to.split_once('#').map_or(to, |(before, _)| before);
        let (path, query) = to.split_once('?').unwrap_or((to, ""));
        Address {
            path: path.to_owned(),
            query: query.to_owned(),
        }
    }
}

/// The values a path names (`id` in `/records/:id`) or a query carries (`?status=submitted`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The value under `key`, decoded; the first of several.
    pub fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
    }

    fn of_query(query: &str) -> Self {
        Params(
            query
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decoded(name), decoded(value))
                })
                .collect(),
        )
    }
}

/// A part of an address with its `%xx` escapes (and a query's `+` for a space) decoded; kept as
/// written when it is not valid escaping, so that an odd link opens the not-found screen, not a panic.
fn decoded(part: &str) -> String {
    let part = part.replace('+', " ");
    js_sys::decode_uri_component(&part).map_or(part, String::from)
}

/// The pattern's values when `path` matches it.
fn matched(pattern: &str, path: &str) -> Option<Params> {
    let mut values = Vec::new();
    let mut patterns = pattern.split('/');
    let mut segments = path.split('/');
    loop {
        match (patterns.next(), segments.next()) {
            (None, None) => return Some(Params(values)),
            (Some(pattern), Some(segment)) => match pattern.strip_prefix(':') {
                Some(_) if segment.is_empty() => return None,
                Some(name) => values.push((name.to_owned(), decoded(segment))),
                None if pattern == segment => {}
                None => return None,
            },
            _ => return None,
        }
    }
}

/// The router's state, shared through the context.
#[derive(Clone, Copy)]
struct Router {
    address: RwSignal<Address>,
    /// The matched route's index in the table (`None`: no route, the not-found screen) and its values.
    route: Memo<(Option<usize>, Params)>,
    routes: &'static [Route],
    not_found: View,
}

/// Starts the router over `routes` (the first that matches opens; `not_found` when none does):
/// follows the browser's back and forward, and takes taps on the app's own links.
pub fn provide_router(routes: &'static [Route], not_found: View) {
    let address = RwSignal::new(Address::current());
    let route = Memo::new(move |_| {
        address.with(|address| {
            routes
                .iter()
                .enumerate()
                .find_map(|(index, (pattern, _))| {
                    matched(pattern, &address.path).map(|values| (Some(index), values))
                })
                .unwrap_or_default()
        })
    });
    let router = Router {
        address,
        route,
        routes,
        not_found,
    };
    provide_context(router);
    let back_or_forward = window_event_listener(leptos::ev::popstate, move |_| {
        address.set(Address::current());
    });
    let tap = window_event_listener(leptos::ev::click, move |event| {
        if let Some(to) = link_to_follow(&event) {
            event.prevent_default();
            router.go(&to, false);
        }
    });
    on_cleanup(move || {
        back_or_forward.remove();
        tap.remove();
    });
}

/// Where a click should take the app without a reload: a plain left click on a link to a path of
/// this app (the browser keeps new tabs, downloads, other sites and `rel="external"`).
fn link_to_follow(event: &web_sys::MouseEvent) -> Option<String> {
    if event.default_prevented()
        || event.button() != 0
        || event.meta_key()
        || event.alt_key()
        || event.ctrl_key()
        || event.shift_key()
    {
        return None;
    }
    let path = event.composed_path();
    let link = (0..path.length()).find_map(|index| {
        path.get(index)
            .dyn_into::<web_sys::HtmlAnchorElement>()
            .ok()
    })?;
    let external = link
        .get_attribute("rel")
        .is_some_and(|rel| rel.split_ascii_whitespace().any(|part| part == "external"));
    if !link.target().is_empty()
        || link.has_attribute("download")
        || external
        || !link.has_attribute("href")
    {
        return None;
    }
    let url = web_sys::Url::new(&link.href()).ok()?;
    let here = window().location().origin().ok()?;
    // A `blob:` or `data:` address can carry this page's origin too: it is never one of the app's paths.
    let web = matches!(url.protocol().as_str(), "http:" | "https:");
    (web && url.origin() == here).then(|| format!("{}{}", url.pathname(), url.search()))
}

impl Router {
    /// Moves the app to `to` (a path inside the app), adding a history entry unless `replace`.
    fn go(self, to: &str, replace: bool) {
        let next = Address::parse(to);
        let same = self.address.with_untracked(|address| *address == next);
        let history = window().history();
        let written = history.and_then(|history| {
            if replace || same {
                history.replace_state_with_url(&JsValue::NULL, "", Some(to))
            } else {
                history.push_state_with_url(&JsValue::NULL, "", Some(to))
            }
        });
        if let Err(error) = written {
            // The address bar could not follow: a full load still gets the officer there.
            leptos::logging::error!("cannot move to {to}: {error:?}");
            let _ = window().location().set_href(to);
            return;
        }
        self.address.set(next);
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }
}

fn use_router() -> Router {
    expect_context::<Router>()
}

/// The screen of the current path: made again when the path (or a value in it) changes, not when
/// only the query does (a screen reads its query through [`use_query_map`]). Nothing until `due`.
pub fn current_screen(due: RwSignal<bool>) -> impl IntoView {
    let router = use_router();
    // `route` is a memo of the index and the values together: it changes only when one of them does.
    move || {
        if !due.get() {
            return ().into_any();
        }
        let view = router
            .route
            .with(|(index, _)| *index)
            .and_then(|index| router.routes.get(index))
            .map_or(router.not_found, |(_, view)| *view);
        view()
    }
}

/// The current address's path, as a signal.
#[derive(Clone, Copy)]
pub struct Location {
    pub pathname: Memo<String>,
}

pub fn use_location() -> Location {
    let router = use_router();
    Location {
        pathname: Memo::new(move |_| router.address.with(|address| address.path.clone())),
    }
}

/// The values the screen's path names (`id` in `/records/:id`): fixed for the screen's life, since
/// a change of them makes the screen again.
pub fn use_params_map() -> Signal<Params> {
    let router = use_router();
    Signal::stored(router.route.with_untracked(|(_, values)| values.clone()))
}

/// The address's query values while the screen is the one shown: a screen being left keeps the
/// last of its own, so that nothing in it runs again for the next screen's address.
pub fn use_query_map() -> Memo<Params> {
    let router = use_router();
    let screen = router.route.with_untracked(|(index, _)| *index);
    Memo::new(move |previous: Option<&Params>| {
        let shown = router.route.with(|(index, _)| *index) == screen;
        match previous {
            Some(previous) if !shown => previous.clone(),
            _ => router
                .address
                .with(|address| Params::of_query(&address.query)),
        }
    })
}

/// Moves the app to another of its paths, as a tap on a link would.
#[derive(Clone, Copy)]
pub struct Navigate(Router);

impl Navigate {
    /// Opens `to`, with a new history entry (back returns here).
    pub fn to(self, to: &str) {
        self.0.go(to, false);
    }

    /// Opens `to` in this history entry's place (back skips where the app was).
    pub fn replace(self, to: &str) {
        self.0.go(to, true);
    }
}

pub fn use_navigate() -> Navigate {
    Navigate(use_router())
}
