//! FieldCheck phone app: an offline-first inspection checklist for the cultural market law-enforcement brigade.
//!
//! Data flows one way: screen → core validation → IndexedDB (record + outbox entry in one transaction)
//! → sync engine → server. `store` is the only code that touches IndexedDB and `sync` the only code
//! that talks to the network; screens (`pages`) and `components` only wire signals to them.
//!
//! The app runs in the browser only: on other targets the crate is empty (its dependencies are
//! wasm32-only too), which keeps native workspace builds about the core and the server.
#![cfg(target_arch = "wasm32")]

pub mod app;
mod boot_form;
mod boot_snapshot;
pub mod chrome;
pub mod components;
pub mod download;
pub mod frame;
pub mod geo;
pub mod i18n;
pub mod media;
pub mod pages;
#[cfg(feature = "split")]
mod patience;
pub mod router;
pub mod screens;
pub mod store;
pub mod sync;
mod timing;

/// Mounts the app on `<body>`, a task after the wasm's start.
///
/// The app's start is cut into tasks, so that none holds the page long while an officer types into
/// its login form: the wasm's instantiation, then the first draw here, then opening the database
/// (`app::boot`), the shell, and the screen (`app::Layout`). On a first visit each function is
/// compiled as it first runs, which made the instantiation and the first draw one task of 8–31 ms
/// here (four times that on a phone), and Lighthouse's time to interactive counts any task over
/// 20 ms: 6 of 10 runs fell at 2.0 s before, 3 of 10 with the start cut (BENCHMARKS.md).
pub fn mount() {
    wasm_bindgen_futures::spawn_local(async {
        frame::next_task().await;
        leptos::mount::mount_to_body(app::App);
    });
}
