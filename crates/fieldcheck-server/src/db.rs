//! The database: opening the pool on SQLite or PostgreSQL, migrations, and every query the server runs.
//!
//! One SQL dialect serves both engines: the queries are runtime-checked (`sqlx::query`) through sqlx's
//! `Any` driver, written in the subset SQLite and PostgreSQL share (`$N` placeholders, TEXT ids and
//! times, BIGINT numbers, `ON CONFLICT`, `RETURNING`). What differs per engine — opening, the write
//! lock, expanding a JSON array, the migrations — is [`Engine`]'s. The audit chain has its own module,
//! [`crate::audit`].

use chrono::{DateTime, SecondsFormat, Utc};
use fieldcheck_core::sync::Entity;
use fieldcheck_core::{DeviceId, OpId, Role, UnitId, User, UserId};
use serde_json::Value;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyExecutor, AnyPool, ConnectOptions, Executor, Transaction};
use std::collections::{HashMap, HashSet};
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex as StdMutex};
use tokio::sync::OwnedMutexGuard;

/// What can go wrong below the handlers.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value the code cannot read back: a bug or a hand-edited database.
    #[error("corrupt data in the database: {0}")]
    Corrupt(String),
    #[error("unsupported database URL \"{0}\": use sqlite://FILE or postgres://USER@HOST/DB")]
    Unsupported(String),
    #[error("a number does not fit the database: {0}")]
    OutOfRange(String),
    /// Writers were queued for longer than [`WRITE_WAIT`]: the server is overloaded for a moment.
    #[error("waited too long for the turn to write")]
    Busy,
}

impl DbError {
    /// The request carried text the database cannot hold (NUL, which PostgreSQL refuses with
    /// SQLSTATE 22021): the client's fault, answered 400 like other malformed input.
    pub fn is_unstorable_text(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(error)) if error.code().as_deref() == Some("22021"))
    }
}

/// The database engines the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// One file beside the photos: a district's server.
    Sqlite,
    /// One database for many server instances: a province's.
    Postgres,
}

impl Engine {
    /// The engine a connection talks to.
    pub fn of(conn: &AnyConnection) -> Engine {
        if conn.backend_name() == "PostgreSQL" {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }

    /// The engine a pool's connections talk to.
    pub fn of_pool(pool: &AnyPool) -> Engine {
        match pool.connect_options().database_url.scheme() {
            "postgres" | "postgresql" => Engine::Postgres,
            _ => Engine::Sqlite,
        }
    }

    /// A table `j(value, key)` of the strings in the JSON array bound as `$1`, `key` their position.
    fn json_strings(self) -> &'static str {
        match self {
            Engine::Sqlite => "json_each($1) j",
            Engine::Postgres => {
                "json_array_elements_text($1::json) WITH ORDINALITY AS j(value, key)"
            }
        }
    }
}

/// Where the database is: the engine and how to connect.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub engine: Engine,
    options: AnyConnectOptions,
}

/// The file `serve` and `user add` use unless `--database-url` says otherwise.
pub fn default_database_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("fieldcheck.db")
}

/// Connection options for `--database-url` (`sqlite:…` or `postgres://…`), or for
/// `<data>/fieldcheck.db` when none is given. A SQLite file is created if it is missing.
pub fn connect_options(data_dir: &Path, database_url: Option<&str>) -> Result<DbConfig, DbError> {
    sqlx::any::install_default_drivers();
    let sqlite = match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            return Ok(DbConfig {
                engine: Engine::Postgres,
                options: AnyConnectOptions::from_str(url)?,
            });
        }
        Some(url) if url.starts_with("sqlite:") => SqliteConnectOptions::from_str(url)?,
        Some(url) => return Err(DbError::Unsupported(url.to_owned())),
        // A path, not a URL, so that folders with spaces or Chinese names need no escaping.
        None => SqliteConnectOptions::new().filename(default_database_path(data_dir)),
    };
    // The Any driver opens SQLite from a URL; this one carries the file name percent-encoded.
    let url = sqlite.create_if_missing(true).to_url_lossy();
    Ok(DbConfig {
        engine: Engine::Sqlite,
        options: AnyConnectOptions::from_url(&url)?,
    })
}

/// Every SQLite connection's settings. WAL lets pulls read while a push writes. FULL: a commit the
/// server answered `applied` is on disk, even across a power loss — with NORMAL the phone would mark a
/// lost commit synced, and the change sequence could hand out again numbers that phones' cursors have
/// passed. Writers fold the log in after their commits ([`fold_log_soon`]); SQLite's automatic
/// checkpoint is left only as a backstop, should the log ever reach 40 MB (10 000 pages).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                              PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                              PRAGMA wal_autocheckpoint = 10000;";

/// How often, at most, a SQLite pool's write-ahead log is folded into the database file.
const FOLD_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// After a write's commit, with the turn passed on: folds the write-ahead log into the database
/// file in a task of its own, at most every [`FOLD_LOG_EVERY`] per pool.
///
/// Why not SQLite's own checkpoint (left only as a backstop, see [`SQLITE_PRAGMAS`]): it runs in the
/// commit that takes the log past its threshold, so that commit's writer held the turn to write
/// while a few megabytes were copied (10–20 ms), and every push behind it waited. Here the copy runs
/// beside the next writers on a connection of its own: `PASSIVE` neither waits for nor blocks
/// readers and writers. Durability is the commit's (synchronous FULL), not the checkpoint's.
fn fold_log_soon(pool: &AnyPool) {
    if Engine::of_pool(pool) != Engine::Sqlite {
        return;
    }
    // By the pool's connect options, kept weakly: a pool made where a dropped one was is new here.
    type Folded = HashMap<usize, (std::sync::Weak<AnyConnectOptions>, std::time::Instant)>;
    static FOLDED: LazyLock<StdMutex<Folded>> = LazyLock::new(StdMutex::default);
    let options = pool.connect_options();
    let pool_key = Arc::as_ptr(&options) as usize;
    {
        let mut folded = FOLDED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        folded.retain(|_, (options, _)| options.strong_count() > 0);
        if folded.get(&pool_key).is_some_and(|(same, at)| {
            same.upgrade()
                .is_some_and(|same| Arc::ptr_eq(&same, &options))
                && at.elapsed() < FOLD_LOG_EVERY
        }) {
            return;
        }
        folded.insert(
            pool_key,
            (Arc::downgrade(&options), std::time::Instant::now()),
        );
    }
    let pool = pool.clone();
    tokio::spawn(async move {
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            // Closed meanwhile (a command that has done its work): SQLite folds the log as the
            // last connection closes.
            Ok(_) | Err(sqlx::Error::PoolClosed) => {}
            Err(error) => tracing::warn!(%error, "folding the write-ahead log into the database"),
        }
    });
}

/// How long a writer waits for its turn before it gives up ([`DbError::Busy`]): SQLite's busy
/// timeout, which bounded the wait before writers queued in this process.
pub const WRITE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The key of the advisory lock every PostgreSQL write transaction takes (see [`begin_write`]).
const POSTGRES_WRITE_LOCK: i64 = 0x4643_5752; // "FCWR"

