//! Current copies of records checked against the change log, and restored from it as a new rev.
//!
//! Every write of a record appends its change (`changes`) and makes it the current copy (`records`):
//! the same unit, rev and seq, and the text of the change at that seq (stored once, in the log). The
//! change log is append-only (the migrations' triggers refuse UPDATE and DELETE), so its latest change
//! of each record is the reference: a current copy that differs from it (an older change's text,
//! another unit or rev, a seq naming no change of its own), or is gone, was edited behind the server's
//! back. One without readable text stops every pull of its unit (answered 500: a pull never skips a
//! change); one that reads has been handed to phones as it is. So has a current copy's own text that
//! version 5 found differing from its change when it stopped storing such texts: kept aside in
//! `unrepaired_texts`, it counts as the copy's text until the record is repaired. The repair
//! therefore writes the latest change again as a new rev and seq, as any write does: every phone
//! pulls it, whatever it was given before, and a phone of a unit the copy was wrongly moved to gets
//! a tombstone. Each repair is an audit row (action `repair`), and the text it replaces is kept in a
//! file first.

use crate::audit::{self, Action, Outcome};
use crate::db::{self, DbError, Engine, RecordWrite};
use chrono::{DateTime, Utc};
use fieldcheck_core::UnitId;
use fieldcheck_core::sync::Entity;
use serde_json::Value;
use sqlx::{AnyConnection, AnyPool};
use std::path::{Path, PathBuf};

/// A record whose current copy differs from its latest change, or has no change at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The entity's code as stored.
    pub entity: String,
    pub id: String,
    pub current: Current,
    pub logged: Logged,
}

/// The current copy of a mismatched record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Current {
    /// No current copy: pulls no longer hand the record out.
    Missing,
    /// It reads as a record of its entity, but it is an older change's, or its rev, seq or unit
    /// differ from the change.
    Differs,
    /// It does not read as a record of its entity (its seq names no change of its own, or that
    /// change's text is not JSON or not such a record).
    Unreadable,
}

/// What the change log holds of a mismatched record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logged {
    /// Its latest change reads: the record can be restored from it.
    Restorable,
    /// Its latest change does not read either: nothing is restored over the current copy.
    Unreadable,
    /// No change of the record at all: it was not written by the server.
    Absent,
}

impl Mismatch {
    /// One line for an administrator, naming the record and what can be done.
    pub fn describe(&self) -> String {
        let current = match self.current {
            Current::Missing => "its current copy is gone",
            Current::Differs => "its current copy reads but differs from its latest change",
            Current::Unreadable => "its current copy does not read",
        };
        let logged = match self.logged {
            Logged::Restorable => "restorable from the change log",
            Logged::Unreadable => "its latest change does not read either: not restorable",
            Logged::Absent => "the change log has no change of it: not restorable",
        };
        format!("{} {}: {current}; {logged}", self.entity, self.id)
    }
}

/// One record restored.
#[derive(Debug)]
pub struct Restored {
    pub mismatch: Mismatch,
    /// The rev written.
    pub rev: u64,
    /// The file keeping the text the restored copy replaced (`None`: there was none).
    pub kept: Option<PathBuf>,
}

/// What a repair did.
#[derive(Debug, Default)]
pub struct Repaired {
    pub restored: Vec<Restored>,
    /// Mismatches the change log cannot restore, left as they were.
    pub left: Vec<Mismatch>,
}

/// Every record whose current copy differs from its latest change, by the latest seq of either.
/// Read in one transaction that sees one state of the database, so that a push made meanwhile is
/// not reported as a mismatch.
pub async fn check(pool: &AnyPool) -> Result<Vec<Mismatch>, DbError> {
    let mut tx = pool.begin().await?;
    if Engine::of(&tx) == Engine::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *tx)
            .await?;
    }
    let mut found = Vec::new();
    for (entity, id) in candidates(&mut tx).await? {
        if let Some((mismatch, _)) = examine(&mut tx, &entity, &id).await? {
            found.push(mismatch);
        }
    }
    Ok(found)
}

