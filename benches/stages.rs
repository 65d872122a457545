//! Stage benchmarks: decode, segment, block features, the page pass, and fingerprints (block
//! keys; shingles + simhash), each over every seed page (`fixtures/seeds` and, when present,
//! `../shared/devset/text`), reported in bytes of page text per second.
//!
//! `segment` normalises every block and measures its features in the same pass
//! ([`features::measure`]), so `page_pass` starts from measured blocks; `features` measures
//! the blocks' features alone, as pages normalised apart need.
//!
//!     cargo bench --bench stages
//!
//! The corpus-pass index has its own benchmark next to the corpus code.

use std::fs;
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use textsift::fingerprint::{self, SimhashBuilder};
use textsift::page::PagePass;
use textsift::{decode, features, segment};

/// Raw bytes of every seed page, sorted by file name.
fn seed_pages() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = Vec::new();
    for dir in ["fixtures/seeds", "../shared/devset/text"] {
        let Ok(entries) = fs::read_dir(root.join(dir)) else {
            eprintln!("stages: {dir} not found, skipped");
            continue;
        };
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        paths.sort();
        pages.extend(paths.iter().filter_map(|p| fs::read(p).ok()));
    }
    pages
}

fn stages(c: &mut Criterion) {
    let raw = seed_pages();
    let bytes: u64 = raw.iter().map(|p| p.len() as u64).sum();
    let texts: Vec<String> = raw.iter().filter_map(|b| decode::decode(b.clone()).ok()).collect();
    let pass = PagePass::default();

    let mut group = c.benchmark_group("stages");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(20);

    group.bench_function("decode", |b| {
        b.iter(|| {
            for page in &raw {
                black_box(decode::decode(page.clone()).ok());
            }
        })
    });
    group.bench_function("segment", |b| {
        b.iter(|| {
            for text in &texts {
                black_box(segment::segment(text));
            }
        })
    });
    let segmented: Vec<_> = texts.iter().map(|t| segment::segment(t)).collect();
    group.bench_function("features", |b| {
        let (mut hits, mut word) = (features::StopwordHits::default(), String::new());
        b.iter(|| {
            for page in &segmented {
                for block in &page.blocks {
                    black_box(features::features(block.text, &mut hits, &mut word));
                }
            }
        })
    });
    group.bench_function("page_pass", |b| {
        b.iter(|| {
            for page in &segmented {
                black_box(pass.classify(page, None));
            }
        })
    });
    group.bench_function("block_keys", |b| {
        let mut scratch = String::new();
        b.iter(|| {
            for page in &segmented {
                for block in &page.blocks {
                    black_box(fingerprint::block_key(block.text, &mut scratch));
                }
            }
        })
    });
    group.bench_function("shingles_simhash", |b| {
        let mut normalized = String::new();
        b.iter(|| {
            for text in &texts {
                fingerprint::normalize_into(text, &mut normalized);
                let mut sim = SimhashBuilder::default();
                fingerprint::for_each_shingle(&normalized, |h| sim.add(h));
                black_box(sim.finish());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
