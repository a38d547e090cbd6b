//! Photos and signatures: uploads named by their SHA-256 (idempotent, checked, limited), reads only by
//! the uploader and the units of the records naming them, records that name only uploaded photos,
//! and the collection of photos no record names.

use super::*;
use axum::body::Bytes;
use chrono::Utc;
use fieldcheck_server::photos;
use futures_util::StreamExt;
use object_store::ObjectStoreExt;

/// Bytes that begin like a JPEG (the server checks the signature, not the whole image), different for
/// every label.
pub(super) fn jpeg(label: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend_from_slice(label.as_bytes());
    bytes
}

/// A photo as the server answers it: status, headers and the raw bytes.
struct Download {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    bytes: Bytes,
}

impl Fixture {
    /// Pushes a new record by `author` (logged in as `token`) at a venue of their unit, naming
    /// `photo`, and checks it was applied.
    async fn push_record_naming(&self, token: &str, author: &User, photo: &str) -> TestResult {
        let venue_id = self.venue(token, author, VenueKind::InternetCafe).await?;
        let id = new_id();
        let mut body = self.inspection_body(&id, &venue_id, author);
        body["photos"] = json!([photo]);
        self.push_ok(token, mutation("inspection", &id, 0, body))
            .await?;
        Ok(())
    }
}

impl App {
    /// One run of the photo collector now, with this grace period.
    async fn collect(&self, grace: chrono::TimeDelta) -> anyhow::Result<photos::Collected> {
        Ok(photos::collect_garbage(
            &self.state.pool,
            self.state.photos.as_ref(),
            grace,
            Utc::now(),
        )
        .await?)
    }

    /// `PUT /api/photos/{name}` with raw bytes, declared as the phone's camera would declare them.
    async fn put_photo(
        &self,
        token: Option<&str>,
        name: &str,
        bytes: &[u8],
    ) -> anyhow::Result<Answer> {
        let mut request =
            Request::put(format!("/api/photos/{name}")).header(header::CONTENT_TYPE, "image/jpeg");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request.body(Body::from(bytes.to_vec()))?;
        read_answer(router(self.state.clone()).oneshot(request).await?).await
    }

    /// Uploads `bytes` under their own name, which must be answered 201 or 200; returns the name.
    pub(super) async fn upload(&self, token: &str, bytes: &[u8]) -> anyhow::Result<String> {
        let name = photo_name(bytes);
        let answer = self.put_photo(Some(token), &name, bytes).await?;
        ensure!(
            answer.status == StatusCode::CREATED || answer.status == StatusCode::OK,
            "upload failed: {} {}",
            answer.status,
            answer.body
        );
        Ok(name)
    }

    async fn get_photo(&self, token: Option<&str>, name: &str) -> anyhow::Result<Download> {
        let mut request = Request::get(format!("/api/photos/{name}"));
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = router(self.state.clone())
            .oneshot(request.body(Body::empty())?)
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        Ok(Download {
            status,
            headers,
            bytes,
        })
    }

    /// The names of the photos in the store, whatever its layout.
    async fn stored_objects(&self) -> anyhow::Result<HashSet<String>> {
        let mut names = HashSet::new();
        let mut listing = self.state.photos.list(None);
        while let Some(meta) = listing.next().await {
            if let Some(name) = meta?.location.filename() {
                names.insert(name.to_owned());
            }
        }
        Ok(names)
    }
}

impl Download {
    /// Asserts the 404 a missing photo gets, which is also what a photo out of sight gets.
    #[track_caller]
    fn assert_not_found(&self) {
        assert_eq!(self.status, StatusCode::NOT_FOUND);
        let body: Value = serde_json::from_slice(&self.bytes).unwrap_or_default();
        assert_eq!(body["error"]["code"], "not_found", "{body}");
    }
}

