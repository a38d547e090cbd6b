//! `fieldcheck-server backup` and `restore` on SQLite: a copy taken while the server writes restores
//! to the same pull result; a file that is not a whole FieldCheck database is refused.

use super::*;
use fieldcheck_server::backup::{self, BackupError};

#[tokio::test]
async fn a_backup_restores_to_the_same_pull_result() -> TestResult {
    if backend::engine() != db::Engine::Sqlite {
        // PostgreSQL is backed up with pg_dump (README); this command is SQLite's.
        let app = fixture().await?;
        let refused = backup::backup(&app.state.pool, &app._dir.path().join("copy.db")).await;
        assert!(matches!(refused, Err(BackupError::Postgres)), "{refused:?}");
        return Ok(());
    }
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    for kind in [VenueKind::InternetCafe, VenueKind::Hotel] {
        app.venue(&token, &app.insp_a, kind).await?;
    }
    let backups = tempfile::tempdir()?;
    let file = backups.path().join("fieldcheck-2026-12-02.db");
    // Taken while another push goes on: the copy is one snapshot, before or after it.
    let (copied, _) = tokio::join!(
        backup::backup(&app.state.pool, &file),
        app.venue(&token, &app.insp_a, VenueKind::Arcade)
    );
    copied?;
    assert!(matches!(
        backup::backup(&app.state.pool, &file).await,
        Err(BackupError::Exists(_))
    ));
    let snapshot = {
        let pool = db::open_read_only(&file).await?;
        let seqs: Vec<i64> = sqlx::query_scalar("SELECT seq FROM changes ORDER BY seq")
            .fetch_all(&pool)
            .await?;
        pool.close().await;
        seqs.len()
    };
    let before = app.pull_all(&token).await?;
    assert!(
        snapshot == before.len() || snapshot + 1 == before.len(),
        "{snapshot} changes in the copy, {} pulled",
        before.len()
    );

    // Restored over the database it came from, which had gone on (the copy is older): the old one is
    // kept aside, every token is revoked, and the change sequence goes on above what phones saw.
    app.venue(&token, &app.insp_a, VenueKind::TravelAgency)
        .await?;
    let reached: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM changes")
        .fetch_one(&app.state.pool)
        .await?;
    let data_dir = app._dir.path().to_path_buf();
    let photos = app.state.photos.clone();
    app.state.pool.close().await;
    let target = db::default_database_path(&data_dir);
    let restored = backup::restore(&file, &target).await?;
    let aside = restored.kept_aside.context("the old database is kept")?;
    assert!(aside.exists());
    assert!(restored.audit_rows > 0);
    let again = App {
        state: AppState::new(open_pool(&data_dir).await?, photos, Settings::default()),
        // The data folder stays the fixture's.
        _dir: tempfile::tempdir()?,
    };
    let old_token = again.get("/api/sync/pull", &token).await?;
    assert_eq!(old_token.status, StatusCode::UNAUTHORIZED);
    let token = again.login("insp_a").await?;
    let after = again.pull_all(&token).await?;
    assert_eq!(after[..], before[..after.len()]);
    assert_eq!(after.len(), snapshot);
    // A phone whose cursor is at `reached` gets the next change.
    let venue = again
        .venue(&token, &app.insp_a, VenueKind::ScenicSpot)
        .await?;
    let page = again.pull(&token, &reached.to_string(), 100).await?;
    assert_eq!(
        page.changes
            .iter()
            .map(|change| &change.id)
            .collect::<Vec<_>>(),
        [&venue]
    );
    Ok(())
}

#[tokio::test]
async fn restore_refuses_what_is_not_a_whole_fieldcheck_database() -> TestResult {
    let dir = tempfile::tempdir()?;
    let target = dir.path().join("fieldcheck.db");
    std::fs::write(&target, b"kept")?;
    let not_sqlite = dir.path().join("notes.db");
    std::fs::write(&not_sqlite, b"this is not a database")?;
    let other_sqlite = dir.path().join("other.db");
    {
        let pool = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&other_sqlite)
                .create_if_missing(true),
        )
        .await?;
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&pool)
            .await?;
        pool.close().await;
    }
    for (file, expected) in [
        (dir.path().join("missing.db"), "no such file"),
        (not_sqlite, "not a database"),
        (other_sqlite, "no FieldCheck schema"),
    ] {
        match backup::restore(&file, &target).await {
            Err(error @ BackupError::NotABackup { .. }) => {
                assert!(error.to_string().contains(expected), "{error}");
            }
            other => panic!("{} restored: {other:?}", file.display()),
        }
        assert_eq!(std::fs::read(&target)?, b"kept", "the target is untouched");
    }
    Ok(())
}
