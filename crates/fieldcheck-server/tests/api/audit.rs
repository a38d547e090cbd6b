//! The audit chain: accepted changes and refused attempts are appended, nothing can be rewritten, and
//! a row edited behind the server's back is named by `audit verify`.

use super::*;
use fieldcheck_server::audit::{self, Verdict};

#[tokio::test]
async fn accepted_and_refused_attempts_are_chained_and_a_tampered_row_is_named() -> TestResult {
    let app = fixture().await?;
    let author = app.login("insp_a").await?;
    let venue_id = app
        .venue(&author, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let id = new_id();
    let body = app.inspection_body(&id, &venue_id, &app.insp_a);
    app.push_ok(&author, mutation("inspection", &id, 0, body.clone()))
        .await?;
    // Refused attempts: a stale rev, another user's edit, a review of the wrong rev.
    app.push(&author, &[mutation("inspection", &id, 0, body.clone())])
        .await?;
    let colleague = app.login("insp_a2").await?;
    app.push(
        &colleague,
        &[mutation(
            "inspection",
            &id,
            1,
            with(body, "/notes", json!("x")),
        )],
    )
    .await?;
    let supervisor = app.login("super_a").await?;
    app.post(
        &format!("/api/inspections/{id}/review"),
        Some(&supervisor),
        &json!({"decision": "approve", "rev": 7}),
    )
    .await?;
    app.post(
        &format!("/api/inspections/{id}/review"),
        Some(&supervisor),
        &json!({"decision": "approve", "rev": 1}),
    )
    .await?;

    let rows: Vec<(i64, String, String, Option<String>, String)> =
        sqlx::query_as("SELECT seq, action, outcome, code, id FROM audit ORDER BY seq")
            .fetch_all(&app.state.pool)
            .await?;
    let summary: Vec<(String, String, Option<String>)> = rows
        .iter()
        .filter(|row| row.4 == id)
        .map(|row| (row.1.clone(), row.2.clone(), row.3.clone()))
        .collect();
    let row = |action: &str, outcome: &str, code: Option<&str>| {
        (
            action.to_owned(),
            outcome.to_owned(),
            code.map(str::to_owned),
        )
    };
    assert_eq!(
        summary,
        [
            row("push", "applied", None),
            row("push", "conflict", Some("conflict")),
            row("push", "rejected", Some("not_yours")),
            row("review", "rejected", Some("stale")),
            row("review", "applied", None),
        ]
    );
    assert_eq!(
        audit::verify(&app.state.pool).await?,
        Verdict::Intact {
            rows: rows.len() as u64
        }
    );

    // The database refuses to rewrite the trail, even for the server.
    let refused = sqlx::query("UPDATE audit SET outcome = 'applied' WHERE seq = $1")
        .bind(rows[2].0)
        .execute(&app.state.pool)
        .await;
    assert!(refused.is_err(), "update allowed");
    assert!(
        sqlx::query("DELETE FROM audit")
            .execute(&app.state.pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM changes")
            .execute(&app.state.pool)
            .await
            .is_err()
    );

    // Behind the server's back (the guard dropped): the changed row is named.
    let tampered = rows
        .iter()
        .find(|row| row.4 == id && row.3.as_deref() == Some("not_yours"))
        .context("row")?
        .0;
    super::backend::drop_trigger(&app.state.pool, "audit_append_only_update", "audit").await?;
    sqlx::query("UPDATE audit SET outcome = 'applied', code = NULL WHERE seq = $1")
        .bind(tampered)
        .execute(&app.state.pool)
        .await?;
    match audit::verify(&app.state.pool).await? {
        Verdict::Broken { seq, reason } => {
            assert_eq!(seq, tampered);
            assert!(reason.contains("changed"), "{reason}");
        }
        intact => panic!("tampering not found: {intact:?}"),
    }
    // A removed row breaks the link of the row after it.
    super::backend::drop_trigger(&app.state.pool, "audit_append_only_delete", "audit").await?;
    let first = rows[0].0;
    sqlx::query("DELETE FROM audit WHERE seq = $1")
        .bind(first)
        .execute(&app.state.pool)
        .await?;
    match audit::verify(&app.state.pool).await? {
        Verdict::Broken { seq, reason } => {
            assert_eq!(seq, rows[1].0);
            assert!(reason.contains("removed"), "{reason}");
        }
        intact => panic!("removal not found: {intact:?}"),
    }
    Ok(())
}

/// A push holds its audit rows and ops back and writes them together, a hundred rows to a statement:
/// across those statements the chain keeps the batch's order, and a replay finds every op.
#[tokio::test]
async fn a_long_batch_is_chained_in_its_order_and_every_op_is_remembered() -> TestResult {
    let (app, author, venue_id, mut batch) = new_inspections(230).await?;
    // Past the first hundred rows: the first record created again, against its copy from this batch.
    let first = batch[0]["id"].as_str().context("id")?.to_owned();
    let again = app.inspection_body(&first, &venue_id, &app.insp_a);
    batch.insert(150, mutation("inspection", &first, 0, again));
    let expected = |replayed: bool| -> Vec<MutationStatus> {
        (0..batch.len())
            .map(|n| match n {
                150 => MutationStatus::Conflict,
                _ if replayed => MutationStatus::Duplicate,
                _ => MutationStatus::Applied,
            })
            .collect()
    };
    let statuses = |results: Vec<MutationResult>| -> Vec<MutationStatus> {
        results.into_iter().map(|result| result.status).collect()
    };
    assert_eq!(statuses(app.push(&author, &batch).await?), expected(false));

    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, outcome FROM audit WHERE action = 'push' AND entity = 'inspection' ORDER BY seq",
    )
    .fetch_all(&app.state.pool)
    .await?;
    let in_order: Vec<(String, String)> = batch
        .iter()
        .enumerate()
        .map(|(n, mutation)| {
            let outcome = if n == 150 { "conflict" } else { "applied" };
            (
                mutation["id"].as_str().unwrap_or_default().to_owned(),
                outcome.to_owned(),
            )
        })
        .collect();
    assert_eq!(rows, in_order);
    let all_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&app.state.pool)
        .await?;
    assert_eq!(
        audit::verify(&app.state.pool).await?,
        Verdict::Intact {
            rows: u64::try_from(all_rows)?
        }
    );

    // The phone never heard the answer and sends the batch again: every applied op is known.
    assert_eq!(statuses(app.push(&author, &batch).await?), expected(true));
    let ops: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ops WHERE entity = 'inspection'")
        .fetch_one(&app.state.pool)
        .await?;
    assert_eq!(ops, 230);
    Ok(())
}

