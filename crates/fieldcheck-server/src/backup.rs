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
    #[error("{0} already exists; name a new file")]
    Exists(PathBuf),
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
    if to.exists() {
        return Err(BackupError::Exists(to.to_path_buf()));
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

/// Makes the backup `from` the database at `database` (the server must be stopped). The backup is
/// checked first — SQLite's integrity check and the whole audit chain — and copied beside the target
/// before it takes the target's name in one rename; a database already there is renamed aside, with
/// its write-ahead log, not deleted.
pub async fn restore(from: &Path, database: &Path) -> Result<Restored, BackupError> {
    let audit_rows = check_backup(from).await?;
    let staging = database.with_extension("db.restoring");
    std::fs::copy(from, &staging).map_err(file_error(&staging))?;
    std::fs::File::open(&staging)
        .and_then(|file| file.sync_all())
        .map_err(file_error(&staging))?;
    let kept_aside = if database.exists() {
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = database.with_extension(format!("db.before-restore-{stamp}"));
        for suffix in ["-wal", "-shm"] {
            let side = sibling(database, suffix);
            if side.exists() {
                std::fs::rename(&side, sibling(&aside, suffix)).map_err(file_error(&side))?;
            }
        }
        std::fs::rename(database, &aside).map_err(file_error(database))?;
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&staging, database).map_err(file_error(database))?;
    Ok(Restored {
        audit_rows,
        kept_aside,
    })
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
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
    pool.close().await;
    match checked? {
        Verdict::Intact { rows } => Ok(rows),
        Verdict::Broken { seq, reason } => Err(not_a_backup(format!(
            "its audit chain is broken at row {seq}: {reason}"
        ))),
    }
}
