//! The repeat parts of `fixtures/seeds/expect.json`: a block repeated in a page is kept once.

use super::{fixture, fold_space, Env};

fn clean_seed(name: &str) -> String {
    let env = Env::new();
    let output = env.clean().arg(fixture(&format!("seeds/{name}"))).assert().success().get_output().clone();
    fold_space(&String::from_utf8(output.stdout).expect("UTF-8 output"))
}

#[test]
fn seed_000_pasted_twice_keeps_every_keep_once_snippet_exactly_once() {
    let expect: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("seeds/expect.json")).unwrap()).unwrap();
    let name = "000_0ef7c7d691b69c51.txt";
    let snippets = expect[name]["keep_once"].as_array().expect("keep_once snippets");
    assert!(snippets.len() >= 5);
    let clean = clean_seed(name);
    for snippet in snippets {
        let snippet = fold_space(snippet.as_str().unwrap());
        assert_eq!(clean.matches(&snippet).count(), 1, "{snippet:?} in:\n{clean}");
    }
}

#[test]
fn seed_003_title_appears_exactly_once() {
    let title = "Japan pulls out of talks with Trump administration after \u{2018}being ordered to spend more on defence'";
    let clean = clean_seed("003_0eff458de775143f.txt");
    assert_eq!(clean.matches(title).count(), 1, "in:\n{clean}");
}