/// Restores every restorable mismatch in one write transaction, each as a new rev written from its
/// latest change with an audit row, and leaves the rest as they are. The text each replaces is first
/// kept in a file of its own in `keep` (made if missing); the repair writes nothing if one cannot
/// be. Safe while the server runs: the whole table is compared before the write lock is taken, and
/// each record found is examined again under it.
pub async fn repair(pool: &AnyPool, keep: &Path) -> Result<Repaired, RepairError> {
    let candidates = {
        let mut conn = pool.acquire().await.map_err(DbError::from)?;
        candidates(&mut conn).await?
    };
    let mut tx = db::begin_write(pool).await?;
    let mut repaired = Repaired::default();
    let mut plans = Vec::new();
    for (entity, id) in candidates {
        match examine(&mut tx, &entity, &id).await? {
            Some((mismatch, Some(plan))) => plans.push((mismatch, plan)),
            Some((mismatch, None)) => repaired.left.push(mismatch),
            None => {}
        }
    }
    let now = Utc::now();
    let mut kept = Vec::with_capacity(plans.len());
    for (mismatch, plan) in &plans {
        kept.push(match &plan.replaced {
            Some(text) => Some(keep_replaced(keep, now, mismatch, plan.rev, text)?),
            None => None,
        });
    }
    // A copy whose seq was raised behind the server's back may have moved a phone's cursor past
    // the seqs the log would hand out next: the restored changes, and every later one, must come
    // after it (and never take a seq such a copy holds).
    let reached: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(seq) FROM (SELECT seq FROM records UNION ALL SELECT seq FROM tombstones) s",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(DbError::from)?;
    if let Some(reached) = reached {
        match Engine::of(&tx) {
            Engine::Sqlite => db::raise_change_seq(&mut tx, reached).await?,
            Engine::Postgres => db::raise_postgres_change_seq(&mut tx, reached).await?,
        }
    }
    let writes: Vec<RecordWrite<'_>> = plans
        .iter()
        .map(|(mismatch, plan)| RecordWrite {
            entity: plan.entity,
            id: &mismatch.id,
            unit_id: &plan.unit_id,
            rev: plan.rev,
            body: &plan.body,
            user_id: None,
            origin: None,
            at: now,
        })
        .collect();
    db::write_records(&mut tx, &writes).await?;
    drop(writes);
    // A text version 5 kept aside is in its file now, and the record written again.
    for (mismatch, _) in &plans {
        sqlx::query("DELETE FROM unrepaired_texts WHERE entity = $1 AND id = $2")
            .bind(&mismatch.entity)
            .bind(&mismatch.id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
    }
    let mut events = audit::Pending::default();
    for (mismatch, plan) in &plans {
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
                    entity: plan.entity.code(),
                    id: &mismatch.id,
                    op_id: None,
                    rev: Some(plan.rev),
                    content_hash: &audit::content_hash(plan.rev, &plan.body),
                },
            )
            .await?;
    }
    events.write(&mut tx).await?;
    tx.commit().await.map_err(DbError::from)?;
    repaired.restored = plans
        .into_iter()
        .zip(kept)
        .map(|((mismatch, plan), kept)| Restored {
            mismatch,
            rev: plan.rev,
            kept,
        })
        .collect();
    Ok(repaired)
}

