//! The phone's IndexedDB: the only code that touches it. Records with their sync state, forms, meta.
//!
//! Invariants kept here:
//! - a record is one value holding the core's one [`LocalState`]: saving it and queueing it for the
//!   server are the same write, and every sync event is one transaction applying a core transition;
//! - taking a batch reads the queue and marks it in flight in one transaction, so no save slips in;
//! - a pulled change never overwrites work that waits to be sent or waits for a person (core rule);
//! - a value that does not decode is reported as [`StoreError::Corrupt`] with its store and key when
//!   listed, and set aside as quarantined (kept byte for byte) when the sync engine meets it, so it
//!   never stops the other records from syncing;
//! - the inspector's saves are committed with `durability: "strict"`.
//!
//! A transaction dropped without `commit().await` rolls back (indexed_db_futures' default), so every
//! early `?` inside a transaction undoes all of its writes.

mod codec;
mod error;
mod forms;
mod inspections;
mod meta;
mod migrate;
mod persistence;
mod photos;
mod records;
mod restore;
mod retention;
mod schema;
mod types;
mod venues;

use indexed_db_futures::database::Database;
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::{
    Transaction, TransactionDurability, TransactionMode, TransactionOptions,
};
use serde::de::DeserializeOwned;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

pub use error::StoreError;
pub use fieldcheck_core::local::{LocalState, OpenedOn, ServerVersion};
pub use meta::meta_keys;
pub use persistence::{StorageEstimate, is_persisted, request_persistence, storage_estimate};
pub use photos::{PhotoMeta, StoredPhoto};
pub use records::{Resolution, TakeOver};
pub use restore::Imported;
pub use schema::{DB_VERSION, FORMS, INSPECTIONS, META, OUTBOX, PHOTO_QUEUE, PHOTOS, VENUES};
pub use types::{
    Awaiting, Export, Form, InspectionRow, Listed, LocalCampaign, LocalInspection, LocalVenue,
    Session, Sides, StoredRecord, SyncMark, Unsynced,
};

use error::IdbContext;

/// The store handed to screens through the context (IndexedDB handles are not `Send`).
#[derive(Clone, Copy)]
pub struct StoreContext(leptos::prelude::StoredValue<Store, leptos::prelude::LocalStorage>);

/// Provides the open store to the app.
pub fn provide_store(store: Store) {
    leptos::prelude::provide_context(StoreContext(leptos::prelude::StoredValue::new_local(store)));
}

/// The store provided by the app shell.
pub fn use_store() -> Store {
    use leptos::prelude::GetValue;
    leptos::prelude::expect_context::<StoreContext>()
        .0
        .get_value()
}

/// An open handle on the phone's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
    /// The user a sync run works for ([`Store::bound_to`]): its transactions check that the phone's
    /// data still belongs to them, so a run cannot write one user's pages into another's store.
    owner: Option<fieldcheck_core::UserId>,
}

impl Store {
    /// Opens (creating or upgrading) the database `name`; the app uses `fieldcheck`.
    pub async fn open(name: &str) -> Result<Store, StoreError> {
        Store::open_watched(name, || {}, || {}).await
    }

    /// Opens the database and converts values left by an older version of the app (see `migrate.rs`).
    ///
    /// `on_blocked` runs when another tab still holds an older version open, so the upgrade waits
    /// for it: the app tells the inspector to close that tab instead of loading forever. `on_outdated`
    /// runs when a newer version of the app (in another tab) wants to upgrade this database: this
    /// connection closes at once so that one can go ahead, and the app asks to reload.
    pub async fn open_watched(
        name: &str,
        on_blocked: impl FnOnce() + 'static,
        on_outdated: impl FnOnce() + 'static,
    ) -> Result<Store, StoreError> {
        let store = Store::open_at(name, DB_VERSION, on_blocked).await?;
        store.watch_version_changes(on_outdated);
        migrate::values_to_v2(&store).await?;
        // Only at this build's own version: an older build opening a newer database leaves the
        // newer build's mark as it is.
        if store.db.version() == f64::from(DB_VERSION) {
            store.mark_readable_from().await;
        }
        Ok(store)
    }

    /// Opens the database at a given schema version, running the upgrade steps up to it. Only tests
    /// open older versions, to plant what an older app left behind.
    #[doc(hidden)]
    pub async fn open_at(
        name: &str,
        version: u32,
        on_blocked: impl FnOnce() + 'static,
    ) -> Result<Store, StoreError> {
        let open_error = |message: String| StoreError::Open {
            name: name.to_owned(),
            message,
        };
        let opened = Database::open(name)
            .with_version(version)
            .with_on_blocked(move |_event| {
                on_blocked();
                Ok(())
            })
            .with_on_upgrade_needed(move |event, db| schema::upgrade(&event, &db, version))
            .await;
        match opened {
            Ok(db) => Ok(Store { db, owner: None }),
            Err(error) if is_version_error(&error) => Store::open_newer(name, version).await,
            Err(error) => Err(open_error(error.to_string())),
        }
    }

