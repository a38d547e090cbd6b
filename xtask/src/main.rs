//! Developer tasks: `cargo xtask run` and `cargo xtask test` install what is missing, build, serve and test.
//!
//! Everything a fresh machine lacks is installed from the package registries only (crates.io,
//! Debian, npm): tools that download binaries from elsewhere fail on the machines this runs on.
//! Each step says what it does, and skips what is already there.

use anyhow::{Context, Result, bail};
use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod imports;
mod report;
mod services;
mod shell;
mod split;

use services::{Postgres, S3Server};

/// Trunk 0.22 needs a newer rustc than the machines have; 0.21.14 is verified offline-safe.
const TRUNK_VERSION: &str = "0.21.14";
/// The wasm splitter the release build runs before wasm-bindgen (xtask/src/split.rs).
const WASM_SPLIT_VERSION: &str = "0.2.4";
/// The server's API suite (model test included), run again on PostgreSQL + S3.
const SERVER_SUITE: &[&str] = &[
    "test",
    "--locked",
    "-p",
    "fieldcheck-server",
    "--test",
    "api",
];
/// Many phones at once (`crates/fieldcheck-server/benches/load.rs`).
const LOAD_BENCH: &[&str] = &[
    "bench",
    "--locked",
    "-p",
    "fieldcheck-server",
    "--bench",
    "load",
];
/// The S3-protocol server the suite keeps photos in (0.17 needs a newer rustc than ours).
const S3S_FS_VERSION: &str = "0.14.1";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Debian packages the browser tests need, with a file that shows each is installed. A Chinese
/// font, as every phone has: without one, Chromium searches its fallback fonts for every Chinese
/// character it lays out (the timings in the benchmarks grow by that search) and screenshots show
/// boxes.
const BROWSER_PACKAGES: &[(&str, &str)] = &[
    ("chromium", "/usr/bin/chromium"),
    ("chromium-driver", "/usr/bin/chromedriver"),
    (
        "fonts-wqy-microhei",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    ),
];
/// Debian packages the release build needs: brotli for the precompressed copies of the app.
const BUILD_PACKAGES: &[(&str, &str)] = &[("brotli", "/usr/bin/brotli")];
/// The built files that get precompressed copies (images are compressed already).
const COMPRESSED_EXTENSIONS: &[&str] = &["wasm", "js", "css", "html", "webmanifest", "svg", "txt"];

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  run [-- SERVER FLAGS]  build the app in release and serve it with demo data on http://127.0.0.1:8080
  run --lan              the same over HTTPS on the LAN (port 8443), for real phones: prints a QR code
  build                  build the app in release into dist/ (split, minified, precompressed)
  test                   run every test: core, server, IndexedDB in Chromium, end-to-end (Playwright)
  test-province          only the server suite on a throwaway PostgreSQL and S3 server (part of test)
  size                   print the size of the built app shell (dist/); fail above its budget
  wasm-bindgen ARGS      split the app's wasm, then run wasm-bindgen (the release build runs it)
  precache [DIR]         write the service worker's file list into a built app (Trunk runs it)
  bench --load           many phones at once (50 and 200) on SQLite, then on PostgreSQL + S3 with
                         two instances: mutations/s, latencies, errors (FIELDCHECK_BENCH_DEVICES,
                         _MINUTES of the paced run, _PREFILL inspections stored first)
  bench                  print every benchmark figure: shell size, first load, Lighthouse, photos,
                         10 000 records, server throughput (BENCHMARKS.md keeps them)
";

