//! Scale of the near-duplicate search: groups 1,000,000 synthetic page fingerprints and prints
//! the time and the peak memory.
//!
//!     cargo bench --bench corpus_scale            # 1,000,000 pages
//!     cargo bench --bench corpus_scale -- 200000  # another count
//!
//! Each page is 300 random shingle hashes plus 30 drawn from 1,000 common ones (the phrases
//! every article uses, which put unrelated pages in the same index buckets); every tenth page is
//! a copy of the page before it with 15% of its own shingles replaced (estimated Jaccard about
//! 0.7), so the index has real groups to find. Peak memory is the process's high-water mark (`VmHWM`), read before and after grouping.
//!
//! Then site chrome counting: a fifth as many pages, 1,000 sites, each page with 20 blocks of
//! its site's chrome and 40 blocks of its own, counted in two reads as the scan and fingerprint
//! passes do, to show the memory per distinct (site, block) entry.

use std::time::Instant;

use rayon::prelude::*;
use textsift::corpus::dedup::{self, Fingerprint, SignatureBuilder};
use textsift::corpus::signatures::{self, SignatureLog};
use textsift::corpus::Recurrence;

const SHINGLES: usize = 300;
const COMMON_PER_PAGE: u64 = 30;
const COMMON_POOL: u64 = 1000;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn page(i: usize) -> Fingerprint {
    let mut b = SignatureBuilder::default();
    let copy = i % 10 == 9;
    let source = if copy { i - 1 } else { i } as u64;
    for s in 0..SHINGLES as u64 {
        let replaced = copy && splitmix(i as u64 * 7 + s) % 100 < 15;
        let id = if replaced { (1 << 40) + i as u64 * 1000 + s } else { source * 1000 + s };
        b.add(splitmix(id));
    }
    // Phrases every page uses ("one of the", "according to the"): 30 from a pool of 1,000.
    for s in 0..COMMON_PER_PAGE {
        b.add(splitmix((1 << 45) + splitmix(i as u64 * 31 + s) % COMMON_POOL));
    }
    b.finish()
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let pages: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let start = Instant::now();
    // Signed in parallel into the run's log (in a temporary file in TMPDIR beyond 8 MiB), as the
    // fingerprint pass does.
    let log = SignatureLog::new();
    (0..pages).into_par_iter().for_each(|i| log.add(i, &page(i)));
    let generated = start.elapsed();
    let before = peak_rss_mb();
    let start = Instant::now();
    let groups = dedup::group(log, dedup::DEFAULT_SIMILARITY, Some(dedup::DEFAULT_RELATED_SIMILARITY))
        .expect("the log reads back");
    let grouped = start.elapsed();
    let after = peak_rss_mb();
    let duplicates = groups.duplicate_of.len();
    let planted = pages / 10;
    let found_planted =
        (0..pages).filter(|i| i % 10 == 9 && groups.duplicate_of.of(*i).map(|d| d.0) == Some(i - 1)).count();
    println!(
        "{pages} fingerprints ({} bytes each in the log): generated in {:.2} s; grouped in {:.2} s on {} threads",
        signatures::RECORD_BYTES,
        generated.as_secs_f64(),
        grouped.as_secs_f64(),
        rayon::current_num_threads()
    );
    println!(
        "duplicates: {duplicates} (planted {planted}, found {found_planted}); related pairs: {}",
        groups.related.len()
    );
    println!(
        "peak RSS: {before:.0} MB with the fingerprints logged, {after:.0} MB after grouping (+{:.0} MB for the index and groups)",
        after - before
    );

    drop(groups);
    let pages = pages / 5;
    let before = peak_rss_mb();
    let start = Instant::now();
    // About 150 bytes a block: what a run of these pages would read.
    let recurrence = Recurrence::for_input_bytes(pages as u64 * 60 * 150);
    let keys = |i: usize| {
        let site = (i % 1000) as u64;
        let mut keys: Vec<u64> = (0..20).map(|k| splitmix(site * 100 + k)).collect();
        keys.extend((0..40).map(|k| splitmix((1 << 50) + i as u64 * 100 + k)));
        keys.sort_unstable();
        (site, keys)
    };
    (0..pages).into_par_iter().for_each(|i| {
        let (site, keys) = keys(i);
        recurrence.add(site, &keys);
    });
    (0..pages).into_par_iter().for_each(|i| {
        let (site, keys) = keys(i);
        recurrence.count(site, &keys);
    });
    let counted = start.elapsed();
    let during = peak_rss_mb();
    let chrome = recurrence.chrome();
    let entries = pages * 40 + 1000 * 20;
    println!(
        "site chrome: {pages} pages x 60 blocks counted in two reads in {:.2} s; peak +{:.0} MB for {entries} distinct entries ({:.1} bytes each; the sketch and candidate counts take {:.0} MB); {} chrome entries",
        counted.as_secs_f64(),
        during - before,
        (during - before) * 1048576.0 / entries as f64,
        recurrence.bytes() as f64 / 1048576.0,
        chrome.len()
    );
}