#[tokio::test]
async fn a_photo_is_stored_once_read_back_byte_for_byte_and_a_replay_answers_200() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let bytes = jpeg("消防通道照片");
    let name = photo_name(&bytes);

    let first = app.put_photo(Some(&token), &name, &bytes).await?;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body, json!({"sha256": name, "size": bytes.len()}));
    // The answer was lost and the phone sends it again: nothing new, the same answer.
    let replay = app.put_photo(Some(&token), &name, &bytes).await?;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert_eq!(replay.body, first.body);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos WHERE sha256 = $1")
        .bind(&name)
        .fetch_one(&app.state.pool)
        .await?;
    assert_eq!(rows, 1);

    let download = app.get_photo(Some(&token), &name).await?;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(&download.bytes[..], &bytes[..]);
    let header = |name| {
        download
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header(header::CONTENT_TYPE), "image/jpeg");
    // Not kept by the browser's cache: it would hand the bytes to the next user of the phone
    // without the server's check.
    assert_eq!(header(header::CACHE_CONTROL), "no-store");
    assert_eq!(header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(header(header::CONTENT_LENGTH), bytes.len().to_string());

    // The same bytes from someone else: already there (the fixture's officers uploaded them), and
    // whoever sends them may read them: they hold the bytes anyway. A PNG keeps its own type.
    let png = photo_name(PARTY_SIGNATURE_PNG);
    let answer = app
        .put_photo(Some(&token), &png, PARTY_SIGNATURE_PNG)
        .await?;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        app.get_photo(Some(&token), &png).await?.status,
        StatusCode::OK
    );
    let partner = app.login("partner_a").await?;
    let download = app.get_photo(Some(&partner), &png).await?;
    assert_eq!(&download.bytes[..], PARTY_SIGNATURE_PNG);
    assert_eq!(
        download.headers.get(header::CONTENT_TYPE),
        Some(&axum::http::HeaderValue::from_static("image/png"))
    );
    Ok(())
}

#[tokio::test]
async fn bytes_that_do_not_hash_to_the_name_or_are_no_image_are_refused_and_not_stored()
-> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let bytes = jpeg("原图");
    let other_name = photo_name(&jpeg("另一张"));
    let answer = app.put_photo(Some(&token), &other_name, &bytes).await?;
    answer.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch");
    assert!(
        answer.message().contains(&photo_name(&bytes)),
        "{}",
        answer.body
    );

    for not_an_image in [
        b"GIF89a\x01\x00\x01\x00".to_vec(),
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        Vec::new(),
        vec![0xFF, 0xD8],
    ] {
        let name = photo_name(&not_an_image);
        app.put_photo(Some(&token), &name, &not_an_image)
            .await?
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "not_an_image");
        app.get_photo(Some(&token), &name).await?.assert_not_found();
    }
    app.get_photo(Some(&token), &other_name)
        .await?
        .assert_not_found();
    let fixture_signatures = 2;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos")
        .fetch_one(&app.state.pool)
        .await?;
    assert_eq!(rows, fixture_signatures);
    assert_eq!(app.stored_objects().await?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn a_photo_over_the_configured_limit_is_refused_with_413_in_the_error_shape() -> TestResult {
    let app = fixture_with(Settings {
        photo_limit_bytes: 1024,
        ..Settings::default()
    })
    .await?;
    let token = app.login("insp_a").await?;
    let mut at_limit = jpeg("");
    at_limit.resize(1024, b'x');
    let mut over = at_limit.clone();
    over.push(b'y');

    let answer = app
        .put_photo(Some(&token), &photo_name(&over), &over)
        .await?;
    answer.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    assert!(answer.message().contains("1024"), "{}", answer.body);
    // Far over the limit: refused as well (the body is not read past the limit).
    let huge = [jpeg(""), vec![0; 3 * 1024 * 1024]].concat();
    app.put_photo(Some(&token), &photo_name(&huge), &huge)
        .await?
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    app.get_photo(Some(&token), &photo_name(&over))
        .await?
        .assert_not_found();

    let answer = app
        .put_photo(Some(&token), &photo_name(&at_limit), &at_limit)
        .await?;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    // The JSON limit stays on the JSON routes.
    let default_app = fixture().await?;
    let token = default_app.login("insp_a").await?;
    let big = [jpeg(""), vec![0; 17 * 1024 * 1024]].concat();
    let answer = default_app
        .put_photo(Some(&token), &photo_name(&big), &big)
        .await?;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "17 MiB is under the photo default of 20 MiB: {}",
        answer.body
    );
    Ok(())
}