/// Opens the pool (one for the whole process) and brings the schema up to date.
pub async fn open(config: DbConfig) -> Result<AnyPool, DbError> {
    let options = AnyPoolOptions::new().max_connections(match config.engine {
        Engine::Sqlite => 8,
        Engine::Postgres => 16,
    });
    let pool = match config.engine {
        Engine::Sqlite => options.after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(SQLITE_PRAGMAS).await?;
                Ok(())
            })
        }),
        Engine::Postgres => options,
    }
    .connect_with(config.options)
    .await?;
    match config.engine {
        Engine::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
        Engine::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
    }
    Ok(pool)
}

/// Opens a SQLite file read-only, as it is (no migrations): for checking a backup.
pub async fn open_read_only(path: &Path) -> Result<AnyPool, DbError> {
    sqlx::any::install_default_drivers();
    let url = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .to_url_lossy();
    Ok(AnyPoolOptions::new()
        .max_connections(1)
        .connect_with(AnyConnectOptions::from_url(&url)?)
        .await?)
}

/// Opens a SQLite file as it is, read-write, without migrations or creating it: for `restore`.
pub async fn open_sqlite_file(path: &Path) -> Result<AnyPool, DbError> {
    sqlx::any::install_default_drivers();
    let url = SqliteConnectOptions::new().filename(path).to_url_lossy();
    Ok(AnyPoolOptions::new()
        .max_connections(1)
        .connect_with(AnyConnectOptions::from_url(&url)?)
        .await?)
}

/// Closes `pool` and returns once every connection of it is closed.
///
/// sqlx's own `close` can return with one connection still open: a connection given back just before
/// is checked in a task of its own (a ping) and, when that check began before the close, put back
/// among the idle ones after the close looked there. It stays open in the closed pool for as long as
/// the pool lives, and on PostgreSQL keeps the database in use (a restore's `CREATE DATABASE …
/// TEMPLATE` is refused). Closing again picks it up; after [`WRITE_WAIT`] the pool is left as it is.
pub async fn close<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) {
    pool.close().await;
    let deadline = tokio::time::Instant::now() + WRITE_WAIT;
    while pool.size() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        pool.close().await;
    }
}

/// The highest change seq a SQLite database handed out (its AUTOINCREMENT counter, which keeps the
/// value even when rows are gone).
pub async fn highest_change_seq(executor: impl AnyExecutor<'_>) -> Result<i64, DbError> {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
            .fetch_optional(executor)
            .await?;
    Ok(seq.unwrap_or(0))
}

/// Makes the next change seq of a PostgreSQL database at least `reached + 1` (never lower than
/// its sequence stands: a rolled-back transaction draws seqs too).
pub async fn raise_postgres_change_seq(
    conn: &mut AnyConnection,
    reached: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('changes', 'seq'), GREATEST($1,          COALESCE(pg_sequence_last_value(pg_get_serial_sequence('changes', 'seq')::regclass), 0)))",
    )
    .bind(reached)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Makes the next change seq of a SQLite database at least `reached + 1`.
pub async fn raise_change_seq(conn: &mut AnyConnection, reached: i64) -> Result<(), DbError> {
    let current = highest_change_seq(&mut *conn).await?;
    if reached <= current {
        return Ok(());
    }
    let updated = sqlx::query("UPDATE sqlite_sequence SET seq = $1 WHERE name = 'changes'")
        .bind(reached)
        .execute(&mut *conn)
        .await?;
    if updated.rows_affected() == 0 {
        sqlx::query("INSERT INTO sqlite_sequence (name, seq) VALUES ('changes', $1)")
            .bind(reached)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Revokes every token that is not revoked yet.
pub async fn revoke_all_tokens(executor: impl AnyExecutor<'_>) -> Result<(), DbError> {
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL")
        .bind(timestamp(Utc::now()))
        .execute(executor)
        .await?;
    Ok(())
}

/// Begins a transaction that holds the database's one write lock from its start.
///
/// Writers queue instead of interleaving, which makes "read the current rev, then write rev + 1"
/// atomic (two pushes of the same record can never both win) and keeps the audit chain linear.
/// On SQLite, `BEGIN IMMEDIATE` takes the write lock up front (a deferred transaction that reads and
/// then writes can fail with SQLITE_BUSY, which busy_timeout does not retry). On PostgreSQL, a
/// transaction-scoped advisory lock does the same, and it is what keeps pull from skipping a change:
/// a change's seq is drawn under the lock and the lock is released only after the commit is visible,
/// so changes become visible in seq order and a cursor never passes a seq that commits later.
///
/// Within this process, writers first wait their turn in a first-come queue, holding no connection
/// (see [`WriteTx`]); the database's lock then orders this process against others. A writer must
/// not begin a second write transaction while it holds one: it would wait for itself. A writer
/// still waiting after [`WRITE_WAIT`] gives up with [`DbError::Busy`], as SQLite's own wait did
/// (PostgreSQL's advisory lock waits without a limit, and still does for other processes).
pub async fn begin_write(pool: &AnyPool) -> Result<WriteTx<'static>, DbError> {
    let turn = take_turn(pool).await?;
    let tx = pool.begin_with(begin_statement(pool)).await?;
    hold_lock(tx, turn, pool).await
}

/// [`begin_write`] on a connection the caller keeps from one transaction to the next: the push
/// writer's, which would otherwise wait for a pooled connection behind every request of a burst
/// (each checks its token through the pool) before each group it writes.
pub async fn begin_write_on<'c>(
    pool: &AnyPool,
    conn: &'c mut AnyConnection,
) -> Result<WriteTx<'c>, DbError> {
    let turn = take_turn(pool).await?;
    let tx = sqlx::Connection::begin_with(conn, begin_statement(pool)).await?;
    hold_lock(tx, turn, pool).await
}

/// This process's turn to write, waited for holding nothing; [`DbError::Busy`] after [`WRITE_WAIT`].
async fn take_turn(pool: &AnyPool) -> Result<OwnedMutexGuard<()>, DbError> {
    tokio::time::timeout(WRITE_WAIT, writers_queue(pool).lock_owned())
        .await
        .map_err(|_| DbError::Busy)
}

fn begin_statement(pool: &AnyPool) -> &'static str {
    match Engine::of_pool(pool) {
        Engine::Sqlite => "BEGIN IMMEDIATE",
        // Said, not assumed: under REPEATABLE READ the snapshot would be taken before the lock is
        // held, and two writers could read the same audit head.
        Engine::Postgres => "BEGIN ISOLATION LEVEL READ COMMITTED",
    }
}

/// The database's lock for writers, which orders this process against others: SQLite's is taken by
/// `BEGIN IMMEDIATE`, PostgreSQL's is an advisory lock held to the transaction's end.
async fn hold_lock<'c>(
    mut tx: Transaction<'c, Any>,
    turn: OwnedMutexGuard<()>,
    pool: &AnyPool,
) -> Result<WriteTx<'c>, DbError> {
    if Engine::of_pool(pool) == Engine::Postgres {
        // Selected through a constant: the lock function returns `void`, a type rows cannot carry.
        sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)")
            .bind(POSTGRES_WRITE_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    Ok(WriteTx {
        tx,
        _turn: turn,
        pool: pool.clone(),
    })
}

