//! Records whose current copy was damaged, removed or edited behind the server's back: named by
//! `records check`, written again from the change log by `records repair`, and pulled by every phone,
//! including those that had pulled the bad copy.

use super::*;
use fieldcheck_core::sync::Change;
use fieldcheck_server::audit::{self, Verdict};
use fieldcheck_server::repair::{self, Current, Logged, Mismatch};

/// Every change after `cursor` the caller pulls, and the cursor after them.
async fn pull_from(app: &App, token: &str, cursor: &str) -> anyhow::Result<(Vec<Change>, String)> {
    let mut changes = Vec::new();
    let mut cursor = cursor.to_owned();
    loop {
        let page = app.pull(token, &cursor, 1000).await?;
        changes.extend(page.changes);
        cursor = page.cursor;
        if !page.has_more {
            return Ok((changes, cursor));
        }
    }
}

fn ids(found: &[Mismatch]) -> Vec<&str> {
    found.iter().map(|mismatch| mismatch.id.as_str()).collect()
}

#[tokio::test]
async fn records_differing_from_the_change_log_are_written_again_and_pulled_by_every_phone()
-> TestResult {
    let app = fixture().await?;
    let author = app.login("insp_a").await?;
    let venue_id = app
        .venue(&author, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let [older, foreign, removed, moved, raised, untouched] = [(); 6].map(|()| new_id());
    // The record moved by hand below names a photo of its own.
    let scene = app.upload(&author, &super::photos::jpeg("scene")).await?;
    for id in [&older, &foreign, &removed, &moved, &raised, &untouched] {
        let mut body = app.inspection_body(id, &venue_id, &app.insp_a);
        if *id == moved {
            body["photos"] = json!([scene]);
        }
        app.push_ok(&author, mutation("inspection", id, 0, body.clone()))
            .await?;
        app.push_ok(
            &author,
            mutation(
                "inspection",
                id,
                1,
                with(body, "/notes", json!("复查后补充")),
            ),
        )
        .await?;
    }
    let colleague = app.login("insp_a2").await?;
    let (committed, _) = pull_from(&app, &colleague, "").await?;
    let other_unit = app.login("insp_b").await?;
    let (_, other_cursor) = pull_from(&app, &other_unit, "").await?;
    assert!(repair::check(&app.state.pool).await?.is_empty());

    let edit = async |sql: &str, id: &str| -> TestResult {
        let changed = sqlx::query(sql).bind(id).execute(&app.state.pool).await?;
        assert_eq!(changed.rows_affected(), 1, "{sql}");
        Ok(())
    };
    // Behind the server's back: a copy made its older change again (seq and rev), which phones
    // then pull as it is, and one moved to the other unit, which that unit is not handed: no change
    // of that unit names it, so it has no text there and stops that unit's pulls.
    edit(
        "UPDATE records SET seq = (SELECT MIN(seq) FROM changes WHERE id = $1), rev = 1 \
         WHERE id = $1",
        &older,
    )
    .await?;
    let unit_b = app.insp_b.unit_id.as_str();
    edit(
        &format!("UPDATE records SET unit_id = '{unit_b}' WHERE id = $1"),
        &moved,
    )
    .await?;
    let (tampered, colleague_cursor) = pull_from(&app, &colleague, "").await?;
    assert!(
        tampered.iter().any(|change| change.id == older
            && change.rev == 1
            && change.body["notes"] != "复查后补充"),
        "{tampered:?}"
    );
    let exposed = app.get("/api/sync/pull?limit=1000", &other_unit).await?;
    assert_eq!(exposed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !exposed.body.to_string().contains(&moved),
        "{}",
        exposed.body
    );
    // Nor its photo.
    let photo = app
        .get(&format!("/api/photos/{scene}"), &other_unit)
        .await?;
    assert_eq!(photo.status, StatusCode::NOT_FOUND);
    // Then copies with no text of their own: one naming another record's change, one whose seq was
    // raised past every change; one removed, and one no change of the log wrote (in a unit no phone
    // here pulls: with no text, it stops that unit's pulls until it is removed by hand).
    edit(
        &format!(
            "UPDATE records SET seq = (SELECT MIN(seq) FROM changes WHERE id = '{untouched}') \
             WHERE id = $1"
        ),
        &foreign,
    )
    .await?;
    edit("UPDATE records SET seq = seq + 500 WHERE id = $1", &raised).await?;
    edit("DELETE FROM records WHERE id = $1", &removed).await?;
    let stray = new_id();
    sqlx::query(
        "INSERT INTO records (entity, id, unit_id, rev, seq, created_at, updated_at) \
         SELECT entity, $1, 'unit-elsewhere', rev, seq + 1000000, created_at, updated_at \
         FROM records WHERE id = $2",
    )
    .bind(&stray)
    .bind(&untouched)
    .execute(&app.state.pool)
    .await?;

    let found = repair::check(&app.state.pool).await?;
    let summary: Vec<(&str, Current, Logged)> = found
        .iter()
        .map(|mismatch| {
            (
                mismatch.id.as_str(),
                mismatch.current.clone(),
                mismatch.logged.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (older.as_str(), Current::Differs, Logged::Restorable),
            (foreign.as_str(), Current::Unreadable, Logged::Restorable),
            (removed.as_str(), Current::Missing, Logged::Restorable),
            (moved.as_str(), Current::Unreadable, Logged::Restorable),
            (raised.as_str(), Current::Unreadable, Logged::Restorable),
            (stray.as_str(), Current::Unreadable, Logged::Absent),
        ]
    );
    assert!(found[1].describe().contains("does not read"), "{found:?}");
    // The unit's pulls stop at a copy without its text, without the parser's words.
    let answer = app.get("/api/sync/pull?limit=1000", &colleague).await?;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!answer.body.to_string().contains("EOF"), "{}", answer.body);

    let keep = tempfile::tempdir()?;
    let repaired = repair::repair(&app.state.pool, keep.path()).await?;
    let restored: Vec<(&str, u64, bool)> = repaired
        .restored
        .iter()
        .map(|restored| {
            (
                restored.mismatch.id.as_str(),
                restored.rev,
                restored.kept.is_some(),
            )
        })
        .collect();
    assert_eq!(
        restored,
        [
            (older.as_str(), 3, true),
            (foreign.as_str(), 3, false),
            (removed.as_str(), 3, false),
            (moved.as_str(), 3, false),
            (raised.as_str(), 3, false),
        ]
    );
    // The replaced texts are kept, as they were stored: the older change's.
    let kept = repaired.restored[0].kept.as_ref().context("kept")?;
    let kept: Value = serde_json::from_slice(&std::fs::read(kept)?)?;
    assert_eq!(kept["id"], json!(older));
    assert_ne!(kept["notes"], json!("复查后补充"));
    assert_eq!(std::fs::read_dir(keep.path())?.count(), 1);
    assert_eq!(ids(&repaired.left), [stray.as_str()]);

    // The phone that had pulled the bad copies gets every record again as it was committed, at a
    // newer rev; the other unit's phone is told the moved record left it.
    let (after, _) = pull_from(&app, &colleague, &colleague_cursor).await?;
    for id in [&older, &foreign, &removed, &moved, &raised] {
        let was = committed.iter().find(|change| change.id == *id);
        let now = after.iter().find(|change| change.id == *id);
        assert_eq!(
            now.map(|change| &change.body),
            was.map(|change| &change.body),
            "{id}"
        );
        assert!(
            now.is_some_and(|now| was.is_some_and(|was| now.rev > was.rev)),
            "{id}"
        );
    }
    assert!(!after.iter().any(|change| change.id == untouched));
    let (left, _) = pull_from(&app, &other_unit, &other_cursor).await?;
    assert!(
        left.iter()
            .any(|change| change.id == moved && change.deleted),
        "{left:?}"
    );
    // Each restored record is an audit row of its own; the chain holds.
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, rev FROM audit WHERE action = 'repair' ORDER BY seq")
            .fetch_all(&app.state.pool)
            .await?;
    let expected: Vec<(String, i64)> = restored
        .iter()
        .map(|(id, rev, _)| ((*id).to_owned(), i64::try_from(*rev).unwrap_or(-1)))
        .collect();
    assert_eq!(rows, expected);
    assert!(matches!(
        audit::verify(&app.state.pool).await?,
        Verdict::Intact { .. }
    ));
    // What the log cannot restore is still named, and a second repair changes nothing.
    assert_eq!(
        ids(&repair::check(&app.state.pool).await?),
        [stray.as_str()]
    );
    let again = repair::repair(&app.state.pool, keep.path()).await?;
    assert!(again.restored.is_empty());
    assert_eq!(ids(&again.left), [stray.as_str()]);
    Ok(())
}

/// A database an older server left (version 4: each current copy with a text of its own beside its
/// change's) keeps every record through the move to version 5, each read from its change; a copy
/// whose own text had been edited behind the server's back keeps that text aside, and `records
/// repair` writes the record again for every phone, the text kept in its file.
#[tokio::test]
async fn a_database_of_version_4_keeps_every_record_through_the_move_to_version_5() -> TestResult {
    let dir = tempfile::tempdir()?;
    let pool = open_pool(dir.path()).await?;
    let leader = add(&pool, "leader_a", Role::Supervisor, UNIT_A).await?;
    let venue = |id: &str, name: &str| -> anyhow::Result<String> {
        let body = with(
            venue_body(id, &leader, VenueKind::InternetCafe),
            "/name",
            json!(name),
        );
        Ok(serde_json::to_string(&body)?)
    };
    let first = &venue("v-1", "星空网吧")?;
    let second = &venue("v-1", "星空网咖")?;
    let other = &venue("v-2", "金曲KTV")?;
    let edited = &venue("v-2", "金曲KTV（改）")?;
    let third = &venue("v-3", "童趣电玩")?;
    let third_edited = &venue("v-3", "童趣电玩（改）")?;
    {
        // Back to version 4, as an older server left it: the current copies' column of text.
        for sql in [
            "ALTER TABLE records ADD COLUMN body TEXT NOT NULL DEFAULT ''",
            "DROP TABLE unrepaired_texts",
            "DELETE FROM _sqlx_migrations WHERE version = 5",
        ] {
            sqlx::query(sql).execute(&pool).await?;
        }
        for (id, rev, body) in [
            ("v-1", 1, first),
            ("v-2", 1, other),
            ("v-1", 2, second),
            ("v-3", 1, third),
        ] {
            sqlx::query(
                "INSERT INTO changes (entity, id, rev, unit_id, at, body) \
                 VALUES ('venue', $1, $2, $4, '2026-06-01T02:00:00Z', $3)",
            )
            .bind(id)
            .bind(rev)
            .bind(body)
            .bind(UNIT_A)
            .execute(&pool)
            .await?;
        }
        sqlx::query(
            "INSERT INTO records (entity, id, unit_id, rev, body, seq, created_at, updated_at) \
             SELECT entity, id, unit_id, rev, body, seq, at, at FROM changes c \
             WHERE seq = (SELECT MAX(seq) FROM changes l WHERE l.id = c.id)",
        )
        .execute(&pool)
        .await?;
        // Two copies' texts edited behind that server's back.
        for (id, text) in [("v-2", edited), ("v-3", third_edited)] {
            sqlx::query("UPDATE records SET body = $1 WHERE id = $2")
                .bind(text)
                .bind(id)
                .execute(&pool)
                .await?;
        }
        db::close(&pool).await;
    }
    let pool = open_pool(dir.path()).await?;
    let pulled = async || -> anyhow::Result<Vec<(String, u64, Value)>> {
        Ok(db::changes_since(&pool, 0, None, 100)
            .await?
            .into_iter()
            .map(|row| (row.id, row.rev, row.body.unwrap_or_default()))
            .collect())
    };
    let text = |text: &str| serde_json::from_str::<Value>(text);
    assert_eq!(
        pulled().await?,
        [
            ("v-2".to_owned(), 1, text(other)?),
            ("v-1".to_owned(), 2, text(second)?),
            ("v-3".to_owned(), 1, text(third)?),
        ]
    );
    // The current copies' own text is gone: stored once, in the change log.
    assert!(
        sqlx::query("SELECT body FROM records")
            .fetch_all(&pool)
            .await
            .is_err()
    );
    // The edited texts phones may hold are named, even one whose current copy was removed since,
    // and the repair sends every phone each record's change again as a new rev, keeping each text
    // in its file.
    sqlx::query("DELETE FROM records WHERE id = 'v-3'")
        .execute(&pool)
        .await?;
    let found = repair::check(&pool).await?;
    assert_eq!(ids(&found), ["v-2", "v-3"]);
    assert_eq!(found[0].current, Current::Differs);
    assert_eq!(found[1].current, Current::Missing);
    let keep = tempfile::tempdir()?;
    let repaired = repair::repair(&pool, keep.path()).await?;
    let restored: Vec<(&str, u64, String)> = repaired
        .restored
        .iter()
        .map(|restored| {
            let kept = restored
                .kept
                .as_ref()
                .map(std::fs::read_to_string)
                .transpose()
                .ok()
                .flatten()
                .unwrap_or_default();
            (restored.mismatch.id.as_str(), restored.rev, kept)
        })
        .collect();
    assert_eq!(
        restored,
        [("v-2", 2, edited.clone()), ("v-3", 2, third_edited.clone()),]
    );
    assert_eq!(
        pulled().await?,
        [
            ("v-1".to_owned(), 2, text(second)?),
            ("v-2".to_owned(), 2, text(other)?),
            ("v-3".to_owned(), 2, text(third)?),
        ]
    );
    assert!(repair::check(&pool).await?.is_empty());
    db::close(&pool).await;
    Ok(())
}
