//! Pushes written together: the phones that wait at the same moment share one transaction, and
//! each is answered as it would be alone, a database fault of one push's reaching only that push,
//! and one whose phone stopped waiting is not written, in the group or alone after it failed.

use super::*;
use tokio::task::JoinHandle;

/// Starts a push of `mutations` from phone `phone_idx` through a router of its own.
fn start_push(
    app: &App,
    token: &str,
    phone_idx: u32,
    mutations: &[Value],
) -> anyhow::Result<JoinHandle<anyhow::Result<Answer>>> {
    let request = push_request(token, phone_idx, mutations)?;
    let router = router(app.state.clone());
    Ok(tokio::spawn(async move {
        read_answer(router.oneshot(request).await?).await
    }))
}

/// Another write takes the turn, then `token`'s phone pushes a new arcade venue: the writer waits
/// for the turn with that push alone, so the pushes sent after it wait together. The held write,
/// the venue's id and the pending push.
async fn hold_the_turn(
    app: &Fixture,
    token: &str,
) -> anyhow::Result<(
    db::WriteTx<'static>,
    String,
    JoinHandle<anyhow::Result<Answer>>,
)> {
    let held = db::begin_write(&app.state.pool).await?;
    let plug_id = new_id();
    let plug = start_push(
        app,
        token,
        9,
        &[mutation(
            "venue",
            &plug_id,
            0,
            venue_body(&plug_id, &app.insp_a, VenueKind::Arcade),
        )],
    )?;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    Ok((held, plug_id, plug))
}

/// Ends the write `held`, and sees the plug waiting behind it (see [`hold_the_turn`]) applied.
async fn let_the_plug_through(
    held: db::WriteTx<'static>,
    plug: JoinHandle<anyhow::Result<Answer>>,
) -> TestResult {
    held.commit().await?;
    check(
        &push_results(plug.await??)?[0],
        MutationStatus::Applied,
        None,
    );
    Ok(())
}

