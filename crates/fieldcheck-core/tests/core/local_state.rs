//! The local record state machine, event by event, and the sync run over the in-memory store.

use fieldcheck_core::engine::{LocalStore, PUSH_BYTES, PageApplied, RunError, sync_once};
use fieldcheck_core::local::{LocalRecord, LocalState, NotNow, OpenedOn, ServerVersion, Settled};
use fieldcheck_core::memory::MemoryStore;
use fieldcheck_core::sync::{
    Change, Entity, ErrorBody, Mutation, MutationResult, MutationStatus, PullResponse, PushRequest,
    PushResponse, server_fields, with_fields,
};
use fieldcheck_core::{DeviceId, OpId};
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

fn sv(rev: u64, body: Value) -> ServerVersion {
    ServerVersion { rev, body }
}

fn op(name: &str) -> OpId {
    OpId(name.to_owned())
}

fn change(rev: u64, body: Value) -> Change {
    Change {
        entity: Entity::Inspection,
        id: "r1".to_owned(),
        rev,
        body,
        deleted: false,
    }
}

fn tombstone(rev: u64) -> Change {
    Change {
        deleted: true,
        ..change(rev, Value::Null)
    }
}

fn answer(op_id: &str, status: MutationStatus, rev: Option<u64>) -> MutationResult {
    MutationResult {
        op_id: op(op_id),
        status,
        rev,
        error: None,
        current: None,
        fields: None,
    }
}

fn conflict_answer(op_id: &str, server: &ServerVersion) -> MutationResult {
    MutationResult {
        current: Some(json!({"rev": server.rev, "body": server.body})),
        ..answer(op_id, MutationStatus::Conflict, None)
    }
}

fn rejected_answer(op_id: &str, code: &str) -> MutationResult {
    MutationResult {
        error: Some(ErrorBody::new(code, "refused")),
        ..answer(op_id, MutationStatus::Rejected, None)
    }
}

fn synced(rev: u64, body: Value) -> LocalState {
    LocalState::Synced {
        server: sv(rev, body),
    }
}

/// A record in flight: `mine` sent under `op1` on top of rev 1.
fn in_flight(next: Option<Value>) -> LocalState {
    LocalState::InFlight {
        order: 7,
        base: Some(sv(1, json!({"v": "base"}))),
        mine: json!({"v": "mine"}),
        op_id: op("op1"),
        next,
        newer: None,
    }
}

fn conflict() -> LocalState {
    LocalState::Conflict {
        base: Some(sv(1, json!({"notes": "a", "status": "draft"}))),
        mine: json!({"notes": "mine", "status": "draft"}),
        server: sv(2, json!({"notes": "a", "status": "submitted"})),
    }
}

#[test]
fn a_save_queues_rewrites_or_waits_behind_the_op_in_flight() {
    let queued = LocalState::created(json!({"v": 1}), 1);
    assert_eq!(queued.base_rev(), 0);
    assert_eq!(queued.order(), Some(1));

    // Synced → Queued on the synced rev.
    let state = synced(3, json!({"v": "s"})).save(json!({"v": "x"}), 5);
    assert_eq!(
        state,
        Ok(LocalState::Queued {
            order: 5,
            base: Some(sv(3, json!({"v": "s"}))),
            mine: json!({"v": "x"}),
            newer: None,
        })
    );
    // Queued → rewritten in place, keeping its place in the queue.
    let rewritten = queued.save(json!({"v": 2}), 9);
    assert_eq!(
        rewritten.as_ref().map(LocalState::order),
        Ok(Some(1)),
        "a queued record keeps its order"
    );
    assert_eq!(
        rewritten.as_ref().ok().and_then(LocalState::shown),
        Some(&json!({"v": 2}))
    );
    // InFlight → `next`, the op in flight untouched.
    let state = in_flight(None).save(json!({"v": "later"}), 9);
    assert_eq!(state, Ok(in_flight(Some(json!({"v": "later"})))));
    // Conflict → mine replaced, still waiting for the person.
    let state = conflict().save(json!({"notes": "again"}), 9);
    assert!(
        matches!(&state, Ok(LocalState::Conflict { mine, .. }) if mine == &json!({"notes": "again"}))
    );
    // Rejected → queued again: the inspector acted on the refusal.
    let rejected = LocalState::Rejected {
        base: Some(sv(2, json!({}))),
        mine: json!({"v": "bad"}),
        reason: ErrorBody::new("invalid", "x"),
        newer: None,
    };
    let state = rejected.save(json!({"v": "fixed"}), 11);
    assert!(matches!(
        &state,
        Ok(LocalState::Queued { order: 11, base: Some(base), .. }) if base.rev == 2
    ));
    // Quarantined cannot be saved over: its unreadable value would be lost.
    let quarantined = LocalState::Quarantined {
        raw: "{".to_owned(),
        reason: "bad".to_owned(),
        server: None,
    };
    assert_eq!(quarantined.save(json!({}), 1), Err(NotNow::Unreadable));
}

#[test]
fn taking_fixes_the_op_id_and_resends_the_same_mutation_until_settled() {
    let queued = synced(4, json!({"v": 0}))
        .save(json!({"v": 1}), 1)
        .unwrap_or_else(|error| panic!("{error}"));
    let (state, mutation) = queued.take(Entity::Inspection, "r1", op("fresh"));
    let mutation = mutation.unwrap_or_else(|| panic!("a queued record is sent"));
    assert_eq!(
        (mutation.op_id.as_str(), mutation.base_rev, &mutation.body),
        ("fresh", 4, &json!({"v": 1}))
    );
    // A save while it is in flight goes to `next`; the resend is the very same mutation.
    let state = state
        .save(json!({"v": 2}), 2)
        .unwrap_or_else(|error| panic!("{error}"));
    let (state, again) = state.take(Entity::Inspection, "r1", op("other"));
    assert_eq!(again, Some(mutation));
    assert_eq!(state.shown(), Some(&json!({"v": 2})));
    // Nothing to send for a synced or waiting record.
    assert_eq!(
        synced(1, json!({}))
            .take(Entity::Inspection, "r1", op("x"))
            .1,
        None
    );
    assert_eq!(conflict().take(Entity::Inspection, "r1", op("x")).1, None);
}

