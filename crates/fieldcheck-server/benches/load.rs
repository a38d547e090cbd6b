//! Many phones at once, measured, never asserted: N devices log in, then each, round after round,
//! uploads a photo, pushes a batch of inspections naming it and pulls what changed — first each phone
//! about every ten seconds at a moment of its own (phones that sync as they work), then all at once
//! and back to back (a burst: how fast the server drains it) — against one or more server
//! instances over one database (SQLite, or PostgreSQL when `FIELDCHECK_BENCH_POSTGRES` names a
//! server) and one photo store (a folder, or the bucket `FIELDCHECK_BENCH_S3` names). Prints `FIGURE`
//! lines; `cargo xtask bench --load` runs it on both engines.

mod common;

use anyhow::{Context, bail};
use common::{SIGNATURE_PNG, complete_inspection, device_id, figure, percentile, push_to};
use fieldcheck_core::sync::{LoginResponse, MutationStatus, PullResponse};
use fieldcheck_core::{Role, photo_name};
use fieldcheck_server::users::{self, NewUser};
use fieldcheck_server::{AppState, Settings, db, photos};
use rand::Rng;
use serde_json::{Value, json};
use sqlx::{Connection, Executor};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Rounds each device runs in the burst, and inspections per push (what a phone sends after a few
/// visits).
const ROUNDS: usize = 3;
/// How often each phone syncs in the paced run, and how many times. A phone syncs when an officer
/// saves a record, minutes apart; every ten seconds with five records and a photo each time, 200
/// phones send in a minute more than a province's 5 000 officers record in a week (BENCHMARKS.md).
const PERIOD: Duration = Duration::from_secs(10);
const PACED_ROUNDS: usize = 5;
const BATCH: usize = 5;
/// A phone photo after the app's downscaling (1600 px JPEG at quality 0.8).
const PHOTO_BYTES: usize = 150 * 1024;
/// Officers per unit: a district brigade.
const OFFICERS_PER_UNIT: usize = 20;
const PASSWORD: &str = "load-test-password";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let postgres = env("FIELDCHECK_BENCH_POSTGRES");
    let bucket = env("FIELDCHECK_BENCH_S3");
    let devices: Vec<usize> = env("FIELDCHECK_BENCH_DEVICES")
        .unwrap_or_else(|| "50,200".to_owned())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .context("FIELDCHECK_BENCH_DEVICES: numbers")
        })
        .collect::<anyhow::Result<_>>()?;
    let instances: usize = match env("FIELDCHECK_BENCH_INSTANCES") {
        Some(n) => n.parse().context("FIELDCHECK_BENCH_INSTANCES: a number")?,
        None if postgres.is_some() => 2,
        None => 1,
    };
    let setup = format!(
        "{}, photos in {}, {instances} instance{}",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        if bucket.is_some() {
            "an S3 bucket"
        } else {
            "a folder"
        },
        if instances == 1 { "" } else { "s" }
    );
    for n in devices {
        let run = Run::prepare(n, instances, postgres.as_deref(), bucket.as_deref()).await?;
        run.measure(&setup).await?;
    }
    Ok(())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// One measurement: a fresh database with the devices' officers, and the instances serving it.
struct Run {
    devices: usize,
    bases: Vec<String>,
    officers: Vec<(String, usize)>,
    _dir: tempfile::TempDir,
}

