//! The server guards the record: edit rules, op ids bound to their mutation, reviews on the rev seen,
//! tombstones for records that leave a unit, checked device ids.

use super::*;

/// A submitted inspection by insp_a and partner_a (and `also`) at a fresh venue of unit A.
async fn submitted_record(
    app: &Fixture,
    token: &str,
    also: &[&User],
) -> anyhow::Result<(String, String, Value)> {
    let venue_id = app
        .venue(token, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let id = new_id();
    let mut officers = vec![&app.insp_a, &app.partner_a];
    officers.extend(also);
    let body = complete_inspection(&id, &venue_id, &officers);
    app.push_ok(token, mutation("inspection", &id, 0, body.clone()))
        .await?;
    Ok((id, venue_id, body))
}

#[tokio::test]
async fn only_the_author_and_named_officers_edit_and_the_record_keeps_its_identity() -> TestResult {
    let app = fixture().await?;
    let author = app.login("insp_a").await?;
    let (id, _, body) = submitted_record(&app, &author, &[]).await?;
    let another_cafe = app
        .venue(&author, &app.insp_a, VenueKind::InternetCafe)
        .await?;

    // A colleague of the same unit who is not named on it cannot rewrite it.
    let colleague = app.login("insp_a2").await?;
    let rewrite = with(body.clone(), "/notes", json!("同事改写"));
    let results = app
        .push(&colleague, &[mutation("inspection", &id, 1, rewrite)])
        .await?;
    check(&results[0], MutationStatus::Rejected, Some("not_yours"));
    // Nor can a supervisor push over it.
    let supervisor = app.login("super_a").await?;
    let results = app
        .push(
            &supervisor,
            &[mutation(
                "inspection",
                &id,
                1,
                with(body.clone(), "/notes", json!("x")),
            )],
        )
        .await?;
    check(&results[0], MutationStatus::Rejected, Some("not_yours"));

    // The author cannot send it back to draft or change what the record is about.
    let cases = [
        ("/status", json!("draft"), "status_regression"),
        (
            "/started_at",
            json!("2026-11-26T09:00:00+08:00"),
            "immutable_field",
        ),
        ("/venue_id", json!(another_cafe), "immutable_field"),
        ("/template", json!("internet_cafe@9"), "invalid"),
        (
            "/finished_at",
            json!("2026-11-26T18:00:00+08:00"),
            "immutable_field",
        ),
        (
            "/inspectors",
            json!([app.insp_a.id, app.insp_a2.id]),
            "immutable_field",
        ),
        ("/inspectors", json!([app.insp_a2.id]), "immutable_field"),
    ];
    for (pointer, value, code) in cases {
        let edit = with(body.clone(), pointer, value);
        let results = app
            .push(&author, &[mutation("inspection", &id, 1, edit)])
            .await?;
        check(&results[0], MutationStatus::Rejected, Some(code));
    }
    // Everything refused left the record as it was: rev 1, the author's notes.
    let pulled = app.pull_all(&author).await?;
    let record = pulled.iter().find(|r| r.1 == id).context("pulled")?;
    assert_eq!((record.2, &record.3["notes"]), (1, &json!("")));
    // An ordinary edit by the author still applies.
    app.push_ok(
        &author,
        mutation("inspection", &id, 1, with(body, "/notes", json!("补充"))),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_record_names_only_active_officers_of_its_unit_and_always_its_author() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let venue_id = app.venue(&token, &app.insp_a, VenueKind::Hotel).await?;
    let id = new_id();
    // A draft: what is checked here holds for every record, complete or not.
    let body = |inspectors: Value| {
        let draft = with(
            app.inspection_body(&id, &venue_id, &app.insp_a),
            "/status",
            json!("draft"),
        );
        with(
            with(
                with(draft, "/inspectors", inspectors),
                "/template",
                json!("hotel@1"),
            ),
            "/answers",
            json!([]),
        )
    };
    // An officer of another unit, and nobody but a colleague.
    for (inspectors, code) in [
        (json!([app.insp_a.id, app.insp_b.id]), "unknown_inspector"),
        (json!([app.insp_a2.id]), "author_not_named"),
    ] {
        let results = app
            .push(&token, &[mutation("inspection", &id, 0, body(inspectors))])
            .await?;
        check(&results[0], MutationStatus::Rejected, Some(code));
    }
    // A disabled officer can no longer be named.
    db::disable_user(&app.state.pool, "insp_a2").await?;
    let results = app
        .push(
            &token,
            &[mutation(
                "inspection",
                &id,
                0,
                body(json!([app.insp_a.id, app.insp_a2.id])),
            )],
        )
        .await?;
    check(
        &results[0],
        MutationStatus::Rejected,
        Some("unknown_inspector"),
    );
    app.push_ok(
        &token,
        mutation("inspection", &id, 0, body(json!([app.insp_a.id]))),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_op_id_belongs_to_one_mutation_of_one_user() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let first = new_id();
    let create = mutation(
        "venue",
        &first,
        0,
        venue_body(&first, &app.insp_a, VenueKind::Arcade),
    );
    app.push_ok(&token, create.clone()).await?;
    // The same op id on another record: refused, not "duplicate" with the other record's rev.
    let other = new_id();
    let mut reused = mutation(
        "venue",
        &other,
        0,
        venue_body(&other, &app.insp_a, VenueKind::Arcade),
    );
    reused["op_id"] = create["op_id"].clone();
    check(
        &app.push(&token, &[reused]).await?[0],
        MutationStatus::Rejected,
        Some("op_id_reused"),
    );
    // The same op id and record with other content: refused too.
    let mut changed = create.clone();
    changed["body"]["name"] = json!("改过的名字");
    check(
        &app.push(&token, &[changed]).await?[0],
        MutationStatus::Rejected,
        Some("op_id_reused"),
    );
    // The very same mutation again is a duplicate with its rev.
    let replay = &app.push(&token, std::slice::from_ref(&create)).await?[0];
    assert_eq!(
        (replay.status, replay.rev),
        (MutationStatus::Duplicate, Some(1))
    );
    // Another user's op id is never looked at: for them it is a new op, so nothing can be probed.
    let colleague = app.login("insp_a2").await?;
    let theirs = new_id();
    let mut same_op = mutation(
        "venue",
        &theirs,
        0,
        venue_body(&theirs, &app.insp_a2, VenueKind::Arcade),
    );
    same_op["op_id"] = create["op_id"].clone();
    check(
        &app.push(&colleague, &[same_op]).await?[0],
        MutationStatus::Applied,
        None,
    );
    Ok(())
}

#[tokio::test]
async fn one_batch_applies_each_op_once_and_a_refusal_in_it_rolls_back_alone() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let (kept, refused) = (new_id(), new_id());
    let create = mutation(
        "venue",
        &kept,
        0,
        venue_body(&kept, &app.insp_a, VenueKind::Arcade),
    );
    // Refused by the rules after the first mutation was applied in the same transaction.
    let mut nameless = venue_body(&refused, &app.insp_a, VenueKind::Arcade);
    nameless["name"] = json!("");
    let results = app
        .push(
            &token,
            &[
                create.clone(),
                mutation("venue", &refused, 0, nameless),
                create.clone(),
            ],
        )
        .await?;
    check(&results[0], MutationStatus::Applied, None);
    check(&results[1], MutationStatus::Rejected, Some("invalid"));
    // The same op again later in the batch sees the first one applied.
    assert_eq!(
        (results[2].status, results[2].rev),
        (MutationStatus::Duplicate, Some(1))
    );
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT id FROM records WHERE entity = 'venue' AND id IN ($1, $2)")
            .bind(&kept)
            .bind(&refused)
            .fetch_all(&app.state.pool)
            .await?;
    assert_eq!(
        stored,
        vec![kept.clone()],
        "only the applied venue is stored"
    );
    let audited: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM audit WHERE id IN ($1, $2) ORDER BY seq")
            .bind(&kept)
            .bind(&refused)
            .fetch_all(&app.state.pool)
            .await?;
    assert_eq!(
        audited,
        vec!["applied", "rejected"],
        "each attempt leaves its audit row"
    );
    // A base_rev no server ever handed out is refused on its own; the batch still applies.
    let (huge, after) = (new_id(), new_id());
    let results = app
        .push(
            &token,
            &[
                mutation(
                    "venue",
                    &huge,
                    u64::MAX,
                    venue_body(&huge, &app.insp_a, VenueKind::Arcade),
                ),
                mutation(
                    "venue",
                    &after,
                    0,
                    venue_body(&after, &app.insp_a, VenueKind::Arcade),
                ),
            ],
        )
        .await?;
    check(&results[0], MutationStatus::Rejected, Some("invalid"));
    check(&results[1], MutationStatus::Applied, None);
    Ok(())
}

#[tokio::test]
async fn a_push_names_its_device_with_a_uuid() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    for device_id in [
        json!("phone"),
        json!(""),
        json!("x".repeat(65)),
        json!(format!("{DEVICE}{}", "0".repeat(40))),
    ] {
        app.post(
            "/api/sync/push",
            Some(&token),
            &json!({"device_id": device_id, "mutations": []}),
        )
        .await?
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    }
    Ok(())
}

#[tokio::test]
async fn a_review_needs_the_rev_seen_and_nobody_reviews_their_own_record() -> TestResult {
    let app = fixture().await?;
    let author = app.login("insp_a").await?;
    let (id, _, body) = submitted_record(&app, &author, &[]).await?;
    let supervisor = app.login("super_a").await?;
    let path = format!("/api/inspections/{id}/review");

    // The record changed after the supervisor read rev 1.
    app.push_ok(
        &author,
        mutation("inspection", &id, 1, with(body, "/notes", json!("补充"))),
    )
    .await?;
    let stale = app
        .post(
            &path,
            Some(&supervisor),
            &json!({"decision": "approve", "rev": 1}),
        )
        .await?;
    stale.assert_error(StatusCode::CONFLICT, "stale");
    let approved = app
        .post(
            &path,
            Some(&supervisor),
            &json!({"decision": "approve", "rev": 2, "comment": "  可以  "}),
        )
        .await?;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    // The history is on the record, and reaches the author's phone on the next pull.
    let pulled = app.pull_all(&author).await?;
    let record = pulled.iter().find(|r| r.1 == id).context("pulled")?;
    let reviews = record.3["reviews"].as_array().context("reviews")?;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["decision"], "approve");
    assert_eq!(reviews[0]["rev"], 2);
    assert_eq!(reviews[0]["comment"], "可以");
    assert_eq!(record.3["created_by"], json!(app.insp_a.id));
    assert_eq!(record.3["unit_id"], json!(app.insp_a.unit_id));

    // A supervisor named on a record cannot approve it.
    let supervisor_token = supervisor.clone();
    let super_user = serde_json::from_value::<User>(
        app.post(
            "/api/auth/login",
            None,
            &json!({"username": "super_a", "password": PASSWORD}),
        )
        .await?
        .body["user"]
            .clone(),
    )?;
    let venue_id = app
        .venue(&supervisor_token, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let own = new_id();
    let own_body = complete_inspection(&own, &venue_id, &[&super_user, &app.partner_a]);
    app.push_ok(&supervisor_token, mutation("inspection", &own, 0, own_body))
        .await?;
    app.post(
        &format!("/api/inspections/{own}/review"),
        Some(&supervisor_token),
        &json!({"decision": "approve", "rev": 1}),
    )
    .await?
    .assert_error(StatusCode::FORBIDDEN, "own_record");
    // An over-long comment is refused with a message.
    app.post(
        &format!("/api/inspections/{own}/review"),
        Some(&app.login("admin").await?),
        &json!({"decision": "return", "rev": 1, "comment": "长".repeat(2001)}),
    )
    .await?
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    Ok(())
}

#[tokio::test]
async fn a_venue_moved_to_another_unit_reaches_the_old_unit_as_a_tombstone() -> TestResult {
    let app = fixture().await?;
    let inspector_a = app.login("insp_a").await?;
    let venue_id = app
        .venue(&inspector_a, &app.insp_a, VenueKind::ScriptGame)
        .await?;
    let first = app.pull(&inspector_a, "", 100).await?;
    assert!(first.changes.iter().any(|c| c.id == venue_id && !c.deleted));

    // An admin files the venue under unit B.
    let admin = app.login("admin").await?;
    app.push_ok(
        &admin,
        mutation(
            "venue",
            &venue_id,
            1,
            venue_body(&venue_id, &app.insp_b, VenueKind::ScriptGame),
        ),
    )
    .await?;
    let page = app.pull(&inspector_a, &first.cursor, 100).await?;
    let tombstone = page
        .changes
        .iter()
        .find(|c| c.id == venue_id)
        .context("a tombstone")?;
    assert!(tombstone.deleted && tombstone.body.is_null() && tombstone.rev == 2);
    let inspector_b = app.login("insp_b").await?;
    let seen_by_b = app.pull_all(&inspector_b).await?;
    assert!(seen_by_b.iter().any(|r| r.1 == venue_id && r.2 == 2));
    // Unit A's phones can no longer change it.
    let results = app
        .push(
            &inspector_a,
            &[mutation(
                "venue",
                &venue_id,
                2,
                venue_body(&venue_id, &app.insp_a, VenueKind::ScriptGame),
            )],
        )
        .await?;
    check(&results[0], MutationStatus::Rejected, Some("forbidden"));

    // Back to unit A: the record replaces the tombstone for A's phones.
    app.push_ok(
        &admin,
        mutation(
            "venue",
            &venue_id,
            2,
            venue_body(&venue_id, &app.insp_a, VenueKind::ScriptGame),
        ),
    )
    .await?;
    let again = app.pull(&inspector_a, &page.cursor, 100).await?;
    let back = again
        .changes
        .iter()
        .find(|c| c.id == venue_id)
        .context("back")?;
    assert!(!back.deleted && back.rev == 3);
    let from_start = app.pull(&inspector_a, "", 100).await?;
    assert_eq!(
        from_start
            .changes
            .iter()
            .filter(|c| c.id == venue_id)
            .count(),
        1,
        "a phone starting afresh sees the record once, no tombstone"
    );
    Ok(())
}

#[tokio::test]
async fn a_damaged_server_copy_refuses_its_own_mutation_and_not_the_whole_push() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let (id, _, body) = submitted_record(&app, &token, &[]).await?;
    damage_current_copy(&app.state.pool, &id, r#"{"not": "an inspection"}"#).await?;
    // Another whose stored body is not even JSON: the row itself does not read back.
    let (torn, _, torn_body) = submitted_record(&app, &token, &[]).await?;
    damage_current_copy(&app.state.pool, &torn, r#"{"id": "cut off"#).await?;
    let other = new_id();
    let results = app
        .push(
            &token,
            &[
                mutation("inspection", &id, 1, with(body, "/notes", json!("x"))),
                mutation(
                    "inspection",
                    &torn,
                    1,
                    with(torn_body, "/notes", json!("x")),
                ),
                mutation(
                    "venue",
                    &other,
                    0,
                    venue_body(&other, &app.insp_a, VenueKind::Arcade),
                ),
            ],
        )
        .await?;
    check(
        &results[0],
        MutationStatus::Rejected,
        Some("server_copy_unreadable"),
    );
    assert!(
        !results[0]
            .error
            .as_ref()
            .is_some_and(|e| e.message.contains("expected")),
        "no parser text"
    );
    check(
        &results[1],
        MutationStatus::Rejected,
        Some("server_copy_unreadable"),
    );
    check(&results[2], MutationStatus::Applied, None);
    Ok(())
}

#[tokio::test]
async fn a_submitted_record_must_be_complete_and_a_draft_may_be_partial() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let venue_id = app
        .venue(&token, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let officer_signature = photo_name(OFFICER_SIGNATURE_PNG);
    /// Takes one thing out of a complete record (the officers' signature name at hand).
    type MakeGap = fn(&mut Value, &str);
    // Each a complete record with one thing missing, and what the refusal says about it.
    let gaps: [(&str, MakeGap, &str); 6] = [
        (
            "one officer",
            |body, signature| {
                body["inspectors"] = json!([body["inspectors"][0]]);
                body["officer_signatures"] =
                    json!([{"officer": body["inspectors"][0], "signature": signature}]);
            },
            "two officers",
        ),
        (
            "an officer who has not signed",
            |body, _| body["officer_signatures"] = json!([body["officer_signatures"][0]]),
            "has not signed",
        ),
        (
            "an unanswered item",
            |body, _| {
                if let Some(answers) = body["answers"].as_array_mut() {
                    answers.pop();
                }
            },
            "is not answered",
        ),
        (
            "a failed item without its hazard",
            |body, _| body["hazards"] = json!([]),
            "describe the hazard",
        ),
        (
            "certificates not shown",
            |body, _| body["answers"][0]["result"] = json!("na"),
            "certificates",
        ),
        (
            "the party neither signed nor refused",
            |body, _| body["party"]["signature"] = Value::Null,
            "the party signs",
        ),
    ];
    for (gap, make_gap, says) in gaps {
        let id = new_id();
        let mut body = app.inspection_body(&id, &venue_id, &app.insp_a);
        make_gap(&mut body, &officer_signature);
        let result = &app
            .push(&token, &[mutation("inspection", &id, 0, body.clone())])
            .await?[0];
        check(result, MutationStatus::Rejected, Some("incomplete"));
        let message = &result.error.as_ref().context("error")?.message;
        assert!(message.contains(says), "{gap}: {message}");

        // The same record as a draft is kept: the officers finish it later.
        let draft = with(body, "/status", json!("draft"));
        assert_eq!(
            app.push_ok(&token, mutation("inspection", &id, 0, draft.clone()))
                .await?,
            1,
            "{gap}"
        );
        // Submitted as it is, it is still refused; completed, it applies.
        let submitted = with(draft, "/status", json!("submitted"));
        check(
            &app.push(&token, &[mutation("inspection", &id, 1, submitted)])
                .await?[0],
            MutationStatus::Rejected,
            Some("incomplete"),
        );
        let complete = app.inspection_body(&id, &venue_id, &app.insp_a);
        assert_eq!(
            app.push_ok(&token, mutation("inspection", &id, 1, complete))
                .await?,
            2,
            "{gap}"
        );
    }
    // Who may not edit a record hears that, not what their version lacks.
    let (id, _, body) = submitted_record(&app, &token, &[]).await?;
    let colleague = app.login("insp_a2").await?;
    let result = &app
        .push(
            &colleague,
            &[mutation(
                "inspection",
                &id,
                1,
                with(body, "/hazards", json!([])),
            )],
        )
        .await?[0];
    check(result, MutationStatus::Rejected, Some("not_yours"));
    Ok(())
}

#[tokio::test]
async fn an_id_with_a_control_character_is_refused_alone() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let good = new_id();
    let bad_id = format!("{}\u{0}", new_id());
    let body = |id: &str| venue_body(id, &app.insp_a, VenueKind::Hotel);
    let mut bad_op = mutation("venue", &good, 0, body(&good));
    bad_op["op_id"] = json!(format!("op\u{0}{}", new_id()));
    let results = app
        .push(
            &token,
            &[
                mutation("venue", &bad_id, 0, body(&bad_id)),
                bad_op,
                mutation("venue", &good, 0, body(&good)),
            ],
        )
        .await?;
    let statuses: Vec<_> = results
        .iter()
        .map(|result| {
            (
                result.status,
                result.error.as_ref().map(|error| error.code.clone()),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (MutationStatus::Rejected, Some("invalid".to_owned())),
            (MutationStatus::Rejected, Some("invalid".to_owned())),
            (MutationStatus::Applied, None),
        ]
    );

    // An administrator files venues in any unit, so a venue's unit id reaches the database as well.
    let admin = app.login("admin").await?;
    let (odd, later) = (new_id(), new_id());
    let mut in_odd_unit = body(&odd);
    in_odd_unit["unit_id"] = json!("unit\u{0}a");
    let results = app
        .push(
            &admin,
            &[
                mutation("venue", &odd, 0, in_odd_unit),
                mutation("venue", &later, 0, body(&later)),
            ],
        )
        .await?;
    check(&results[0], MutationStatus::Rejected, Some("invalid"));
    check(&results[1], MutationStatus::Applied, None);
    Ok(())
}

#[tokio::test]
async fn an_inspection_is_checked_against_its_venue_as_changed_earlier_in_the_same_push()
-> TestResult {
    let app = fixture().await?;
    // The team leader, who may change a venue's kind and pushes records too.
    let token = app.login("super_b").await?;
    let venue_id = new_id();
    app.push_ok(
        &token,
        mutation(
            "venue",
            &venue_id,
            0,
            venue_body(&venue_id, &app.super_b, VenueKind::InternetCafe),
        ),
    )
    .await?;
    // An internet café's record, then the venue found to be a song-and-dance hall, then another café record:
    // the second is judged against what the push made of the venue, not the café the first was judged on.
    let (before, after) = (new_id(), new_id());
    let results = app
        .push(
            &token,
            &[
                mutation(
                    "inspection",
                    &before,
                    0,
                    app.inspection_body(&before, &venue_id, &app.super_b),
                ),
                mutation(
                    "venue",
                    &venue_id,
                    1,
                    venue_body(&venue_id, &app.super_b, VenueKind::SongDance),
                ),
                mutation(
                    "inspection",
                    &after,
                    0,
                    app.inspection_body(&after, &venue_id, &app.super_b),
                ),
            ],
        )
        .await?;
    check(&results[0], MutationStatus::Applied, None);
    check(&results[1], MutationStatus::Applied, None);
    check(&results[2], MutationStatus::Rejected, Some("invalid"));
    let message = &results[2].error.as_ref().context("no error")?.message;
    assert!(
        message.contains("does not fit a venue of kind song_dance"),
        "message: {message}"
    );
    Ok(())
}
