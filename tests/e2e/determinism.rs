//! The same output whatever the thread count, and cleaning clean text changes nothing.

use crate::*;

fn tree(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (e.path().strip_prefix(dir).unwrap().display().to_string(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn thread_count_and_cache_size_do_not_change_outputs_or_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    // The third run keeps nothing of pass 1 for the later passes: every page is labelled again.
    for (threads, cache) in [("1", "128"), ("2", "128"), ("2", "0")] {
        let out = dir.path().join(format!("out{threads}-{cache}"));
        let report = dir.path().join(format!("r{threads}-{cache}.json"));
        textsift()
            .arg("clean")
            .arg(fixtures())
            .args(["--glob", "*.txt", "--glob", "*.jsonl", "-j", threads, "--cache-mib", cache, "-o"])
            .arg(&out)
            .arg("--report")
            .arg(&report)
            .assert()
            .success();
        runs.push((tree(&out), std::fs::read(&report).unwrap()));
    }
    assert!(!runs[0].0.is_empty());
    assert_eq!(runs[0], runs[1], "one vs two threads");
    assert_eq!(runs[1], runs[2], "pass-1 results kept vs labelled again");
}

#[test]
fn cleaning_clean_text_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let once = dir.path().join("once");
    let twice = dir.path().join("twice");
    textsift().arg("clean").arg(fixtures().join("seeds")).arg("-o").arg(&once).assert().success();
    textsift().arg("clean").arg(&once).arg("-o").arg(&twice).assert().success();
    assert_eq!(tree(&once), tree(&twice));
}
