//! `fieldcheck-server backup` and `restore` for the embedded SQLite database. PostgreSQL is backed up
//! with its own tools (`pg_dump`; see the README), and photos are files named by their hash, copied
//! as they are.

use crate::audit::{self, Verdict};
use crate::db::{self, DbError, Engine};
use chrono::Utc;
use sqlx::AnyPool;
use std::path::{Path, PathBuf};

/// Why a backup or a restore did not happen. Nothing was changed when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("this server runs on PostgreSQL: back it up with pg_dump and restore with pg_restore")]
    Postgres,
    #[error(
        "this is SQLite's database: restore a backup of it with `restore --from FILE`; \
         `restore --database-url` prepares a PostgreSQL database restored with pg_restore"
    )]
    NotPostgres,
    #[error("the restored database's audit chain is broken at row {seq}: {reason}")]
    AuditBroken { seq: i64, reason: String },
    #[error("{0} already exists; name a new file")]
    Exists(PathBuf),
    #[error("{0} is in use: stop the server first")]
    InUse(PathBuf),
    #[error("{path} is not a FieldCheck database: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("{0}")]
    Database(#[from] DbError),
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::File {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a consistent copy of the running server's SQLite database to `to` (a new file): SQLite's
/// `VACUUM INTO` reads one snapshot while pushes go on, and the copy is whole when this returns.
pub async fn backup(pool: &AnyPool, to: &Path) -> Result<(), BackupError> {
    if Engine::of_pool(pool) == Engine::Postgres {
        return Err(BackupError::Postgres);
    }
    // Made empty first, only if new and readable by this user alone: the copy holds password hashes
    // and every record. VACUUM INTO accepts an empty file.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(to) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(BackupError::Exists(to.to_path_buf()));
        }
        Err(source) => {
            return Err(BackupError::File {
                path: to.to_path_buf(),
                source,
            });
        }
    }
    sqlx::query("VACUUM INTO $1")
        .bind(to.to_string_lossy().into_owned())
        .execute(pool)
        .await
        .map_err(DbError::from)?;
    Ok(())
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Audit rows in the restored database, every one checked.
    pub audit_rows: u64,
    /// Where the database that was there before went, if there was one: never deleted.
    pub kept_aside: Option<PathBuf>,
}

/// Makes the backup `from` the database at `database`; the server must be stopped (a database being
/// written at that moment is refused; an idle server cannot be told apart, hence the rule).
///
/// The backup is copied beside the target and the copy is checked — SQLite's integrity check, the
/// schema and the whole audit chain — so what is installed is what was checked. Before it takes the
/// target's name in one rename, two things keep phones right:
/// - the change sequence is raised past the one the replaced database reached, so new changes get
///   seqs above every phone's pull cursor instead of hiding below it;
/// - every token is revoked: tokens revoked, and accounts disabled, after the backup was taken must
///   not come back into force, so every phone logs in again.
///
/// The database that was there is first made whole (its write-ahead log folded in), then kept under
/// a second name, never deleted; the restored copy replaces it in one rename.
pub async fn restore(from: &Path, database: &Path) -> Result<Restored, BackupError> {
    let staging = database.with_extension("db.restoring");
    if !from.is_file() {
        return Err(BackupError::NotABackup {
            path: from.to_path_buf(),
            reason: "no such file".to_owned(),
        });
    }
    // A log left beside the staging name by a restore killed earlier must not be replayed onto it.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(&staging, suffix));
    }
    std::fs::copy(from, &staging).map_err(file_error(&staging))?;
    let prepared = async {
        let audit_rows = check_backup(&staging).await?;
        let reached = if database.exists() {
            Some(settle_replaced(database).await?)
        } else {
            None
        };
        prepare_restored(&staging, reached.unwrap_or(0)).await?;
        Ok::<_, BackupError>(audit_rows)
    }
    .await;
    let audit_rows = match prepared {
        Ok(rows) => rows,
        Err(error) => {
            let _ = std::fs::remove_file(&staging);
            return Err(error);
        }
    };
    let kept_aside = if database.exists() {
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = database.with_extension(format!("db.before-restore-{stamp}"));
        // A second name for the old file, so that the path always names a whole database: killed
        // at any point, the path holds the old database or the restored one, never nothing.
        std::fs::hard_link(database, &aside).map_err(file_error(&aside))?;
        Some(aside)
    } else {
        None
    };
    // Its log is folded in and empty now: the database file alone is the whole database.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(database, suffix));
    }
    std::fs::rename(&staging, database).map_err(file_error(database))?;
    if let Some(folder) = database.parent() {
        // The renames are durable only once the folder is synced.
        std::fs::File::open(folder)
            .and_then(|folder| folder.sync_all())
            .map_err(file_error(folder))?;
    }
    Ok(Restored {
        audit_rows,
        kept_aside,
    })
}

