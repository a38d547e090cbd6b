//! The phone's position (`navigator.geolocation`), asked for without waiting: nothing depends on it.

use fieldcheck_core::Location;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// A position being asked for, the last fix, and whether the phone refused one.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    pub location: RwSignal<Option<Location>>,
    pub locating: RwSignal<bool>,
    pub failed: RwSignal<bool>,
}

impl Position {
    /// No fix yet; `known` is one the record already has.
    pub fn new(known: Option<Location>) -> Position {
        Position {
            location: RwSignal::new(known),
            locating: RwSignal::new(false),
            failed: RwSignal::new(false),
        }
    }

    /// Asks for one fix; the signals change when it arrives (or fails).
    pub fn locate(self) {
        locate(self.location, self.locating, self.failed);
    }
}

/// Asks for one GPS fix without waiting for it: saving never depends on it.
pub fn locate(
    location: RwSignal<Option<Location>>,
    locating: RwSignal<bool>,
    failed: RwSignal<bool>,
) {
    locating.set(true);
    failed.set(false);
    // `navigator.geolocation()`, not a cast: web-sys declares `Geolocation` with a type check that
    // always fails (`is_type_of = |_| false`), so `dyn_into` never finds it and the phone never
    // asked for a fix.
    let Some(geolocation) =
        web_sys::window().and_then(|window| window.navigator().geolocation().ok())
    else {
        locating.set(false);
        return;
    };
    let on_fix = Closure::once_into_js(move |position: wasm_bindgen::JsValue| {
        let number = |object: &wasm_bindgen::JsValue, name: &str| {
            js_sys::Reflect::get(object, &name.into())
                .ok()
                .and_then(|value| value.as_f64())
        };
        let coords = js_sys::Reflect::get(&position, &"coords".into()).unwrap_or_default();
        if let (Some(lat), Some(lon)) = (number(&coords, "latitude"), number(&coords, "longitude"))
        {
            // The form may be gone by the time the fix arrives; then there is nothing to update.
            let _ = location.try_set(Some(Location {
                lat,
                lon,
                accuracy_m: number(&coords, "accuracy"),
            }));
        }
        let _ = locating.try_set(false);
    });
    let on_error = Closure::once_into_js(move |_error: wasm_bindgen::JsValue| {
        let _ = locating.try_set(false);
        let _ = failed.try_set(true);
    });
    let options = web_sys::PositionOptions::new();
    options.set_enable_high_accuracy(true);
    options.set_timeout(15_000);
    options.set_maximum_age(120_000);
    if geolocation
        .get_current_position_with_error_callback_and_options(
            on_fix.unchecked_ref(),
            Some(on_error.unchecked_ref()),
            &options,
        )
        .is_err()
    {
        locating.set(false);
    }
}
