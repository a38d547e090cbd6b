//! Turns Rust values into plain JS objects for IndexedDB and back, through JSON.
//!
//! JSON (not serde-wasm-bindgen) keeps the stored objects exactly the wire shape, so index key paths
//! such as `record.status` find what the server sends, and reuses the serde_json code the app already
//! carries for the network instead of a second serializer per type. Reading goes value by value, so one
//! corrupt value gives a [`StoreError::Corrupt`] naming its store and key and never hides the others.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};
use wasm_bindgen::JsValue;

use crate::store::StoreError;

/// Encodes a value as a plain JS object.
pub(crate) fn to_js<T: Serialize>(value: &T, store: &'static str) -> Result<JsValue, StoreError> {
    let text = serde_json::to_string(value).map_err(|error| StoreError::Encode {
        store,
        reason: error.to_string(),
    })?;
    js_sys::JSON::parse(&text).map_err(|error| StoreError::Encode {
        store,
        reason: js_text(&error),
    })
}

/// Decodes a stored JS value; `key` names it in the error if it does not decode.
pub(crate) fn from_js<T: DeserializeOwned>(
    value: &JsValue,
    store: &'static str,
    key: &JsValue,
) -> Result<T, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        store,
        key: key_text(key),
        reason,
    };
    let text = js_sys::JSON::stringify(value)
        .map_err(|error| corrupt(js_text(&error)))?
        .as_string()
        .ok_or_else(|| corrupt("the value is not JSON-representable".to_owned()))?;
    serde_json::from_str(&text).map_err(|error| corrupt(error.to_string()))
}

/// Brings `value` to the form IndexedDB gives it back in: the phone stores values through JSON text
/// in the page, where a whole-number float (`15.0`) comes back an integer (`15`). Pulled copies and the
/// server's fields are brought to that form before they meet stored ones, so that a copy the phone
/// already holds compares equal and is not written again.
pub(crate) fn as_stored(value: &mut Value) {
    // Below 2^53 the integer is exact. Larger whole floats are left as they are: at worst such a
    // record is written again, never a different one taken as equal.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() < EXACT
            {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "whole and below 2^53: exact as an i64"
                )]
                let whole = float as i64;
                *number = Number::from(whole);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(as_stored),
        Value::Object(fields) => fields.values_mut().for_each(as_stored),
        _ => {}
    }
}

/// A property of a stored value as the browser holds it, read without decoding the value (`None`
/// when the value is not an object).
pub(crate) fn field(of: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(of, &JsValue::from_str(name)).ok()
}

/// A key as people read it: strings as they are, anything else (numbers too) as JSON, which spares
/// the main module Rust's float formatting (11 KB of code) for the one number it would write.
pub(crate) fn key_text(key: &JsValue) -> String {
    if let Some(text) = key.as_string() {
        return text;
    }
    js_sys::JSON::stringify(key)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| format!("{key:?}"))
}

/// The message of a thrown JS value.
pub(crate) fn js_text(error: &JsValue) -> String {
    if let Some(text) = error.as_string() {
        return text;
    }
    js_sys::Reflect::get(error, &JsValue::from_str("message"))
        .ok()
        .and_then(|message| message.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// Standard base64 (RFC 4648, with padding): photo bytes in an export file.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let [a, b, c] = [0, 1, 2].map(|idx| chunk.get(idx).copied().unwrap_or(0));
        let triple = (u32::from(a) << 16) | (u32::from(b) << 8) | u32::from(c);
        for (position, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if position <= chunk.len() {
                let index = usize::try_from((triple >> shift) & 0x3f).unwrap_or(0);
                text.push(char::from(ALPHABET[index]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// Reads standard base64 (with or without padding; line breaks and spaces ignored). `None` names a
/// character that is not base64 or a length no encoder writes.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let digits: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let digits = digits
        .strip_suffix(b"==")
        .or_else(|| digits.strip_suffix(b"="))
        .unwrap_or(&digits);
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut bytes = Vec::with_capacity(digits.len() / 4 * 3 + 2);
    for chunk in digits.chunks(4) {
        let mut triple = 0_u32;
        for (position, &c) in chunk.iter().enumerate() {
            triple |= value(c)? << (18 - 6 * position);
        }
        let [_, a, b, c] = triple.to_be_bytes();
        bytes.extend_from_slice(&[a, b, c][..chunk.len() - 1]);
    }
    Some(bytes)
}