    /// Opens a database that a newer app upgraded past `version`, as it is, when its mark says that
    /// an app of `version` can use it ([`schema::READABLE_FROM`]); otherwise says what happened.
    async fn open_newer(name: &str, version: u32) -> Result<Store, StoreError> {
        let db = Database::open(name)
            .await
            .map_err(|error| StoreError::Open {
                name: name.to_owned(),
                message: error.to_string(),
            })?;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "IndexedDB versions are small whole numbers"
        )]
        let found = db.version() as u32;
        let store = Store { db, owner: None };
        let readable_from: Option<u32> = store
            .meta_get(meta_keys::READABLE_FROM)
            .await
            .unwrap_or(None);
        if readable_from.is_some_and(|from| from <= version) {
            Ok(store)
        } else {
            store.close();
            Err(StoreError::NewerDatabase { version: found })
        }
    }

    /// Writes [`schema::READABLE_FROM`] to `meta` where a database of this version lacks it (one
    /// upgraded before the mark existed), only ever raising it. A mark that cannot be read or
    /// written costs an older build its way in, never this one its start: the officer's records
    /// stay reachable.
    async fn mark_readable_from(&self) {
        let marked: Option<u32> = self
            .meta_get(meta_keys::READABLE_FROM)
            .await
            .unwrap_or_else(|error| {
                leptos::logging::warn!("the database's mark for older builds: {error}");
                None
            });
        if marked.is_none_or(|marked| marked < schema::READABLE_FROM)
            && let Err(error) = self
                .meta_set(meta_keys::READABLE_FROM, &schema::READABLE_FROM)
                .await
        {
            leptos::logging::warn!("cannot mark the database for older builds: {error}");
        }
    }

    /// The same store, for a sync run on behalf of `owner`.
    pub fn bound_to(&self, owner: fieldcheck_core::UserId) -> Store {
        Store {
            db: self.db.clone(),
            owner: Some(owner),
        }
    }

    /// Closes this connection when another tab asks for a newer version, and says so.
    fn watch_version_changes(&self, on_outdated: impl FnOnce() + 'static) {
        let sys: &web_sys::IdbDatabase = self.db.as_sys().unchecked_ref();
        let db = sys.clone();
        let mut on_outdated = Some(on_outdated);
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
            db.close();
            if let Some(on_outdated) = on_outdated.take() {
                on_outdated();
            }
        });
        sys.set_onversionchange(Some(listener.as_ref().unchecked_ref()));
        // The listener lives as long as the connection: the page's lifetime.
        listener.forget();
    }

    /// Closes the connection; the handle (and its clones) must not be used afterwards.
    pub fn close(self) {
        self.db.close();
    }

    /// The database name.
    pub fn name(&self) -> String {
        self.db.name()
    }

    /// A readonly transaction over `stores`.
    fn read(&self, stores: &[&'static str]) -> Result<Transaction<'_>, StoreError> {
        self.db
            .transaction(stores)
            .build()
            .idb(stores.first().copied().unwrap_or(META), "begin")
    }

    /// A readwrite transaction over `stores`, with the browser's default durability: for the sync
    /// engine's bookkeeping, which a lost commit only makes repeat.
    fn write(&self, stores: &[&'static str]) -> Result<Transaction<'_>, StoreError> {
        self.db
            .transaction(stores)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .idb(stores.first().copied().unwrap_or(META), "begin")
    }

    /// A readwrite transaction that reports "committed" only once the data is on disk: for what the
    /// inspector saves and chooses. (Chromium's default became "relaxed" in version 121: a commit could
    /// be lost to a crash seconds after the app said "saved".)
    fn write_strict(&self, stores: &[&'static str]) -> Result<Transaction<'_>, StoreError> {
        self.db
            .transaction(stores)
            .with_mode(TransactionMode::Readwrite)
            .with_options(TransactionOptions::new().with_durability(TransactionDurability::Strict))
            .build()
            .idb(stores.first().copied().unwrap_or(META), "begin")
    }

    /// Reads and decodes one value by string key.
    async fn get_one<T: DeserializeOwned>(
        &self,
        store_name: &'static str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let tx = self.read(&[store_name])?;
        let store = tx.object_store(store_name).idb(store_name, "open")?;
        records::get_in(&store, store_name, key).await
    }

    /// Writes a raw JS value into a store, bypassing every type: for tests and repair tools that need
    /// to plant exactly what a damaged or older writer could have left behind.
    #[doc(hidden)]
    pub async fn put_raw(
        &self,
        store_name: &'static str,
        key: Option<JsValue>,
        value: JsValue,
    ) -> Result<(), StoreError> {
        // A venue planted is a venue written: the register's digest no longer stands for it.
        let tx = if store_name == META {
            self.write(&[META])?
        } else {
            self.write(&[store_name, META])?
        };
        {
            let store = tx.object_store(store_name).idb(store_name, "open")?;
            venues::mark_register_changed(&store, store_name)?;
            match key {
                Some(key) => {
                    store
                        .put(value)
                        .with_key(key)
                        .primitive()
                        .idb(store_name, "put")?
                        .await
                        .idb(store_name, "put")?;
                }
                None => {
                    store
                        .put(value)
                        .primitive()
                        .idb(store_name, "put")?
                        .await
                        .idb(store_name, "put")?;
                }
            }
        }
        tx.commit().await.idb(store_name, "commit")
    }

    /// Reads a raw JS value, for tests that check what was stored byte for byte.
    #[doc(hidden)]
    pub async fn get_raw(
        &self,
        store_name: &'static str,
        key: JsValue,
    ) -> Result<Option<JsValue>, StoreError> {
        let tx = self.read(&[store_name])?;
        let store = tx.object_store(store_name).idb(store_name, "open")?;
        store
            .get(key)
            .primitive()
            .idb(store_name, "get")?
            .await
            .idb(store_name, "get")
    }
}

/// Whether opening failed because the database is at a higher version than asked for.
fn is_version_error(error: &indexed_db_futures::error::OpenDbError) -> bool {
    use indexed_db_futures::error::{DomException, Error, OpenDbError};
    matches!(
        error,
        OpenDbError::Base(Error::DomException(DomException::Other(exception)))
            if exception.name() == "VersionError"
    )
}
