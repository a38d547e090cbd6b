//! Browser tests of the app's router: links followed in place, values read from the path and the query, back and forward, the browser's own links left alone.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use fieldcheck::router::{
    Route, current_screen, provide_router, use_navigate, use_params_map, use_query_map,
};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

static ROUTES: [Route; 3] = [
    ("/", home),
    ("/things/:id", thing),
    ("/things/:id/print", printout),
];

fn home() -> AnyView {
    view! {
        <p id="screen">"home"</p>
        <a id="thing" href="/things/a%20b?q=%E5%BC%A0+%E4%B8%89&flag">"a thing"</a>
        <a id="other-site" href="https://example.invalid/things/1">"elsewhere"</a>
        <a id="new-tab" href="/things/1" target="_blank">"new tab"</a>
        <a id="download" href="/things/1" download="thing.txt">"download"</a>
        <a id="external" href="/things/1" rel="noopener external">"external"</a>
    }
    .into_any()
}

fn thing() -> AnyView {
    let params = use_params_map();
    let query = use_query_map();
    let navigate = use_navigate();
    view! {
        <p id="screen">
            {move || format!(
                "thing {:?} {:?} {:?}",
                params.with(|params| params.get("id")),
                query.with(|query| query.get("q")),
                query.with(|query| query.get("flag")),
            )}
        </p>
        <a id="print" href="/things/7/print">"print"</a>
        <a id="other-thing" href="/things/b">"another thing"</a>
        <button id="home-in-place" on:click=move |_| navigate.replace("/")>"home"</button>
    }
    .into_any()
}

fn printout() -> AnyView {
    let params = use_params_map();
    view! { <p id="screen">{move || format!("print {:?}", params.with(|params| params.get("id")))}</p> }
        .into_any()
}

fn not_found() -> AnyView {
    view! { <p id="screen">"not found"</p> }.into_any()
}

fn element(id: &str) -> web_sys::HtmlElement {
    document()
        .get_element_by_id(id)
        .unwrap_or_else(|| panic!("no #{id} on the screen"))
        .unchecked_into()
}

fn screen_text() -> String {
    document()
        .get_element_by_id("screen")
        .and_then(|screen| screen.text_content())
        .unwrap_or_default()
}

fn history_length() -> u32 {
    window()
        .history()
        .expect("history")
        .length()
        .expect("length")
}

/// Waits for the screen to read `expected` (the router redraws in a later task, back and forward
/// arrive as events); fails with what it shows if it never does.
async fn screen_reads(expected: &str) {
    for _ in 0..1000 {
        if screen_text() == expected {
            return;
        }
        gloo_timers::future::TimeoutFuture::new(5).await;
    }
    assert_eq!(screen_text(), expected);
}

/// Goes one entry back in the browser's history, and waits for the browser to have gone (the
/// traversal ends in a `popstate` a task or more later).
async fn go_back() {
    let arrived = Rc::new(std::cell::Cell::new(false));
    let listener = {
        let arrived = arrived.clone();
        window_event_listener(leptos::ev::popstate, move |_| arrived.set(true))
    };
    window().history().expect("history").back().expect("back");
    for _ in 0..1000 {
        if arrived.get() {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(5).await;
    }
    listener.remove();
    assert!(arrived.get(), "the browser went back");
}

/// Moves the browser's address to `address` as back or forward would: the entry, then `popstate`.
fn arrive_by_history(address: &str) {
    window()
        .history()
        .expect("history")
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(address))
        .expect("address");
    window()
        .dispatch_event(&web_sys::Event::new("popstate").expect("event"))
        .expect("dispatched");
}

/// Mounts the router's screen (drawn once `due`) in an element of its own, at `path`; the function
/// returned takes it away and puts the runner's own address back.
fn mount_at(path: &str, due: RwSignal<bool>) -> impl FnOnce() {
    let history = window().history().expect("history");
    let runner_address = window().location().href().expect("href");
    history
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .expect("start at the path");
    let mount = document().create_element("div").expect("div");
    document()
        .body()
        .expect("body")
        .append_child(&mount)
        .expect("mounted");
    let app = leptos::mount::mount_to(mount.clone().unchecked_into(), move || {
        provide_router(&ROUTES, not_found);
        current_screen(due)
    });
    move || {
        drop(app);
        mount.remove();
        history
            .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&runner_address))
            .expect("the runner's address back");
    }
}

#[wasm_bindgen_test]
async fn links_inside_the_app_open_their_screen_in_place_and_back_returns() {
    let leave = mount_at("/", RwSignal::new(true));
    screen_reads("home").await;

    // After the router's own listener (registered at mount), one of the test's: it sees whether the
    // router took the click, and keeps the page from leaving when it did not.
    let taken = Rc::new(RefCell::new(Vec::new()));
    let record = {
        let taken = taken.clone();
        window_event_listener(leptos::ev::click, move |event| {
            taken.borrow_mut().push(event.default_prevented());
            event.prevent_default();
        })
    };

    for id in ["other-site", "new-tab", "download", "external"] {
        element(id).click();
        assert_eq!(
            taken.borrow_mut().pop(),
            Some(false),
            "#{id} is the browser's to follow"
        );
    }
    screen_reads("home").await;

    let entries = history_length();
    element("thing").click();
    assert_eq!(taken.borrow_mut().pop(), Some(true), "an app link is taken");
    screen_reads(r#"thing Some("a b") Some("张 三") Some("")"#).await;
    assert_eq!(
        window().location().pathname().expect("path"),
        "/things/a%20b"
    );
    assert_eq!(history_length(), entries + 1, "a new history entry");

    element("print").click();
    screen_reads(r#"print Some("7")"#).await;
    go_back().await;
    screen_reads(r#"thing Some("a b") Some("张 三") Some("")"#).await;

    // The same route with another value in its path: the screen is made again for it.
    element("other-thing").click();
    screen_reads(r#"thing Some("b") None None"#).await;
    go_back().await;
    screen_reads(r#"thing Some("a b") Some("张 三") Some("")"#).await;

    element("home-in-place").click();
    screen_reads("home").await;
    assert_eq!(history_length(), entries + 2, "replaced, not added");
    go_back().await;
    screen_reads("home").await;

    // Addresses no route has, or with a value left empty, open the not-found screen.
    for address in ["/nothing/here", "/things/", "/things/7/print/more"] {
        arrive_by_history(address);
        screen_reads("not found").await;
        arrive_by_history("/");
        screen_reads("home").await;
    }

    record.remove();
    leave();
}

/// The app draws its first screen a task after the shell around it (src/app.rs): until the screen
/// is due there is nothing of it, and once due it is the path's screen, made once.
#[wasm_bindgen_test]
async fn a_screen_is_drawn_only_once_it_is_due() {
    let due = RwSignal::new(false);
    let leave = mount_at("/things/7/print", due);
    // A few tasks on, still nothing: only `due` brings the screen.
    for _ in 0..3 {
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    assert!(document().get_element_by_id("screen").is_none());
    due.set(true);
    screen_reads("print Some(\"7\")").await;
    let drawn = document().get_element_by_id("screen").expect("the screen");
    // Nothing the screen depends on changed: the same element stays.
    gloo_timers::future::TimeoutFuture::new(0).await;
    assert!(
        document()
            .get_element_by_id("screen")
            .is_some_and(|now| now == drawn)
    );
    leave();
}
