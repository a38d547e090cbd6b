//! Photos on a real canvas and real IndexedDB in headless Chromium: a picture from a phone camera
//! (landscape pixels with an EXIF rotation) comes out upright, downscaled, watermarked, named by its
//! SHA-256, kept and read back byte for byte; a record waits for its photos before it is pushed.
#![cfg(target_arch = "wasm32")]

use fieldcheck::media::{LONG_SIDE, blob_bytes, fit_within, process_photo};
use fieldcheck::store::{OpenedOn, PhotoMeta, Store};
use fieldcheck_core::engine::LocalStore;
use fieldcheck_core::{Inspection, is_photo_name, photo_name};
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

async fn fresh_store() -> Store {
    let name = format!("fieldcheck-media-{}", uuid::Uuid::now_v7());
    Store::open(&name).await.expect("open a fresh database")
}

fn canvas(width: u32, height: u32) -> web_sys::HtmlCanvasElement {
    let canvas: web_sys::HtmlCanvasElement = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.create_element("canvas").ok())
        .and_then(|element| element.dyn_into().ok())
        .expect("a canvas");
    canvas.set_width(width);
    canvas.set_height(height);
    canvas
}

fn context(canvas: &web_sys::HtmlCanvasElement) -> web_sys::CanvasRenderingContext2d {
    canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|context| context.dyn_into().ok())
        .expect("a 2d context")
}

async fn to_blob(canvas: &web_sys::HtmlCanvasElement, mime: &str) -> web_sys::Blob {
    let canvas = canvas.clone();
    let mime = mime.to_owned();
    let promise = js_sys::Promise::new(&mut |resolve: js_sys::Function, _reject| {
        let callback = wasm_bindgen::closure::Closure::once_into_js(move |blob: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &blob);
        });
        canvas
            .to_blob_with_type(callback.unchecked_ref(), &mime)
            .expect("toBlob");
    });
    JsFuture::from(promise)
        .await
        .expect("a blob")
        .dyn_into()
        .expect("a Blob")
}

/// An EXIF APP1 segment saying "rotate 90° clockwise to show" (orientation 6), as phone cameras write.
const EXIF_ROTATE_90: [u8; 36] = [
    0xFF, 0xE1, 0x00, 0x22, b'E', b'x', b'i', b'f', 0, 0, // APP1, length 34, "Exif\0\0"
    b'M', b'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF, IFD0 at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00, // Orientation = 6
    0x00, 0x00, 0x00, 0x00, // no next IFD
];

/// A 3200 × 1600 camera picture, red on the left half and blue on the right, tagged to be shown
/// rotated: upright it is 1600 × 3200 with red on top.
async fn camera_picture() -> web_sys::Blob {
    let picture = canvas(3200, 1600);
    let pen = context(&picture);
    pen.set_fill_style_str("#ff0000");
    pen.fill_rect(0.0, 0.0, 1600.0, 1600.0);
    pen.set_fill_style_str("#0000ff");
    pen.fill_rect(1600.0, 0.0, 1600.0, 1600.0);
    let jpeg = blob_bytes(&to_blob(&picture, "image/jpeg").await)
        .await
        .expect("bytes");
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG starts with SOI");
    let mut tagged = jpeg[..2].to_vec();
    tagged.extend_from_slice(&EXIF_ROTATE_90);
    tagged.extend_from_slice(&jpeg[2..]);
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(tagged.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("image/jpeg");
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).expect("a blob")
}

/// The RGB of one pixel of a JPEG.
async fn pixel(jpeg: &web_sys::Blob, x: u32, y: u32, width: u32, height: u32) -> [u8; 3] {
    let bitmap: web_sys::ImageBitmap = JsFuture::from(
        web_sys::window()
            .expect("window")
            .create_image_bitmap_with_blob(jpeg)
            .expect("decode"),
    )
    .await
    .expect("decoded")
    .dyn_into()
    .expect("a bitmap");
    let board = canvas(width, height);
    let pen = context(&board);
    pen.draw_image_with_image_bitmap(&bitmap, 0.0, 0.0)
        .expect("draw");
    let data = pen
        .get_image_data(f64::from(x), f64::from(y), 1.0, 1.0)
        .expect("read")
        .data();
    [data[0], data[1], data[2]]
}

