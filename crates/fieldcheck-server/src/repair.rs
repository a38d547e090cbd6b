//! Current copies of records that no longer match the change log: found, and restored from it.
//!
//! A record's current copy (`records`) is written with its change (`changes`), from the same text, at
//! the same seq. The change log is append-only (the migrations' triggers refuse UPDATE and DELETE),
//! so it is the reference: a current copy that differs from the change at its seq was damaged, or
//! edited behind the server's back. One that no longer reads stops every pull of its unit (answered
//! 500: a pull never skips a change), and leaves a report short of it. Restoring the change's text,
//! at the same rev and seq, lets those pulls through with exactly what the phones already past that
//! seq were given; each restored copy is an audit row of its own.

use crate::audit::{self, Action, Outcome};
use crate::db::{self, DbError};
use chrono::Utc;
use fieldcheck_core::sync::Entity;
use serde_json::Value;
use sqlx::{AnyConnection, AnyPool};

/// A current copy that differs from the change log at its seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The entity's code as stored (an unknown one is a mismatch of its own).
    pub entity: String,
    pub id: String,
    pub rev: i64,
    pub seq: i64,
    /// Whether the current copy still reads as a record of its entity.
    pub current_reads: bool,
    /// What the change log holds at that seq.
    pub logged: Logged,
}

/// The change log's copy of a mismatched record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logged {
    /// The change of this record at this rev, and it reads: the current copy can be restored from
    /// it.
    Restorable,
    /// The change is there but does not read either: nothing on the server holds this rev intact.
    Unreadable,
    /// No change at this seq is of this record at this rev.
    Missing,
}

impl Mismatch {
    /// One line for an administrator, naming the record and what can be done.
    pub fn describe(&self) -> String {
        let current = if self.current_reads {
            "its current copy reads but differs from the change log"
        } else {
            "its current copy does not read"
        };
        let logged = match self.logged {
            Logged::Restorable => "restorable from the change log",
            Logged::Unreadable => "the change log's copy does not read either: not restorable",
            Logged::Missing => "the change log has no change of it at that seq: not restorable",
        };
        format!(
            "{} {} rev {} (seq {}): {current}; {logged}",
            self.entity, self.id, self.rev, self.seq
        )
    }
}

/// What a repair did.
#[derive(Debug, Default)]
pub struct Repaired {
    pub restored: Vec<Mismatch>,
    /// Mismatches the change log cannot restore, left as they were.
    pub left: Vec<Mismatch>,
}

/// Every current copy that differs from the change log at its seq, oldest seq first.
pub async fn check(pool: &AnyPool) -> Result<Vec<Mismatch>, DbError> {
    let mut conn = pool.acquire().await?;
    Ok(mismatches(&mut conn)
        .await?
        .into_iter()
        .map(|(mismatch, _)| mismatch)
        .collect())
}

/// Restores every restorable mismatch from the change log in one write transaction, each with an
/// audit row (action `repair`), and leaves the rest as they are. Safe while the server runs: the
/// transaction holds the write lock, and a copy is rewritten only if it is still the damaged text
/// that was read.
pub async fn repair(pool: &AnyPool) -> Result<Repaired, DbError> {
    let mut tx = db::begin_write(pool).await?;
    let found = mismatches(&mut tx).await?;
    let mut repaired = Repaired::default();
    let mut events = audit::Pending::default();
    let now = Utc::now();
    for (mismatch, texts) in found {
        let Some((current, logged)) = texts.filter(|_| mismatch.logged == Logged::Restorable)
        else {
            repaired.left.push(mismatch);
            continue;
        };
        let updated = sqlx::query(
            "UPDATE records SET body = $1 WHERE entity = $2 AND id = $3 AND rev = $4 AND seq = $5 \
             AND body = $6",
        )
        .bind(logged.as_str())
        .bind(mismatch.entity.as_str())
        .bind(mismatch.id.as_str())
        .bind(mismatch.rev)
        .bind(mismatch.seq)
        .bind(current.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(DbError::Corrupt(format!(
                "{} {} changed while it was being restored",
                mismatch.entity, mismatch.id
            )));
        }
        let body: Value = serde_json::from_str(&logged)
            .map_err(|error| DbError::Corrupt(format!("a restorable copy: {error}")))?;
        let rev = u64::try_from(mismatch.rev)
            .map_err(|_| DbError::Corrupt(format!("negative rev {}", mismatch.rev)))?;
        events
            .push(
                &mut tx,
                audit::Event {
                    at: now,
                    user_id: None,
                    device_id: None,
                    action: Action::Repair,
                    outcome: Outcome::Applied,
                    code: None,
                    entity: &mismatch.entity,
                    id: &mismatch.id,
                    op_id: None,
                    rev: Some(rev),
                    content_hash: &audit::content_hash(rev, &body),
                },
            )
            .await?;
        repaired.restored.push(mismatch);
    }
    events.write(&mut tx).await?;
    tx.commit().await?;
    Ok(repaired)
}

/// The stored texts of a mismatch: the current copy's and, when restorable, the change log's.
type Texts = Option<(String, String)>;

type MismatchRow = (
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

async fn mismatches(conn: &mut AnyConnection) -> Result<Vec<(Mismatch, Texts)>, DbError> {
    // Text compared with text: both copies were bound from one string when written.
    let rows: Vec<MismatchRow> = sqlx::query_as(
        "SELECT r.entity, r.id, r.rev, r.seq, r.body, c.entity, c.id, c.rev, c.body \
         FROM records r LEFT JOIN changes c ON c.seq = r.seq \
         WHERE c.seq IS NULL OR c.entity <> r.entity OR c.id <> r.id OR c.rev <> r.rev \
         OR c.body <> r.body \
         ORDER BY r.seq",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(entity, id, rev, seq, current, logged_entity, logged_id, logged_rev, logged)| {
                let kind = Entity::from_code(&entity);
                let reads = |text: &str| {
                    kind.is_some_and(|kind| {
                        serde_json::from_str::<Value>(text).is_ok_and(|body| kind.reads(&body))
                    })
                };
                let same_change = logged_entity.as_deref() == Some(entity.as_str())
                    && logged_id.as_deref() == Some(id.as_str())
                    && logged_rev == Some(rev);
                let (logged, texts) = match logged.filter(|_| same_change) {
                    None => (Logged::Missing, None),
                    Some(text) if reads(&text) => (Logged::Restorable, Some(text)),
                    Some(_) => (Logged::Unreadable, None),
                };
                let mismatch = Mismatch {
                    current_reads: reads(&current),
                    entity,
                    id,
                    rev,
                    seq,
                    logged,
                };
                let texts = texts.map(|logged| (current, logged));
                (mismatch, texts)
            },
        )
        .collect())
}
