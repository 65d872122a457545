//! Arbitrary bytes -> decode -> segment -> page pass -> render (see `fuzz/checks.rs`).
#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::page(data));