/// A write transaction from [`begin_write`], holding this process's turn to write until it is
/// committed or dropped (dropping it rolls back, as a transaction does).
///
/// Why a turn of our own: SQLite's queue for its write lock is its busy handler, which sleeps and
/// tries again at growing intervals (up to 100 ms a try), each waiter holding a pooled connection
/// meanwhile, so that many writers at once left reads (a token's check) without a connection. Here
/// a writer waits holding nothing and is woken the moment the one before it is done.
pub struct WriteTx<'c> {
    // Declared first so that it is dropped first: the rollback is under way before the turn passes.
    tx: Transaction<'c, Any>,
    _turn: OwnedMutexGuard<()>,
    pool: AnyPool,
}

impl WriteTx<'_> {
    /// Commits, then passes the turn (and has the log folded in soon, see [`fold_log_soon`]).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let WriteTx { tx, _turn, pool } = self;
        tx.commit().await?;
        drop(_turn);
        fold_log_soon(&pool);
        Ok(())
    }
}

impl Deref for WriteTx<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// The queue of one pool's writers. A server process has one pool for its database ([`open`]); two
/// pools on one database (two instances in one test process) each have their own queue, and the
/// database's lock orders them, as it orders instances in processes of their own. Found by the
/// pool's connect options, one allocation per pool for its life (a pool made where a dropped one
/// was may find its queue, which is free). A few bytes per pool, kept for the process's life.
fn writers_queue(pool: &AnyPool) -> Arc<tokio::sync::Mutex<()>> {
    static QUEUES: LazyLock<StdMutex<HashMap<usize, Arc<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(StdMutex::default);
    let pool_key = Arc::as_ptr(&pool.connect_options()) as usize;
    // A panic while the map was held left it whole (an insert either happened or did not).
    let mut queues = QUEUES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Arc::clone(queues.entry(pool_key).or_default())
}

/// The server's time as stored: RFC 3339 in UTC with milliseconds, so text order is time order.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads back a time written by [`timestamp`].
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, DbError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| DbError::Corrupt(format!("timestamp \"{text}\": {error}")))
}

fn to_i64(value: u64) -> Result<i64, DbError> {
    i64::try_from(value).map_err(|_| DbError::OutOfRange(value.to_string()))
}

fn to_u64(value: i64) -> Result<u64, DbError> {
    u64::try_from(value).map_err(|_| DbError::Corrupt(format!("negative number {value}")))
}

// ---------------------------------------------------------------------------------------------
// Records, the change log and applied ops

/// The server's current copy of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub entity: Entity,
    pub id: String,
    pub unit_id: UnitId,
    pub rev: u64,
    pub body: Value,
    /// The seq of the change that produced this rev.
    pub seq: i64,
}

type RecordRow = (String, String, String, i64, String, i64);

/// Where a record's current copy is read from: its row in `records` (unit, rev, seq) and the text of
/// the change at that seq in the log, which is stored once, there. A copy whose row names no change of
/// its own, of its unit and rev (a database edited behind the server's back), reads as empty text,
/// which does not read as a record: it fails whoever reads it as a damaged copy does (a copy moved to
/// another unit by hand is not handed to that unit), and `records repair` restores it.
pub const CURRENT_COPIES: &str = "records r LEFT JOIN changes c \
     ON c.seq = r.seq AND c.entity = r.entity AND c.id = r.id \
     AND c.unit_id = r.unit_id AND c.rev = r.rev";

/// The current copy's text in a query over [`CURRENT_COPIES`].
const CURRENT_BODY: &str = "COALESCE(c.body, '')";

/// A stored current copy that is not JSON, with what the administrator can do about it (logged, never
/// sent to a client).
fn damaged_body(entity: Entity, id: &str, error: &serde_json::Error) -> DbError {
    DbError::Corrupt(format!(
        "the stored copy of {} {id} does not read ({error}); `fieldcheck-server records repair` \
         restores it from the change log",
        entity.code()
    ))
}

fn record_from_row(
    (entity, id, unit_id, rev, body, seq): RecordRow,
) -> Result<StoredRecord, DbError> {
    let entity = Entity::from_code(&entity)
        .ok_or_else(|| DbError::Corrupt(format!("unknown entity \"{entity}\"")))?;
    let body = serde_json::from_str(&body).map_err(|error| damaged_body(entity, &id, &error))?;
    Ok(StoredRecord {
        entity,
        id,
        unit_id: UnitId(unit_id),
        rev: to_u64(rev)?,
        body,
        seq,
    })
}

/// The current copy of a record, if the server has it.
pub async fn get_record(
    executor: impl AnyExecutor<'_>,
    entity: Entity,
    id: &str,
) -> Result<Option<StoredRecord>, DbError> {
    let row: Option<RecordRow> = sqlx::query_as(&format!(
        "SELECT r.entity, r.id, r.unit_id, r.rev, {CURRENT_BODY}, r.seq FROM {CURRENT_COPIES} \
         WHERE r.entity = $1 AND r.id = $2"
    ))
    .bind(entity.code())
    .bind(id)
    .fetch_optional(executor)
    .await?;
    row.map(record_from_row).transpose()
}

/// The current copies of the records of `entity` named in `ids` that the server has, in one query:
/// what a push reads ahead for its whole batch instead of asking once per mutation. Each comes with
/// its id and is decoded on its own, so a damaged row fails only whoever reads it.
pub async fn records_named(
    conn: &mut AnyConnection,
    entity: Entity,
    ids: &[&str],
) -> Result<Vec<(String, Result<StoredRecord, DbError>)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT r.entity, r.id, r.unit_id, r.rev, {CURRENT_BODY}, r.seq FROM {CURRENT_COPIES} \
         WHERE r.entity = $2 AND r.id IN (SELECT j.value FROM {})",
        Engine::of(conn).json_strings()
    );
    let rows: Vec<RecordRow> = sqlx::query_as(&sql)
        .bind(json_list(ids))
        .bind(entity.code())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.1.clone(), record_from_row(row)))
        .collect())
}

/// The current copies of every record of `entity` in `unit` (all units when `None`), in change order.
pub async fn records_of(
    executor: impl AnyExecutor<'_>,
    entity: Entity,
    unit: Option<&UnitId>,
) -> Result<Vec<StoredRecord>, DbError> {
    let rows: Vec<RecordRow> = sqlx::query_as(&format!(
        "SELECT r.entity, r.id, r.unit_id, r.rev, {CURRENT_BODY}, r.seq FROM {CURRENT_COPIES} \
         WHERE r.entity = $1 AND ($2 IS NULL OR r.unit_id = $2) ORDER BY r.seq"
    ))
    .bind(entity.code())
    .bind(unit.map(UnitId::as_str))
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(record_from_row).collect()
}

