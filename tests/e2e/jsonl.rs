//! JSONL records: round trip, ids, key options, broken lines.

use crate::*;

fn page(prefix: &str) -> String {
    std::fs::read_to_string(seed(prefix)).unwrap()
}

#[test]
fn records_keep_every_other_field_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pages.jsonl");
    let rec = serde_json::json!({"url": "https://example.com/a", "id": "r1", "text": page("003"), "lang": "en", "metadata": {"crawl": 7}});
    let rec2 = serde_json::json!({"body": "x", "text": page("002")});
    std::fs::write(&input, format!("{rec}\n{rec2}\n")).unwrap();
    let out = textsift().arg("clean").arg(&input).output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    let keys: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["url", "id", "text", "lang", "metadata"]);
    assert_eq!(lines[0]["lang"], "en");
    assert_eq!(lines[0]["metadata"]["crawl"], 7);
    assert!(lines[0]["metadata"]["textsift"]["kept"].as_u64().unwrap() > 0);
    assert_eq!(lines[0]["text"].as_str().unwrap(), clean_stdout(&seed("003")));
    assert_eq!(lines[1]["body"], "x");
}

#[test]
fn missing_ids_become_file_and_line_and_keys_can_be_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("p.jsonl");
    std::fs::write(&input, format!("{}\n", serde_json::json!({"doc": "k", "content": page("004")}))).unwrap();
    let report = dir.path().join("r.json");
    let out = textsift()
        .arg("clean")
        .arg(&input)
        .args(["--text-key", "content", "--id-key", "nope", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success());
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!line["content"].as_str().unwrap().contains("Menu"));
    assert_eq!(read_json(&report)["documents"][0]["id"], "p.jsonl:1");
}

#[test]
fn broken_lines_are_named_counted_and_the_rest_processed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("p.jsonl");
    let good = serde_json::json!({"id": "g", "text": page("002")});
    std::fs::write(&input, format!("{good}\n{{not json\n{good}\n")).unwrap();
    let report = dir.path().join("r.json");
    let out = dir.path().join("out");
    textsift()
        .arg("clean")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("p.jsonl:2: skipped, invalid JSON"));
    let r = read_json(&report);
    assert_eq!(r["skipped"][0]["id"], "p.jsonl:2");
    assert_eq!(r["totals"]["skipped"], 1);
    assert_eq!(r["totals"]["documents"], 2);
    assert!(out.join("p.jsonl").is_file());
}

/// Regression: a JSONL file starting with a UTF-8 byte-order mark (as Windows tools write
/// them) lost its first record as "invalid JSON" on line 1.
#[test]
fn a_utf8_bom_before_the_first_record_does_not_break_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bom.jsonl");
    let a = serde_json::json!({"id": "a", "text": page("002")});
    let b = serde_json::json!({"id": "b", "text": page("004")});
    std::fs::write(&input, format!("\u{feff}{a}\n{b}\n")).unwrap();
    let out = textsift().arg("clean").arg(&input).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["a", "b"]);
}
