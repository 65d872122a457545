//! Replays every kept fuzz input (`fuzz/corpus/<target>/`) through the checks the fuzz targets
//! run (`fuzz/checks.rs`), on stable Rust, so what the fuzzers found stays fixed.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::fs;
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{}: only {} inputs", dir.display(), files.len());
    for file in files {
        let bytes = fs::read(&file).unwrap();
        if std::panic::catch_unwind(|| check(&bytes)).is_err() {
            panic!("{} fails the {target} checks", file.display());
        }
    }
}

#[test]
fn the_page_corpus_passes_the_page_checks() {
    replay("page", checks::page);
}

#[test]
fn the_jsonl_corpus_passes_the_jsonl_checks() {
    replay("jsonl", checks::jsonl);
}
