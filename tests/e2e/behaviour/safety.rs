//! A run killed at any moment leaves whole files or none; a closed stdout is not an error.

use std::process::{Command, Stdio};
use std::time::Instant;

use predicates::prelude::*;

use super::{article, bin, fixture, tree, Env};

#[test]
fn a_run_killed_midway_leaves_only_whole_files_and_hidden_temporaries() {
    let env = Env::new();
    for n in 0..3000 {
        env.write(&format!("in/{:02}/{n:05}.txt", n % 50), article(n));
    }
    let started = Instant::now();
    let status = Command::new(bin())
        .current_dir(env.path(""))
        .args(["clean", "in", "--out", "full", "-q"])
        .status()
        .unwrap();
    assert!(status.success());
    let full_run = started.elapsed();
    let complete = tree(&env.path("full"));
    assert_eq!(complete.len(), 3000);

    let mut caught_midway = 0;
    for (attempt, share) in [0.5, 0.7, 0.8, 0.9, 0.95].into_iter().enumerate() {
        let out = format!("killed{attempt}");
        let mut child = Command::new(bin())
            .current_dir(env.path(""))
            .args(["clean", "in", "--out", &out, "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full_run.mul_f64(share));
        // A run that already finished is fine too: its outputs must then all be whole.
        let _ = child.kill();
        child.wait().unwrap();
        let root = env.path(&out);
        if !root.exists() {
            continue;
        }
        let left = tree(&root);
        let whole: Vec<_> = left.iter().filter(|(name, _)| !hidden_temporary(name)).collect();
        if !whole.is_empty() && whole.len() < complete.len() {
            caught_midway += 1;
        }
        for (name, bytes) in whole {
            let expected = complete.iter().find(|(n, _)| n == name).map(|(_, b)| b);
            assert_eq!(expected, Some(bytes), "{out}/{name} is not the file a complete run writes");
        }
    }
    eprintln!("runs killed while writing: {caught_midway} of 5");
}

fn hidden_temporary(relative: &str) -> bool {
    relative.rsplit('/').next().is_some_and(|name| name.starts_with(".textsift-"))
}

/// Runs `command` under `sh -c` with stdout piped into `head -c 1`; returns textsift's exit
/// code and its stderr.
fn through_head(env: &Env, input: &std::path::Path) -> (String, String) {
    let script =
        format!("{{ '{}' clean '{}' 2>err; echo $? >code; }} | head -c 1 >/dev/null", bin(), input.display());
    let status = Command::new("sh").current_dir(env.path("")).arg("-c").arg(script).status().unwrap();
    assert!(status.success());
    let code = String::from_utf8(env.read("code")).unwrap().trim().to_string();
    (code, String::from_utf8(env.read("err")).unwrap())
}

#[test]
fn broken_pipe_exits_quietly_with_0() {
    let env = Env::new();
    let (code, stderr) = through_head(&env, &fixture("seeds/000_0ef7c7d691b69c51.txt"));
    assert_eq!((code.as_str(), stderr.as_str()), ("0", ""));
}

#[test]
fn broken_pipe_on_output_larger_than_the_pipe_exits_quietly_with_0() {
    let env = Env::new();
    let page: String = (0..3000).map(|n| article(n).lines().nth(2).unwrap().to_string() + "\n\n").collect();
    assert!(page.len() > 1 << 20);
    env.write("big.txt", &page);
    let (code, stderr) = through_head(&env, &env.path("big.txt"));
    assert_eq!((code.as_str(), stderr.as_str()), ("0", ""));
}

/// Regression: outputs went through tempfile's private temporaries and kept their mode 0600,
/// so other users and groups could not read the clean text.
#[cfg(unix)]
#[test]
fn outputs_get_the_permissions_of_any_new_file_not_0600() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let made_here = env.write("in/a.txt", article(1));
    env.write("in/b.jsonl", format!("{}\n", serde_json::json!({"text": article(2)})));
    env.clean().args(["in", "--out", "out", "--report", "report.json"]).assert().success();
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let expected = mode(&made_here);
    assert_ne!(expected, 0o600, "the test needs a umask that lets others read new files");
    for written in ["out/a.txt", "out/b.jsonl", "report.json"] {
        assert_eq!(mode(&env.path(written)), expected, "{written}");
    }
}

#[test]
fn write_errors_are_named_and_the_other_outputs_are_still_written() {
    let env = Env::new();
    env.write("in/a/x.txt", article(1));
    env.write("in/y.txt", article(2));
    env.write("out/a", "a file where a folder should be");
    std::fs::create_dir_all(env.path("report-is-a-folder")).unwrap();
    env.clean().args(["in", "--out", "out", "--report", "report-is-a-folder"]).assert().code(1).stderr(
        predicates::str::contains("textsift: out/a/x.txt: cannot write: ")
            .and(predicates::str::contains("textsift: report-is-a-folder: cannot write: ")),
    );
    assert_eq!(env.read("out/a"), b"a file where a folder should be");
    assert!(String::from_utf8(env.read("out/y.txt")).unwrap().contains("proposal 2-0,"));
    let left: Vec<String> = tree(&env.path("out")).into_iter().map(|(name, _)| name).collect();
    assert_eq!(left, ["a", "y.txt"]);
}
