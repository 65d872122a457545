//! Near-duplicate pages: a one-permutation MinHash signature of each page's cleaned text, a
//! banded index over the signatures, and grouping where every pair is checked.
//!
//! Why MinHash bands and not a simhash permuted-table index: the threshold that separates copies
//! (edited, cut, re-wrapped) from rewrites of one story is an estimated shingle Jaccard of about
//! 0.5. Two texts with Jaccard 0.5 have a cosine of about 0.67, so their 64-bit simhashes differ
//! in about 17 bits (Charikar: `64 · acos(cos)/π`), with a spread of ±3.5 bits, while unrelated
//! texts differ in 32. Manku's permuted tables are built for a distance of 3; for 17 to 20 bits a
//! table scheme needs thousands of tables, and bands of simhash bits that catch 99% of such pairs
//! also make most unrelated pairs candidates. Measured on the devset `copies` corpus (cleaned
//! text, word 3-shingles): copies differ in 7 bits (median), 15 (90th percentile), up to 24;
//! different articles from 17 bits (1st percentile 23, median 32). MinHash bands separate the two cleanly: with
//! [`BANDS`] bands of [`BAND_ROWS`] slots, a pair at Jaccard 0.4 becomes a candidate with
//! probability `1 - (1 - 0.4²)^32 = 0.996`, an unrelated pair (Jaccard under 0.02) with about
//! 1%, and every candidate is checked before it counts.

use rayon::prelude::*;

/// Slots of a page signature (one-permutation MinHash, 16 bits a slot: 128 bytes a page).
pub const SIGNATURE_SLOTS: usize = 64;
/// Slots per band of the candidate index.
pub const BAND_ROWS: usize = 2;
/// Bands of the candidate index.
pub const BANDS: usize = SIGNATURE_SLOTS / BAND_ROWS;
/// Default `--similarity`: the estimated shingle Jaccard from which two pages are one group.
///
/// Measured on the devset `copies` corpus (`tests/corpus.rs`): copies with 3% of words changed
/// and the last paragraph cut estimate 0.50 to 0.97 against their original (0.50 when the cut
/// paragraph is a third of a short article); two outlets' rewrites of one wire story (seeds 000
/// and 002, a quarter of their 3-grams shared) estimate 0.27, different stories under 0.05.
/// 0.4 sits between the two with room for the estimate's spread (±0.06 at 64 slots).
pub const DEFAULT_SIMILARITY: f64 = 0.4;
/// Default `--related-similarity`: pairs from this estimated Jaccard up to `--similarity` are
/// listed by `--related` as the same story rewritten.
pub const DEFAULT_RELATED_SIMILARITY: f64 = 0.1;
/// Pages with fewer shingles than this are too short to call copies and are never grouped.
pub const MIN_SHINGLES: u32 = 8;
/// In an index bucket, each page is paired with at most this many pages: the bucket's earliest
/// (in input order). A bucket of thousands of identical pages then makes thousands of pairs,
/// not millions, and every copy is still paired with the first ones.
pub const MAX_BUCKET_PAIRS: usize = 256;

/// What the dedup keeps of one page: its signature and how much text it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// One-permutation MinHash of the page's shingles, 16 bits a slot.
    pub slots: [u16; SIGNATURE_SLOTS],
    /// Number of shingles (with repeats) of the cleaned text: how complete the copy is.
    pub shingles: u32,
}

impl Default for Fingerprint {
    fn default() -> Self {
        Self { slots: [0; SIGNATURE_SLOTS], shingles: 0 }
    }
}

/// Builds a [`Fingerprint`] from shingle hashes (see [`crate::fingerprint::for_each_shingle`]).
#[derive(Debug, Clone)]
pub struct SignatureBuilder {
    mins: [u64; SIGNATURE_SLOTS],
    shingles: u32,
}

impl Default for SignatureBuilder {
    fn default() -> Self {
        Self { mins: [u64::MAX; SIGNATURE_SLOTS], shingles: 0 }
    }
}

const SLOT_BITS: u32 = SIGNATURE_SLOTS.trailing_zeros();

impl SignatureBuilder {
    /// Adds one shingle hash: its top bits choose the slot, the rest competes for the minimum.
    #[inline]
    pub fn add(&mut self, hash: u64) {
        self.shingles = self.shingles.saturating_add(1);
        let slot = (hash >> (64 - SLOT_BITS)) as usize;
        let value = hash & (u64::MAX >> SLOT_BITS);
        if value < self.mins[slot] {
            self.mins[slot] = value;
        }
    }

    /// Number of shingles added.
    pub fn shingles(&self) -> u32 {
        self.shingles
    }

