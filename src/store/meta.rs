//! The `meta` store: session, owner of the data, device id, pull cursor, queue counter, settings, campaigns.

use chrono::{DateTime, FixedOffset};
use fieldcheck_core::sync::Officer;
use fieldcheck_core::{DeviceId, User};
use indexed_db_futures::KeyRange;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

use crate::store::codec::{from_js, to_js};
use crate::store::error::IdbContext;
use crate::store::records::{decode_listed, get_all_in_store, get_in, send_get};
use crate::store::schema::META;
use crate::store::{Listed, LocalCampaign, Session, Store, StoreError};
use fieldcheck_core::Campaign;

/// Meta keys.
pub mod meta_keys {
    pub const SESSION: &str = "session";
    /// The user whose records, queue and cursor these are (kept after logout).
    pub const OWNER: &str = "owner";
    pub const DEVICE_ID: &str = "device_id";
    pub const PULL_CURSOR: &str = "pull_cursor";
    /// Pulled changes this build could not read, kept for a build that can (`records.rs` `Unread`).
    pub const UNREAD_CHANGES: &str = "unread_changes";
    pub const LAST_SYNCED_AT: &str = "last_synced_at";
    /// The last queue position handed out.
    pub const QUEUE_COUNTER: &str = "queue_counter";
    /// The tokens to revoke on the server as soon as it can be reached (logged out while offline):
    /// a list, oldest first; a single token as an older build left it.
    pub const PENDING_LOGOUT: &str = "pending_logout";
    /// Which value layout the records are in (2 since one state per record).
    pub const LAYOUT: &str = "layout";
    /// The oldest schema version whose app can use the database as it is (see
    /// `schema::READABLE_FROM`), so that an older app opened offline can tell.
    pub const READABLE_FROM: &str = "readable_from";
    pub const LANG: &str = "lang";
    pub const STORAGE_PERSISTED: &str = "storage_persisted";
    /// The unit's officers as the server last listed them (`GET /api/users`).
    pub const OFFICERS: &str = "officers";
    /// Months of others' inspections the phone keeps (`retention.rs`).
    pub const KEEP_MONTHS: &str = "keep_months";
    /// The day and setting of the last sweep for old copies: `"2026-12-02/12"` (`retention.rs`);
    /// cleared with the pull cursor, since a pull from the start brings old copies back.
    pub const SWEPT: &str = "swept";
    /// A new value with every write to the venues store (`venues.rs` `mark_register_changed`).
    pub const REGISTER_STAMP: &str = "register_stamp";
    /// The venues' shown bodies as one JSON text, with the stamp they were read under: what 场所
    /// and the other lists read instead of thousands of values while no venue was written since.
    pub const REGISTER_DIGEST: &str = "register_digest";
    /// Prefix of campaign entries: `campaign:<id>`.
    pub const CAMPAIGN_PREFIX: &str = "campaign:";
}

