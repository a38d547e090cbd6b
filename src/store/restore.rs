//! An export of unsynced work brought back onto a phone: the last resort when a phone cannot reach the server.
//!
//! The file is the one `export_unsynced` writes. Importing it on a wiped phone, a reinstalled app or
//! a colleague's phone (logged in as the same officer) puts every record, form and photo it holds back
//! where the sync engine sends it. The phone's own work is never overwritten (the file still has the
//! other copy); a copy the phone only pulled gives way to the file's work, and is kept beside it so
//! that the server's answer shows both (`LocalState::imported_over`).

use fieldcheck_core::User;
use fieldcheck_core::photo::{is_photo_name, photo_name};
use fieldcheck_core::sync::Entity;
use serde::Deserialize;
use serde_json::Value;

use crate::store::codec::base64_decode;
use crate::store::error::IdbContext;
use crate::store::meta::{meta_keys, next_order};
use crate::store::photos::PhotoMeta;
use crate::store::records::{get_in, put_record, put_value};
use crate::store::schema::{FORMS, INSPECTIONS, META, VENUES};
use crate::store::{Form, LocalState, Store, StoreError, StoredRecord};

/// What an import put on the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Imported {
    /// Records added, queued for the server (or waiting for a person, as they were).
    pub records: u32,
    /// Records the phone already held: its copy is kept.
    pub already_here: u32,
    /// Unsaved forms added.
    pub forms: u32,
    /// Unsaved forms this build cannot read (damaged, or kept by a newer build): left out, and
    /// still in the file.
    pub forms_unreadable: u32,
    /// Photos and signatures added, queued for upload.
    pub photos: u32,
}

/// The export file, as far as an import reads it.
#[derive(Deserialize)]
struct ExportFile {
    app: String,
    kind: String,
    owner: Option<User>,
    #[serde(default)]
    records: Vec<ExportedRecord>,
    #[serde(default)]
    forms: Vec<Value>,
    #[serde(default)]
    photos: Vec<ExportedPhoto>,
}

#[derive(Deserialize)]
struct ExportedRecord {
    entity: Entity,
    id: String,
    stored: Value,
}

#[derive(Deserialize)]
struct ExportedPhoto {
    sha256: String,
    content_type: String,
    taken_at: chrono::DateTime<chrono::FixedOffset>,
    base64: String,
}

fn bad(reason: impl Into<String>) -> StoreError {
    StoreError::BadImport(reason.into())
}