#[test]
fn the_answer_for_the_op_in_flight_settles_it() {
    // Applied: synced at the new rev with what was sent.
    let (state, settled) = in_flight(None).settle(&answer("op1", MutationStatus::Applied, Some(2)));
    assert_eq!(settled, Settled::Synced);
    assert_eq!(state, synced(2, json!({"v": "mine"})));
    // Duplicate (applied before, answer lost) is the same.
    let (state, _) = in_flight(None).settle(&answer("op1", MutationStatus::Duplicate, Some(2)));
    assert_eq!(state, synced(2, json!({"v": "mine"})));
    // With a later edit waiting, that edit is queued on the new rev.
    let (state, _) = in_flight(Some(json!({"v": "next"}))).settle(&answer(
        "op1",
        MutationStatus::Applied,
        Some(2),
    ));
    assert_eq!(
        state,
        LocalState::Queued {
            order: 7,
            base: Some(sv(2, json!({"v": "mine"}))),
            mine: json!({"v": "next"}),
            newer: None,
        }
    );
    // A pulled copy at the applied rev is the canonical body.
    let with_newer = LocalState::InFlight {
        order: 1,
        base: None,
        mine: json!({"v": "mine"}),
        op_id: op("op1"),
        next: None,
        newer: Some(sv(1, json!({"v": "mine", "created_by": "u1"}))),
    };
    let (state, _) = with_newer.settle(&answer("op1", MutationStatus::Duplicate, Some(1)));
    assert_eq!(state, synced(1, json!({"v": "mine", "created_by": "u1"})));

    // Conflict: mine (the latest edit) kept beside the server copy.
    let server = sv(5, json!({"v": "theirs"}));
    let (state, settled) =
        in_flight(Some(json!({"v": "next"}))).settle(&conflict_answer("op1", &server));
    assert_eq!(settled, Settled::Conflict);
    assert_eq!(
        state,
        LocalState::Conflict {
            base: Some(sv(1, json!({"v": "base"}))),
            mine: json!({"v": "next"}),
            server,
        }
    );
    // Rejected: mine kept with the reason.
    let (state, settled) = in_flight(None).settle(&rejected_answer("op1", "not_yours"));
    assert_eq!(settled, Settled::Rejected);
    assert!(matches!(&state, LocalState::Rejected { mine, reason, .. }
        if mine == &json!({"v": "mine"}) && reason.code == "not_yours"));

    // Unusable answers and answers for other ops change nothing.
    for unusable in [
        answer("op1", MutationStatus::Applied, None),
        answer("op1", MutationStatus::Conflict, None),
        answer("other", MutationStatus::Applied, Some(9)),
    ] {
        let (state, settled) = in_flight(None).settle(&unusable);
        assert_eq!((state, settled), (in_flight(None), Settled::Unsettled));
    }
    let (state, settled) =
        synced(1, json!({})).settle(&answer("op1", MutationStatus::Applied, Some(2)));
    assert_eq!((state, settled), (synced(1, json!({})), Settled::Unsettled));
}

#[test]
fn an_applied_answer_with_the_servers_fields_holds_the_servers_copy() {
    let sent = json!({"id": "r1", "notes": "mine", "created_by": null});
    let stored = json!({"id": "r1", "notes": "mine", "created_by": "u1", "received_at": "t"});
    let fields = server_fields(&sent, &stored).expect("fields to set");
    assert_eq!(
        Value::Object(fields.clone()),
        json!({"created_by": "u1", "received_at": "t"})
    );
    assert_eq!(with_fields(sent.clone(), &fields), stored);
    // A field the server dropped cannot be told as fields to set; nor can a body that is no object.
    assert_eq!(
        server_fields(&sent, &json!({"id": "r1", "notes": "mine"})),
        None
    );
    assert_eq!(server_fields(&json!([1]), &stored), None);

    // Settled with the fields: the server's copy, so the pull of that rev changes nothing.
    let answered = MutationResult {
        fields: Some(fields),
        ..answer("op1", MutationStatus::Applied, Some(2))
    };
    let in_flight = LocalState::InFlight {
        order: 7,
        base: None,
        mine: sent.clone(),
        op_id: op("op1"),
        next: None,
        newer: None,
    };
    let (state, settled) = in_flight.settle(&answered);
    assert_eq!(settled, Settled::Synced);
    assert_eq!(state, synced(2, stored.clone()));
    assert_eq!(
        state.clone().pulled(&change(2, stored.clone())),
        Some(state)
    );
    // With a later edit waiting, the server's copy is the base that edit goes on.
    let waiting = LocalState::InFlight {
        order: 7,
        base: None,
        mine: sent,
        op_id: op("op1"),
        next: Some(json!({"id": "r1", "notes": "next"})),
        newer: None,
    };
    let (state, _) = waiting.settle(&answered);
    assert!(
        matches!(&state, LocalState::Queued { base: Some(base), .. } if *base == sv(2, stored.clone()))
    );
}

