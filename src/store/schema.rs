//! The IndexedDB schema: store and index names, and the upgrade steps from any older version.

use indexed_db_futures::KeyPath;
use indexed_db_futures::database::{Database, VersionChangeEvent};
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionRef;
use wasm_bindgen::JsValue;

use crate::store::meta::meta_keys;

/// The schema version this build of the app expects.
pub const DB_VERSION: u32 = 5;

/// The oldest schema version whose app can use a database of [`DB_VERSION`] as it is, written to
/// `meta` at every open. A phone online runs the newest build and upgrades its database; offline
/// later, it may open an older build from the service worker's cache (a new worker could not
/// install on a weak link). That build reads this mark, and opens the newer database instead of
/// failing, when the steps since its own version only added indexes: the browser keeps those
/// current on its writes too. Raise it to the new version with a step that changes what values
/// mean, or adds a store (or a meta key) holding a user's data that an older app would have to
/// write to, or clear when another user takes the phone over. Written in the upgrade transaction,
/// and after opening where a database of this version lacks it.
pub const READABLE_FROM: u32 = 4;

/// The layout of the values this build writes (see `migrate.rs`): a record and its queued work in one
/// core `LocalState`. Written to `meta` when the database is made, which so holds nothing older.
pub const VALUE_LAYOUT: u32 = 2;

pub const VENUES: &str = "venues";
pub const INSPECTIONS: &str = "inspections";
pub const PHOTOS: &str = "photos";
/// Version 1's queue of changes. Since version 2 a record's queued work lives in its own state; the
/// migration of values (`migrate.rs`) folds the entries into their records and empties this store.
pub const OUTBOX: &str = "outbox";
pub const META: &str = "meta";
/// The inspection form as typed (autosave), by record id.
pub const FORMS: &str = "forms";
/// The photos (by name) still to be uploaded; see `photos.rs`.
pub const PHOTO_QUEUE: &str = "photo_queue";

/// Index on `outbox` by `[entity, id]`: the queued changes of one record (version 1).
pub const OUTBOX_BY_RECORD: &str = "record";
/// Index on `inspections` by `record.started_at`, for paging newest-first lists later.
pub const INSPECTIONS_BY_STARTED: &str = "started_at";
/// Index on `inspections` by `record.venue_id`.
pub const INSPECTIONS_BY_VENUE: &str = "venue_id";
/// Index on `inspections` and `venues` by `queue`: the records with work to send, in queue order.
/// Records without work have no `queue` and are not in it.
pub const BY_QUEUE: &str = "queue";
/// Index on `inspections` and `venues` by `local.state`: finds the records that wait for a person.
pub const BY_STATE: &str = "state";
/// Index on `inspections` by `record.hazards.length` (IndexedDB reads `length` of an array): from 1
/// up, the records holding a hazard, for the hazard board without reading every record.
pub const INSPECTIONS_BY_HAZARD_COUNT: &str = "hazard_count";
/// Index on `inspections` by `record.follows`: the re-inspections (a record following none has
/// `null` there, which is no key, so it is not in the index).
pub const INSPECTIONS_BY_FOLLOWS: &str = "follows";
/// Index on `venues` by `[record.initials, record.name]`, then (as every index) by the key: the
/// register in the venue list's pinyin order, so its first page is read without the rest.
pub const VENUES_BY_PINYIN: &str = "pinyin";
/// Index on `forms` by `record.venue_id`: the unfinished form of a venue.
pub const FORMS_BY_VENUE: &str = "venue_id";

/// Runs every step from the database's version to `target` (the app's [`DB_VERSION`]), in order.
///
/// Steps only ever add stores and indexes or transform values in place; no step deletes a store that
/// holds user data. A later version appends `if old_version < N { step_N(..) }` below; the steps for
/// earlier versions stay as they are, so a phone skipping versions runs all of them in turn.
pub fn upgrade(
    event: &VersionChangeEvent,
    db: &Database,
    target: u32,
) -> indexed_db_futures::Result<()> {
    let old_version = event.old_version();
    if old_version < 1.0 && target >= 1 {
        step_1(db)?;
    }
    if old_version < 2.0 && target >= 2 {
        step_2(db)?;
    }
    if old_version < 3.0 && target >= 3 {
        step_3(db)?;
    }
    if old_version < 4.0 && target >= 4 {
        step_4(db)?;
    }
    if old_version < 5.0 && target >= 5 {
        step_5(db)?;
    }
    if target == DB_VERSION {
        mark_readable_from(db)?;
        // A database made just now holds no values of an older layout: the app need not fetch the
        // conversion's code (a file of its own in the release build) to find that out.
        if old_version < 1.0 {
            mark_new_layout(db)?;
        }
    }
    Ok(())
}

/// Writes [`VALUE_LAYOUT`] to `meta` in the upgrade transaction that makes the database.
fn mark_new_layout(db: &Database) -> indexed_db_futures::Result<()> {
    in_upgrade(db, "upgrade_layout", |upgrade| {
        put_at_once(
            &upgrade.object_store(META)?,
            meta_keys::LAYOUT,
            VALUE_LAYOUT,
        )
    })
}

/// A put sent at once: the library sends a request on its future's first poll, which an upgrade
/// callback cannot await; the browser's own put is sent at once and commits with the upgrade.
fn put_at_once(
    meta: &indexed_db_futures::object_store::ObjectStore<'_>,
    key: &str,
    value: u32,
) -> indexed_db_futures::Result<()> {
    meta.as_sys()
        .put_with_key(&JsValue::from(value), &JsValue::from_str(key))
        .map_err(|error| indexed_db_futures::error::Error::from(js_sys::Error::from(error)))?;
    Ok(())
}

