//! Photos of an item, a hazard or the visit: thumbnails, camera and gallery buttons, removal before
//! submission. A picked picture is processed (`media`) and kept on the phone before it shows.

use fieldcheck_core::InspectionId;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::i18n::use_i18n;
use crate::media::process_photo;
use crate::store::{PhotoMeta, use_store};
use crate::sync::use_sync;

/// How long a removed photo stays before it is dropped from the phone: past the form's autosave.
const FORGET_AFTER_MS: u32 = 2_000;

/// A row of photos bound to `names` (SHA-256 names, in order).
#[component]
pub fn PhotoStrip(
    names: RwSignal<Vec<String>>,
    /// The record the photos belong to (a removed photo is dropped only if nothing kept names it).
    record_id: InspectionId,
    /// The watermark lines, read when a picture is taken.
    #[prop(into)]
    stamp: Signal<Vec<String>>,
    #[prop(into)] locked: Signal<bool>,
    /// `data-testid` of the strip, e.g. `photos-common.fire_exits`.
    testid: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let store = use_store();
    let working = RwSignal::new(0_u32);
    let keeper = crate::components::use_draft_keeper();
    let failure = RwSignal::new(None::<String>);
    let input_id = format!("{testid}-file");
    let camera_id = format!("{testid}-camera");

    let on_files = {
        let store = store.clone();
        move |ev: leptos::ev::Event| {
            let Some(input) = ev
                .target()
                .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(files) = input.files() else { return };
            let picked: Vec<web_sys::File> = (0..files.length())
                .filter_map(|idx| files.item(idx))
                .collect();
            // The same file may be picked again later: clear the input so `change` fires again.
            input.set_value("");
            let lines = stamp.get_untracked();
            for file in picked {
                let store = store.clone();
                let lines = lines.clone();
                working.update(|count| *count += 1);
                keeper.begin_work();
                spawn_local(async move {
                    let kept = async {
                        let photo = process_photo(&file, &lines)
                            .await
                            .map_err(|error| error.to_string())?;
                        let meta = PhotoMeta {
                            sha256: photo.name.clone(),
                            content_type: photo.content_type.to_owned(),
                            size: u64::try_from(photo.bytes.len()).unwrap_or(u64::MAX),
                            width: photo.width,
                            height: photo.height,
                            taken_at: crate::i18n::now_china(),
                            refused: None,
                        };
                        store
                            .put_photo(&meta, &photo.blob)
                            .await
                            .map_err(|error| error.to_string())?;
                        Ok::<String, String>(photo.name)
                    }
                    .await;
                    match kept {
                        Ok(name) => {
                            let _ = failure.try_set(None);
                            let _ = names.try_update(|names| {
                                if !names.contains(&name) {
                                    names.push(name);
                                }
                            });
                        }
                        Err(message) => {
                            leptos::logging::error!("photo not kept: {message}");
                            let _ = failure.try_set(Some(message));
                        }
                    }
                    let _ = working.try_update(|count| *count = count.saturating_sub(1));
                    keeper.end_work();
                });
            }
        }
    };
    let on_camera = on_files.clone();

    // Removing evidence takes two taps: the first arms the button, the second removes.
    let confirming = RwSignal::new(None::<String>);
    let remove = {
        let store = store.clone();
        move |name: String| {
            if confirming.get_untracked().as_deref() != Some(name.as_str()) {
                confirming.set(Some(name));
                return;
            }
            confirming.set(None);
            names.update(|names| names.retain(|kept| *kept != name));
            let store = store.clone();
            let record_id = record_id.clone();
            // After the form's autosave has kept the form without it: dropped only if nothing kept
            // still names it.
            gloo_timers::callback::Timeout::new(FORGET_AFTER_MS, move || {
                spawn_local(async move {
                    if let Err(error) = store.forget_photo(&name, &record_id).await {
                        leptos::logging::error!("cannot drop photo {name}: {error}");
                    }
                });
            })
            .forget();
        }
    };

    view! {
        <div class="photo-strip" data-testid=testid.clone()>
            <For each=move || names.get() key=|name| name.clone() let:name>
                {
                    let remove = remove.clone();
                    let name_for_remove = name.clone();
                    view! {
                        <figure class="photo-thumb" data-photo=name.clone()>
                            <Thumb name=name.clone() />
                            <Show when=move || !locked.get()>
                                {
                                    let remove = remove.clone();
                                    let name = name_for_remove.clone();
                                    view! {
                                        <button
                                            type="button"
                                            class="photo-remove"
                                            class:photo-remove-armed={
                                                let name = name.clone();
                                                move || confirming.get().as_deref() == Some(name.as_str())
                                            }
                                            aria-label=move || i18n.t().photo_remove
                                            on:click={
                                                let name = name.clone();
                                                move |_| remove(name.clone())
                                            }
                                        >
                                            {
                                                let name = name.clone();
                                                move || {
                                                    if confirming.get().as_deref() == Some(name.as_str()) {
                                                        i18n.t().photo_remove_confirm
                                                    } else {
                                                        "×"
                                                    }
                                                }
                                            }
                                        </button>
                                    }
                                }
                            </Show>
                        </figure>
                    }
                }
            </For>
            <Show when=move || !locked.get()>
                <label class="photo-add" for=camera_id.clone()>
                    {move || i18n.t().photo_take}
                </label>
                <input
                    id=camera_id.clone()
                    class="visually-hidden"
                    type="file"
                    accept="image/*"
                    capture="environment"
                    data-testid="photo-camera"
                    on:change=on_camera.clone()
                />
                <label class="photo-add" for=input_id.clone()>
                    {move || i18n.t().photo_pick}
                </label>
                <input
                    id=input_id.clone()
                    class="visually-hidden"
                    type="file"
                    accept="image/*"
                    multiple
                    data-testid="photo-file"
                    on:change=on_files.clone()
                />
            </Show>
            <Show when=move || { working.get() > 0 }>
                <p class="hint" role="status">{move || i18n.t().photo_processing}</p>
            </Show>
            {move || {
                failure
                    .get()
                    .map(|message| {
                        view! {
                            <p class="field-error" role="alert">
                                {i18n.t().photo_failed} ": " {message}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// Photos already taken, to look at (a record's page): a row of thumbnails, nothing when there are none.
#[component]
pub fn Thumbs(names: Vec<String>) -> impl IntoView {
    (!names.is_empty()).then(|| {
        view! {
            <span class="photo-strip" data-testid="thumbs">
                {names
                    .into_iter()
                    .map(|name| view! { <span class="photo-thumb"><Thumb name /></span> })
                    .collect_view()}
            </span>
        }
    })
}

/// One thumbnail: the phone's copy, or the server's fetched and kept (an object URL, revoked when it
/// goes); a placeholder when neither can be had (offline, and taken on another phone).
#[component]
pub fn Thumb(name: String) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let short = name.chars().take(8).collect::<String>();
    let url = LocalResource::new(move || {
        let name = name.clone();
        async move {
            let blob = sync.photo(&name).await?;
            web_sys::Url::create_object_url_with_blob(&blob).ok()
        }
    });
    let made = StoredValue::new_local(None::<String>);
    Effect::new(move |_| {
        if let Some(Some(url)) = url.get() {
            made.set_value(Some(url));
        }
    });
    on_cleanup(move || {
        if let Some(url) = made.try_get_value().flatten() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
    move || match url.get() {
        Some(Some(url)) => view! { <img class="thumb" src=url alt=short.clone() /> }.into_any(),
        Some(None) => view! {
            <span class="thumb thumb-remote" title=short.clone()>{i18n.t().photo_elsewhere}</span>
        }
        .into_any(),
        None => view! { <span class="thumb thumb-loading"></span> }.into_any(),
    }
}
