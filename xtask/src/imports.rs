//! Short names for the functions the main module imports from its glue, in both files at once.
//!
//! wasm-bindgen names each JavaScript function the module imports after the Rust item and a 16-digit
//! hash (`__wbg_body_5f971cbc6950ca4f`): 350 of them, each spelled once in the wasm's import section
//! and once as a key of the glue's import object. The hashes do not compress, and the names are
//! private to the pair: the screens' files reach the main module through its exports and function
//! table, never through these imports. Renamed `a`, `b`, … in both files, a phone downloads about
//! 11 KiB less of the shell (BENCHMARKS.md).

use anyhow::{Context, Result, bail, ensure};
use std::path::Path;

/// How a key of the glue's import object begins a line (`        NAME: function(`), and ends.
const KEY_INDENT: &str = "\n        ";
const KEY_END: &str = ": function(";

/// Renames the glue's imports in the wasm `module` and its glue `js`, written by wasm-bindgen under
/// `out_name` (the wasm names the glue `./{out_name}_bg.js`).
pub fn shorten(module: &Path, js: &Path, out_name: &str) -> Result<()> {
    let glue_module = format!("./{out_name}_bg.js");
    let wasm = std::fs::read(module).with_context(|| format!("reading {}", module.display()))?;
    let glue = std::fs::read_to_string(js).with_context(|| format!("reading {}", js.display()))?;
    let (wasm, renamed) = rename_imports(&wasm, glue_module.as_bytes())
        .with_context(|| format!("renaming the imports of {}", module.display()))?;
    let glue = rename_keys(&glue, &renamed)
        .with_context(|| format!("renaming the import keys of {}", js.display()))?;
    std::fs::write(module, wasm).with_context(|| format!("writing {}", module.display()))?;
    std::fs::write(js, glue).with_context(|| format!("writing {}", js.display()))?;
    println!("xtask: {} glue imports given short names", renamed.len());
    Ok(())
}

/// The `n`th short name: `a`…`z`, `A`…`Z`, then two letters and on. Never a name wasm-bindgen
/// gives (those begin with `__wb`), so a short name cannot meet a long one in the glue.
fn short_name(mut n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(LETTERS[n % LETTERS.len()]);
        n /= LETTERS.len();
        if n == 0 {
            break;
        }
        n -= 1;
    }
    name.reverse();
    String::from_utf8(name).expect("letters are UTF-8")
}

/// Each rename: the name wasm-bindgen gave, and the short one.
type Renames = Vec<(String, String)>;

/// The module with every import from `glue_module` renamed, and the renames (old, new) in order.
fn rename_imports(wasm: &[u8], glue_module: &[u8]) -> Result<(Vec<u8>, Renames)> {
    ensure!(
        wasm.len() >= 8 && wasm.starts_with(b"\0asm"),
        "not a wasm module"
    );
    let mut out = wasm[..8].to_vec();
    let mut renamed = Vec::new();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, body_at) = read_leb(wasm, at + 1)?;
        let end = body_at
            .checked_add(size)
            .filter(|&end| end <= wasm.len())
            .context("a section runs past the end of the module")?;
        if id == 2 {
            let body = rename_in_import_section(&wasm[body_at..end], glue_module, &mut renamed)?;
            out.push(2);
            write_leb(&mut out, body.len());
            out.extend_from_slice(&body);
        } else {
            out.extend_from_slice(&wasm[at..end]);
        }
        at = end;
    }
    ensure!(
        !renamed.is_empty(),
        "the module imports nothing from its glue"
    );
    Ok((out, renamed))
}

