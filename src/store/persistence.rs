//! Asking the browser to keep the phone's data (`navigator.storage`), and how much of it there is.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// How much the origin stores, in bytes, as the browser estimates it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StorageEstimate {
    pub usage: f64,
    pub quota: f64,
}

fn storage_manager() -> Option<web_sys::StorageManager> {
    let navigator = web_sys::window()?.navigator();
    // `navigator.storage` is missing on insecure origins and old browsers.
    let storage = js_sys::Reflect::get(&navigator, &JsValue::from_str("storage")).ok()?;
    storage.dyn_into::<web_sys::StorageManager>().ok()
}

/// `navigator.storage.persist()`: `Some(true)` if granted, `Some(false)` if refused, `None` if the
/// browser cannot be asked.
pub async fn request_persistence() -> Option<bool> {
    let promise = storage_manager()?.persist().ok()?;
    JsFuture::from(promise).await.ok()?.as_bool()
}

/// `navigator.storage.persisted()`, with the same meaning as [`request_persistence`].
pub async fn is_persisted() -> Option<bool> {
    let promise = storage_manager()?.persisted().ok()?;
    JsFuture::from(promise).await.ok()?.as_bool()
}

/// `navigator.storage.estimate()`, if the browser offers it.
pub async fn storage_estimate() -> Option<StorageEstimate> {
    let promise = storage_manager()?.estimate().ok()?;
    let estimate = JsFuture::from(promise).await.ok()?;
    let number = |name: &str| {
        js_sys::Reflect::get(&estimate, &JsValue::from_str(name))
            .ok()
            .and_then(|value| value.as_f64())
    };
    Some(StorageEstimate {
        usage: number("usage")?,
        quota: number("quota")?,
    })
}
