//! Which database and photo store the suite runs on: a SQLite file and a photo folder per test by
//! default; a fresh database on the PostgreSQL server `FIELDCHECK_TEST_POSTGRES` names, and a prefix
//! of the S3 bucket `FIELDCHECK_TEST_S3` names, when `cargo xtask test` runs the suite again on them.

use anyhow::Context;
use fieldcheck_server::db::{self, DbConfig, Engine};
use fieldcheck_server::photos::{self, PhotoStore};
use futures_util::TryStreamExt;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use sqlx::{AnyPool, Connection, Executor};
use std::path::Path;

/// `postgres://USER@HOST:PORT` of a server the suite may create databases on.
const POSTGRES: &str = "FIELDCHECK_TEST_POSTGRES";
/// `s3://BUCKET` on an S3-protocol server, reached through the usual `AWS_*` variables.
const S3: &str = "FIELDCHECK_TEST_S3";
/// The file in a test's data folder naming its PostgreSQL database, so that a restart over the same
/// folder reopens the same database, as it reopens the same SQLite file.
const DATABASE_NAME_FILE: &str = "postgres-database";
/// The file in a test's data folder naming its prefix in the bucket.
const PREFIX_FILE: &str = "s3-prefix";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// The engine this run of the suite is on.
pub fn engine() -> Engine {
    if env(POSTGRES).is_some() {
        Engine::Postgres
    } else {
        Engine::Sqlite
    }
}

/// The database of a test's data folder: `<dir>/fieldcheck.db`, or a PostgreSQL database created on
/// first use.
pub async fn database(data_dir: &Path) -> anyhow::Result<DbConfig> {
    let Some(server) = env(POSTGRES) else {
        return Ok(db::connect_options(data_dir, None)?);
    };
    let name_file = data_dir.join(DATABASE_NAME_FILE);
    let name = match std::fs::read_to_string(&name_file) {
        Ok(name) => name,
        Err(_) => {
            let name = unique_name();
            create_database(&server, &name, None).await?;
            std::fs::write(&name_file, &name)?;
            name
        }
    };
    Ok(db::connect_options(
        data_dir,
        Some(&format!("{server}/{name}")),
    )?)
}

/// Opens (and migrates) the database of a test's data folder.
pub async fn open_pool(data_dir: &Path) -> anyhow::Result<AnyPool> {
    Ok(db::open(database(data_dir).await?).await?)
}

/// Makes `to`'s database a copy of `from`'s, whose pool must be closed: the SQLite file, or a
/// PostgreSQL database made with `from`'s as its template.
pub async fn copy_database(from: &Path, to: &Path) -> anyhow::Result<()> {
    let Some(server) = env(POSTGRES) else {
        std::fs::copy(
            db::default_database_path(from),
            db::default_database_path(to),
        )?;
        return Ok(());
    };
    let template = std::fs::read_to_string(from.join(DATABASE_NAME_FILE))
        .context("the template folder has no database yet")?;
    let name = unique_name();
    create_database(&server, &name, Some(&template)).await?;
    std::fs::write(to.join(DATABASE_NAME_FILE), &name)?;
    Ok(())
}

fn unique_name() -> String {
    format!("fc_{}", uuid::Uuid::new_v4().simple())
}

async fn create_database(server: &str, name: &str, template: Option<&str>) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    let template = template.map_or_else(String::new, |template| format!(" TEMPLATE {template}"));
    conn.execute(format!("CREATE DATABASE {name}{template}").as_str())
        .await
        .with_context(|| format!("creating database {name}"))?;
    conn.close().await?;
    Ok(())
}

/// The photo store of a test's data folder: `<dir>/photos`, or a prefix of its own in the bucket.
pub fn photo_store(data_dir: &Path) -> anyhow::Result<PhotoStore> {
    let Some(bucket) = env(S3) else {
        return Ok(photos::local_store(data_dir)?);
    };
    let prefix_file = data_dir.join(PREFIX_FILE);
    let prefix = match std::fs::read_to_string(&prefix_file) {
        Ok(prefix) => prefix,
        Err(_) => {
            let prefix = unique_name();
            std::fs::write(&prefix_file, &prefix)?;
            prefix
        }
    };
    Ok(photos::open_store(
        data_dir,
        Some(&format!("{bucket}/{prefix}")),
    )?)
}

/// Makes `to`'s photo store hold a copy of every object in `from`'s.
pub async fn copy_photos(from: &Path, to: &Path) -> anyhow::Result<()> {
    let (source, target) = (photo_store(from)?, photo_store(to)?);
    let names: Vec<ObjectPath> = source
        .list(None)
        .map_ok(|meta| meta.location)
        .try_collect()
        .await?;
    for name in names {
        let bytes = object_store::ObjectStoreExt::get(source.as_ref(), &name)
            .await?
            .bytes()
            .await?;
        object_store::ObjectStoreExt::put(target.as_ref(), &name, bytes.into()).await?;
    }
    Ok(())
}

/// Makes a closed-over SQLite file whole (its write-ahead log folded in) so it can be copied; nothing
/// to do on PostgreSQL.
pub async fn settle(pool: &AnyPool) -> anyhow::Result<()> {
    if engine() == Engine::Sqlite {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Drops a guard trigger, as someone with the database's password could behind the server's back.
pub async fn drop_trigger(pool: &AnyPool, trigger: &str, table: &str) -> anyhow::Result<()> {
    let sql = match engine() {
        Engine::Sqlite => format!("DROP TRIGGER {trigger}"),
        Engine::Postgres => format!("DROP TRIGGER {trigger} ON {table}"),
    };
    sqlx::query(&sql).execute(pool).await?;
    Ok(())
}

/// Makes the database refuse an insert into `table` whose `column` is `value` (a trigger named
/// `fail_{table}`, dropped with [`drop_trigger`]): a server fault at a chosen row.
pub async fn fail_insert(
    pool: &AnyPool,
    table: &str,
    column: &str,
    value: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "the value goes into the trigger's text"
    );
    match engine() {
        Engine::Sqlite => {
            sqlx::query(&format!(
                "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} WHEN NEW.{column} = '{value}' \
                 BEGIN SELECT RAISE(ABORT, 'a fault made by the test'); END"
            ))
            .execute(pool)
            .await?;
        }
        Engine::Postgres => {
            sqlx::query(&format!(
                "CREATE FUNCTION fail_{table}() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN \
                 IF NEW.{column} = '{value}' THEN RAISE EXCEPTION 'a fault made by the test'; END IF; \
                 RETURN NEW; END $body$"
            ))
            .execute(pool)
            .await?;
            sqlx::query(&format!(
                "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} FOR EACH ROW \
                 EXECUTE FUNCTION fail_{table}()"
            ))
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}
