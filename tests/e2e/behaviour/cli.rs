//! Command-line behaviour: `--out` layout, standard input, `--report`, `--explain`, usage errors.

use predicates::prelude::*;

use super::{article, fixture, Env};

const SEED: &str = "seeds/000_0ef7c7d691b69c51.txt";

#[test]
fn out_keeps_relative_paths_under_folders_and_file_names_of_files() {
    let env = Env::new();
    env.write("in/a.txt", article(1));
    env.write("in/sub/deeper/b.txt", article(2));
    env.write("in/notes.md", article(3));
    env.write("elsewhere/c.txt", article(4));
    env.clean().args(["in", "elsewhere/c.txt", "--out", "out"]).assert().success();
    let files: Vec<String> = super::tree(&env.path("out")).into_iter().map(|(name, _)| name).collect();
    assert_eq!(files, ["a.txt", "c.txt", "sub/deeper/b.txt"]);
    assert!(String::from_utf8(env.read("out/sub/deeper/b.txt")).unwrap().contains("proposal 2-0"));
}

#[test]
fn stdin_dash_goes_to_stdout_like_a_file() {
    let env = Env::new();
    let page = std::fs::read(fixture(SEED)).unwrap();
    let from_file = env.clean().arg(fixture(SEED)).assert().success().get_output().stdout.clone();
    assert!(!from_file.is_empty());
    env.clean().arg("-").write_stdin(page).assert().success().stdout(from_file).stderr("");
}

#[test]
fn the_report_and_standard_output_stream_in_input_order_across_write_chunks() {
    // More inputs than the write pass takes at a time (4,096): the report lists every document
    // once, in input order, and JSONL records reach standard output in order.
    let env = Env::new();
    let records: String = (0..4200)
        .map(|i| format!("{{\"id\": \"r{i}\", \"text\": \"Record {i} says hello to the reader.\"}}\n"))
        .collect();
    for i in 0..4200 {
        env.write(&format!("in/{:02}/p{i:05}.txt", i / 100), format!("Page {i} is short but whole.\n"));
    }
    env.write("r.jsonl", records);
    env.clean().args(["in", "--out", "out", "--report", "report.json"]).assert().success();
    let report = env.report("report.json");
    let ids: Vec<&str> =
        report["documents"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..4200).map(|i| format!("{:02}/p{i:05}.txt", i / 100)).collect();
    assert_eq!(ids, expected);
    assert_eq!(report["totals"]["documents"], 4200);
    let out = env.clean().args(["r.jsonl"]).assert().success().get_output().stdout.clone();
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4200);
    assert!(lines.iter().enumerate().all(|(i, l)| l["id"] == format!("r{i}")));
}

#[test]
fn report_has_every_documented_field() {
    let env = Env::new();
    env.write("in/a.txt", article(1));
    env.write("in/b.txt", article(2));
    env.clean().args(["in", "--out", "out", "--report", "report.json"]).assert().success();
    let report = env.report("report.json");
    assert_eq!(report["version"], env!("CARGO_PKG_VERSION"));
    let documents = report["documents"].as_array().expect("documents[]");
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0]["id"], "a.txt");
    assert_eq!(documents[1]["id"], "b.txt");
    for document in documents {
        for key in ["id", "blocks", "kept", "dropped", "bytes_in", "bytes_out", "duplicate_of"] {
            assert!(document.get(key).is_some(), "no {key} in {document}");
        }
        assert!(document["blocks"].as_u64().unwrap() >= document["kept"].as_u64().unwrap());
        assert!(document["dropped"].is_object());
        assert!(document["duplicate_of"].is_null());
    }
    assert_eq!(documents[0]["bytes_in"], article(1).len() as u64);
    assert_eq!(documents[0]["bytes_out"], env.read("out/a.txt").len() as u64);
    assert!(report["duplicates"].as_array().expect("duplicates[]").is_empty());
    assert!(report["skipped"].as_array().expect("skipped[]").is_empty());
    assert!(report["totals"].is_object(), "totals in {report}");
}

#[test]
fn explain_shows_keep_and_drop_with_reasons_and_no_colour_into_a_pipe() {
    let env = Env::new();
    let output = env.clean().arg("--explain").arg(fixture(SEED)).assert().success().get_output().clone();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(!text.contains('\x1b'), "colour codes in a pipe:\n{text}");
    assert!(text.starts_with("== 000_0ef7c7d691b69c51.txt: "), "{text}");
    let body: Vec<&str> = text.lines().skip(1).collect();
    assert!(body.iter().all(|l| l.starts_with("KEEP ") || l.starts_with("DROP ")), "{text}");
    assert!(body.iter().any(|l| l.starts_with("KEEP ")));
    // The body pasted twice: its second copy is dropped as a repeat, with that reason.
    assert!(body.iter().any(|l| l.starts_with("DROP ") && l.contains("[repeat")), "{text}");
}

#[test]
fn out_inside_an_input_folder_is_a_usage_error() {
    let env = Env::new();
    env.write("in/a.txt", article(1));
    env.clean().args(["in", "--out", "in/clean"]).assert().code(2).stderr(
        predicate::str::starts_with("textsift: ").and(predicate::str::contains("inside the input folder")),
    );
    assert!(!env.path("in/clean").exists());
}

#[test]
fn several_text_inputs_without_out_is_a_usage_error() {
    let env = Env::new();
    env.write("a.txt", article(1));
    env.write("b.txt", article(2));
    env.clean()
        .args(["a.txt", "b.txt"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("need --out"));
}

#[test]
fn zero_threads_is_a_usage_error() {
    let env = Env::new();
    env.write("a.txt", article(1));
    env.clean()
        .args(["--threads", "0", "a.txt"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--threads"));
}

/// Regression: two inputs given directly with one file name both went to `out/<name>`; the
/// second silently replaced the first and the run exited 0, losing a page.
#[test]
fn two_inputs_with_one_output_path_do_not_overwrite_each_other() {
    let env = Env::new();
    env.write("a/x.txt", article(1));
    env.write("b/x.txt", article(2));
    env.write("in/x.txt", article(3));
    env.clean()
        .args(["a/x.txt", "b/x.txt", "in", "--out", "out", "--report", "report.json"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(
                "textsift: b/x.txt: would be written to out/x.txt like a/x.txt; not written",
            )
            .and(predicate::str::contains("textsift: in/x.txt: would be written")),
        );
    let written = String::from_utf8(env.read("out/x.txt")).unwrap();
    assert!(written.contains("proposal 1-0,"), "{written}");
    let report = env.report("report.json");
    let skipped: Vec<&str> =
        report["skipped"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(skipped, ["b/x.txt", "in/x.txt"]);
    assert_eq!(report["documents"].as_array().unwrap().len(), 1);
}

#[test]
fn out_naming_an_existing_file_is_a_usage_error() {
    let env = Env::new();
    env.write("a.txt", article(1));
    env.write("taken", "keep me");
    env.clean()
        .args(["a.txt", "--out", "taken"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a folder"));
    assert_eq!(env.read("taken"), b"keep me");
}