fn main() -> Result<()> {
    let mut args = env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.skip_while(|arg| arg == "--").collect();
    let started = Instant::now();
    let project = Project::locate()?;
    match task.as_str() {
        "run" => project.run(&rest)?,
        "test" => {
            project.test()?;
            say(&format!(
                "every test suite passed in {:.0} s",
                started.elapsed().as_secs_f64()
            ));
        }
        "test-province" => project.test_server_at_province_scale()?,
        "build" => {
            project.install_build_tools()?;
            project.build_app_release()?;
        }
        "size" => project.check_bundle_size()?,
        "bench" if rest.iter().any(|arg| arg == "--load") => project.bench_load()?,
        "bench" => project.bench()?,
        "wasm-bindgen" => split::bindgen(&project.root, &project.cargo_home, &rest)?,
        "precache" => {
            // Trunk runs this after each build, on its staging folder (`Trunk.toml`).
            let dir = env::var_os("TRUNK_STAGING_DIR")
                .map(PathBuf::from)
                .or_else(|| rest.first().map(PathBuf::from))
                .unwrap_or_else(|| project.root.join("dist"));
            // Minified before the list is made, so the version stands for the bytes served.
            let terser = project.e2e_dir().join("node_modules/.bin/terser");
            let release = env::var("TRUNK_PROFILE").as_deref() == Ok("release");
            let wasm_opt = project.e2e_dir().join("node_modules/.bin/wasm-opt");
            split::stage(&dir, &project.root, release.then_some(wasm_opt.as_path()))?;
            if release {
                shell::minify_js(&dir, &terser, false)?;
            }
            split::name_by_content(&dir)?;
            shell::write_precache(&dir)?;
            if release {
                shell::minify_js(&dir, &terser, true)?;
            }
        }
        _ => {
            eprint!("{USAGE}");
            if !task.is_empty() && task != "help" && task != "--help" {
                bail!("unknown task `{task}`");
            }
        }
    }
    Ok(())
}

/// The checkout and the tools around it.
struct Project {
    root: PathBuf,
    cargo: OsString,
    cargo_home: PathBuf,
}

impl Project {
    fn locate() -> Result<Project> {
        let xtask_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let root = xtask_dir
            .parent()
            .context("xtask/ has no parent folder")?
            .to_path_buf();
        let cargo_home = match env::var_os("CARGO_HOME") {
            Some(home) => PathBuf::from(home),
            None => PathBuf::from(env::var_os("HOME").context("HOME is not set")?).join(".cargo"),
        };
        Ok(Project {
            root,
            cargo: env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            cargo_home,
        })
    }

    /// `cargo xtask run`: install, build the release app, start the server with demo data.
    fn run(&self, server_flags: &[String]) -> Result<()> {
        self.install_build_tools()?;
        self.build_app_release()?;
        say("building the server (release)");
        self.cargo_cmd(&["build", "--locked", "--release", "-p", "fieldcheck-server"])
            .run()?;
        let server = self.root.join("target/release/fieldcheck-server");
        say("starting the server with demo data (Ctrl-C stops it)");
        let mut serve = self.command(&server);
        serve.args(["serve", "--demo"]);
        // `--lan`: HTTPS on every interface, for real phones on the office network (the server makes
        // its certificate and prints the address with a QR code).
        let lan = server_flags.iter().any(|flag| flag == "--lan");
        let (listen, tls) = if lan {
            ("0.0.0.0:8443", "true")
        } else {
            ("127.0.0.1:8080", "false")
        };
        // Defaults go in as the server's environment variables, so that flags given after `--`
        // (say `--listen 0.0.0.0:8080`) override them instead of clashing with them.
        for (variable, default) in [
            ("FIELDCHECK_LISTEN", listen),
            ("FIELDCHECK_TLS", tls),
            ("FIELDCHECK_DATA", "data"),
            ("FIELDCHECK_STATIC", "dist"),
        ] {
            if env::var_os(variable).is_none() {
                serve.env(variable, default);
            }
        }
        if lan {
            say(
                "--lan: anyone on this network can reach the server, and the demo logins are printed below",
            );
        }
        serve.args(server_flags.iter().filter(|flag| *flag != "--lan"));
        serve.run()
    }

    /// `cargo xtask test`: every suite, from the fastest to the slowest.
    fn test(&self) -> Result<()> {
        self.install_build_tools()?;
        self.install_debian_packages(BROWSER_PACKAGES)?;

        say("checking formatting");
        self.cargo_cmd(&["fmt", "--all", "--", "--check"]).run()?;

        say("native tests: core and server (SQLite, photos in a folder)");
        self.cargo_cmd(&["test", "--locked", "--workspace"]).run()?;
        self.test_server_at_province_scale()?;

        say("browser tests: the IndexedDB store in headless Chromium");
        // ChromeDriver and Chromium's flags come from .cargo/config.toml's [env].
        self.cargo_cmd(&[
            "test",
            "--locked",
            "--target",
            WASM_TARGET,
            "-p",
            "fieldcheck",
        ])
        .run()?;

        self.build_app_release()?;
        self.check_bundle_size()?;

        say("end-to-end tests: Playwright on a phone profile against the real server");
        // The debug server shares its build with the native tests above; the app is the release build,
        // because only the optimised bundle shows the faults wasm-opt can bring in.
        self.cargo_cmd(&["build", "--locked", "-p", "fieldcheck-server"])
            .run()?;
        let mut e2e = self.command("npx");
        e2e.args(["playwright", "test"])
            .current_dir(self.e2e_dir())
            .env(
                "FIELDCHECK_SERVER_BIN",
                self.root.join("target/debug/fieldcheck-server"),
            )
            .env("FIELDCHECK_DIST", self.root.join("dist"));
        e2e.run()
    }