/// The rows a push writes at its batch's end are part of its transaction: a fault there (here the
/// last op's row refused by the database) answers 500 and leaves nothing of the batch behind, and
/// the phone's resend of the same batch is then applied whole.
#[tokio::test]
async fn a_fault_in_the_rows_written_at_the_batch_end_commits_nothing_of_it() -> TestResult {
    let (app, author, _, batch) = new_inspections(120).await?;
    let last_op = batch[119]["op_id"].as_str().context("op id")?.to_owned();
    let counts = || async {
        let mut counts = Vec::new();
        for table in ["changes", "records", "audit", "ops", "photo_refs"] {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&app.state.pool)
                .await?;
            counts.push((table, n));
        }
        anyhow::Ok(counts)
    };
    let before = counts().await?;

    super::backend::fail_insert(&app.state.pool, "ops", "op_id", &last_op).await?;
    let answer = app.push_answer(&author, &batch).await?;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.body["error"]["code"], "internal");
    assert_eq!(counts().await?, before);

    super::backend::drop_trigger(&app.state.pool, "fail_ops", "ops").await?;
    push_all_applied(&app, &author, &batch).await?;
    let after = counts().await?;
    assert_eq!(after[0].1 - before[0].1, 120, "{after:?}");
    assert_eq!(after[3].1 - before[3].1, 120, "{after:?}");
    assert!(matches!(
        audit::verify(&app.state.pool).await?,
        Verdict::Intact { .. }
    ));
    Ok(())
}

