//! One state per record on the phone and the pure transitions between them: the phone's sync state machine.
//!
//! A record on the phone is always in exactly one [`LocalState`]. Every event that touches it — a save,
//! taking it into a push, the server's answer, a pulled change, a person's resolution — is a function
//! here from one state to the next, so the rules are tested once, natively, and the phone (IndexedDB)
//! and the model test (memory) only execute them. What the rules guarantee, whatever the order of events,
//! lost answers and restarts:
//!
//! - an edit the inspector saved is on the server or is shown on the phone as waiting for a person
//!   (conflict, rejected, quarantined);
//! - a queued edit is sent under one op id until the server settles it, so nothing is applied twice;
//! - a record only leaves `mine` by the inspector's own choice ("take theirs", "discard").

use crate::ids::OpId;
use crate::sync::{
    Change, Entity, ErrorBody, Mutation, MutationResult, MutationStatus, with_fields,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A server copy of a record: its body at a revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerVersion {
    pub rev: u64,
    pub body: Value,
}

/// Where the phone's copy of one record stands with the server.
///
/// `base` is always the server copy the local edit (`mine`) was made on (`None`: a record the server has
/// never had), so that `base_rev` is its rev and a three-way merge has its common ancestor. `newer` is a
/// newer server copy pulled since, kept beside `mine` but never over it.
///
/// Stored as one JSON object whose `state` names the variant (`{"state": "queued", "order": 3, …}`).
/// Its `Deserialize` is written out (see [`StoredFields`]) rather than derived: serde's derive for an
/// internally tagged enum buffers every value and decodes each variant through a second deserializer,
/// code that weighed about 25 KB in the app's main module; the format is the same.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LocalState {
    /// The phone's copy is the server's at `server.rev`.
    Synced { server: ServerVersion },
    /// An edit not yet sent; a new save rewrites `mine` in place. `order` is its place in the queue.
    Queued {
        order: u64,
        base: Option<ServerVersion>,
        mine: Value,
        #[serde(default)]
        newer: Option<ServerVersion>,
    },
    /// Sent at least once under `op_id` and may have been applied; it is sent again, unchanged, until
    /// the server settles it. A save meanwhile goes to `next`, queued behind it.
    InFlight {
        order: u64,
        base: Option<ServerVersion>,
        mine: Value,
        op_id: OpId,
        #[serde(default)]
        next: Option<Value>,
        #[serde(default)]
        newer: Option<ServerVersion>,
    },
    /// The server moved on from `base` to `server`; a person chooses.
    Conflict {
        base: Option<ServerVersion>,
        mine: Value,
        server: ServerVersion,
    },
    /// The server's rules refused `mine` for `reason`; a person fixes and sends again, or takes theirs.
    Rejected {
        base: Option<ServerVersion>,
        mine: Value,
        reason: ErrorBody,
        #[serde(default)]
        newer: Option<ServerVersion>,
    },
    /// The phone cannot read what it stored (`raw`, kept byte for byte); a person exports or repairs it.
    Quarantined {
        raw: String,
        reason: String,
        #[serde(default)]
        server: Option<ServerVersion>,
    },
}

/// The `state` tag of a stored [`LocalState`].
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum StateTag {
    Synced,
    Queued,
    InFlight,
    Conflict,
    Rejected,
    Quarantined,
}

/// Every field any [`LocalState`] variant stores, read in one pass; the tag then says which are
/// required. `reason` is an [`ErrorBody`] for `rejected` and a text for `quarantined`, so it is read
/// as a JSON value and decoded once the tag is known.
#[derive(Deserialize)]
struct StoredFields {
    state: StateTag,
    order: Option<u64>,
    base: Option<ServerVersion>,
    #[serde(default, deserialize_with = "present")]
    mine: Option<Value>,
    op_id: Option<OpId>,
    next: Option<Value>,
    newer: Option<ServerVersion>,
    server: Option<ServerVersion>,
    #[serde(default, deserialize_with = "present")]
    reason: Option<Value>,
    raw: Option<String>,
}