/// The stored bodies of the current records of `entity` (in `unit`, or in every unit), as text, in
/// the order they changed: for reports, which parse each straight into its type. Going through a
/// JSON tree first (as [`records_of`] does) took two thirds of a year's figures over 10 000 records.
pub async fn bodies_of(
    executor: impl AnyExecutor<'_>,
    entity: Entity,
    unit: Option<&UnitId>,
) -> Result<Vec<StoredBody>, DbError> {
    let rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT r.id, {CURRENT_BODY} FROM {CURRENT_COPIES} \
         WHERE r.entity = $1 AND ($2 IS NULL OR r.unit_id = $2) ORDER BY r.seq"
    ))
    .bind(entity.code())
    .bind(unit.map(UnitId::as_str))
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, body)| StoredBody { entity, id, body })
        .collect())
}

/// One record's stored body as text (see [`bodies_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBody {
    pub entity: Entity,
    pub id: String,
    pub body: String,
}

/// An op the server applied before: which mutation it was and the rev it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedOp {
    pub entity: Entity,
    pub id: String,
    pub rev: u64,
    /// `None` for ops applied before content hashes were kept.
    pub content_hash: Option<String>,
}

fn applied_op_from_row(
    (entity, id, rev, content_hash): (String, String, i64, Option<String>),
) -> Result<AppliedOp, DbError> {
    Ok(AppliedOp {
        entity: Entity::from_code(&entity)
            .ok_or_else(|| DbError::Corrupt(format!("op with unknown entity \"{entity}\"")))?,
        id,
        rev: to_u64(rev)?,
        content_hash,
    })
}

/// Those of `op_ids` that `user_id`'s phone had applied before, by op id, in one query. Op ids are
/// scoped per user, so another user's op id is never even looked at.
pub async fn applied_ops(
    conn: &mut AnyConnection,
    user_id: &UserId,
    op_ids: &[&str],
) -> Result<Vec<(String, AppliedOp)>, DbError> {
    if op_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT op_id, entity, id, rev, content_hash FROM ops \
         WHERE user_id = $2 AND op_id IN (SELECT j.value FROM {})",
        Engine::of(conn).json_strings()
    );
    let rows: Vec<(String, String, String, i64, Option<String>)> = sqlx::query_as(&sql)
        .bind(json_list(op_ids))
        .bind(user_id.as_str())
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|(op_id, entity, id, rev, content_hash)| {
            Ok((op_id, applied_op_from_row((entity, id, rev, content_hash))?))
        })
        .collect()
}

/// A phone mutation a write comes from; changes made on the server (reviews, demo data) have none.
#[derive(Debug, Clone, Copy)]
pub struct PushOrigin<'a> {
    pub op_id: &'a OpId,
    pub device_id: &'a DeviceId,
    /// The hash of the mutation as sent, which a replay of the op must match.
    pub content_hash: &'a str,
}

/// One new revision of a record, with who made it.
#[derive(Debug, Clone, Copy)]
pub struct RecordWrite<'a> {
    pub entity: Entity,
    pub id: &'a str,
    pub unit_id: &'a UnitId,
    pub rev: u64,
    pub body: &'a Value,
    /// `None` only for changes the server makes on its own (demo data, `records repair`).
    pub user_id: Option<&'a UserId>,
    pub origin: Option<PushOrigin<'a>>,
    pub at: DateTime<Utc>,
}

/// Stores a new revision: appends it to the change log and makes it the record's current copy (a
/// push remembers its ops with [`remember_ops`]). Returns the change's seq. See [`write_records`].
pub async fn write_record(
    conn: &mut AnyConnection,
    write: RecordWrite<'_>,
) -> Result<i64, DbError> {
    let seqs = write_records(conn, &[write]).await?;
    seqs.first()
        .copied()
        .ok_or_else(|| DbError::Corrupt("the change log kept no row for a write".to_owned()))
}

