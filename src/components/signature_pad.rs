//! A signature pad: drawn with a finger (pointer events), kept as a PNG photo, shown once signed.

use leptos::html::Canvas;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::photo_strip::Thumb;
use crate::i18n::use_i18n;
use crate::media::{export_png, ink_canvas};
use crate::store::{PhotoMeta, use_store};

/// Binds `signature` (the PNG's SHA-256 name) to a pad: draw, confirm, or sign again.
#[component]
pub fn SignaturePad(
    signature: RwSignal<Option<String>>,
    #[prop(into)] locked: Signal<bool>,
    /// `data-testid`, e.g. `signature-party`.
    testid: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let store = use_store();
    let canvas = NodeRef::<Canvas>::new();
    let drawn = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let keeper = crate::components::use_draft_keeper();
    let failure = RwSignal::new(None::<String>);
    // The pen: the context and whether a stroke is going. Lives with the page (not Send).
    let pen = StoredValue::new_local(None::<web_sys::CanvasRenderingContext2d>);
    let stroking = StoredValue::new_local(false);

    let prepare = {
        move || {
            if let Some(element) = canvas.get_untracked() {
                match ink_canvas(&element) {
                    Ok(context) => pen.set_value(Some(context)),
                    Err(error) => failure.set(Some(error.to_string())),
                }
                drawn.set(false);
            }
        }
    };
    let prepare_on_mount = prepare;
    canvas.on_load(move |_| {
        // After layout, so the canvas has its size.
        request_animation_frame(prepare_on_mount);
    });

    let point = |ev: &web_sys::PointerEvent| (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
    let down = {
        move |ev: web_sys::PointerEvent| {
            ev.prevent_default();
            if let Some(element) = canvas.get_untracked() {
                let _ = element.set_pointer_capture(ev.pointer_id());
            }
            let started = pen.with_value(|context| {
                context.as_ref().map(|context| {
                    let (x, y) = point(&ev);
                    context.begin_path();
                    context.move_to(x, y);
                    // A tap leaves a dot.
                    context.line_to(x + 0.1, y + 0.1);
                    context.stroke();
                })
            });
            if started.is_some() {
                stroking.set_value(true);
                drawn.set(true);
            }
        }
    };
    let moved = move |ev: web_sys::PointerEvent| {
        if !stroking.get_value() {
            return;
        }
        ev.prevent_default();
        pen.with_value(|context| {
            if let Some(context) = context {
                let (x, y) = point(&ev);
                context.line_to(x, y);
                context.stroke();
            }
        });
    };
    let up = move |_ev: web_sys::PointerEvent| stroking.set_value(false);
    let cancel = up;

    let confirm = {
        let store = store.clone();
        move |_| {
            let Some(element) = canvas.get_untracked() else {
                return;
            };
            let store = store.clone();
            busy.set(true);
            keeper.begin_work();
            spawn_local(async move {
                let kept = async {
                    let png = export_png(&element).await.map_err(|e| e.to_string())?;
                    let meta = PhotoMeta {
                        sha256: png.name.clone(),
                        content_type: png.content_type.to_owned(),
                        size: u64::try_from(png.bytes.len()).unwrap_or(u64::MAX),
                        width: png.width,
                        height: png.height,
                        taken_at: crate::i18n::now_china(),
                        refused: None,
                    };
                    store
                        .put_photo(&meta, &png.blob)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok::<String, String>(png.name)
                }
                .await;
                match kept {
                    Ok(name) => {
                        let _ = failure.try_set(None);
                        let _ = signature.try_set(Some(name));
                    }
                    Err(message) => {
                        let _ = failure.try_set(Some(message));
                    }
                }
                let _ = busy.try_set(false);
                keeper.end_work();
            });
        }
    };
    let clear = prepare;

    view! {
        <div class="signature" data-testid=testid>
            {move || {
                signature
                    .get()
                    .map(|name| {
                        view! {
                            <div class="signature-done">
                                <span class="signature-image"><Thumb name=name /></span>
                                <Show when=move || !locked.get()>
                                    <button
                                        type="button"
                                        class="link-button"
                                        on:click=move |_| signature.set(None)
                                    >
                                        {move || i18n.t().sign_again}
                                    </button>
                                </Show>
                            </div>
                        }
                    })
            }}
            <Show when=move || signature.get().is_none() && !locked.get()>
                {
                    let down = down;
                    let moved = moved;
                    let up = up;
                    let cancel = cancel;
                    let clear = clear;
                    let confirm = confirm.clone();
                    view! {
                        <canvas
                            class="signature-pad"
                            node_ref=canvas
                            aria-label=move || i18n.t().sign_here
                            on:pointerdown=down
                            on:pointermove=moved
                            on:pointerup=up
                            on:pointercancel=cancel
                        ></canvas>
                        <p class="hint">{move || i18n.t().sign_here}</p>
                        <div class="signature-actions">
                            <button
                                type="button"
                                class="button button-secondary button-small"
                                on:click=move |_| clear()
                            >
                                {move || i18n.t().sign_clear}
                            </button>
                            <button
                                type="button"
                                class="button button-primary button-small"
                                data-testid="signature-confirm"
                                disabled=move || !drawn.get() || busy.get()
                                on:click=confirm
                            >
                                {move || i18n.t().sign_confirm}
                            </button>
                        </div>
                    }
                }
            </Show>
            {move || {
                failure
                    .get()
                    .map(|message| view! { <p class="field-error" role="alert">{message}</p> })
            }}
        </div>
    }
}
