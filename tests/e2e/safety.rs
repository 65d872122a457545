//! Usage errors, never writing inputs, whole files only, closed pipes.

use std::process::Stdio;

use crate::*;

#[test]
fn out_inside_an_input_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(seed("002"), dir.path().join("a.txt")).unwrap();
    textsift()
        .arg("clean")
        .arg(dir.path())
        .arg("-o")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("inside the input folder"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn several_text_inputs_without_out_is_a_usage_error() {
    textsift().arg("clean").arg(seed("001")).arg(seed("002")).assert().code(2);
}

#[test]
fn zero_threads_is_a_usage_error() {
    textsift().arg("clean").arg(seed("001")).args(["-j", "0"]).assert().code(2);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let cmd = format!(
        "{} clean {} | head -c 1",
        assert_cmd::cargo::cargo_bin("textsift").display(),
        seed("000").display()
    );
    let out =
        std::process::Command::new("bash").args(["-c", &format!("set -o pipefail; {cmd}")]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_lone_jsonl_input_streams_to_standard_output_and_a_closed_pipe_ends_quietly() {
    // 3,000 records, more than one batch's worth of output: `head` closes the pipe early.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.jsonl");
    let page = std::fs::read_to_string(seed("001")).unwrap();
    let record = serde_json::json!({ "text": page }).to_string();
    let records: String = (0..3000).map(|i| format!("{{\"id\":\"r{i}\",{}\n", &record[1..])).collect();
    std::fs::write(&input, records).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("textsift");
    let whole = textsift().arg("clean").arg(&input).arg("--keep-duplicates").assert().success();
    let whole = whole.get_output().stdout.clone();
    assert_eq!(String::from_utf8_lossy(&whole).lines().count(), 3000);
    let cmd = format!("{} clean {} --keep-duplicates | head -c 100", bin.display(), input.display());
    let out =
        std::process::Command::new("bash").args(["-c", &format!("set -o pipefail; {cmd}")]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, whole[..100]);
}

#[test]
fn a_run_killed_mid_way_leaves_only_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let pages: Vec<String> = ["000", "001", "002", "003", "004"]
        .iter()
        .map(|p| std::fs::read_to_string(seed(p)).unwrap())
        .collect();
    for i in 0..3000 {
        let sub = input.join(format!("d{}", i / 500));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            sub.join(format!("p{i}.txt")),
            format!("Page number {i} of the run.\n\n{}", pages[i % 5]),
        )
        .unwrap();
    }
    let full = dir.path().join("full");
    let started = std::time::Instant::now();
    textsift().arg("clean").arg(&input).arg("-o").arg(&full).arg("-q").assert().success();
    let kill_after = started.elapsed();

    let killed = dir.path().join("killed");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("textsift"))
        .arg("clean")
        .arg(&input)
        .arg("-o")
        .arg(&killed)
        .arg("-q")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as its write pass has begun (or after twice the full run's time).
    let deadline = std::time::Instant::now() + kill_after * 3;
    while std::time::Instant::now() < deadline
        && std::fs::read_dir(killed.join("d0")).map_or(true, |d| d.count() < 50)
    {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut whole = 0;
    for entry in
        walkdir::WalkDir::new(&killed).into_iter().map(|e| e.unwrap()).filter(|e| e.file_type().is_file())
    {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with(".textsift-") {
            continue; // a hidden temporary file is allowed
        }
        let relative = entry.path().strip_prefix(&killed).unwrap();
        assert_eq!(
            std::fs::read(entry.path()).unwrap(),
            std::fs::read(full.join(relative)).unwrap(),
            "{name}"
        );
        whole += 1;
    }
    eprintln!("killed mid-run: {whole} of 3000 outputs written, all whole");
    assert!(whole < 3000, "the run finished before it could be killed");
}

#[test]
fn two_inputs_with_one_output_path_do_not_overwrite_each_other() {
    let dir = tempfile::tempdir().unwrap();
    for (sub, prefix) in [("a", "002"), ("b", "004")] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::copy(seed(prefix), dir.path().join(sub).join("x.txt")).unwrap();
    }
    let out = dir.path().join("out");
    textsift()
        .arg("clean")
        .arg(dir.path().join("a/x.txt"))
        .arg(dir.path().join("b/x.txt"))
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("would be written to"));
    assert_eq!(std::fs::read_to_string(out.join("x.txt")).unwrap(), clean_stdout(&seed("002")));
}

#[test]
fn an_output_that_is_its_own_input_is_refused_and_the_input_kept() {
    // The output folder is the input file's own folder (directly, and through a symlink): the
    // output path is the input, so the input is refused, byte for byte untouched.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a.txt");
    std::fs::copy(seed("002"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(dir.path(), &link).unwrap();
    for out in [dir.path().to_path_buf(), link] {
        textsift()
            .arg("clean")
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .assert()
            .code(1)
            .stderr(predicates::str::contains("would overwrite its own input"));
        assert_eq!(std::fs::read(&input).unwrap(), before);
    }
}
