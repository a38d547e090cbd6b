//! The release build's splitting step: each screen's code cut out of the main wasm into files of its own.
//!
//! Trunk runs cargo, then wasm-bindgen, then wasm-opt, with no step between the first two; but the
//! splitter needs the linker's wasm, before wasm-bindgen rewrites it. So `cargo xtask` builds with
//! the app's `split` feature and puts a `wasm-bindgen` of its own first on Trunk's PATH: it runs
//! `wasm-split-cli` on cargo's wasm, then the real wasm-bindgen on the main module that is left.
//! After the build, [`stage`] and [`name_loader`] (from the `precache` hook) bring the screens'
//! files and their loader into Trunk's staging folder under content-hashed names.

use anyhow::{Context, Result, bail};
use sha2::Digest;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the splitter writes the main module, the screens' files and their loader (from the root).
pub const SPLIT_DIR: &str = "target/wasm-split";
/// The loader's name as the splitter writes it, and as the glue imports it.
const LOADER: &str = "__wasm_split.js";

/// Writes the `wasm-bindgen` that Trunk finds first on its PATH (in `bin_dir`): it calls this
/// xtask's `wasm-bindgen` task, [`bindgen`].
pub fn write_shim(bin_dir: &Path) -> Result<()> {
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    std::fs::create_dir_all(bin_dir).with_context(|| format!("creating {}", bin_dir.display()))?;
    let shim = bin_dir.join("wasm-bindgen");
    let script = format!(
        "#!/bin/sh\n# Written by `cargo xtask` for the release build: split, then bind (xtask/src/split.rs).\nexec '{}' wasm-bindgen \"$@\"\n",
        xtask.display()
    );
    std::fs::write(&shim, script).with_context(|| format!("writing {}", shim.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", shim.display()))
}

/// `xtask wasm-bindgen ARGS`: splits cargo's wasm (the one argument that is not a flag), then runs
/// the real wasm-bindgen with Trunk's arguments on the main module, keeping the function table the
/// screens' files reach the main module through (`--keep-lld-exports`).
pub fn bindgen(root: &Path, cargo_home: &Path, args: &[String]) -> Result<()> {
    let real = cargo_home.join("bin/wasm-bindgen");
    let input = args.iter().position(|arg| !arg.starts_with('-'));
    let Some(input) = input else {
        // `--version` and the like: Trunk checks the tool is the version it wants.
        return run(Command::new(&real).args(args));
    };
    let out_name = args
        .iter()
        .find_map(|arg| arg.strip_prefix("--out-name="))
        .unwrap_or("fieldcheck");
    let split_dir = root.join(SPLIT_DIR);
    if split_dir.exists() {
        std::fs::remove_dir_all(&split_dir)
            .with_context(|| format!("clearing {}", split_dir.display()))?;
    }
    run(Command::new(cargo_home.join("bin/wasm-split-cli"))
        .arg(&args[input])
        .arg(&split_dir)
        .args(["--target", "web", "--out-name", out_name]))?;
    let mut bound: Vec<OsString> = args.iter().map(OsString::from).collect();
    bound[input] = split_dir.join(format!("{out_name}.wasm")).into_os_string();
    run(Command::new(&real)
        .args(bound)
        .args(["--keep-lld-exports", "--no-demangle"]))
}

/// Brings the screens' files into the staging folder `dir` when this build was split (its glue
/// imports the loader): each file optimized (`wasm_opt`, release only) and named by its content,
/// and the loader pointed at the glue's and the files' final names. Returns whether it was split.
pub fn stage(dir: &Path, root: &Path, wasm_opt: Option<&Path>) -> Result<bool> {
    let Some(glue) = glue(dir)? else {
        return Ok(false);
    };
    let split_dir = root.join(SPLIT_DIR);
    let mut loader = std::fs::read_to_string(split_dir.join(LOADER)).with_context(|| {
        format!(
            "the app was built split but {} has no loader",
            split_dir.display()
        )
    })?;
    let glue_name = file_name(&glue);
    let stem = glue_name
        .rsplit_once('-')
        .map_or(glue_name.trim_end_matches(".js"), |(stem, _)| stem);
    let glue_import = format!("\"./{stem}.js\"");
    if !loader.contains(&glue_import) {
        bail!("the screens' loader does not import {glue_import}");
    }
    loader = loader.replace(&glue_import, &format!("\"./{glue_name}\""));
    let mut parts = 0;
    for entry in
        std::fs::read_dir(&split_dir).with_context(|| format!("reading {}", split_dir.display()))?
    {
        let path = entry?.path();
        let name = file_name(&path);
        let is_part =
            name.ends_with(".wasm") && (name.starts_with("split_") || name.starts_with("chunk_"));
        if !is_part {
            continue;
        }
        let staged = dir.join(&name);
        std::fs::copy(&path, &staged)
            .with_context(|| format!("copying {} into {}", path.display(), dir.display()))?;
        if let Some(wasm_opt) = wasm_opt {
            optimize(wasm_opt, &staged)?;
        }
        let hashed = rename_by_content(&staged)?;
        let reference = format!("\"./{name}\"");
        if !loader.contains(&reference) {
            bail!("the screens' loader does not name {name}");
        }
        loader = loader.replace(&reference, &format!("\"./{}\"", file_name(&hashed)));
        parts += 1;
    }
    let staged_loader = dir.join(LOADER);
    std::fs::write(&staged_loader, loader)
        .with_context(|| format!("writing {}", staged_loader.display()))?;
    println!("xtask: split build: {parts} screen files beside the main module");
    Ok(true)
}

/// Names the (minified) loader by its content and points the glue at that name; the glue's
/// subresource-integrity value in `index.html` follows. The glue's imports object keeps the plain
/// name: it is the wasm's import module, not a file.
pub fn name_loader(dir: &Path) -> Result<()> {
    let Some(glue) = glue(dir)? else {
        return Ok(());
    };
    let hashed = rename_by_content(&dir.join(LOADER))?;
    let before = crate::shell::integrity(&glue)?;
    let mut source = std::fs::read_to_string(&glue)?;
    let mut replaced = false;
    for quote in ['"', '\''] {
        for from in ["from", "from "] {
            let old = format!("{from}{quote}./{LOADER}{quote}");
            if source.contains(&old) {
                source = source.replace(
                    &old,
                    &format!("{from}{quote}./{}{quote}", file_name(&hashed)),
                );
                replaced = true;
            }
        }
    }
    if !replaced {
        bail!("the glue {} does not import ./{LOADER}", glue.display());
    }
    std::fs::write(&glue, source).with_context(|| format!("writing {}", glue.display()))?;
    crate::shell::rename_integrity(dir, &before, &crate::shell::integrity(&glue)?)
}

/// The wasm-bindgen glue of a split build in `dir`: the script that imports the loader.
fn glue(dir: &Path) -> Result<Option<PathBuf>> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = file_name(&path);
        if !name.ends_with(".js") || name == "sw.js" || name.starts_with("__wasm_split") {
            continue;
        }
        if std::fs::read_to_string(&path)?.contains(LOADER) {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// wasm-opt -Oz on one screen file, with the features the main module was built with.
fn optimize(wasm_opt: &Path, file: &Path) -> Result<()> {
    run(Command::new(wasm_opt)
        .arg("-Oz")
        .args([
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
        ])
        .arg(file)
        .arg("-o")
        .arg(file))
}

/// Renames `x.ext` to `x-<16 hex digits of its SHA-256>.ext`, the form the server caches for a year.
fn rename_by_content(path: &Path) -> Result<PathBuf> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let digest = sha2::Sha256::digest(&bytes);
    let hex: String = digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let name = file_name(path);
    let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
    let hashed = path.with_file_name(format!("{stem}-{hex}.{ext}"));
    std::fs::rename(path, &hashed).with_context(|| format!("renaming {}", path.display()))?;
    Ok(hashed)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("running {:?}", command.get_program()))?;
    if !status.success() {
        bail!("{:?} failed ({status})", command.get_program());
    }
    Ok(())
}
