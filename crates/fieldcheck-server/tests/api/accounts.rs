//! Accounts: the login throttle (atomic, per username and address, per address, overall), the cap on
//! password checks, disabled users, and JSON-only bodies.

use super::*;
use axum::extract::ConnectInfo;
use fieldcheck_server::auth::{
    MAX_CONCURRENT_HASHES, MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_PAIR,
};
use std::net::SocketAddr;

/// A login from a given client address, through the router.
async fn login_from(
    app: &App,
    address: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<Answer> {
    let mut request = Request::post("/api/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": username, "password": password}).to_string(),
        ))?;
    let address: SocketAddr = format!("{address}:40000").parse()?;
    request.extensions_mut().insert(ConnectInfo(address));
    read_answer(router(app.state.clone()).oneshot(request).await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_cannot_slip_past_the_limit() -> TestResult {
    let app = fixture().await?;
    let mut guesses = tokio::task::JoinSet::new();
    for guess in 0..12 {
        let state = app.state.clone();
        guesses.spawn(async move {
            let mut request = Request::post("/api/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"username": "insp_a", "password": format!("guess {guess}")}).to_string(),
                ))?;
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 1))));
            read_answer(router(state).oneshot(request).await?).await
        });
    }
    let mut statuses = Vec::new();
    while let Some(answer) = guesses.join_next().await {
        statuses.push(answer??.status);
    }
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (checked, refused),
        (MAX_FAILURES_PER_PAIR, 12 - MAX_FAILURES_PER_PAIR),
        "{statuses:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_guesser_cannot_lock_an_officer_out_from_elsewhere() -> TestResult {
    let app = fixture().await?;
    for _ in 0..MAX_FAILURES_PER_PAIR {
        login_from(&app, "10.0.0.66", "insp_a", "wrong")
            .await?
            .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    // The guesser is stopped, even with the right password…
    login_from(&app, "10.0.0.66", "insp_a", PASSWORD)
        .await?
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    // …while the officer on their own phone still logs in.
    let own_phone = login_from(&app, "10.0.0.7", "insp_a", PASSWORD).await?;
    assert_eq!(own_phone.status, StatusCode::OK, "{}", own_phone.body);
    Ok(())
}

