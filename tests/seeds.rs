//! All of `fixtures/seeds/expect.json` through the built binary: every `keep_once` snippet appears
//! exactly once in the clean text, no `drop` snippet appears (white space folded, case-sensitive).

use std::path::Path;

use assert_cmd::Command;

fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_seed_meets_its_expectations() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seeds");
    let expect: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expect.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    for (name, spec) in expect.as_object().unwrap().iter().filter(|(k, _)| k.as_str() != "about") {
        let output =
            Command::cargo_bin("textsift").unwrap().arg("clean").arg(dir.join(name)).output().unwrap();
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        let clean = fold(&String::from_utf8(output.stdout).unwrap());
        for snippet in spec["keep_once"].as_array().unwrap() {
            let count = clean.matches(&fold(snippet.as_str().unwrap())).count();
            if count != 1 {
                failures.push(format!("{name}: kept {count} times: {snippet}"));
            }
        }
        for snippet in spec["drop"].as_array().unwrap() {
            if clean.contains(&fold(snippet.as_str().unwrap())) {
                failures.push(format!("{name}: leaked: {snippet}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
