//! The sync run: push the queue, then pull, over two ports — the phone's store and the server.
//!
//! The plan is the state machine in [`crate::local`]; this is the thin loop that executes it. The phone
//! runs it over IndexedDB and `fetch`, the model test over [`crate::memory::MemoryStore`] and the real
//! server router, so both run the very same code.

use crate::ids::DeviceId;
use crate::local::Settled;
use crate::sync::{Mutation, MutationResult, PullResponse, PushRequest, PushResponse};
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;

/// At most this many records are taken from the queue at a time. Each batch costs the phone one
/// transaction to take it, and the phone one and the server one per request it is sent in
/// ([`PUSH_BYTES`]): 200 halved a 1 000-record backlog's sync against 50 (BENCHMARKS.md).
pub const PUSH_LIMIT: usize = 200;
/// A push request carries at most this many bytes of mutations (at least one mutation), so that a
/// batch of large records goes in several requests: far below the server's 16 MiB body limit, and
/// within its deadline on an uplink of 2.7 KB/s (the phone's `api::push`), where a batch of 50
/// records in one request needed 4.4 KB/s.
pub const PUSH_BYTES: usize = 256 * 1024;
/// At most this many changes per pull page.
pub const PULL_LIMIT: u32 = 200;

/// The phone's side: records and the pull cursor. Each method is one transaction.
// The phone's futures are not `Send` (IndexedDB handles live on the page's thread), so the traits
// deliberately promise nothing about `Send`.
#[allow(async_fn_in_trait)]
pub trait LocalStore {
    type Error: fmt::Display;

    /// Reads up to `limit` records with work to send, in queue order, and marks the queued ones in
    /// flight under fresh op ids — in one transaction, so that a save can never slip in between the
    /// read and the mark. Records in flight from an earlier run are sent again unchanged.
    async fn take_batch(&self, limit: usize) -> Result<Vec<Mutation>, Self::Error>;

    /// Applies the server's answers to the records they belong to (matched by op id among `sent`).
    async fn settle(
        &self,
        sent: &[Mutation],
        results: &[MutationResult],
    ) -> Result<Vec<Settled>, Self::Error>;

    /// Where the last pull ended (`None`: from the start).
    async fn pull_cursor(&self) -> Result<Option<String>, Self::Error>;

    /// Applies one page of pulled changes and the cursor after it, in one transaction.
    async fn apply_page(&self, page: &PullResponse) -> Result<PageApplied, Self::Error>;
}

/// The server's side.
#[allow(async_fn_in_trait)]
pub trait Remote {
    type Error: fmt::Display;

    async fn push(&self, request: &PushRequest) -> Result<PushResponse, Self::Error>;

    async fn pull(&self, since: Option<&str>, limit: u32) -> Result<PullResponse, Self::Error>;
}

/// What applying one pulled page did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageApplied {
    /// Changes that changed a local record (stored, refreshed or dropped).
    pub changed: usize,
    /// Changes whose body does not read as its entity (a newer server's record, or a server bug):
    /// not applied, the rest applied; the phone's store keeps them for a build that reads them. A
    /// store may leave uncounted one whose body is the very copy it already holds, which it neither
    /// checks nor writes.
    pub malformed: usize,
}

/// What one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunReport {
    pub sent: usize,
    pub synced: usize,
    pub conflicts: usize,
    pub rejected: usize,
    pub pulled: usize,
    pub malformed: usize,
}

impl RunReport {
    fn count(&mut self, applied: PageApplied) {
        self.pulled += applied.changed;
        self.malformed += applied.malformed;
    }

    /// Whether the run changed anything a screen shows.
    pub fn changed_anything(&self) -> bool {
        self.synced + self.conflicts + self.rejected + self.pulled > 0
    }
}

/// Why a run stopped short.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError<L, R> {
    /// The phone's store failed.
    Local(L),
    /// The server could not be reached or answered with an error.
    Remote(R),
    /// The server's answers do not fit the protocol.
    Protocol(String),
}

impl<L: fmt::Display, R: fmt::Display> fmt::Display for RunError<L, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Local(error) => write!(f, "local store: {error}"),
            RunError::Remote(error) => write!(f, "server: {error}"),
            RunError::Protocol(message) => write!(f, "protocol: {message}"),
        }
    }
}

/// One sync run: push every queued record in batches, then pull every page.
///
/// The pull runs even when the push failed on the server's side (one bad answer must not keep the
/// phone from hearing of others' changes); only a failing local store stops the run at once. The
/// report counts what happened before any failure; the error is the first one met.
pub async fn sync_once<L: LocalStore, R: Remote>(
    local: &L,
    remote: &R,
    device_id: &DeviceId,
) -> (RunReport, Result<(), RunError<L::Error, R::Error>>) {
    let mut report = RunReport::default();
    let pushed = push_all(local, remote, device_id, &mut report).await;
    if let Err(RunError::Local(error)) = pushed {
        return (report, Err(RunError::Local(error)));
    }
    let pulled = pull_all(local, remote, &mut report).await;
    (report, pushed.and(pulled))
}

