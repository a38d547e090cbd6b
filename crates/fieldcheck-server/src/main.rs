//! The `fieldcheck-server` command line: `serve`, `user add`, `user disable`, `audit verify`,
//! `photos gc`. All logic lives in the library.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use fieldcheck_core::Role;
use fieldcheck_server::users::{self, NewUser};
use fieldcheck_server::{AppState, Settings, audit, db, demo, photos, repair, tls};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// FieldCheck sync server: the JSON API and the built phone app from one port.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check the records' current copies against the change log, and restore damaged ones.
    Records {
        #[command(subcommand)]
        command: RecordsCommand,
    },
    /// Look after the stored photos and signatures.
    Photos {
        #[command(subcommand)]
        command: PhotosCommand,
    },
    /// Copy the SQLite database to a new file while the server runs (PostgreSQL: use pg_dump).
    Backup(BackupArgs),
    /// Replace the SQLite database with a backup, after checking it; stop the server first. The
    /// database that was there is renamed aside, never deleted. With `--database-url` and no
    /// `--from`: prepare a PostgreSQL database restored with pg_restore before it serves again.
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
struct BackupArgs {
    /// The new file to write.
    #[arg(long)]
    to: PathBuf,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Args)]
struct RestoreArgs {
    /// The backup to restore (SQLite).
    #[arg(long)]
    from: Option<PathBuf>,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Subcommand)]
enum PhotosCommand {
    /// Remove the photos no record names that were uploaded longer ago than the grace period, and
    /// objects left without their row by an upload that died halfway. `serve` does this every hour.
    Gc(PhotosGcArgs),
}

#[derive(Debug, Args)]
struct PhotosGcArgs {
    #[command(flatten)]
    grace: GraceArgs,
    #[command(flatten)]
    storage: StorageArgs,
}

/// How long an uploaded photo no record names is kept; shared by `serve` and `photos gc`.
#[derive(Debug, Args)]
struct GraceArgs {
    /// Hours an unreferenced photo is kept after its upload: a phone uploads photos before the record
    /// naming them and may be offline in between.
    #[arg(
        long = "photo-grace-hours",
        visible_alias = "grace-hours",
        env = "FIELDCHECK_PHOTO_GRACE_HOURS",
        default_value_t = photos::DEFAULT_GRACE.num_hours().unsigned_abs(),
        value_parser = clap::value_parser!(u64).range(..=100_000)
    )]
    hours: u64,
}

impl GraceArgs {
    fn grace(&self) -> anyhow::Result<chrono::TimeDelta> {
        let hours = i64::try_from(self.hours).context("grace hours out of range")?;
        chrono::TimeDelta::try_hours(hours).context("grace hours out of range")
    }
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from one line of standard input.
    Add(UserAddArgs),
    /// Disable a user: every token of theirs stops working at once, and they can no longer log in or
    /// be named on records. Their records stay.
    Disable(UserDisableArgs),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the audit chain and name the first row that was changed, removed or inserted behind the
    /// server's back. Exits with status 1 if the chain is broken.
    Verify(StorageOnlyArgs),
}

#[derive(Debug, Subcommand)]
enum RecordsCommand {
    /// List every record whose current copy differs from its latest change in the change log
    /// (damaged, gone, or edited behind the server's back), and whether the log can restore it.
    /// Exits with status 1 if any differ.
    Check(StorageOnlyArgs),
    /// Write each such record again from its latest change, as a new rev that every phone pulls,
    /// with an audit row; the replaced texts are kept in <data>/repaired. Safe while the server
    /// runs. Exits with status 1 if any is left that the log cannot restore.
    Repair(StorageOnlyArgs),
}

#[derive(Debug, Args)]
struct UserDisableArgs {
    #[arg(long)]
    username: String,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Args)]
struct StorageOnlyArgs {
    #[command(flatten)]
    storage: StorageArgs,
}

