//! Arbitrary bytes -> the JSONL reader -> every record through the page path (see `fuzz/checks.rs`).
#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::jsonl(data));
