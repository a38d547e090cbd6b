//! Converting what an older app left on the phone into the current value layout, losing nothing.
//!
//! Layout 1 kept a record's sync mark, rev, error and server copy beside it and its queued changes in
//! the `outbox` store. Layout 2 keeps one core [`LocalState`] per record. The conversion runs after the
//! database opens, in one strict transaction: a phone killed halfway rolls back and converts again on
//! the next start. Each queued entry is folded into its record (an entry that was sent becomes the op
//! in flight, with the same op id, so the server still recognises a replay); a value that cannot be
//! read is kept byte for byte as quarantined; an outbox entry that cannot be read stays where it is and
//! goes into the export of unsynced work.
//!
//! Only a phone that ran a layout-1 build needs the conversion, and it is a large part of the code
//! (the layout-1 records' decoding): the release build keeps it in a file of its own, fetched only
//! when a database without the current layout's mark opens. A database made by this build is marked
//! as it is made (`schema.rs`).

use std::collections::BTreeMap;

use fieldcheck_core::local::{LocalState, ServerVersion};
use fieldcheck_core::sync::{Entity, ErrorBody};
use fieldcheck_core::{OpId, User};
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use crate::store::codec::{from_js, key_text};
use crate::store::error::IdbContext;
use crate::store::meta::{meta_keys, put_meta};
use crate::store::records::{get_all_in_store, get_in, put_record};
use crate::store::schema::{INSPECTIONS, META, OUTBOX, VALUE_LAYOUT as LAYOUT, VENUES};
use crate::store::{Session, Store, StoreError, StoredRecord};

/// The conversion in a file of its own (the release build).
#[cfg(feature = "split")]
mod split {
    use std::pin::Pin;

    use leptos::wasm_split::{SplitLoaderError, wasm_split};

    use crate::store::{Store, StoreError};

    /// The conversion under way, boxed: a split function cannot be `async`.
    pub(super) type Converting = Pin<Box<dyn Future<Output = Result<(), StoreError>>>>;

    #[wasm_split(migrate, wasm_split_path = ::leptos::wasm_split, fallible)]
    pub(super) fn convert(store: Store) -> Result<Converting, SplitLoaderError> {
        Ok(Box::pin(async move { super::convert(&store).await }))
    }
}

/// A record as layout 1 kept it (inspections had all fields; venues only `record` and `rev`).
#[derive(Debug, Deserialize)]
struct V1Record {
    record: Value,
    #[serde(default)]
    rev: u64,
    #[serde(default = "synced")]
    sync: String,
    #[serde(default)]
    error: Option<ErrorBody>,
    #[serde(default)]
    server_copy: Option<ServerVersion>,
}

fn synced() -> String {
    "synced".to_owned()
}

/// A queued change as layout 1 kept it in `outbox`.
#[derive(Debug, Clone, Deserialize)]
struct V1Entry {
    op_id: OpId,
    entity: Entity,
    id: String,
    body: Value,
    #[serde(default)]
    attempts: u32,
}

/// Converts every value of layout 1, once. A database of this layout or a newer one (an older
/// build opening what a newer one left) is never touched.
pub(crate) async fn values_to_v2(store: &Store) -> Result<(), StoreError> {
    if store
        .meta_get::<u32>(meta_keys::LAYOUT)
        .await
        .ok()
        .flatten()
        .is_some_and(|layout| layout >= LAYOUT)
    {
        return Ok(());
    }
    #[cfg(feature = "split")]
    {
        // The service worker caches every file of the build before it takes over, so the file is
        // there offline too; if it is not, nothing was touched and the next start tries again.
        let converting = crate::patience::within(split::convert(store.clone()))
            .await
            .ok_or_else(|| {
                StoreError::ConversionMissing(format!(
                    "it did not arrive within {} ms",
                    crate::patience::PATIENCE_MS
                ))
            })?
            .map_err(|error| StoreError::ConversionMissing(error.to_string()))?;
        converting.await
    }
    #[cfg(not(feature = "split"))]
    convert(store).await
}