#[test]
fn a_pull_never_overwrites_local_work_and_refreshes_the_known_server_copy() {
    // Synced takes equal or newer revs (the equal rev carries the server's own fields).
    assert_eq!(
        synced(1, json!({"v": 1})).pulled(&change(2, json!({"v": 2}))),
        Some(synced(2, json!({"v": 2})))
    );
    assert_eq!(
        synced(2, json!({"v": "sent"})).pulled(&change(2, json!({"v": "sent", "unit_id": "u"}))),
        Some(synced(2, json!({"v": "sent", "unit_id": "u"})))
    );
    assert_eq!(
        synced(3, json!({"v": 3})).pulled(&change(2, json!({"v": 2}))),
        Some(synced(3, json!({"v": 3})))
    );
    // Queued and in flight keep mine; the newer server copy is kept beside it.
    let queued = synced(1, json!({"v": 1}))
        .save(json!({"v": "mine"}), 1)
        .unwrap_or_else(|error| panic!("{error}"));
    let pulled = queued
        .pulled(&change(2, json!({"v": "theirs"})))
        .unwrap_or_else(|| panic!("kept"));
    assert_eq!(pulled.shown(), Some(&json!({"v": "mine"})));
    assert_eq!(
        pulled.base_rev(),
        1,
        "the edit is still based on what it was made on"
    );
    assert_eq!(pulled.server(), Some(&sv(2, json!({"v": "theirs"}))));
    let pulled = in_flight(Some(json!({"v": "next"})))
        .pulled(&change(4, json!({"v": "theirs"})))
        .unwrap_or_else(|| panic!("kept"));
    assert_eq!(pulled.shown(), Some(&json!({"v": "next"})));
    assert_eq!(pulled.server().map(|server| server.rev), Some(4));
    // An older pulled rev does not replace a newer known copy.
    let older = pulled
        .clone()
        .pulled(&change(3, json!({"v": "older"})))
        .unwrap_or_else(|| panic!("kept"));
    assert_eq!(older, pulled);
}

/// Scenario: B edits online; A edits offline from the older rev and reconnects. The push answers
/// conflict, and the pull that follows in the same run must not store the server copy over A's edit.
#[test]
fn a_conflict_survives_the_pull_of_the_same_run() {
    let server = sv(2, json!({"v": "B"}));
    let (state, _) = in_flight(None).settle(&conflict_answer("op1", &server));
    let after_pull = state
        .pulled(&change(2, json!({"v": "B"})))
        .and_then(|state| state.pulled(&change(3, json!({"v": "B2"}))))
        .unwrap_or_else(|| panic!("kept"));
    assert!(
        matches!(&after_pull, LocalState::Conflict { mine, server, .. }
        if mine == &json!({"v": "mine"}) && server.rev == 3)
    );
    // The same for a record refused as locked when its approval is pulled.
    let (state, _) = in_flight(None).settle(&rejected_answer("op1", "locked"));
    let after_pull = state
        .pulled(&change(3, json!({"v": "approved"})))
        .unwrap_or_else(|| panic!("kept"));
    assert!(
        matches!(&after_pull, LocalState::Rejected { mine, .. } if mine == &json!({"v": "mine"}))
    );
    assert!(after_pull.awaits_person());
}

#[test]
fn a_tombstone_drops_a_synced_record_and_flags_local_work() {
    assert_eq!(synced(2, json!({})).pulled(&tombstone(3)), None);
    let flagged = in_flight(Some(json!({"v": "next"})))
        .pulled(&tombstone(3))
        .unwrap_or_else(|| panic!("local work is never dropped"));
    assert!(matches!(&flagged, LocalState::Rejected { mine, reason, .. }
        if mine == &json!({"v": "next"}) && reason.code == "gone"));
    assert!(matches!(
        conflict().pulled(&tombstone(3)),
        Some(LocalState::Rejected { .. })
    ));
    assert_eq!(LocalState::pulled_new(&tombstone(3)), None);
    assert_eq!(
        LocalState::pulled_new(&change(1, json!({"v": 1}))),
        Some(synced(1, json!({"v": 1})))
    );
}

#[test]
fn a_person_resolves_a_conflict_or_a_refusal() {
    // Keep mine: queued on the server's rev, with what only the server changed (the status) kept.
    let kept = conflict().keep_mine(9);
    assert!(
        matches!(&kept, Ok(LocalState::Queued { order: 9, base: Some(base), mine, .. })
        if base.rev == 2 && *mine == json!({"notes": "mine", "status": "submitted"})),
        "{kept:?}"
    );
    // Take theirs: synced at the server copy; the local edit is gone by choice.
    assert_eq!(
        conflict().take_theirs(),
        Ok(synced(2, json!({"notes": "a", "status": "submitted"})))
    );
    // The edits touched different fields: the merge keeps both.
    let merged = conflict().keep_merged(9);
    assert!(
        matches!(&merged, Ok(LocalState::Queued { mine, base: Some(base), .. })
        if mine == &json!({"notes": "mine", "status": "submitted"}) && base.rev == 2)
    );
    // Both changed the same field: no merge is offered.
    let clash = LocalState::Conflict {
        base: Some(sv(1, json!({"notes": "a"}))),
        mine: json!({"notes": "b"}),
        server: sv(2, json!({"notes": "c"})),
    };
    assert_eq!(clash.keep_merged(1), Err(NotNow::NotMergeable));
    // Send again: a refused edit goes back into the queue as it is.
    let rejected = LocalState::Rejected {
        base: None,
        mine: json!({"v": 1}),
        reason: ErrorBody::new("unknown_venue", "x"),
        newer: None,
    };
    assert!(matches!(
        rejected.clone().send_again(3),
        Ok(LocalState::Queued { order: 3, .. })
    ));
    assert_eq!(
        rejected.take_theirs(),
        Err(NotNow::NothingToResolve),
        "no server copy to take"
    );
    let body_unknown = LocalState::Rejected {
        base: Some(sv(3, Value::Null)),
        mine: json!({"v": 1}),
        reason: ErrorBody::new("invalid", "x"),
        newer: None,
    };
    assert_eq!(
        body_unknown.take_theirs(),
        Err(NotNow::NothingToResolve),
        "a copy known only by its rev cannot be taken"
    );
    // Nothing to resolve on a synced or queued record.
    assert_eq!(
        synced(1, json!({})).keep_mine(1),
        Err(NotNow::NothingToResolve)
    );
    assert_eq!(
        LocalState::created(json!({}), 1).take_theirs(),
        Err(NotNow::NothingToResolve)
    );
}

#[test]
fn local_records_round_trip_through_json_with_the_state_as_a_tag() {
    let records = [
        synced(1, json!({"id": "r1"})),
        LocalState::created(json!({"id": "r1"}), 3),
        in_flight(Some(json!({"n": 1}))),
        conflict(),
        LocalState::Rejected {
            base: None,
            mine: json!({}),
            reason: ErrorBody::new("invalid", "bad"),
            newer: Some(sv(1, json!({}))),
        },
        LocalState::Quarantined {
            raw: "{\"broken\"".to_owned(),
            reason: "expected value".to_owned(),
            server: None,
        },
    ];
    for local in records {
        let record = LocalRecord {
            entity: Entity::Inspection,
            id: "r1".to_owned(),
            local,
        };
        let value = serde_json::to_value(&record).unwrap_or_default();
        assert_eq!(value["state"], json!(record.local.code()));
        let back: Result<LocalRecord, _> = serde_json::from_value(value);
        assert_eq!(back.ok(), Some(record));
    }
}