impl Run {
    async fn prepare(
        devices: usize,
        instances: usize,
        postgres: Option<&str>,
        bucket: Option<&str>,
    ) -> anyhow::Result<Run> {
        let dir = tempfile::tempdir()?;
        let url = match postgres {
            Some(server) => {
                let name = format!("fc_load_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await?;
                conn.close().await?;
                Some(format!("{server}/{name}"))
            }
            None => None,
        };
        let config = db::connect_options(dir.path(), url.as_deref())?;
        let pool = db::open(config.clone()).await?;
        // Every device is one officer; units of OFFICERS_PER_UNIT, each officer's partner beside them.
        let mut officers = Vec::new();
        for device in 0..devices {
            let unit = device / OFFICERS_PER_UNIT;
            let username = format!("officer{device:04}");
            users::add_user(
                &pool,
                NewUser {
                    username: username.clone(),
                    password: PASSWORD.to_owned(),
                    role: Role::Inspector,
                    unit_name: format!("第{unit}执法大队"),
                    name: None,
                    cert_no: None,
                },
            )
            .await?;
            officers.push((username, unit));
        }
        pool.close().await;
        let prefix = format!("load-{}", uuid::Uuid::new_v4().simple());
        let store: photos::PhotoStore = match bucket {
            Some(bucket) => photos::open_store(dir.path(), Some(&format!("{bucket}/{prefix}")))?,
            None => photos::local_store(dir.path())?,
        };
        let mut bases = Vec::new();
        for _ in 0..instances {
            // Each instance its own pool, as separate processes behind a load balancer would have.
            let state = AppState::new(
                db::open(config.clone()).await?,
                Arc::clone(&store),
                Settings::default(),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            bases.push(format!("http://{}", listener.local_addr()?));
            tokio::spawn(fieldcheck_server::serve(
                listener,
                state,
                std::future::pending(),
            ));
        }
        Ok(Run {
            devices,
            bases,
            officers,
            _dir: dir,
        })
    }

    async fn measure(&self, setup: &str) -> anyhow::Result<()> {
        // Each phone from an address of its own (all of 127/8 is loopback), as phones on mobile
        // networks are: the login throttle counts per address.
        let clients = (0..self.devices)
            .map(|device| {
                let [_, _, high, low] = u32::try_from(device + 2)?.to_be_bytes();
                Ok(reqwest::Client::builder()
                    .local_address(std::net::IpAddr::from([127, 1, high, low]))
                    .build()?)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        // Everyone logs in at once (the morning), as the app does: a 503 "busy" is tried again.
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (device, (username, _)) in self.officers.iter().enumerate() {
            let base = self.bases[device % self.bases.len()].clone();
            let (client, username) = (clients[device].clone(), username.clone());
            tasks.push(tokio::spawn(async move {
                let started = Instant::now();
                let login = login(&client, &base, &username).await;
                (started.elapsed(), login)
            }));
        }
        let mut logins = Vec::new();
        let mut login_latencies = Vec::new();
        for task in tasks {
            let (latency, login) = task.await?;
            login_latencies.push(latency);
            logins.push(login?);
        }
        let logged_in = started.elapsed();
        login_latencies.sort();
        figure(
            &format!("load, {setup}: {} devices log in at once", self.devices),
            format!(
                "{:.1} s for all, p50 {} ms, p99 {} ms (Argon2id, {} at a time per instance)",
                logged_in.as_secs_f64(),
                percentile(&login_latencies, 50).as_millis(),
                percentile(&login_latencies, 99).as_millis(),
                fieldcheck_server::auth::MAX_CONCURRENT_HASHES
            ),
        );

        // Then every device works: photo, push, pull, PACED_ROUNDS times at its own pace; then
        // ROUNDS times all at once. The paced run goes first, on a quiet server: after the burst
        // the database and the photo store are still writing it out (checkpoints, file syncs), which
        // is the burst's cost, not the steady latency the paced run measures.
        // Each phone keeps its pull cursor from one run to the next, as the app does.
        let logins = Arc::new(logins);
        let mut cursors = vec![String::new(); self.devices];
        self.work(setup, &clients, &logins, &mut cursors, Pace::Every(PERIOD))
            .await?;
        self.work(setup, &clients, &logins, &mut cursors, Pace::Burst)
            .await
    }

    /// Every device's rounds at `pace`, measured.
    async fn work(
        &self,
        setup: &str,
        clients: &[reqwest::Client],
        logins: &Arc<Vec<LoginResponse>>,
        cursors: &mut [String],
        pace: Pace,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (device, client) in clients.iter().enumerate() {
            let base = self.bases[device % self.bases.len()].clone();
            let client = client.clone();
            let logins = Arc::clone(logins);
            let cursor = std::mem::take(&mut cursors[device]);
            let unit = self.officers[device].1;
            // The partner: the next officer of the same unit.
            let partner = (0..self.devices)
                .map(|step| (device + 1 + step) % self.devices)
                .find(|other| self.officers[*other].1 == unit && *other != device)
                .unwrap_or(device);
            tasks.push(tokio::spawn(async move {
                device_work(&client, &base, device, &logins, partner, cursor, pace).await
            }));
        }
        let mut stats = Stats::default();
        for (device, task) in tasks.into_iter().enumerate() {
            let (seen, cursor) = task.await?;
            stats.add(seen);
            cursors[device] = cursor;
        }
        let elapsed = started.elapsed();
        stats.sort();
        #[allow(clippy::cast_precision_loss)] // thousands
        let per_second = stats.mutations as f64 / elapsed.as_secs_f64();
        let how = match pace {
            Pace::Burst => format!("{} devices × {ROUNDS} rounds at once", self.devices),
            Pace::Every(period) => format!(
                "{} devices × {PACED_ROUNDS} rounds, each about every {} s",
                self.devices,
                period.as_secs()
            ),
        };
        figure(
            &format!(
                "load, {setup}: {how}, a round a photo ({} KB) + push of {BATCH} + pull",
                PHOTO_BYTES / 1024
            ),
            format!(
                "{per_second:.0} mutations/s ({} applied in {:.1} s); push p50 {} ms p99 {} ms; \
                 photo p50 {} ms p99 {} ms; pull p50 {} ms p99 {} ms; {} errors",
                stats.mutations,
                elapsed.as_secs_f64(),
                percentile(&stats.push, 50).as_millis(),
                percentile(&stats.push, 99).as_millis(),
                percentile(&stats.photo, 50).as_millis(),
                percentile(&stats.photo, 99).as_millis(),
                percentile(&stats.pull, 50).as_millis(),
                percentile(&stats.pull, 99).as_millis(),
                stats.errors.len()
            ),
        );
        if let Some(first) = stats.errors.first() {
            println!("first error: {first}");
        }
        Ok(())
    }
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    username: &str,
) -> anyhow::Result<LoginResponse> {
    for _ in 0..50 {
        let response = client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        if !response.status().is_success() {
            bail!("login as {username} answered {}", response.status());
        }
        return Ok(response.json().await?);
    }
    bail!("login as {username}: the server stayed busy")
}

/// What one device saw.
#[derive(Default)]
struct Stats {
    mutations: usize,
    push: Vec<Duration>,
    photo: Vec<Duration>,
    pull: Vec<Duration>,
    errors: Vec<String>,
}

impl Stats {
    fn add(&mut self, other: Stats) {
        self.mutations += other.mutations;
        self.push.extend(other.push);
        self.photo.extend(other.photo);
        self.pull.extend(other.pull);
        self.errors.extend(other.errors);
    }

    fn sort(&mut self) {
        self.push.sort();
        self.photo.sort();
        self.pull.sort();
    }
}

/// How the devices' rounds are spaced.
#[derive(Clone, Copy)]
enum Pace {
    /// All at once and back to back: the worst case, which measures how fast a burst drains.
    Burst,
    /// Each device first at a random moment within the period, then each round between half and one
    /// and a half periods after the one before, at random: phones syncing as their officers work.
    Every(Duration),
}

impl Pace {
    fn rounds(self) -> usize {
        match self {
            Pace::Burst => ROUNDS,
            Pace::Every(_) => PACED_ROUNDS,
        }
    }

    fn first_photo(self) -> usize {
        match self {
            Pace::Every(_) => 0,
            Pace::Burst => PACED_ROUNDS,
        }
    }

    /// How long after the previous round's start (or the run's, for the first) a round starts.
    fn wait(self, first: bool) -> Duration {
        match self {
            Pace::Burst => Duration::ZERO,
            Pace::Every(period) if first => period.mul_f64(rand::thread_rng().gen_range(0.0..1.0)),
            Pace::Every(period) => period.mul_f64(rand::thread_rng().gen_range(0.5..1.5)),
        }
    }
}

/// One device's day: its venue first, then rounds of photo, push and pull at `pace`, pulling from
/// `cursor` on. Returns what it saw and its cursor after.
async fn device_work(
    client: &reqwest::Client,
    base: &str,
    device: usize,
    logins: &[LoginResponse],
    partner: usize,
    mut cursor: String,
    pace: Pace,
) -> (Stats, String) {
    let mut stats = Stats::default();
    let me = &logins[device];
    let officers = [me.user.id.0.as_str(), logins[partner].user.id.0.as_str()];
    let device_id = device_id(device + 1);
    let venue_id = uuid::Uuid::now_v7().to_string();
    let mut pending = vec![venue(&venue_id, &me.user.unit_id.0)];
    let mut round_started = tokio::time::Instant::now();
    for round in 0..pace.rounds() {
        round_started += pace.wait(round == 0);
        tokio::time::sleep_until(round_started).await;
        // The second run's photos are new ones, not the first's again.
        let photo = photo_bytes(device, pace.first_photo() + round);
        let name = photo_name(&photo);
        let started = Instant::now();
        let uploaded = client
            .put(format!("{base}/api/photos/{name}"))
            .bearer_auth(&me.token)
            .header("content-type", "image/jpeg")
            .body(photo)
            .send()
            .await;
        stats.photo.push(started.elapsed());
        match uploaded {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => stats.errors.push(format!("photo: {}", response.status())),
            Err(error) => stats.errors.push(format!("photo: {error}")),
        }
        // The officers' signatures, uploaded once by each device (an upload makes a photo the
        // uploader's to name).
        if round == 0 {
            let signed = client
                .put(format!("{base}/api/photos/{}", photo_name(SIGNATURE_PNG)))
                .bearer_auth(&me.token)
                .header("content-type", "image/png")
                .body(SIGNATURE_PNG)
                .send()
                .await;
            if !signed.is_ok_and(|response| response.status().is_success()) {
                stats.errors.push("signature upload failed".to_owned());
            }
        }
        pending.extend(
            (0..BATCH)
                .map(|_| complete_inspection(&venue_id, &officers, std::slice::from_ref(&name))),
        );
        let started = Instant::now();
        let pushed = push_to(client, base, &me.token, &device_id, &pending).await;
        stats.push.push(started.elapsed());
        match pushed {
            Ok(answer) => {
                let applied = answer
                    .results
                    .iter()
                    .filter(|result| result.status == MutationStatus::Applied)
                    .count();
                stats.mutations += applied;
                if applied != pending.len() {
                    stats.errors.push(format!("push: {:?}", answer.results));
                }
            }
            Err(error) => stats.errors.push(format!("push: {error}")),
        }
        pending.clear();
        let started = Instant::now();
        match pull(client, base, &me.token, &cursor).await {
            Ok(next) => cursor = next,
            Err(error) => stats.errors.push(format!("pull: {error}")),
        }
        stats.pull.push(started.elapsed());
    }
    (stats, cursor)
}

/// Pulls every page after `since`; returns the new cursor.
async fn pull(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    since: &str,
) -> anyhow::Result<String> {
    let mut cursor = since.to_owned();
    loop {
        let response = client
            .get(format!("{base}/api/sync/pull?since={cursor}&limit=500"))
            .bearer_auth(token)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("pull answered {}", response.status());
        }
        let page: PullResponse = response.json().await?;
        cursor = page.cursor;
        if !page.has_more {
            return Ok(cursor);
        }
    }
}

/// A photo of its own for each device and round: JPEG markers around bytes that differ.
fn photo_bytes(device: usize, round: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    let seed = format!("device {device} round {round} ");
    bytes.extend(seed.bytes().cycle().take(PHOTO_BYTES - 6));
    bytes.extend([0xFF, 0xD9]);
    bytes
}

fn venue(id: &str, unit_id: &str) -> Value {
    json!({"op_id": uuid::Uuid::now_v7().to_string(), "entity": "venue", "id": id, "base_rev": 0, "body": {
        "id": id, "kind": "internet_cafe", "name": "星空网吧", "licence_no": "41030210023",
        "address": "洛阳市老城区中州东路218号", "location": {"lat": 34.68, "lon": 112.47},
        "contact_name": "刘建军", "contact_phone": "13903791234", "unit_id": unit_id, "active": true
    }})
}