    /// The server suite and the model test again on a real PostgreSQL and a real S3-protocol server,
    /// both throwaway: the same tests prove both engines and both photo stores behave the same.
    fn test_server_at_province_scale(&self) -> Result<()> {
        let (postgres, s3) = self.start_province_services(false)?;
        say("server tests again on PostgreSQL, photos in an S3 bucket");
        let mut suite = self.cargo_cmd(SERVER_SUITE);
        on_province_services(&mut suite, "FIELDCHECK_TEST", &postgres, &s3);
        suite.run()
    }

    /// Installs what is missing (Debian's postgresql, s3s-fs from crates.io) and starts both.
    fn start_province_services(&self, durable: bool) -> Result<(Postgres, S3Server)> {
        if services::postgres_bin().is_none() {
            self.install_debian_packages(&[("postgresql", "/usr/lib/postgresql")])?;
        }
        let bin = services::postgres_bin().context("PostgreSQL's initdb is not installed")?;
        self.install_cargo_tool_with("s3s-fs", "s3s-fs", S3S_FS_VERSION, true, &["binary"])?;
        say("starting a throwaway PostgreSQL cluster and s3s-fs");
        let postgres = Postgres::start(&bin, durable)?;
        let s3 = S3Server::start(&self.cargo_home.join("bin/s3s-fs"))?;
        Ok((postgres, s3))
    }

    /// `cargo xtask bench --load`: `benches/load.rs` on SQLite with a photo folder, then on a
    /// throwaway PostgreSQL (fsync on, as in production) and s3s-fs with two server instances.
    fn bench_load(&self) -> Result<()> {
        say("load: SQLite, photos in a folder");
        self.cargo_cmd(LOAD_BENCH).run()?;
        let (postgres, s3) = self.start_province_services(true)?;
        say("load: PostgreSQL, photos in an S3 bucket, two instances");
        let mut load = self.cargo_cmd(LOAD_BENCH);
        on_province_services(&mut load, "FIELDCHECK_BENCH", &postgres, &s3);
        load.run()
    }