#[test]
fn a_stored_state_that_does_not_decode_says_what_is_wrong() {
    let error = |value: serde_json::Value| {
        serde_json::from_value::<LocalState>(value)
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default()
    };
    assert!(error(json!({"state": "queued", "mine": {}})).contains("missing field `order`"));
    assert!(error(json!({"state": "synced"})).contains("missing field `server`"));
    assert!(error(json!({"state": "in_flight", "order": 1, "mine": {}})).contains("`op_id`"));
    assert!(error(json!({"state": "rejected", "mine": {}})).contains("missing field `reason`"));
    assert!(error(json!({"state": "lost", "mine": {}})).contains("unknown variant `lost`"));
    assert!(error(json!({"mine": {}, "order": 1})).contains("missing field `state`"));
    assert!(
        error(json!({"state": "quarantined", "raw": "{", "reason": 7})).contains("expected a text")
    );
    assert!(
        error(json!({"state": "rejected", "mine": {}, "reason": "bad"})).contains("invalid type")
    );
}

#[test]
fn a_stored_state_decodes_whatever_the_order_of_its_fields_and_keeps_a_null_body() {
    let queued: Result<LocalState, _> =
        serde_json::from_str(r#"{"mine": null, "order": 4, "base": null, "state": "queued"}"#);
    assert_eq!(
        queued.ok(),
        Some(LocalState::Queued {
            order: 4,
            base: None,
            mine: Value::Null,
            newer: None
        })
    );
    // Fields another state uses are ignored, as are fields no state knows.
    let decoded: Result<LocalState, _> = serde_json::from_value(
        json!({"state": "synced", "server": {"rev": 2, "body": {}}, "order": 9, "extra": true}),
    );
    assert_eq!(decoded.ok(), Some(synced(2, json!({}))));
}

// ---------------------------------------------------------------------------------------------
// The run loop over the memory store, with answers scripted per call

/// Runs a future that never waits (the memory store and the scripted server answer at once).
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// How a scripted server answers a push.
type PushScript = Box<dyn Fn(&PushRequest) -> Result<PushResponse, String>>;

/// A server whose answers the test writes: each push answers by a closure over the request.
struct Scripted {
    push: PushScript,
    pulls: RefCell<Vec<PullResponse>>,
    pulled: RefCell<usize>,
    /// The pull (counted from 1) that fails, if any.
    failing_pull: Cell<Option<usize>>,
    /// The record ids of each push, in order.
    pushed: RefCell<Vec<Vec<String>>>,
}

impl Scripted {
    fn new(
        push: impl Fn(&PushRequest) -> Result<PushResponse, String> + 'static,
        pulls: Vec<PullResponse>,
    ) -> Scripted {
        Scripted {
            push: Box::new(push),
            pulls: RefCell::new(pulls),
            pulled: RefCell::new(0),
            failing_pull: Cell::new(None),
            pushed: RefCell::new(Vec::new()),
        }
    }
}

impl fieldcheck_core::engine::Remote for Scripted {
    type Error = String;

    async fn push(&self, request: &PushRequest) -> Result<PushResponse, String> {
        self.pushed.borrow_mut().push(
            request
                .mutations
                .iter()
                .map(|mutation| mutation.id.clone())
                .collect(),
        );
        (self.push)(request)
    }

    async fn pull(&self, _since: Option<&str>, _limit: u32) -> Result<PullResponse, String> {
        *self.pulled.borrow_mut() += 1;
        if self.failing_pull.get() == Some(*self.pulled.borrow()) {
            return Err("the link dropped".to_owned());
        }
        let mut pages = self.pulls.borrow_mut();
        if pages.is_empty() {
            return Ok(PullResponse {
                changes: vec![],
                cursor: "end".to_owned(),
                has_more: false,
            });
        }
        Ok(pages.remove(0))
    }
}

fn device() -> DeviceId {
    DeviceId("0192f3a4-5b6c-7d8e-9f00-0000000000d1".to_owned())
}

#[test]
fn the_pull_runs_even_when_the_push_fails_and_the_queue_is_kept() {
    let store = MemoryStore::new(1);
    store
        .save(Entity::Inspection, "r1", json!({"v": 1}))
        .unwrap_or_else(|error| panic!("{error}"));
    let remote = Scripted::new(
        |_| Err("503 from a proxy".to_owned()),
        vec![PullResponse {
            changes: vec![Change {
                entity: Entity::Venue,
                id: "v1".to_owned(),
                rev: 1,
                body: json!({"id": "v1", "kind": "hotel", "name": "宾馆", "unit_id": "u"}),
                deleted: false,
            }],
            cursor: "1".to_owned(),
            has_more: false,
        }],
    );
    let (report, result) = run(sync_once(&store, &remote, &device()));
    assert!(matches!(result, Err(RunError::Remote(_))));
    assert_eq!(*remote.pulled.borrow(), 1, "the pull still ran");
    assert_eq!(report.pulled, 1);
    assert!(store.get(Entity::Venue, "v1").is_some());
    assert!(matches!(
        store.get(Entity::Inspection, "r1"),
        Some(LocalState::InFlight { .. })
    ));
}

#[test]
fn a_server_that_settles_nothing_stops_the_run_instead_of_looping() {
    let store = MemoryStore::new(1);
    store
        .save(Entity::Inspection, "r1", json!({"v": 1}))
        .unwrap_or_else(|error| panic!("{error}"));
    let remote = Scripted::new(|_| Ok(PushResponse { results: vec![] }), vec![]);
    let (_, result) = run(sync_once(&store, &remote, &device()));
    assert!(matches!(result, Err(RunError::Protocol(_))), "{result:?}");
}

#[test]
fn a_batch_goes_in_queue_order_and_a_later_edit_follows_its_applied_op() {
    let store = MemoryStore::new(1);
    let save = |entity, id: &str, body| {
        store
            .save(entity, id, body)
            .unwrap_or_else(|error| panic!("{error}"));
    };
    save(Entity::Venue, "v-new", json!({"n": 1}));
    save(Entity::Inspection, "i1", json!({"n": 1}));
    // A second edit of the venue keeps the venue ahead of the inspection that names it.
    save(Entity::Venue, "v-new", json!({"n": 2}));
    let remote = Scripted::new(
        |request| {
            let results = request
                .mutations
                .iter()
                .map(|mutation| {
                    answer(
                        mutation.op_id.as_str(),
                        MutationStatus::Applied,
                        Some(mutation.base_rev + 1),
                    )
                })
                .collect();
            Ok(PushResponse { results })
        },
        vec![],
    );
    let (report, result) = run(sync_once(&store, &remote, &device()));
    assert_eq!(result, Ok(()));
    assert_eq!(report.synced, 2);
    assert_eq!(
        remote.pushed.borrow().first().cloned(),
        Some(vec!["v-new".to_owned(), "i1".to_owned()])
    );
    assert_eq!(
        store.get(Entity::Venue, "v-new"),
        Some(synced(1, json!({"n": 2})))
    );
}

#[test]
fn records_too_large_for_one_request_go_in_several_each_settled() {
    let store = MemoryStore::new(1);
    // At most two fit in one request's budget (256 KiB).
    five_large_records(&store);
    let remote = Scripted::new(
        |request| {
            let size = serde_json::to_string(&request.mutations).map_or(0, |text| text.len());
            if size > PUSH_BYTES {
                return Err(format!("a request of {size} bytes"));
            }
            Ok(applied_all(request))
        },
        vec![],
    );
    let (report, result) = run(sync_once(&store, &remote, &device()));
    assert_eq!(result, Ok(()));
    assert_eq!((report.sent, report.synced), (5, 5));
    let pushed = remote.pushed.borrow();
    assert_eq!(pushed.len(), 3, "{pushed:?}");
    assert_eq!(
        pushed.concat(),
        (0..5).map(|n| format!("r{n}")).collect::<Vec<_>>()
    );
    for n in 0..5 {
        assert!(matches!(
            store.get(Entity::Inspection, &format!("r{n}")),
            Some(LocalState::Synced { .. })
        ));
    }
}

/// The memory store, with a settle and a page's apply that wait once before they run, as
/// IndexedDB's do, and fail while `failing_settles` / `failing_applies` last.
struct Waiting<'a> {
    inner: &'a MemoryStore,
    failing_settles: Cell<usize>,
    failing_applies: Cell<usize>,
}

