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

/// Mounts the app on `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(app::App);
}