/// A field that is there, even as `null` (which `Option` alone would read as absent): a stored
/// `"mine": null` is an edit whose body is null, as the derived decoding read it.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl<'de> Deserialize<'de> for LocalState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        fn required<T, E: Error>(value: Option<T>, field: &'static str) -> Result<T, E> {
            value.ok_or_else(|| E::missing_field(field))
        }
        let fields = StoredFields::deserialize(deserializer)?;
        Ok(match fields.state {
            StateTag::Synced => LocalState::Synced {
                server: required(fields.server, "server")?,
            },
            StateTag::Queued => LocalState::Queued {
                order: required(fields.order, "order")?,
                base: fields.base,
                mine: required(fields.mine, "mine")?,
                newer: fields.newer,
            },
            StateTag::InFlight => LocalState::InFlight {
                order: required(fields.order, "order")?,
                base: fields.base,
                mine: required(fields.mine, "mine")?,
                op_id: required(fields.op_id, "op_id")?,
                next: fields.next,
                newer: fields.newer,
            },
            StateTag::Conflict => LocalState::Conflict {
                base: fields.base,
                mine: required(fields.mine, "mine")?,
                server: required(fields.server, "server")?,
            },
            StateTag::Rejected => LocalState::Rejected {
                base: fields.base,
                mine: required(fields.mine, "mine")?,
                reason: ErrorBody::deserialize(required::<Value, D::Error>(
                    fields.reason,
                    "reason",
                )?)
                .map_err(D::Error::custom)?,
                newer: fields.newer,
            },
            StateTag::Quarantined => LocalState::Quarantined {
                raw: required(fields.raw, "raw")?,
                reason: match required(fields.reason, "reason")? {
                    Value::String(reason) => reason,
                    other => {
                        return Err(D::Error::invalid_type(
                            serde::de::Unexpected::Other(json_kind(&other)),
                            &"a text",
                        ));
                    }
                },
                server: fields.server,
            },
        })
    }
}

/// How a JSON value's type is named in a decoding error.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The fields the server fills in on the records it stores: an edit from a phone never sets them.
const SERVER_FILLED: [&str; 6] = [
    "unit_id",
    "created_by",
    "received_at",
    "reviews",
    "review_comment",
    "initials",
];

/// Whether a server copy holds an edit: every field of the edit, except those the server fills in,
/// has the same value on the server.
pub(crate) fn holds_edit(server: &Value, mine: &Value) -> bool {
    let (Some(server), Some(mine)) = (server.as_object(), mine.as_object()) else {
        return server == mine;
    };
    mine.iter()
        .filter(|(field, _)| !SERVER_FILLED.contains(&field.as_str()))
        .all(|(field, value)| server.get(field).unwrap_or(&Value::Null) == value)
}

/// The copy a form was opened on: the server copy its record was made on (none: a record the server
/// did not have; its body unknown in forms kept by older builds) and the record as the form showed
/// it then (unknown for forms kept by older builds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenedOn {
    pub base: Option<ServerVersion>,
    pub shown: Option<Value>,
}

impl OpenedOn {
    /// A form opened now on a record in `state` (none: a new record). The base is the copy the
    /// shown record was made on, not a newer one the phone only keeps beside it: a form opened on a
    /// local edit still has that edit's base under it.
    pub fn now(state: Option<&LocalState>) -> OpenedOn {
        OpenedOn {
            base: state.and_then(LocalState::base).cloned(),
            shown: state.and_then(LocalState::shown).cloned(),
        }
    }

    /// The server rev under the form (0: none).
    pub fn rev(&self) -> u64 {
        self.base.as_ref().map_or(0, |base| base.rev)
    }
}

/// A record as the phone keeps it: which record, and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalRecord {
    pub entity: Entity,
    pub id: String,
    #[serde(flatten)]
    pub local: LocalState,
}