impl<'a> Waiting<'a> {
    fn new(inner: &'a MemoryStore, failing_settles: usize, failing_applies: usize) -> Waiting<'a> {
        Waiting {
            inner,
            failing_settles: Cell::new(failing_settles),
            failing_applies: Cell::new(failing_applies),
        }
    }
}

impl LocalStore for Waiting<'_> {
    type Error = String;

    async fn take_batch(&self, limit: usize) -> Result<Vec<Mutation>, String> {
        self.inner
            .take_batch(limit)
            .await
            .map_err(|never| match never {})
    }

    async fn settle(
        &self,
        sent: &[Mutation],
        results: &[MutationResult],
    ) -> Result<Vec<Settled>, String> {
        YieldOnce(false).await;
        if self.failing_settles.get() > 0 {
            self.failing_settles.set(self.failing_settles.get() - 1);
            return Err("the phone's disk is full".to_owned());
        }
        self.inner
            .settle(sent, results)
            .await
            .map_err(|never| match never {})
    }

    async fn pull_cursor(&self) -> Result<Option<String>, String> {
        self.inner
            .pull_cursor()
            .await
            .map_err(|never| match never {})
    }

    async fn apply_page(&self, page: &PullResponse) -> Result<PageApplied, String> {
        YieldOnce(false).await;
        if self.failing_applies.get() > 0 {
            self.failing_applies.set(self.failing_applies.get() - 1);
            return Err("the phone's disk is full".to_owned());
        }
        self.inner
            .apply_page(page)
            .await
            .map_err(|never| match never {})
    }
}

/// Pending once, then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        context.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Five inspections of 100 KB (three requests: two, two and one), saved in `store`.
fn five_large_records(store: &MemoryStore) {
    let notes = "记".repeat(100 * 1024 / 3);
    for n in 0..5 {
        store
            .save(
                Entity::Inspection,
                &format!("r{n}"),
                json!({"notes": notes, "n": n}),
            )
            .unwrap_or_else(|error| panic!("{error}"));
    }
}

fn applied_all(request: &PushRequest) -> PushResponse {
    let results = request
        .mutations
        .iter()
        .map(|mutation| answer(mutation.op_id.as_str(), MutationStatus::Applied, Some(1)))
        .collect();
    PushResponse { results }
}

fn state_code(store: &MemoryStore, id: &str) -> Option<&'static str> {
    store.get(Entity::Inspection, id).map(|local| local.code())
}

#[test]
fn a_requests_answers_are_settled_while_the_next_request_is_on_the_wire() {
    let store = Rc::new(MemoryStore::new(1));
    five_large_records(&store);
    // What the phone held of the first request's records when each later request arrived.
    let seen = Rc::new(RefCell::new(Vec::new()));
    let remote = Scripted::new(
        {
            let (store, seen) = (Rc::clone(&store), Rc::clone(&seen));
            move |request| {
                seen.borrow_mut().push(state_code(&store, "r0"));
                Ok(applied_all(request))
            }
        },
        vec![],
    );
    let waiting = Waiting::new(&store, 0, 0);
    let (report, result) = run(sync_once(&waiting, &remote, &device()));
    assert_eq!(result, Ok(()));
    assert_eq!((report.sent, report.synced), (5, 5));
    // The second request went while the first one's answers were being written; the third after.
    assert_eq!(
        *seen.borrow(),
        vec![Some("in_flight"), Some("in_flight"), Some("synced")]
    );
    for n in 0..5 {
        assert_eq!(state_code(&store, &format!("r{n}")), Some("synced"));
    }
}