#[wasm_bindgen_test]
fn fitting_keeps_the_aspect_and_never_enlarges() {
    assert_eq!(fit_within(4000, 3000, 1600), (1600, 1200));
    assert_eq!(fit_within(3000, 4000, 1600), (1200, 1600));
    assert_eq!(fit_within(800, 600, 1600), (800, 600));
    assert_eq!(fit_within(0, 0, 1600), (1, 1));
}

#[wasm_bindgen_test]
async fn a_camera_picture_comes_out_upright_downscaled_watermarked_hashed_and_kept_byte_for_byte() {
    let picture = camera_picture().await;
    let stamp = vec![
        "2026-11-26 10:05:03".to_owned(),
        "星际网咖".to_owned(),
        "张伟、陈静".to_owned(),
        "34.62000, 112.45000".to_owned(),
    ];
    let photo = process_photo(&picture, &stamp).await.expect("processed");

    // Upright (the EXIF rotation applied) and brought down to the long side.
    assert_eq!((photo.width, photo.height), (LONG_SIDE / 2, LONG_SIDE));
    assert_eq!(photo.content_type, "image/jpeg");
    let top = pixel(&photo.blob, 400, 200, photo.width, photo.height).await;
    let middle = pixel(&photo.blob, 400, 1200, photo.width, photo.height).await;
    assert!(
        top[0] > 200 && top[2] < 60,
        "red on top after rotation: {top:?}"
    );
    assert!(middle[2] > 200 && middle[0] < 60, "blue below: {middle:?}");
    // The watermark band darkens the bottom edge (left margin, where no text is).
    let band = pixel(&photo.blob, 3, photo.height - 3, photo.width, photo.height).await;
    assert!(band[2] < 160, "the bottom band is darkened: {band:?}");

    // Named by the SHA-256 of exactly the bytes kept.
    assert!(is_photo_name(&photo.name));
    assert_eq!(photo.name, photo_name(&photo.bytes));
    assert_eq!(
        blob_bytes(&photo.blob).await.expect("bytes"),
        photo.bytes,
        "the Blob is the hashed bytes"
    );

    let store = fresh_store().await;
    let meta = PhotoMeta {
        sha256: photo.name.clone(),
        content_type: photo.content_type.to_owned(),
        size: photo.bytes.len() as u64,
        width: photo.width,
        height: photo.height,
        taken_at: chrono::DateTime::parse_from_rfc3339("2026-11-26T10:05:03+08:00")
            .expect("a time"),
        refused: None,
    };
    store.put_photo(&meta, &photo.blob).await.expect("kept");
    // Kept twice is one photo, still queued once.
    store
        .put_photo(&meta, &photo.blob)
        .await
        .expect("kept again");
    assert_eq!(
        store.queued_photo_names().await.expect("queue"),
        vec![photo.name.clone()]
    );

    // A reopened database gives the same bytes back.
    let name = store.name();
    store.close();
    let store = Store::open(&name).await.expect("reopen");
    let stored = store
        .photo(&photo.name)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(stored.meta, meta);
    assert_eq!(blob_bytes(&stored.blob).await.expect("bytes"), photo.bytes);
    assert_eq!(store.unsynced().await.expect("count").photos, 1);

    store.photo_uploaded(&photo.name).await.expect("uploaded");
    assert!(store.queued_photo_names().await.expect("queue").is_empty());
    assert!(
        store.photo(&photo.name).await.expect("read").is_some(),
        "kept after upload"
    );
}

#[wasm_bindgen_test]
async fn a_file_that_is_not_a_picture_is_refused_with_a_reason() {
    let parts = js_sys::Array::of1(&JsValue::from_str("not a picture"));
    let text = web_sys::Blob::new_with_str_sequence(&parts).expect("a blob");
    let error = process_photo(&text, &[]).await.expect_err("refused");
    assert!(error.to_string().contains("not a picture"), "{error}");
}

