//! The IndexedDB schema: store and index names, and the upgrade steps from any older version.

use indexed_db_futures::KeyPath;
use indexed_db_futures::database::{Database, VersionChangeEvent};
use indexed_db_futures::prelude::*;

/// The schema version this build of the app expects.
pub const DB_VERSION: u32 = 1;

pub const VENUES: &str = "venues";
pub const INSPECTIONS: &str = "inspections";
pub const PHOTOS: &str = "photos";
pub const OUTBOX: &str = "outbox";
pub const META: &str = "meta";

/// Index on `outbox` by `[entity, id]`: the queued changes of one record.
pub const OUTBOX_BY_RECORD: &str = "record";
/// Index on `inspections` by `record.started_at`, for paging newest-first lists later.
pub const INSPECTIONS_BY_STARTED: &str = "started_at";

/// Runs every step from the database's version to [`DB_VERSION`], in order.
///
/// Steps only ever add stores and indexes or transform values in place; no step deletes a store that
/// holds user data. A later version appends `if old_version < N { step_N(..) }` below; the steps for
/// earlier versions stay as they are, so a phone skipping versions runs all of them in turn.
pub fn upgrade(event: &VersionChangeEvent, db: &Database) -> indexed_db_futures::Result<()> {
    let old_version = event.old_version();
    if old_version < 1.0 {
        step_1(db)?;
    }
    Ok(())
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
        .create_index("venue_id", KeyPath::from("record.venue_id"))
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