#[test]
fn a_failed_request_ends_the_run_once_the_answers_before_it_are_settled() {
    let store = MemoryStore::new(1);
    five_large_records(&store);
    let requests = Cell::new(0);
    let remote = Scripted::new(
        move |request| {
            requests.set(requests.get() + 1);
            if requests.get() == 2 {
                return Err("503 from a proxy".to_owned());
            }
            Ok(applied_all(request))
        },
        vec![],
    );
    let waiting = Waiting::new(&store, 0, 0);
    let (report, result) = run(sync_once(&waiting, &remote, &device()));
    assert!(matches!(result, Err(RunError::Remote(_))), "{result:?}");
    assert_eq!(report.synced, 2);
    let codes: Vec<_> = (0..5)
        .map(|n| state_code(&store, &format!("r{n}")))
        .collect();
    assert_eq!(
        codes,
        [
            Some("synced"),
            Some("synced"),
            Some("in_flight"),
            Some("in_flight"),
            Some("in_flight")
        ]
    );
}

#[test]
fn records_sent_while_a_settle_failed_go_again_with_the_same_op_ids() {
    let store = MemoryStore::new(1);
    five_large_records(&store);
    // Every op the server has applied, and how many times each was sent.
    let applied: Rc<RefCell<Vec<String>>> = Rc::new(RefCell::new(Vec::new()));
    let remote = Scripted::new(
        {
            let applied = Rc::clone(&applied);
            move |request| {
                let results = request
                    .mutations
                    .iter()
                    .map(|mutation| {
                        let op_id = mutation.op_id.as_str().to_owned();
                        let again = applied.borrow().contains(&op_id);
                        applied.borrow_mut().push(op_id);
                        let status = if again {
                            MutationStatus::Duplicate
                        } else {
                            MutationStatus::Applied
                        };
                        answer(mutation.op_id.as_str(), status, Some(1))
                    })
                    .collect();
                Ok(PushResponse { results })
            }
        },
        vec![],
    );
    let failing = Waiting::new(&store, 1, 0);
    let (_, result) = run(sync_once(&failing, &remote, &device()));
    assert!(matches!(result, Err(RunError::Local(_))), "{result:?}");
    // The first settle failed while the second request was on the wire: both went, none settled.
    assert_eq!(remote.pushed.borrow().len(), 2);
    let (report, result) = run(sync_once(&failing, &remote, &device()));
    assert_eq!(result, Ok(()));
    assert_eq!((report.sent, report.synced), (5, 5));
    let applied = applied.borrow();
    let mut distinct = applied.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "one op per record: {applied:?}");
    assert_eq!(
        applied.len(),
        9,
        "the four in flight went twice: {applied:?}"
    );
}

fn venue_page(n: usize, has_more: bool) -> PullResponse {
    PullResponse {
        changes: vec![Change {
            entity: Entity::Venue,
            id: format!("v{n}"),
            rev: 1,
            body: json!({"id": format!("v{n}"), "kind": "hotel", "name": "宾馆", "unit_id": "u"}),
            deleted: false,
        }],
        cursor: n.to_string(),
        has_more,
    }
}

#[test]
fn the_next_page_is_fetched_while_one_is_applied_and_a_failed_apply_keeps_the_cursor_before_it() {
    let store = MemoryStore::new(1);
    let pages = || {
        vec![
            venue_page(1, true),
            venue_page(2, true),
            venue_page(3, false),
        ]
    };
    let remote = Scripted::new(|_| Ok(PushResponse { results: vec![] }), pages());
    let failing = Waiting::new(&store, 0, 1);
    let (report, result) = run(sync_once(&failing, &remote, &device()));
    assert!(matches!(result, Err(RunError::Local(_))), "{result:?}");
    // The second page was asked for while the first was being applied, and dropped with it.
    assert_eq!(*remote.pulled.borrow(), 2);
    assert_eq!(report.pulled, 0);
    assert_eq!(run(store.pull_cursor()), Ok(None));
    assert!(store.get(Entity::Venue, "v1").is_none());
    // The next run starts from where the phone is and applies every page.
    *remote.pulls.borrow_mut() = pages();
    let (report, result) = run(sync_once(&failing, &remote, &device()));
    assert_eq!(result, Ok(()));
    assert_eq!(report.pulled, 3);
    assert_eq!(run(store.pull_cursor()), Ok(Some("3".to_owned())));
}

#[test]
fn a_failed_fetch_of_the_next_page_keeps_the_page_applied_beside_it() {
    let store = MemoryStore::new(1);
    let remote = Scripted::new(
        |_| Ok(PushResponse { results: vec![] }),
        vec![venue_page(1, true), venue_page(2, false)],
    );
    remote.failing_pull.set(Some(2));
    let waiting = Waiting::new(&store, 0, 0);
    let (report, result) = run(sync_once(&waiting, &remote, &device()));
    assert!(matches!(result, Err(RunError::Remote(_))), "{result:?}");
    assert_eq!(report.pulled, 1);
    assert!(store.get(Entity::Venue, "v1").is_some());
    assert_eq!(run(store.pull_cursor()), Ok(Some("1".to_owned())));
}

/// The answer for an op was lost, the pull went past its rev, and only then the replay answered
/// duplicate: the newer pulled copy must stay, it will not be pulled again.
#[test]
fn a_late_duplicate_keeps_the_newer_copy_the_pull_already_brought() {
    let waiting = in_flight(None)
        .pulled(&change(3, json!({"v": "returned by the supervisor"})))
        .unwrap_or_else(|| panic!("kept"));
    let (state, settled) = waiting.settle(&answer("op1", MutationStatus::Duplicate, Some(2)));
    assert_eq!(settled, Settled::Synced);
    assert_eq!(state, synced(3, json!({"v": "returned by the supervisor"})));
    // With a later edit waiting, it goes on top of what was applied and meets the newer copy as a
    // conflict at the server, not over it.
    let waiting = in_flight(Some(json!({"v": "next"})))
        .pulled(&change(3, json!({"v": "theirs"})))
        .unwrap_or_else(|| panic!("kept"));
    let (state, _) = waiting.settle(&answer("op1", MutationStatus::Applied, Some(2)));
    assert!(
        matches!(&state, LocalState::Queued { base: Some(base), newer: Some(newer), mine, .. }
        if base.rev == 2 && newer.rev == 3 && mine == &json!({"v": "next"}))
    );
}