/// Stores new revisions of records, in order: appends each to the change log and makes the last
/// of each record its current copy, a statement for a hundred rows each. The body's text is stored
/// once, in the log; the current copy's row names its change by seq ([`CURRENT_COPIES`]): writing
/// the text a second time took about a fifth of a 200-phone burst (BENCHMARKS.md, session 49).
/// Every write of a synced record goes through here, so the change log is complete (the audit
/// trail) and pull sees every record. A record that changes unit leaves a tombstone in the unit it left (rare: one statement
/// each). Returns each write's change seq, in the order given.
///
/// Run inside a transaction from [`begin_write`]; the caller decided each `rev` in the same
/// transaction, so the revs of one record rise through `writes`.
pub async fn write_records(
    conn: &mut AnyConnection,
    writes: &[RecordWrite<'_>],
) -> Result<Vec<i64>, DbError> {
    if writes.is_empty() {
        return Ok(Vec::new());
    }
    let mut units = current_units(conn, writes).await?;
    let bodies: Vec<String> = writes.iter().map(|write| write.body.to_string()).collect();
    let revs = writes
        .iter()
        .map(|write| to_i64(write.rev))
        .collect::<Result<Vec<i64>, DbError>>()?;
    let stamps: Vec<String> = writes.iter().map(|write| timestamp(write.at)).collect();

    // The change log, one row per write. `RETURNING` is matched by entity, id and rev (one row
    // each), not by position, which SQL does not promise.
    let mut seq_of: HashMap<(String, String, i64), i64> = HashMap::with_capacity(writes.len());
    for (n, chunk) in writes.chunks(ROWS_PER_INSERT).enumerate() {
        let sql = format!(
            "INSERT INTO changes (entity, id, rev, unit_id, user_id, device_id, op_id, at, body) \
             VALUES {} RETURNING seq, entity, id, rev",
            values_list(Engine::of(conn), chunk.len(), 9)
        );
        let mut query = sqlx::query_as::<_, (i64, String, String, i64)>(&sql);
        for (k, write) in chunk.iter().enumerate() {
            let i = n * ROWS_PER_INSERT + k;
            query = query
                .bind(write.entity.code())
                .bind(write.id)
                .bind(revs[i])
                .bind(write.unit_id.as_str())
                .bind(write.user_id.map(UserId::as_str))
                .bind(write.origin.map(|origin| origin.device_id.as_str()))
                .bind(write.origin.map(|origin| origin.op_id.as_str()))
                .bind(stamps[i].as_str())
                .bind(bodies[i].as_str());
        }
        for (seq, entity, id, rev) in query.fetch_all(&mut *conn).await? {
            if seq_of.insert((entity, id, rev), seq).is_some() {
                // The caller decides each rev once: a repeat would give two writes one seq.
                return Err(DbError::Corrupt(
                    "two writes of one record at the same rev".to_owned(),
                ));
            }
        }
    }
    let seqs = writes
        .iter()
        .zip(&revs)
        .map(|(write, rev)| {
            seq_of
                .get(&(write.entity.code().to_owned(), write.id.to_owned(), *rev))
                .copied()
                .ok_or_else(|| {
                    DbError::Corrupt(format!(
                        "the change log kept no row for {} {} rev {rev}",
                        write.entity.code(),
                        write.id
                    ))
                })
        })
        .collect::<Result<Vec<i64>, DbError>>()?;

    // The current copies: the last write of each record (an upsert may touch a row once), created
    // at the first (it only counts when the record is new), each naming its change's seq.
    let mut last: HashMap<(Entity, &str), usize> = HashMap::new();
    let mut first: HashMap<(Entity, &str), usize> = HashMap::new();
    for (i, write) in writes.iter().enumerate() {
        last.insert((write.entity, write.id), i);
        first.entry((write.entity, write.id)).or_insert(i);
    }
    let mut current: Vec<usize> = last.into_values().collect();
    current.sort_unstable();
    for chunk in current.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO records (entity, id, unit_id, rev, seq, created_at, updated_at) \
             VALUES {} \
             ON CONFLICT (entity, id) DO UPDATE SET unit_id = excluded.unit_id, rev = excluded.rev, \
             seq = excluded.seq, updated_at = excluded.updated_at",
            values_list(Engine::of(conn), chunk.len(), 7)
        );
        let mut query = sqlx::query(&sql);
        for &i in chunk {
            let write = &writes[i];
            let created = first.get(&(write.entity, write.id)).copied().unwrap_or(i);
            query = query
                .bind(write.entity.code())
                .bind(write.id)
                .bind(write.unit_id.as_str())
                .bind(revs[i])
                .bind(seqs[i])
                .bind(stamps[created].as_str())
                .bind(stamps[i].as_str());
        }
        query.execute(&mut *conn).await?;
    }

    // A record that left a unit leaves a tombstone there, at this change's seq; one that comes back
    // takes its tombstone away (its record row is newer for that unit's phones).
    for (i, write) in writes.iter().enumerate() {
        let previous_unit = units.insert(
            (write.entity, write.id),
            Some(write.unit_id.as_str().to_owned()),
        );
        let Some(previous_unit) = previous_unit
            .flatten()
            .filter(|unit| unit != write.unit_id.as_str())
        else {
            continue;
        };
        sqlx::query(
            "INSERT INTO tombstones (entity, id, unit_id, rev, seq) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (entity, id, unit_id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq",
        )
        .bind(write.entity.code())
        .bind(write.id)
        .bind(previous_unit)
        .bind(revs[i])
        .bind(seqs[i])
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM tombstones WHERE entity = $1 AND id = $2 AND unit_id = $3")
            .bind(write.entity.code())
            .bind(write.id)
            .bind(write.unit_id.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(seqs)
}

/// The unit each written record is in before the writes (`None`: not stored yet), in one query
/// per entity.
async fn current_units<'w>(
    conn: &mut AnyConnection,
    writes: &[RecordWrite<'w>],
) -> Result<HashMap<(Entity, &'w str), Option<String>>, DbError> {
    let mut named: HashMap<Entity, Vec<&'w str>> = HashMap::new();
    for write in writes {
        named.entry(write.entity).or_default().push(write.id);
    }
    let mut units = HashMap::new();
    for (entity, ids) in named {
        let sql = format!(
            "SELECT id, unit_id FROM records WHERE entity = $2 AND id IN (SELECT j.value FROM {})",
            Engine::of(conn).json_strings()
        );
        let rows: Vec<(String, String)> = sqlx::query_as(&sql)
            .bind(json_list(&ids))
            .bind(entity.code())
            .fetch_all(&mut *conn)
            .await?;
        let mut found: HashMap<String, String> = rows.into_iter().collect();
        // A record written twice appears twice in `ids`: the first answer stands.
        for id in ids {
            units
                .entry((entity, id))
                .or_insert_with(|| found.remove(id));
        }
    }
    Ok(units)
}

/// A push's applied mutation, remembered so that a replay of its op id answers `duplicate`.
#[derive(Debug, Clone)]
pub struct NewOp {
    pub user_id: UserId,
    pub op_id: OpId,
    pub entity: Entity,
    pub id: String,
    pub rev: u64,
    pub content_hash: String,
    pub device_id: DeviceId,
    pub at: DateTime<Utc>,
}

/// Rows per multi-row INSERT: well inside both engines' limit on bound parameters.
const ROWS_PER_INSERT: usize = 100;

/// `(?, ?), (?, ?), …` on SQLite, `($1, $2), ($3, $4), …` on PostgreSQL: the VALUES list of a
/// multi-row INSERT of `rows` rows of `columns`, every parameter of the statement.
///
/// Why not `$N` on SQLite too: SQLite takes `$1` for a named parameter, and the driver looks each
/// one's name up in a list as it binds, so that a statement's binding grew with the square of its
/// parameters (with a hundred rows to a statement, half the time of a burst's writes).
pub(crate) fn values_list(engine: Engine, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let values: Vec<String> = (1..=columns)
                .map(|column| match engine {
                    Engine::Sqlite => "?".to_owned(),
                    Engine::Postgres => format!("${}", row * columns + column),
                })
                .collect();
            format!("({})", values.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Remembers the ops of a push's batch, a hundred to a statement, in the batch's transaction (the
/// push keeps them in memory meanwhile, so a later mutation of the batch sees them applied).
pub async fn remember_ops(conn: &mut AnyConnection, ops: &[NewOp]) -> Result<(), DbError> {
    for chunk in ops.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO ops (user_id, op_id, entity, id, rev, content_hash, device_id, at) VALUES {}",
            values_list(Engine::of(conn), chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for op in chunk {
            query = query
                .bind(op.user_id.as_str())
                .bind(op.op_id.as_str())
                .bind(op.entity.code())
                .bind(op.id.as_str())
                .bind(to_i64(op.rev)?)
                .bind(op.content_hash.as_str())
                .bind(op.device_id.as_str())
                .bind(timestamp(op.at));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// One entry of a pull: a record's current copy, or a tombstone for a record that left the unit.
#[derive(Debug, Clone, PartialEq)]
pub struct PulledRow {
    pub entity: Entity,
    pub id: String,
    pub rev: u64,
    /// `None` for a tombstone.
    pub body: Option<Value>,
    pub seq: i64,
}

type PulledDbRow = (String, String, i64, Option<String>, i64);

fn pulled_from_row((entity, id, rev, body, seq): PulledDbRow) -> Result<PulledRow, DbError> {
    let entity = Entity::from_code(&entity)
        .ok_or_else(|| DbError::Corrupt(format!("unknown entity \"{entity}\"")))?;
    let body = body
        .map(|body| serde_json::from_str(&body).map_err(|error| damaged_body(entity, &id, &error)))
        .transpose()?;
    Ok(PulledRow {
        entity,
        id,
        rev: to_u64(rev)?,
        body,
        seq,
    })
}

/// Records changed after `since` (a seq) and tombstones of records that left the unit, in seq order,
/// at most `limit`; all units' records (and no tombstones) when `unit` is `None` (admins).
///
/// Why seq order is safe to page by: SQLite has a single writer, and a seq is taken inside the write
/// transaction that commits it, so seqs become visible in increasing order — a reader never sees seq
/// n+1 while n is still uncommitted, and a cursor can never skip a change. (PostgreSQL sequences do
/// not give that guarantee; a PostgreSQL backend must serialise writers or page by commit order.)
pub async fn changes_since(
    executor: impl AnyExecutor<'_>,
    since: i64,
    unit: Option<&UnitId>,
    limit: u32,
) -> Result<Vec<PulledRow>, DbError> {
    let rows: Vec<PulledDbRow> = match unit {
        Some(unit) => {
            sqlx::query_as(&format!(
                "SELECT r.entity, r.id, r.rev, {CURRENT_BODY}, r.seq FROM {CURRENT_COPIES} \
                 WHERE r.seq > $1 AND r.unit_id = $2 \
                 UNION ALL \
                 SELECT entity, id, rev, NULL, seq FROM tombstones WHERE seq > $1 AND unit_id = $2 \
                 ORDER BY 5 LIMIT $3"
            ))
            .bind(since)
            .bind(unit.as_str())
            .bind(i64::from(limit))
            .fetch_all(executor)
            .await?
        }
        None => {
            sqlx::query_as(&format!(
                "SELECT r.entity, r.id, r.rev, {CURRENT_BODY}, r.seq FROM {CURRENT_COPIES} \
             WHERE r.seq > $1 ORDER BY r.seq LIMIT $2"
            ))
            .bind(since)
            .bind(i64::from(limit))
            .fetch_all(executor)
            .await?
        }
    };
    rows.into_iter().map(pulled_from_row).collect()
}

// ---------------------------------------------------------------------------------------------
// Units and users

/// Whether a unit with this id exists.
pub async fn unit_exists(
    executor: impl AnyExecutor<'_>,
    unit_id: &UnitId,
) -> Result<bool, DbError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM units WHERE id = $1")
        .bind(unit_id.as_str())
        .fetch_optional(executor)
        .await?;
    Ok(found.is_some())
}

/// The id of the unit with this name, if any.
pub async fn unit_by_name(
    executor: impl AnyExecutor<'_>,
    name: &str,
) -> Result<Option<UnitId>, DbError> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM units WHERE name = $1")
        .bind(name)
        .fetch_optional(executor)
        .await?;
    Ok(id.map(UnitId))
}

pub async fn insert_unit(
    executor: impl AnyExecutor<'_>,
    unit_id: &UnitId,
    name: &str,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO units (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(unit_id.as_str())
        .bind(name)
        .bind(timestamp(Utc::now()))
        .execute(executor)
        .await?;
    Ok(())
}

pub async fn count_users(executor: impl AnyExecutor<'_>) -> Result<u64, DbError> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(executor)
        .await?;
    to_u64(count)
}

pub async fn username_taken(
    executor: impl AnyExecutor<'_>,
    username: &str,
) -> Result<bool, DbError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(executor)
        .await?;
    Ok(found.is_some())
}

pub async fn insert_user(
    executor: impl AnyExecutor<'_>,
    user: &User,
    password_hash: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO users (id, username, name, role, unit_id, cert_no, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(user.id.as_str())
    .bind(&user.username)
    .bind(&user.name)
    .bind(user.role.code())
    .bind(user.unit_id.as_str())
    .bind(user.cert_no.as_deref())
    .bind(password_hash)
    .bind(timestamp(Utc::now()))
    .execute(executor)
    .await?;
    Ok(())
}

type UserRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
);

/// The user columns; every query using them joins `units n` for the unit's name.
const USER_COLUMNS: &str = "u.id, u.username, u.name, u.role, u.unit_id, u.cert_no, n.name";

fn user_from_row(
    (id, username, name, role, unit_id, cert_no, unit_name): UserRow,
) -> Result<User, DbError> {
    let role = Role::from_code(&role)
        .ok_or_else(|| DbError::Corrupt(format!("user {username} has unknown role \"{role}\"")))?;
    Ok(User {
        id: UserId(id),
        username,
        name,
        role,
        unit_id: UnitId(unit_id),
        unit_name,
        cert_no,
    })
}

/// A user as login needs it: the user, their password hash and whether the account is disabled.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: User,
    pub password_hash: String,
    pub disabled: bool,
}

/// A user's account, by username.
pub async fn account_by_username(
    executor: impl AnyExecutor<'_>,
    username: &str,
) -> Result<Option<Account>, DbError> {
    type Row = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
    );
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS}, u.password_hash, u.disabled_at FROM users u JOIN units n ON n.id = u.unit_id WHERE u.username = $1"
    ))
    .bind(username)
    .fetch_optional(executor)
    .await?;
    row.map(
        |(id, username, name, role, unit_id, cert_no, unit_name, password_hash, disabled_at)| {
            user_from_row((id, username, name, role, unit_id, cert_no, unit_name)).map(|user| {
                Account {
                    user,
                    password_hash,
                    disabled: disabled_at.is_some(),
                }
            })
        },
    )
    .transpose()
}

