//! Photos and signatures on the phone: Blobs named by the SHA-256 of their bytes, with their metadata,
//! and the queue of those still to be uploaded.
//!
//! A photo is written with its queue entry in one strict transaction, so a photo the inspector saw
//! kept is always either on the server or queued. The queue is its own store (`photo_queue`, key =
//! name): the sync engine uploads what it holds before any record that names it is taken for a push
//! (see `take_batch`), and removes an entry only after the server confirmed the bytes.

use chrono::{DateTime, FixedOffset};
use fieldcheck_core::{Inspection, InspectionId};
use indexed_db_futures::KeyRange;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

use crate::store::codec::{field, from_js, key_text, to_js};
use crate::store::error::IdbContext;
use crate::store::records::{first_in_index, get_all_in_store, put_js, put_value, read_record};
use crate::store::schema::{BY_QUEUE, FORMS, INSPECTIONS, PHOTO_QUEUE, PHOTOS};
use crate::store::{Form, Store, StoreError};

/// Queued records read at a time when looking for the photos they name.
const NAMES_WINDOW: u32 = 100;

/// What a stored photo or signature is, beside its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoMeta {
    /// SHA-256 of the bytes, lowercase hex: the key, and the name records use.
    pub sha256: String,
    /// `image/jpeg` for photos, `image/png` for signatures.
    pub content_type: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    /// Device time it was taken or signed.
    pub taken_at: DateTime<FixedOffset>,
    /// Set when the server refused the bytes for good (too large, not an image): why.
    #[serde(default)]
    pub refused: Option<String>,
}

/// A photo as read back: its metadata and its bytes as a Blob.
#[derive(Debug, Clone)]
pub struct StoredPhoto {
    pub meta: PhotoMeta,
    pub blob: web_sys::Blob,
}

/// The value in the `photo_queue` store.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct QueueEntry {
    sha256: String,
}

impl Store {
    /// Keeps a photo and queues it for upload, in one strict transaction. Keeping the same bytes
    /// twice is one photo: an existing one (and whether it is uploaded) stays as it is.
    pub async fn put_photo(
        &self,
        meta: &PhotoMeta,
        blob: &web_sys::Blob,
    ) -> Result<(), StoreError> {
        self.keep_photo(meta, blob, true).await
    }

    /// Keeps a photo fetched from the server (it is there already: not queued), so that it shows
    /// offline next time. An existing copy stays as it is.
    pub async fn keep_downloaded_photo(
        &self,
        name: &str,
        content_type: &str,
        blob: &web_sys::Blob,
    ) -> Result<(), StoreError> {
        // A Blob's size is a whole number of bytes, far below 2^53.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let size = blob.size() as u64;
        let meta = PhotoMeta {
            sha256: name.to_owned(),
            content_type: content_type.to_owned(),
            size,
            width: 0,
            height: 0,
            taken_at: crate::i18n::now_china(),
            refused: None,
        };
        self.keep_photo(&meta, blob, false).await
    }

    /// Stores a photo unless one of that name is there, queued for upload when `queued`.
    async fn keep_photo(
        &self,
        meta: &PhotoMeta,
        blob: &web_sys::Blob,
        queued: bool,
    ) -> Result<(), StoreError> {
        let tx = self.write_strict(&[PHOTOS, PHOTO_QUEUE])?;
        {
            let photos = tx.object_store(PHOTOS).idb(PHOTOS, "open")?;
            let key = JsValue::from_str(&meta.sha256);
            if get_value(&photos, PHOTOS, &key).await?.is_none() {
                let value = to_js(meta, PHOTOS)?;
                js_sys::Reflect::set(&value, &JsValue::from_str("blob"), blob).map_err(|_| {
                    StoreError::Encode {
                        store: PHOTOS,
                        reason: "cannot attach the photo's bytes".to_owned(),
                    }
                })?;
                put_js(&photos, PHOTOS, value).await?;
                if queued {
                    let queue = tx.object_store(PHOTO_QUEUE).idb(PHOTO_QUEUE, "open")?;
                    enqueue(&queue, meta.sha256.clone()).await?;
                }
            }
        }
        tx.commit().await.idb(PHOTOS, "commit")
    }

    /// A stored photo by name.
    pub async fn photo(&self, name: &str) -> Result<Option<StoredPhoto>, StoreError> {
        let tx = self.read(&[PHOTOS])?;
        let photos = tx.object_store(PHOTOS).idb(PHOTOS, "open")?;
        let key = JsValue::from_str(name);
        let value: Option<JsValue> = get_value(&photos, PHOTOS, &key).await?;
        value.map(|value| decode_photo(&value, &key)).transpose()
    }