fn rename_in_import_section(
    section: &[u8],
    glue_module: &[u8],
    renamed: &mut Renames,
) -> Result<Vec<u8>> {
    let (count, mut at) = read_leb(section, 0)?;
    let mut body = Vec::with_capacity(section.len());
    write_leb(&mut body, count);
    for _ in 0..count {
        let (module, after_module) = read_name(section, at)?;
        let (name, after_name) = read_name(section, after_module)?;
        let desc_end = skip_import_desc(section, after_name)?;
        body.extend_from_slice(&section[at..after_module]);
        if module == glue_module {
            let old = std::str::from_utf8(name).context("an import name is not UTF-8")?;
            let new = short_name(renamed.len());
            write_leb(&mut body, new.len());
            body.extend_from_slice(new.as_bytes());
            renamed.push((old.to_owned(), new));
        } else {
            body.extend_from_slice(&section[after_module..after_name]);
        }
        body.extend_from_slice(&section[after_name..desc_end]);
        at = desc_end;
    }
    ensure!(
        at == section.len(),
        "the import section holds more than its imports"
    );
    Ok(body)
}

/// Where an import's description (after its names) ends.
fn skip_import_desc(section: &[u8], at: usize) -> Result<usize> {
    let kind = *section.get(at).context("an import has no kind")?;
    let at = at + 1;
    Ok(match kind {
        // function: a type index
        0x00 => read_leb(section, at)?.1,
        // table: a reference type, then limits
        0x01 => skip_limits(section, at + 1)?,
        // memory: limits
        0x02 => skip_limits(section, at)?,
        // global: a value type and mutability
        0x03 => at + 2,
        // tag: an attribute and a type index
        0x04 => read_leb(section, at + 1)?.1,
        other => bail!("an import of unknown kind {other:#x}"),
    })
}

fn skip_limits(section: &[u8], at: usize) -> Result<usize> {
    let flags = *section.get(at).context("limits without flags")?;
    let (_, at) = read_leb(section, at + 1)?;
    Ok(if flags & 1 == 1 {
        read_leb(section, at)?.1
    } else {
        at
    })
}

fn read_name(bytes: &[u8], at: usize) -> Result<(&[u8], usize)> {
    let (len, start) = read_leb(bytes, at)?;
    let end = start
        .checked_add(len)
        .filter(|&end| end <= bytes.len())
        .context("a name runs past its section")?;
    Ok((&bytes[start..end], end))
}