/// Every user of a unit (all units when `unit` is `None`), with whether the account is active, by
/// name.
pub async fn users_of(
    executor: impl AnyExecutor<'_>,
    unit: Option<&UnitId>,
) -> Result<Vec<(User, bool)>, DbError> {
    let query = format!(
        "SELECT {USER_COLUMNS}, u.disabled_at FROM users u JOIN units n ON n.id = u.unit_id \
         WHERE $1 IS NULL OR u.unit_id = $1 ORDER BY u.name, u.username"
    );
    let rows: Vec<UserActiveRow> = sqlx::query_as(&query)
        .bind(unit.map(UnitId::as_str))
        .fetch_all(executor)
        .await?;
    rows.into_iter().map(user_active_from_row).collect()
}

/// A user row with `disabled_at` after the user columns.
type UserActiveRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
);

fn user_active_from_row(
    (id, username, name, role, unit_id, cert_no, unit_name, disabled_at): UserActiveRow,
) -> Result<(User, bool), DbError> {
    user_from_row((id, username, name, role, unit_id, cert_no, unit_name))
        .map(|user| (user, disabled_at.is_none()))
}

/// Every unit (or only `only`), by name.
pub async fn units(
    executor: impl AnyExecutor<'_>,
    only: Option<&UnitId>,
) -> Result<Vec<(UnitId, String)>, DbError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, name FROM units WHERE $1 IS NULL OR id = $1 ORDER BY name")
            .bind(only.map(UnitId::as_str))
            .fetch_all(executor)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| (UnitId(id), name))
        .collect())
}

/// A user by id, with whether the account is active.
pub async fn user_by_id(
    executor: impl AnyExecutor<'_>,
    id: &UserId,
) -> Result<Option<(User, bool)>, DbError> {
    let row: Option<UserActiveRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS}, u.disabled_at FROM users u JOIN units n ON n.id = u.unit_id WHERE u.id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(executor)
    .await?;
    row.map(user_active_from_row).transpose()
}