#[tokio::test]
async fn names_that_are_not_lowercase_sha256_hex_are_refused_with_400() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let bytes = jpeg("名字");
    let name = photo_name(&bytes);
    let bad_names = [
        name.to_uppercase(),
        name[..63].to_owned(),
        format!("{name}0"),
        format!("{}g", &name[..63]),
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
        format!("..%2F{}", &name[..61]),
        "%00".to_owned(),
    ];
    for bad in &bad_names {
        app.put_photo(Some(&token), bad, &bytes)
            .await?
            .assert_error(StatusCode::BAD_REQUEST, "bad_photo_name");
        let download = app.get_photo(Some(&token), bad).await?;
        assert_eq!(download.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(app.stored_objects().await?.len(), 2, "only the fixture's");
    // Other methods on the route answer in the API's shape.
    app.call("POST", &format!("/api/photos/{name}"), Some(&token), None)
        .await?
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    Ok(())
}

#[tokio::test]
async fn photos_need_a_valid_token_of_an_active_account() -> TestResult {
    let app = fixture().await?;
    let bytes = jpeg("无令牌");
    let name = photo_name(&bytes);
    app.put_photo(None, &name, &bytes)
        .await?
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.put_photo(Some("0123456789abcdef"), &name, &bytes)
        .await?
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let colleague = app.login("insp_a2").await?;
    let uploaded = app.upload(&colleague, &bytes).await?;
    db::disable_user(&app.state.pool, "insp_a2").await?;
    app.put_photo(Some(&colleague), &name, &bytes)
        .await?
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    for token in [None, Some(colleague.as_str())] {
        let download = app.get_photo(token, &uploaded).await?;
        assert_eq!(download.status, StatusCode::UNAUTHORIZED);
    }
    Ok(())
}

#[tokio::test]
async fn a_photo_is_seen_by_its_uploader_and_by_the_units_of_the_records_naming_it() -> TestResult {
    let app = fixture().await?;
    let inspector = app.login("insp_a").await?;
    let supervisor_a = app.login("super_a").await?;
    let inspector_b = app.login("insp_b").await?;
    let supervisor_b = app.login("super_b").await?;
    let admin = app.login("admin").await?;
    let bytes = jpeg("未成年人上网照片");
    let name = app.upload(&inspector, &bytes).await?;

    // Before any record names it: only the uploader.
    assert_eq!(
        app.get_photo(Some(&inspector), &name).await?.status,
        StatusCode::OK
    );
    for token in [&supervisor_a, &inspector_b, &supervisor_b, &admin] {
        app.get_photo(Some(token), &name).await?.assert_not_found();
    }
    // Out of sight looks exactly like a photo that does not exist.
    let missing = app
        .get_photo(Some(&inspector_b), &photo_name(&jpeg("不存在")))
        .await?;
    missing.assert_not_found();

    // A record of unit A names it: unit A and admins see it, unit B still does not.
    let venue_id = app
        .venue(&inspector, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let id = new_id();
    let mut body = app.inspection_body(&id, &venue_id, &app.insp_a);
    body["answers"][1]["photos"] = json!([name]);
    app.push_ok(&inspector, mutation("inspection", &id, 0, body.clone()))
        .await?;
    for token in [&inspector, &supervisor_a, &admin] {
        let download = app.get_photo(Some(token), &name).await?;
        assert_eq!(download.status, StatusCode::OK);
        assert_eq!(&download.bytes[..], &bytes[..]);
    }
    for token in [&inspector_b, &supervisor_b] {
        app.get_photo(Some(token), &name).await?.assert_not_found();
    }
    // The signatures the record names are readable by the unit too (uploaded by partner_a).
    assert_eq!(
        app.get_photo(Some(&supervisor_a), &photo_name(PARTY_SIGNATURE_PNG))
            .await?
            .status,
        StatusCode::OK
    );

    // The next rev no longer names it: it stays evidence of rev 1 (still in the change log), so
    // the unit still reads it and it is never collected.
    body["answers"][1]["photos"] = json!([]);
    app.push_ok(&inspector, mutation("inspection", &id, 1, body))
        .await?;
    assert_eq!(
        app.get_photo(Some(&supervisor_a), &name).await?.status,
        StatusCode::OK,
        "a photo an earlier rev named stays readable to the unit"
    );
    app.get_photo(Some(&inspector_b), &name)
        .await?
        .assert_not_found();
    Ok(())
}

#[tokio::test]
async fn a_record_naming_a_photo_not_on_the_server_is_refused_photo_missing() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let venue_id = app
        .venue(&token, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let hazard_photo = jpeg("堵塞的安全出口");
    let name = photo_name(&hazard_photo);
    let id = new_id();
    let mut body = app.inspection_body(&id, &venue_id, &app.insp_a);
    body["hazards"][0]["photos"] = json!([name]);
    let draft = with(body.clone(), "/status", json!("draft"));
    let results = app
        .push(
            &token,
            &[
                mutation("inspection", &id, 0, body.clone()),
                mutation("inspection", &id, 0, draft),
            ],
        )
        .await?;
    for result in &results {
        check(result, MutationStatus::Rejected, Some("photo_missing"));
        let message = &result.error.as_ref().context("error")?.message;
        assert!(message.contains(&name), "{message}");
        assert!(
            !message.contains(&photo_name(PARTY_SIGNATURE_PNG)),
            "only the missing ones: {message}"
        );
    }
    let refs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photo_refs")
        .fetch_one(&app.state.pool)
        .await?;
    assert_eq!(refs, 0, "a refused record references nothing");

    // Uploaded first, as the phone does: the same record applies.
    app.upload(&token, &hazard_photo).await?;
    app.push_ok(&token, mutation("inspection", &id, 0, body))
        .await?;
    let mut refs: Vec<String> =
        sqlx::query_scalar("SELECT sha256 FROM photo_refs WHERE inspection_id = $1")
            .bind(&id)
            .fetch_all(&app.state.pool)
            .await?;
    refs.sort();
    let mut expected = vec![
        name,
        photo_name(OFFICER_SIGNATURE_PNG),
        photo_name(PARTY_SIGNATURE_PNG),
    ];
    expected.sort();
    assert_eq!(refs, expected);
    Ok(())
}

/// A photo uploaded again while the collector takes it: the upload found its row, then waited for
/// the turn to write while the collector removed row and object. Asked again under the lock, the
/// photo is stored afresh, never answered as stored with its row gone.
#[tokio::test]
async fn a_photo_uploaded_again_while_the_collector_takes_it_is_stored_afresh() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let bytes = jpeg("又传了一次");
    let name = app.upload(&token, &bytes).await?;
    // The collector's turn to write, held while the second upload reads the row and waits.
    let mut collector = db::begin_write(&app.state.pool).await?;
    let request = Request::put(format!("/api/photos/{name}"))
        .header(header::CONTENT_TYPE, "image/jpeg")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(bytes.clone()))?;
    let router = router(app.state.clone());
    let upload = tokio::spawn(async move { read_answer(router.oneshot(request).await?).await });
    // Time for the upload to read the row and reach its wait. Shorter, the test only proves less:
    // an upload that reads after the collector's commit finds no row either way.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let taken =
        db::delete_unreferenced_photos(&mut *collector, Utc::now() + chrono::TimeDelta::days(1))
            .await?;
    ensure!(taken.contains(&name), "the collector took {taken:?}");
    db::forget_uploaders(&mut *collector, &name).await?;
    let path = object_store::path::Path::from_iter([&name[..2], name.as_str()]);
    app.state.photos.delete(&path).await?;
    collector.commit().await?;

    let answer = upload.await??;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let download = app.get_photo(Some(&token), &name).await?;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.bytes, Bytes::from(bytes));
    Ok(())
}

