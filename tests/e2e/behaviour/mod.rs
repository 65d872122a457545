//! End-to-end behaviour tests written on the e2e branch, each in its own fresh folder ([`Env`]).

mod bad_input;
mod cli;
mod compressed;
mod determinism;
mod jsonl;
mod repeats;
mod safety;

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A fresh temporary folder for one test, and the binary to run in it.
pub struct Env {
    dir: tempfile::TempDir,
}

impl Default for Env {
    fn default() -> Env {
        Env { dir: tempfile::tempdir().expect("a temporary folder") }
    }
}

impl Env {
    pub fn new() -> Env {
        Env::default()
    }

    /// A path inside the test's folder.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes `bytes` at `relative`, creating folders.
    pub fn write(&self, relative: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
        fs::write(&path, bytes).expect("write a test file");
        path
    }

    /// Reads a file of the test's folder.
    pub fn read(&self, relative: &str) -> Vec<u8> {
        fs::read(self.path(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    /// `textsift clean`, run in the test's folder.
    pub fn clean(&self) -> Command {
        let mut cmd = Command::new(bin());
        cmd.current_dir(self.dir.path()).arg("clean");
        cmd
    }

    /// The parsed `--report` file at `relative`.
    pub fn report(&self, relative: &str) -> serde_json::Value {
        serde_json::from_slice(&self.read(relative)).expect("the report is JSON")
    }
}

/// The built binary.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_textsift")
}

/// A path under the repository's `fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(relative)
}

/// The seed pages, sorted by name.
pub fn seeds() -> Vec<PathBuf> {
    let mut seeds: Vec<PathBuf> = fs::read_dir(fixture("seeds"))
        .expect("fixtures/seeds")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 5, "seeds missing: {seeds:?}");
    seeds
}

/// Folds every run of white space (no-break spaces included) to one space.
pub fn fold_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every file under `root`, relative path to bytes, sorted.
pub fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(root).expect("under root").to_string_lossy().into_owned();
                files.push((relative, fs::read(&path).expect("read an output")));
            }
        }
    }
    files.sort();
    files
}

/// A page of article-like paragraphs, distinct for each `n`: its words are drawn from a small
/// vocabulary by a generator seeded with `n`, so two pages are never near-duplicates. Paragraph
/// `p` contains the marker `proposal {n}-{p},`.
pub fn article(n: usize) -> String {
    const WORDS: &[&str] = &[
        "council",
        "members",
        "budget",
        "schools",
        "roads",
        "library",
        "residents",
        "villages",
        "cost",
        "plan",
        "debate",
        "mayor",
        "district",
        "funding",
        "vote",
        "week",
        "report",
        "housing",
        "transport",
        "river",
        "bridge",
        "market",
        "teachers",
        "parents",
        "election",
        "taxes",
        "hospital",
        "doctors",
        "winter",
        "farmers",
        "harbour",
        "museum",
        "police",
        "station",
        "train",
        "festival",
        "students",
        "workers",
        "factory",
        "energy",
    ];
    let mut state = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut word = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        WORDS[(state % WORDS.len() as u64) as usize]
    };
    let mut page = format!("The {} and the {} of the {} {n}\n\n", word(), word(), word());
    for p in 0..4 {
        page.push_str(&format!("The regional council met on Tuesday to discuss proposal {n}-{p}, which"));
        for s in 0..5 {
            for _ in 0..9 {
                page.push(' ');
                page.push_str(word());
            }
            page.push_str(if s == 4 { ".\n\n" } else { ", and the" });
        }
    }
    page
}
