//! Keeping a phone light: dropping old copies of colleagues' inspections that the server holds (the
//! rule is the core's [`fieldcheck_core::retention::may_drop`]), and the officer's choice of how many
//! months to keep.

use chrono::{DateTime, FixedOffset};
use fieldcheck_core::retention::{DEFAULT_KEEP_MONTHS, cutoff, may_drop};
use fieldcheck_core::{Inspection, UserId};
use indexed_db_futures::prelude::*;
use std::collections::HashSet;

use crate::store::codec::{from_js, key_text};
use crate::store::error::IdbContext;
use crate::store::meta::meta_keys;
use crate::store::records::get_all_in_store;
use crate::store::schema::{FORMS, INSPECTIONS};
use crate::store::{Store, StoreError, StoredRecord};

impl Store {
    /// Months of others' inspections this phone keeps (0: all).
    pub async fn keep_months(&self) -> Result<u32, StoreError> {
        Ok(self
            .meta_get(meta_keys::KEEP_MONTHS)
            .await?
            .unwrap_or(DEFAULT_KEEP_MONTHS))
    }

    pub async fn set_keep_months(&self, months: u32) -> Result<(), StoreError> {
        self.meta_set(meta_keys::KEEP_MONTHS, &months).await
    }

    /// Drops the copies [`may_drop`] allows for `me` at `now`, in one transaction that reads each
    /// record's state as it deletes (a save racing it either lands first and keeps the record, or
    /// after, on a record the server has). A value that cannot be read is kept: it is evidence of a
    /// fault, shown elsewhere. Returns how many went.
    pub async fn drop_old_copies(
        &self,
        me: &UserId,
        now: DateTime<FixedOffset>,
    ) -> Result<usize, StoreError> {
        let Some(cutoff) = cutoff(now, self.keep_months().await?) else {
            return Ok(0);
        };
        let tx = self.write(&[INSPECTIONS, FORMS])?;
        let mut dropped = 0;
        {
            let forms = tx.object_store(FORMS).idb(FORMS, "open")?;
            let with_form: HashSet<String> = get_all_in_store(&forms, FORMS, None)
                .await?
                .iter()
                .map(|(key, _)| key_text(key))
                .collect();
            let store = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
            for (key, value) in get_all_in_store(&store, INSPECTIONS, None).await? {
                let Ok(stored) = from_js::<StoredRecord>(&value, INSPECTIONS, &key) else {
                    continue;
                };
                let Some(Ok(record)) = stored
                    .local
                    .shown()
                    .map(|body| serde_json::from_value::<Inspection>(body.clone()))
                else {
                    continue;
                };
                let has_form = with_form.contains(&key_text(&key));
                if may_drop(&stored.local, &record, me, cutoff, has_form) {
                    store
                        .delete(key)
                        .primitive()
                        .idb(INSPECTIONS, "delete")?
                        .await
                        .idb(INSPECTIONS, "delete")?;
                    dropped += 1;
                }
            }
        }
        tx.commit().await.idb(INSPECTIONS, "commit")?;
        Ok(dropped)
    }
}
