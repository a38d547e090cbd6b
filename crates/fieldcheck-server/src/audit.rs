//! The audit chain: every accepted change and every refused attempt, hash-linked and append-only.
//!
//! Each row's `hash` is the SHA-256 of its fields and of the previous row's hash, so changing,
//! removing or inserting a row behind the server's back breaks the chain from that row on; the
//! database refuses UPDATE and DELETE on the table (triggers in the migrations) so that the server
//! itself cannot rewrite history either. `verify` walks the chain and names the first broken row.

use crate::db::{DbError, Engine, timestamp, values_list};
use chrono::{DateTime, Utc};
use fieldcheck_core::{DeviceId, OpId, UserId};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AnyExecutor};

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A phone's mutation in a push.
    Push,
    /// A supervisor's review.
    Review,
    /// An administrator's or supervisor's change to users, units or the venue register.
    Admin,
    /// A record's current copy restored from the change log (`fieldcheck-server records repair`).
    Repair,
}

impl Action {
    fn code(self) -> &'static str {
        match self {
            Action::Push => "push",
            Action::Review => "review",
            Action::Admin => "admin",
            Action::Repair => "repair",
        }
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Conflict,
    Rejected,
}

impl Outcome {
    fn code(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Conflict => "conflict",
            Outcome::Rejected => "rejected",
        }
    }
}

/// One event to append.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub at: DateTime<Utc>,
    pub user_id: Option<&'a UserId>,
    pub device_id: Option<&'a DeviceId>,
    pub action: Action,
    pub outcome: Outcome,
    /// The refusal code (`not_yours`, `stale`, …); `None` when applied.
    pub code: Option<&'a str>,
    /// What was changed: an entity's code (`inspection`, `venue`, …), `user` or `unit`.
    pub entity: &'a str,
    pub id: &'a str,
    pub op_id: Option<&'a OpId>,
    /// The rev produced (applied) or the rev the attempt was based on.
    pub rev: Option<u64>,
    /// SHA-256 of the body as sent (push) or stored (review).
    pub content_hash: &'a str,
}

/// SHA-256 (hex) of a JSON value as it stands on the wire, with the rev it was based on: what makes a
/// mutation the same mutation when its op id comes again.
pub fn content_hash(base_rev: u64, body: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(base_rev.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(body.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// An audit row as stored; its hash covers every field but `seq` and `hash`, in a fixed order.
#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: String,
    user_id: Option<String>,
    device_id: Option<String>,
    action: String,
    outcome: String,
    code: Option<String>,
    entity: String,
    id: String,
    op_id: Option<String>,
    rev: Option<i64>,
    content_hash: String,
    prev_hash: String,
    hash: String,
}

impl Row {
    fn expected_hash(&self) -> String {
        let fields = json!([
            self.prev_hash,
            self.at,
            self.user_id,
            self.device_id,
            self.action,
            self.outcome,
            self.code,
            self.entity,
            self.id,
            self.op_id,
            self.rev,
            self.content_hash,
        ]);
        hex::encode(Sha256::digest(fields.to_string().as_bytes()))
    }
}

/// Appends one event, linked to the last row. Run inside a write transaction ([`crate::db::begin_write`])
/// so that the read of the last hash and the append are one step.
pub async fn append(conn: &mut AnyConnection, event: Event<'_>) -> Result<(), DbError> {
    let mut pending = Pending::default();
    pending.push(conn, event).await?;
    pending.write(conn).await
}

/// Events of one write transaction, linked as they happen and inserted together at its end: one
/// statement for many rows instead of one round trip per event (what a push of many mutations makes).
/// Nothing in the transaction reads the audit table in between, so holding the rows back changes
/// nothing but the number of statements.
#[derive(Default)]
pub struct Pending {
    /// The hash of the last row, written or pending; `None` until the first event reads it.
    head: Option<String>,
    rows: Vec<Row>,
}

/// Audit rows per INSERT: 13 values each, well inside both engines' limit on bound parameters.
const ROWS_PER_INSERT: usize = 100;

impl Pending {
    /// Links `event` after the chain's last row (read on the first event) and holds it for [`Self::write`].
    pub async fn push(
        &mut self,
        conn: &mut AnyConnection,
        event: Event<'_>,
    ) -> Result<(), DbError> {
        let prev_hash: Option<String> = match self.head.take() {
            Some(hash) => Some(hash),
            None => {
                sqlx::query_scalar("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *conn)
                    .await?
            }
        };
        let rev = event
            .rev
            .map(|rev| i64::try_from(rev).map_err(|_| DbError::OutOfRange(rev.to_string())))
            .transpose()?;
        let mut row = Row {
            seq: 0,
            at: timestamp(event.at),
            user_id: event.user_id.map(|user| user.as_str().to_owned()),
            device_id: event.device_id.map(|device| device.as_str().to_owned()),
            action: event.action.code().to_owned(),
            outcome: event.outcome.code().to_owned(),
            code: event.code.map(str::to_owned),
            entity: event.entity.to_owned(),
            id: event.id.to_owned(),
            op_id: event.op_id.map(|op| op.as_str().to_owned()),
            rev,
            content_hash: event.content_hash.to_owned(),
            prev_hash: prev_hash.unwrap_or_else(|| GENESIS.to_owned()),
            hash: String::new(),
        };
        row.hash = row.expected_hash();
        self.head = Some(row.hash.clone());
        self.rows.push(row);
        Ok(())
    }

    /// Inserts the held rows in the order they were pushed (each VALUES list is inserted in its
    /// order, so `seq` follows the chain) and keeps the head for later events.
    pub async fn write(&mut self, conn: &mut AnyConnection) -> Result<(), DbError> {
        for chunk in self.rows.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO audit (at, user_id, device_id, action, outcome, code, entity, id, op_id, \
                 rev, content_hash, prev_hash, hash) VALUES {}",
                values_list(Engine::of(conn), chunk.len(), 13)
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(&row.at)
                    .bind(&row.user_id)
                    .bind(&row.device_id)
                    .bind(&row.action)
                    .bind(&row.outcome)
                    .bind(&row.code)
                    .bind(&row.entity)
                    .bind(&row.id)
                    .bind(&row.op_id)
                    .bind(row.rev)
                    .bind(&row.content_hash)
                    .bind(&row.prev_hash)
                    .bind(&row.hash);
            }
            query.execute(&mut *conn).await?;
        }
        self.rows.clear();
        Ok(())
    }
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every row matches its hash and follows the one before.
    Intact { rows: u64 },
    /// The first row that does not hold, and why.
    Broken { seq: i64, reason: String },
}

/// Walks the whole chain in seq order and names the first row that breaks it.
pub async fn verify(executor: impl AnyExecutor<'_>) -> Result<Verdict, DbError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, at, user_id, device_id, action, outcome, code, entity, id, op_id, rev, \
         content_hash, prev_hash, hash FROM audit ORDER BY seq",
    )
    .fetch_all(executor)
    .await?;
    let mut previous = GENESIS.to_owned();
    let mut n_rows = 0;
    for row in rows {
        if row.prev_hash != previous {
            return Ok(Verdict::Broken {
                seq: row.seq,
                reason: "does not follow the row before it (a row was removed or inserted)"
                    .to_owned(),
            });
        }
        if row.expected_hash() != row.hash {
            return Ok(Verdict::Broken {
                seq: row.seq,
                reason: "does not match its hash (it was changed after it was written)".to_owned(),
            });
        }
        previous = row.hash;
        n_rows += 1;
    }
    Ok(Verdict::Intact { rows: n_rows })
}
