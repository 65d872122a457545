//! Repeats, the `--out` layout, standard output, the report and the explain view.

use crate::*;

#[test]
fn seed_000_pasted_body_appears_once() {
    let expect = read_json(&fixtures().join("seeds/expect.json"));
    let clean = fold(&clean_stdout(&seed("000")));
    for snippet in expect["000_0ef7c7d691b69c51.txt"]["keep_once"].as_array().unwrap() {
        let snippet = fold(snippet.as_str().unwrap());
        assert_eq!(clean.matches(&snippet).count(), 1, "{snippet}");
    }
}

#[test]
fn seed_003_title_is_kept_once() {
    let clean = fold(&clean_stdout(&seed("003")));
    let title =
        "Japan pulls out of talks with Trump administration after ‘being ordered to spend more on defence'";
    assert_eq!(clean.matches(title).count(), 1);
}

#[test]
fn out_keeps_paths_relative_to_the_input_folder() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("a/b")).unwrap();
    std::fs::copy(seed("002"), input.join("a/b/page.txt")).unwrap();
    std::fs::copy(seed("004"), input.join("top.txt")).unwrap();
    let out = dir.path().join("out");
    textsift().arg("clean").arg(&input).arg(seed("001")).arg("-o").arg(&out).assert().success();
    assert!(out.join("a/b/page.txt").is_file());
    assert!(out.join("top.txt").is_file());
    assert!(out.join("001_1c1240f4140953fa.txt").is_file(), "a file given directly lands at its name");
}

#[test]
fn standard_input_goes_to_standard_output() {
    let page = std::fs::read_to_string(seed("003")).unwrap();
    let out = textsift().args(["clean", "-"]).write_stdin(page).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), clean_stdout(&seed("003")));
}

#[test]
fn report_has_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    textsift()
        .arg("clean")
        .arg(fixtures().join("seeds"))
        .arg("-o")
        .arg(dir.path().join("out"))
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    let r = read_json(&report);
    assert_eq!(r["version"], env!("CARGO_PKG_VERSION"));
    let docs = r["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 5);
    for key in ["id", "blocks", "kept", "dropped", "bytes_in", "bytes_out", "duplicate_of"] {
        assert!(docs[0].get(key).is_some(), "documents[].{key}");
    }
    assert_eq!(docs[0]["id"], "000_0ef7c7d691b69c51.txt");
    assert!(docs[0]["dropped"]["repeat"].as_u64().unwrap() >= 9, "the pasted body is dropped as repeats");
    assert!(r["duplicates"].is_array() && r["skipped"].is_array());
    let kept: u64 = docs.iter().map(|d| d["kept"].as_u64().unwrap()).sum();
    assert_eq!(r["totals"]["kept"].as_u64().unwrap(), kept);
    assert_eq!(r["totals"]["documents"], 5);
}

#[test]
fn stats_print_the_report_totals_and_a_row_a_phase_even_when_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let run = |stats: bool| {
        let mut command = textsift();
        command.arg("clean").arg(fixtures().join("seeds")).arg("-o").arg(dir.path().join("out"));
        command.arg("--report").arg(&report).arg("-q");
        if stats {
            command.arg("--stats");
        }
        command.output().unwrap()
    };
    let quiet = run(false);
    assert!(quiet.status.success() && quiet.stderr.is_empty(), "without --stats, -q prints nothing");
    let out = run(true);
    assert!(out.status.success() && out.stdout.is_empty(), "the stats go to standard error");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    let totals = &read_json(&report)["totals"];
    let number = |key: &str| totals[key].as_u64().unwrap();
    assert!(lines[0].starts_with("textsift: 5 inputs, 5 documents, "), "{stderr}");
    assert!(!cfg!(unix) || lines[0].contains(" MB/s), peak memory "), "{stderr}");
    let blocks = format!("textsift: {} blocks: {} kept, ", number("blocks"), number("kept"));
    assert!(lines[1].starts_with(&blocks), "{stderr}");
    assert!(lines[1].contains(&format!("repeat {}", totals["dropped"]["repeat"])), "{stderr}");
    assert!(lines[1].ends_with("; 0 skipped, 0 failed"), "{stderr}");
    let phases: Vec<&str> = lines[3..]
        .iter()
        .map(|line| line.trim_start_matches("textsift: ").split("  ").next().unwrap())
        .collect();
    assert_eq!(phases, ["find inputs", "label (pass 1)", "corpus pass", "write (pass 2)", "total"]);
}

#[test]
fn explain_shows_every_block_with_its_reason_and_no_colour_in_a_pipe() {
    let out = textsift().arg("clean").arg(seed("003")).arg("--explain").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("== 003_0eff458de775143f.txt: "));
    assert!(text.contains("DROP L4        [repeat of block 2] Japan pulls out"));
    assert!(text.lines().skip(1).all(|l| l.starts_with("KEEP ") || l.starts_with("DROP ")));
    assert!(!text.contains('\x1b'));
}

#[test]
fn explain_says_why_every_block_is_kept_and_how_the_page_was_measured() {
    let out = textsift().arg("clean").arg(seed("003")).arg("--explain").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().ends_with("; stopwords: eng"), "{text}");
    assert!(text.contains("KEEP L2        [title] Japan pulls out"), "{text}");
    assert!(
        text.contains("KEEP L8        [article: prose (25 words, 48% stopwords)] Japan has cancelled"),
        "{text}"
    );
    // Every line, kept or dropped, names why.
    let keeps: Vec<&str> = text.lines().filter(|l| l.starts_with("KEEP ")).collect();
    assert!(keeps.len() > 10);
    assert!(text.lines().skip(1).all(|l| l[15..].starts_with('[')), "{text}");
}
