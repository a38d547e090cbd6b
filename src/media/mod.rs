//! Photos and signatures as the browser makes them: decoding, orienting, downscaling, stamping and
//! encoding on a canvas, and hashing the bytes. No storage and no network here.

mod photo;
mod signature;

pub use photo::{LONG_SIDE, MediaError, Processed, fit_within, process_photo};
pub use signature::{export_png, ink_canvas};

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The bytes of a Blob.
pub async fn blob_bytes(blob: &web_sys::Blob) -> Result<Vec<u8>, MediaError> {
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|error| MediaError::Read(crate::media::photo::js_message(&error)))?;
    let buffer: js_sys::ArrayBuffer = buffer
        .dyn_into()
        .map_err(|_| MediaError::Read("not an ArrayBuffer".to_owned()))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
