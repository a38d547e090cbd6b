//! Build script of the phone app: keeps the linker's relocations in a split build's wasm.
//!
//! The splitting step (`xtask/src/split.rs`) cuts each screen out of cargo's wasm and needs the
//! relocations to do it; only a build with the `split` feature asks for them, because in any other
//! build they would stay in the wasm a phone downloads (a plain release wasm grew from 1 to 4 MB).

fn main() {
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    if wasm && std::env::var_os("CARGO_FEATURE_SPLIT").is_some() {
        println!("cargo:rustc-link-arg=--emit-relocs");
    }
}
