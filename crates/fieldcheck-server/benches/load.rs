//! Many phones at once, measured, never asserted: N devices log in, then each, round after round,
//! uploads a photo, pushes a batch of inspections naming it and pulls what changed — first each phone
//! about every ten seconds at a moment of its own (phones that sync as they work), then once with a
//! backlog at a random moment within the app's online spread (a fleet regaining signal together),
//! then all at once and back to back (a burst: how fast the server drains it) — against one or more
//! server instances over one database (SQLite, or PostgreSQL when `FIELDCHECK_BENCH_POSTGRES` names a
//! server) and one photo store (a folder, or the bucket `FIELDCHECK_BENCH_S3` names).
//! `FIELDCHECK_BENCH_MINUTES` makes the paced run last that long; `FIELDCHECK_BENCH_PREFILL` first
//! fills the database with that many inspections. Prints `FIGURE` lines; `cargo xtask bench --load`
//! runs it on both engines.

mod common;

use anyhow::{Context, bail};
use common::{SIGNATURE_PNG, complete_inspection, device_id, figure, percentile, push_to};
use fieldcheck_core::sync::{LoginResponse, MutationStatus, ONLINE_SPREAD_MS, PullResponse};
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
/// The paced run's rounds unless `FIELDCHECK_BENCH_MINUTES` asks for a longer run: about a minute.
const PACED_ROUNDS: usize = 5;
const BATCH: usize = 5;
/// Rounds' worth of work each phone brings back after an outage: three photos and fifteen
/// inspections in one push.
const BACKLOG: usize = 3;
/// Inspections per push while filling the database beforehand.
const PREFILL_BATCH: usize = 100;
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
    let paced_rounds = match env("FIELDCHECK_BENCH_MINUTES") {
        Some(minutes) => {
            let minutes: u64 = minutes
                .parse()
                .context("FIELDCHECK_BENCH_MINUTES: a number")?;
            usize::try_from(minutes * 60 / PERIOD.as_secs())?.max(1)
        }
        None => PACED_ROUNDS,
    };
    let prefill: usize = match env("FIELDCHECK_BENCH_PREFILL") {
        Some(n) => n.parse().context("FIELDCHECK_BENCH_PREFILL: a number")?,
        None => 0,
    };
    for n in devices {
        let run = Run::prepare(n, instances, postgres.as_deref(), bucket.as_deref()).await?;
        run.measure(&setup, paced_rounds, prefill).await?;
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
    /// The database, for settling it after the prefill.
    config: db::DbConfig,
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
        db::close(&pool).await;
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
            config,
            _dir: dir,
        })
    }

    async fn measure(
        &self,
        setup: &str,
        paced_rounds: usize,
        prefill: usize,
    ) -> anyhow::Result<()> {
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
        // Everyone logs in at once, a harder start than a province's (a phone logs in once a month,
        // tokens last 30 days); a 503 "busy" is tried again, as the app does.
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

        let logins = Arc::new(logins);
        let mut cursors = vec![String::new(); self.devices];
        if prefill > 0 {
            self.prefill(setup, &clients, &logins, &mut cursors, prefill)
                .await?;
        }
        // Then every device works: photo, push, pull, round after round at its own pace; then once
        // with a backlog within the online spread; then ROUNDS times all at once. The burst goes
        // last: after it the database and the photo store are still writing it out (checkpoints,
        // file syncs), which is the burst's cost, not the latency the other two measure.
        // Each phone keeps its pull cursor from one run to the next, as the app does.
        self.work(
            setup,
            &clients,
            &logins,
            &mut cursors,
            Pace::Every(PERIOD, paced_rounds),
        )
        .await?;
        let spread = Duration::from_millis(ONLINE_SPREAD_MS);
        self.work(setup, &clients, &logins, &mut cursors, Pace::Online(spread))
            .await?;
        self.work(setup, &clients, &logins, &mut cursors, Pace::Burst)
            .await
    }

    /// Fills the database with `total` inspections, pushed by the devices as fast as it takes them,
    /// then brings every device's cursor to the end (phones that already hold their unit's history).
    async fn prefill(
        &self,
        setup: &str,
        clients: &[reqwest::Client],
        logins: &Arc<Vec<LoginResponse>>,
        cursors: &mut [String],
        total: usize,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (device, client) in clients.iter().enumerate() {
            let base = self.bases[device % self.bases.len()].clone();
            let (client, logins) = (client.clone(), Arc::clone(logins));
            let share = total / self.devices + usize::from(device < total % self.devices);
            let partner = self.partner(device);
            tasks.push(tokio::spawn(async move {
                fill(&client, &base, device, &logins, partner, share).await
            }));
        }
        for task in tasks {
            task.await??;
        }
        let filled = started.elapsed();
        // Every phone already holds its unit's history: its cursor is the log's end. And the prefill
        // is written out (a checkpoint) before the paced run, which measures a settled server.
        let pool = db::open(self.config.clone()).await?;
        let end: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes")
            .fetch_one(&pool)
            .await?;
        for cursor in cursors.iter_mut() {
            *cursor = end.to_string();
        }
        let settled = Instant::now();
        match self.config.engine {
            db::Engine::Sqlite => pool.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?,
            db::Engine::Postgres => {
                pool.execute("VACUUM ANALYZE").await?;
                pool.execute("CHECKPOINT").await?
            }
        };
        db::close(&pool).await;
        #[allow(clippy::cast_precision_loss)] // thousands
        let per_second = total as f64 / filled.as_secs_f64();
        figure(
            &format!("load, {setup}: database filled beforehand"),
            format!(
                "{total} inspections in {:.1} s ({:.0} mutations/s, pushes of {PREFILL_BATCH}), \
                 written out in {:.1} s",
                filled.as_secs_f64(),
                per_second,
                settled.elapsed().as_secs_f64()
            ),
        );
        Ok(())
    }

    /// The device's partner: the next officer of the same unit.
    fn partner(&self, device: usize) -> usize {
        let unit = self.officers[device].1;
        (0..self.devices)
            .map(|step| (device + 1 + step) % self.devices)
            .find(|other| self.officers[*other].1 == unit && *other != device)
            .unwrap_or(device)
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
            let partner = self.partner(device);
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
            Pace::Burst => format!(
                "{} devices × {ROUNDS} rounds at once, a round a photo ({} KB) + push of {BATCH} + pull",
                self.devices,
                PHOTO_BYTES / 1024
            ),
            Pace::Every(period, rounds) => format!(
                "{} devices × {rounds} rounds, each about every {} s, a round a photo ({} KB) + \
                 push of {BATCH} + pull; rounds started late p99 {} ms, at most {} ms",
                self.devices,
                period.as_secs(),
                PHOTO_BYTES / 1024,
                percentile(&stats.late, 99).as_millis(),
                stats.late.last().copied().unwrap_or_default().as_millis()
            ),
            Pace::Online(spread) => format!(
                "{} devices back online within {} s, each {BACKLOG} photos ({} KB) at once + push of {} \
                 (and a venue) + pull; a phone's whole backlog p50 {} ms p99 {} ms",
                self.devices,
                spread.as_secs(),
                PHOTO_BYTES / 1024,
                BACKLOG * BATCH,
                percentile(&stats.round, 50).as_millis(),
                percentile(&stats.round, 99).as_millis()
            ),
        };
        figure(
            &format!("load, {setup}: {how}"),
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
    /// A whole round: photos, push and pull.
    round: Vec<Duration>,
    /// How much later than planned each paced round started (its device's round before it ran
    /// over): the pace the server let the phones keep.
    late: Vec<Duration>,
    errors: Vec<String>,
}