    /// The names still to be uploaded (in name order: the queue is keyed by name).
    pub async fn queued_photo_names(&self) -> Result<Vec<String>, StoreError> {
        let tx = self.read(&[PHOTO_QUEUE])?;
        let queue = tx.object_store(PHOTO_QUEUE).idb(PHOTO_QUEUE, "open")?;
        Ok(get_all_in_store(&queue, PHOTO_QUEUE, None)
            .await?
            .into_iter()
            .filter_map(|(key, _)| key.as_string())
            .collect())
    }

    /// The queued photos a record with work to send names: what the sync engine uploads now.
    /// Photos only an unsaved form names wait until the record is saved (a photo taken and removed
    /// again never leaves the phone), and go just before the record, so the server's collection of
    /// unnamed photos never catches them in between.
    pub async fn photos_to_upload(&self) -> Result<Vec<String>, StoreError> {
        let tx = self.read(&[PHOTO_QUEUE, INSPECTIONS])?;
        let queue = tx.object_store(PHOTO_QUEUE).idb(PHOTO_QUEUE, "open")?;
        let queued: Vec<String> = get_all_in_store(&queue, PHOTO_QUEUE, None)
            .await?
            .into_iter()
            .filter_map(|(key, _)| key.as_string())
            .collect();
        if queued.is_empty() {
            return Ok(queued);
        }
        let inspections = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
        let index = inspections
            .index(BY_QUEUE)
            .idb(INSPECTIONS, "open index queue")?;
        // The outbox is read a window at a time, and only until every queued photo is found named
        // (a photo only an unsaved form names still means reading to the end): a week's backlog
        // naming one signature is not decoded whole before each upload run.
        let mut named = std::collections::HashSet::new();
        let mut seen = std::collections::HashSet::new();
        let mut from: Option<JsValue> = None;
        let mut limit = NAMES_WINDOW;
        loop {
            // From the last queue place read, inclusive: records may share one (a damaged counter
            // falls back to the clock), and those already read are skipped by key.
            let range = from.clone().map(|order| KeyRange::LowerBound(order, false));
            let window = first_in_index(&index, INSPECTIONS, range, limit).await?;
            let mut fresh = 0;
            for (key, value) in &window {
                if !seen.insert(key_text(key)) {
                    continue;
                }
                fresh += 1;
                // Through a JSON value, as the rest of the main module reads records: reading an
                // Inspection from text directly is the list screens' code, and would bring its
                // decoder (16 KiB) into the download every phone needs first.
                let record = field(value, "record")
                    .and_then(|record| from_js::<serde_json::Value>(&record, INSPECTIONS, key).ok())
                    .and_then(|record| serde_json::from_value::<Inspection>(record).ok());
                if let Some(record) = record {
                    named.extend(record.photo_names().into_iter().map(str::to_owned));
                }
            }
            let whole = window.len() < usize::try_from(limit).unwrap_or(usize::MAX);
            if whole || queued.iter().all(|name| named.contains(name)) {
                break;
            }
            if fresh == 0 {
                // A whole window of one queue place, all read before: the rest in one go.
                limit = u32::MAX;
                continue;
            }
            from = window.last().and_then(|(_, value)| field(value, "queue"));
            if from.is_none() {
                break;
            }
        }
        Ok(queued
            .into_iter()
            .filter(|name| named.contains(name))
            .collect())
    }

    /// Puts photos the phone holds back in the upload queue (the server lost or never kept them);
    /// returns how many it queued. Names it does not hold, and photos the server refused for good
    /// (they would only be refused again), are skipped.
    pub async fn queue_photos_again(&self, names: &[&str]) -> Result<usize, StoreError> {
        let tx = self.write(&[PHOTOS, PHOTO_QUEUE])?;
        let mut queued = 0;
        {
            let photos = tx.object_store(PHOTOS).idb(PHOTOS, "open")?;
            let queue = tx.object_store(PHOTO_QUEUE).idb(PHOTO_QUEUE, "open")?;
            for name in names {
                let key = JsValue::from_str(name);
                let value: Option<JsValue> = get_value(&photos, PHOTOS, &key).await?;
                let Some(value) = value else { continue };
                if decode_photo(&value, &key)?.meta.refused.is_some() {
                    continue;
                }
                enqueue(&queue, (*name).to_owned()).await?;
                queued += 1;
            }
        }
        tx.commit().await.idb(PHOTO_QUEUE, "commit")?;
        Ok(queued)
    }

    /// The server has the bytes: the photo leaves the queue.
    pub async fn photo_uploaded(&self, name: &str) -> Result<(), StoreError> {
        self.unqueue_photo(name, None).await
    }

    /// The server refused the bytes for good: the photo leaves the queue with the reason, so the
    /// record naming it is sent and its refusal shown to the inspector instead of waiting forever.
    pub async fn photo_refused(&self, name: &str, reason: &str) -> Result<(), StoreError> {
        self.unqueue_photo(name, Some(reason)).await
    }

