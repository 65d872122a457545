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
fn records_of_one_jsonl_file_cleaned_in_parallel_come_out_as_with_one_thread() {
    // One file of many records (copies among them), a byte-order mark, a blank and a broken line:
    // records are labelled and written in parallel, and everything stays in line order.
    let dir = tempfile::tempdir().unwrap();
    let copies = std::fs::read_to_string(fixtures().join("corpus/copies/pages.jsonl")).unwrap();
    let mut lines: Vec<&str> = copies.lines().collect();
    lines.insert(3, "");
    lines.insert(5, "{broken");
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, format!("\u{feff}{}\n", lines.join("\n"))).unwrap();
    let mut runs = Vec::new();
    for (threads, cache) in [("1", "256"), ("2", "256"), ("2", "0")] {
        let name = |what: &str| dir.path().join(format!("{what}-{threads}-{cache}"));
        let out = textsift()
            .arg("clean")
            .arg(&input)
            .args(["-j", threads, "--cache-mib", cache, "--report"])
            .arg(name("report"))
            .arg("--removed")
            .arg(name("removed"))
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        runs.push((out, std::fs::read(name("report")).unwrap(), std::fs::read(name("removed")).unwrap()));
    }
    assert!(!runs[0].2.is_empty(), "the copies are removed");
    let ids: Vec<serde_json::Value> = String::from_utf8(runs[0].0.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].clone())
        .collect();
    let position = |id: &serde_json::Value| {
        lines.iter().position(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v["id"] == *id))
    };
    let positions: Vec<usize> = ids.iter().map(|id| position(id).expect("an input record")).collect();
    assert!(positions.len() > 10 && positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(runs[0], runs[1], "one vs two threads");
    assert_eq!(runs[1], runs[2], "pass-1 results kept vs labelled again");
}

#[test]
fn records_read_again_where_they_start_clean_as_when_the_whole_stream_is_read_again() {
    // With nothing of pass 1 kept, the corpus pass reads every record again: only their lines,
    // where they start, from a file or standard input that is not compressed; the whole stream
    // from a compressed one. Either way the output is what keeping pass 1's results gives.
    let dir = tempfile::tempdir().unwrap();
    let copies = std::fs::read_to_string(fixtures().join("corpus/copies/pages.jsonl")).unwrap();
    let mut lines: Vec<String> = copies.lines().map(str::to_string).collect();
    lines.insert(2, String::new());
    lines.insert(4, "{broken".into());
    lines[6].push('\r');
    let text = format!("\u{feff}{}", lines.join("\n"));
    let plain = dir.path().join("in.jsonl");
    std::fs::write(&plain, &text).unwrap();
    let gz = dir.path().join("in.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, text.as_bytes()).unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    let run = |input: &std::path::Path, cache: &str| {
        let mut command = textsift();
        command.args(["clean", "--format", "jsonl", "-q", "--cache-mib", cache]);
        if input.as_os_str() == "-" {
            command.arg("-").write_stdin(text.clone());
        } else {
            command.arg(input);
        }
        let output = command.output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "one broken line: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    let kept = run(&plain, "256");
    assert_eq!(String::from_utf8_lossy(&kept).lines().count(), 12, "the copies are dropped");
    assert_eq!(run(&plain, "0"), kept, "lines read where they start");
    assert_eq!(run(std::path::Path::new("-"), "0"), kept, "standard input");
    assert_eq!(run(&gz, "0"), kept, "the whole stream read again");
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
