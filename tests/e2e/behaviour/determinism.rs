//! The same inputs give byte-identical outputs whatever the thread count, and cleaning a clean
//! output again changes nothing.

use super::{fixture, tree, Env};

fn run_with_threads(env: &Env, input: &std::path::Path, threads: &str) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
    let out = format!("out-j{threads}");
    let report = format!("report-j{threads}.json");
    env.clean()
        .arg(format!("-j{threads}"))
        .arg(input)
        .args(["--out", &out, "--report", &report])
        .assert()
        .success();
    (tree(&env.path(&out)), env.read(&report))
}

fn same_with_one_and_two_threads(input: &std::path::Path) {
    let env = Env::new();
    let (files_1, report_1) = run_with_threads(&env, input, "1");
    let (files_2, report_2) = run_with_threads(&env, input, "2");
    assert!(!files_1.is_empty(), "{:?}", files_1.iter().map(|f| &f.0).collect::<Vec<_>>());
    let names = |files: &[(String, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&files_1), names(&files_2));
    for ((name, one), (_, two)) in files_1.iter().zip(&files_2) {
        assert!(one == two, "{name} differs between -j1 and -j2");
    }
    assert_eq!(String::from_utf8(report_1).unwrap(), String::from_utf8(report_2).unwrap());
}

#[test]
fn one_and_two_threads_give_identical_outputs_over_fixtures() {
    same_with_one_and_two_threads(&fixture(""));
}

#[test]
fn one_and_two_threads_give_identical_outputs_over_the_corpus_fixtures() {
    let corpus = fixture("corpus");
    if corpus.exists() {
        same_with_one_and_two_threads(&corpus);
    }
}

#[test]
fn cleaning_a_clean_seed_again_changes_nothing() {
    for seed in super::seeds() {
        let env = Env::new();
        let once = env.clean().arg(&seed).assert().success().get_output().stdout.clone();
        assert!(!once.is_empty(), "{}", seed.display());
        env.write("once.txt", &once);
        let twice = env.clean().arg("once.txt").assert().success().get_output().stdout.clone();
        assert!(
            once == twice,
            "{}: second clean differs\n--- once\n{}\n--- twice\n{}",
            seed.display(),
            String::from_utf8_lossy(&once),
            String::from_utf8_lossy(&twice)
        );
    }
}
