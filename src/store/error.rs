//! What can go wrong with the phone's IndexedDB, as typed values that name the store and key involved.

use fieldcheck_core::TransitionError;
use fieldcheck_core::local::NotNow;

/// An IndexedDB failure, told apart so that screens can say what happened and nothing is silently lost.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened (private mode, no space, blocked upgrade, no IndexedDB).
    #[error("cannot open the local database \"{name}\": {message}")]
    Open { name: String, message: String },
    /// A newer version of the app upgraded the database to `version`, in a way this version cannot
    /// use (the app opened from an older cached copy, with no signal to fetch the newest).
    #[error(
        "the local database was upgraded by a newer version of the app (schema {version}); open the \
         app once with a signal to get that version"
    )]
    NewerDatabase { version: u32 },
    /// A request or transaction failed inside IndexedDB.
    #[error("IndexedDB failed to {op} in store \"{store}\": {message}")]
    Idb {
        store: &'static str,
        op: &'static str,
        message: String,
    },
    /// A stored value no longer reads as what it should be. Other records are unaffected.
    #[error("corrupt value in store \"{store}\" under key {key}: {reason}")]
    Corrupt {
        store: &'static str,
        key: String,
        reason: String,
    },
    /// A value could not be turned into something IndexedDB stores (a bug, not bad data).
    #[error("cannot encode a value for store \"{store}\": {reason}")]
    Encode { store: &'static str, reason: String },
    /// The change is not allowed by the record's status (an approved record is locked).
    #[error("not allowed: {0}")]
    NotAllowed(#[from] TransitionError),
    /// The action does not apply to the record's sync state (nothing to resolve, unreadable, …).
    #[error("{0}")]
    NotNow(#[from] NotNow),
    /// No such record on the phone.
    #[error("no {entity} {id} on this phone")]
    Missing { entity: &'static str, id: String },
    /// Another user's work is still on the phone: it must reach the server (or be exported) first.
    #[error("{0} records of the previous user are not on the server yet")]
    UnsyncedWork(u32),
    /// The unsynced work changed after it was exported: export again before discarding.
    #[error("the unsynced records changed since they were exported; export them again")]
    ExportOutdated,
    /// A file given to import is not a readable export of unsynced work; nothing was imported.
    #[error("cannot import this file: {0}")]
    BadImport(String),
    /// The export belongs to another officer: their records go onto a phone they log in to.
    #[error("this export holds the work of {name}; log in as them to import it")]
    ImportOtherOwner { name: String },
    /// The code that converts what an older build left on the phone could not be fetched; nothing
    /// was changed, and the next start tries again.
    #[error(
        "the code that converts the records an older version of the app left could not be fetched \
         ({0}); open the app once with a signal"
    )]
    ConversionMissing(String),
    /// Another user took the phone over while this sync run was going: the run stops.
    #[error("another user took this phone over; the sync run for the previous user stops")]
    OwnerChanged,
}

impl StoreError {
    /// Whether the error is about damaged data rather than a failing database.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, StoreError::Corrupt { .. })
    }
}

/// Attaches the store and operation to an `indexed_db_futures` error.
pub(crate) trait IdbContext<T> {
    fn idb(self, store: &'static str, op: &'static str) -> Result<T, StoreError>;
}

impl<T> IdbContext<T> for Result<T, indexed_db_futures::error::Error> {
    fn idb(self, store: &'static str, op: &'static str) -> Result<T, StoreError> {
        self.map_err(|error| StoreError::Idb {
            store,
            op,
            message: error.to_string(),
        })
    }
}