impl Stats {
    fn add(&mut self, other: Stats) {
        self.mutations += other.mutations;
        self.push.extend(other.push);
        self.photo.extend(other.photo);
        self.pull.extend(other.pull);
        self.round.extend(other.round);
        self.late.extend(other.late);
        self.errors.extend(other.errors);
    }

    fn sort(&mut self) {
        self.push.sort();
        self.photo.sort();
        self.pull.sort();
        self.round.sort();
        self.late.sort();
    }
}

/// How the devices' rounds are spaced.
#[derive(Clone, Copy)]
enum Pace {
    /// All at once and back to back: the worst case, which measures how fast a burst drains.
    Burst,
    /// This many rounds, each device's first at a random moment within the period, then each round
    /// between half and one and a half periods after the one before, at random: phones syncing as
    /// their officers work.
    Every(Duration, usize),
    /// One round with a backlog at a random moment within the spread: phones regaining signal
    /// together, each waiting as the app does after the `online` event.
    Online(Duration),
}

impl Pace {
    fn rounds(self) -> usize {
        match self {
            Pace::Burst => ROUNDS,
            Pace::Every(_, rounds) => rounds,
            Pace::Online(_) => 1,
        }
    }

    /// Photos and batches of inspections a round brings.
    fn backlog(self) -> usize {
        match self {
            Pace::Online(_) => BACKLOG,
            Pace::Burst | Pace::Every(..) => 1,
        }
    }

    /// Which photos are this run's: each run's are new, not an earlier run's again.
    fn first_photo(self) -> usize {
        match self {
            Pace::Every(..) => 0,
            Pace::Online(_) => 1_000_000,
            Pace::Burst => 2_000_000,
        }
    }