/// A draft record naming `photos`, saved on the phone.
async fn saved_record_naming(store: &Store, photos: Vec<String>) -> Inspection {
    let mut record: Inspection = serde_json::from_value(json!({
        "id": uuid::Uuid::now_v7().to_string(), "venue_id": uuid::Uuid::now_v7().to_string(),
        "kind": "routine", "template": "internet_cafe@1",
        "started_at": "2026-11-26T10:00:00+08:00", "inspectors": ["u1"],
        "status": "draft"
    }))
    .expect("a record");
    record.photos = photos;
    store.save_inspection(&record).await.expect("saved");
    record
}

#[wasm_bindgen_test]
async fn a_record_is_not_pushed_before_the_photos_it_names_are_uploaded() {
    let store = fresh_store().await;
    let name = keep_bytes(&store, b"\xFF\xD8\xFF a photo").await;
    let with_photo = saved_record_naming(&store, vec![name.clone()]).await;
    let without = saved_record_naming(&store, Vec::new()).await;

    let batch = store.take_batch(50).await.expect("batch");
    let ids: Vec<&str> = batch.iter().map(|mutation| mutation.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![without.id.as_str()],
        "only the record without a queued photo goes"
    );

    store.photo_uploaded(&name).await.expect("uploaded");
    let batch = store.take_batch(50).await.expect("batch");
    let ids: Vec<&str> = batch.iter().map(|mutation| mutation.id.as_str()).collect();
    // It takes its place in the queue (it was saved first); the other, still in flight with no
    // answer yet, goes again beside it.
    assert_eq!(
        ids,
        vec![with_photo.id.as_str(), without.id.as_str()],
        "then the record goes"
    );
}

#[wasm_bindgen_test]
async fn a_batch_reaches_past_a_long_run_of_records_waiting_for_their_photos() {
    let store = fresh_store().await;
    let name = keep_bytes(&store, b"\xFF\xD8\xFF a photo not uploaded yet").await;
    // More records waiting for the photo than one batch: the outbox is read a window at a time,
    // and the window must widen past them to the records that may go.
    for _ in 0..7 {
        saved_record_naming(&store, vec![name.clone()]).await;
    }
    let mut ready = Vec::new();
    for _ in 0..4 {
        ready.push(
            saved_record_naming(&store, Vec::new())
                .await
                .id
                .as_str()
                .to_owned(),
        );
    }
    let batch = store.take_batch(3).await.expect("batch");
    let ids: Vec<_> = batch.iter().map(|mutation| mutation.id.clone()).collect();
    assert_eq!(
        ids,
        ready[..3].to_vec(),
        "the first three that may go, in queue order"
    );
    let batch = store.take_batch(50).await.expect("batch");
    assert_eq!(
        batch.len(),
        4,
        "the three in flight go again with the fourth"
    );
}

#[wasm_bindgen_test]
async fn a_removed_photo_is_dropped_only_when_nothing_kept_names_it() {
    let store = fresh_store().await;
    let named = keep_bytes(&store, b"named by the saved record").await;
    let loose = keep_bytes(&store, b"taken, then removed").await;
    let record = saved_record_naming(&store, vec![named.clone()]).await;

    store
        .forget_photo(&named, &record.id)
        .await
        .expect("forget");
    store
        .forget_photo(&loose, &record.id)
        .await
        .expect("forget");
    assert!(
        store.photo(&named).await.expect("read").is_some(),
        "the saved record still names it"
    );
    assert!(
        store.photo(&loose).await.expect("read").is_none(),
        "nothing names it"
    );
    assert_eq!(
        store.queued_photo_names().await.expect("queue"),
        vec![named]
    );
}

/// Keeps `label`'s bytes as a photo and returns its name.
async fn keep_bytes(store: &Store, label: &[u8]) -> String {
    let name = photo_name(label);
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(label));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).expect("a blob");
    let meta = PhotoMeta {
        sha256: name.clone(),
        content_type: "image/jpeg".to_owned(),
        size: label.len() as u64,
        width: 1,
        height: 1,
        taken_at: chrono::DateTime::parse_from_rfc3339("2026-11-26T10:05:03+08:00")
            .expect("a time"),
        refused: None,
    };
    store.put_photo(&meta, &blob).await.expect("kept");
    name
}

