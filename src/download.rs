//! Handing a file or text to the person: a download saved by the browser, or the clipboard.

use wasm_bindgen::{JsCast, JsValue};

use crate::store::Store;

/// Why the unsynced work did not reach a file.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveFailed {
    /// A split build fetches the export's code the first time it is used, and it did not arrive
    /// (no signal before the service worker had it), or not in time: nothing was read or written.
    NotOnPhone,
    /// Reading the work or handing the file to the browser failed; the message says which.
    Failed(String),
}

/// Saves everything not yet on the server to a file the browser keeps ([`export_filename`]), the
/// last resort when a phone cannot reach the server; returns the export's fingerprint, which a
/// take-over checks before it drops the exported work. In a split build the code that reads and
/// encodes the records and photos is in the sync run's file (`split_sync`, fetched at the first run
/// of every session anyway): an export is rare, and none of it is needed to draw the first screen.
/// A file of its own would cost the phone more files in all: the splitter makes one for each set of
/// screens that share code.
pub async fn save_unsynced(store: Store) -> Result<String, SaveFailed> {
    #[cfg(feature = "split")]
    {
        let save = crate::patience::within(split::save(store))
            .await
            .ok_or(SaveFailed::NotOnPhone)?
            .map_err(|_| SaveFailed::NotOnPhone)?;
        save.await
    }
    #[cfg(not(feature = "split"))]
    save_now(store).await
}

async fn save_now(store: Store) -> Result<String, SaveFailed> {
    let export = store
        .export_unsynced()
        .await
        .map_err(|error| SaveFailed::Failed(error.to_string()))?;
    download_json(&export_filename(), &export.text).map_err(SaveFailed::Failed)?;
    Ok(export.fingerprint)
}

#[cfg(feature = "split")]
mod split {
    use std::pin::Pin;

    use leptos::wasm_split::{SplitLoaderError, wasm_split};

    use super::SaveFailed;
    use crate::store::Store;

    /// A save under way, boxed: a split function cannot be `async`.
    pub(super) type Save = Pin<Box<dyn Future<Output = Result<String, SaveFailed>>>>;

    #[wasm_split(sync, wasm_split_path = ::leptos::wasm_split, fallible)]
    pub(super) fn save(store: Store) -> Result<Save, SplitLoaderError> {
        Ok(Box::pin(super::save_now(store)))
    }
}

/// Offers `text` as a download named `filename` (JSON, UTF-8). Nothing leaves the phone: the browser
/// saves it locally, from where it can be shared or copied.
pub fn download_json(filename: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|error| format!("{error:?}"))?;
    download_blob(filename, &blob)
}

/// Offers a file (an export the server made) as a download named `filename`.
pub fn download_blob(filename: &str, blob: &web_sys::Blob) -> Result<(), String> {
    let js_error = |error: JsValue| format!("{error:?}");
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(js_error)?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "not an anchor".to_owned())?;
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    // The browser reads the blob after the click returns; the URL goes only once it surely has.
    gloo_timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// Puts `text` on the clipboard (for pasting the report paragraph into a document).
pub async fn copy_text(text: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|error| format!("{error:?}"))
}

/// A file name that sorts by time and says what it holds: `fieldcheck-unsynced-20261201-1905.json`.
pub fn export_filename() -> String {
    use chrono::{Datelike, Timelike};
    let now = crate::i18n::now_china();
    format!(
        "fieldcheck-unsynced-{:04}{:02}{:02}-{:02}{:02}.json",
        now.year(),
        now.month(),
        now.day(),
        now.hour(),
        now.minute()
    )
}