/// Why a person's action or a save does not apply to a record in its current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotNow {
    /// Quarantined values cannot be edited: they are not readable. Export or take the server's copy.
    #[error("the local copy cannot be read; export it or take the server's copy")]
    Unreadable,
    /// The action needs a conflict (keep mine, merge) or a server copy (take theirs) that is not there.
    #[error("there is nothing to resolve for this record")]
    NothingToResolve,
    /// A merge is offered only when the two edits touch different fields.
    #[error("both edits changed the same fields; keep one of the two")]
    NotMergeable,
}

/// What the server's answer to one mutation did to its record, for the engine's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The server holds the edit (applied now or before).
    Synced,
    /// The server moved on; the record waits for a person.
    Conflict,
    /// The server refused the edit; the record waits for a person.
    Rejected,
    /// The answer settles nothing (unusable, or for another op): the same op is sent again later.
    Unsettled,
}

impl LocalState {
    /// A record created on the phone: queued for the server at `order`.
    pub fn created(body: Value, order: u64) -> LocalState {
        LocalState::Queued {
            order,
            base: None,
            mine: body,
            newer: None,
        }
    }

    /// A record first seen in a pull.
    pub fn pulled_new(change: &Change) -> Option<LocalState> {
        (!change.deleted).then(|| LocalState::Synced {
            server: ServerVersion {
                rev: change.rev,
                body: change.body.clone(),
            },
        })
    }

    /// The body screens show: the local edit if there is one, else the server's copy.
    pub fn shown(&self) -> Option<&Value> {
        match self {
            LocalState::Synced { server } => Some(&server.body),
            LocalState::InFlight {
                next: Some(next), ..
            } => Some(next),
            LocalState::Queued { mine, .. }
            | LocalState::InFlight { mine, .. }
            | LocalState::Conflict { mine, .. }
            | LocalState::Rejected { mine, .. } => Some(mine),
            LocalState::Quarantined { .. } => None,
        }
    }

    /// The newest server copy the phone knows.
    pub fn server(&self) -> Option<&ServerVersion> {
        match self {
            LocalState::Synced { server } | LocalState::Conflict { server, .. } => Some(server),
            LocalState::Queued { base, newer, .. }
            | LocalState::InFlight { base, newer, .. }
            | LocalState::Rejected { base, newer, .. } => newer.as_ref().or(base.as_ref()),
            LocalState::Quarantined { server, .. } => server.as_ref(),
        }
    }

    /// The server copy the phone's copy is based on: the one it holds, or the one its edit was made
    /// on (none: the server has never had it, or the phone cannot read what it stored).
    pub fn base(&self) -> Option<&ServerVersion> {
        match self {
            LocalState::Synced { server } => Some(server),
            LocalState::Queued { base, .. }
            | LocalState::InFlight { base, .. }
            | LocalState::Conflict { base, .. }
            | LocalState::Rejected { base, .. } => base.as_ref(),
            LocalState::Quarantined { .. } => None,
        }
    }

    /// The rev the phone's copy is based on (0: the server has never had it).
    pub fn base_rev(&self) -> u64 {
        match self {
            LocalState::Synced { server } => server.rev,
            LocalState::Queued { base, .. }
            | LocalState::InFlight { base, .. }
            | LocalState::Conflict { base, .. }
            | LocalState::Rejected { base, .. } => base.as_ref().map_or(0, |base| base.rev),
            LocalState::Quarantined { .. } => 0,
        }
    }

    /// Whether the record has an edit to send (queued or in flight).
    pub fn has_work(&self) -> bool {
        matches!(
            self,
            LocalState::Queued { .. } | LocalState::InFlight { .. }
        )
    }

    /// Whether the record waits for a person (conflict, rejected, quarantined).
    pub fn awaits_person(&self) -> bool {
        matches!(
            self,
            LocalState::Conflict { .. }
                | LocalState::Rejected { .. }
                | LocalState::Quarantined { .. }
        )
    }

