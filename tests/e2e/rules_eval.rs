//! `--rules` files and `textsift eval`.

use crate::*;

/// The explain view of seed 000 cleaned with a rules file holding `rules`.
fn explain_seed_with_rules(rules: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, rules).unwrap();
    let out =
        textsift().arg("clean").arg(seed("000")).arg("--rules").arg(&path).arg("--explain").output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_user_rule_drops_a_block_and_names_itself() {
    let text = explain_seed_with_rules("[[drop]]\nphrase = \"Japan has cancelled\"\nhow = \"start\"\n");
    assert!(text.contains("DROP L1        [chrome: user rule \"Japan has cancelled\"]"), "{text}");
}

#[test]
fn a_user_pattern_drops_the_blocks_it_finds_and_a_bad_one_is_named() {
    let text =
        explain_seed_with_rules("[[drop]]\npattern = '^US secretary of state .+ security talks\\.$'\n");
    assert!(text.contains("DROP L2        [chrome: user pattern"), "{text}");
    assert!(text.contains("KEEP L1 "), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[[drop]]\npattern = '(unclosed'\n").unwrap();
    textsift()
        .arg("clean")
        .arg(seed("000"))
        .arg("--rules")
        .arg(&rules)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("rules.toml"))
        .stderr(predicates::str::contains("(unclosed"));
}

#[test]
fn a_broken_rules_file_stops_the_run_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[[drop]]\nphrase = 3\n").unwrap();
    textsift()
        .arg("clean")
        .arg(seed("000"))
        .arg("--rules")
        .arg(&rules)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("rules.toml"));
}

#[test]
fn eval_scores_the_seeds_against_their_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    textsift().arg("clean").arg(fixtures().join("seeds")).arg("-o").arg(&out).assert().success();
    let expect = read_json(&fixtures().join("seeds/expect.json"));
    let mut lines = String::new();
    for (file, spec) in expect.as_object().unwrap().iter().filter(|(k, _)| k.as_str() != "about") {
        let rec = serde_json::json!({"file": file, "keep": spec["keep_once"], "drop": spec["drop"]});
        lines.push_str(&format!("{rec}\n"));
    }
    let ann = dir.path().join("ann.jsonl");
    std::fs::write(&ann, lines).unwrap();
    let result = textsift().arg("eval").arg(&out).arg("--annotations").arg(&ann).output().unwrap();
    assert!(result.status.success());
    assert_eq!(String::from_utf8(result.stdout).unwrap(), "F1 1.000 P 1.000 R 1.000 pages=5\n");
}

#[test]
fn eval_agrees_with_the_devset_scorer() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if !shared.join("devset/annotations.jsonl").exists() {
        eprintln!("eval vs devset-score.py: SKIPPED (../shared not found)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    textsift().arg("clean").arg(shared.join("devset/text")).arg("-o").arg(&out).arg("-q").assert().success();
    let ours = textsift()
        .arg("eval")
        .arg(&out)
        .arg("--annotations")
        .arg(shared.join("devset/annotations.jsonl"))
        .output()
        .unwrap();
    let theirs = std::process::Command::new("python3")
        .arg(shared.join("tools/devset-score.py"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(theirs.status.success());
    assert_eq!(String::from_utf8(ours.stdout).unwrap(), String::from_utf8(theirs.stdout).unwrap());
}
