//! Server throughput, measured, never asserted: pushes of complete inspections to a real server on
//! loopback, against a bare SQLite file with the server's own settings on the same disk in the same
//! run, and many phones pushing at once. Prints `FIGURE` lines (`cargo xtask bench` runs it).

use anyhow::{Context, bail};
use fieldcheck_core::sync::{LoginResponse, PullResponse, PushResponse};
use fieldcheck_core::{Template, photo_name};
use fieldcheck_server::{AppState, Settings, db, demo, photos};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Inspections in the sequential run, and how many go in one push (what a phone sends).
const RECORDS: usize = 1_000;
const BATCH: usize = 50;
/// Single-row transactions on the bare SQLite file.
const BARE_TRANSACTIONS: usize = 2_000;
/// Phones pushing at the same moment, each one batch of this many inspections.
const DEVICES: usize = 200;
const DEVICE_BATCH: usize = 5;

/// A 1×1 PNG: the signatures every complete record carries.
const SIGNATURE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0xe5, 0x27, 0xde, 0xfc, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

fn figure(what: &str, value: String) {
    println!("FIGURE {what}: {value}");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let bare = bare_sqlite(&dir.path().join("bare")).await?;
    figure(
        &format!(
            "bare SQLite on this disk, {BARE_TRANSACTIONS} single-row transactions (WAL, synchronous FULL)"
        ),
        format!("{bare:.0} transactions/s"),
    );

    let server = Running::start(dir.path()).await?;
    let client = reqwest::Client::new();
    let officers = ["zhangwei", "liqiang", "chenjing"];
    let mut logins = Vec::new();
    for username in officers {
        logins.push(server.login(&client, username).await?);
    }
    let venues = server.venues(&client, &logins[0].token).await?;
    if venues.is_empty() {
        bail!("the demo data has no venues");
    }
    server
        .upload(&client, &logins[0].token, SIGNATURE_PNG)
        .await?;
    let author = &logins[0];
    let partner = &logins[1];

    // One phone sends 1 000 records in batches of 50, one batch after another.
    let records: Vec<Value> = (0..RECORDS)
        .map(|n| {
            complete_inspection(
                &venues[n % venues.len()],
                &[&author.user.id.0, &partner.user.id.0],
            )
        })
        .collect();
    let started = Instant::now();
    for batch in records.chunks(BATCH) {
        let answer = server
            .push(&client, &author.token, &device_id(0), batch)
            .await?;
        if answer
            .results
            .iter()
            .any(|result| result.status != fieldcheck_core::sync::MutationStatus::Applied)
        {
            bail!("a mutation was not applied: {:?}", answer.results);
        }
    }
    let elapsed = started.elapsed();
    #[allow(clippy::cast_precision_loss)] // a thousand records
    let per_second = RECORDS as f64 / elapsed.as_secs_f64();
    figure(
        &format!("server: {RECORDS} complete inspections pushed in batches of {BATCH}"),
        format!(
            "{per_second:.0} mutations/s ({:.2} s; {:.2} × bare SQLite)",
            elapsed.as_secs_f64(),
            per_second / bare
        ),
    );

    // 200 phones push at once, one batch each.
    let mut tasks = Vec::new();
    for device in 0..DEVICES {
        let client = client.clone();
        let login = &logins[device % logins.len()];
        let partner = &logins[(device + 1) % logins.len()];
        let batch: Vec<Value> = (0..DEVICE_BATCH)
            .map(|n| {
                complete_inspection(
                    &venues[(device + n) % venues.len()],
                    &[&login.user.id.0, &partner.user.id.0],
                )
            })
            .collect();
        let token = login.token.clone();
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let answer = push_to(&client, &base, &token, &device_id(device + 1), &batch).await;
            (
                started.elapsed(),
                answer.is_ok_and(|answer| answer.results.len() == DEVICE_BATCH),
            )
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (latency, ok) = task.await?;
        latencies.push(latency);
        if !ok {
            errors += 1;
        }
    }
    latencies.sort();
    figure(
        &format!("server: {DEVICES} phones pushing {DEVICE_BATCH} inspections each at once"),
        format!(
            "p50 {} ms, p99 {} ms, max {} ms, {errors} errors",
            percentile(&latencies, 50).as_millis(),
            percentile(&latencies, 99).as_millis(),
            latencies.last().copied().unwrap_or_default().as_millis()
        ),
    );
    Ok(())
}

fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * percent)
        .div_ceil(100)
        .clamp(1, sorted.len());
    sorted[rank - 1]
}

fn device_id(n: usize) -> String {
    format!("0192f3a4-5b6c-7d8e-9f00-{n:012}")
}

