//! Two server instances over one database and one photo store, as behind a load balancer: whatever
//! one instance stored, the other serves, and the login throttle counts failures on both together.

use super::*;

async fn login_status(
    client: &reqwest::Client,
    base_url: &str,
    password: &str,
) -> anyhow::Result<reqwest::StatusCode> {
    Ok(client
        .post(format!("{base_url}/api/auth/login"))
        .json(&json!({"username": "insp_a", "password": password}))
        .send()
        .await?
        .status())
}

#[tokio::test]
async fn two_instances_serve_what_the_other_stored_and_share_the_login_throttle() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (inspector, partner) = {
        let pool = open_pool(dir.path()).await?;
        let inspector = add(&pool, "insp_a", Role::Inspector, UNIT_A).await?;
        let partner = add(&pool, "partner_a", Role::Inspector, UNIT_A).await?;
        db::close(&pool).await;
        (inspector, partner)
    };
    let one = start_server(dir.path()).await?;
    let two = start_server(dir.path()).await?;
    let client = reqwest::Client::new();

    // A token handed out by one instance works on the other.
    let login = http_login(&client, &one.base_url, "insp_a").await?;
    // Photos uploaded through one, the record naming them pushed through the other.
    for png in [OFFICER_SIGNATURE_PNG, PARTY_SIGNATURE_PNG] {
        let uploaded = client
            .put(format!("{}/api/photos/{}", one.base_url, photo_name(png)))
            .bearer_auth(&login.token)
            .header(header::CONTENT_TYPE.as_str(), "image/png")
            .body(png)
            .send()
            .await?;
        assert_eq!(uploaded.status(), reqwest::StatusCode::CREATED);
    }
    let venue_id = new_id();
    let inspection_id = new_id();
    let push_body = json!({"device_id": DEVICE, "mutations": [
        mutation("venue", &venue_id, 0, venue_body(&venue_id, &inspector, VenueKind::InternetCafe)),
        mutation("inspection", &inspection_id, 0, complete_inspection(&inspection_id, &venue_id, &[&inspector, &partner])),
    ]});
    let statuses = |answer: PushResponse| -> Vec<MutationStatus> {
        answer.results.iter().map(|result| result.status).collect()
    };
    let pushed = http_push(&client, &two.base_url, &login.token, &push_body).await?;
    assert_eq!(statuses(pushed), [MutationStatus::Applied; 2]);
    // The replay reaches the first instance: it knows the ops the second applied.
    let replayed = http_push(&client, &one.base_url, &login.token, &push_body).await?;
    assert_eq!(statuses(replayed), [MutationStatus::Duplicate; 2]);
    let pulled_one = http_pull_all(&client, &one.base_url, &login.token).await?;
    let pulled_two = http_pull_all(&client, &two.base_url, &login.token).await?;
    assert_eq!(pulled_one, pulled_two);
    assert_eq!(
        pulled_one,
        [(venue_id.clone(), 1), (inspection_id.clone(), 1)]
    );
    let photo = client
        .get(format!(
            "{}/api/photos/{}",
            two.base_url,
            photo_name(OFFICER_SIGNATURE_PNG)
        ))
        .bearer_auth(&login.token)
        .send()
        .await?;
    assert_eq!(photo.status(), reqwest::StatusCode::OK);
    assert_eq!(photo.bytes().await?.as_ref(), OFFICER_SIGNATURE_PNG);

    // Failures counted on either instance add up: the sixth guess is refused wherever it lands.
    for attempt in 0..fieldcheck_server::auth::MAX_FAILURES_PER_PAIR {
        let server = if attempt % 2 == 0 { &one } else { &two };
        assert_eq!(
            login_status(&client, &server.base_url, "wrong password").await?,
            reqwest::StatusCode::UNAUTHORIZED
        );
    }
    for server in [&one, &two] {
        assert_eq!(
            login_status(&client, &server.base_url, PASSWORD).await?,
            reqwest::StatusCode::TOO_MANY_REQUESTS
        );
    }
    // A restart of both forgets nothing.
    one.stop().await?;
    two.stop().await?;
    let again = start_server(dir.path()).await?;
    assert_eq!(
        login_status(&client, &again.base_url, PASSWORD).await?,
        reqwest::StatusCode::TOO_MANY_REQUESTS
    );
    again.stop().await?;
    Ok(())
}

/// Reads from `stream` until `done` says the answer is whole.
async fn read_until(
    stream: &mut tokio::net::TcpStream,
    done: impl Fn(&str) -> bool,
) -> anyhow::Result<String> {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buffer = [0_u8; 4096];
    while !done(&String::from_utf8_lossy(&seen)) {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        seen.extend_from_slice(&buffer[..read]);
    }
    Ok(String::from_utf8_lossy(&seen).into_owned())
}

#[tokio::test]
async fn a_push_under_way_when_the_server_stops_is_answered_and_kept() -> TestResult {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir()?;
    let inspector = {
        let pool = open_pool(dir.path()).await?;
        let inspector = add(&pool, "insp_a", Role::Inspector, UNIT_A).await?;
        db::close(&pool).await;
        inspector
    };
    let RunningServer {
        base_url,
        pool,
        stop,
        task,
    } = start_server(dir.path()).await?;
    let login = http_login(&reqwest::Client::new(), &base_url, "insp_a").await?;
    let venue_id = new_id();
    let body = json!({"device_id": DEVICE, "mutations": [
        mutation("venue", &venue_id, 0, venue_body(&venue_id, &inspector, VenueKind::Hotel)),
    ]})
    .to_string();

    let mut stream = tokio::net::TcpStream::connect(base_url.trim_start_matches("http://")).await?;
    // A first answer on this connection shows the server has taken it up.
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nhost: fieldcheck\r\n\r\n")
        .await?;
    let health = read_until(&mut stream, |seen| seen.contains("\"status\":\"ok\"")).await?;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // The push's head and half its body (a phone on a slow link), then the stop, then the rest.
    let (first_half, second_half) = body.split_at(body.len() / 2);
    stream
        .write_all(
            format!(
                "POST /api/sync/push HTTP/1.1\r\nhost: fieldcheck\r\nauthorization: Bearer {}\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\n\r\n{first_half}",
                login.token,
                body.len()
            )
            .as_bytes(),
        )
        .await?;
    // Long enough for the server to read the head: the stop must find the request under way.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = stop.send(());
    stream.write_all(second_half.as_bytes()).await?;
    let answer = read_until(&mut stream, |seen| seen.contains("]}")).await?;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"applied\""), "{answer}");
    task.await??;
    db::close(&pool).await;

    // What was answered is kept.
    let pool = open_pool(dir.path()).await?;
    let stored = db::get_record(&pool, fieldcheck_core::sync::Entity::Venue, &venue_id).await?;
    assert_eq!(stored.map(|record| record.rev), Some(1));
    db::close(&pool).await;
    Ok(())
}