    /// Whether the phone holds something of this record that the server does not: work to send, or
    /// work waiting for a person.
    pub fn is_unsynced(&self) -> bool {
        !matches!(self, LocalState::Synced { .. })
    }

    /// The queue position of work to send.
    pub fn order(&self) -> Option<u64> {
        match self {
            LocalState::Queued { order, .. } | LocalState::InFlight { order, .. } => Some(*order),
            _ => None,
        }
    }

    /// The same state on another phone (an export imported there): work to send takes the queue
    /// position `order` of that phone; its op id is kept, so an op the server already applied is
    /// answered as a replay instead of applied twice. Other states do not queue and stay as they are.
    pub fn requeued(mut self, order: u64) -> LocalState {
        if let LocalState::Queued { order: place, .. } | LocalState::InFlight { order: place, .. } =
            &mut self
        {
            *place = order;
        }
        self
    }

    /// An exported state (`self`) brought onto a phone that already holds `held` for the same record:
    /// what the phone keeps, or `None` to keep `held`. The phone's own work always stays. A copy it
    /// only pulled (synced) gives way to the file's work, which goes out at queue position `order` on
    /// the base it was made on; a newer server copy the phone pulled is remembered beside it, so the
    /// server's answer (a conflict) shows both and nothing is overwritten unseen.
    pub fn imported_over(self, held: &LocalState, order: u64) -> Option<LocalState> {
        let LocalState::Synced { server: pulled } = held else {
            return None;
        };
        if !self.is_unsynced() {
            return None;
        }
        // The edit reached the server already (sent from another phone the file was imported on,
        // or from this one before): what the phone pulled holds it, and sending it again would only
        // meet a conflict. An edit that differs in any field it sets (emptied ones too) goes out.
        // (An edit made on `base` can be on the server only at a later rev.)
        if pulled.rev > self.base_rev()
            && self
                .shown()
                .is_some_and(|mine| holds_edit(&pulled.body, mine))
        {
            return None;
        }
        let known = self.server().map_or(0, |server| server.rev);
        let mut moved = self.requeued(order);
        if pulled.rev > known {
            match &mut moved {
                LocalState::Queued { newer, .. }
                | LocalState::InFlight { newer, .. }
                | LocalState::Rejected { newer, .. }
                | LocalState::Quarantined { server: newer, .. } => *newer = Some(pulled.clone()),
                LocalState::Conflict { server, .. } => *server = pulled.clone(),
                LocalState::Synced { .. } => {}
            }
        }
        Some(moved)
    }