/// Why a repair wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("keeping the replaced copy of {what} in {path}: {error}")]
    Keep {
        what: String,
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Writes the text a restored copy replaces to a new file in `keep`, on disk before the repair
/// commits, readable by its owner only (it holds an inspection's personal data). Named by time,
/// entity, id and the rev written, so that no two repairs share a file.
fn keep_replaced(
    keep: &Path,
    now: DateTime<Utc>,
    mismatch: &Mismatch,
    rev: u64,
    text: &[u8],
) -> Result<PathBuf, RepairError> {
    // Ids are checked on push, but a row written behind the server's back may hold anything.
    let safe = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let path = keep.join(format!(
        "{}-{}-{}-rev{rev}.txt",
        now.format("%Y%m%dT%H%M%SZ"),
        safe(&mismatch.entity),
        safe(&mismatch.id)
    ));
    let failed = |error| RepairError::Keep {
        what: format!("{} {}", mismatch.entity, mismatch.id),
        path: path.clone(),
        error,
    };
    std::fs::create_dir_all(keep).map_err(failed)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(failed)?;
    std::io::Write::write_all(&mut file, text).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    Ok(path)
}

/// How a restorable record is written again.
struct Plan {
    entity: Entity,
    unit_id: UnitId,
    /// Above every rev the record has had, in the log or in its current copy.
    rev: u64,
    body: Value,
    replaced: Option<Vec<u8>>,
}

/// The records whose current copy may differ from their latest change, each once: compared in SQL,
/// without reading any body into the server (a copy at its latest change's seq has that change's
/// text), and those whose own text version 5 kept aside (`unrepaired_texts`, see its migration).
async fn candidates(conn: &mut AnyConnection) -> Result<Vec<(String, String)>, DbError> {
    let mut seen = std::collections::HashSet::new();
    Ok(sqlx::query_as::<_, (String, String, i64)>(
        "SELECT c.entity, c.id, c.seq FROM changes c \
         JOIN (SELECT entity, id, MAX(seq) AS seq FROM changes GROUP BY entity, id) latest \
         ON latest.seq = c.seq \
         LEFT JOIN records r ON r.entity = c.entity AND r.id = c.id \
         WHERE r.id IS NULL OR r.unit_id <> c.unit_id OR r.rev <> c.rev OR r.seq <> c.seq \
         UNION ALL \
         SELECT r.entity, r.id, r.seq FROM records r WHERE NOT EXISTS \
         (SELECT 1 FROM changes c WHERE c.entity = r.entity AND c.id = r.id) \
         UNION ALL \
         SELECT u.entity, u.id, COALESCE(r.seq, \
           (SELECT MAX(c.seq) FROM changes c WHERE c.entity = u.entity AND c.id = u.id), 0) \
         FROM unrepaired_texts u \
         LEFT JOIN records r ON r.entity = u.entity AND r.id = u.id \
         ORDER BY 3",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(entity, id, _)| (entity, id))
    .filter(|record| seen.insert(record.clone()))
    .collect())
}

/// A copy as stored: unit, rev, seq and the body's bytes (read as bytes, so that damaged text that
/// is not UTF-8 is examined instead of failing the query; `None`: a current copy naming no change of
/// its own).
type CopyRow = (String, i64, i64, Option<Vec<u8>>);

/// Whether the record differs from its latest change, and how to restore it if it can be.
async fn examine(
    conn: &mut AnyConnection,
    entity: &str,
    id: &str,
) -> Result<Option<(Mismatch, Option<Plan>)>, DbError> {
    let engine = Engine::of(conn);
    let bytes = |column: &str| match engine {
        Engine::Sqlite => format!("CAST({column} AS BLOB)"),
        Engine::Postgres => format!("convert_to({column}, 'UTF8')"),
    };
    let named = bytes("c.body");
    let current: Option<CopyRow> = sqlx::query_as(&format!(
        "SELECT r.unit_id, r.rev, r.seq, {named} FROM {} WHERE r.entity = $1 AND r.id = $2",
        db::CURRENT_COPIES
    ))
    .bind(entity)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let latest: Option<CopyRow> = sqlx::query_as(&format!(
        "SELECT c.unit_id, c.rev, c.seq, {named} FROM changes c WHERE c.entity = $1 AND c.id = $2 \
         ORDER BY c.seq DESC LIMIT 1"
    ))
    .bind(entity)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    // A text of the copy's own that version 5 kept aside, with the rev it had: what phones may hold.
    let kept: Option<(i64, Vec<u8>)> = sqlx::query_as(&format!(
        "SELECT rev, {} FROM unrepaired_texts WHERE entity = $1 AND id = $2",
        bytes("body")
    ))
    .bind(entity)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    if kept.is_none() && current.is_some() && current == latest {
        return Ok(None);
    }
    let kind = Entity::from_code(entity);
    let read = |bytes: Option<&Vec<u8>>| -> Option<(Entity, Value)> {
        let kind = kind?;
        let body: Value = serde_json::from_slice(bytes?).ok()?;
        kind.reads(&body).then_some((kind, body))
    };
    let (kept_rev, kept_text) = kept.unzip();
    let current_text = kept_text.or_else(|| current.as_ref().and_then(|copy| copy.3.clone()));
    let current_state = match &current {
        None => Current::Missing,
        Some(_) if read(current_text.as_ref()).is_some() => Current::Differs,
        Some(_) => Current::Unreadable,
    };
    let restorable = latest
        .as_ref()
        .and_then(|copy| Some((copy, read(copy.3.as_ref())?)));
    let logged = match (&latest, &restorable) {
        (None, _) => Logged::Absent,
        (Some(_), None) => Logged::Unreadable,
        (Some(_), Some(_)) => Logged::Restorable,
    };
    let mismatch = Mismatch {
        entity: entity.to_owned(),
        id: id.to_owned(),
        current: current_state,
        logged,
    };
    let plan = match restorable {
        Some(((unit_id, logged_rev, _, _), (kind, body))) => {
            let highest = [current.as_ref().map(|copy| copy.1), kept_rev]
                .into_iter()
                .flatten()
                .fold(*logged_rev, i64::max);
            let rev = u64::try_from(highest)
                .ok()
                .and_then(|rev| rev.checked_add(1))
                .ok_or_else(|| DbError::Corrupt(format!("rev {highest} of {entity} {id}")))?;
            Some(Plan {
                entity: kind,
                unit_id: UnitId(unit_id.clone()),
                rev,
                body,
                replaced: current_text,
            })
        }
        None => None,
    };
    Ok(Some((mismatch, plan)))
}
