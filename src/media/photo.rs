//! A picked image file made into the stored photo: oriented by its EXIF tag, the long side brought
//! down to [`LONG_SIDE`], stamped with a visible watermark, encoded as JPEG and named by its SHA-256.

use fieldcheck_core::photo_name;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, ImageBitmap, ImageBitmapOptions, ImageEncodeOptions, ImageOrientation, OffscreenCanvas,
    OffscreenCanvasRenderingContext2d,
};

use crate::media::blob_bytes;

/// The long side of a stored photo, in pixels: readable detail (a licence, a fire-exit sign) at a
/// few hundred KB, where a phone camera's 4000 px original takes several MB.
pub const LONG_SIDE: u32 = 1600;
/// JPEG quality: text in the picture stays legible.
const JPEG_QUALITY: f64 = 0.85;

/// Why a picked file could not be made into a photo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("the file is not a picture this browser can read: {0}")]
    NotAnImage(String),
    #[error("the browser could not draw the picture: {0}")]
    Canvas(String),
    #[error("the picture's bytes could not be read: {0}")]
    Read(String),
}

/// A photo or signature ready to keep: the encoded bytes, the same bytes as a Blob, and its name.
#[derive(Debug, Clone)]
pub struct Processed {
    /// SHA-256 of `bytes`, lowercase hex.
    pub name: String,
    pub bytes: Vec<u8>,
    pub blob: Blob,
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
}

/// The size a `width` × `height` picture is drawn at so that its long side is at most `long_side`
/// (never enlarged, never below 1 px).
pub fn fit_within(width: u32, height: u32, long_side: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= long_side || longest == 0 {
        return (width.max(1), height.max(1));
    }
    let scale = f64::from(long_side) / f64::from(longest);
    let side = |length: u32| {
        // In range by construction: scale < 1 and length ≤ u32::MAX.
        let scaled = (f64::from(length) * scale).round().max(1.0);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let scaled = scaled as u32;
        scaled
    };
    (side(width), side(height))
}

/// Makes the stored photo from a picked file; `stamp` is the watermark, one line per entry (time,
/// venue, officer, position).
pub async fn process_photo(file: &Blob, stamp: &[String]) -> Result<Processed, MediaError> {
    let window = web_sys::window().ok_or_else(|| MediaError::Canvas("no window".to_owned()))?;
    let options = ImageBitmapOptions::new();
    // Phones store portrait photos as landscape pixels plus an EXIF rotation: apply it.
    options.set_image_orientation(ImageOrientation::FromImage);
    let decoding = window
        .create_image_bitmap_with_blob_and_image_bitmap_options(file, &options)
        .map_err(|error| MediaError::NotAnImage(js_message(&error)))?;
    let bitmap: ImageBitmap = JsFuture::from(decoding)
        .await
        .map_err(|error| MediaError::NotAnImage(js_message(&error)))?
        .dyn_into()
        .map_err(|_| MediaError::NotAnImage("not a bitmap".to_owned()))?;
    let (width, height) = fit_within(bitmap.width(), bitmap.height(), LONG_SIDE);
    let canvas = OffscreenCanvas::new(width, height).map_err(canvas_error)?;
    let context: OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(canvas_error)?
        .ok_or_else(|| MediaError::Canvas("no 2d context".to_owned()))?
        .dyn_into()
        .map_err(|_| MediaError::Canvas("not a 2d context".to_owned()))?;
    context.set_image_smoothing_enabled(true);
    context
        .draw_image_with_image_bitmap_and_dw_and_dh(
            &bitmap,
            0.0,
            0.0,
            f64::from(width),
            f64::from(height),
        )
        .map_err(canvas_error)?;
    bitmap.close();
    watermark(&context, width, height, stamp)?;
    let encoding = ImageEncodeOptions::new();
    encoding.set_type("image/jpeg");
    encoding.set_quality(JPEG_QUALITY);
    let blob: Blob = JsFuture::from(
        canvas
            .convert_to_blob_with_options(&encoding)
            .map_err(canvas_error)?,
    )
    .await
    .map_err(canvas_error)?
    .dyn_into()
    .map_err(|_| MediaError::Canvas("the encoder gave no Blob".to_owned()))?;
    let bytes = blob_bytes(&blob).await?;
    Ok(Processed {
        name: photo_name(&bytes),
        bytes,
        blob,
        width,
        height,
        content_type: "image/jpeg",
    })
}

/// Draws the stamp in white on a dark band along the bottom edge, sized to the picture.
fn watermark(
    context: &OffscreenCanvasRenderingContext2d,
    width: u32,
    height: u32,
    lines: &[String],
) -> Result<(), MediaError> {
    if lines.is_empty() {
        return Ok(());
    }
    let font_px = (f64::from(width) / 40.0).clamp(12.0, 40.0);
    let line_height = font_px * 1.35;
    let padding = font_px * 0.6;
    let line_count = f64::from(u32::try_from(lines.len()).unwrap_or(u32::MAX));
    let band = line_height * line_count + padding * 2.0;
    let top = (f64::from(height) - band).max(0.0);
    context.set_fill_style_str("rgba(0, 0, 0, 0.55)");
    context.fill_rect(0.0, top, f64::from(width), band);
    context.set_fill_style_str("#ffffff");
    context.set_font(&format!(
        "{font_px:.0}px \"Noto Sans CJK SC\", \"PingFang SC\", \"Microsoft YaHei\", sans-serif"
    ));
    context.set_text_baseline("top");
    let mut y = top + padding;
    for line in lines {
        context
            .fill_text_with_max_width(line, padding, y, f64::from(width) - padding * 2.0)
            .map_err(canvas_error)?;
        y += line_height;
    }
    Ok(())
}

fn canvas_error(error: JsValue) -> MediaError {
    MediaError::Canvas(js_message(&error))
}

/// The message of a thrown JS value.
pub(crate) fn js_message(error: &JsValue) -> String {
    error.as_string().unwrap_or_else(|| {
        js_sys::Reflect::get(error, &JsValue::from_str("message"))
            .ok()
            .and_then(|message| message.as_string())
            .unwrap_or_else(|| format!("{error:?}"))
    })
}