    /// A stable code for the state, for screens, indexes and tests.
    pub fn code(&self) -> &'static str {
        match self {
            LocalState::Synced { .. } => "synced",
            LocalState::Queued { .. } => "queued",
            LocalState::InFlight { .. } => "in_flight",
            LocalState::Conflict { .. } => "conflict",
            LocalState::Rejected { .. } => "rejected",
            LocalState::Quarantined { .. } => "quarantined",
        }
    }

    /// The inspector saved `body`. `order` is the queue position given if the record enters the queue
    /// now (a record already queued keeps its place, so a new venue still goes before the inspection
    /// that names it).
    ///
    /// Synced → Queued; Queued → `mine` rewritten in place; InFlight → `next`; Conflict → `mine`
    /// replaced (still waits for the person's choice); Rejected → Queued again (the inspector acted on
    /// the refusal). Quarantined cannot be saved over: its unreadable value would be lost.
    pub fn save(self, body: Value, order: u64) -> Result<LocalState, NotNow> {
        Ok(match self {
            LocalState::Synced { server } => LocalState::Queued {
                order,
                base: Some(server),
                mine: body,
                newer: None,
            },
            LocalState::Queued {
                order, base, newer, ..
            } => LocalState::Queued {
                order,
                base,
                mine: body,
                newer,
            },
            LocalState::InFlight {
                order,
                base,
                mine,
                op_id,
                newer,
                ..
            } => LocalState::InFlight {
                order,
                base,
                mine,
                op_id,
                next: Some(body),
                newer,
            },
            LocalState::Conflict { base, server, .. } => LocalState::Conflict {
                base,
                mine: body,
                server,
            },
            LocalState::Rejected { base, newer, .. } => LocalState::Queued {
                order,
                base,
                mine: body,
                newer,
            },
            LocalState::Quarantined { .. } => return Err(NotNow::Unreadable),
        })
    }

    /// The inspector saved `body` in a form opened on `opened`. If the phone has since taken a newer
    /// server copy (a pull while the form was open, or before an autosaved form was resumed), saving
    /// as usual would send the edit on top of a copy the inspector never saw and silently undo it:
    /// the save waits as a conflict instead, beside that newer copy. A newer copy that holds what
    /// the form showed is the phone's own edit, pushed since the form opened on it: nothing of
    /// anybody else's is undone, and the save goes as usual.
    pub fn save_from(
        self,
        body: Value,
        order: u64,
        opened: &OpenedOn,
    ) -> Result<LocalState, NotNow> {
        match self {
            LocalState::Synced { server }
                if server.rev > opened.rev()
                    && !opened
                        .shown
                        .as_ref()
                        .is_some_and(|shown| holds_edit(&server.body, shown)) =>
            {
                // The copy the form was opened on is the common ancestor: with its body known, the
                // two edits merge when they touch different fields.
                Ok(LocalState::Conflict {
                    base: opened.base.clone(),
                    mine: body,
                    server,
                })
            }
            other => other.save(body, order),
        }
    }

    /// Takes the record into a push. Queued becomes InFlight under `fresh_op_id` (fixed from now on);
    /// InFlight is sent again exactly as before. Other states send nothing.
    ///
    /// Returns the new state and the mutation to send.
    pub fn take(
        self,
        entity: Entity,
        id: &str,
        fresh_op_id: OpId,
    ) -> (LocalState, Option<Mutation>) {
        match self {
            LocalState::Queued {
                order,
                base,
                mine,
                newer,
            } => {
                let mutation = Mutation {
                    op_id: fresh_op_id.clone(),
                    entity,
                    id: id.to_owned(),
                    base_rev: base.as_ref().map_or(0, |base| base.rev),
                    body: mine.clone(),
                };
                let state = LocalState::InFlight {
                    order,
                    base,
                    mine,
                    op_id: fresh_op_id,
                    next: None,
                    newer,
                };
                (state, Some(mutation))
            }
            LocalState::InFlight {
                ref base,
                ref mine,
                ref op_id,
                ..
            } => {
                let mutation = Mutation {
                    op_id: op_id.clone(),
                    entity,
                    id: id.to_owned(),
                    base_rev: base.as_ref().map_or(0, |base| base.rev),
                    body: mine.clone(),
                };
                (self, Some(mutation))
            }
            other => (other, None),
        }
    }

    /// Applies the server's answer to the mutation sent under `result.op_id`.
    ///
    /// Only the answer for the op in flight counts: anything else (an answer for an older op, a record
    /// no longer in flight) changes nothing. An answer that cannot be used (applied without a rev, a
    /// conflict without the server copy) changes nothing either: the same op goes again.
    pub fn settle(self, result: &MutationResult) -> (LocalState, Settled) {
        let LocalState::InFlight {
            order,
            base,
            mine,
            op_id,
            next,
            newer,
        } = self
        else {
            return (self, Settled::Unsettled);
        };
        let unchanged = |base, mine, op_id, next, newer| LocalState::InFlight {
            order,
            base,
            mine,
            op_id,
            next,
            newer,
        };
        if op_id != result.op_id {
            return (
                unchanged(base, mine, op_id, next, newer),
                Settled::Unsettled,
            );
        }
        match result.status {
            MutationStatus::Applied | MutationStatus::Duplicate => {
                let Some(rev) = result.rev else {
                    return (
                        unchanged(base, mine, op_id, next, newer),
                        Settled::Unsettled,
                    );
                };
                // A pulled copy at this very rev is the server's canonical body; otherwise it is what
                // was sent with the fields only the server sets, as the answer tells them (the pull
                // then finds the copy it brings already here and writes nothing). A pulled copy newer
                // than `rev` (the answer was lost, others moved on, the pull went past it) stays the
                // newest known copy: it is not pulled again.
                let sent = match &result.fields {
                    Some(fields) => with_fields(mine, fields),
                    None => mine,
                };
                let (applied, newer) = match newer {
                    Some(newer) if newer.rev == rev => (newer.body, None),
                    Some(newer) if newer.rev > rev => (sent, Some(newer)),
                    _ => (sent, None),
                };
                let server = ServerVersion { rev, body: applied };
                let state = match (next, newer) {
                    (Some(next), newer) => LocalState::Queued {
                        order,
                        base: Some(server),
                        mine: next,
                        newer,
                    },
                    (None, Some(newer)) => LocalState::Synced { server: newer },
                    (None, None) => LocalState::Synced { server },
                };
                (state, Settled::Synced)
            }
            MutationStatus::Conflict => match result.current_version() {
                Some(server) => (
                    LocalState::Conflict {
                        base,
                        mine: next.unwrap_or(mine),
                        server,
                    },
                    Settled::Conflict,
                ),
                None => (
                    unchanged(base, mine, op_id, next, newer),
                    Settled::Unsettled,
                ),
            },
            MutationStatus::Rejected => {
                let reason = result
                    .error
                    .clone()
                    .unwrap_or_else(|| ErrorBody::new("rejected", "the server refused the change"));
                (
                    LocalState::Rejected {
                        base,
                        mine: next.unwrap_or(mine),
                        reason,
                        newer,
                    },
                    Settled::Rejected,
                )
            }
        }
    }

    /// Meets a pulled change. A synced copy at or below the pulled rev takes it (an equal rev brings the
    /// server's own fields); every other state keeps `mine` and only refreshes the known server copy.
    /// A tombstone drops a synced record (`None`) and turns local work into a refusal a person sees.
    pub fn pulled(mut self, change: &Change) -> Option<LocalState> {
        if change.deleted {
            return self.gone(change.rev);
        }
        let pulled = ServerVersion {
            rev: change.rev,
            body: change.body.clone(),
        };
        match &mut self {
            LocalState::Synced { server } | LocalState::Conflict { server, .. } => {
                if server.rev <= pulled.rev {
                    *server = pulled;
                }
            }
            LocalState::Queued { base, newer, .. }
            | LocalState::InFlight { base, newer, .. }
            | LocalState::Rejected { base, newer, .. } => match base {
                // The server's own copy of the rev the edit is based on: after an applied answer
                // `base` is the phone's body, without what the server sets (author, unit, receipt).
                Some(known) if known.rev == pulled.rev => *known = pulled,
                _ => *newer = newer_of(base.as_ref(), newer.take(), pulled),
            },
            LocalState::Quarantined { server, .. } => {
                if server.as_ref().is_none_or(|known| known.rev <= pulled.rev) {
                    *server = Some(pulled);
                }
            }
        }
        Some(self)
    }

    /// The record left the caller's sight on the server (moved to another unit, deleted) at `rev`.
    /// Local work is kept as a refusal; the server's copy is known only as gone (a null body at the
    /// tombstone's rev), so it cannot be "taken" back as if it were still there.
    fn gone(self, rev: u64) -> Option<LocalState> {
        let reason = || {
            ErrorBody::new(
                "gone",
                "the record is no longer visible to you on the server (moved to another unit or removed)",
            )
        };
        let gone = || {
            Some(ServerVersion {
                rev,
                body: Value::Null,
            })
        };
        match self {
            LocalState::Synced { .. } => None,
            LocalState::Queued { base, mine, .. }
            | LocalState::Conflict { base, mine, .. }
            | LocalState::Rejected { base, mine, .. } => Some(LocalState::Rejected {
                base,
                mine,
                reason: reason(),
                newer: gone(),
            }),
            LocalState::InFlight {
                base, mine, next, ..
            } => Some(LocalState::Rejected {
                base,
                mine: next.unwrap_or(mine),
                reason: reason(),
                newer: gone(),
            }),
            LocalState::Quarantined { raw, reason, .. } => Some(LocalState::Quarantined {
                raw,
                reason,
                server: None,
            }),
        }
    }

    /// Conflict resolved for the phone's edit: what it changed (and every value both changed) is
    /// the phone's, what only the server's copy changed stays (see [`crate::merge::keeping_mine`]);
    /// queued as an edit of the server's current copy.
    pub fn keep_mine(self, order: u64) -> Result<LocalState, NotNow> {
        match self {
            LocalState::Conflict { base, mine, server } => Ok(LocalState::Queued {
                order,
                mine: crate::merge::keeping_mine(
                    base.as_ref().map(|base| &base.body),
                    &mine,
                    &server.body,
                ),
                base: Some(server),
                newer: None,
            }),
            _ => Err(NotNow::NothingToResolve),
        }
    }

    /// Conflict resolved by the merge of both edits (see [`crate::merge`]): queued on the server's copy.
    pub fn keep_merged(self, order: u64) -> Result<LocalState, NotNow> {
        let LocalState::Conflict { base, mine, server } = self else {
            return Err(NotNow::NothingToResolve);
        };
        let merged =
            crate::merge::three_way(base.as_ref().map(|base| &base.body), &mine, &server.body)
                .ok_or(NotNow::NotMergeable)?;
        Ok(LocalState::Queued {
            order,
            base: Some(server),
            mine: merged,
            newer: None,
        })
    }

    /// The person takes the server's copy: the local edit (and anything queued with it) is dropped, on
    /// purpose, in this one step. A server copy whose body the phone never saw (a null body, kept
    /// only for its rev) cannot be taken.
    pub fn take_theirs(self) -> Result<LocalState, NotNow> {
        match self.server() {
            Some(server) if self.awaits_person() && !server.body.is_null() => {
                Ok(LocalState::Synced {
                    server: server.clone(),
                })
            }
            _ => Err(NotNow::NothingToResolve),
        }
    }

    /// A refused edit is sent again as it is (the reason was fixed elsewhere, say a venue pushed).
    pub fn send_again(self, order: u64) -> Result<LocalState, NotNow> {
        match self {
            LocalState::Rejected {
                base, mine, newer, ..
            } => Ok(LocalState::Queued {
                order,
                base,
                mine,
                newer,
            }),
            _ => Err(NotNow::NothingToResolve),
        }
    }
}

/// The newer of the known server copies: `pulled` if it is at least as new as what is known and newer
/// than `base` (a copy at `base`'s rev is `base` itself).
fn newer_of(
    base: Option<&ServerVersion>,
    newer: Option<ServerVersion>,
    pulled: ServerVersion,
) -> Option<ServerVersion> {
    let known_rev = newer.as_ref().or(base).map_or(0, |known| known.rev);
    let base_rev = base.map_or(0, |base| base.rev);
    if pulled.rev >= known_rev && pulled.rev > base_rev {
        Some(pulled)
    } else {
        newer
    }
}

impl MutationResult {
    /// The server copy carried by a `conflict` answer.
    pub fn current_version(&self) -> Option<ServerVersion> {
        let current = self.current.as_ref()?;
        Some(ServerVersion {
            rev: current.get("rev")?.as_u64()?,
            body: current.get("body")?.clone(),
        })
    }
}

/// Whether the records on a phone allow another user to take it over: nothing unsent may be left,
/// or it would be pushed under the wrong name (or lost). Returns how many records stand in the way.
pub fn unsynced_count<'a>(states: impl IntoIterator<Item = &'a LocalState>) -> usize {
    states
        .into_iter()
        .filter(|state| state.is_unsynced())
        .count()
}