async fn push_all<L: LocalStore, R: Remote>(
    local: &L,
    remote: &R,
    device_id: &DeviceId,
    report: &mut RunReport,
) -> Result<(), RunError<L::Error, R::Error>> {
    loop {
        let batch = local
            .take_batch(PUSH_LIMIT)
            .await
            .map_err(RunError::Local)?;
        if batch.is_empty() {
            return Ok(());
        }
        let n_taken = batch.len();
        let mut n_settled = 0;
        // Each request's answers are settled while the next request is on the wire: the phone's
        // writes and the server's overlap. A batch's requests hold different records, so the two
        // never touch the same one, and both always finish before either's failure ends the run.
        let mut answered: Option<(Vec<Mutation>, PushResponse)> = None;
        for mutations in by_size(batch, PUSH_BYTES) {
            let request = PushRequest {
                device_id: device_id.clone(),
                mutations,
            };
            report.sent += request.mutations.len();
            let (settled, response) = join(
                settle_answers(local, answered.take(), report),
                remote.push(&request),
            )
            .await;
            n_settled += settled.map_err(RunError::Local)?;
            let response = response.map_err(RunError::Remote)?;
            answered = Some((request.mutations, response));
        }
        n_settled += settle_answers(local, answered, report)
            .await
            .map_err(RunError::Local)?;
        // Without progress the same batch would go out forever.
        if n_settled == 0 {
            return Err(RunError::Protocol(format!(
                "the server settled none of the {n_taken} changes sent"
            )));
        }
    }
}

/// Settles one request's answers (if any), counting them in `report`; returns how many settled.
async fn settle_answers<L: LocalStore>(
    local: &L,
    answered: Option<(Vec<Mutation>, PushResponse)>,
    report: &mut RunReport,
) -> Result<usize, L::Error> {
    let Some((sent, response)) = answered else {
        return Ok(0);
    };
    let mut n_settled = 0;
    for outcome in local.settle(&sent, &response.results).await? {
        match outcome {
            Settled::Synced => report.synced += 1,
            Settled::Conflict => report.conflicts += 1,
            Settled::Rejected => report.rejected += 1,
            Settled::Unsettled => continue,
        }
        n_settled += 1;
    }
    Ok(n_settled)
}

/// Cuts a batch into requests of at most `budget` bytes of JSON each, in order; a mutation larger
/// than the budget goes alone.
fn by_size(batch: Vec<Mutation>, budget: usize) -> Vec<Vec<Mutation>> {
    let mut requests: Vec<Vec<Mutation>> = Vec::new();
    let mut used = 0;
    for mutation in batch {
        let size = json_size(&mutation);
        match requests.last_mut() {
            Some(request) if used + size <= budget => request.push(mutation),
            _ => {
                requests.push(vec![mutation]);
                used = 0;
            }
        }
        used += size;
    }
    requests
}

/// The length of a value's JSON text. Written into a buffer like every request is (a counting
/// writer would be a second copy of the whole JSON writer in the phone's download).
fn json_size<T: serde::Serialize>(value: &T) -> usize {
    // A value that cannot be written counts as nothing; the request would fail on it anyway.
    serde_json::to_vec(value).map_or(0, |text| text.len())
}

async fn pull_all<L: LocalStore, R: Remote>(
    local: &L,
    remote: &R,
    report: &mut RunReport,
) -> Result<(), RunError<L::Error, R::Error>> {
    let mut cursor = local.pull_cursor().await.map_err(RunError::Local)?;
    let mut page = remote
        .pull(cursor.as_deref(), PULL_LIMIT)
        .await
        .map_err(RunError::Remote)?;
    loop {
        let advanced = cursor.as_deref() != Some(page.cursor.as_str());
        if !page.has_more || !advanced {
            let applied = local.apply_page(&page).await.map_err(RunError::Local)?;
            report.count(applied);
            if !page.has_more {
                return Ok(());
            }
            return Err(RunError::Protocol(
                "the pull cursor did not advance".to_owned(),
            ));
        }
        // The next page is asked for while this one is applied; a failure of either ends the run
        // only once both are done, so an applied page is always counted.
        let (applied, next) = join(
            local.apply_page(&page),
            remote.pull(Some(page.cursor.as_str()), PULL_LIMIT),
        )
        .await;
        report.count(applied.map_err(RunError::Local)?);
        cursor = Some(page.cursor);
        page = next.map_err(RunError::Remote)?;
    }
}

/// Runs two futures together until both are done, as `futures::join` does: written here because the
/// core depends on no async crate.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut a_out, mut b_out) = (None, None);
    poll_fn(|context| {
        if a_out.is_none()
            && let Poll::Ready(out) = a.as_mut().poll(context)
        {
            a_out = Some(out);
        }
        if b_out.is_none()
            && let Poll::Ready(out) = b.as_mut().poll(context)
        {
            b_out = Some(out);
        }
        match (a_out.take(), b_out.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                (a_out, b_out) = (a, b);
                Poll::Pending
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OpId;
    use crate::sync::Entity;
    use serde_json::json;

    fn mutation(n: usize, notes: usize) -> Mutation {
        Mutation {
            op_id: OpId(format!("op{n}")),
            entity: Entity::Inspection,
            id: format!("r{n}"),
            base_rev: 0,
            body: json!({ "notes": "x".repeat(notes) }),
        }
    }

    #[test]
    fn a_batch_goes_in_requests_within_the_byte_budget_in_order() {
        let batch: Vec<Mutation> = (0..7).map(|n| mutation(n, 100)).collect();
        let size = json_size(&batch[0]);
        assert_eq!(
            size,
            serde_json::to_string(&batch[0]).map_or(0, |text| text.len())
        );
        let requests = by_size(batch.clone(), 3 * size);
        let lengths: Vec<usize> = requests.iter().map(Vec::len).collect();
        assert_eq!(lengths, [3, 3, 1]);
        assert_eq!(requests.concat(), batch);
        // One larger than the budget goes alone, and nothing is dropped.
        let big = vec![mutation(0, 10), mutation(1, 5_000), mutation(2, 10)];
        let requests = by_size(big.clone(), 1_000);
        assert_eq!(requests.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1]);
        assert_eq!(requests.concat(), big);
        assert!(by_size(Vec::new(), 1_000).is_empty());
    }
}