/// The outbox is read a window at a time when looking for named photos: a photo named only by a
/// record far down a long queue is still found, and one named only by a form still is not.
#[wasm_bindgen_test]
async fn a_photo_named_only_far_down_a_long_queue_is_still_uploaded() {
    let store = fresh_store().await;
    let first = keep_bytes(&store, b"named by the first record").await;
    let last = keep_bytes(&store, b"named by the 250th record").await;
    let in_form = keep_bytes(&store, b"named by a form only").await;
    saved_record_naming(&store, vec![first.clone()]).await;
    for _ in 0..248 {
        saved_record_naming(&store, Vec::new()).await;
    }
    saved_record_naming(&store, vec![last.clone()]).await;
    let mut form_record = saved_record_naming(&store, Vec::new()).await;
    form_record.photos = vec![in_form];
    store
        .save_form(&form_record, &OpenedOn::default())
        .await
        .expect("form kept");
    let mut expected = vec![first, last];
    expected.sort();
    assert_eq!(store.photos_to_upload().await.expect("list"), expected);
}

#[wasm_bindgen_test]
async fn only_photos_a_saved_record_names_are_uploaded_and_refused_ones_are_not_queued_again() {
    let store = fresh_store().await;
    let in_form = keep_bytes(&store, b"taken in a form not saved yet").await;
    let in_record = keep_bytes(&store, b"named by a saved record").await;
    let mut form_record = saved_record_naming(&store, Vec::new()).await;
    form_record.photos = vec![in_form.clone()];
    store
        .save_form(&form_record, &OpenedOn::default())
        .await
        .expect("form kept");
    saved_record_naming(&store, vec![in_record.clone()]).await;
    assert_eq!(
        store.photos_to_upload().await.expect("list"),
        vec![in_record.clone()]
    );

    // Refused for good: out of the queue, and a request to queue it again skips it.
    store
        .photo_refused(&in_record, "too_large")
        .await
        .expect("refused");
    assert!(store.photos_to_upload().await.expect("list").is_empty());
    assert_eq!(
        store
            .queue_photos_again(&[in_record.as_str()])
            .await
            .expect("queue"),
        0
    );
    // Uploaded, then lost by the server: queued again.
    store.photo_uploaded(&in_form).await.expect("uploaded");
    assert_eq!(
        store
            .queue_photos_again(&[in_form.as_str()])
            .await
            .expect("queue"),
        1
    );
}

#[wasm_bindgen_test]
async fn the_export_carries_the_bytes_of_photos_not_on_the_server() {
    let store = fresh_store().await;
    let bytes: Vec<u8> = (0u8..=255).chain(0u8..7).collect();
    let name = keep_bytes(&store, &bytes).await;
    let export = store.export_unsynced().await.expect("export");
    let document: serde_json::Value = serde_json::from_str(&export.text).expect("json");
    let photo = &document["photos"][0];
    assert_eq!(photo["sha256"], json!(name));
    let decoded = js_sys::global()
        .dyn_into::<web_sys::Window>()
        .expect("window")
        .atob(photo["base64"].as_str().expect("text"))
        .expect("base64");
    let round_trip: Vec<u8> = decoded
        .chars()
        .map(|ch| u8::try_from(u32::from(ch)).expect("a byte"))
        .collect();
    assert_eq!(round_trip, bytes);
}

#[wasm_bindgen_test]
async fn the_autosaved_form_keeps_its_photos_and_signatures_across_a_reopen() {
    let store = fresh_store().await;
    let scene = keep_bytes(&store, b"scene photo").await;
    let party = keep_bytes(&store, b"party signature png").await;
    let officer = keep_bytes(&store, b"officer signature png").await;
    let mut record = saved_record_naming(&store, vec![scene.clone()]).await;
    record.party = Some(fieldcheck_core::Party {
        name: "刘建军".to_owned(),
        signature: Some(party.clone()),
        ..fieldcheck_core::Party::default()
    });
    record.officer_signatures = vec![fieldcheck_core::OfficerSignature {
        officer: record.inspectors[0].clone(),
        signature: officer.clone(),
    }];
    store
        .save_form(&record, &OpenedOn::default())
        .await
        .expect("autosaved");

    let name = store.name();
    store.close();
    let store = Store::open(&name).await.expect("reopen");
    let form = store.form(&record.id).await.expect("read").expect("kept");
    assert_eq!(form.record.photos, vec![scene.clone()]);
    assert_eq!(
        form.record.party.and_then(|party| party.signature),
        Some(party.clone())
    );
    assert_eq!(form.record.officer_signatures[0].signature, officer);
    for name in [&scene, &party, &officer] {
        assert!(
            store.photo(name).await.expect("read").is_some(),
            "{name} is on the phone"
        );
    }
}