    /// `cargo xtask bench`: the shell's size, the server's push throughput (`benches/push.rs`) and
    /// the phone-side benchmarks (Playwright, `tests/e2e/*.bench.ts`) on the release app and the real
    /// server. They print figures (lines starting `FIGURE`) and never fail on a timing; the figures
    /// go into BENCHMARKS.md's generated section, each goal beside the figure measured for it.
    fn bench(&self) -> Result<()> {
        self.install_build_tools()?;
        self.install_debian_packages(BROWSER_PACKAGES)?;
        self.build_app_release()?;
        let mut figures = Vec::new();
        let files = self.shell_sizes()?;
        let shell: Vec<_> = files.iter().filter(|file| !file.screen).collect();
        for file in &shell {
            figures.push(format!(
                "shell file {}, gzip -9: {:.1} KiB",
                file.name,
                kib(file.gzip)
            ));
        }
        figures.push(format!(
            "{}: {:.1} KiB ({:.1} KiB brotli on the wire)",
            report::SHELL_FIGURE,
            kib(shell.iter().map(|file| file.gzip).sum()),
            kib(shell.iter().filter_map(|file| file.brotli).sum()),
        ));
        // Each step runs even when one before it failed (a shell over its budget is still timed);
        // the first failure is the answer, once the figures are written.
        let mut failures = Vec::new();
        if let Err(error) = within_budget(&files) {
            failures.push(error);
        }
        say("server throughput: pushes against bare SQLite, and 200 phones at once");
        let mut push = self.cargo_cmd(&[
            "bench",
            "--locked",
            "-p",
            "fieldcheck-server",
            "--bench",
            "push",
        ]);
        if let Err(error) = report::run_collecting(&mut push, &mut figures) {
            failures.push(error);
        }
        let server = self
            .cargo_cmd(&["build", "--locked", "-p", "fieldcheck-server"])
            .run();
        match server {
            Err(error) => failures.push(error),
            Ok(()) => {
                let mut phone = self.command("npx");
                phone
                    .args(["playwright", "test", "--config", "bench.config.ts"])
                    .current_dir(self.e2e_dir())
                    .env(
                        "FIELDCHECK_SERVER_BIN",
                        self.root.join("target/debug/fieldcheck-server"),
                    )
                    .env("FIELDCHECK_DIST", self.root.join("dist"));
                if let Err(error) = report::run_collecting(&mut phone, &mut figures) {
                    failures.push(error);
                }
            }
        }
        let failed = (!failures.is_empty()).then(|| {
            failures
                .iter()
                .map(|error| format!("{error:#}"))
                .collect::<Vec<_>>()
                .join("; ")
        });
        let written = self.root.join("BENCHMARKS.md");
        report::write(&written, &figures, failed.as_deref())?;
        say(&format!(
            "{} figures written to the top of {}",
            figures.len(),
            written.display()
        ));
        match failures.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    /// Prints what each file of the shell weighs, and fails when the whole is above the budget.
    fn check_bundle_size(&self) -> Result<()> {
        let files = self.shell_sizes()?;
        within_budget(&files)
    }

    /// Measures and prints what each built file weighs (the shell's, then the screens').
    fn shell_sizes(&self) -> Result<Vec<shell::ShellFile>> {
        let files = shell::measure(&self.root.join("dist"))?;
        for file in &files {
            say(&format!(
                "{}: {}: {:.1} KiB raw, {:.1} KiB gzip, {}",
                if file.screen { "screen" } else { "shell" },
                file.name,
                kib(file.raw),
                kib(file.gzip),
                file.brotli
                    .map_or("no brotli copy".to_owned(), |br| format!(
                        "{:.1} KiB brotli",
                        kib(br)
                    ))
            ));
        }
        let (screens, shell): (Vec<_>, Vec<_>) = files.iter().partition(|file| file.screen);
        let gzip: u64 = shell.iter().map(|file| file.gzip).sum();
        let brotli: u64 = shell.iter().filter_map(|file| file.brotli).sum();
        say(&format!(
            "shell (downloaded before the first screen): {:.1} KiB gzip ({:.1} KiB brotli on the wire); \
             budget {:.0} KiB, goal {:.0} KiB",
            kib(gzip),
            kib(brotli),
            kib(shell::SHELL_BUDGET_BYTES),
            kib(shell::SHELL_GOAL_BYTES)
        ));
        say(&format!(
            "screens' files (fetched when a screen first opens, then by the service worker): {} files, \
             {:.1} KiB gzip ({:.1} KiB brotli); whole app {:.1} KiB gzip",
            screens.len(),
            kib(screens.iter().map(|file| file.gzip).sum()),
            kib(screens.iter().filter_map(|file| file.brotli).sum()),
            kib(files.iter().map(|file| file.gzip).sum()),
        ));
        Ok(files)
    }

    /// The wasm target, trunk, wasm-bindgen-cli (matching Cargo.lock), Node packages and crates.
    fn install_build_tools(&self) -> Result<()> {
        self.install_wasm_target()?;
        self.install_debian_packages(BUILD_PACKAGES)?;
        self.install_cargo_tool("trunk", "trunk", TRUNK_VERSION, true)?;
        // Its own lockfile pins a crate version the registry may lack, so no --locked here.
        let bindgen_version = self.locked_version("wasm-bindgen")?;
        self.install_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", &bindgen_version, false)?;
        self.install_cargo_tool_with(
            "wasm-split-cli",
            "wasm_split_cli_support",
            WASM_SPLIT_VERSION,
            true,
            &["build-binary"],
        )?;
        self.install_node_packages()?;
        say("fetching crates (Trunk builds offline)");
        self.cargo_cmd(&["fetch", "--locked"]).run()
    }

    fn install_wasm_target(&self) -> Result<()> {
        let sysroot = Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .context("running rustc")?;
        let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
        if sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir() {
            return Ok(());
        }
        say("installing the wasm32 target");
        self.command("rustup")
            .args(["target", "add", WASM_TARGET])
            .run()
    }

    fn install_cargo_tool(
        &self,
        binary: &str,
        crate_name: &str,
        version: &str,
        locked: bool,
    ) -> Result<()> {
        self.install_cargo_tool_with(binary, crate_name, version, locked, &[])
    }

    fn install_cargo_tool_with(
        &self,
        binary: &str,
        crate_name: &str,
        version: &str,
        locked: bool,
        features: &[&str],
    ) -> Result<()> {
        let path = self.cargo_home.join("bin").join(binary);
        if let Ok(output) = Command::new(&path).arg("--version").output() {
            let installed = String::from_utf8_lossy(&output.stdout);
            if installed.split_whitespace().any(|word| word == version) {
                return Ok(());
            }
        }
        // A tool without `--version` (wasm-split-cli): cargo's own record of what it installed.
        let record =
            std::fs::read_to_string(self.cargo_home.join(".crates2.json")).unwrap_or_default();
        if path.exists() && record.contains(&format!("\"{crate_name} {version} (")) {
            return Ok(());
        }
        say(&format!(
            "installing {crate_name} {version} from crates.io (takes a few minutes, once)"
        ));
        let mut install = self.cargo_cmd(&["install", crate_name, "--version", version, "--force"]);
        if locked {
            install.arg("--locked");
        }
        if !features.is_empty() {
            install.args(["--features", &features.join(",")]);
        }
        // Trunk's own release profile asks for fat LTO in one codegen unit: on two cores that is
        // most of a cold run's install time, for a tool that then runs for seconds per build.
        install
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
        install.run()
    }

    /// The version of a crate in Cargo.lock (the wasm-bindgen CLI must match the library exactly).
    fn locked_version(&self, crate_name: &str) -> Result<String> {
        let lock =
            std::fs::read_to_string(self.root.join("Cargo.lock")).context("reading Cargo.lock")?;
        let wanted = format!("name = \"{crate_name}\"");
        let mut lines = lock.lines();
        while let Some(line) = lines.next() {
            if line.trim() == wanted
                && let Some(version) = lines.next()
                && let Some(version) = version.trim().strip_prefix("version = ")
            {
                return Ok(version.trim_matches('"').to_owned());
            }
        }
        bail!("{crate_name} is not in Cargo.lock")
    }

    fn install_debian_packages(&self, packages: &[(&str, &str)]) -> Result<()> {
        let missing: Vec<&str> = packages
            .iter()
            .filter(|(_, probe)| !Path::new(probe).exists())
            .map(|(package, _)| *package)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        say(&format!(
            "installing Debian packages: {}",
            missing.join(" ")
        ));
        self.command("apt-get").arg("update").run()?;
        self.command("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run()
    }

    /// Playwright and binaryen's wasm-opt, pinned by tests/e2e/package-lock.json.
    fn install_node_packages(&self) -> Result<()> {
        if Command::new("npm").arg("--version").output().is_err() {
            self.install_debian_packages(&[("nodejs", "/usr/bin/node"), ("npm", "/usr/bin/npm")])?;
        }
        let dir = self.e2e_dir();
        let installed = dir.join("node_modules/.package-lock.json");
        let up_to_date = match (
            modified(&installed),
            modified(&dir.join("package-lock.json")),
        ) {
            (Some(installed), Some(lock)) => installed >= lock,
            _ => false,
        };
        if up_to_date {
            return Ok(());
        }
        say("installing npm packages (Playwright, binaryen)");
        self.command("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .run()
    }

    fn build_app_release(&self) -> Result<()> {
        say("building the app (release, wasm-opt -Oz)");
        // Each screen in a file of its own (src/screens.rs): Trunk finds the splitting
        // wasm-bindgen first on its PATH (xtask/src/split.rs).
        let shim_dir = self.root.join("target/split-bin");
        split::write_shim(&shim_dir)?;
        let mut trunk = self.command(self.cargo_home.join("bin/trunk"));
        let path = trunk
            .get_envs()
            .find_map(|(key, value)| (key == "PATH").then_some(value))
            .flatten()
            .map(env::split_paths)
            .map(Iterator::collect::<Vec<_>>)
            .unwrap_or_default();
        trunk
            .args(["build", "--release", "--features", "split"])
            .env(
                "PATH",
                env::join_paths(std::iter::once(shim_dir).chain(path))?,
            )
            .env("TRUNK_SKIP_VERSION_CHECK", "true");
        trunk.run()?;
        self.compress_dist()
    }

    /// Leaves a brotli (`.br`) and a gzip (`.gz`) copy beside every text asset of `dist/`, which the
    /// server hands to phones that accept them: made once here, never per request.
    fn compress_dist(&self) -> Result<()> {
        say("precompressing the app (brotli -q 11, gzip -9)");
        let dist = self.root.join("dist");
        for entry in
            std::fs::read_dir(&dist).with_context(|| format!("reading {}", dist.display()))?
        {
            let path = entry?.path();
            let compressible = path
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| COMPRESSED_EXTENSIONS.contains(&ext));
            if !compressible {
                continue;
            }
            let mut gzip = Command::new("gzip");
            gzip.args(["-9", "-n", "-k", "-f"]).arg(&path);
            quietly(&mut gzip)?;
            let mut brotli = Command::new("brotli");
            brotli.args(["-q", "11", "-k", "-f"]).arg(&path);
            quietly(&mut brotli)?;
        }
        Ok(())
    }

    fn e2e_dir(&self) -> PathBuf {
        self.root.join("tests/e2e")
    }

    /// A command in the project root with the project's tools first on PATH.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        let mut path = vec![
            self.e2e_dir().join("node_modules/.bin"),
            self.cargo_home.join("bin"),
        ];
        if let Some(existing) = env::var_os("PATH") {
            path.extend(env::split_paths(&existing));
        }
        if let Ok(joined) = env::join_paths(path) {
            command.env("PATH", joined);
        }
        command.current_dir(&self.root);
        command
    }