/// A phone sends a stored photo again (its first upload long past) just before the record naming
/// it: the collector's grace period counts from that upload, so the record's push finds it.
#[tokio::test]
async fn a_photo_uploaded_again_gets_a_new_grace_period() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let bytes = jpeg("三天前传过");
    let name = app.upload(&token, &bytes).await?;
    let long_ago = Utc::now() - photos::DEFAULT_GRACE - chrono::TimeDelta::hours(1);
    sqlx::query("UPDATE photos SET uploaded_at = $2 WHERE sha256 = $1")
        .bind(&name)
        .bind(db::timestamp(long_ago))
        .execute(&app.state.pool)
        .await?;
    let answer = app.put_photo(Some(&token), &name, &bytes).await?;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

    let collected = app.collect(photos::DEFAULT_GRACE).await?;
    assert_eq!(collected, photos::Collected::default());
    app.push_record_naming(&token, &app.insp_a, &name).await?;
    Ok(())
}

#[tokio::test]
async fn photos_no_record_names_are_collected_after_the_grace_period_and_named_ones_kept()
-> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let named = app.upload(&token, &jpeg("记录里的照片")).await?;
    let unnamed = app.upload(&token, &jpeg("没用上的照片")).await?;
    let venue_id = app
        .venue(&token, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let id = new_id();
    let mut body = app.inspection_body(&id, &venue_id, &app.insp_a);
    body["photos"] = json!([named]);
    app.push_ok(&token, mutation("inspection", &id, 0, body))
        .await?;
    // An object whose upload died before its row, and a file that is none of the collector's business.
    let orphan = photo_name(&jpeg("半途而废"));
    let orphan_path = object_store::path::Path::from_iter([&orphan[..2], orphan.as_str()]);
    app.state
        .photos
        .put(&orphan_path, jpeg("半途而废").into())
        .await?;
    let readme = object_store::path::Path::from("README.txt");
    app.state
        .photos
        .put(&readme, b"notes".to_vec().into())
        .await?;

    // Within the grace period nothing goes.
    let collected = app.collect(photos::DEFAULT_GRACE).await?;
    assert_eq!(collected, photos::Collected::default());
    assert_eq!(app.stored_objects().await?.len(), 6);

    let collected = app.collect(chrono::TimeDelta::zero()).await?;
    assert_eq!(collected.photos, std::slice::from_ref(&unnamed));
    assert_eq!(collected.orphans, std::slice::from_ref(&orphan));
    let left = app.stored_objects().await?;
    let expected: HashSet<String> = [
        named.clone(),
        photo_name(OFFICER_SIGNATURE_PNG),
        photo_name(PARTY_SIGNATURE_PNG),
        "README.txt".to_owned(),
    ]
    .into();
    assert_eq!(left, expected, "the unnamed photo's object is gone too");
    app.get_photo(Some(&token), &unnamed)
        .await?
        .assert_not_found();
    let download = app.get_photo(Some(&token), &named).await?;
    assert_eq!(download.status, StatusCode::OK);

    // A record can no longer name the collected photo; uploading it again brings it back.
    let again = new_id();
    let mut body = app.inspection_body(&again, &venue_id, &app.insp_a);
    body["photos"] = json!([unnamed]);
    check(
        &app.push(&token, &[mutation("inspection", &again, 0, body.clone())])
            .await?[0],
        MutationStatus::Rejected,
        Some("photo_missing"),
    );
    let answer = app
        .put_photo(Some(&token), &unnamed, &jpeg("没用上的照片"))
        .await?;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    app.push_ok(&token, mutation("inspection", &again, 0, body))
        .await?;
    Ok(())
}

