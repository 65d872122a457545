//! End-to-end tests of `textsift clean` through the built binary: one test binary, a module per
//! feature, each test in its own fresh folder.

mod behaviour;
mod determinism;
mod inputs;
mod jsonl;
mod output;
mod rules_eval;
mod safety;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `textsift` binary.
pub fn textsift() -> Command {
    Command::cargo_bin("textsift").expect("binary builds")
}

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A seed page by its number prefix (`"000"`).
pub fn seed(prefix: &str) -> PathBuf {
    let dir = fixtures().join("seeds");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap()
}

/// White space folded to single spaces, as expect.json and the devset compare text.
pub fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cleans one file to standard output and returns the text.
pub fn clean_stdout(path: &Path) -> String {
    let out = textsift().arg("clean").arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