/// Folds the replaced database's write-ahead log into it and returns the highest change seq it
/// handed out; refuses if something is reading or writing it (the checkpoint cannot finish then).
async fn settle_replaced(database: &Path) -> Result<i64, BackupError> {
    let pool = db::open_sqlite_file(database).await?;
    let settled = async {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&pool)
            .await
            .map_err(DbError::from)?;
        if busy != 0 {
            return Err(BackupError::InUse(database.to_path_buf()));
        }
        Ok(db::highest_change_seq(&pool).await?)
    }
    .await;
    db::close(&pool).await;
    settled
}

/// Raises the staged copy's change sequence to at least `reached` and revokes every token in it.
async fn prepare_restored(staging: &Path, reached: i64) -> Result<(), BackupError> {
    let pool = db::open_sqlite_file(staging).await?;
    let prepared = async {
        let mut tx = pool.begin().await.map_err(DbError::from)?;
        db::raise_change_seq(&mut tx, reached).await?;
        db::revoke_all_tokens(&mut *tx).await?;
        tx.commit().await.map_err(DbError::from)?;
        // Leave one file behind, no log beside it.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }
    .await;
    db::close(&pool).await;
    prepared
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// How far a PostgreSQL database restored from a dump moves its change sequence on: past every seq
/// the lost database can have handed out since the dump (its last one is lost with it), by far more
/// than a bureau's changes in a lifetime.
pub const RESTORED_SEQ_JUMP: i64 = 1_000_000_000;

/// What preparing a restored PostgreSQL database found and did.
#[derive(Debug)]
pub struct PreparedRestore {
    pub audit_rows: u64,
    /// The next change gets a seq above this one.
    pub seq_above: i64,
}

/// Prepares a PostgreSQL database restored with `pg_restore` for the phones that knew the lost one,
/// as `restore` does for SQLite: checks its audit chain, moves its change sequence past any seq the
/// lost database can have handed out (a phone's cursor may be there: it would never pull a change
/// made under it), and revokes every token (none revoked since the dump comes back). Run once, with
/// the server stopped, before it serves again.
pub async fn prepare_restored_postgres(pool: &AnyPool) -> Result<PreparedRestore, BackupError> {
    if Engine::of_pool(pool) != Engine::Postgres {
        return Err(BackupError::NotPostgres);
    }
    let audit_rows = match audit::verify(pool).await? {
        Verdict::Intact { rows } => rows,
        Verdict::Broken { seq, reason } => return Err(BackupError::AuditBroken { seq, reason }),
    };
    let mut tx = db::begin_write(pool).await?;
    let highest: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM changes")
        .fetch_one(&mut *tx)
        .await
        .map_err(DbError::from)?;
    let seq_above = highest.unwrap_or(0) + RESTORED_SEQ_JUMP;
    db::raise_postgres_change_seq(&mut tx, seq_above).await?;
    db::revoke_all_tokens(&mut *tx).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(PreparedRestore {
        audit_rows,
        seq_above,
    })
}

/// Opens the backup read-only and checks it is a whole FieldCheck database; returns its audit rows.
async fn check_backup(from: &Path) -> Result<u64, BackupError> {
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: from.to_path_buf(),
        reason,
    };
    if !from.is_file() {
        return Err(not_a_backup("no such file".to_owned()));
    }
    let pool = db::open_read_only(from)
        .await
        .map_err(|error| not_a_backup(error.to_string()))?;
    let checked = async {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .map_err(|error| not_a_backup(error.to_string()))?;
        if integrity != "ok" {
            return Err(not_a_backup(format!("integrity check: {integrity}")));
        }
        let migrated: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .map_err(|_| not_a_backup("it has no FieldCheck schema".to_owned()))?;
        if migrated == 0 {
            return Err(not_a_backup("it has no FieldCheck schema".to_owned()));
        }
        Ok(audit::verify(&pool).await?)
    }
    .await;
    db::close(&pool).await;
    match checked? {
        Verdict::Intact { rows } => Ok(rows),
        Verdict::Broken { seq, reason } => Err(not_a_backup(format!(
            "its audit chain is broken at row {seq}: {reason}"
        ))),
    }
}