impl Store {
    /// Reads an export file and puts what it holds on the phone. The whole file is checked before
    /// anything is written; photos go in first, so a record never lands without the pictures it names.
    pub async fn import_unsynced(&self, text: &str) -> Result<Imported, StoreError> {
        let file: ExportFile = serde_json::from_str(text)
            .map_err(|error| bad(format!("not a FieldCheck export ({error})")))?;
        if file.app != "fieldcheck" || file.kind != "unsynced-export" {
            return Err(bad(format!(
                "not a FieldCheck export of unsynced work (app \"{}\", kind \"{}\")",
                file.app, file.kind
            )));
        }
        let owner = self.owner().await?;
        match (&owner, &file.owner) {
            (Some(owner), Some(exported)) if owner.id == exported.id => {}
            (_, exported) => {
                return Err(StoreError::ImportOtherOwner {
                    name: exported
                        .as_ref()
                        .map_or_else(|| "?".to_owned(), |user| user.name.clone()),
                });
            }
        }
        let mut records = Vec::with_capacity(file.records.len());
        for record in file.records {
            let name = match record.entity {
                Entity::Inspection => INSPECTIONS,
                Entity::Venue => VENUES,
                Entity::Campaign => {
                    return Err(bad(format!("record {} is a campaign", record.id)));
                }
            };
            // A record the old phone could not read itself travels as it was: it comes in
            // quarantined, byte for byte, instead of keeping the rest of the file out.
            let local = match serde_json::from_value::<StoredRecord>(record.stored.clone()) {
                Ok(stored) => stored.local,
                Err(error) => LocalState::Quarantined {
                    raw: record.stored.to_string(),
                    reason: format!("imported unreadable: {error}"),
                    server: None,
                },
            };
            records.push((name, record.id, local));
        }
        // Work goes out in the order it was made on the old phone: a venue registered in the field
        // before the inspection that names it.
        records.sort_by_key(|(_, _, local)| local.order().unwrap_or(u64::MAX));
        // A form is what was typed and never saved: one this build cannot read is left out (the
        // file keeps it), not a reason to keep every record and photo of the file out too.
        let mut forms = Vec::with_capacity(file.forms.len());
        let mut forms_unreadable = 0;
        for form in file.forms {
            match serde_json::from_value::<Form>(form) {
                Ok(form) => forms.push(form),
                Err(error) => {
                    leptos::logging::warn!("an unsaved form in the file cannot be read: {error}");
                    forms_unreadable += 1;
                }
            }
        }
        let mut photos = Vec::with_capacity(file.photos.len());
        for photo in file.photos {
            if !is_photo_name(&photo.sha256) {
                return Err(bad(format!("\"{}\" does not name a photo", photo.sha256)));
            }
            let bytes = base64_decode(&photo.base64)
                .ok_or_else(|| bad(format!("photo {} is not base64", photo.sha256)))?;
            if photo_name(&bytes) != photo.sha256 {
                return Err(bad(format!(
                    "photo {} does not hold the bytes it names",
                    photo.sha256
                )));
            }
            if !matches!(photo.content_type.as_str(), "image/jpeg" | "image/png") {
                return Err(bad(format!(
                    "photo {} is {}, not a JPEG or PNG",
                    photo.sha256, photo.content_type
                )));
            }
            photos.push((photo, bytes));
        }

        let mut imported = Imported {
            forms_unreadable,
            ..Imported::default()
        };
        for (photo, bytes) in photos {
            let blob = bytes_blob(&bytes, &photo.content_type)?;
            let meta = PhotoMeta {
                sha256: photo.sha256,
                content_type: photo.content_type,
                size: bytes.len() as u64,
                width: 0,
                height: 0,
                taken_at: photo.taken_at,
                refused: None,
            };
            // One already on the phone (readable or not) stays as it is.
            if matches!(self.photo(&meta.sha256).await, Ok(None)) {
                self.put_photo(&meta, &blob).await?;
                imported.photos += 1;
            }
        }

        let tx = self.write_strict(&[INSPECTIONS, VENUES, FORMS, META])?;
        {
            let meta = tx.object_store(META).idb(META, "open")?;
            // The phone may have changed hands (another tab) while the photos went in.
            let now_owner: Option<User> = get_in(&meta, META, meta_keys::OWNER).await?;
            if now_owner.map(|owner| owner.id) != owner.map(|owner| owner.id) {
                return Err(StoreError::OwnerChanged);
            }
            for (name, id, local) in records {
                let store = tx.object_store(name).idb(name, "open")?;
                let order = next_order(&meta).await?;
                let placed = match get_in::<StoredRecord>(&store, name, &id).await {
                    Ok(None) => Some(local.requeued(order)),
                    // A copy the phone only pulled (after logging in) gives way to the file's work.
                    Ok(Some(held)) => local.imported_over(&held.local, order),
                    // A damaged copy on the phone is kept for its own export.
                    Err(_) => None,
                };
                match placed {
                    Some(placed) => {
                        put_record(&store, name, &id, placed).await?;
                        imported.records += 1;
                    }
                    None => imported.already_here += 1,
                }
            }
            let store = tx.object_store(FORMS).idb(FORMS, "open")?;
            for form in forms {
                let held = get_in::<Form>(&store, FORMS, form.record.id.as_str()).await;
                if matches!(held, Ok(None)) {
                    put_value(&store, FORMS, &form).await?;
                    imported.forms += 1;
                }
            }
        }
        tx.commit().await.idb(INSPECTIONS, "commit")?;
        Ok(imported)
    }
}

/// A Blob of `bytes`, as a picked file would be.
fn bytes_blob(bytes: &[u8], content_type: &str) -> Result<web_sys::Blob, StoreError> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(content_type);
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|_| {
        StoreError::Encode {
            store: crate::store::PHOTOS,
            reason: "cannot make a Blob of the photo's bytes".to_owned(),
        }
    })
}
