//! A signature drawn with a finger: ink on the pad's canvas, exported as PNG and named by its hash.

use fieldcheck_core::photo_name;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, CanvasRenderingContext2d, HtmlCanvasElement};

use crate::media::photo::js_message;
use crate::media::{MediaError, Processed, blob_bytes};

/// Sizes the canvas' pixels to its box (times the screen's density) and sets a pen: call when the pad
/// appears. Returns the context to draw with.
pub fn ink_canvas(canvas: &HtmlCanvasElement) -> Result<CanvasRenderingContext2d, MediaError> {
    let ratio = web_sys::window().map_or(1.0, |window| window.device_pixel_ratio().max(1.0));
    let to_px = |css: i32| {
        let px = (f64::from(css.max(1)) * ratio).round();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let px = px as u32;
        px
    };
    canvas.set_width(to_px(canvas.client_width()));
    canvas.set_height(to_px(canvas.client_height()));
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(|error| MediaError::Canvas(js_message(&error)))?
        .ok_or_else(|| MediaError::Canvas("no 2d context".to_owned()))?
        .dyn_into()
        .map_err(|_| MediaError::Canvas("not a 2d context".to_owned()))?;
    context.scale(ratio, ratio).ok();
    // White paper, so the signature prints and shows the same on any background.
    context.set_fill_style_str("#ffffff");
    context.fill_rect(
        0.0,
        0.0,
        f64::from(canvas.width()),
        f64::from(canvas.height()),
    );
    context.set_stroke_style_str("#111111");
    context.set_line_width(2.5);
    context.set_line_cap("round");
    context.set_line_join("round");
    Ok(context)
}

/// The pad's drawing as PNG, named by its SHA-256.
pub async fn export_png(canvas: &HtmlCanvasElement) -> Result<Processed, MediaError> {
    let canvas_for_promise = canvas.clone();
    let promise =
        js_sys::Promise::new(&mut |resolve: js_sys::Function, reject: js_sys::Function| {
            let callback = Closure::once_into_js(move |blob: JsValue| {
                let _ = resolve.call1(&JsValue::NULL, &blob);
            });
            if let Err(error) =
                canvas_for_promise.to_blob_with_type(callback.unchecked_ref(), "image/png")
            {
                let _ = reject.call1(&JsValue::NULL, &error);
            }
        });
    let blob: Blob = JsFuture::from(promise)
        .await
        .map_err(|error| MediaError::Canvas(js_message(&error)))?
        .dyn_into()
        .map_err(|_| MediaError::Canvas("the pad gave no picture".to_owned()))?;
    let bytes = blob_bytes(&blob).await?;
    Ok(Processed {
        name: photo_name(&bytes),
        bytes,
        blob,
        width: canvas.width(),
        height: canvas.height(),
        content_type: "image/png",
    })
}