/// Writes a user's name, role and certificate number.
pub async fn update_user(executor: impl AnyExecutor<'_>, user: &User) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET name = $1, role = $2, cert_no = $3 WHERE id = $4")
        .bind(&user.name)
        .bind(user.role.code())
        .bind(user.cert_no.as_deref())
        .bind(user.id.as_str())
        .execute(executor)
        .await?;
    Ok(())
}

/// Enables or disables a user; disabling keeps the first time it happened.
pub async fn set_user_active(
    executor: impl AnyExecutor<'_>,
    id: &UserId,
    active: bool,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET disabled_at = CASE WHEN $1 THEN NULL ELSE COALESCE(disabled_at, $2) END \
         WHERE id = $3",
    )
    .bind(active)
    .bind(timestamp(Utc::now()))
    .bind(id.as_str())
    .execute(executor)
    .await?;
    Ok(())
}

/// Sets a user's password hash.
pub async fn set_password_hash(
    executor: impl AnyExecutor<'_>,
    id: &UserId,
    password_hash: &str,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id.as_str())
        .execute(executor)
        .await?;
    Ok(())
}

/// Revokes every token a user holds: they are logged out on every phone.
pub async fn revoke_tokens_of(executor: impl AnyExecutor<'_>, id: &UserId) -> Result<(), DbError> {
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(timestamp(Utc::now()))
        .bind(id.as_str())
        .execute(executor)
        .await?;
    Ok(())
}

/// The ids of the active (not disabled) users of a unit: who may be named on its records.
pub async fn active_user_ids(
    executor: impl AnyExecutor<'_>,
    unit_id: &UnitId,
) -> Result<HashSet<UserId>, DbError> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE unit_id = $1 AND disabled_at IS NULL")
            .bind(unit_id.as_str())
            .fetch_all(executor)
            .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// Disables a user and revokes every token they hold, in one transaction; `None` if no such user.
pub async fn disable_user(pool: &AnyPool, username: &str) -> Result<Option<UserId>, DbError> {
    let mut tx = begin_write(pool).await?;
    let now = timestamp(Utc::now());
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE username = $2 RETURNING id",
    )
    .bind(&now)
    .bind(username)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Ok(None);
    };
    let id = UserId(id);
    revoke_tokens_of(&mut *tx, &id).await?;
    tx.commit().await?;
    Ok(Some(id))
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// A stored token as the bearer check needs it.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub user: User,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    /// The user's account is disabled: every token of theirs stops working.
    pub disabled: bool,
}

pub async fn insert_token(
    executor: impl AnyExecutor<'_>,
    token_hash: &str,
    user_id: &UserId,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id.as_str())
    .bind(timestamp(Utc::now()))
    .bind(timestamp(expires_at))
    .execute(executor)
    .await?;
    Ok(())
}

/// The token with this hash and its user, whatever its state; the caller decides what counts.
pub async fn token_by_hash(
    executor: impl AnyExecutor<'_>,
    token_hash: &str,
) -> Result<Option<TokenRecord>, DbError> {
    type Row = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS}, t.expires_at, t.revoked_at, u.disabled_at \
         FROM tokens t JOIN users u ON u.id = t.user_id JOIN units n ON n.id = u.unit_id WHERE t.token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(executor)
    .await?;
    let Some((
        id,
        username,
        name,
        role,
        unit_id,
        cert_no,
        unit_name,
        expires_at,
        revoked_at,
        disabled_at,
    )) = row
    else {
        return Ok(None);
    };
    Ok(Some(TokenRecord {
        user: user_from_row((id, username, name, role, unit_id, cert_no, unit_name))?,
        expires_at: parse_timestamp(&expires_at)?,
        revoked: revoked_at.is_some(),
        disabled: disabled_at.is_some(),
    }))
}

/// Marks a token revoked; the row stays, so the audit of who was logged in when is kept.
pub async fn revoke_token(executor: impl AnyExecutor<'_>, token_hash: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
        .bind(timestamp(Utc::now()))
        .bind(token_hash)
        .execute(executor)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Photos

/// What the database knows about a stored photo; the bytes are in the object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRow {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub uploaded_by: UserId,
    /// The latest upload of these bytes, by anyone: the collector's grace period counts from it.
    pub uploaded_at: DateTime<Utc>,
}

/// The photo with this name, if its upload finished.
pub async fn photo(
    executor: impl AnyExecutor<'_>,
    sha256: &str,
) -> Result<Option<PhotoRow>, DbError> {
    let row: Option<(String, i64, String, String, String)> = sqlx::query_as(
        "SELECT sha256, size, content_type, uploaded_by, uploaded_at FROM photos WHERE sha256 = $1",
    )
    .bind(sha256)
    .fetch_optional(executor)
    .await?;
    row.map(|(sha256, size, content_type, uploaded_by, uploaded_at)| {
        Ok(PhotoRow {
            sha256,
            size: to_u64(size)?,
            content_type,
            uploaded_by: UserId(uploaded_by),
            uploaded_at: parse_timestamp(&uploaded_at)?,
        })
    })
    .transpose()
}

/// Records a photo whose object is stored; `false` when a row for it was already there (a replay, or
/// the same picture sent twice), which is left as it was: the first uploader stays the one on record
/// (a later upload only moves its time, [`photo_uploaded_again`]).
pub async fn insert_photo(
    executor: impl AnyExecutor<'_>,
    photo: &PhotoRow,
) -> Result<bool, DbError> {
    let inserted = sqlx::query(
        "INSERT INTO photos (sha256, size, content_type, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(&photo.sha256)
    .bind(to_i64(photo.size)?)
    .bind(&photo.content_type)
    .bind(photo.uploaded_by.as_str())
    .bind(timestamp(photo.uploaded_at))
    .execute(executor)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Records that `user` uploaded (or sent again) the bytes of a stored photo.
pub async fn add_uploader(
    executor: impl AnyExecutor<'_>,
    sha256: &str,
    user: &UserId,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO photo_uploads (sha256, user_id, uploaded_at) VALUES ($1, $2, $3) \
         ON CONFLICT (sha256, user_id) DO NOTHING",
    )
    .bind(sha256)
    .bind(user.as_str())
    .bind(timestamp(at))
    .execute(executor)
    .await?;
    Ok(())
}

/// A stored photo was uploaded again at `at`: its grace period before the collector starts afresh,
/// since the phone that sent it again is about to push a record naming it.
pub async fn photo_uploaded_again(
    executor: impl AnyExecutor<'_>,
    sha256: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE photos SET uploaded_at = $2 WHERE sha256 = $1 AND uploaded_at < $2")
        .bind(sha256)
        .bind(timestamp(at))
        .execute(executor)
        .await?;
    Ok(())
}

/// Whether `user` uploaded the photo's bytes.
pub async fn uploaded_by(
    executor: impl AnyExecutor<'_>,
    sha256: &str,
    user: &UserId,
) -> Result<bool, DbError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM photo_uploads WHERE sha256 = $1 AND user_id = $2")
            .bind(sha256)
            .bind(user.as_str())
            .fetch_optional(executor)
            .await?;
    Ok(found.is_some())
}