#[test]
fn a_record_gone_from_sight_cannot_be_taken_back_only_discarded() {
    let gone = LocalState::created(json!({"v": 1}), 1)
        .pulled(&tombstone(4))
        .unwrap_or_else(|| panic!("local work is kept"));
    assert_eq!(gone.clone().take_theirs(), Err(NotNow::NothingToResolve));
    assert_eq!(gone.server().map(|server| server.rev), Some(4));
    assert_eq!(gone.shown(), Some(&json!({"v": 1})));
}

/// The copy a form opened on, as a form kept by an older build knows it: its rev alone.
fn opened_at(rev: u64) -> OpenedOn {
    OpenedOn {
        base: (rev > 0).then(|| sv(rev, Value::Null)),
        shown: None,
    }
}

/// A form opened on rev 2 and saved after the phone pulled rev 3 must not silently undo rev 3.
#[test]
fn a_save_from_a_form_opened_on_an_older_copy_waits_as_a_conflict() {
    let pulled = synced(3, json!({"v": "theirs"}));
    let saved = pulled
        .clone()
        .save_from(json!({"v": "mine"}), 5, &opened_at(2));
    assert!(
        matches!(&saved, Ok(LocalState::Conflict { mine, server, .. })
        if mine == &json!({"v": "mine"}) && server.rev == 3)
    );
    // Opened on the copy the phone still has: an ordinary save.
    assert!(matches!(
        pulled
            .clone()
            .save_from(json!({"v": "mine"}), 5, &opened_at(3)),
        Ok(LocalState::Queued { .. })
    ));
    // The form showed rev 2, and rev 3 changed what it showed: a conflict too.
    let shown_rev_2 = OpenedOn {
        base: Some(sv(2, json!({"v": "rev 2"}))),
        shown: Some(json!({"v": "rev 2"})),
    };
    assert!(matches!(
        pulled.save_from(json!({"v": "mine"}), 5, &shown_rev_2),
        Ok(LocalState::Conflict { .. })
    ));
    // Local work already queued goes as before; the server compares its base.
    let queued = LocalState::created(json!({}), 1);
    assert!(matches!(
        queued.save_from(json!({"v": 2}), 5, &opened_at(0)),
        Ok(LocalState::Queued { .. })
    ));
}

/// A form opened on the phone's own queued edit, saved after that edit was pushed and applied: the
/// newer server copy is that edit (with the fields the server fills in), so the save goes on top of
/// it as usual instead of standing as a conflict against the officer's own work.
#[test]
fn a_save_from_a_form_opened_on_its_own_queued_edit_goes_after_that_edit_synced() {
    let draft = json!({"v": "draft", "notes": "typed offline"});
    let queued = LocalState::created(draft.clone(), 1);
    let opened = OpenedOn::now(Some(&queued));
    assert_eq!(
        opened,
        OpenedOn {
            base: None,
            shown: Some(draft.clone())
        }
    );

    // The run sends the draft, and the server applies it at rev 1, filling in its own fields.
    let (in_flight, _) = queued.take(Entity::Inspection, "r1", op("op1"));
    let (synced, _) = in_flight.settle(&answer("op1", MutationStatus::Applied, Some(1)));
    let synced = synced
        .pulled(&change(
            1,
            json!({"v": "draft", "notes": "typed offline", "created_by": "u1"}),
        ))
        .unwrap_or_else(|| panic!("the pull keeps the record"));
    assert!(matches!(&synced, LocalState::Synced { server } if server.rev == 1));

    let submitted = json!({"v": "submitted", "notes": "typed offline"});
    let saved = synced.clone().save_from(submitted.clone(), 2, &opened);
    assert!(
        matches!(&saved, Ok(LocalState::Queued { base: Some(base), mine, .. })
            if base.rev == 1 && mine == &submitted),
        "{saved:?}"
    );

    // Had a colleague changed it after that, the save would wait for a person.
    let changed = synced
        .pulled(&change(
            2,
            json!({"v": "draft", "notes": "a colleague's words", "created_by": "u1"}),
        ))
        .unwrap_or_else(|| panic!("the pull keeps the record"));
    assert!(matches!(
        changed.save_from(submitted, 2, &opened),
        Ok(LocalState::Conflict { server, .. }) if server.rev == 2
    ));
}

/// A form opened on an edit that then met a colleague's newer copy, and the officer took the server's
/// copy: the form, still kept, was opened on the edit's base, not on the colleague's copy, so saving
/// it waits as a conflict instead of undoing the colleague's edit, and the two merge when they
/// touched different fields.
#[test]
fn a_form_opened_on_an_edit_later_given_up_for_the_servers_copy_saves_as_a_conflict() {
    let base = sv(3, json!({"notes": "base", "address": "old"}));
    let conflict = LocalState::Conflict {
        base: Some(base.clone()),
        mine: json!({"notes": "mine", "address": "old"}),
        server: sv(4, json!({"notes": "base", "address": "new"})),
    };
    let opened = OpenedOn::now(Some(&conflict));
    assert_eq!(opened.rev(), 3, "the edit's base, not the colleague's copy");
    let theirs = conflict.take_theirs().expect("take theirs");
    let saved = theirs
        .save_from(
            json!({"notes": "typed later", "address": "old"}),
            9,
            &opened,
        )
        .expect("save");
    let LocalState::Conflict {
        base: Some(kept_base),
        ..
    } = &saved
    else {
        panic!("a conflict: {saved:?}");
    };
    assert_eq!(kept_base, &base, "the common ancestor, body and all");
    let merged = saved.keep_merged(10).expect("different fields merge");
    assert!(
        matches!(&merged, LocalState::Queued { base: Some(base), mine, .. }
            if base.rev == 4 && mine == &json!({"notes": "typed later", "address": "new"})),
        "{merged:?}"
    );
}

