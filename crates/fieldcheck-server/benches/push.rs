//! Server throughput, measured, never asserted: pushes of complete inspections to a real server on
//! loopback, against a bare SQLite file with the server's own settings on the same disk in the same
//! run, and many phones pushing at once. Prints `FIGURE` lines (`cargo xtask bench` runs it).

use anyhow::{Context, bail};
mod common;

use common::{SIGNATURE_PNG, complete_inspection, device_id, figure, percentile, push_to};
use fieldcheck_core::photo_name;
use fieldcheck_core::sync::{LoginResponse, PullResponse, PushResponse};
use fieldcheck_server::{AppState, Settings, db, demo, photos};
use serde_json::{Value, json};
use std::time::Instant;

/// Inspections in the sequential run, and how many go in one push (what a phone sends).
const RECORDS: usize = 1_000;
const BATCH: usize = 50;
/// Single-row transactions on the bare SQLite file.
const BARE_TRANSACTIONS: usize = 2_000;
/// Phones pushing at the same moment, each one batch of this many inspections.
const DEVICES: usize = 200;
const DEVICE_BATCH: usize = 5;
/// How many times they do, one burst after the other.
const BURSTS: usize = 3;
/// Inspections on the server when the year's figures are timed, and how many times they are asked.
const STATS_RECORDS: usize = 10_000;
const STATS_RUNS: usize = 5;

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

    // The author's `n`-th record, at the demo's venues in turn.
    let record = |n: usize| {
        complete_inspection(
            &venues[n % venues.len()],
            &[&author.user.id.0, &partner.user.id.0],
            &[],
        )
    };

    // One phone sends 1 000 records in batches of 50, one batch after another.
    let records: Vec<Value> = (0..RECORDS).map(record).collect();
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

    // 200 phones push at once, one batch each; three such bursts, one after the other, so that one
    // caught by something else on the machine does not make the figure.
    let mut bursts = Vec::new();
    let mut errors = 0;
    for _ in 0..BURSTS {
        let (latencies, failed) = burst(&server, &client, &logins, &venues).await?;
        errors += failed;
        bursts.push(latencies);
    }
    // Each burst's percentile, then the median burst's.
    let median = |percent: usize| -> u128 {
        let mut each: Vec<u128> = bursts
            .iter()
            .map(|latencies| percentile(latencies, percent).as_millis())
            .collect();
        each.sort_unstable();
        each[each.len() / 2]
    };
    let p99s: Vec<String> = bursts
        .iter()
        .map(|latencies| percentile(latencies, 99).as_millis().to_string())
        .collect();
    figure(
        &format!("server: {DEVICES} phones pushing {DEVICE_BATCH} inspections each at once"),
        format!(
            "p50 {} ms, p99 {} ms, max {} ms, {errors} errors (the median of {BURSTS} bursts; their p99 {} ms)",
            median(50),
            median(99),
            median(100),
            p99s.join(", ")
        ),
    );

    // The supervisor's figures for the year over a unit's 10 000 records, as 统计 asks for them.
    let pushed = RECORDS + BURSTS * DEVICES * DEVICE_BATCH;
    let more: Vec<Value> = (pushed..STATS_RECORDS).map(record).collect();
    for batch in more.chunks(BATCH) {
        server
            .push(&client, &author.token, &device_id(0), batch)
            .await?;
    }
    let supervisor = server.login(&client, "wangfang").await?;
    let mut took = Vec::new();
    for _ in 0..STATS_RUNS {
        let started = Instant::now();
        let response = client
            .get(format!(
                "{}/api/stats?from=2026-01-01&to=2026-12-31",
                server.base
            ))
            .bearer_auth(&supervisor.token)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("stats answered {}", response.status());
        }
        let stats: Value = response.json().await?;
        took.push(started.elapsed());
        if stats["visits"]
            .as_u64()
            .is_none_or(|visits| visits < STATS_RECORDS as u64)
        {
            bail!("stats counted fewer than the {STATS_RECORDS} records pushed: {stats}");
        }
    }
    took.sort();
    figure(
        &format!(
            "server: the unit's figures for the year over {STATS_RECORDS} records (GET /api/stats, median of {STATS_RUNS})"
        ),
        format!(
            "{} ms ({} – {} ms)",
            percentile(&took, 50).as_millis(),
            took.first().copied().unwrap_or_default().as_millis(),
            took.last().copied().unwrap_or_default().as_millis()
        ),
    );
    Ok(())
}

/// [`DEVICES`] phones pushing [`DEVICE_BATCH`] new inspections each, all at once: each push's time
/// to its answer, sorted, and how many failed.
async fn burst(
    server: &Running,
    client: &reqwest::Client,
    logins: &[LoginResponse],
    venues: &[String],
) -> anyhow::Result<(Vec<std::time::Duration>, usize)> {
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
                    &[],
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
    Ok((latencies, errors))
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
    db::close(&pool).await;
    #[allow(clippy::cast_precision_loss)] // thousands
    Ok(BARE_TRANSACTIONS as f64 / elapsed.as_secs_f64())
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