/// Those of `names` that are not stored photos the caller may read, in the order given: a name
/// counts only if `user` uploaded the photo or a record in a unit the caller sees (`unit`; `None`:
/// every unit) already names it. So knowing a photo's name (printed on every record) never lets a
/// record of another unit name it and gain read access; such a name answers as missing.
pub async fn missing_photos(
    conn: &mut AnyConnection,
    names: &[&str],
    user: &UserId,
    unit: Option<&UnitId>,
) -> Result<Vec<String>, DbError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    // One query for all the names (a JSON array), not one round trip per photo.
    let sql = format!(
        "SELECT j.value FROM {} WHERE NOT EXISTS ( \
           SELECT 1 FROM photos p WHERE p.sha256 = j.value AND (EXISTS ( \
             SELECT 1 FROM photo_uploads u WHERE u.sha256 = p.sha256 AND u.user_id = $2) \
           OR EXISTS ( \
             SELECT 1 FROM photo_refs r JOIN {} \
             WHERE r.sha256 = p.sha256 AND ($3 IS NULL OR c.unit_id = $3)))) \
         ORDER BY j.key",
        Engine::of(conn).json_strings(),
        INSPECTIONS_NAMING_PHOTOS
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(json_list(names))
        .bind(user.as_str())
        .bind(unit.map(UnitId::as_str))
        .fetch_all(&mut *conn)
        .await?)
}

/// Names as a JSON array, for [`Engine::json_strings`] to read in one query.
fn json_list(names: &[&str]) -> String {
    serde_json::Value::from(names.to_vec()).to_string()
}

/// Adds each `(photo, inspection)` pair to the photos the inspection names: run in the transaction
/// that stores the records' new revs, after checking every name is a stored photo. References are
/// never removed: a photo any rev of a record named is evidence (the change log and audit keep that
/// rev), so it is never collected and stays readable to the record's unit after a later edit drops it.
pub async fn add_photo_refs(
    conn: &mut AnyConnection,
    refs: &[(&str, &str)],
) -> Result<(), DbError> {
    for chunk in refs.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO photo_refs (sha256, inspection_id) VALUES {} \
             ON CONFLICT (sha256, inspection_id) DO NOTHING",
            values_list(Engine::of(conn), chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (sha256, inspection_id) in chunk {
            query = query.bind(*sha256).bind(*inspection_id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The current copies (`c`) of the inspections a photo reference (`r`) names, each only with the
/// change of its own unit and rev that it names (see [`CURRENT_COPIES`]): a copy moved to another
/// unit by hand opens no photo to that unit.
const INSPECTIONS_NAMING_PHOTOS: &str = "records c \
     ON c.entity = 'inspection' AND c.id = r.inspection_id \
     JOIN changes ch ON ch.seq = c.seq AND ch.entity = c.entity AND ch.id = c.id \
     AND ch.unit_id = c.unit_id AND ch.rev = c.rev";

/// Whether an inspection naming the photo belongs to `unit` (to any unit when `unit` is `None`).
pub async fn photo_named_in_unit(
    executor: impl AnyExecutor<'_>,
    sha256: &str,
    unit: Option<&UnitId>,
) -> Result<bool, DbError> {
    let found: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT 1 FROM photo_refs r JOIN {INSPECTIONS_NAMING_PHOTOS} \
         WHERE r.sha256 = $1 AND ($2 IS NULL OR c.unit_id = $2) LIMIT 1"
    ))
    .bind(sha256)
    .bind(unit.map(UnitId::as_str))
    .fetch_optional(executor)
    .await?;
    Ok(found.is_some())
}

/// Removes the rows of photos no record names that were uploaded at or before `uploaded_by_then`, in
/// one statement (so a push naming one of them either commits first and keeps it, or comes after and
/// is refused `photo_missing`); returns their names, whose objects the caller removes next.
pub async fn delete_unreferenced_photos(
    executor: impl AnyExecutor<'_>,
    uploaded_by_then: DateTime<Utc>,
) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "DELETE FROM photos WHERE uploaded_at <= $1 \
         AND NOT EXISTS (SELECT 1 FROM photo_refs r WHERE r.sha256 = photos.sha256) \
         RETURNING sha256",
    )
    .bind(timestamp(uploaded_by_then))
    .fetch_all(executor)
    .await?)
}

/// Forgets the uploaders of a photo whose row is gone (collected); kept if it was uploaded again.
pub async fn forget_uploaders(executor: impl AnyExecutor<'_>, sha256: &str) -> Result<(), DbError> {
    sqlx::query(
        "DELETE FROM photo_uploads WHERE sha256 = $1 \
         AND NOT EXISTS (SELECT 1 FROM photos WHERE sha256 = $1)",
    )
    .bind(sha256)
    .execute(executor)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The login throttle's failures

/// Failed logins inside the window, as the throttle's limits count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCounts {
    /// Of this username from this address.
    pub pair: usize,
    /// From this address, any username.
    pub address: usize,
    /// Of this username, from any address.
    pub username: usize,
    pub overall: usize,
}

/// Forgets failures from before `since`.
pub async fn forget_login_failures(
    executor: impl AnyExecutor<'_>,
    since: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(timestamp(since))
        .execute(executor)
        .await?;
    Ok(())
}

/// Counts the failures left (the caller forgot the old ones first), in one query.
pub async fn count_login_failures(
    executor: impl AnyExecutor<'_>,
    username: &str,
    address: &str,
) -> Result<FailureCounts, DbError> {
    let (pair, by_address, by_username, overall): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(CASE WHEN username = $1 AND address = $2 AND forgiven = 0 THEN 1 END), \
                COUNT(CASE WHEN address = $2 THEN 1 END), \
                COUNT(CASE WHEN username = $1 THEN 1 END), \
                COUNT(*) \
         FROM login_failures",
    )
    .bind(username)
    .bind(address)
    .fetch_one(executor)
    .await?;
    let count = |n: i64| usize::try_from(n).map_err(|_| DbError::Corrupt(format!("count {n}")));
    Ok(FailureCounts {
        pair: count(pair)?,
        address: count(by_address)?,
        username: count(by_username)?,
        overall: count(overall)?,
    })
}

pub async fn insert_login_failure(
    executor: impl AnyExecutor<'_>,
    id: &str,
    username: &str,
    address: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO login_failures (id, username, address, at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(username)
        .bind(address)
        .bind(timestamp(at))
        .execute(executor)
        .await?;
    Ok(())
}

/// Takes back the attempt `id` and forgives the failures of `username` from `address` for the
/// per-pair limit only.
pub async fn forgive_login_failures(
    conn: &mut AnyConnection,
    id: &str,
    username: &str,
    address: &str,
) -> Result<(), DbError> {
    drop_login_failure(&mut *conn, id).await?;
    sqlx::query("UPDATE login_failures SET forgiven = 1 WHERE username = $1 AND address = $2")
        .bind(username)
        .bind(address)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes back one attempt.
pub async fn drop_login_failure(executor: impl AnyExecutor<'_>, id: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM login_failures WHERE id = $1")
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}
