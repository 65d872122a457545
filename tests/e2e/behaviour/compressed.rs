//! Compressed inputs clean exactly like the plain file.

use std::io::Write;

use super::{fixture, Env};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

fn same_as_plain(name: &str, plain: &[u8]) {
    let env = Env::new();
    env.write(name, plain);
    env.write(&format!("{name}.gz"), gzip(plain));
    env.write(&format!("{name}.zst"), zstd(plain));
    let expected = env.clean().arg(name).assert().success().get_output().stdout.clone();
    assert!(!expected.is_empty());
    for compressed in [format!("{name}.gz"), format!("{name}.zst")] {
        env.clean().arg(&compressed).assert().success().stdout(expected.clone()).stderr("");
    }
}

#[test]
fn txt_gz_and_txt_zst_clean_like_the_plain_text() {
    same_as_plain("page.txt", &std::fs::read(fixture("seeds/000_0ef7c7d691b69c51.txt")).unwrap());
}

#[test]
fn jsonl_gz_and_jsonl_zst_clean_like_the_plain_jsonl() {
    let mut jsonl = String::new();
    for seed in super::seeds() {
        let text = std::fs::read_to_string(&seed).unwrap();
        jsonl.push_str(
            &serde_json::json!({"id": seed.file_name().unwrap().to_str(), "text": text}).to_string(),
        );
        jsonl.push('\n');
    }
    same_as_plain("pages.jsonl", jsonl.as_bytes());
}

#[test]
fn a_broken_gzip_file_is_named_and_the_rest_of_the_run_goes_on() {
    let env = Env::new();
    let whole = gzip(super::article(1).as_bytes());
    env.write("in/broken.txt.gz", &whole[..whole.len() / 2]);
    env.write("in/good.txt", super::article(2));
    env.clean()
        .args(["in", "--out", "out", "--report", "report.json"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("textsift: in/broken.txt.gz: broken gzip stream"));
    assert!(env.path("out/good.txt").exists());
    assert!(!env.path("out/broken.txt.gz").exists());
    let report = env.report("report.json");
    assert_eq!(report["skipped"][0]["id"], "broken.txt.gz", "{report}");
}

#[test]
fn compressed_inputs_under_out_are_written_compressed_the_same_way() {
    let env = Env::new();
    let page = std::fs::read(fixture("seeds/000_0ef7c7d691b69c51.txt")).unwrap();
    let jsonl = format!("{}\n", serde_json::json!({"id": "p", "text": super::article(3)}));
    env.write("in/plain/page.txt", &page);
    env.write("in/gz/page.txt.gz", gzip(&page));
    env.write("in/zst/page.txt.zst", zstd(&page));
    env.write("in/plain/p.jsonl", &jsonl);
    env.write("in/gz/p.jsonl.gz", gzip(jsonl.as_bytes()));
    env.write("in/zst/p.jsonl.zst", zstd(jsonl.as_bytes()));
    // The three copies are near-duplicates of each other: keep them all.
    env.clean().args(["in", "--out", "out", "--keep-duplicates"]).assert().success();
    for name in ["page.txt", "p.jsonl"] {
        let plain = env.read(&format!("out/plain/{name}"));
        assert!(!plain.is_empty());
        let gz = env.read(&format!("out/gz/{name}.gz"));
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut unzipped).unwrap();
        assert_eq!(unzipped, plain, "{name}.gz");
        assert_eq!(
            zstd::decode_all(env.read(&format!("out/zst/{name}.zst")).as_slice()).unwrap(),
            plain,
            "{name}.zst"
        );
    }
}

/// A compressed JSONL output takes each batch's records while the next batch's are rendered:
/// over several batches, the records, the report and `--removed` come out as for the plain file.
#[test]
fn a_compressed_jsonl_of_several_batches_is_written_in_order() {
    let env = Env::new();
    let mut jsonl = String::new();
    let mut n = 0;
    // Past three batches (the first is 1 MiB, the next ones twice the one before); every
    // seventh record a copy of the one before it, for `--removed`.
    while jsonl.len() < 4 << 20 {
        let text = super::article(if n % 7 == 6 { n - 1 } else { n });
        jsonl.push_str(&serde_json::json!({"id": format!("r{n}"), "text": text}).to_string());
        jsonl.push('\n');
        n += 1;
    }
    env.write("in/plain/p.jsonl", &jsonl);
    env.write("in/gz/p.jsonl.gz", gzip(jsonl.as_bytes()));
    env.write("in/zst/p.jsonl.zst", zstd(jsonl.as_bytes()));
    for kind in ["plain", "gz", "zst"] {
        env.clean()
            .args([&format!("in/{kind}"), "--out", &format!("out/{kind}")])
            .args(["--report", &format!("{kind}.json"), "--removed", &format!("{kind}-removed.jsonl")])
            .assert()
            .success()
            .stderr("");
    }
    let plain = env.read("out/plain/p.jsonl");
    assert_eq!(String::from_utf8_lossy(&plain).lines().count(), n - n / 7, "one line a record kept");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(env.read("out/gz/p.jsonl.gz").as_slice()),
        &mut unzipped,
    )
    .unwrap();
    assert!(unzipped == plain, "the .gz output differs from the plain one");
    assert!(
        zstd::decode_all(env.read("out/zst/p.jsonl.zst").as_slice()).unwrap() == plain,
        "the .zst output differs"
    );
    for kind in ["gz", "zst"] {
        assert_eq!(env.report(&format!("{kind}.json")), env.report("plain.json"), "{kind} report");
        assert_eq!(
            env.read(&format!("{kind}-removed.jsonl")),
            env.read("plain-removed.jsonl"),
            "{kind} --removed"
        );
    }
}