    async fn unqueue_photo(&self, name: &str, refused: Option<&str>) -> Result<(), StoreError> {
        let tx = self.write(&[PHOTOS, PHOTO_QUEUE])?;
        {
            let queue = tx.object_store(PHOTO_QUEUE).idb(PHOTO_QUEUE, "open")?;
            delete_key(&queue, PHOTO_QUEUE, JsValue::from_str(name)).await?;
            if let Some(reason) = refused {
                let photos = tx.object_store(PHOTOS).idb(PHOTOS, "open")?;
                let key = JsValue::from_str(name);
                let value: Option<JsValue> = get_value(&photos, PHOTOS, &key).await?;
                if let Some(value) = value {
                    js_sys::Reflect::set(
                        &value,
                        &JsValue::from_str("refused"),
                        &JsValue::from_str(reason),
                    )
                    .map_err(|_| StoreError::Encode {
                        store: PHOTOS,
                        reason: "cannot mark the photo refused".to_owned(),
                    })?;
                    put_js(&photos, PHOTOS, value).await?;
                }
            }
        }
        tx.commit().await.idb(PHOTO_QUEUE, "commit")
    }

    /// Drops a photo the inspector removed from the form, unless something kept still names it (the
    /// saved record or the autosaved form) or it already reached the server.
    pub async fn forget_photo(&self, name: &str, record: &InspectionId) -> Result<(), StoreError> {
        let tx = self.write(&[PHOTOS, PHOTO_QUEUE, INSPECTIONS, FORMS])?;
        {
            let queue = tx.object_store(PHOTO_QUEUE).idb(PHOTO_QUEUE, "open")?;
            let key = JsValue::from_str(name);
            let queued: Option<JsValue> = get_value(&queue, PHOTO_QUEUE, &key).await?;
            if queued.is_none() {
                return Ok(());
            }
            let inspections = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
            let saved = read_record(&inspections, INSPECTIONS, record.as_str())
                .await
                .ok()
                .flatten();
            let named_by_saved = saved.is_some_and(|stored| {
                serde_json::from_value::<Inspection>(stored.record)
                    .is_ok_and(|record| record.photo_names().contains(&name))
            });
            let forms = tx.object_store(FORMS).idb(FORMS, "open")?;
            let form: Option<Form> = crate::store::records::get_in(&forms, FORMS, record.as_str())
                .await
                .ok()
                .flatten();
            let named_by_form = form.is_some_and(|form| form.record.photo_names().contains(&name));
            if named_by_saved || named_by_form {
                return Ok(());
            }
            delete_key(&queue, PHOTO_QUEUE, key.clone()).await?;
            let photos = tx.object_store(PHOTOS).idb(PHOTOS, "open")?;
            delete_key(&photos, PHOTOS, key).await?;
        }
        tx.commit().await.idb(PHOTOS, "commit")
    }

    /// Every stored photo's metadata (no bytes), for counts and tests.
    pub async fn photo_metas(&self) -> Result<Vec<PhotoMeta>, StoreError> {
        let tx = self.read(&[PHOTOS])?;
        let photos = tx.object_store(PHOTOS).idb(PHOTOS, "open")?;
        get_all_in_store(&photos, PHOTOS, None)
            .await?
            .iter()
            .map(|(key, value)| from_js(value, PHOTOS, key))
            .collect()
    }
}

/// Reads a stored photo value: metadata through JSON, the Blob as it is.
fn decode_photo(value: &JsValue, key: &JsValue) -> Result<StoredPhoto, StoreError> {
    let meta: PhotoMeta = from_js(value, PHOTOS, key)?;
    let blob = js_sys::Reflect::get(value, &JsValue::from_str("blob"))
        .ok()
        .and_then(|blob| blob.dyn_into::<web_sys::Blob>().ok())
        .ok_or_else(|| StoreError::Corrupt {
            store: PHOTOS,
            key: meta.sha256.clone(),
            reason: "the photo's bytes are missing".to_owned(),
        })?;
    Ok(StoredPhoto { meta, blob })
}

/// One value by key, as it is stored.
async fn get_value(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    key: &JsValue,
) -> Result<Option<JsValue>, StoreError> {
    store
        .get(key.clone())
        .primitive()
        .idb(store_name, "get")?
        .await
        .idb(store_name, "get")
}

/// Deletes one key.
async fn delete_key(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    key: JsValue,
) -> Result<(), StoreError> {
    store
        .delete(key)
        .primitive()
        .idb(store_name, "delete")?
        .await
        .idb(store_name, "delete")
}

/// Puts a photo in the upload queue.
async fn enqueue(queue: &ObjectStore<'_>, name: String) -> Result<(), StoreError> {
    put_value(queue, PHOTO_QUEUE, &QueueEntry { sha256: name }).await
}