/// Where the data lives; shared by every subcommand.
#[derive(Debug, Args)]
struct StorageArgs {
    /// Folder for the database file and photos (created if missing).
    #[arg(long, env = "FIELDCHECK_DATA", default_value = "./data")]
    data: PathBuf,
    /// Database URL: sqlite://FILE or postgres://USER:PASSWORD@HOST/DB; default:
    /// sqlite://<data>/fieldcheck.db (created if missing).
    #[arg(long, env = "FIELDCHECK_DATABASE_URL")]
    database_url: Option<String>,
    /// Photo store: s3://BUCKET[/PREFIX] (endpoint, region and keys from the AWS_* environment);
    /// default: the folder <data>/photos.
    #[arg(long, env = "FIELDCHECK_PHOTOS")]
    photos: Option<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the real one is printed).
    #[arg(long, env = "FIELDCHECK_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    #[command(flatten)]
    storage: StorageArgs,
    /// The built app to serve on non-API paths (Trunk's dist/).
    #[arg(long = "static", env = "FIELDCHECK_STATIC", default_value = "dist")]
    static_dir: PathBuf,
    /// On a database without users, create demo units, users and venues and print the logins.
    #[arg(long, env = "FIELDCHECK_DEMO")]
    demo: bool,
    /// The largest photo or signature accepted, in bytes.
    #[arg(long, env = "FIELDCHECK_PHOTO_LIMIT_BYTES", default_value_t = photos::DEFAULT_LIMIT_BYTES)]
    photo_limit_bytes: usize,
    /// Addresses of load balancers or proxies in front of the server (comma-separated): from them,
    /// the client's address is read from X-Forwarded-For, for the login throttle.
    #[arg(
        long = "trusted-proxy",
        env = "FIELDCHECK_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    #[command(flatten)]
    grace: GraceArgs,
    /// Serve HTTPS. Without --tls-cert, a self-signed certificate for this machine's LAN address is
    /// made on first start and kept in <data>/tls (install it on the phones once; see README.md).
    #[arg(long, env = "FIELDCHECK_TLS")]
    tls: bool,
    /// A real certificate (PEM) for HTTPS; implies --tls.
    #[arg(long, env = "FIELDCHECK_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "FIELDCHECK_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct UserAddArgs {
    #[arg(long)]
    username: String,
    /// inspector, supervisor or admin.
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// The unit's name; created if it does not exist yet.
    #[arg(long)]
    unit: String,
    /// The person's full name (default: the username).
    #[arg(long)]
    name: Option<String>,
    /// Enforcement certificate number (执法证号).
    #[arg(long)]
    cert_no: Option<String>,
    #[command(flatten)]
    storage: StorageArgs,
}

fn parse_role(code: &str) -> Result<Role, String> {
    Role::from_code(code)
        .ok_or_else(|| format!("\"{code}\" is not one of inspector, supervisor, admin"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr; stdout carries only the lines scripts read (the address, demo logins).
    // FIELDCHECK_LOG_FORMAT=json: one JSON object per line, for a log collector.
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("FIELDCHECK_LOG_FORMAT").as_deref() == Ok("json") {
        logs.json().with_current_span(true).init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
        Command::User {
            command: UserCommand::Add(args),
        } => add_user(args).await,
        Command::User {
            command: UserCommand::Disable(args),
        } => disable_user(args).await,
        Command::Audit {
            command: AuditCommand::Verify(args),
        } => verify_audit(args).await,
        Command::Records {
            command: RecordsCommand::Check(args),
        } => check_records(args).await,
        Command::Records {
            command: RecordsCommand::Repair(args),
        } => repair_records(args).await,
        Command::Photos {
            command: PhotosCommand::Gc(args),
        } => collect_photos(args).await,
        Command::Backup(args) => backup(args).await,
        Command::Restore(args) => restore(args).await,
    }
}

async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let pool = open_database(&args.storage).await?;
    let done = fieldcheck_server::backup::backup(&pool, &args.to).await;
    db::close(&pool).await;
    done?;
    println!("backed up to {}", args.to.display());
    Ok(())
}

async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let from = match (&args.from, &args.storage.database_url) {
        (Some(from), None) => from,
        (None, Some(_)) => return prepare_restored_postgres(args).await,
        (Some(_), Some(_)) => bail!(
            "restore --from writes the default SQLite file <data>/fieldcheck.db; leave out \
             --database-url (a PostgreSQL database is restored with pg_restore, then prepared \
             with `restore --database-url URL`)"
        ),
        (None, None) => bail!("name the backup to restore: --from FILE"),
    };
    create_dir(&args.storage.data)?;
    let database = db::default_database_path(&args.storage.data);
    let restored = fieldcheck_server::backup::restore(from, &database).await?;
    if let Some(aside) = &restored.kept_aside {
        println!("the database that was there is now {}", aside.display());
    }
    println!(
        "restored {} ({} audit rows checked); start the server",
        from.display(),
        restored.audit_rows
    );
    Ok(())
}