/// Single-row write transactions per second on a file with the server's settings.
async fn bare_sqlite(dir: &std::path::Path) -> anyhow::Result<f64> {
    std::fs::create_dir_all(dir)?;
    let pool = db::open(db::connect_options(dir, None)?).await?;
    sqlx::query("CREATE TABLE bare (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    let body = "x".repeat(2_000);
    let started = Instant::now();
    for n in 0..BARE_TRANSACTIONS {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("INSERT INTO bare (id, body) VALUES ($1, $2)")
            .bind(n.to_string())
            .bind(&body)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let elapsed = started.elapsed();
    pool.close().await;
    #[allow(clippy::cast_precision_loss)] // thousands
    Ok(BARE_TRANSACTIONS as f64 / elapsed.as_secs_f64())
}

/// A complete submitted internet-café inspection, as a phone pushes it.
fn complete_inspection(venue_id: &str, officers: &[&str]) -> Value {
    let id = uuid::Uuid::now_v7().to_string();
    let items = Template::by_id("internet_cafe@1").map_or_else(Vec::new, |template| template.items);
    let answers: Vec<Value> = items
        .iter()
        .map(|item| json!({"item": item.code, "result": "pass"}))
        .collect();
    let signature = photo_name(SIGNATURE_PNG);
    let body = json!({
        "id": id, "venue_id": venue_id, "kind": "routine", "template": "internet_cafe@1",
        "started_at": "2026-11-26T10:00:00+08:00", "finished_at": "2026-11-26T10:40:00+08:00",
        "inspectors": officers,
        "answers": answers,
        "party": {"name": "刘建军", "title": "负责人", "signature": signature, "refused": false},
        "officer_signatures": officers.iter().map(|officer| json!({"officer": officer, "signature": signature})).collect::<Vec<_>>(),
        "notes": "经营场所证照齐全，未发现未成年人。", "status": "submitted"
    });
    json!({"op_id": uuid::Uuid::now_v7().to_string(), "entity": "inspection", "id": id, "base_rev": 0, "body": body})
}

async fn push_to(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    device: &str,
    mutations: &[Value],
) -> anyhow::Result<PushResponse> {
    let response = client
        .post(format!("{base}/api/sync/push"))
        .bearer_auth(token)
        .json(&json!({"device_id": device, "mutations": mutations}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!(
            "push answered {}: {}",
            response.status(),
            response.text().await?
        );
    }
    Ok(response.json().await?)
}

/// The server on loopback with the demo data, as `serve --demo` runs it.
struct Running {
    base: String,
}

impl Running {
    async fn start(data: &std::path::Path) -> anyhow::Result<Running> {
        let pool = db::open(db::connect_options(data, None)?).await?;
        demo::seed(&pool)
            .await?
            .context("a fresh database gets demo data")?;
        let state = AppState::new(pool, photos::local_store(data)?, Settings::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(fieldcheck_server::serve(
            listener,
            state,
            std::future::pending(),
        ));
        Ok(Running { base })
    }

    async fn login(
        &self,
        client: &reqwest::Client,
        username: &str,
    ) -> anyhow::Result<LoginResponse> {
        let response = client
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"username": username, "password": demo::DEMO_PASSWORD}))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("login as {username} answered {}", response.status());
        }
        Ok(response.json().await?)
    }

    /// The internet cafés of the caller's unit.
    async fn venues(&self, client: &reqwest::Client, token: &str) -> anyhow::Result<Vec<String>> {
        let page: PullResponse = client
            .get(format!("{}/api/sync/pull?limit=1000", self.base))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        Ok(page
            .changes
            .into_iter()
            // The records are internet-café checks: only those venues fit their checklist.
            .filter(|change| {
                change.entity == fieldcheck_core::sync::Entity::Venue
                    && change.body["kind"] == "internet_cafe"
            })
            .map(|change| change.id)
            .collect())
    }

    async fn upload(
        &self,
        client: &reqwest::Client,
        token: &str,
        png: &[u8],
    ) -> anyhow::Result<()> {
        let response = client
            .put(format!("{}/api/photos/{}", self.base, photo_name(png)))
            .bearer_auth(token)
            .header("content-type", "image/png")
            .body(png.to_vec())
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("uploading the signature answered {}", response.status());
        }
        Ok(())
    }

    async fn push(
        &self,
        client: &reqwest::Client,
        token: &str,
        device: &str,
        mutations: &[Value],
    ) -> anyhow::Result<PushResponse> {
        push_to(client, &self.base, token, device, mutations).await
    }
}