impl Store {
    /// Reads a meta value.
    pub async fn meta_get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.get_one(META, key).await
    }

    /// Writes a meta value.
    pub async fn meta_set<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let tx = self.write(&[META])?;
        self.check_owner(&tx).await?;
        {
            let meta = tx.object_store(META).idb(META, "open")?;
            put_meta(&meta, key, value).await?;
        }
        tx.commit().await.idb(META, "commit")
    }

    /// The unit's officers kept for offline use (empty before the first sync).
    pub async fn officers(&self) -> Result<Vec<Officer>, StoreError> {
        Ok(self
            .meta_get(meta_keys::OFFICERS)
            .await?
            .unwrap_or_default())
    }

    /// Keeps the unit's officers.
    pub async fn set_officers(&self, officers: &[Officer]) -> Result<(), StoreError> {
        self.meta_set(meta_keys::OFFICERS, &officers).await
    }

    /// Removes a meta value.
    pub async fn meta_delete(&self, key: &str) -> Result<(), StoreError> {
        let tx = self.write(&[META])?;
        {
            let meta = tx.object_store(META).idb(META, "open")?;
            delete_meta(&meta, key).await?;
        }
        tx.commit().await.idb(META, "commit")
    }

    /// This installation's device id: a UUIDv7 made the first time it is asked for, then kept.
    pub async fn device_id(&self) -> Result<DeviceId, StoreError> {
        if let Some(device_id) = self.meta_get::<DeviceId>(meta_keys::DEVICE_ID).await? {
            return Ok(device_id);
        }
        let device_id = DeviceId(uuid::Uuid::now_v7().to_string());
        self.meta_set(meta_keys::DEVICE_ID, &device_id).await?;
        Ok(device_id)
    }

    /// The stored session, if someone is logged in on this phone.
    pub async fn session(&self) -> Result<Option<Session>, StoreError> {
        self.meta_get(meta_keys::SESSION).await
    }

    pub async fn set_session(&self, session: &Session) -> Result<(), StoreError> {
        self.meta_set(meta_keys::SESSION, session).await
    }

    /// Marks the session expired (the server answered 401) and returns it; nothing else changes.
    pub async fn expire_session(&self) -> Result<Option<Session>, StoreError> {
        let Some(mut session) = self.session().await? else {
            return Ok(None);
        };
        session.expired = true;
        self.set_session(&session).await?;
        Ok(Some(session))
    }

    /// Logs out: forgets the session and remembers its token for revocation on the server (sent by
    /// the sync engine as soon as the server can be reached), in one transaction. Records, the queue
    /// and the owner stay: they still belong to the user who logged out.
    pub async fn log_out(&self) -> Result<(), StoreError> {
        let tx = self.write_strict(&[META])?;
        {
            let meta = tx.object_store(META).idb(META, "open")?;
            let session: Option<Session> = get_in(&meta, META, meta_keys::SESSION).await?;
            if let Some(session) = session {
                // Beside the tokens of earlier logouts not yet sent: each is revoked in its turn.
                let mut pending = pending_logouts_in(&meta).await?;
                if !pending.contains(&session.token) {
                    pending.push(session.token);
                }
                put_pending_logouts(&meta, &pending).await?;
            }
            delete_meta(&meta, meta_keys::SESSION).await?;
        }
        tx.commit().await.idb(META, "commit")
    }

    /// The tokens of logouts not yet sent to the server, oldest first.
    pub async fn pending_logouts(&self) -> Result<Vec<String>, StoreError> {
        let tx = self.read(&[META])?;
        let meta = tx.object_store(META).idb(META, "open")?;
        pending_logouts_in(&meta).await
    }

    /// The server has revoked `token` (or no longer knows it): it is not sent again. The others
    /// stay, a logout made meanwhile among them.
    pub async fn logout_sent(&self, token: &str) -> Result<(), StoreError> {
        let tx = self.write_strict(&[META])?;
        {
            let meta = tx.object_store(META).idb(META, "open")?;
            let mut pending = pending_logouts_in(&meta).await?;
            pending.retain(|pending| pending != token);
            put_pending_logouts(&meta, &pending).await?;
        }
        tx.commit().await.idb(META, "commit")
    }

    /// When the last sync run finished, as this phone's user last saw it.
    pub async fn last_synced(&self) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        // Stored as RFC 3339 text and read by chrono's own parser for it: the serde decoding of a
        // date goes through chrono's general format parser, 5 KB more in the main module.
        let text: Option<String> = self.meta_get(meta_keys::LAST_SYNCED_AT).await?;
        text.map(|text| {
            DateTime::parse_from_rfc3339(&text).map_err(|error| StoreError::Corrupt {
                store: META,
                key: meta_keys::LAST_SYNCED_AT.to_owned(),
                reason: error.to_string(),
            })
        })
        .transpose()
    }

    pub async fn set_last_synced(&self, at: &DateTime<FixedOffset>) -> Result<(), StoreError> {
        self.meta_set(meta_keys::LAST_SYNCED_AT, &at.to_rfc3339())
            .await
    }

    /// The user whose data this phone holds.
    pub async fn owner(&self) -> Result<Option<User>, StoreError> {
        self.meta_get(meta_keys::OWNER).await
    }

    /// The cursor to pull from (`None`: from the start).
    pub async fn pull_cursor(&self) -> Result<Option<String>, StoreError> {
        self.meta_get(meta_keys::PULL_CURSOR).await
    }

    /// The campaigns pulled from the server, with the rev each was pulled at (what an edit is based on).
    pub async fn campaigns_at_rev(&self) -> Result<Listed<LocalCampaign>, StoreError> {
        let tx = self.read(&[META])?;
        let meta = tx.object_store(META).idb(META, "open")?;
        let raw = get_all_in_store(&meta, META, Some(campaign_range())).await?;
        Ok(decode_listed(raw, META, Some))
    }

    /// The campaigns pulled from the server.
    pub async fn campaigns(&self) -> Result<Listed<Campaign>, StoreError> {
        let tx = self.read(&[META])?;
        let meta = tx.object_store(META).idb(META, "open")?;
        let raw = get_all_in_store(&meta, META, Some(campaign_range())).await?;
        Ok(decode_listed(raw, META, |campaign: LocalCampaign| {
            Some(campaign.record)
        }))
    }
}

/// Every key of a campaign entry: [prefix, prefix + U+FFFF).
pub(crate) fn campaign_range() -> KeyRange<JsValue> {
    let prefix = meta_keys::CAMPAIGN_PREFIX;
    KeyRange::Bound(
        JsValue::from_str(prefix),
        false,
        JsValue::from_str(&format!("{prefix}\u{ffff}")),
        true,
    )
}