/// Writes [`READABLE_FROM`] to `meta` in the upgrade transaction itself: the mark changes with the
/// version, never a moment after it (a tab killed, or a conversion failing, in between would leave
/// an older build reading the old mark).
fn mark_readable_from(db: &Database) -> indexed_db_futures::Result<()> {
    in_upgrade(db, "upgrade_mark", |upgrade| {
        put_at_once(
            &upgrade.object_store(META)?,
            meta_keys::READABLE_FROM,
            READABLE_FROM,
        )
    })
}

/// Version 1: the five stores and the indexes the screens query.
fn step_1(db: &Database) -> indexed_db_futures::Result<()> {
    let venues = db
        .create_object_store(VENUES)
        .with_key_path(KeyPath::from("record.id"))
        .build()?;
    venues
        .create_index("kind", KeyPath::from("record.kind"))
        .build()?;
    venues
        .create_index("name", KeyPath::from("record.name"))
        .build()?;

    let inspections = db
        .create_object_store(INSPECTIONS)
        .with_key_path(KeyPath::from("record.id"))
        .build()?;
    inspections
        .create_index("status", KeyPath::from("record.status"))
        .build()?;
    inspections
        .create_index(INSPECTIONS_BY_VENUE, KeyPath::from("record.venue_id"))
        .build()?;
    inspections
        .create_index(INSPECTIONS_BY_STARTED, KeyPath::from("record.started_at"))
        .build()?;
    inspections
        .create_index("sync", KeyPath::from("sync"))
        .build()?;

    // Photos are Blobs with their metadata, named by the SHA-256 of their bytes (used by a later step).
    db.create_object_store(PHOTOS)
        .with_key_path(KeyPath::from("sha256"))
        .build()?;

    // Values are core `OutboxEntry`s; the generated key is the order they were queued in.
    let outbox = db
        .create_object_store(OUTBOX)
        .with_auto_increment(true)
        .build()?;
    outbox
        .create_index(OUTBOX_BY_RECORD, KeyPath::from(["entity", "id"]))
        .build()?;

    // Key-value pairs with out-of-line string keys: session, device_id, pull_cursor, lang, ….
    db.create_object_store(META).build()?;
    Ok(())
}

/// Version 2: one state per record. The queue and the records waiting for a person become indexes of
/// the record stores (`queue`, `local.state`), and the inspection form gets a store of its own.
///
/// The values themselves are converted after opening, in one ordinary transaction (see `migrate.rs`):
/// an upgrade transaction cannot be awaited safely, and a conversion that is killed halfway must roll
/// back and run again, never leave half-converted records.
fn step_2(db: &Database) -> indexed_db_futures::Result<()> {
    let forms = db
        .create_object_store(FORMS)
        .with_key_path(KeyPath::from("record.id"))
        .build()?;
    forms
        .create_index(FORMS_BY_VENUE, KeyPath::from("record.venue_id"))
        .build()?;
    // Existing stores are reached through the upgrade transaction the new store belongs to.
    let upgrade = forms.transaction();
    for store_name in [INSPECTIONS, VENUES] {
        let store = upgrade.object_store(store_name)?;
        store
            .create_index(BY_QUEUE, KeyPath::from("queue"))
            .build()?;
        store
            .create_index(BY_STATE, KeyPath::from("local.state"))
            .build()?;
    }
    Ok(())
}

/// Version 3: the upload queue of photos and signatures (`photos` itself exists since version 1 and
/// held nothing before this version).
fn step_3(db: &Database) -> indexed_db_futures::Result<()> {
    db.create_object_store(PHOTO_QUEUE)
        .with_key_path(KeyPath::from("sha256"))
        .build()?;
    Ok(())
}

/// Version 4: the hazard board's two indexes on `inspections`. The browser fills them from the stored
/// values as part of the upgrade, so no value is rewritten, and keeps them current on every write.
fn step_4(db: &Database) -> indexed_db_futures::Result<()> {
    in_upgrade(db, "upgrade_4", |upgrade| {
        let inspections = upgrade.object_store(INSPECTIONS)?;
        inspections
            .create_index(
                INSPECTIONS_BY_HAZARD_COUNT,
                KeyPath::from("record.hazards.length"),
            )
            .build()?;
        inspections
            .create_index(INSPECTIONS_BY_FOLLOWS, KeyPath::from("record.follows"))
            .build()?;
        Ok(())
    })
}

/// Version 5: the venue list's pinyin order as an index of `venues`, filled by the browser like
/// version 4's. A venue without initials (registered on the phone and not yet synced) has `""`,
/// which is a key, and comes first, as the list sorts it.
fn step_5(db: &Database) -> indexed_db_futures::Result<()> {
    in_upgrade(db, "upgrade_5", |upgrade| {
        upgrade
            .object_store(VENUES)?
            .create_index(
                VENUES_BY_PINYIN,
                KeyPath::from(["record.initials", "record.name"]),
            )
            .build()?;
        Ok(())
    })
}

/// Runs `step` with the upgrade transaction, for a step that adds indexes to existing stores.
///
/// The only way this crate hands out the upgrade transaction is through a store made in it (version
/// 2 used its new `forms`); such a step needs no new store, so this makes an empty one named
/// `scaffold` for the moment it takes, and removes it again in the same transaction.
fn in_upgrade(
    db: &Database,
    scaffold: &str,
    step: impl FnOnce(&TransactionRef<'_>) -> indexed_db_futures::Result<()>,
) -> indexed_db_futures::Result<()> {
    let made = db.create_object_store(scaffold).build()?;
    step(made.transaction())?;
    db.delete_object_store(scaffold)
}
