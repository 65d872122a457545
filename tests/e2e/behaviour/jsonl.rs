//! JSONL round trip: fields kept in order, text cleaned, metadata added, broken lines skipped.

use predicates::prelude::*;
use serde_json::{json, Value};

use super::{article, fold_space, Env};

/// A page whose first paragraph is pasted twice.
fn doubled(n: usize) -> String {
    let page = article(n);
    format!("{page}{page}")
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("an output line is JSON"))
        .collect()
}

fn keys(record: &Value) -> Vec<&str> {
    record.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn records_keep_their_fields_in_order_with_text_cleaned_and_metadata_added() {
    let env = Env::new();
    let input = [
        json!({"zeta": 1, "id": "first", "text": doubled(1), "alpha": {"b": 2, "a": 1}, "metadata": {"url": "https://a.example/1", "lang": "en"}}),
        json!({"text": doubled(2), "source": "crawl"}),
    ];
    let text: String = input.iter().map(|r| format!("{r}\n")).collect();
    env.write("in/pages.jsonl", text);
    env.clean().args(["in", "--out", "out", "--report", "report.json"]).assert().success().stderr("");
    let out = lines(&env.read("out/pages.jsonl"));
    assert_eq!(out.len(), 2);
    assert_eq!(keys(&out[0]), ["zeta", "id", "text", "alpha", "metadata"]);
    assert_eq!(keys(&out[0]["alpha"]), ["b", "a"]);
    assert_eq!(keys(&out[0]["metadata"]), ["url", "lang", "textsift"]);
    assert_eq!(keys(&out[1]), ["text", "source", "metadata"]);
    for (n, record) in out.iter().enumerate() {
        let clean = fold_space(record["text"].as_str().unwrap());
        let paragraph = format!("discuss proposal {}-0,", n + 1);
        assert_eq!(clean.matches(&paragraph).count(), 1, "{clean}");
        let summary = &record["metadata"]["textsift"];
        assert!(summary["kept"].as_u64().unwrap() > 0, "{summary}");
        assert!(summary["dropped"].is_object(), "{summary}");
    }
    let report = env.report("report.json");
    let ids: Vec<&str> =
        report["documents"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["first", "pages.jsonl:2"]);
}

/// The write pass takes a record's text as it stands when pass 1 found nothing to fold in it,
/// and folds it again otherwise: either way the record comes out as the text-file route, and
/// as a run without the cache (which labels every record again), write it.
#[test]
fn records_with_and_without_characters_to_fold_come_out_as_text_files_do() {
    let env = Env::new();
    let plain = article(1);
    // CRLF line ends, a no-break space, a soft hyphen and a zero-width space.
    let folded = article(2).replace('\n', "\r\n").replacen(' ', "\u{a0}", 3).replacen("ee", "e\u{ad}e", 2)
        + "A line\u{200b} that ends the page.\r\n";
    let records: String = [("plain", &plain), ("folded", &folded)]
        .iter()
        .map(|(id, text)| format!("{}\n", json!({"id": id, "text": text})))
        .collect();
    env.write("in/p.jsonl", records);
    env.write("txt/plain.txt", &plain);
    env.write("txt/folded.txt", &folded);
    let runs = [
        vec!["in", "-o", "out"],
        vec!["in", "-o", "uncached", "--cache-mib", "0"],
        vec!["txt", "-o", "txt-out"],
    ];
    for run in runs {
        env.clean().args(run).arg("--no-site-chrome").arg("--keep-duplicates").assert().success().stderr("");
    }
    let out = lines(&env.read("out/p.jsonl"));
    assert_eq!(out, lines(&env.read("uncached/p.jsonl")));
    for (record, id) in out.iter().zip(["plain", "folded"]) {
        let clean = record["text"].as_str().unwrap();
        assert!(!clean.contains(['\r', '\u{a0}', '\u{ad}', '\u{200b}']), "{clean:?}");
        let as_text_file = String::from_utf8(env.read(&format!("txt-out/{id}.txt"))).unwrap();
        assert_eq!(clean, as_text_file, "{id}");
    }
}

#[test]
fn id_key_and_text_key_choose_the_fields() {
    let env = Env::new();
    let record = json!({"doc": "k1", "text": "left alone", "body": doubled(3)});
    env.write("p.jsonl", format!("{record}\n"));
    let output = env
        .clean()
        .args(["p.jsonl", "--id-key", "doc", "--text-key", "body", "--report", "r.json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let out = lines(&output.stdout);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["text"], "left alone");
    let body = fold_space(out[0]["body"].as_str().unwrap());
    assert_eq!(body.matches("discuss proposal 3-0,").count(), 1, "{body}");
    assert_eq!(env.report("r.json")["documents"][0]["id"], "k1");
}

#[test]
fn broken_lines_are_named_and_skipped_and_the_rest_is_processed() {
    let env = Env::new();
    let good = |id: &str, n| json!({"id": id, "text": article(n)}).to_string();
    let text = format!(
        "{}\n{{\"id\": \"x\", \"text\": \n{}\n[1, 2]\n{}\n",
        good("a", 1),
        good("b", 2),
        good("c", 3)
    );
    env.write("in/p.jsonl", text);
    env.clean().args(["in", "--out", "out", "--report", "report.json"]).assert().code(1).stderr(
        predicate::str::contains("p.jsonl:2: skipped").and(predicate::str::contains("p.jsonl:4: skipped")),
    );
    let out = lines(&env.read("out/p.jsonl"));
    let ids: Vec<&str> = out.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let report = env.report("report.json");
    let skipped: Vec<&str> =
        report["skipped"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(skipped, ["p.jsonl:2", "p.jsonl:4"]);
}

/// Regression: a JSONL file starting with a UTF-8 byte-order mark (as Windows tools write
/// them) lost its first record as "invalid JSON" on line 1.
#[test]
fn a_utf8_bom_before_the_first_record_does_not_break_it() {
    let env = Env::new();
    let text = format!(
        "\u{feff}{}\n{}\n",
        json!({"id": "a", "text": article(1)}),
        json!({"id": "b", "text": article(2)})
    );
    env.write("bom.jsonl", text);
    let output = env.clean().arg("bom.jsonl").assert().success().stderr("").get_output().clone();
    let out = lines(&output.stdout);
    let ids: Vec<&str> = out.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "b"]);
}

#[test]
fn jsonl_on_standard_input_with_format_jsonl() {
    let env = Env::new();
    let text =
        format!("{}\n{}\n", json!({"id": "a", "text": doubled(1)}), json!({"id": "b", "text": article(2)}));
    let output = env
        .clean()
        .args(["--format", "jsonl", "-"])
        .write_stdin(text)
        .assert()
        .success()
        .get_output()
        .clone();
    let out = lines(&output.stdout);
    let ids: Vec<&str> = out.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(fold_space(out[0]["text"].as_str().unwrap()).matches("discuss proposal 1-0,").count(), 1);
}

#[test]
fn duplicate_records_go_untouched_to_removed_and_into_the_report() {
    let env = Env::new();
    let first = json!({"id": "a", "text": article(1), "x": 1}).to_string();
    let copy = format!("{{\"id\":\"b\", \"text\":{},  \"x\":2}}", json!(article(1)));
    let other = json!({"id": "c", "text": article(2)}).to_string();
    env.write("p.jsonl", format!("{first}\n{copy}\n{other}\n"));
    let output = env
        .clean()
        .args(["p.jsonl", "--removed", "removed.jsonl", "--report", "report.json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let ids: Vec<String> =
        lines(&output.stdout).iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, ["a", "c"]);
    assert_eq!(String::from_utf8(env.read("removed.jsonl")).unwrap(), format!("{copy}\n"));
    let report = env.report("report.json");
    assert_eq!(report["duplicates"][0]["id"], "b");
    assert_eq!(report["duplicates"][0]["duplicate_of"], "a");
    assert_eq!(report["documents"][1]["duplicate_of"], "a");
    assert_eq!(report["documents"][1]["bytes_out"], 0);
}