/// The tokens of logouts not yet sent, read inside an open transaction: a list, or the one token an
/// older build kept. Read from the browser's value as it is (no decoding of JSON text: the shell
/// carries this read). A value that is neither cannot be sent either; it must not stop a logout
/// (the session would stay on the phone): it reads as none, and the next logout writes over it.
async fn pending_logouts_in(meta: &ObjectStore<'_>) -> Result<Vec<String>, StoreError> {
    let Some(value) = send_get(meta, META, meta_keys::PENDING_LOGOUT)?.await? else {
        return Ok(Vec::new());
    };
    let tokens = if let Some(token) = value.as_string() {
        Some(vec![token])
    } else if js_sys::Array::is_array(&value) {
        js_sys::Array::from(&value)
            .iter()
            .map(|token| token.as_string())
            .collect()
    } else {
        None
    };
    Ok(tokens.unwrap_or_else(|| {
        leptos::logging::error!("pending logouts unreadable, left unsent");
        Vec::new()
    }))
}

/// Puts the tokens of logouts not yet sent inside an open transaction (none: the entry goes).
async fn put_pending_logouts(meta: &ObjectStore<'_>, tokens: &[String]) -> Result<(), StoreError> {
    if tokens.is_empty() {
        return delete_meta(meta, meta_keys::PENDING_LOGOUT).await;
    }
    let list: js_sys::Array = tokens
        .iter()
        .map(|token| JsValue::from_str(token))
        .collect();
    send_meta(meta, meta_keys::PENDING_LOGOUT, list.into())?.await
}

/// Puts a meta value inside an open transaction.
pub(crate) async fn put_meta<T: Serialize>(
    meta: &ObjectStore<'_>,
    key: &str,
    value: &T,
) -> Result<(), StoreError> {
    send_meta(meta, key, to_js(value, META)?)?.await
}

/// Puts a JS value under `key` in `meta` and returns its answer to await later (see
/// [`crate::store::records::send_get`]).
pub(crate) fn send_meta(
    meta: &ObjectStore<'_>,
    key: &str,
    value: JsValue,
) -> Result<impl Future<Output = Result<(), StoreError>> + use<>, StoreError> {
    let request = meta
        .put(value)
        .with_key(JsValue::from_str(key))
        .primitive()
        .idb(META, "put")?;
    Ok(async move { request.await.idb(META, "put").map(drop) })
}

/// Deletes a meta value inside an open transaction.
pub(crate) async fn delete_meta(meta: &ObjectStore<'_>, key: &str) -> Result<(), StoreError> {
    meta.delete(JsValue::from_str(key))
        .primitive()
        .idb(META, "delete")?
        .await
        .idb(META, "delete")
}

/// Hands out the next queue position inside an open transaction: queued work goes out in this order.
pub(crate) async fn next_order(meta: &ObjectStore<'_>) -> Result<u64, StoreError> {
    let next = last_order(meta).await? + 1;
    put_order(meta, next).await?;
    Ok(next)
}

/// The last queue position handed out (0: none yet).
pub(crate) async fn last_order(meta: &ObjectStore<'_>) -> Result<u64, StoreError> {
    send_last_order(meta)?.await
}

/// Asks for the last queue position handed out and returns its answer to await later (see
/// [`crate::store::records::send_get`]), for a caller that asks for it beside other reads and then
/// stores the next with [`send_order`] in the same transaction.
pub(crate) fn send_last_order(
    meta: &ObjectStore<'_>,
) -> Result<impl Future<Output = Result<u64, StoreError>> + use<>, StoreError> {
    let answer = send_get(meta, META, meta_keys::QUEUE_COUNTER)?;
    Ok(async move {
        let key = JsValue::from_str(meta_keys::QUEUE_COUNTER);
        match answer
            .await?
            .map(|value| from_js::<u64>(&value, META, &key))
        {
            None => Ok(0),
            Some(Ok(last)) => Ok(last),
            // A damaged counter must not stop the inspector from saving: the clock in milliseconds
            // is past any position handed out so far (one per save), so the order stays increasing.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            // ms since 1970: positive, < 2^53
            Some(Err(StoreError::Corrupt { .. })) => Ok(js_sys::Date::now() as u64),
            Some(Err(other)) => Err(other),
        }
    })
}

/// Stores `order` as the last queue position handed out.
pub(crate) async fn put_order(meta: &ObjectStore<'_>, order: u64) -> Result<(), StoreError> {
    send_order(meta, order)?.await
}

/// Sends the put of `order` as the last queue position handed out and returns its answer to await
/// later (see [`crate::store::records::send_put`]).
pub(crate) fn send_order(
    meta: &ObjectStore<'_>,
    order: u64,
) -> Result<impl Future<Output = Result<(), StoreError>> + use<>, StoreError> {
    // A whole number is its own JS value: no JSON text to write and parse for it.
    #[expect(
        clippy::cast_precision_loss,
        reason = "one position per save: far below 2^53, exact as a float"
    )]
    let value = JsValue::from_f64(order as f64);
    send_meta(meta, meta_keys::QUEUE_COUNTER, value)
}
