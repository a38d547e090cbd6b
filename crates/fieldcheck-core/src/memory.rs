//! A phone store in memory: the reference implementation of [`LocalStore`], for tests and the model test.
//!
//! It keeps exactly what the phone's IndexedDB keeps — one [`LocalState`] per record, the queue order
//! counter and the pull cursor — and runs the same transitions, so a test of the sync engine over it
//! is a test of the phone's logic without a browser. Every method is atomic, like one IndexedDB
//! transaction: a "killed browser" is simply a run that stops between two calls.

use crate::engine::{LocalStore, PageApplied};
use crate::ids::OpId;
use crate::local::{LocalRecord, LocalState, NotNow, Settled};
use crate::sync::{Entity, Mutation, MutationResult, PullResponse};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::convert::Infallible;

/// One phone's records, queue and cursor, in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RefCell<MemoryState>,
}

#[derive(Debug, Default, Clone)]
struct MemoryState {
    records: BTreeMap<(Entity, String), LocalState>,
    cursor: Option<String>,
    /// The last queue position handed out.
    last_order: u64,
    /// Op ids are made from this device's nonce and a counter, unique like the phone's UUIDv7s.
    device_nonce: u64,
    last_op: u64,
}

impl MemoryStore {
    /// An empty phone; `device_nonce` keeps its op ids apart from other devices'.
    pub fn new(device_nonce: u64) -> MemoryStore {
        MemoryStore {
            state: RefCell::new(MemoryState {
                device_nonce,
                ..MemoryState::default()
            }),
        }
    }

    /// The inspector saves a record: created, or edited through its state's `save`.
    pub fn save(&self, entity: Entity, id: &str, body: Value) -> Result<(), NotNow> {
        let mut state = self.state.borrow_mut();
        state.last_order += 1;
        let order = state.last_order;
        let key = (entity, id.to_owned());
        let next = match state.records.remove(&key) {
            Some(current) => match current.clone().save(body, order) {
                Ok(next) => next,
                Err(not_now) => {
                    state.records.insert(key, current);
                    return Err(not_now);
                }
            },
            None => LocalState::created(body, order),
        };
        state.records.insert(key, next);
        Ok(())
    }

    /// A person's resolution of one record (keep mine, merge, take theirs, send again).
    pub fn resolve(
        &self,
        entity: Entity,
        id: &str,
        action: impl FnOnce(LocalState, u64) -> Result<LocalState, NotNow>,
    ) -> Result<(), NotNow> {
        let mut state = self.state.borrow_mut();
        state.last_order += 1;
        let order = state.last_order;
        let key = (entity, id.to_owned());
        let current = state
            .records
            .get(&key)
            .cloned()
            .ok_or(NotNow::NothingToResolve)?;
        let next = action(current, order)?;
        state.records.insert(key, next);
        Ok(())
    }

    /// One record's state.
    pub fn get(&self, entity: Entity, id: &str) -> Option<LocalState> {
        self.state
            .borrow()
            .records
            .get(&(entity, id.to_owned()))
            .cloned()
    }

    /// Every record, in key order.
    pub fn records(&self) -> Vec<LocalRecord> {
        self.state
            .borrow()
            .records
            .iter()
            .map(|((entity, id), local)| LocalRecord {
                entity: *entity,
                id: id.clone(),
                local: local.clone(),
            })
            .collect()
    }

    /// Forgets every record and the cursor (another user takes the phone over, after nothing is left
    /// unsynced). The op and order counters go on, as they do on a phone.
    pub fn clear(&self) {
        let mut state = self.state.borrow_mut();
        state.records.clear();
        state.cursor = None;
    }
}

impl LocalStore for MemoryStore {
    type Error = Infallible;

    async fn take_batch(&self, limit: usize) -> Result<Vec<Mutation>, Infallible> {
        let mut state = self.state.borrow_mut();
        let mut queued: Vec<(u64, (Entity, String))> = state
            .records
            .iter()
            .filter_map(|(key, local)| local.order().map(|order| (order, key.clone())))
            .collect();
        queued.sort();
        let mut batch = Vec::new();
        for (_, key) in queued.into_iter().take(limit) {
            state.last_op += 1;
            let op_id = OpId(
                uuid::Uuid::from_u64_pair(state.device_nonce, state.last_op)
                    .hyphenated()
                    .to_string(),
            );
            let Some(current) = state.records.remove(&key) else {
                continue;
            };
            let (next, mutation) = current.take(key.0, &key.1, op_id);
            state.records.insert(key, next);
            batch.extend(mutation);
        }
        Ok(batch)
    }

    async fn settle(
        &self,
        sent: &[Mutation],
        results: &[MutationResult],
    ) -> Result<Vec<Settled>, Infallible> {
        let mut state = self.state.borrow_mut();
        let mut settled = Vec::with_capacity(results.len());
        for result in results {
            let Some(mutation) = sent.iter().find(|mutation| mutation.op_id == result.op_id) else {
                settled.push(Settled::Unsettled);
                continue;
            };
            let key = (mutation.entity, mutation.id.clone());
            let Some(current) = state.records.remove(&key) else {
                settled.push(Settled::Unsettled);
                continue;
            };
            let (next, outcome) = current.settle(result);
            state.records.insert(key, next);
            settled.push(outcome);
        }
        Ok(settled)
    }

    async fn pull_cursor(&self) -> Result<Option<String>, Infallible> {
        Ok(self.state.borrow().cursor.clone())
    }

    async fn apply_page(&self, page: &PullResponse) -> Result<PageApplied, Infallible> {
        let mut state = self.state.borrow_mut();
        let mut applied = PageApplied::default();
        for change in &page.changes {
            if !change.deleted && !change.entity.reads(&change.body) {
                applied.malformed += 1;
                continue;
            }
            let key = (change.entity, change.id.clone());
            let before = state.records.remove(&key);
            let after = match before.clone() {
                Some(current) => current.pulled(change),
                None => LocalState::pulled_new(change),
            };
            if after != before {
                applied.changed += 1;
            }
            if let Some(after) = after {
                state.records.insert(key, after);
            }
        }
        state.cursor = Some(page.cursor.clone());
        Ok(applied)
    }
}