    fn cargo_cmd(&self, args: &[&str]) -> Command {
        let mut command = self.command(&self.cargo);
        command.args(args);
        command
    }
}

/// Fails when the shell (what a phone downloads before its first screen) is over its budget.
fn within_budget(files: &[shell::ShellFile]) -> Result<()> {
    let gzip: u64 = files
        .iter()
        .filter(|file| !file.screen)
        .map(|file| file.gzip)
        .sum();
    if gzip > shell::SHELL_BUDGET_BYTES {
        bail!(
            "the app shell weighs {:.1} KiB gzip, over its budget of {:.0} KiB: find what grew with \
                 `twiggy top target/wasm32-unknown-unknown/release/fieldcheck.wasm`",
            kib(gzip),
            kib(shell::SHELL_BUDGET_BYTES)
        );
    }
    Ok(())
}

/// Runs a command to completion with its output shown, failing on a non-zero exit.
trait RunExt {
    fn run(&mut self) -> Result<()>;
}

impl RunExt for Command {
    fn run(&mut self) -> Result<()> {
        let shown = format!(
            "{} {}",
            self.get_program().to_string_lossy(),
            self.get_args()
                .map(|arg| arg.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!("$ {shown}");
        let status = self
            .status()
            .with_context(|| format!("could not start `{shown}`"))?;
        if !status.success() {
            bail!("`{shown}` failed ({status})");
        }
        Ok(())
    }
}

/// Points a test or bench run at the throwaway services: `<prefix>_POSTGRES` names the server,
/// `<prefix>_S3` the bucket, and the `AWS_*` variables reach it.
fn on_province_services(command: &mut Command, prefix: &str, postgres: &Postgres, s3: &S3Server) {
    command
        .env(format!("{prefix}_POSTGRES"), postgres.url())
        .env(
            format!("{prefix}_S3"),
            format!("s3://{}", services::S3_BUCKET),
        )
        .envs(s3.env());
}

/// Runs a command to completion without echoing it, failing on a non-zero exit.
fn quietly(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("could not start {:?}", command.get_program()))?;
    if !status.success() {
        bail!("{:?} failed ({status})", command.get_program());
    }
    Ok(())
}

fn say(message: &str) {
    println!("xtask: {message}");
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

#[allow(clippy::cast_precision_loss)] // Bundle sizes are far below f64's exact range.
fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}