/// The conversion itself, in one strict transaction.
async fn convert(store: &Store) -> Result<(), StoreError> {
    let tx = store.write_strict(&[INSPECTIONS, VENUES, OUTBOX, META])?;
    {
        let meta = tx.object_store(META).idb(META, "open")?;
        let outbox = tx.object_store(OUTBOX).idb(OUTBOX, "open")?;
        // Queued entries by record, in queue order (the generated keys).
        let mut entries: BTreeMap<(Entity, String), Vec<(u64, V1Entry)>> = BTreeMap::new();
        let mut last_order = 0;
        for (key, value) in get_all_in_store(&outbox, OUTBOX, None).await? {
            let (Some(order), Ok(entry)) = (key.as_f64(), from_js::<V1Entry>(&value, OUTBOX, &key))
            else {
                continue;
            };
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let order = order as u64; // generated keys are small positive integers
            last_order = last_order.max(order);
            outbox
                .delete(key)
                .primitive()
                .idb(OUTBOX, "delete")?
                .await
                .idb(OUTBOX, "delete")?;
            entries
                .entry((entry.entity, entry.id.clone()))
                .or_default()
                .push((order, entry));
        }
        for (entity, name) in [(Entity::Inspection, INSPECTIONS), (Entity::Venue, VENUES)] {
            let records = tx.object_store(name).idb(name, "open")?;
            convert_store(&records, name, entity, &mut entries, &mut last_order).await?;
        }
        // Entries whose record was missing: the entry itself is the record's latest edit.
        for ((entity, id), queued) in entries {
            let Some(name) = crate::store::records::store_of(entity) else {
                continue;
            };
            let records = tx.object_store(name).idb(name, "open")?;
            let latest = queued
                .last()
                .map(|(_, entry)| entry.body.clone())
                .unwrap_or_default();
            let local = from_layout_1(0, latest, "pending", None, None, &queued, &mut last_order);
            put_record(&records, name, &id, local).await?;
        }
        let counter: Option<u64> = get_in(&meta, META, meta_keys::QUEUE_COUNTER)
            .await
            .unwrap_or(None);
        put_meta(
            &meta,
            meta_keys::QUEUE_COUNTER,
            &counter.unwrap_or(0).max(last_order),
        )
        .await?;
        // The data belongs to whoever was logged in when the app was updated.
        let owner: Option<User> = get_in(&meta, META, meta_keys::OWNER).await.unwrap_or(None);
        if owner.is_none()
            && let Ok(Some(session)) = get_in::<Session>(&meta, META, meta_keys::SESSION).await
        {
            put_meta(&meta, meta_keys::OWNER, &session.user).await?;
        }
        put_meta(&meta, meta_keys::LAYOUT, &LAYOUT).await?;
    }
    tx.commit().await.idb(META, "commit")
}

async fn convert_store(
    records: &ObjectStore<'_>,
    name: &'static str,
    entity: Entity,
    entries: &mut BTreeMap<(Entity, String), Vec<(u64, V1Entry)>>,
    last_order: &mut u64,
) -> Result<(), StoreError> {
    for (key, value) in get_all_in_store(records, name, None).await? {
        let id = key_text(&key);
        if from_js::<StoredRecord>(&value, name, &key).is_ok() {
            continue;
        }
        let queued = entries.remove(&(entity, id.clone())).unwrap_or_default();
        let local = match from_js::<V1Record>(&value, name, &key) {
            Ok(v1) => from_layout_1(
                v1.rev,
                v1.record,
                &v1.sync,
                v1.error,
                v1.server_copy,
                &queued,
                last_order,
            ),
            Err(error) => LocalState::Quarantined {
                raw: js_sys::JSON::stringify(&value)
                    .ok()
                    .and_then(|text| text.as_string())
                    .unwrap_or_default(),
                reason: error.to_string(),
                server: None,
            },
        };
        put_record(records, name, &id, local).await?;
    }
    Ok(())
}

/// The one state a layout-1 record and its queued entries stand for. The server copy a pending edit
/// was based on is known only by its rev (its body was never kept): such a copy cannot be taken or
/// merged, only compared against by the server.
fn from_layout_1(
    rev: u64,
    record: Value,
    sync: &str,
    error: Option<ErrorBody>,
    server_copy: Option<ServerVersion>,
    queued: &[(u64, V1Entry)],
    last_order: &mut u64,
) -> LocalState {
    let base = (rev > 0).then_some(ServerVersion {
        rev,
        body: Value::Null,
    });
    let order = queued.first().map_or_else(
        || {
            *last_order += 1;
            *last_order
        },
        |(order, _)| *order,
    );
    match (sync, server_copy) {
        ("synced", _) if queued.is_empty() && rev > 0 => LocalState::Synced {
            server: ServerVersion { rev, body: record },
        },
        ("conflict", Some(server)) => LocalState::Conflict {
            base,
            mine: record,
            server,
        },
        ("rejected", _) => LocalState::Rejected {
            base,
            mine: record,
            reason: error
                .unwrap_or_else(|| ErrorBody::new("rejected", "the server refused the change")),
            newer: None,
        },
        _ => match queued.iter().find(|(_, entry)| entry.attempts > 0) {
            Some((_, sent)) => LocalState::InFlight {
                order,
                base,
                next: (record != sent.body).then_some(record),
                mine: sent.body.clone(),
                op_id: sent.op_id.clone(),
                newer: None,
            },
            None => LocalState::Queued {
                order,
                base,
                mine: record,
                newer: None,
            },
        },
    }
}