    /// How long after the previous round's start (or the run's, for the first) a round starts.
    fn wait(self, first: bool) -> Duration {
        let mut rng = rand::thread_rng();
        match self {
            Pace::Burst => Duration::ZERO,
            Pace::Every(period, _) if first => period.mul_f64(rng.gen_range(0.0..1.0)),
            Pace::Every(period, _) => period.mul_f64(rng.gen_range(0.5..1.5)),
            Pace::Online(spread) => spread.mul_f64(rng.gen_range(0.0..1.0)),
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
        let round_began = Instant::now();
        // The first round has no round before it to run over.
        if matches!(pace, Pace::Every(..)) && round > 0 {
            stats
                .late
                .push(tokio::time::Instant::now().saturating_duration_since(round_started));
        }
        // A round's photos go up together, as the app sends them (three at a time).
        let photos: Vec<Vec<u8>> = (0..pace.backlog())
            .map(|taken| photo_bytes(device, pace.first_photo() + round * pace.backlog() + taken))
            .collect();
        let names: Vec<String> = photos.iter().map(|photo| photo_name(photo)).collect();
        let uploads = photos
            .into_iter()
            .zip(&names)
            .map(|(photo, name)| upload_photo(client, base, &me.token, name, photo, "image/jpeg"));
        for (elapsed, uploaded) in futures_util::future::join_all(uploads).await {
            stats.photo.push(elapsed);
            if let Err(error) = uploaded {
                stats.errors.push(format!("photo: {error}"));
            }
        }
        // The officers' signatures, uploaded once by each device (an upload makes a photo the
        // uploader's to name).
        if round == 0 {
            let signature = photo_name(SIGNATURE_PNG);
            let (_, signed) = upload_photo(
                client,
                base,
                &me.token,
                &signature,
                SIGNATURE_PNG.to_vec(),
                "image/png",
            )
            .await;
            if let Err(error) = signed {
                stats.errors.push(format!("signature: {error}"));
            }
        }
        pending.extend(
            names
                .iter()
                .flat_map(|name| (0..BATCH).map(move |_| std::slice::from_ref(name)))
                .map(|named| complete_inspection(&venue_id, &officers, named)),
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
        stats.round.push(round_began.elapsed());
    }
    (stats, cursor)
}

/// Uploads one photo and reads the answer whole inside the timer, as the app does (which lets the
/// connection carry the next request). Returns the time taken and whether it was stored.
async fn upload_photo(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
    photo: Vec<u8>,
    content_type: &str,
) -> (Duration, anyhow::Result<()>) {
    let started = Instant::now();
    let answered = async {
        let response = client
            .put(format!("{base}/api/photos/{name}"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(photo)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        if !status.is_success() {
            bail!("{status}");
        }
        Ok(())
    }
    .await;
    (started.elapsed(), answered)
}

/// One device's share of the prefill: its venue, a photo and its signature, then `share` complete
/// inspections naming them, PREFILL_BATCH a push.
async fn fill(
    client: &reqwest::Client,
    base: &str,
    device: usize,
    logins: &[LoginResponse],
    partner: usize,
    share: usize,
) -> anyhow::Result<()> {
    let me = &logins[device];
    let officers = [me.user.id.0.as_str(), logins[partner].user.id.0.as_str()];
    let photo = photo_bytes(device, 3_000_000);
    let name = photo_name(&photo);
    let signature = photo_name(SIGNATURE_PNG);
    for (bytes, kind, named) in [
        (photo, "image/jpeg", &name),
        (SIGNATURE_PNG.to_vec(), "image/png", &signature),
    ] {
        let (_, uploaded) = upload_photo(client, base, &me.token, named, bytes, kind).await;
        uploaded.context("prefill upload")?;
    }
    let device_id = device_id(device + 1);
    let venue_id = uuid::Uuid::now_v7().to_string();
    let mut pending = vec![venue(&venue_id, &me.user.unit_id.0)];
    let mut left = share;
    while left > 0 || !pending.is_empty() {
        let take = left.min(PREFILL_BATCH);
        left -= take;
        pending.extend(
            (0..take)
                .map(|_| complete_inspection(&venue_id, &officers, std::slice::from_ref(&name))),
        );
        let answer = push_to(client, base, &me.token, &device_id, &pending).await?;
        if let Some(refused) = answer
            .results
            .iter()
            .find(|result| result.status != MutationStatus::Applied)
        {
            bail!("prefill push: {refused:?}");
        }
        pending.clear();
    }
    Ok(())
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
