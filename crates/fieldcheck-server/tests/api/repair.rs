//! Damaged current copies of records: named by `records check` and restored from the change log by
//! `records repair`, so that the pulls they stop go through again with what was committed.

use super::*;
use fieldcheck_server::audit::{self, Verdict};
use fieldcheck_server::repair::{self, Logged};

#[tokio::test]
async fn a_damaged_copy_stops_its_units_pulls_until_repair_restores_it_from_the_change_log()
-> TestResult {
    let app = fixture().await?;
    let author = app.login("insp_a").await?;
    let venue_id = app
        .venue(&author, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let (damaged, untouched, moved) = (new_id(), new_id(), new_id());
    for id in [&damaged, &untouched, &moved] {
        let body = app.inspection_body(id, &venue_id, &app.insp_a);
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
    let committed = app.pull_all(&colleague).await?;
    assert!(repair::check(&app.state.pool).await?.is_empty());

    // Behind the server's back: one copy cut short (no longer JSON), the venue's licence number changed
    // (it still reads), and one copy's rev changed, which no change of the log matches.
    for (sql, id) in [
        (
            "UPDATE records SET body = '{\"id\": \"cut' WHERE id = $1",
            &damaged,
        ),
        (
            "UPDATE records SET body = replace(body, '41030210023', '41030299999') WHERE id = $1",
            &venue_id,
        ),
        ("UPDATE records SET rev = 9 WHERE id = $1", &moved),
    ] {
        let changed = sqlx::query(sql).bind(id).execute(&app.state.pool).await?;
        assert_eq!(changed.rows_affected(), 1, "{sql}");
    }
    let found = repair::check(&app.state.pool).await?;
    let summary: Vec<(&str, bool, Logged)> = found
        .iter()
        .map(|mismatch| {
            (
                mismatch.id.as_str(),
                mismatch.current_reads,
                mismatch.logged.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (venue_id.as_str(), true, Logged::Restorable),
            (damaged.as_str(), false, Logged::Restorable),
            (moved.as_str(), true, Logged::Missing),
        ]
    );
    assert!(found[1].describe().contains("does not read"), "{found:?}");

    // The unit's pulls stop at the copy that does not read, without its text; the other unit's go on.
    let answer = app.get("/api/sync/pull?limit=1000", &colleague).await?;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!answer.body.to_string().contains("cut"), "{}", answer.body);
    let other = app.login("insp_b").await?;
    app.pull_all(&other).await?;

    let repaired = repair::repair(&app.state.pool).await?;
    let ids = |found: &[repair::Mismatch]| -> Vec<String> {
        found.iter().map(|mismatch| mismatch.id.clone()).collect()
    };
    assert_eq!(
        ids(&repaired.restored),
        [venue_id.as_str(), damaged.as_str()]
    );
    assert_eq!(ids(&repaired.left), [moved.as_str()]);

    // Pulled again, every restored record is what was committed, at its rev.
    let pulled = app.pull_all(&colleague).await?;
    for id in [&venue_id, &damaged, &untouched] {
        let of = |all: &[(Entity, String, u64, Value)]| {
            all.iter()
                .find(|change| change.1 == *id)
                .map(|change| (change.2, change.3.clone()))
        };
        assert_eq!(of(&pulled), of(&committed), "{id}");
        assert!(of(&pulled).is_some(), "{id}");
    }
    // Each restored copy is an audit row of its own; the chain holds.
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT id, outcome, rev FROM audit WHERE action = 'repair' ORDER BY seq")
            .fetch_all(&app.state.pool)
            .await?;
    assert_eq!(
        rows,
        [
            (venue_id.clone(), "applied".to_owned(), 1),
            (damaged.clone(), "applied".to_owned(), 2),
        ]
    );
    assert!(matches!(
        audit::verify(&app.state.pool).await?,
        Verdict::Intact { .. }
    ));
    // What the log cannot restore is still named, and a second repair changes nothing.
    assert_eq!(
        ids(&repair::check(&app.state.pool).await?),
        [moved.as_str()]
    );
    let again = repair::repair(&app.state.pool).await?;
    assert!(again.restored.is_empty());
    assert_eq!(ids(&again.left), [moved.as_str()]);
    Ok(())
}
