//! Reading: compressed inputs, encodings, line ends, bad and odd inputs.

use std::io::Write;

use predicates::prelude::*;

use crate::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn gzip_and_zstd_inputs_clean_like_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read(seed("001")).unwrap();
    let expected = clean_stdout(&seed("001"));
    let gz = dir.path().join("p.txt.gz");
    std::fs::write(&gz, gzip(&raw)).unwrap();
    let zst = dir.path().join("p.txt.zst");
    std::fs::write(&zst, zstd::encode_all(raw.as_slice(), 3).unwrap()).unwrap();
    assert_eq!(clean_stdout(&gz), expected);
    assert_eq!(clean_stdout(&zst), expected);
}

#[test]
fn compressed_jsonl_is_read_and_written_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let line = |prefix: &str| {
        format!(
            "{}\n",
            serde_json::json!({"id": "a", "text": std::fs::read_to_string(seed(prefix)).unwrap()})
        )
    };
    std::fs::write(dir.path().join("p.jsonl.gz"), gzip(line("002").as_bytes())).unwrap();
    std::fs::write(dir.path().join("q.jsonl.zst"), zstd::encode_all(line("004").as_bytes(), 3).unwrap())
        .unwrap();
    let out = dir.path().join("out");
    textsift()
        .arg("clean")
        .arg(dir.path().join("p.jsonl.gz"))
        .arg(dir.path().join("q.jsonl.zst"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    for name in ["p.jsonl.gz", "q.jsonl.zst"] {
        let path = out.join(name);
        let bytes = textsift::input::decompress(std::fs::read(&path).unwrap(), &path).unwrap();
        let rec: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(rec["id"], "a");
        let text = rec["text"].as_str().unwrap();
        assert!(text.contains("Japan"), "{name}");
        assert!(!text.contains("Myind Staff") && !text.contains("Welcome to EconoTimes"), "{name}");
    }
}

#[test]
fn a_missing_path_is_named_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    textsift()
        .arg("clean")
        .arg(dir.path().join("nope.txt"))
        .arg(seed("002"))
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nope.txt"));
    assert!(out.join("002_0df676639e4f9b9f.txt").is_file());
}

#[test]
fn a_binary_file_is_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("photo.txt"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0").unwrap();
    std::fs::copy(seed("004"), input.join("page.txt")).unwrap();
    let report = dir.path().join("r.json");
    let binary = input.join("photo.txt");
    textsift()
        .arg("clean")
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("out"))
        .arg("--report")
        .arg(&report)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("{}: skipped, binary file", binary.display())));
    let r = read_json(&report);
    assert_eq!(r["skipped"][0]["id"], "photo.txt");
    assert_eq!(r["skipped"][0]["reason"], "binary file");
    assert!(dir.path().join("out/page.txt").is_file());
    assert!(!dir.path().join("out/photo.txt").exists());
}

#[test]
fn an_empty_file_gives_an_empty_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.txt"), "").unwrap();
    let out = dir.path().join("out");
    textsift().arg("clean").arg(dir.path().join("empty.txt")).arg("-o").arg(&out).assert().success();
    assert_eq!(std::fs::read(out.join("empty.txt")).unwrap(), b"");
}

#[test]
fn windows_1252_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Le café de la gare a fermé ses portes cet été après quarante années de service, a annoncé la mairie.\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let path = dir.path().join("cp1252.txt");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(clean_stdout(&path), text);
}

#[test]
fn crlf_cleans_exactly_like_lf() {
    let dir = tempfile::tempdir().unwrap();
    for prefix in ["001", "004"] {
        let lf = std::fs::read_to_string(seed(prefix)).unwrap();
        let path = dir.path().join(format!("{prefix}.txt"));
        std::fs::write(&path, lf.replace('\n', "\r\n")).unwrap();
        assert_eq!(clean_stdout(&path), clean_stdout(&seed(prefix)), "{prefix}");
    }
}

#[test]
fn tabs_clean_like_spaces_though_folding_keeps_the_length() {
    // A tab folds to a space: the text is as long as the file but not the file's bytes, so
    // the write pass must fold it again rather than take the bytes as they are.
    let dir = tempfile::tempdir().unwrap();
    let spaced = std::fs::read_to_string(seed("002")).unwrap();
    let tabbed = dir.path().join("tabbed.txt");
    std::fs::write(&tabbed, spaced.replace(' ', "\t")).unwrap();
    let out = clean_stdout(&tabbed);
    assert!(!out.contains('\t'), "tabs are folded in the output");
    assert_eq!(out, clean_stdout(&seed("002")));
}

#[test]
fn a_30_mb_single_line_file_is_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let sentence = "The committee said the new rules would take effect next year after a long consultation. ";
    let line = sentence.repeat(30 * 1024 * 1024 / sentence.len());
    let path = dir.path().join("long.txt");
    std::fs::write(&path, &line).unwrap();
    let out = dir.path().join("out");
    textsift()
        .arg("clean")
        .arg(&path)
        .arg("-o")
        .arg(&out)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(out.join("long.txt")).unwrap(), format!("{}\n", line.trim_end()));
}

/// Regression: 16-bit binary samples (a NUL in every other byte) were decoded as BOM-less
/// UTF-16 and written out as garbage.
#[test]
fn sixteen_bit_binary_data_is_not_taken_for_utf16_text() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<u8> = (0..5000u16).flat_map(|i| ((i * 7) % 200 + 1).to_le_bytes()).collect();
    let path = dir.path().join("samples.txt");
    std::fs::write(&path, samples).unwrap();
    textsift()
        .arg("clean")
        .arg(&path)
        .arg("-o")
        .arg(dir.path().join("out"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("samples.txt: skipped, binary file"));
    assert!(!dir.path().join("out/samples.txt").exists());
    let text = "Le café de la gare a rouvert ses portes après des années de travaux.\n";
    let utf16 = dir.path().join("utf16.txt");
    std::fs::write(&utf16, text.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>()).unwrap();
    assert_eq!(clean_stdout(&utf16), text);
}
