//! Throwaway backing services for the province-scale test run: a PostgreSQL cluster in a temporary
//! folder and an S3-protocol server (s3s-fs) over another, each on a free loopback port and stopped
//! (and its folder removed) when dropped.

use anyhow::{Context, Result, bail};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Debian user PostgreSQL's tools run as: `initdb` refuses to run as root.
const POSTGRES_USER: &str = "postgres";
/// The access key pair the test S3 server accepts (it listens on loopback only).
pub const S3_ACCESS_KEY: &str = "fieldcheck";
pub const S3_SECRET_KEY: &str = "fieldcheck-test-secret";
/// The bucket the server suite keeps photos in.
pub const S3_BUCKET: &str = "photos";

/// A PostgreSQL cluster of its own, trusting local connections as `postgres`.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

impl Postgres {
    /// `initdb` and `pg_ctl start` in a new temporary folder; `durable: false` turns fsync off, which
    /// suits tests (the cluster is thrown away) but not figures meant to match production.
    pub fn start(bin: &Path, durable: bool) -> Result<Postgres> {
        let dir = std::env::temp_dir().join(format!("fieldcheck-pg-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).context("removing an old test cluster")?;
        }
        std::fs::create_dir_all(&dir)?;
        let as_root = is_root();
        if as_root {
            run(Command::new("chown").arg(POSTGRES_USER).arg(&dir))?;
        }
        let port = free_port()?;
        let cluster = Postgres {
            bin: bin.to_path_buf(),
            dir,
            port,
        };
        let data = cluster.dir.join("data");
        run(&mut cluster.tool(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        ))?;
        let durability = if durable {
            ""
        } else {
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let options = format!(
            "-k {} -c listen_addresses=127.0.0.1 -p {port} -c max_connections=400{durability}",
            cluster.dir.display()
        );
        run(&mut cluster.tool(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &cluster.dir.join("log").to_string_lossy(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        ))
        .context("starting PostgreSQL (its log is in the cluster folder)")?;
        Ok(cluster)
    }

    /// The URL of the server, without a database: the suite creates one per test.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// One of PostgreSQL's tools, as the `postgres` user when this runs as root.
    fn tool(&self, name: &str, args: &[&str]) -> Command {
        let program = self.bin.join(name);
        if is_root() {
            let mut line = shell_quote(&program.to_string_lossy());
            for arg in args {
                line.push(' ');
                line.push_str(&shell_quote(arg));
            }
            let mut command = Command::new("su");
            command.args([POSTGRES_USER, "-c", &line]);
            command
        } else {
            let mut command = Command::new(program);
            command.args(args);
            command
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self
            .tool(
                "pg_ctl",
                &["-D", &data.to_string_lossy(), "-m", "fast", "stop"],
            )
            .stdout(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The folder of PostgreSQL's server tools (`/usr/lib/postgresql/<major>/bin`), the newest if several.
pub fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major = entry.file_name().to_string_lossy().parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// An S3-protocol server over a temporary folder, with the suite's bucket made.
pub struct S3Server {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl S3Server {
    pub fn start(program: &Path) -> Result<S3Server> {
        let dir = std::env::temp_dir().join(format!("fieldcheck-s3-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        // s3s-fs serves each folder under its root as a bucket.
        std::fs::create_dir_all(dir.join(S3_BUCKET))?;
        let port = free_port()?;
        let child = Command::new(program)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", S3_ACCESS_KEY, "--secret-key", S3_SECRET_KEY])
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let server = S3Server { child, dir, port };
        wait_for_port(port, Duration::from_secs(20)).context("s3s-fs did not start listening")?;
        Ok(server)
    }

    /// The environment a FieldCheck server (or the suite) needs to keep photos in the bucket.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false".to_owned()),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

fn wait_for_port(port: u16, patience: Duration) -> Result<()> {
    let started = Instant::now();
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while started.elapsed() < patience {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on port {port} after {patience:?}")
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("could not start {:?}", command.get_program()))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
