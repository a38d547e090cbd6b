//! The release build's splitting step: each screen's code cut out of the main wasm into files of its own.
//!
//! Trunk runs cargo, then wasm-bindgen, then wasm-opt, with no step between the first two; but the
//! splitter needs the linker's wasm, before wasm-bindgen rewrites it. So `cargo xtask` builds with
//! the app's `split` feature and puts a `wasm-bindgen` of its own first on Trunk's PATH: it runs
//! `wasm-split-cli` on cargo's wasm, then the real wasm-bindgen on the main module that is left.
//! After the build, [`stage`] and [`name_by_content`] (from the `precache` hook) bring the screens'
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
/// screens' files reach the main module through (`--keep-lld-exports`), and gives the glue's
/// imports short names ([`crate::imports`]).
pub fn bindgen(root: &Path, cargo_home: &Path, args: &[String]) -> Result<()> {
    let real = cargo_home.join("bin/wasm-bindgen");
    let input = args.iter().position(|arg| !arg.starts_with('-'));
    let Some(input) = input else {
        // `--version` and the like: Trunk checks the tool is the version it wants.
        return crate::quietly(Command::new(&real).args(args));
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
    crate::quietly(
        Command::new(cargo_home.join("bin/wasm-split-cli"))
            .arg(&args[input])
            .arg(&split_dir)
            .args(["--target", "web", "--out-name", out_name]),
    )?;
    let mut bound: Vec<OsString> = args.iter().map(OsString::from).collect();
    bound[input] = split_dir.join(format!("{out_name}.wasm")).into_os_string();
    crate::quietly(
        Command::new(&real)
            .args(bound)
            .args(["--keep-lld-exports", "--no-demangle"]),
    )?;
    // Trunk passes its flags as `--name=value` (a value of its own would have been taken for the
    // input above).
    let out_dir = args
        .iter()
        .find_map(|arg| arg.strip_prefix("--out-dir="))
        .context("Trunk ran wasm-bindgen without --out-dir=")?;
    let out_dir = Path::new(out_dir);
    crate::imports::shorten(
        &out_dir.join(format!("{out_name}_bg.wasm")),
        &out_dir.join(format!("{out_name}.js")),
        out_name,
    )
}

/// Brings the screens' files into the staging folder `dir` when this build was split (its glue
/// imports the loader): each file optimized (`wasm_opt`, release only) and named by its content,
/// and the loader pointed at the files' final names. Returns whether it was split.
pub fn stage(dir: &Path, root: &Path, wasm_opt: Option<&Path>) -> Result<bool> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        if file_name(&entry?.path()).starts_with("__wasm_split-") {
            bail!(
                "{} was staged already (its screens' loader carries its hash): run this step on a fresh build",
                dir.display()
            );
        }
    }
    if glue(dir)?.is_none() {
        // Built with `split` but without the splitting step: the glue would import a module that
        // does not exist and the app would never start.
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if file_name(&path).ends_with(".js")
                && std::fs::read_to_string(&path)?.contains("__wasm_split_placeholder__")
            {
                bail!(
                    "{} was built with the `split` feature but not split: build with `cargo xtask build`",
                    path.display()
                );
            }
        }
        return Ok(false);
    }
    let split_dir = root.join(SPLIT_DIR);
    let mut loader = std::fs::read_to_string(split_dir.join(LOADER)).with_context(|| {
        format!(
            "the app was built split but {} has no loader",
            split_dir.display()
        )
    })?;
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