fn read_leb(bytes: &[u8], mut at: usize) -> Result<(usize, usize)> {
    let mut value: usize = 0;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(at).context("a number runs past its section")?;
        at += 1;
        ensure!(shift < 35, "a number longer than 32 bits");
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok((value, at));
        }
        shift += 7;
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = u8::try_from(value & 0x7f).expect("seven bits fit a byte");
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The glue with each import object key renamed. Each old name must be a key exactly once and
/// appear nowhere else: a glue of another shape fails the build rather than start a broken app.
fn rename_keys(glue: &str, renamed: &[(String, String)]) -> Result<String> {
    let mut glue = glue.to_owned();
    for (old, new) in renamed {
        let key = format!("{KEY_INDENT}{old}{KEY_END}");
        ensure!(
            glue.matches(old.as_str()).count() == 1 && glue.contains(&key),
            "`{old}` is not a key of the glue's import object exactly once, and only that"
        );
        glue = glue.replacen(&key, &format!("{KEY_INDENT}{new}{KEY_END}"), 1);
    }
    Ok(glue)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE_MODULE: &[u8] = b"./fieldcheck_bg.js";

    fn name(out: &mut Vec<u8>, text: &[u8]) {
        write_leb(out, text.len());
        out.extend_from_slice(text);
    }

    /// A module importing two glue functions, a memory from another module and a third glue
    /// function, then a custom section that must come through untouched.
    fn module() -> Vec<u8> {
        let mut imports = Vec::new();
        write_leb(&mut imports, 4);
        for (module, field, desc) in [
            (
                GLUE_MODULE,
                b"__wbg_body_5f971cbc6950ca4f".as_slice(),
                vec![0x00, 0x03],
            ),
            (
                GLUE_MODULE,
                b"__wbg_now_463ac581d2fc7ea3",
                vec![0x00, 0x81, 0x01],
            ),
            (
                b"__wasm_split".as_slice(),
                b"memory",
                vec![0x02, 0x01, 0x11, 0x80, 0x02],
            ),
            (
                GLUE_MODULE,
                b"__wbindgen_init_externref_table",
                vec![0x00, 0x00],
            ),
        ] {
            name(&mut imports, module);
            name(&mut imports, field);
            imports.extend_from_slice(&desc);
        }
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.push(2);
        write_leb(&mut wasm, imports.len());
        wasm.extend_from_slice(&imports);
        let mut custom = Vec::new();
        name(&mut custom, b"producers");
        custom.extend_from_slice(b"\x00\x01\x02");
        wasm.push(0);
        write_leb(&mut wasm, custom.len());
        wasm.extend_from_slice(&custom);
        wasm
    }

    fn imports_of(wasm: &[u8]) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let (_, body_at) = read_leb(wasm, 9).expect("a section size");
        let (count, mut at) = read_leb(wasm, body_at).expect("a count");
        (0..count)
            .map(|_| {
                let (module, after_module) = read_name(wasm, at).expect("a module name");
                let (field, after_name) = read_name(wasm, after_module).expect("a field name");
                let end = skip_import_desc(wasm, after_name).expect("a description");
                at = end;
                (
                    module.to_vec(),
                    field.to_vec(),
                    wasm[after_name..end].to_vec(),
                )
            })
            .collect()
    }

    #[test]
    fn glue_imports_get_short_names_and_everything_else_comes_through() {
        let before = module();
        let (after, renamed) = rename_imports(&before, GLUE_MODULE).expect("renamed");
        let imports = imports_of(&after);
        let fields: Vec<&[u8]> = imports
            .iter()
            .map(|(_, field, _)| field.as_slice())
            .collect();
        assert_eq!(fields, [b"a".as_slice(), b"b", b"memory", b"c"]);
        let old = imports_of(&before);
        for (new, old) in imports.iter().zip(&old) {
            assert_eq!(new.0, old.0, "modules kept");
            assert_eq!(new.2, old.2, "descriptions kept");
        }
        assert!(
            after.ends_with(b"producers\x00\x01\x02"),
            "later sections kept"
        );
        assert_eq!(
            renamed,
            [
                ("__wbg_body_5f971cbc6950ca4f".to_owned(), "a".to_owned()),
                ("__wbg_now_463ac581d2fc7ea3".to_owned(), "b".to_owned()),
                ("__wbindgen_init_externref_table".to_owned(), "c".to_owned()),
            ]
        );
    }

    #[test]
    fn short_names_are_distinct_letters() {
        let names: Vec<String> = (0..3000).map(short_name).collect();
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert_eq!(
            (names[0].as_str(), names[51].as_str(), names[52].as_str()),
            ("a", "Z", "aa")
        );
        assert!(
            names
                .iter()
                .all(|name| name.bytes().all(|byte| byte.is_ascii_alphabetic()))
        );
    }

    #[test]
    fn the_glue_keys_are_renamed_and_a_glue_of_another_shape_is_refused() {
        let renamed = vec![("__wbg_now_463ac581d2fc7ea3".to_owned(), "a".to_owned())];
        let glue = "const import0 = {\n        __proto__: null,\n        __wbg_now_463ac581d2fc7ea3: function(arg0) {\n            return Date.now();\n        },\n    };";
        assert_eq!(
            rename_keys(glue, &renamed).expect("renamed"),
            glue.replace("__wbg_now_463ac581d2fc7ea3", "a")
        );
        let used_elsewhere = format!("{glue}\nwasm.__wbg_now_463ac581d2fc7ea3();");
        assert!(rename_keys(&used_elsewhere, &renamed).is_err());
        let not_a_key = "const import0 = { __wbg_now_463ac581d2fc7ea3 };";
        assert!(rename_keys(not_a_key, &renamed).is_err());
    }

    #[test]
    fn a_truncated_module_is_refused() {
        let wasm = module();
        assert!(rename_imports(&wasm[..20], GLUE_MODULE).is_err());
        assert!(rename_imports(b"\0asm", GLUE_MODULE).is_err());
    }
}
