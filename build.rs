//! Compiles the lessons into the binary, so `ipc-lab lesson` works offline and from any
//! directory. Reads `lessons/index.toml` and writes, in index order, the file name and an
//! `include_str!` of each lesson: lesson N of the index is `lessons/NN-<name>.md`. A lesson
//! named in the index but missing on disk stops the build here, with its path.
//!
//! Only the file list is made here; `src/lessons/mod.rs` reads the index itself, and
//! `tests/lessons.rs` checks everything else (names, links, commands, shown outputs).

use std::path::Path;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("lessons");
    // A directory: cargo reruns this script when any file in it changes, appears or goes.
    println!("cargo:rerun-if-changed={}", dir.display());

    let index_path = dir.join("index.toml");
    let index =
        std::fs::read_to_string(&index_path).unwrap_or_else(|e| panic!("cannot read {}: {e}", index_path.display()));
    let table: toml::Table =
        index.parse().unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", index_path.display()));
    let lessons = table.get("lesson").and_then(toml::Value::as_array).map(Vec::as_slice).unwrap_or_default();

    let mut code = String::from("&[\n");
    for (i, lesson) in lessons.iter().enumerate() {
        let name = lesson
            .get("name")
            .and_then(toml::Value::as_str)
            .unwrap_or_else(|| panic!("lesson {} of {} has no name", i + 1, index_path.display()));
        let file = format!("{:02}-{name}.md", i + 1);
        let path = dir.join(&file);
        assert!(
            path.is_file(),
            "{} names lesson '{name}', but {} does not exist",
            index_path.display(),
            path.display()
        );
        code.push_str(&format!("    ({file:?}, include_str!({:?})),\n", path.display().to_string()));
    }
    code.push_str("]\n");

    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("lesson_files.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