/// `restore --database-url URL`: the PostgreSQL database pg_restore filled, made ready to serve.
async fn prepare_restored_postgres(args: RestoreArgs) -> anyhow::Result<()> {
    let pool = open_database(&args.storage).await?;
    let prepared = fieldcheck_server::backup::prepare_restored_postgres(&pool).await;
    db::close(&pool).await;
    let prepared = prepared?;
    println!(
        "prepared: {} audit rows checked, every token revoked, changes numbered from {} on; start \
         the server",
        prepared.audit_rows,
        prepared.seq_above + 1
    );
    Ok(())
}

async fn collect_photos(args: PhotosGcArgs) -> anyhow::Result<()> {
    let grace = args.grace.grace()?;
    let pool = open_database(&args.storage).await?;
    let store = open_photo_store(&args.storage)?;
    let collected = photos::collect_garbage(&pool, store.as_ref(), grace, chrono::Utc::now()).await;
    db::close(&pool).await;
    let collected = collected.context("collecting photos")?;
    println!(
        "removed {} unreferenced photos and {} orphaned objects",
        collected.photos.len(),
        collected.orphans.len()
    );
    Ok(())
}

async fn disable_user(args: UserDisableArgs) -> anyhow::Result<()> {
    let pool = open_database(&args.storage).await?;
    let disabled = db::disable_user(&pool, args.username.trim()).await?;
    db::close(&pool).await;
    match disabled {
        Some(_) => {
            println!(
                "disabled {}; every token of theirs is revoked",
                args.username.trim()
            );
            Ok(())
        }
        None => bail!("no user named \"{}\"", args.username.trim()),
    }
}

async fn verify_audit(args: StorageOnlyArgs) -> anyhow::Result<()> {
    let pool = open_database(&args.storage).await?;
    let verdict = audit::verify(&pool).await?;
    db::close(&pool).await;
    match verdict {
        audit::Verdict::Intact { rows } => {
            println!("audit chain intact: {rows} rows");
            Ok(())
        }
        audit::Verdict::Broken { seq, reason } => {
            println!("audit chain broken at row {seq}: {reason}");
            std::process::exit(1);
        }
    }
}

async fn check_records(args: StorageOnlyArgs) -> anyhow::Result<()> {
    let pool = open_database(&args.storage).await?;
    let found = repair::check(&pool).await;
    db::close(&pool).await;
    let found = found?;
    if found.is_empty() {
        println!("every record's current copy matches the change log");
        return Ok(());
    }
    for mismatch in &found {
        println!("{}", mismatch.describe());
    }
    println!(
        "{} record(s) differ from the change log; `records repair` restores those marked restorable",
        found.len()
    );
    std::process::exit(1);
}