/// A push writes its records' new revs together at the batch's end. A record changed three times in
/// one batch, across the hundred-row statements, keeps every rev in the change log in the batch's
/// order and ends at its last one, and each record is pulled once at its newest rev.
#[tokio::test]
async fn a_record_changed_three_times_in_one_batch_keeps_every_rev_in_order() -> TestResult {
    let (app, author, venue_id, mut batch) = new_inspections(120).await?;
    let first = batch[0]["id"].as_str().context("id")?.to_owned();
    for (at, base_rev, notes) in [(60, 1, "第二稿"), (121, 2, "第三稿")] {
        let mut body = app.inspection_body(&first, &venue_id, &app.insp_a);
        body["notes"] = json!(notes);
        batch.insert(at, mutation("inspection", &first, base_rev, body));
    }
    let results = push_all_applied(&app, &author, &batch).await?;
    let revs: Vec<Option<u64>> = [0, 60, 121].iter().map(|&n| results[n].rev).collect();
    assert_eq!(revs, [Some(1), Some(2), Some(3)]);

    // The change log holds every rev, in the batch's order.
    let log: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT seq, id, rev FROM changes WHERE entity = 'inspection' ORDER BY seq")
            .fetch_all(&app.state.pool)
            .await?;
    let ids_in_order: Vec<&str> = log.iter().map(|(_, id, _)| id.as_str()).collect();
    let sent: Vec<&str> = batch
        .iter()
        .map(|mutation| mutation["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids_in_order, sent);
    let first_revs: Vec<i64> = log
        .iter()
        .filter(|(_, id, _)| *id == first)
        .map(|(_, _, rev)| *rev)
        .collect();
    assert_eq!(first_revs, [1, 2, 3]);
    // The current copy is the last rev, at that change's seq.
    let last_seq = log
        .iter()
        .filter(|(_, id, _)| *id == first)
        .map(|(seq, _, _)| *seq)
        .max()
        .context("a change")?;
    let (rev, seq): (i64, i64) =
        sqlx::query_as("SELECT rev, seq FROM records WHERE entity = 'inspection' AND id = $1")
            .bind(&first)
            .fetch_one(&app.state.pool)
            .await?;
    assert_eq!((rev, seq), (3, last_seq));

    let pulled = app.pull_all(&author).await?;
    let inspections: Vec<&(Entity, String, u64, Value)> = pulled
        .iter()
        .filter(|(entity, ..)| *entity == Entity::Inspection)
        .collect();
    assert_eq!(inspections.len(), 120);
    let newest = inspections
        .iter()
        .find(|(_, id, ..)| *id == first)
        .context("the record changed three times")?;
    assert_eq!((newest.2, newest.3["notes"].as_str()), (3, Some("第三稿")));
    Ok(())
}

/// Pushes `batch` and checks that every mutation was applied.
async fn push_all_applied(
    app: &Fixture,
    token: &str,
    batch: &[Value],
) -> anyhow::Result<Vec<MutationResult>> {
    let results = app.push(token, batch).await?;
    ensure!(
        results
            .iter()
            .all(|result| result.status == MutationStatus::Applied),
        "not all applied: {results:?}"
    );
    Ok(results)
}

/// A fresh server, an inspector's token, a venue of theirs and `n` creations of new inspections there.
async fn new_inspections(n: usize) -> anyhow::Result<(Fixture, String, String, Vec<Value>)> {
    let app = fixture().await?;
    let author = app.login("insp_a").await?;
    let venue_id = app
        .venue(&author, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let batch = (0..n)
        .map(|_| {
            let id = new_id();
            let body = app.inspection_body(&id, &venue_id, &app.insp_a);
            mutation("inspection", &id, 0, body)
        })
        .collect();
    Ok((app, author, venue_id, batch))
}