    /// The signature. Empty slots borrow the next filled slot's minimum, mixed with the distance
    /// (densified one-permutation hashing, Shrivastava and Li 2014), so short texts still compare.
    pub fn finish(&self) -> Fingerprint {
        let mut slots = [0u16; SIGNATURE_SLOTS];
        if self.shingles == 0 {
            return Fingerprint { slots, shingles: 0 };
        }
        for (i, slot) in slots.iter_mut().enumerate() {
            let (distance, min) = (0..SIGNATURE_SLOTS)
                .map(|d| (d, self.mins[(i + d) % SIGNATURE_SLOTS]))
                .find(|&(_, m)| m != u64::MAX)
                .expect("at least one shingle");
            *slot = (mix(min ^ (distance as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 48) as u16;
        }
        Fingerprint { slots, shingles: self.shingles }
    }
}

/// splitmix64's finaliser: spreads every input bit over the top 16 bits.
#[inline]
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Estimated Jaccard similarity of two pages' shingle sets: the share of equal slots.
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> f64 {
    let equal = a.slots.iter().zip(&b.slots).filter(|(x, y)| x == y).count();
    equal as f64 / SIGNATURE_SLOTS as f64
}

/// The outcome of grouping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Groups {
    /// For each page: the page it duplicates (its group's kept copy) and their similarity.
    pub duplicate_of: Vec<Option<(usize, f64)>>,
    /// Checked pairs `(a, b, similarity)`, `a < b`, at or above the related threshold whose pages
    /// are in different groups; sorted.
    pub related: Vec<(usize, usize, f64)>,
}

/// Groups near-duplicate pages.
///
/// Candidates come from the banded index; every candidate pair's estimated Jaccard is checked
/// against `threshold`. Groups are stars, never chains: pages are taken from most to least
/// complete (most shingles first, ties by signature, then by input order); a page not yet in a group keeps its copy
/// and takes every checked neighbour not yet in a group as its duplicate. A page similar only to
/// a duplicate stays apart. `related_threshold` (at most `threshold`) selects the related pairs.
pub fn group(pages: &[Fingerprint], threshold: f64, related_threshold: f64) -> Groups {
    let floor = related_threshold.min(threshold);
    let candidates = candidate_pairs(pages);
    let mut edges: Vec<(u32, u32, f64)> = candidates
        .par_iter()
        .filter_map(|&pair| {
            let (a, b) = ((pair >> 32) as u32, pair as u32);
            let sim = similarity(&pages[a as usize], &pages[b as usize]);
            (sim >= floor).then_some((a, b, sim))
        })
        .collect();
    edges.sort_unstable_by_key(|&(a, b, _)| (a, b));

    // Adjacency of the pairs at or above the threshold, both directions, neighbours in input order.
    let mut adjacency: Vec<(u32, u32, f64)> =
        edges.iter().filter(|e| e.2 >= threshold).flat_map(|&(a, b, s)| [(a, b, s), (b, a, s)]).collect();
    adjacency.sort_unstable_by_key(|&(a, b, _)| (a, b));
    let mut order: Vec<u32> = adjacency.iter().map(|e| e.0).collect();
    order.dedup();
    // Ties on shingles are broken by the signature, so which of two different pages of equal
    // length becomes the centre does not depend on the order the inputs are listed in; only
    // pages with identical signatures (copies of one text) fall back to input order.
    order.sort_by_key(|&p| (std::cmp::Reverse(pages[p as usize].shingles), pages[p as usize].slots, p));

    let mut duplicate_of: Vec<Option<(usize, f64)>> = vec![None; pages.len()];
    let mut grouped = vec![false; pages.len()];
    for &page in &order {
        if grouped[page as usize] {
            continue;
        }
        grouped[page as usize] = true;
        let start = adjacency.partition_point(|e| e.0 < page);
        for &(_, other, sim) in adjacency[start..].iter().take_while(|e| e.0 == page) {
            if !grouped[other as usize] {
                grouped[other as usize] = true;
                duplicate_of[other as usize] = Some((page as usize, sim));
            }
        }
    }
    let related = edges
        .into_iter()
        .map(|(a, b, s)| (a as usize, b as usize, s))
        .filter(|&(a, b, _)| {
            let group_of = |p: usize| duplicate_of[p].map_or(p, |(of, _)| of);
            group_of(a) != group_of(b)
        })
        .collect();
    Groups { duplicate_of, related }
}

/// Candidate pairs `(a << 32) | b` with `a < b`, sorted and unique: pages that share all slots of
/// at least one band. Memory: 8 bytes a page for the band being indexed, plus the pairs.
fn candidate_pairs(pages: &[Fingerprint]) -> Vec<u64> {
    let mut pairs: Vec<u64> = Vec::new();
    let mut bucket: Vec<(u32, u32)> = Vec::with_capacity(pages.len());
    for band in 0..BANDS {
        bucket.clear();
        bucket.extend(pages.iter().enumerate().filter(|(_, p)| p.shingles >= MIN_SHINGLES).map(|(i, p)| {
            let s = &p.slots[band * BAND_ROWS..(band + 1) * BAND_ROWS];
            let key = s.iter().fold(0u32, |acc, &v| (acc << 16) | v as u32);
            (key, i as u32)
        }));
        bucket.par_sort_unstable();
        let mut start = 0;
        while start < bucket.len() {
            let key = bucket[start].0;
            let end = start + bucket[start..].partition_point(|e| e.0 == key);
            let run = &bucket[start..end];
            for (i, &(_, b)) in run.iter().enumerate() {
                for &(_, a) in &run[..i.min(MAX_BUCKET_PAIRS)] {
                    pairs.push(((a as u64) << 32) | b as u64);
                }
            }
            start = end;
        }
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fingerprint::{for_each_shingle, normalize_into};

    fn fp(text: &str) -> Fingerprint {
        let mut norm = String::new();
        normalize_into(text, &mut norm);
        let mut b = SignatureBuilder::default();
        for_each_shingle(&norm, |h| b.add(h));
        b.finish()
    }

    /// A word spelt in letters (digits would all normalise to 0).
    pub(crate) fn word(x: u64) -> String {
        format!("{}", x).bytes().map(|d| (b'a' + (d - b'0')) as char).collect()
    }

    fn words(n: usize, seed: u64) -> Vec<String> {
        (0..n).map(|i| word(mix(seed * 100_003 + i as u64) % 5000)).collect()
    }

    #[test]
    fn identical_texts_have_similarity_one_and_different_texts_near_zero() {
        let a = words(300, 1).join(" ");
        let b = words(300, 2).join(" ");
        assert_eq!(similarity(&fp(&a), &fp(&a)), 1.0);
        assert!(similarity(&fp(&a), &fp(&b)) < 0.1);
    }

    #[test]
    fn estimate_follows_true_jaccard() {
        // 400 words, the last 100 replaced: shingle Jaccard about 300/500 = 0.6.
        let a = words(400, 3);
        let mut b = a.clone();
        b[300..].clone_from_slice(&words(100, 4));
        let sim = similarity(&fp(&a.join(" ")), &fp(&b.join(" ")));
        assert!((0.4..=0.8).contains(&sim), "{sim}");
    }

    #[test]
    fn groups_are_stars_around_the_most_complete_copy() {
        let base = words(400, 5);
        let full = fp(&base.join(" "));
        let cut = fp(&base[..360].join(" "));
        let other = fp(&words(400, 6).join(" "));
        let groups = group(&[cut.clone(), other.clone(), full.clone(), cut], 0.5, 0.1);
        assert_eq!(groups.duplicate_of[0].map(|d| d.0), Some(2));
        assert_eq!(groups.duplicate_of[3].map(|d| d.0), Some(2));
        assert_eq!(groups.duplicate_of[1], None);
        assert_eq!(groups.duplicate_of[2], None);
    }

    #[test]
    fn the_centre_of_two_equally_long_pages_does_not_depend_on_their_order() {
        let base = words(400, 9);
        let mut edited = base.clone();
        edited[200] = "changed".to_string();
        let a = Fingerprint { shingles: 400, ..fp(&base.join(" ")) };
        let b = Fingerprint { shingles: 400, ..fp(&edited.join(" ")) };
        assert_ne!(a.slots, b.slots);
        let forward = group(&[a.clone(), b.clone()], 0.5, 0.5);
        let backward = group(&[b, a], 0.5, 0.5);
        let centre = |g: &Groups, n: usize| (0..n).find(|&i| g.duplicate_of[i].is_none()).unwrap();
        // The same page is the centre: index 0 in one order is index 1 in the other.
        assert_eq!(centre(&forward, 2), 1 - centre(&backward, 2));
    }

    #[test]
    fn no_chaining_without_a_check() {
        // a ~ b and b ~ c but a and c share little: c must not join a's group through b.
        let base = words(600, 7);
        let a = fp(&base[..400].join(" "));
        let b = fp(&base[100..500].join(" "));
        let c = fp(&base[200..600].join(" "));
        let full_a = Fingerprint { shingles: 10_000, ..a };
        let groups = group(&[full_a, b, c], 0.5, 0.5);
        assert!(groups.duplicate_of[2].is_none_or(|(of, _)| of != 0));
    }

    #[test]
    fn a_thousand_identical_pages_make_one_group() {
        let page = fp(&words(300, 8).join(" "));
        let groups = group(&vec![page; 1000], 0.4, 0.1);
        assert!(groups.duplicate_of[1..].iter().all(|d| d.map(|d| d.0) == Some(0)));
        assert!(groups.related.is_empty());
    }

    #[test]
    fn short_pages_are_never_grouped() {
        let tiny = fp("one two three four");
        let groups = group(&[tiny.clone(), tiny], 0.5, 0.1);
        assert_eq!(groups.duplicate_of, [None, None]);
    }
}