#[tokio::test]
async fn password_spraying_from_one_address_is_slowed_down() -> TestResult {
    let app = fixture().await?;
    for guess in 0..MAX_FAILURES_PER_ADDRESS {
        login_from(&app, "10.0.0.99", &format!("user{guess}"), "123456")
            .await?
            .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    login_from(&app, "10.0.0.99", "insp_b", "123456")
        .await?
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert_eq!(
        login_from(&app, "10.0.0.5", "insp_b", PASSWORD)
            .await?
            .status,
        StatusCode::OK
    );
    Ok(())
}

#[tokio::test]
async fn a_disabled_user_loses_every_token_and_cannot_log_in() -> TestResult {
    let app = fixture().await?;
    let phone = app.login("insp_a").await?;
    let tablet = app.login("insp_a").await?;
    assert_eq!(
        app.get("/api/sync/pull", &phone).await?.status,
        StatusCode::OK
    );
    let disabled = db::disable_user(&app.state.pool, "insp_a").await?;
    assert_eq!(disabled, Some(app.insp_a.id.clone()));
    for token in [&phone, &tablet] {
        app.get("/api/sync/pull", token)
            .await?
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    app.post(
        "/api/auth/login",
        None,
        &json!({"username": "insp_a", "password": PASSWORD}),
    )
    .await?
    .assert_error(StatusCode::FORBIDDEN, "account_disabled");
    // A wrong password still looks like any wrong password.
    app.post(
        "/api/auth/login",
        None,
        &json!({"username": "insp_a", "password": "nope"}),
    )
    .await?
    .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    assert_eq!(db::disable_user(&app.state.pool, "nobody").await?, None);
    Ok(())
}

#[tokio::test]
async fn json_endpoints_refuse_bodies_not_declared_as_json() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let cases = [
        (
            "/api/auth/login",
            None,
            json!({"username": "insp_a", "password": PASSWORD}).to_string(),
        ),
        (
            "/api/sync/push",
            Some(&token),
            json!({"device_id": DEVICE, "mutations": []}).to_string(),
        ),
        (
            "/api/inspections/0192f3a4-5b6c-7d8e-9f00-000000000000/review",
            Some(&token),
            json!({"decision": "approve", "rev": 1}).to_string(),
        ),
    ];
    for (path, token, body) in cases {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
        ] {
            let mut request = Request::post(path);
            if let Some(token) = token {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            if let Some(content_type) = content_type {
                request = request.header(header::CONTENT_TYPE, content_type);
            }
            let answer = read_answer(
                router(app.state.clone())
                    .oneshot(request.body(Body::from(body.clone()))?)
                    .await?,
            )
            .await?;
            answer.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        }
        // With charset and upper case it is still JSON.
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "Application/JSON; charset=utf-8");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let answer = read_answer(
            router(app.state.clone())
                .oneshot(request.body(Body::from(body))?)
                .await?,
        )
        .await?;
        assert_ne!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_logins_waits_for_a_bounded_number_of_password_checks() -> TestResult {
    // No waiting at all: whatever finds the checks busy is answered 503 at once.
    let app = fixture_with(Settings {
        hash_wait: std::time::Duration::ZERO,
        ..Settings::default()
    })
    .await?;
    let mut logins = tokio::task::JoinSet::new();
    for attempt in 0..16u8 {
        let state = app.state.clone();
        logins.spawn(async move {
            let mut request = Request::post("/api/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"username": format!("nobody{attempt}"), "password": "x"}).to_string(),
                ))?;
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([10, 1, 0, attempt], 1))));
            read_answer(router(state).oneshot(request).await?).await
        });
    }
    let mut busy = 0;
    let mut checked = 0;
    while let Some(answer) = logins.join_next().await {
        let answer = answer??;
        match answer.status {
            StatusCode::SERVICE_UNAVAILABLE => {
                answer.assert_error(StatusCode::SERVICE_UNAVAILABLE, "busy");
                busy += 1;
            }
            StatusCode::UNAUTHORIZED => checked += 1,
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert_eq!(busy + checked, 16);
    assert!(
        busy > 0,
        "16 parallel hashes on {MAX_CONCURRENT_HASHES} permits: some must be refused"
    );
    Ok(())
}

#[tokio::test]
async fn officers_see_their_units_users_for_picking_a_partner_and_admins_all() -> TestResult {
    let app = fixture().await?;
    db::disable_user(&app.state.pool, "insp_a2").await?;
    let listed = |body: &Value| -> Vec<(String, bool)> {
        body["users"]
            .as_array()
            .map(|users| {
                users
                    .iter()
                    .map(|user| {
                        (
                            user["username"].as_str().unwrap_or_default().to_owned(),
                            user["active"].as_bool().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let inspector = app.login("insp_a").await?;
    let answer = app.get("/api/users", &inspector).await?;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let mut unit_a = listed(&answer.body);
    unit_a.sort();
    assert_eq!(
        unit_a,
        [
            ("admin".to_owned(), true),
            ("insp_a".to_owned(), true),
            ("insp_a2".to_owned(), false),
            ("partner_a".to_owned(), true),
            ("super_a".to_owned(), true)
        ]
    );
    assert!(
        answer.body["users"][0]["unit_name"]
            .as_str()
            .is_some_and(|name| name == UNIT_A)
    );
    let admin = app.login("admin").await?;
    assert_eq!(listed(&app.get("/api/users", &admin).await?.body).len(), 8);
    app.call("GET", "/api/users", None, None)
        .await?
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    Ok(())
}

#[tokio::test]
async fn the_checklist_templates_are_served_as_data() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let answer = app.get("/api/templates", &token).await?;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let templates = answer.body["templates"].as_array().context("templates")?;
    assert_eq!(templates.len(), VenueKind::ALL.len());
    let cafe = templates
        .iter()
        .find(|template| template["id"] == "internet_cafe@1")
        .context("the internet café checklist")?;
    assert_eq!(cafe["kind"], "internet_cafe");
    let items = cafe["items"].as_array().context("items")?;
    assert!(
        items
            .iter()
            .any(|item| item["code"] == "internet_cafe.no_minors")
    );
    assert!(items.iter().all(|item| {
        ["zh", "en", "basis", "basis_zh"]
            .iter()
            .all(|field| item[field].as_str().is_some_and(|text| !text.is_empty()))
    }));
    app.call("GET", "/api/templates", None, None)
        .await?
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    Ok(())
}

/// A login through a proxy at `proxy` that says the client is `forwarded`.
async fn login_via(
    app: &App,
    proxy: &str,
    forwarded: impl AsRef<[u8]>,
    password: &str,
) -> anyhow::Result<StatusCode> {
    let mut request = Request::post("/api/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(forwarded.as_ref())?,
        )
        .body(Body::from(
            json!({"username": "insp_a", "password": password}).to_string(),
        ))?;
    let address: SocketAddr = format!("{proxy}:40000").parse()?;
    request.extensions_mut().insert(ConnectInfo(address));
    Ok(router(app.state.clone()).oneshot(request).await?.status())
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_phone_is_throttled_by_its_own_address() -> TestResult {
    let balancer = "10.0.0.2";
    let app = fixture_with(Settings {
        trusted_proxies: vec![balancer.parse()?],
        ..Settings::default()
    })
    .await?;
    // A guesser behind the balancer, who also writes a made-up address first.
    for _ in 0..MAX_FAILURES_PER_PAIR {
        let status = login_via(&app, balancer, "1.2.3.4, 203.0.113.9", "wrong").await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_via(&app, balancer, "203.0.113.9", PASSWORD).await?,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The officer's phone, another address behind the same balancer, logs in.
    assert_eq!(
        login_via(&app, balancer, "198.51.100.7", PASSWORD).await?,
        StatusCode::OK
    );
    // An unreadable entry of the client's own does not hide the address the balancer appended.
    for _ in 0..MAX_FAILURES_PER_PAIR {
        let status = login_via(&app, balancer, b"\xff\xfe, 203.0.113.50", "wrong").await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_via(&app, balancer, "203.0.113.50", PASSWORD).await?,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client that is not a trusted proxy cannot pick its address by the header.
    for _ in 0..MAX_FAILURES_PER_PAIR {
        let status = login_via(&app, "192.0.2.50", "198.51.100.99", "wrong").await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_via(&app, "192.0.2.50", "198.51.100.100", PASSWORD).await?,
        StatusCode::TOO_MANY_REQUESTS
    );
    Ok(())
}