async fn repair_records(args: StorageOnlyArgs) -> anyhow::Result<()> {
    let pool = open_database(&args.storage).await?;
    // The replaced texts are kept beside the data, as evidence of what was there.
    let repaired = repair::repair(&pool, &args.storage.data.join("repaired")).await;
    db::close(&pool).await;
    let repaired = repaired?;
    for restored in &repaired.restored {
        let mismatch = &restored.mismatch;
        print!(
            "restored {} {} as rev {}",
            mismatch.entity, mismatch.id, restored.rev
        );
        if let Some(file) = &restored.kept {
            print!("; the copy it replaced is kept in {}", file.display());
        }
        println!();
    }
    for mismatch in &repaired.left {
        println!("left: {}", mismatch.describe());
    }
    println!(
        "{} restored from the change log, {} left",
        repaired.restored.len(),
        repaired.left.len()
    );
    if repaired.left.is_empty() {
        Ok(())
    } else {
        std::process::exit(1);
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let grace = args.grace.grace()?;
    let pool = open_database(&args.storage).await?;
    let photo_store = open_photo_store(&args.storage)?;
    if args.demo {
        match demo::seed(&pool).await.context("creating demo data")? {
            Some(demo_data) => print!("{}", demo_data.logins_table()),
            None => tracing::info!("the database already has users; no demo data added"),
        }
    }
    if !args.static_dir.is_dir() {
        tracing::warn!(
            "static folder {} not found: serving the API only",
            args.static_dir.display()
        );
    }
    let settings = Settings {
        static_dir: Some(args.static_dir),
        photo_limit_bytes: args.photo_limit_bytes,
        trusted_proxies: args.trusted_proxies,
        ..Settings::default()
    };
    let certificate = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::load(cert, key)?),
        _ if args.tls => {
            let hosts = tls::local_hosts(tls::lan_address());
            Some(tls::self_signed(&args.storage.data.join("tls"), &hosts)?)
        }
        _ => None,
    };
    let listener = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr().context("reading the bound address")?;
    let scheme = if certificate.is_some() {
        "https"
    } else {
        "http"
    };
    // Scripts and tests wait for this line and read the port from it: print it once, after binding.
    println!("listening on {scheme}://{address}");
    if let Some(certificate) = &certificate {
        let url = tls::phone_url(address, tls::lan_address());
        println!("phones open {url}");
        if let Some(code) = tls::qr_code(&url) {
            println!("{code}");
        }
        println!(
            "certificate to install on the phones: {}",
            certificate.cert_path.display()
        );
    }
    std::io::stdout().flush().context("writing to stdout")?;
    let collector = tokio::spawn(photos::collect_garbage_every(
        pool.clone(),
        photo_store.clone(),
        grace,
        photos::GC_INTERVAL,
    ));
    let state = AppState::new(pool.clone(), photo_store, settings);
    let served = match certificate {
        Some(certificate) => {
            let listener = listener.into_std().context("handing the socket to TLS")?;
            fieldcheck_server::serve_tls(listener, state, certificate, shutdown_signal()).await
        }
        None => fieldcheck_server::serve(listener, state, shutdown_signal()).await,
    };
    collector.abort();
    served.context("serving")?;
    db::close(&pool).await;
    tracing::info!("stopped");
    Ok(())
}

async fn add_user(args: UserAddArgs) -> anyhow::Result<()> {
    let password = read_password()?;
    let pool = open_database(&args.storage).await?;
    let user = users::add_user(
        &pool,
        NewUser {
            username: args.username,
            password,
            role: args.role,
            unit_name: args.unit.clone(),
            name: args.name,
            cert_no: args.cert_no,
        },
    )
    .await?;
    db::close(&pool).await;
    println!(
        "added {} ({}, {}) to {}",
        user.username,
        user.role.code(),
        user.name,
        args.unit.trim()
    );
    Ok(())
}

/// One line from stdin, without its line ending; an empty password is refused.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password: write it as one line to standard input");
    }
    Ok(password)
}

fn open_photo_store(storage: &StorageArgs) -> anyhow::Result<photos::PhotoStore> {
    photos::open_store(&storage.data, storage.photos.as_deref()).with_context(|| {
        format!(
            "opening the photo store {}",
            storage.photos.clone().unwrap_or_else(|| storage
                .data
                .join("photos")
                .display()
                .to_string())
        )
    })
}

async fn open_database(storage: &StorageArgs) -> anyhow::Result<sqlx::AnyPool> {
    create_dir(&storage.data)?;
    let options = db::connect_options(&storage.data, storage.database_url.as_deref())?;
    db::open(options).await.context("opening the database")
}

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and systemd send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
