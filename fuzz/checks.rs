//! The checks the fuzz targets run on every input, shared with `tests/fuzz_corpus.rs`, which
//! replays the kept corpus (`fuzz/corpus/<target>/`) through them on stable Rust.

use serde_json::Value;
use textsift::input::jsonl::{self, Keys};
use textsift::{decode, output, page::PagePass, segment};

/// Arbitrary bytes through decode, segment, the page pass and both renderings.
pub fn page(bytes: &[u8]) {
    let Ok(text) = decode::decode(bytes.to_vec()) else { return };
    folded_text(&text);
}

/// Folded page text through segment, the page pass and both renderings: one label a block, the
/// clean text made of the input's own blocks in order, folding idempotent.
pub fn folded_text(text: &str) {
    assert_eq!(decode::fold(text.to_string()), text, "folding is not idempotent");
    let page = segment::segment(text);
    for block in &page.blocks {
        assert!(!block.text.is_empty(), "empty block");
        assert_eq!(block.text, block.text.trim(), "untrimmed block");
        assert!(block.first_line <= block.last_line, "block lines out of order");
    }
    for pair in page.blocks.windows(2) {
        assert!(pair[0].last_line < pair[1].first_line, "blocks overlap or are out of order");
    }
    // The shingles `segment` made as it normalised a block are those of its normalised text.
    for index in 0..page.blocks.len() {
        if let Some(made) = page.shingles(index) {
            let mut fresh = Vec::new();
            textsift::fingerprint::for_each_shingle(page.normalized(index), |h| fresh.push(h));
            assert_eq!(made, fresh.as_slice(), "shingles of {:?}", page.normalized(index));
        }
    }
    let labels = PagePass::default().classify(&page, None);
    assert_eq!(labels.len(), page.blocks.len(), "one label a block");
    let mut clean = String::new();
    output::render_clean(&page, &labels, &mut clean);
    let blocks: Vec<String> =
        page.blocks.iter().map(|b| b.text.split('\n').map(str::trim).collect::<Vec<_>>().join(" ")).collect();
    let mut next = 0;
    for line in clean.split('\n').filter(|l| !l.is_empty()) {
        let found = blocks[next..].iter().position(|b| b == line);
        assert!(found.is_some(), "{line:?} is not a later input block");
        next += found.unwrap() + 1;
    }
    let kept = labels.iter().filter(|l| l.is_keep()).count();
    assert!(kept == 0 || clean.ends_with('\n'), "clean text without a final newline");
    // The explain view's run gives the same labels, and a note for every kept block and no other.
    let (again, explanation) = PagePass::default().classify_explained(&page, None);
    assert_eq!(again, labels, "the page pass is not a pure function");
    for (label, note) in labels.iter().zip(&explanation.notes) {
        assert_eq!(note.is_some(), label.is_keep(), "{label:?} with note {note:?}");
    }
    let mut explain = String::new();
    output::render_explain("fuzz", &page, &labels, &explanation.notes, None, false, &mut explain);
}

/// Arbitrary bytes through the JSONL reader: broken lines and records numbered in order, every
/// record's id, host, text and clean line usable, the clean line valid JSON with the same fields.
pub fn jsonl(bytes: &[u8]) {
    let keys = Keys::default();
    let lines = bytes.split(|&b| b == b'\n').count();
    let mut last = 0;
    for parsed in jsonl::parse(bytes, &keys) {
        let line = match &parsed {
            Ok(record) => record.line,
            Err(broken) => {
                assert!(!broken.message.is_empty(), "a broken line without a message");
                broken.line
            }
        };
        assert!(line > last && line <= lines, "line {line} after {last} of {lines}");
        last = line;
        let Ok(record) = parsed else { continue };
        let id = record.id(&keys, "fuzz.jsonl");
        assert!(!id.is_empty() || matches!(record.fields.get("id"), Some(Value::String(s)) if s.is_empty()));
        let _ = record.host();
        let text = decode::fold(record.text(&keys).to_string());
        folded_text(&text);
        let clean_line = record.to_clean_line(&keys, "clean", serde_json::json!({"kept": 1}));
        assert!(!clean_line.contains('\n'), "a clean line with a raw newline");
        let Ok(Value::Object(back)) = serde_json::from_str::<Value>(&clean_line) else {
            panic!("the clean line is not a JSON object: {clean_line}")
        };
        assert_eq!(back.get("text").and_then(Value::as_str), Some("clean"));
        for key in record.fields.keys() {
            assert!(back.contains_key(key), "field {key:?} lost");
        }
    }
}