#[tokio::test]
async fn knowing_a_photos_name_does_not_let_another_unit_name_it_or_read_it() -> TestResult {
    let app = fixture().await?;
    let inspector_a = app.login("insp_a").await?;
    let inspector_b = app.login("insp_b").await?;
    let bytes = jpeg("A单位的现场照片");
    let name = app.upload(&inspector_a, &bytes).await?;
    // Unit A's record names it (its hash is printed on the record given to the party).
    app.push_record_naming(&inspector_a, &app.insp_a, &name)
        .await?;

    // Unit B names the same hash in a draft of its own: answered as if the photo were not there.
    let venue_b = app
        .venue(&inspector_b, &app.insp_b, VenueKind::InternetCafe)
        .await?;
    let record_b = new_id();
    let draft = json!({
        "id": record_b, "venue_id": venue_b, "kind": "routine", "template": "internet_cafe@1",
        "started_at": "2026-11-26T10:00:00+08:00", "inspectors": [app.insp_b.id],
        "photos": [name], "status": "draft"
    });
    let results = app
        .push(&inspector_b, &[mutation("inspection", &record_b, 0, draft)])
        .await?;
    check(&results[0], MutationStatus::Rejected, Some("photo_missing"));
    app.get_photo(Some(&inspector_b), &name)
        .await?
        .assert_not_found();
    Ok(())
}