/// The phone's owner, as the session and an export name them.
fn officer() -> fieldcheck_core::User {
    serde_json::from_value(json!({
        "id": uuid::Uuid::now_v7().to_string(), "username": "zhangwei", "name": "张伟",
        "role": "inspector", "unit_id": "u-laocheng"
    }))
    .expect("a user")
}

/// A phone `owner` has logged in on.
async fn owned_by(owner: &fieldcheck_core::User) -> Store {
    let phone = fresh_store().await;
    phone
        .take_over(owner, fieldcheck::store::TakeOver::OnlyIfSynced)
        .await
        .expect("the officer logs in on the phone");
    phone
}

#[wasm_bindgen_test]
async fn an_export_imported_on_a_wiped_phone_gives_back_every_record_and_photo_byte_for_byte() {
    use fieldcheck::store::{Imported, StoreError, TakeOver};
    let owner = officer();
    let old_phone = owned_by(&owner).await;
    // Bytes of every value 0..=255, and a length that needs base64 padding.
    let bytes: Vec<u8> = (0..=255_u8).cycle().take(70_001).collect();
    let photo = keep_bytes(&old_phone, &bytes).await;
    let signature = keep_bytes(&old_phone, b"\x89PNG a signature").await;
    let with_photos = saved_record_naming(&old_phone, vec![photo.clone(), signature.clone()]).await;
    let plain = saved_record_naming(&old_phone, Vec::new()).await;
    // One of them was in flight when the phone died: the same op goes out again from the new one.
    old_phone.take_batch(1).await.expect("one in flight");
    let export = old_phone.export_unsynced().await.expect("export");

    let new_phone = fresh_store().await;
    let refused = new_phone
        .import_unsynced(&export.text)
        .await
        .expect_err("nobody owns the new phone yet");
    assert!(
        matches!(refused, StoreError::ImportOtherOwner { ref name } if name == "张伟"),
        "{refused:?}"
    );
    new_phone
        .take_over(&owner, TakeOver::OnlyIfSynced)
        .await
        .expect("the officer logs in on the new phone");
    // Logging in pulled the server's copy of one of them (another officer's edit at rev 3): the
    // file's work still comes in, beside that copy, instead of being taken for "already here".
    let mut theirs = plain.clone();
    theirs.notes = "edited on the server".to_owned();
    new_phone
        .apply_page(&fieldcheck_core::sync::PullResponse {
            changes: vec![fieldcheck_core::sync::Change {
                entity: fieldcheck_core::sync::Entity::Inspection,
                id: plain.id.to_string(),
                rev: 3,
                body: serde_json::to_value(&theirs).expect("JSON"),
                deleted: false,
            }],
            cursor: "1".to_owned(),
            has_more: false,
        })
        .await
        .expect("pulled");
    let imported = new_phone
        .import_unsynced(&export.text)
        .await
        .expect("import");
    assert_eq!(
        imported,
        Imported {
            records: 2,
            already_here: 0,
            forms: 0,
            forms_unreadable: 0,
            photos: 2
        }
    );

    for record in [&with_photos, &plain] {
        let before = old_phone
            .inspection(&record.id)
            .await
            .expect("read")
            .expect("there");
        let after = new_phone
            .inspection(&record.id)
            .await
            .expect("read")
            .expect("imported");
        assert_eq!(after.record, before.record, "the record as it was");
        assert_eq!(after.mark(), before.mark(), "still waiting for the server");
    }
    let beside = new_phone
        .inspection(&plain.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(
        beside.local.server().map(|server| server.rev),
        Some(3),
        "the pulled copy is kept beside the imported work"
    );
    for name in [&photo, &signature] {
        let kept = new_phone
            .photo(name)
            .await
            .expect("read")
            .expect("imported");
        let original = old_phone.photo(name).await.expect("read").expect("there");
        assert_eq!(
            blob_bytes(&kept.blob).await.expect("bytes"),
            blob_bytes(&original.blob).await.expect("bytes"),
            "photo {name} byte for byte"
        );
    }
    assert_eq!(
        blob_bytes(
            &new_phone
                .photo(&photo)
                .await
                .expect("read")
                .expect("there")
                .blob
        )
        .await
        .expect("bytes"),
        bytes
    );
    let mut queued = new_phone.queued_photo_names().await.expect("queue");
    queued.sort();
    let mut expected = vec![photo.clone(), signature.clone()];
    expected.sort();
    assert_eq!(
        queued, expected,
        "the photos wait for upload on the new phone"
    );
    // The new phone sends both records, the one in flight under its old op id.
    new_phone.photo_uploaded(&photo).await.expect("uploaded");
    new_phone
        .photo_uploaded(&signature)
        .await
        .expect("uploaded");
    let batch = new_phone.take_batch(50).await.expect("batch");
    assert_eq!(batch.len(), 2, "{batch:?}");

    // Importing the same file again adds nothing and keeps the phone's copies.
    let again = new_phone
        .import_unsynced(&export.text)
        .await
        .expect("again");
    assert_eq!(
        again,
        Imported {
            records: 0,
            already_here: 2,
            forms: 0,
            forms_unreadable: 0,
            photos: 0
        }
    );

    // A damaged file is refused as a whole, naming what is wrong, and changes nothing.
    let mut damaged: serde_json::Value = serde_json::from_str(&export.text).expect("JSON");
    damaged["photos"][0]["base64"] = json!("AAAA");
    let wiped = fresh_store().await;
    wiped
        .take_over(&owner, TakeOver::OnlyIfSynced)
        .await
        .expect("owner");
    let error = wiped
        .import_unsynced(&damaged.to_string())
        .await
        .expect_err("damaged");
    assert!(
        error
            .to_string()
            .contains("does not hold the bytes it names"),
        "{error}"
    );
    assert!(
        wiped
            .list_inspections()
            .await
            .expect("list")
            .items
            .is_empty()
    );
    let error = wiped
        .import_unsynced("{\"app\": \"other\"}")
        .await
        .expect_err("not ours");
    assert!(matches!(error, StoreError::BadImport(_)), "{error:?}");
}

/// A form the new phone cannot read (damaged, or kept by a newer build) stays in the file, and the
/// records, forms and photos beside it still come in.
#[wasm_bindgen_test]
async fn an_unreadable_form_in_an_export_leaves_the_rest_of_the_file_importable() {
    use fieldcheck::store::{FORMS, Imported};
    let owner = officer();
    let old_phone = owned_by(&owner).await;
    let photo = keep_bytes(&old_phone, b"a scene photo").await;
    let record = saved_record_naming(&old_phone, vec![photo.clone()]).await;
    let mut typed = record.clone();
    typed.notes = "typed, not saved".to_owned();
    old_phone
        .save_form(&typed, &OpenedOn::default())
        .await
        .expect("form kept");
    let mut damaged = serde_json::to_value(&typed).expect("JSON");
    damaged["id"] = json!(uuid::Uuid::now_v7().to_string());
    damaged["status"] = json!("a status of a newer build");
    let damaged = json!({"record": damaged, "saved_at": "2026-12-07T09:00:00+08:00"});
    old_phone
        .put_raw(
            FORMS,
            None,
            js_sys::JSON::parse(&damaged.to_string()).expect("JSON"),
        )
        .await
        .expect("plant");
    let export = old_phone.export_unsynced().await.expect("export");

    let new_phone = owned_by(&owner).await;
    let imported = new_phone
        .import_unsynced(&export.text)
        .await
        .expect("the file comes in");
    assert_eq!(
        imported,
        Imported {
            records: 1,
            already_here: 0,
            forms: 1,
            forms_unreadable: 1,
            photos: 1
        }
    );
    assert!(new_phone.photo(&photo).await.expect("read").is_some());
    let form = new_phone
        .form(&record.id)
        .await
        .expect("read")
        .expect("the readable form came in");
    assert_eq!(form.record.notes, "typed, not saved");
}
