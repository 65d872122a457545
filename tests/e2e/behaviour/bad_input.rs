//! Bad inputs never stop a run: missing paths, binary files, empty files, legacy encodings,
//! CRLF line ends and very long lines.

use predicates::prelude::*;

use super::{article, Env};

#[test]
fn a_missing_path_is_named_and_the_rest_of_the_run_goes_on() {
    let env = Env::new();
    env.write("good.txt", article(1));
    env.clean()
        .args(["missing.txt", "good.txt", "--out", "out", "--report", "report.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("textsift: missing.txt: "));
    let report = env.report("report.json");
    assert_eq!(report["skipped"][0]["id"], "missing.txt", "{report}");
    assert_eq!(report["documents"][0]["id"], "good.txt", "{report}");
    assert!(String::from_utf8(env.read("out/good.txt")).unwrap().contains("proposal 1-0"));
    assert!(!env.path("out/missing.txt").exists());
}

#[test]
fn a_binary_file_is_skipped_named_and_reported() {
    let env = Env::new();
    env.write("in/good.txt", article(1));
    env.write("in/image.txt", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0some text after the nul bytes");
    let bad = env.path("in/image.txt");
    env.clean().args(["in", "--out", "out", "--report", "report.json"]).assert().code(1).stderr(format!(
        "textsift: {}: skipped, binary file\n",
        std::path::Path::new("in").join("image.txt").display()
    ));
    assert!(bad.exists());
    assert!(env.path("out/good.txt").exists());
    assert!(!env.path("out/image.txt").exists());
    let report = env.report("report.json");
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{report}");
    assert_eq!(skipped[0]["id"], "image.txt");
    assert_eq!(skipped[0]["reason"], "binary file");
}

#[test]
fn an_empty_file_gives_an_empty_output_file() {
    let env = Env::new();
    env.write("in/empty.txt", "");
    env.write("in/full.txt", article(1));
    env.clean().args(["in", "--out", "out"]).assert().success().stderr("");
    assert_eq!(env.read("out/empty.txt"), b"");
}

#[test]
fn windows_1252_text_comes_out_as_utf8() {
    let env = Env::new();
    let page = "Le caf\u{e9} de la gare a rouvert ses portes apr\u{e8}s des ann\u{e9}es de travaux, et \
                les habitants du quartier se r\u{e9}jouissent d'y retrouver leurs habitudes. \
                Le g\u{e9}rant pr\u{e9}voit d'ouvrir une terrasse d\u{e8}s le mois prochain.\n";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(page);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "the test input must not be UTF-8");
    env.write("page.txt", &bytes);
    let output = env.clean().arg("page.txt").assert().success().get_output().stdout.clone();
    let text = String::from_utf8(output).expect("UTF-8 output");
    assert!(text.contains("Le caf\u{e9} de la gare"), "{text}");
    assert!(text.contains("se r\u{e9}jouissent"), "{text}");
}

#[test]
fn crlf_input_cleans_exactly_like_lf() {
    for seed in super::seeds() {
        let env = Env::new();
        let lf = std::fs::read_to_string(&seed).unwrap().replace("\r\n", "\n");
        env.write("lf.txt", &lf);
        env.write("crlf.txt", lf.replace('\n', "\r\n"));
        let expected = env.clean().arg("lf.txt").assert().success().get_output().stdout.clone();
        env.clean().arg("crlf.txt").assert().success().stdout(expected);
    }
}

#[test]
fn a_30_mb_single_line_file_is_handled() {
    let env = Env::new();
    let mut line = String::with_capacity(31 << 20);
    let mut i = 0u64;
    while line.len() < 30 << 20 {
        line.push_str(&format!("word{} and more text ", i % 9973));
        i += 1;
    }
    env.write("in/huge.txt", &line);
    env.write("in/page.txt", article(1));
    env.clean().args(["in", "--out", "out", "--report", "r.json"]).assert().success().stderr("");
    assert!(env.path("out/huge.txt").exists());
    let report = env.report("r.json");
    assert_eq!(report["documents"][0]["id"], "huge.txt");
    assert_eq!(report["documents"][0]["bytes_in"], line.len() as u64);
}

/// Regression: a file of little-endian 16-bit numbers has a NUL in every other byte, was taken
/// for UTF-16 text without a byte-order mark, and came out as a page of garbage instead of
/// being skipped as binary.
#[test]
fn sixteen_bit_binary_data_is_not_taken_for_utf16_text() {
    let env = Env::new();
    let samples: Vec<u8> = (0..5000u16).flat_map(|i| ((i * 7) % 200 + 1).to_le_bytes()).collect();
    env.write("samples.txt", samples);
    env.clean()
        .args(["samples.txt", "--out", "out"])
        .assert()
        .code(1)
        .stderr("textsift: samples.txt: skipped, binary file\n");
    assert!(!env.path("out/samples.txt").exists());
    // Real UTF-16 text without a byte-order mark is still read as text.
    let text = "Le caf\u{e9} de la gare a rouvert ses portes apr\u{e8}s des ann\u{e9}es de travaux.\n";
    env.write("utf16.txt", text.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>());
    env.clean().arg("utf16.txt").assert().success().stdout(text);
}