/// Names the main module, its glue and (split builds) the screens' loader by one hash over their
/// final bytes, and points `index.html`, the glue and the loader at the new names. Trunk named the
/// first two by cargo's wasm, before wasm-bindgen, wasm-opt, the splitter and terser had their say:
/// a build that changed only those would reuse the names for other bytes, and a phone's cache
/// would then answer the new page with the old glue. The glue and the loader name each other, so
/// neither can be named by its own bytes alone: the one hash covers both.
pub fn name_by_content(dir: &Path) -> Result<()> {
    let mut wasm = None;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if file_name(&path).ends_with("_bg.wasm") {
            if wasm.is_some() {
                bail!("{} holds two main modules (*_bg.wasm)", dir.display());
            }
            wasm = Some(path);
        }
    }
    let wasm =
        wasm.with_context(|| format!("{} holds no main module (*_bg.wasm)", dir.display()))?;
    let wasm_name = file_name(&wasm);
    let trunk_name = wasm_name.trim_end_matches("_bg.wasm").to_owned();
    let (stem, _) = trunk_name
        .rsplit_once('-')
        .with_context(|| format!("{wasm_name} carries no hash"))?;
    let glue = dir.join(format!("{trunk_name}.js"));
    let loader = dir.join(LOADER);
    let split = loader.exists();

    let mut hasher = sha2::Sha256::new();
    for part in [&wasm, &glue].into_iter().chain(split.then_some(&loader)) {
        hasher.update(std::fs::read(part).with_context(|| format!("reading {}", part.display()))?);
    }
    let hex: String = hasher.finalize()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let name = format!("{stem}-{hex}");

    let before = crate::shell::integrity(&glue)?;
    let mut source =
        std::fs::read_to_string(&glue).with_context(|| format!("reading {}", glue.display()))?;
    if split {
        let hashed_loader = format!("__wasm_split-{hex}.js");
        let mut replaced = false;
        for quote in ['"', '\''] {
            for from in ["from", "from "] {
                let old = format!("{from}{quote}./{LOADER}{quote}");
                if source.contains(&old) {
                    source =
                        source.replace(&old, &format!("{from}{quote}./{hashed_loader}{quote}"));
                    replaced = true;
                }
            }
        }
        if !replaced {
            bail!("the glue {} does not import ./{LOADER}", glue.display());
        }
        let glue_import = format!("\"./{stem}.js\"");
        let text = std::fs::read_to_string(&loader)?;
        if !text.contains(&glue_import) {
            bail!("the screens' loader does not import {glue_import}");
        }
        std::fs::write(
            dir.join(&hashed_loader),
            text.replace(&glue_import, &format!("\"./{name}.js\"")),
        )?;
        std::fs::remove_file(&loader)?;
    }
    let renamed_glue = dir.join(format!("{name}.js"));
    std::fs::write(&renamed_glue, source)
        .with_context(|| format!("writing {}", renamed_glue.display()))?;
    if renamed_glue != glue {
        std::fs::remove_file(&glue)?;
    }
    std::fs::rename(&wasm, dir.join(format!("{name}_bg.wasm")))
        .with_context(|| format!("renaming {}", wasm.display()))?;

    let index = dir.join("index.html");
    let html =
        std::fs::read_to_string(&index).with_context(|| format!("reading {}", index.display()))?;
    if !html.contains(&trunk_name) {
        bail!("{} does not name {trunk_name}", index.display());
    }
    let mut html = html
        .replace(&before, &crate::shell::integrity(&renamed_glue)?)
        .replace(&trunk_name, &name);
    if split {
        // The glue imports the loader: fetched beside the glue, not a round trip after it.
        let preload =
            format!(r#"<link rel="modulepreload" href="/__wasm_split-{hex}.js" crossorigin>"#);
        html = html.replacen("</head>", &format!("{preload}</head>"), 1);
    }
    std::fs::write(&index, html).with_context(|| format!("writing {}", index.display()))
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
    crate::quietly(
        Command::new(wasm_opt)
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
            .arg(file),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A staged split build as Trunk and the splitter leave it, with `wasm` as the main module.
    fn staged(wasm: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "fieldcheck-xtask-{}-{}",
            std::process::id(),
            wasm.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let trunk = "fieldcheck-abc123def4567";
        std::fs::write(dir.join(format!("{trunk}_bg.wasm")), wasm).expect("wasm");
        let glue = dir.join(format!("{trunk}.js"));
        std::fs::write(
            &glue,
            r#"import*as w from"./__wasm_split.js";const i={"./__wasm_split.js":w};"#,
        )
        .expect("glue");
        std::fs::write(
            dir.join(LOADER),
            r#"import { initSync } from "./fieldcheck.js"; fetch("./split_me-0123456789abcdef.wasm");"#,
        )
        .expect("loader");
        let sri = crate::shell::integrity(&glue).expect("sri");
        std::fs::write(
            dir.join("index.html"),
            format!(
                "<head><link href=/{trunk}.js integrity={sri} rel=modulepreload><script type=module>\
                 import init from '/{trunk}.js';init({{module_or_path:'/{trunk}_bg.wasm'}})</script></head>"
            ),
        )
        .expect("index");
        dir
    }

    fn named(dir: &Path, prefix: &str, suffix: &str) -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("read")
            .map(|entry| file_name(&entry.expect("entry").path()))
            .filter(|name| name.starts_with(prefix) && name.ends_with(suffix))
            .collect()
    }

    #[test]
    fn the_main_module_glue_and_loader_are_named_by_their_final_bytes_and_point_at_each_other() {
        let dir = staged(b"\0asm one build");
        name_by_content(&dir).expect("named");

        let wasm = named(&dir, "fieldcheck-", "_bg.wasm");
        assert_eq!(wasm.len(), 1, "{wasm:?}");
        let name = wasm[0].trim_end_matches("_bg.wasm");
        let hex = name.trim_start_matches("fieldcheck-");
        assert_eq!(hex.len(), 16);
        assert_ne!(hex, "abc123def4567");
        let glue = std::fs::read_to_string(dir.join(format!("{name}.js"))).expect("glue");
        // The import names the hashed loader; the imports object keeps the wasm's module name.
        assert!(
            glue.contains(&format!(r#"from"./__wasm_split-{hex}.js""#)),
            "{glue}"
        );
        assert!(glue.contains(r#"{"./__wasm_split.js":w}"#), "{glue}");
        let loader =
            std::fs::read_to_string(dir.join(format!("__wasm_split-{hex}.js"))).expect("loader");
        assert!(loader.contains(&format!(r#""./{name}.js""#)), "{loader}");
        assert!(!dir.join(LOADER).exists());
        let html = std::fs::read_to_string(dir.join("index.html")).expect("index");
        assert!(!html.contains("abc123def4567"), "{html}");
        assert!(html.contains(&format!("/{name}_bg.wasm")), "{html}");
        assert!(
            html.contains(&format!(
                r#"rel="modulepreload" href="/__wasm_split-{hex}.js""#
            )),
            "the loader is fetched beside the glue: {html}"
        );
        let sri = crate::shell::integrity(&dir.join(format!("{name}.js"))).expect("sri");
        assert!(
            html.contains(&sri),
            "the glue's digest follows its new bytes: {html}"
        );

        // The same Trunk names over other bytes (another wasm-opt, splitter or terser): new names.
        let other = staged(b"\0asm another build");
        name_by_content(&other).expect("named");
        let other_wasm = named(&other, "fieldcheck-", "_bg.wasm");
        assert_ne!(other_wasm, wasm);
        std::fs::remove_dir_all(&dir).expect("clean");
        std::fs::remove_dir_all(&other).expect("clean");
    }

    #[test]
    fn a_build_with_the_split_feature_that_was_not_split_is_refused() {
        let dir =
            std::env::temp_dir().join(format!("fieldcheck-xtask-unsplit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("fieldcheck-abc123def4567.js"),
            r#"import*as p from"__wasm_split_placeholder__";"#,
        )
        .expect("glue");
        let error = stage(&dir, &dir, None).expect_err("refused");
        assert!(error.to_string().contains("cargo xtask build"), "{error}");
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
