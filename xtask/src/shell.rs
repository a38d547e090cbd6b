//! The built app shell: the service worker's precache list, and the size budget of what a phone downloads.

use anyhow::{Context, Result, bail};
use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The service worker's lines that the build fills in (see `public/sw.js`).
const VERSION_LINE: &str = "const SHELL_VERSION = 'dev';";
const FILES_LINE: &str = "const SHELL_FILES = ['/index.html'];";

/// Writes the list of every file of the built shell, and a version made from their contents, into
/// the built `sw.js`: the worker caches exactly what this build made, and any change to any file is a
/// new version that replaces the old cache. Run by Trunk after each build (`Trunk.toml`), on its
/// staging folder, so no list is ever kept by hand.
pub fn write_precache(dir: &Path) -> Result<()> {
    let worker = dir.join("sw.js");
    let source = std::fs::read_to_string(&worker).with_context(|| {
        format!(
            "reading {} (the build copies public/sw.js)",
            worker.display()
        )
    })?;
    if !source.contains(VERSION_LINE) || !source.contains(FILES_LINE) {
        bail!(
            "{} lacks the lines the build fills in: `{VERSION_LINE}` and `{FILES_LINE}`",
            worker.display()
        );
    }
    let mut files = shell_files(dir)?;
    files.sort();
    let mut hasher = DefaultHasher::new();
    let mut urls = Vec::with_capacity(files.len());
    for file in &files {
        let relative = file
            .strip_prefix(dir)
            .context("a shell file outside its folder")?
            .to_string_lossy()
            .replace('\\', "/");
        hasher.write(relative.as_bytes());
        hasher.write(&std::fs::read(file).with_context(|| format!("reading {}", file.display()))?);
        urls.push(format!("'/{relative}'"));
    }
    let version = format!("{:016x}", hasher.finish());
    let filled = source
        .replace(VERSION_LINE, &format!("const SHELL_VERSION = '{version}';"))
        .replace(
            FILES_LINE,
            &format!("const SHELL_FILES = [{}];", urls.join(", ")),
        );
    std::fs::write(&worker, filled).with_context(|| format!("writing {}", worker.display()))?;
    println!(
        "xtask: service worker: version {version}, {} files precached",
        files.len()
    );
    Ok(())
}

/// Minifies JavaScript of a release build in `dir` with terser (an npm package of the project): the
/// wasm-bindgen glue, or (`worker`) the service worker. Trunk minifies the CSS and HTML itself.
pub fn minify_js(dir: &Path, terser: &Path, worker: bool) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let is_worker = path.file_name().is_some_and(|name| name == "sw.js");
        if path.extension().and_then(|ext| ext.to_str()) != Some("js") || is_worker != worker {
            continue;
        }
        let mut minify = Command::new(terser);
        minify
            .arg(&path)
            .args(["--compress", "--mangle", "--output"])
            .arg(&path);
        // The glue is an ES module; the service worker is a classic script.
        if !is_worker {
            minify.arg("--module");
        }
        let before = integrity(&path)?;
        let status = minify
            .status()
            .with_context(|| format!("running {}", terser.display()))?;
        if !status.success() {
            bail!("terser failed on {} ({status})", path.display());
        }
        // Trunk named the glue's digest in index.html (subresource integrity): name the new bytes.
        rename_integrity(dir, &before, &integrity(&path)?)?;
    }
    Ok(())
}

/// Replaces a file's old subresource-integrity value in `dir/index.html` with its new one (Trunk
/// wrote the old one; the file has changed since).
pub fn rename_integrity(dir: &Path, before: &str, after: &str) -> Result<()> {
    let index = dir.join("index.html");
    let html =
        std::fs::read_to_string(&index).with_context(|| format!("reading {}", index.display()))?;
    if html.contains(before) {
        std::fs::write(&index, html.replace(before, after))
            .with_context(|| format!("writing {}", index.display()))?;
    }
    Ok(())
}

/// The subresource-integrity value of a file, as Trunk writes it (`sha384-` and base64).
pub fn integrity(path: &Path) -> Result<String> {
    use base64::Engine;
    use sha2::Digest;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes))
    ))
}

/// Every file the app needs to open offline: all that the build wrote, except the worker itself,
/// the precompressed copies (the server picks them; the browser caches the decoded file) and what
/// only crawlers read.
fn shell_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in
            std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let skipped = name == "sw.js"
                || name == "robots.txt"
                || name.ends_with(".br")
                || name.ends_with(".gz");
            if !skipped {
                found.push(path);
            }
        }
    }
    Ok(found)
}

/// The most the shell may weigh: what a phone downloads before the app's first screen (main wasm,
/// glue, screens' loader, the page with its inlined stylesheet; gzip -9). It is the goal, 200 KiB.
/// Each screen but 登录 is in files of its own (src/screens.rs), and so are the sync run with the
/// engine's loop, the export and the login's request and take-over (src/sync/engine.rs,
/// src/download.rs, src/sync/mod.rs), the shell's parts 登录 does without, in the venue list's file
/// (src/chrome.rs: the badge, the tab bar, the update banner), and the conversion of a layout-1
/// phone's values (src/store/migrate.rs), fetched when first needed and then by the service worker;
/// those are reported beside the shell, not counted in it. Lower the ceiling with every saving;
/// raise it only for a fix officers need now, and say in BENCHMARKS.md what it bought.
pub const SHELL_BUDGET_BYTES: u64 = 200 * 1024;
/// Where the shell must get to.
pub const SHELL_GOAL_BYTES: u64 = 200 * 1024;

/// One built file of the shell and what it weighs.
pub struct ShellFile {
    pub name: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: Option<u64>,
    /// One of the screens' files (`split_*`, `chunk_*`), fetched after the app has started.
    pub screen: bool,
}

/// The wasm, js, css and page of the built app in `dist`, each measured raw, with gzip -9, and as
/// the brotli copy the build left beside it.
pub fn measure(dist: &Path) -> Result<Vec<ShellFile>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dist)
        .with_context(|| format!("reading {} (build the app first)", dist.display()))?
    {
        let path = entry?.path();
        let is_shell = matches!(
            path.extension().and_then(|ext| ext.to_str()),
            Some("wasm" | "js" | "css" | "html")
        );
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // The service worker is fetched by the browser on its own, after the app has opened.
        if !is_shell || name == "sw.js" {
            continue;
        }
        let raw = std::fs::metadata(&path)?.len();
        let output = Command::new("gzip")
            .args(["-9", "-c"])
            .arg(&path)
            .output()
            .context("running gzip")?;
        if !output.status.success() {
            bail!("gzip failed on {}", path.display());
        }
        let brotli = std::fs::metadata(dist.join(format!("{name}.br")))
            .ok()
            .map(|meta| meta.len());
        let screen = name.starts_with("split_") || name.starts_with("chunk_");
        files.push(ShellFile {
            screen,
            name,
            raw,
            gzip: output.stdout.len() as u64,
            brotli,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    if files.is_empty() {
        bail!(
            "{} holds no wasm, js, css or page: build the app first",
            dist.display()
        );
    }
    Ok(files)
}