/// An officer's token, and a maker of new inspections (creations of record `id`) at a venue of theirs.
async fn new_inspections(app: &Fixture) -> anyhow::Result<(String, impl Fn(&str) -> Value + '_)> {
    let token = app.login("insp_a").await?;
    let venue_id = app
        .venue(&token, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let inspection = move |id: &str| {
        mutation(
            "inspection",
            id,
            0,
            app.inspection_body(id, &venue_id, &app.insp_a),
        )
    };
    Ok((token, inspection))
}

/// The ids of every record `token`'s officer pulls.
async fn pulled_ids(app: &Fixture, token: &str) -> anyhow::Result<HashSet<String>> {
    Ok(app
        .pull_all(token)
        .await?
        .into_iter()
        .map(|(_, id, _, _)| id)
        .collect())
}

/// A trigger that makes the database refuse to store any change of record `id`: a fault of the
/// server's, not of the push's.
async fn poison(pool: &AnyPool, id: &str) -> TestResult {
    match backend::engine() {
        db::Engine::Sqlite => {
            sqlx::query(&format!(
                "CREATE TRIGGER poisoned BEFORE INSERT ON changes WHEN NEW.id = '{id}' \
                 BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
            ))
            .execute(pool)
            .await?;
        }
        db::Engine::Postgres => {
            sqlx::query(
                "CREATE FUNCTION poisoned() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'poisoned'; END $$",
            )
            .execute(pool)
            .await?;
            sqlx::query(&format!(
                "CREATE TRIGGER poisoned BEFORE INSERT ON changes FOR EACH ROW \
                 WHEN (NEW.id = '{id}') EXECUTE FUNCTION poisoned()"
            ))
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// Officers of two units push while the writer is busy, so that their pushes wait and are written
/// together: new records, a replay of one op on a second connection, a refusal, two edits of one
/// venue on the same rev, and a record the database refuses to store. Each push gets what it would
/// have got alone; the refused store fails only its own push, and the audit chain holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_written_together_are_each_answered_as_alone() -> TestResult {
    let app = fixture().await?;
    let (a, a2, b) = (
        app.login("insp_a").await?,
        app.login("insp_a2").await?,
        app.login("insp_b").await?,
    );
    // The team leader on two phones: a venue of the register is theirs to rename.
    let (leader, leader2) = (app.login("super_a").await?, app.login("super_a").await?);
    let venue_a = app.venue(&a, &app.insp_a, VenueKind::InternetCafe).await?;
    let venue_b = app.venue(&b, &app.insp_b, VenueKind::InternetCafe).await?;
    let poisoned = new_id();
    poison(&app.state.pool, &poisoned).await?;

    // Another write holds the turn: the first push waits alone for it, the rest wait behind it and
    // are then taken together. (Were a push late, it would go alone: the answers are the same.)
    let (held, plug_id, plug) = hold_the_turn(&app, &a).await?;
    let (record_a, record_b, replayed) = (new_id(), new_id(), new_id());
    let replay = mutation(
        "inspection",
        &replayed,
        0,
        app.inspection_body(&replayed, &venue_a, &app.insp_a),
    );
    let renamed = |name: &str| {
        mutation(
            "venue",
            &venue_a,
            1,
            with(
                venue_body(&venue_a, &app.insp_a, VenueKind::InternetCafe),
                "/name",
                json!(name),
            ),
        )
    };
    let foreign = new_id();
    let pushes = [
        start_push(
            &app,
            &a,
            1,
            &[mutation(
                "inspection",
                &record_a,
                0,
                app.inspection_body(&record_a, &venue_a, &app.insp_a),
            )],
        )?,
        start_push(
            &app,
            &b,
            2,
            &[
                mutation(
                    "inspection",
                    &record_b,
                    0,
                    app.inspection_body(&record_b, &venue_b, &app.insp_b),
                ),
                // Another unit's venue: refused, and the rest of the push goes on.
                mutation(
                    "inspection",
                    &foreign,
                    0,
                    app.inspection_body(&foreign, &venue_a, &app.insp_b),
                ),
            ],
        )?,
        start_push(&app, &a, 3, std::slice::from_ref(&replay))?,
        start_push(&app, &a, 3, std::slice::from_ref(&replay))?,
        start_push(&app, &leader, 1, &[renamed("星际网咖（甲）")])?,
        start_push(&app, &leader2, 4, &[renamed("星际网咖（乙）")])?,
        start_push(
            &app,
            &a2,
            4,
            &[mutation(
                "inspection",
                &poisoned,
                0,
                app.inspection_body(&poisoned, &venue_a, &app.insp_a2),
            )],
        )?,
    ];
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    ensure!(
        !plug.is_finished() && pushes.iter().all(|push| !push.is_finished()),
        "a push was answered while another write held the turn"
    );
    let_the_plug_through(held, plug).await?;
    let mut answers = Vec::new();
    for push in pushes {
        answers.push(push.await??);
    }
    let poisoned_answer = answers.pop().context("seven answers")?;
    assert_eq!(poisoned_answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(poisoned_answer.body["error"]["code"], json!("internal"));
    let mut results = answers
        .into_iter()
        .map(push_results)
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter();
    let mut next = || results.next().context("an answer per push");
    check(&next()?[0], MutationStatus::Applied, None);
    let pushed_b = next()?;
    check(&pushed_b[0], MutationStatus::Applied, None);
    check(&pushed_b[1], MutationStatus::Rejected, Some("forbidden"));
    let replays = [next()?[0].clone(), next()?[0].clone()];
    let mut replay_statuses: Vec<_> = replays
        .iter()
        .map(|result| (result.status, result.rev))
        .collect();
    replay_statuses.sort_by_key(|(status, _)| *status == MutationStatus::Duplicate);
    assert_eq!(
        replay_statuses,
        [
            (MutationStatus::Applied, Some(1)),
            (MutationStatus::Duplicate, Some(1))
        ]
    );
    let mut edits = [next()?[0].status, next()?[0].status];
    edits.sort_by_key(|status| *status == MutationStatus::Conflict);
    assert_eq!(edits, [MutationStatus::Applied, MutationStatus::Conflict]);

    let held_a: HashSet<String> = app
        .pull_all(&a)
        .await?
        .into_iter()
        .map(|(_, id, rev, _)| format!("{id}@{rev}"))
        .collect();
    for expected in [
        format!("{record_a}@1"),
        format!("{replayed}@1"),
        format!("{venue_a}@2"),
        format!("{plug_id}@1"),
    ] {
        ensure!(held_a.contains(&expected), "unit A lacks {expected}");
    }
    ensure!(
        !held_a
            .iter()
            .any(|held| held.starts_with(&poisoned) || held.starts_with(&foreign)),
        "a refused record was stored"
    );
    ensure!(
        app.pull_all(&b)
            .await?
            .iter()
            .any(|(_, id, rev, _)| *id == record_b && *rev == 1),
        "unit B lacks its record"
    );
    assert!(matches!(
        fieldcheck_server::audit::verify(&app.state.pool).await?,
        fieldcheck_server::audit::Verdict::Intact { .. }
    ));
    ensure!(
        app.state.pushes.largest_group() > 1,
        "the pushes were never written together"
    );
    Ok(())
}

/// A push whose phone stopped waiting before the writer came to it (the connection dropped) is not
/// written: the phone still holds it and sends it again. The writer, with nothing left to write,
/// gives its connection back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_nobody_waits_for_any_more_is_left_unwritten() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let venue_id = app
        .venue(&token, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let held = db::begin_write(&app.state.pool).await?;
    let (first, gone) = (new_id(), new_id());
    let plug = start_push(
        &app,
        &token,
        1,
        &[mutation(
            "inspection",
            &first,
            0,
            app.inspection_body(&first, &venue_id, &app.insp_a),
        )],
    )?;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let dropped = start_push(
        &app,
        &token,
        2,
        &[mutation(
            "inspection",
            &gone,
            0,
            app.inspection_body(&gone, &venue_id, &app.insp_a),
        )],
    )?;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    dropped.abort();
    ensure!(dropped.await.is_err(), "the dropped push was answered");
    let_the_plug_through(held, plug).await?;
    // The writer comes to the dropped push after the plug's commit and leaves it. With nothing more
    // to write it gives its connection back (a pool being closed waits for every connection).
    let given_back_by = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app.state.pool.num_idle() < app.state.pool.size() as usize {
        ensure!(
            std::time::Instant::now() < given_back_by,
            "the writer kept its connection with nothing to write"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // A push after it is written.
    let after = app.inspect(&token, &venue_id, &app.insp_a).await?;
    let ids = pulled_ids(&app, &token).await?;
    ensure!(ids.contains(&first) && ids.contains(&after), "{ids:?}");
    ensure!(!ids.contains(&gone), "a push nobody waited for was written");
    Ok(())
}

/// A push whose phone stops waiting after its group was formed is left out when the group fails and
/// each push is written again alone: nothing of it is stored, and when the phone sends it again (the
/// same op) it is applied, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_given_up_in_a_failed_group_is_not_written_alone_and_applied_when_sent_again()
-> TestResult {
    let app = fixture().await?;
    let (token, inspection) = new_inspections(&app).await?;
    let (poisoned, gone, kept) = (new_id(), new_id(), new_id());
    poison(&app.state.pool, &poisoned).await?;
    let (held, plug_id, plug) = hold_the_turn(&app, &token).await?;
    let given_up = inspection(&gone);
    // In this order in the queue, so that the given-up push's turn alone comes before the last
    // push is answered.
    let mut pushes = Vec::new();
    for (phone_idx, pushed) in [
        (1, inspection(&poisoned)),
        (2, given_up.clone()),
        (3, inspection(&kept)),
    ] {
        pushes.push(start_push(&app, &token, phone_idx, &[pushed])?);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let [poisoned_push, given_up_push, kept_push]: [_; 3] = pushes
        .try_into()
        .map_err(|_| anyhow::anyhow!("three pushes"))?;
    // The turn after the plug's is the test's again (turns go first come, first served): the writer
    // takes the three pushes together once the plug is written, then waits for it.
    let pool = app.state.pool.clone();
    let next_turn = tokio::spawn(async move { db::begin_write(&pool).await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let_the_plug_through(held, plug).await?;
    let held_again = next_turn.await??;
    // All three are in the group as it is formed (and it waits for the test's turn): the phone gives
    // up only then.
    let formed_by = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app.state.pushes.largest_group() < 3 {
        ensure!(
            std::time::Instant::now() < formed_by,
            "the three pushes were not taken together (largest group {})",
            app.state.pushes.largest_group()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    ensure!(
        app.state.pushes.largest_group() == 3,
        "a group held more than the three pushes"
    );
    given_up_push.abort();
    ensure!(
        given_up_push.await.is_err(),
        "the given-up push was answered"
    );
    held_again.commit().await?;

    let poisoned_answer = poisoned_push.await??;
    assert_eq!(poisoned_answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    check(
        &push_results(kept_push.await??)?[0],
        MutationStatus::Applied,
        None,
    );
    let ids = pulled_ids(&app, &token).await?;
    ensure!(ids.contains(&kept) && ids.contains(&plug_id), "{ids:?}");
    ensure!(!ids.contains(&poisoned), "the refused record was stored");
    ensure!(
        !ids.contains(&gone),
        "a push nobody waited for was written alone"
    );

    // The phone still holds it and sends it again: applied once, at rev 1.
    let again = start_push(&app, &token, 2, std::slice::from_ref(&given_up))?.await??;
    check(&push_results(again)?[0], MutationStatus::Applied, None);
    ensure!(
        app.pull_all(&token)
            .await?
            .iter()
            .filter(|(_, id, _, _)| *id == gone)
            .map(|(_, _, rev, _)| *rev)
            .eq([1]),
        "the record sent again is not there once at rev 1"
    );
    assert!(matches!(
        fieldcheck_server::audit::verify(&app.state.pool).await?,
        fieldcheck_server::audit::Verdict::Intact { .. }
    ));
    Ok(())
}

/// A push whose phone stops waiting while it is being written alone (after its group failed) is
/// stored without an answer: the phone still holds it, and when it sends it again (the same op) it is
/// answered `duplicate` with the rev it was stored at, never stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_given_up_while_written_alone_is_kept_once_and_its_resend_is_a_duplicate()
-> TestResult {
    let app = fixture().await?;
    let (token, inspection) = new_inspections(&app).await?;
    let (poisoned, late) = (new_id(), new_id());
    poison(&app.state.pool, &poisoned).await?;
    let (held, _, plug) = hold_the_turn(&app, &token).await?;
    let given_up = inspection(&late);
    let poisoned_push = start_push(&app, &token, 1, &[inspection(&poisoned)])?;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let given_up_push = start_push(&app, &token, 2, std::slice::from_ref(&given_up))?;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // Turns go first come, first served. The test asks for the turn after the plug's: once the plug
    // is written, the writer waits behind it with the two pushes together.
    let pool = app.state.pool.clone();
    let second_turn = tokio::spawn(async move { db::begin_write(&pool).await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let_the_plug_through(held, plug).await?;
    let held_again = second_turn.await??;
    let formed_by = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app.state.pushes.largest_group() < 2 {
        ensure!(
            std::time::Instant::now() < formed_by,
            "the two pushes were not taken together"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let pool = app.state.pool.clone();
    let third_turn = tokio::spawn(async move { db::begin_write(&pool).await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    // The group fails on the poisoned record; its push alone waits for the turn after the test's
    // third, and the test asks for the one after that, for the other push alone.
    held_again.commit().await?;
    let held_third = third_turn.await??;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let pool = app.state.pool.clone();
    let fourth_turn = tokio::spawn(async move { db::begin_write(&pool).await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    ensure!(
        !poisoned_push.is_finished() && !given_up_push.is_finished(),
        "a push was answered before its turn alone"
    );
    held_third.commit().await?;
    // The poisoned push fails alone; the writer comes to the other, whose phone still waits, and
    // that waits for the test's fourth turn: its phone gives up only now.
    assert_eq!(
        poisoned_push.await??.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let held_fourth = fourth_turn.await??;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    given_up_push.abort();
    ensure!(
        given_up_push.await.is_err(),
        "the given-up push was answered"
    );
    held_fourth.commit().await?;

    // Written with nobody to tell: stored once, at rev 1.
    let stored_once = |records: Vec<(Entity, String, u64, Value)>| {
        records
            .iter()
            .filter(|(_, id, _, _)| *id == late)
            .map(|(_, _, rev, _)| *rev)
            .eq([1])
    };
    let written_by = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !stored_once(app.pull_all(&token).await?) {
        ensure!(
            std::time::Instant::now() < written_by,
            "the push given up while written alone was not stored once at rev 1"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The phone sends it again: the same op, answered as the first time, nothing stored again.
    let again = start_push(&app, &token, 2, std::slice::from_ref(&given_up))?.await??;
    let result = &push_results(again)?[0];
    check(result, MutationStatus::Duplicate, None);
    assert_eq!(result.rev, Some(1));
    ensure!(
        stored_once(app.pull_all(&token).await?),
        "the record sent again is not there once at rev 1"
    );
    ensure!(
        !pulled_ids(&app, &token).await?.contains(&poisoned),
        "the refused record was stored"
    );
    assert!(matches!(
        fieldcheck_server::audit::verify(&app.state.pool).await?,
        fieldcheck_server::audit::Verdict::Intact { .. }
    ));
    Ok(())
}

/// In a group, a photo named by a record accepted earlier in it may be named by an officer of the
/// same unit after it, as it could be once that record was committed; another unit still may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_named_earlier_in_a_group_may_be_named_by_the_unit_after_it() -> TestResult {
    let app = fixture().await?;
    let (a, a2, b) = (
        app.login("insp_a").await?,
        app.login("insp_a2").await?,
        app.login("insp_b").await?,
    );
    let venue_a = app.venue(&a, &app.insp_a, VenueKind::InternetCafe).await?;
    let venue_b = app.venue(&b, &app.insp_b, VenueKind::InternetCafe).await?;
    let photo = app.upload(&a, &super::photos::jpeg("包间监控照片")).await?;
    let naming = |id: &str, venue: &str, author: &User| {
        let mut body = app.inspection_body(id, venue, author);
        body["photos"] = json!([photo]);
        mutation("inspection", id, 0, body)
    };

    // The writer waits for the turn with a first push; the three after it wait together, in the
    // order they are sent.
    let (held, _, plug) = hold_the_turn(&app, &a).await?;
    let first = start_push(&app, &a, 1, &[naming(&new_id(), &venue_a, &app.insp_a)])?;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let same_unit = start_push(&app, &a2, 2, &[naming(&new_id(), &venue_a, &app.insp_a2)])?;
    let other_unit = start_push(&app, &b, 3, &[naming(&new_id(), &venue_b, &app.insp_b)])?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let_the_plug_through(held, plug).await?;
    check(
        &push_results(first.await??)?[0],
        MutationStatus::Applied,
        None,
    );
    check(
        &push_results(same_unit.await??)?[0],
        MutationStatus::Applied,
        None,
    );
    check(
        &push_results(other_unit.await??)?[0],
        MutationStatus::Rejected,
        Some("photo_missing"),
    );
    ensure!(
        app.state.pushes.largest_group() >= 3,
        "the three pushes were not written together"
    );
    Ok(())
}