#[test]
fn the_servers_copy_of_the_base_rev_replaces_the_phones_own_body() {
    // The create was applied at rev 1 with the phone's body; the edit behind it was refused.
    let waiting = in_flight(Some(json!({"v": "submitted, incomplete"})));
    let (applied, _) = waiting.settle(&answer("op1", MutationStatus::Applied, Some(1)));
    let refused = match applied.take(Entity::Inspection, "r1", op("op2")) {
        (taken, Some(_)) => taken.settle(&rejected_answer("op2", "incomplete")).0,
        other => panic!("the edit goes: {other:?}"),
    };
    // The pull brings rev 1 as the server keeps it: with the author and unit it set.
    let server_rev_1 = json!({"v": "draft", "created_by": "u1", "unit_id": "unit-a"});
    let refreshed = refused
        .pulled(&change(1, server_rev_1.clone()))
        .unwrap_or_else(|| panic!("kept"));
    assert_eq!(refreshed.server(), Some(&sv(1, server_rev_1.clone())));
    // Taking the server's copy gives the server's body, not the one the phone once sent.
    assert_eq!(
        refreshed.take_theirs().map_err(|e| e.to_string()),
        Ok(synced(1, server_rev_1))
    );
}

#[test]
fn an_imported_record_takes_the_new_phones_queue_place_and_keeps_its_op() {
    // In flight on the old phone: the same op id goes out again, so the server can answer a replay.
    let moved = in_flight(Some(json!({"v": "next"}))).requeued(42);
    assert_eq!(moved.order(), Some(42));
    let LocalState::InFlight {
        op_id, mine, next, ..
    } = &moved
    else {
        panic!("an imported op in flight stays in flight, got {moved:?}");
    };
    assert_eq!(op_id, &op("op1"));
    assert_eq!(mine, &json!({"v": "mine"}));
    assert_eq!(next, &Some(json!({"v": "next"})));

    let queued = LocalState::created(json!({"v": 1}), 3).requeued(9);
    assert_eq!(queued, LocalState::created(json!({"v": 1}), 9));

    // States that wait for a person have no queue place and are kept as they are.
    assert_eq!(conflict().requeued(5), conflict());
    assert_eq!(conflict().requeued(5).order(), None);
}

#[test]
fn an_import_replaces_only_a_pulled_copy_and_keeps_the_newer_server_copy_beside_its_work() {
    // The phone pulled rev 3 after logging in; the file holds an edit made on rev 1.
    let pulled = synced(3, json!({"v": "server 3"}));
    let exported = LocalState::Queued {
        order: 4,
        base: Some(sv(1, json!({"v": "base"}))),
        mine: json!({"v": "mine"}),
        newer: None,
    };
    let kept = exported
        .clone()
        .imported_over(&pulled, 20)
        .expect("the file's work replaces a copy the phone only pulled");
    assert_eq!(
        kept,
        LocalState::Queued {
            order: 20,
            base: Some(sv(1, json!({"v": "base"}))),
            mine: json!({"v": "mine"}),
            newer: Some(sv(3, json!({"v": "server 3"}))),
        }
    );
    // Sent on the base it was made on: the server answers a conflict, and both copies are shown.
    assert_eq!(kept.base_rev(), 1);

    // An op in flight keeps its op id; a conflict takes the newest server copy.
    let flying = in_flight(None)
        .imported_over(&pulled, 21)
        .expect("in flight");
    assert!(
        matches!(&flying, LocalState::InFlight { op_id, order: 21, newer: Some(newer), .. } if *op_id == op("op1") && newer.rev == 3)
    );
    let LocalState::Conflict { server, .. } =
        conflict().imported_over(&pulled, 22).expect("conflict")
    else {
        panic!("a conflict stays a conflict");
    };
    assert_eq!(server.rev, 3);

    // The phone's own work is never replaced, and a synced copy in the file changes nothing.
    assert_eq!(exported.clone().imported_over(&conflict(), 23), None);
    assert_eq!(exported.imported_over(&in_flight(None), 24), None);
    assert_eq!(synced(1, json!({})).imported_over(&pulled, 25), None);
}

#[test]
fn an_import_of_work_the_server_already_holds_keeps_the_pulled_copy() {
    // The same backup imported twice: the first import's edit went out and came back in a pull,
    // with the fields the server fills (unit, author) set.
    let mine = json!({"id": "r1", "notes": "手机损坏前的检查记录", "unit_id": null, "reviews": []});
    let exported = LocalState::created(mine, 4);
    let pulled = synced(
        1,
        json!({"id": "r1", "notes": "手机损坏前的检查记录", "unit_id": "u1", "created_by": "zhangwei", "reviews": []}),
    );
    assert_eq!(exported.clone().imported_over(&pulled, 9), None);
    // A server copy that differs in a field the edit set does not hold it: the edit goes out, an
    // edit that emptied a field too.
    let edited = synced(1, json!({"id": "r1", "notes": "别人改过", "unit_id": "u1"}));
    assert!(exported.imported_over(&edited, 9).is_some());
    let emptied = LocalState::created(json!({"id": "r1", "notes": ""}), 5);
    assert!(emptied.imported_over(&edited, 9).is_some());
    // The server went from "a" (rev 1) to "b" (rev 2); an edit made on rev 2 set it back to "a". A
    // phone that pulled only rev 1 does not hold that edit, though every field matches.
    let back_to_a = LocalState::Queued {
        order: 6,
        base: Some(sv(2, json!({"id": "r1", "notes": "b"}))),
        mine: json!({"id": "r1", "notes": "a"}),
        newer: None,
    };
    let only_rev_1 = synced(1, json!({"id": "r1", "notes": "a"}));
    assert!(back_to_a.imported_over(&only_rev_1, 9).is_some());
}
