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

use std::io;

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::signatures::SignatureLog;

/// Slots of a page signature (one-permutation MinHash, 16 bits a slot: 128 bytes a page).
pub const SIGNATURE_SLOTS: usize = 64;
/// Slots per band of the candidate index.
pub const BAND_ROWS: usize = 2;
/// Bands of the candidate index.
pub const BANDS: usize = SIGNATURE_SLOTS / BAND_ROWS;
// One bit a band in `checked_pairs`.
const _: () = assert!(BANDS <= 32);
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
/// In an index bucket, each signature is paired with at most this many others: the bucket's
/// first in the order grouping takes them (most complete first), which are the ones that can
/// become its group's centre. A bucket of thousands of near-identical pages then makes
/// thousands of pairs, not millions, and every page is still paired with the likely centres.
/// (256, the first listed, until 64 most complete kept and dropped the same pages of the
/// 545 MB corpus, whose buckets reach 157 signatures; 2 of 39,773 duplicates changed centre.)
pub const MAX_BUCKET_PAIRS: usize = 64;

/// What the dedup keeps of one page: its signature and how much text it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// One-permutation MinHash of the page's shingles, 16 bits a slot.
    pub slots: [u16; SIGNATURE_SLOTS],
    /// Number of shingles (with repeats) of the cleaned text: how complete the copy is.
    pub shingles: u32,
    /// The wrapping sum of the keys of the blocks the page pass kept ([`text_key`]): where two
    /// pages' signatures and shingles tie, the kept copy is the one of the lower key, whatever
    /// order the pages came in (only pages that kept the same blocks fall back to input order).
    pub text_key: u64,
}

impl Default for Fingerprint {
    fn default() -> Self {
        Self { slots: [0; SIGNATURE_SLOTS], shingles: 0, text_key: 0 }
    }
}

/// The [`Fingerprint::text_key`] of blocks of keys `keys` (in any order).
pub fn text_key(keys: impl Iterator<Item = u64>) -> u64 {
    keys.fold(0u64, u64::wrapping_add)
}

/// Builds a [`Fingerprint`] from shingle hashes (see [`crate::fingerprint::for_each_shingle`]).
#[derive(Debug, Clone)]
pub struct SignatureBuilder {
    mins: [u32; SIGNATURE_SLOTS],
    shingles: u32,
}

impl Default for SignatureBuilder {
    fn default() -> Self {
        Self { mins: [EMPTY_SLOT; SIGNATURE_SLOTS], shingles: 0 }
    }
}

const SLOT_BITS: u32 = SIGNATURE_SLOTS.trailing_zeros();

/// The minimum of a slot no shingle fell into.
const EMPTY_SLOT: u32 = u32::MAX;

/// A shingle hash's slot (its top bits) and the value that competes for the slot's minimum (the
/// next 32 bits: equal values give equal slots, so ties never matter).
#[inline]
fn slot_and_value(hash: u64) -> (usize, u32) {
    ((hash >> (64 - SLOT_BITS)) as usize, (hash >> (32 - SLOT_BITS)) as u32)
}

impl SignatureBuilder {
    /// Adds one shingle hash: its top bits choose the slot, the next ones compete for the minimum.
    #[inline]
    pub fn add(&mut self, hash: u64) {
        self.shingles = self.shingles.saturating_add(1);
        let (slot, value) = slot_and_value(hash);
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
            return Fingerprint { slots, shingles: 0, text_key: 0 };
        }
        // Every shingle's value was the empty marker (a chance of 2^-32 a shingle): all zeros.
        let Some(last_filled) = (0..SIGNATURE_SLOTS).rev().find(|&i| self.mins[i] != EMPTY_SLOT) else {
            return Fingerprint { slots, shingles: self.shingles, text_key: 0 };
        };
        // One sweep backwards, round from the last filled slot: `next` is the first filled slot at
        // or after `i`, going round (a search forward from each empty slot cost a page of few
        // shingles a few thousand instructions).
        let mut next = last_filled;
        for step in 0..SIGNATURE_SLOTS {
            let i = (last_filled + SIGNATURE_SLOTS - step) % SIGNATURE_SLOTS;
            if self.mins[i] != EMPTY_SLOT {
                next = i;
            }
            slots[i] = densified(self.mins[next], (next + SIGNATURE_SLOTS - i) % SIGNATURE_SLOTS);
        }
        Fingerprint { slots, shingles: self.shingles, text_key: 0 }
    }
}

/// A signature's slot from the minimum of the first filled slot at or after it, `distance`
/// slots on (0 for a filled slot).
fn densified(min: u32, distance: usize) -> u16 {
    (mix(u64::from(min) ^ (distance as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 48) as u16
}

/// A page's signature that blocks can be taken out of later without their text. A page of few
/// shingles (at most [`FEW_SHINGLES`]) keeps every shingle's slot, value and block, so any
/// blocks can be taken out (8 bytes a shingle, at most 512). A longer one keeps, for each slot,
/// the block that gave its minimum and the smallest value of any other block; a block set that
/// takes out both of a slot's values needs the text again; measured on the 68 MB bench corpus,
/// that is 1 page in 40 of those whose kept blocks site chrome changes (one value a slot: 2 in
/// 5). That takes 12 bytes a slot (768 a page).
#[derive(Debug, Clone)]
pub struct RemovableSignature {
    shingles: u32,
    kept: Kept,
}

/// What a [`RemovableSignature`] keeps.
#[derive(Debug, Clone)]
enum Kept {
    /// Every shingle, while there are few.
    Few(Vec<FewShingle>),
    /// Two values a slot.
    Slots(Box<TwoPerSlot>),
}

/// A page of at most this many shingles keeps them all in its [`RemovableSignature`].
pub const FEW_SHINGLES: usize = 64;

/// One shingle of a page of few: its value, slot and block.
#[derive(Debug, Clone, Copy)]
struct FewShingle {
    value: u32,
    block: u16,
    slot: u8,
}

/// For each slot, the block that gave its minimum and the smallest value of any other block.
#[derive(Debug, Clone)]
struct TwoPerSlot {
    first: [u32; SIGNATURE_SLOTS],
    first_block: [u16; SIGNATURE_SLOTS],
    second: [u32; SIGNATURE_SLOTS],
    second_block: [u16; SIGNATURE_SLOTS],
    /// A block's index did not fit in 16 bits: no block can be taken out.
    too_many_blocks: bool,
}

impl Default for TwoPerSlot {
    fn default() -> Self {
        Self {
            first: [EMPTY_SLOT; SIGNATURE_SLOTS],
            first_block: [0; SIGNATURE_SLOTS],
            second: [EMPTY_SLOT; SIGNATURE_SLOTS],
            second_block: [0; SIGNATURE_SLOTS],
            too_many_blocks: false,
        }
    }
}

impl TwoPerSlot {
    #[inline]
    fn add(&mut self, block: u16, slot: usize, value: u32) {
        if value < self.first[slot] {
            if block != self.first_block[slot] || self.first[slot] == EMPTY_SLOT {
                self.second[slot] = self.first[slot];
                self.second_block[slot] = self.first_block[slot];
            }
            self.first[slot] = value;
            self.first_block[slot] = block;
        } else if value < self.second[slot] && block != self.first_block[slot] {
            self.second[slot] = value;
            self.second_block[slot] = block;
        }
    }
}

impl Default for RemovableSignature {
    fn default() -> Self {
        Self { shingles: 0, kept: Kept::Few(Vec::new()) }
    }
}

impl RemovableSignature {
    /// The most [`RemovableSignature::heap_bytes`] gives (a page of many shingles).
    pub const MAX_HEAP_BYTES: usize = std::mem::size_of::<TwoPerSlot>();

    /// An empty signature for blocks of `normalized_bytes` bytes of normalised text, of at most
    /// `shingles` shingles: one that keeps two values a slot from the start when that many bytes
    /// hold more than [`FEW_SHINGLES`] shingles in any text but one of a few long words a block
    /// (and would otherwise keep each shingle until there are too many); else one that takes
    /// room for its shingles at once (at most [`FEW_SHINGLES`]), not growing its list four or
    /// five times.
    pub fn for_text(normalized_bytes: usize, shingles: usize) -> Self {
        if normalized_bytes > 16 * FEW_SHINGLES {
            Self { shingles: 0, kept: Kept::Slots(Box::default()) }
        } else {
            Self { shingles: 0, kept: Kept::Few(Vec::with_capacity(shingles.min(FEW_SHINGLES))) }
        }
    }

    /// Adds one shingle hash of block `block` (as [`SignatureBuilder::add`]).
    #[inline]
    pub fn add(&mut self, block: usize, hash: u64) {
        self.shingles = self.shingles.saturating_add(1);
        let (slot, value) = slot_and_value(hash);
        let small_block = u16::try_from(block).ok();
        if let (Kept::Few(few), Some(block)) = (&mut self.kept, small_block) {
            if few.len() < FEW_SHINGLES {
                few.push(FewShingle { value, block, slot: slot as u8 });
                return;
            }
        }
        if let Kept::Few(few) = &self.kept {
            // Too many shingles (or a block beyond 16 bits) to keep each one.
            let mut slots = Box::<TwoPerSlot>::default();
            for shingle in few {
                slots.add(shingle.block, usize::from(shingle.slot), shingle.value);
            }
            self.kept = Kept::Slots(slots);
        }
        let Kept::Slots(slots) = &mut self.kept else { unreachable!("just made two values a slot") };
        let block = small_block.unwrap_or_else(|| {
            slots.too_many_blocks = true;
            u16::MAX
        });
        slots.add(block, slot, value);
    }

    /// Adds the shingle hashes `hashes` of block `block`: what [`RemovableSignature::add`] of
    /// each in turn does, in a tight loop once it keeps two values a slot.
    pub fn add_block(&mut self, block: usize, hashes: &[u64]) {
        let mut rest = hashes;
        while let Some((&hash, tail)) = rest.split_first() {
            if let (Kept::Slots(slots), Ok(small_block)) = (&mut self.kept, u16::try_from(block)) {
                let count = u32::try_from(rest.len()).unwrap_or(u32::MAX);
                self.shingles = self.shingles.saturating_add(count);
                for &hash in rest {
                    let (slot, value) = slot_and_value(hash);
                    slots.add(small_block, slot, value);
                }
                return;
            }
            self.add(block, hash);
            rest = tail;
        }
    }

    /// Number of shingles added.
    pub fn shingles(&self) -> u32 {
        self.shingles
    }

    /// Bytes it holds beyond its own size.
    pub fn heap_bytes(&self) -> usize {
        match &self.kept {
            Kept::Few(few) => few.capacity() * std::mem::size_of::<FewShingle>(),
            Kept::Slots(_) => std::mem::size_of::<TwoPerSlot>(),
        }
    }

    /// Gives back what it holds for shingles it will not get.
    pub fn shrink_to_fit(&mut self) {
        if let Kept::Few(few) = &mut self.kept {
            few.shrink_to_fit();
        }
    }

    /// The signature of every block added (as [`SignatureBuilder::finish`]).
    pub fn finish(&self) -> Fingerprint {
        self.without(|_| false, 0).expect("nothing taken out").finish()
    }

    /// The builder of the blocks added but those `removed` selects, which hold `removed_shingles`
    /// of the shingles: exactly what adding only the other blocks gives. `None` when a slot's two
    /// values are both taken out (or a block index did not fit): the text must be signed again.
    pub fn without(
        &self,
        removed: impl Fn(usize) -> bool,
        removed_shingles: u32,
    ) -> Option<SignatureBuilder> {
        let shingles = self.shingles.saturating_sub(removed_shingles);
        let slots = match &self.kept {
            Kept::Few(few) => {
                let mut builder = SignatureBuilder { mins: [EMPTY_SLOT; SIGNATURE_SLOTS], shingles };
                for shingle in few.iter().filter(|s| removed_shingles == 0 || !removed(usize::from(s.block)))
                {
                    let min = &mut builder.mins[usize::from(shingle.slot)];
                    *min = (*min).min(shingle.value);
                }
                return Some(builder);
            }
            Kept::Slots(slots) => slots,
        };
        let mut builder = SignatureBuilder { mins: slots.first, shingles };
        if removed_shingles == 0 {
            return Some(builder);
        }
        if slots.too_many_blocks {
            return None;
        }
        for slot in 0..SIGNATURE_SLOTS {
            if slots.first[slot] == EMPTY_SLOT || !removed(usize::from(slots.first_block[slot])) {
                continue;
            }
            builder.mins[slot] = if slots.second[slot] == EMPTY_SLOT {
                EMPTY_SLOT
            } else if !removed(usize::from(slots.second_block[slot])) {
                slots.second[slot]
            } else {
                return None;
            };
        }
        Some(builder)
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
    slot_similarity(&a.slots, &b.slots)
}

/// [`similarity`] of two signatures' slots.
fn slot_similarity(a: &Slots, b: &Slots) -> f64 {
    f64::from(equal_slots(a, b)) / SIGNATURE_SLOTS as f64
}

/// A signature's slots.
type Slots = [u16; SIGNATURE_SLOTS];

/// The pages that duplicate another: for each, the page it duplicates (its group's kept copy)
/// and their similarity. Sparse, sorted by page: 16 bytes a duplicate and nothing for the other
/// pages (a slot for every page took 24 bytes each, held to the end of the run).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Duplicates(Vec<(u32, u32, f64)>);

impl Duplicates {
    /// From `(page, duplicated page, similarity)` entries in any order, a page at most once.
    pub fn new(mut entries: Vec<(u32, u32, f64)>) -> Self {
        entries.sort_unstable_by_key(|&(page, _, _)| page);
        Self(entries)
    }

    /// The page that `page` duplicates and their similarity, when it duplicates one.
    pub fn of(&self, page: usize) -> Option<(usize, f64)> {
        let page = u32::try_from(page).ok()?;
        let at = self.0.binary_search_by_key(&page, |&(page, _, _)| page).ok()?;
        let (_, of, similarity) = self.0[at];
        Some((of as usize, similarity))
    }

    /// `(page, duplicated page, similarity)` of every page that duplicates another, by page.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.0.iter().map(|&(page, of, similarity)| (page as usize, of as usize, similarity))
    }

    /// Number of pages that duplicate another.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no page duplicates another.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<Option<(usize, f64)>>> for Duplicates {
    /// From a slot for every page.
    fn from(dense: Vec<Option<(usize, f64)>>) -> Self {
        let entries = dense
            .into_iter()
            .enumerate()
            .filter_map(|(page, of)| of.map(|(of, similarity)| (page as u32, of as u32, similarity)))
            .collect();
        Self::new(entries)
    }
}

/// The outcome of grouping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Groups {
    /// The pages that duplicate another.
    pub duplicate_of: Duplicates,
    /// Checked pairs `(a, b, similarity)`, `a < b`, at or above the related threshold whose pages
    /// are in different groups, copies of one text (identical signatures) listed once, by the
    /// most complete of them; sorted.
    pub related: Vec<(usize, usize, f64)>,
}

/// Groups near-duplicate pages, from the signatures in `log` (a page without one is in no group).
///
/// Candidates come from the banded index; every candidate pair's estimated Jaccard is checked
/// against `threshold`. Groups are stars, never chains: pages are taken from most to least
/// complete (most shingles first, ties by signature, then by input order); a page not yet in a group keeps its copy
/// and takes every checked neighbour not yet in a group as its duplicate. A page similar only to
/// a duplicate stays apart. `related_threshold` (at most `threshold`) selects the related pairs;
/// `None` lists none.
///
/// Pages with identical signatures (copies of one text) are one class: the index and the
/// checks see each signature once, and a class is grouped whole, which is what grouping its
/// pages one by one gives (they are each other's neighbours, and every other page is a
/// neighbour of all or none of them). A run of 200,000 short pages, most of them copies, made
/// 23 million checked pairs and took 5 s and 0.6 GB to group page by page.
///
/// Memory: the signatures stay in the log (in a temporary file for a large run), which grouping
/// takes over and frees. Sorting the pages into classes takes 32 bytes a page for a moment, and
/// the classes' centres then 32 a class in the same buffer until they are ranked (the pages of
/// the classes of more than one page: 4 bytes each). Then, with the log in its file, about 25
/// bytes a page (each page's rank 4, the pass's band keys 16, the part of a band being indexed
/// and its sort's buffer 4, a byte of flags), about 4 million waiting candidates (9 bytes each;
/// a sweep checks them as soon as that many wait, and a part of a band may add more before it)
/// and the checked pairs (9 bytes each); with the log in memory, its classes' signatures (128
/// bytes a class) instead of the band keys. The first error of reading the log ends it.
pub fn group(log: SignatureLog, threshold: f64, related_threshold: Option<f64>) -> io::Result<Groups> {
    group_with(log, threshold, related_threshold, PENDING_PAIRS)
}

/// [`group`], letting at most about `pending_pairs` candidates wait for a sweep when the log is
/// in its file (tests make sweeps come often).
fn group_with(
    log: SignatureLog,
    threshold: f64,
    related_threshold: Option<f64>,
    pending_pairs: usize,
) -> io::Result<Groups> {
    let floor = related_threshold.map_or(threshold, |related| related.min(threshold));
    let Classes { mut centres, copies, pages_span } = Classes::of(&log)?;
    // Classes are taken in the order of their centres (most complete first, ties by signature,
    // then by input order), and from here on known by their rank in that order. The signature
    // is compared by its first four slots, and whole only where those tie.
    centres.par_sort_unstable_by_key(|c| (std::cmp::Reverse(c.shingles), c.prefix, c.page));
    order_ties_by_signature(&log, &mut centres)?;
    let ranks = centres.len();
    let mut rank_of = vec![NO_RANK; pages_span];
    for (rank, centre) in centres.iter().enumerate() {
        rank_of[centre.page as usize] = rank as u32;
    }
    drop(centres);
    let (edges, equal) = checked_pairs(log, &rank_of, ranks, floor, pending_pairs)?;
    // Each rank's centre, from `rank_of` (held instead of beside it while pairs are checked).
    let mut centres = vec![0u32; ranks];
    for (page, &rank) in rank_of.iter().enumerate().filter(|&(_, &rank)| rank != NO_RANK) {
        centres[rank as usize] = page as u32;
    }
    drop(rank_of);
    let similarity_of = |equal: u8| f64::from(equal) / SIGNATURE_SLOTS as f64;
    let (a_of, b_of) = (|e: u64| (e >> 32) as u32, |e: u64| e as u32);

    // Adjacency of the pairs at or above the threshold, both directions, with their equal slots.
    let above = |i: usize| similarity_of(equal[i]) >= threshold;
    let mut start = vec![0u32; ranks + 1];
    for (_, &e) in edges.iter().enumerate().filter(|&(i, _)| above(i)) {
        start[a_of(e) as usize + 1] += 1;
        start[b_of(e) as usize + 1] += 1;
    }
    for r in 0..ranks {
        start[r + 1] += start[r];
    }
    let mut neighbours = vec![(0u32, 0u8); start[ranks] as usize];
    let mut filled = start[..ranks].to_vec();
    for (i, &e) in edges.iter().enumerate().filter(|&(i, _)| above(i)) {
        let (a, b) = (a_of(e), b_of(e));
        neighbours[filled[a as usize] as usize] = (b, equal[i]);
        filled[a as usize] += 1;
        neighbours[filled[b as usize] as usize] = (a, equal[i]);
        filled[b as usize] += 1;
    }
    drop(filled);

    let members = |rank: u32| copies.members(&centres[rank as usize]);
    let centre_of = |rank: u32| centres[rank as usize];
    let mut duplicate_of: Vec<(u32, u32, f64)> = Vec::new();
    // Each class's group: the rank of its centre's class.
    let mut group_of = vec![u32::MAX; ranks];
    for rank in 0..ranks as u32 {
        let around = &neighbours[start[rank as usize] as usize..start[rank as usize + 1] as usize];
        if group_of[rank as usize] != u32::MAX || (around.is_empty() && members(rank).len() == 1) {
            continue;
        }
        group_of[rank as usize] = rank;
        let centre = centre_of(rank);
        let mut take = |members: &[u32], similarity: f64| {
            for &page in members.iter().filter(|&&page| page != centre) {
                duplicate_of.push((page, centre, similarity));
            }
        };
        take(members(rank), 1.0);
        for &(other, equal) in around {
            if group_of[other as usize] == u32::MAX {
                group_of[other as usize] = rank;
                take(members(other), similarity_of(equal));
            }
        }
    }
    drop((neighbours, start));
    // A class outside every group is a group of its own.
    let group = |r: u32| if group_of[r as usize] == u32::MAX { r } else { group_of[r as usize] };
    let mut related: Vec<(usize, usize, f64)> = if related_threshold.is_none() {
        Vec::new()
    } else {
        edges
            .iter()
            .zip(&equal)
            .map(|(&e, &equal)| (a_of(e), b_of(e), equal))
            .filter(|&(a, b, _)| group(a) != group(b))
            .map(|(a, b, equal)| {
                // Copies of one text are listed once, by their most complete copy.
                let (x, y) = (centre_of(a), centre_of(b));
                (x.min(y) as usize, x.max(y) as usize, similarity_of(equal))
            })
            .collect()
    };
    related.par_sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
    Ok(Groups { duplicate_of: Duplicates::new(duplicate_of), related })
}

/// A page that is not the centre of a class.
const NO_RANK: u32 = u32::MAX;

/// Bands whose keys grouping holds at a time when the log is in its file: each pass reads the
/// log once, and each sweep over the waiting candidates `PASSES - 1` more times. Four bands
/// take 16 bytes a class; 32 would take 128, the signatures whole.
pub const BANDS_PER_PASS: usize = 4;

/// Passes that read the log for candidates, and passes that each sweep makes.
const PASSES: usize = BANDS / BANDS_PER_PASS;

const _: () = assert!(BANDS.is_multiple_of(BANDS_PER_PASS) && BANDS_PER_PASS <= 8 && BAND_ROWS == 2);

/// The signed pages (at least [`MIN_SHINGLES`] shingles) in classes of identical signatures:
/// each class's centre, its most complete page (ties: input order), and the pages of the
/// classes of more than one.
struct Classes {
    /// Each class's centre, in no particular order.
    centres: Vec<Centre>,
    /// The pages of the classes of more than one page.
    copies: Copies,
    /// One more than the highest page signed.
    pages_span: usize,
}

/// A signed page: its signature is its first four slots and a hash of the others. As a class's
/// centre, `hash` is no longer read.
struct Signed {
    /// The first four slots, the first in the high bits: they order as the slots do.
    prefix: u64,
    hash: u64,
    /// Its [`Fingerprint::text_key`].
    text_key: u64,
    shingles: u32,
    page: u32,
}

/// A class's centre: its page, shingles and first four slots (a [`Signed`] whose hash is not
/// read, so the classes are made where the pages were sorted).
type Centre = Signed;

/// The pages of the classes of more than one page, found by their centres.
#[derive(Default)]
struct Copies {
    /// Each such class's centre, and where its pages start in `pages` and how many they are;
    /// sorted by centre.
    classes: Vec<(u32, u32, u32)>,
    /// Their pages, in input order, class after class.
    pages: Vec<u32>,
}

impl Copies {
    /// The pages of the class whose centre is `*centre`, in input order (the centre alone for a
    /// class of one page).
    fn members<'a>(&'a self, centre: &'a u32) -> &'a [u32] {
        match self.classes.binary_search_by_key(centre, |&(c, _, _)| c) {
            Ok(at) => {
                let (_, start, len) = self.classes[at];
                &self.pages[start as usize..(start + len) as usize]
            }
            Err(_) => std::slice::from_ref(centre),
        }
    }
}

impl Classes {
    /// Signatures are told apart by their first four slots and a 64-bit hash of the other 60
    /// (two different signatures with the same first four slots share the hash with a chance of
    /// about 2^-64): 32 bytes a page while they are sorted, then 32 a class, in the same buffer,
    /// and 4 a page of a class of more than one.
    fn of(log: &SignatureLog) -> io::Result<Self> {
        let mut signed: Vec<Signed> = Vec::with_capacity(log.len());
        let mut pages_span = 0;
        log.for_each(|record| {
            pages_span = pages_span.max(record.page() as usize + 1);
            if record.shingles() >= MIN_SHINGLES {
                let prefix = (0..4).fold(0u64, |prefix, slot| (prefix << 16) | u64::from(record.slot(slot)));
                let hash = xxh3_64(&record.slot_bytes()[8..]);
                let (shingles, text_key, page) = (record.shingles(), record.text_key(), record.page());
                signed.push(Signed { prefix, hash, text_key, shingles, page });
            }
        })?;
        signed.par_sort_unstable_by_key(|s| (s.prefix, s.hash, s.page));
        let mut copies = Copies::default();
        // Each run of one signature becomes its class's centre, written over the sorted pages
        // where they were read (class `c` at index `c`, at or before its run's start).
        let (mut classes, mut start) = (0, 0);
        while start < signed.len() {
            let same = |s: &Signed| (s.prefix, s.hash) == (signed[start].prefix, signed[start].hash);
            let end = start + signed[start..].iter().position(|s| !same(s)).unwrap_or(signed.len() - start);
            let run = &signed[start..end];
            let centre = run
                .iter()
                .min_by_key(|s| (std::cmp::Reverse(s.shingles), s.text_key, s.page))
                .expect("a run");
            let centre = Centre { hash: 0, ..*centre };
            if run.len() > 1 {
                copies.classes.push((centre.page, copies.pages.len() as u32, run.len() as u32));
                copies.pages.extend(run.iter().map(|s| s.page));
            }
            signed[classes] = centre;
            classes += 1;
            start = end;
        }
        signed.truncate(classes);
        signed.shrink_to_fit();
        copies.classes.sort_unstable_by_key(|&(centre, _, _)| centre);
        Ok(Classes { centres: signed, copies, pages_span })
    }
}

/// Orders the runs of `centres` (sorted by shingles, first four slots and page) whose shingles
/// and first four slots tie by their whole signatures, then text keys, then pages, reading the
/// tied centres' signatures from the log (different near-copies of one length are rare).
fn order_ties_by_signature(log: &SignatureLog, centres: &mut [Centre]) -> io::Result<()> {
    let tied: Vec<std::ops::Range<usize>> = {
        let mut tied = Vec::new();
        let mut start = 0;
        for run in centres.chunk_by(|a, b| (a.shingles, a.prefix) == (b.shingles, b.prefix)) {
            if run.len() > 1 {
                tied.push(start..start + run.len());
            }
            start += run.len();
        }
        tied
    };
    if tied.is_empty() {
        return Ok(());
    }
    let mut wanted: Vec<u32> =
        tied.iter().flat_map(|run| centres[run.clone()].iter().map(|c| c.page)).collect();
    wanted.sort_unstable();
    let mut slots = vec![[0u16; SIGNATURE_SLOTS]; wanted.len()];
    log.for_each(|record| {
        if let Ok(at) = wanted.binary_search(&record.page()) {
            slots[at] = record.fingerprint().slots;
        }
    })?;
    let slots_of = |c: &Centre| &slots[wanted.binary_search(&c.page).expect("wanted")];
    for run in tied {
        centres[run].sort_unstable_by(|a, b| {
            slots_of(a).cmp(slots_of(b)).then(a.text_key.cmp(&b.text_key)).then(a.page.cmp(&b.page))
        });
    }
    Ok(())
}

/// Checked candidate pairs `(a << 32) | b`, `a < b`, of the signatures of the `ranks` class
/// centres (`rank_of` a page's rank, [`NO_RANK`] for the other pages) with estimated similarity
/// at least `floor`, sorted, and each pair's equal slots: signatures that share all slots of at
/// least one band, where the first is among the first [`MAX_BUCKET_PAIRS`] of that band's
/// bucket.
///
/// While the log is in memory, its signatures are gathered in rank order and every candidate
/// is checked as it is found ([`checked_pairs_in_memory`]); once it is in its file, the log is
/// read a few bands at a time ([`checked_pairs_by_passes`], with at most about `pending_pairs`
/// candidates waiting). Both give the same pairs.
fn checked_pairs(
    log: SignatureLog,
    rank_of: &[u32],
    ranks: usize,
    floor: f64,
    pending_pairs: usize,
) -> io::Result<(Vec<u64>, Vec<u8>)> {
    if log.in_file() {
        return checked_pairs_by_passes(&log, rank_of, ranks, floor, pending_pairs);
    }
    // The centres' signatures, in rank order; the copies' are freed with the log.
    let mut signatures = vec![[0u16; SIGNATURE_SLOTS]; ranks];
    log.for_each(|record| {
        let rank = rank_of[record.page() as usize];
        if rank != NO_RANK {
            signatures[rank as usize] = record.fingerprint().slots;
        }
    })?;
    drop(log);
    let pairs = checked_pairs_in_memory(&signatures, floor);
    // Counted again for the pairs kept, rather than kept beside each pair as it is found (16
    // bytes a pair while they are collected, not 8).
    let equal = pairs
        .par_iter()
        .map(|&pair| equal_slots(&signatures[(pair >> 32) as usize], &signatures[pair as u32 as usize]))
        .collect();
    Ok((pairs, equal))
}

/// Slots two signatures share.
fn equal_slots(a: &Slots, b: &Slots) -> u8 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as u8
}

/// [`checked_pairs`] of `signatures` in rank order. Each pair is taken in the first band that
/// pairs it and checked there, so no pair is listed twice and unchecked candidates are never
/// kept. Memory: 20 bytes a signature (the band being indexed, the buffer its sort goes
/// through, and for each signature the bands where it is among its bucket's first), plus the
/// pairs kept.
fn checked_pairs_in_memory(signatures: &[Slots], floor: f64) -> Vec<u64> {
    let band_key = |s: &Slots, band: usize| {
        s[band * BAND_ROWS..(band + 1) * BAND_ROWS].iter().fold(0u32, |acc, &v| (acc << 16) | v as u32)
    };
    // Bit `band` of `early[a]`: signature a is among the first MAX_BUCKET_PAIRS of its bucket
    // in that band, so it was paired there with every later signature of the bucket.
    let mut early = vec![0u32; signatures.len()];
    let paired_before = |a: u32, b: u32, band: usize, early: &[u32]| {
        let (sa, sb) = (&signatures[a as usize], &signatures[b as usize]);
        // The earlier bands where a was among the first, lowest first.
        let mut bands = early[a as usize] & ((1u32 << band) - 1);
        while bands != 0 {
            let j = bands.trailing_zeros() as usize;
            if sa[j * BAND_ROWS..(j + 1) * BAND_ROWS] == sb[j * BAND_ROWS..(j + 1) * BAND_ROWS] {
                return true;
            }
            bands &= bands - 1;
        }
        false
    };
    let mut pairs: Vec<u64> = Vec::new();
    let mut bucket: Vec<(u32, u32)> = Vec::with_capacity(signatures.len());
    let mut scratch: Vec<(u32, u32)> = Vec::new();
    for band in 0..BANDS {
        bucket.clear();
        // Listed in order, and sorted stably by key: each bucket in grouping order.
        bucket.extend(signatures.iter().enumerate().map(|(i, s)| (band_key(s, band), i as u32)));
        sort_by_band_key(&mut bucket, &mut scratch);
        let early_now = &early;
        pairs.par_extend(bucket.par_chunk_by(|x, y| x.0 == y.0).filter(|run| run.len() > 1).flat_map_iter(
            |run| {
                run.iter().enumerate().flat_map(move |(i, &(_, b))| {
                    run[..i.min(MAX_BUCKET_PAIRS)]
                        .iter()
                        .filter(move |&&(_, a)| {
                            !paired_before(a, b, band, early_now)
                                && slot_similarity(&signatures[a as usize], &signatures[b as usize]) >= floor
                        })
                        .map(move |&(_, a)| (u64::from(a) << 32) | u64::from(b))
                })
            },
        ));
        for run in bucket.chunk_by(|x, y| x.0 == y.0) {
            for &(_, a) in &run[..run.len().min(MAX_BUCKET_PAIRS)] {
                early[a as usize] |= 1 << band;
            }
        }
    }
    pairs.par_sort_unstable();
    pairs
}

/// [`checked_pairs`] read from the log [`BANDS_PER_PASS`] bands at a time. Each pass finds
/// candidates (within a pass, each pair is taken in the first band that pairs it; across
/// passes, sorting drops the pairs found again). Candidates wait unchecked until they are
/// `pending_pairs` ([`PENDING_PAIRS`]), at the end of a pass or after any part of a band (the
/// pass's keys are read again then), or the last pass is done; then a sweep reads every pass's
/// keys again to count their equal slots and keeps those at or above `floor`. Memory: 16 bytes
/// a signature for the pass's keys, 4 for the part of a band being indexed and the buffer its
/// sort goes through, a byte of flags, 9 bytes a waiting candidate (and the last part's
/// candidates past `pending_pairs`) and 9 bytes a checked pair.
fn checked_pairs_by_passes(
    log: &SignatureLog,
    rank_of: &[u32],
    ranks: usize,
    floor: f64,
    pending_pairs: usize,
) -> io::Result<(Vec<u64>, Vec<u8>)> {
    let mut keys = vec![[0u32; BANDS_PER_PASS]; ranks];
    let read_keys = |pass: usize, keys: &mut [[u32; BANDS_PER_PASS]]| {
        log.for_each(|record| {
            let rank = rank_of[record.page() as usize];
            if rank != NO_RANK {
                let row = &mut keys[rank as usize];
                for (j, key) in row.iter_mut().enumerate() {
                    *key = record.band_key(pass * BANDS_PER_PASS + j);
                }
            }
        })
    };
    // Bit `j` of `early[a]`: signature a is among the first MAX_BUCKET_PAIRS of its bucket in
    // band j of the pass, so it was paired there with every later signature of the bucket.
    let mut early = vec![0u8; ranks];
    let (mut checked, mut checked_equal): (Vec<u64>, Vec<u8>) = (Vec::new(), Vec::new());
    let mut pending: Vec<u64> = Vec::new();
    let mut bucket: Vec<(u32, u32)> = Vec::new();
    let mut scratch: Vec<(u32, u32)> = Vec::new();
    // Checks the waiting candidates (sorted, none twice, none checked: `sort_and_drop_checked`):
    // reads every pass's keys (`keys` holds pass `pass`'s, and holds another pass's afterwards),
    // counts each candidate's equal slots, and merges those at or above the floor into the
    // checked pairs, in order.
    let sweep = |pass: usize,
                 keys: &mut Vec<[u32; BANDS_PER_PASS]>,
                 pending: &mut Vec<u64>,
                 checked: &mut Vec<u64>,
                 checked_equal: &mut Vec<u8>|
     -> io::Result<()> {
        let mut equal = vec![0u8; pending.len()];
        for sweep in (0..PASSES).map(|k| (pass + k) % PASSES) {
            if sweep != pass {
                read_keys(sweep, keys)?;
            }
            pending.par_iter().zip(equal.par_iter_mut()).with_min_len(4096).for_each(|(&pair, equal)| {
                let (ka, kb) = (&keys[(pair >> 32) as usize], &keys[pair as u32 as usize]);
                for (&x, &y) in ka.iter().zip(kb) {
                    *equal += u8::from(x >> 16 == y >> 16) + u8::from(x & 0xFFFF == y & 0xFFFF);
                }
            });
        }
        let mut kept = 0;
        for i in 0..pending.len() {
            if f64::from(equal[i]) / SIGNATURE_SLOTS as f64 >= floor {
                (pending[kept], equal[kept]) = (pending[i], equal[i]);
                kept += 1;
            }
        }
        let total = checked.len() + kept;
        let (mut merged, mut merged_equal) = (Vec::with_capacity(total), Vec::with_capacity(total));
        let (mut old, mut new) = (0, 0);
        while old < checked.len() || new < kept {
            if new < kept && (old == checked.len() || pending[new] < checked[old]) {
                merged.push(pending[new]);
                merged_equal.push(equal[new]);
                new += 1;
            } else {
                merged.push(checked[old]);
                merged_equal.push(checked_equal[old]);
                old += 1;
            }
        }
        (*checked, *checked_equal) = (merged, merged_equal);
        *pending = Vec::new();
        Ok(())
    };
    for pass in 0..PASSES {
        read_keys(pass, &mut keys)?;
        early.fill(0);
        // A band's buckets are indexed a part at a time (by the keys' top bits): the index and
        // its sort's buffer take a part of the signatures, not all of them.
        for (j, part) in (0..BANDS_PER_PASS).flat_map(|j| (0..BUCKET_PARTS).map(move |part| (j, part))) {
            bucket.clear();
            // Listed in order, and sorted stably by key: each bucket in grouping order.
            let in_part = |key: u32| (key >> (32 - BUCKET_PARTS.trailing_zeros())) as usize == part;
            bucket.extend(
                keys.iter()
                    .enumerate()
                    .filter(|(_, row)| in_part(row[j]))
                    .map(|(rank, row)| (row[j], rank as u32)),
            );
            sort_by_band_key(&mut bucket, &mut scratch);
            // Paired in an earlier band of this pass.
            let paired_before = |a: u32, b: u32| {
                let (ka, kb) = (&keys[a as usize], &keys[b as usize]);
                let mut bands = early[a as usize] & ((1u8 << j) - 1);
                while bands != 0 {
                    let earlier = bands.trailing_zeros() as usize;
                    if ka[earlier] == kb[earlier] {
                        return true;
                    }
                    bands &= bands - 1;
                }
                false
            };
            pending.par_extend(
                bucket.par_chunk_by(|x, y| x.0 == y.0).filter(|run| run.len() > 1).flat_map_iter(|run| {
                    run.iter().enumerate().flat_map(move |(i, &(_, b))| {
                        run[..i.min(MAX_BUCKET_PAIRS)]
                            .iter()
                            .filter(move |&&(_, a)| !paired_before(a, b))
                            .map(move |&(_, a)| (u64::from(a) << 32) | u64::from(b))
                    })
                }),
            );
            for run in bucket.chunk_by(|x, y| x.0 == y.0) {
                for &(_, a) in &run[..run.len().min(MAX_BUCKET_PAIRS)] {
                    early[a as usize] |= 1 << j;
                }
            }
            // Many candidates (pages alike in common words): checked now, not held to the end of
            // the pass, and the pass's keys read again for its other bands.
            if pending.len() >= pending_pairs {
                sort_and_drop_checked(&mut pending, &checked);
                sweep(pass, &mut keys, &mut pending, &mut checked, &mut checked_equal)?;
                read_keys(pass, &mut keys)?;
            }
        }
        sort_and_drop_checked(&mut pending, &checked);
        if pending.len() < pending_pairs && pass + 1 < PASSES {
            continue;
        }
        sweep(pass, &mut keys, &mut pending, &mut checked, &mut checked_equal)?;
    }
    Ok((checked, checked_equal))
}

/// Sorts `pending` candidates, drops those found twice and those among the sorted `checked`.
fn sort_and_drop_checked(pending: &mut Vec<u64>, checked: &[u64]) {
    pending.par_sort_unstable();
    pending.dedup();
    if !checked.is_empty() {
        pending.retain(|pair| checked.binary_search(pair).is_err());
    }
}

/// Parts a band's index is built in by [`checked_pairs_by_passes`] (a power of two).
const BUCKET_PARTS: usize = 4;

const _: () = assert!(BUCKET_PARTS.is_power_of_two() && BUCKET_PARTS > 1);

/// Candidate pairs [`checked_pairs`] lets wait unchecked (9 bytes each) before a sweep checks
/// them: beyond it, a sweep costs a read of the log for each pass, not memory for each page.
const PENDING_PAIRS: usize = 4 << 20;

/// Sorts `(band key, page)` pairs listed in page order by key, pages in order among equal keys
/// (so as sorting the pairs whole would): four stable counting passes of a key byte each, a
/// fifth of the time a comparison sort took on 7,000 pages. `scratch` is reused between calls.
fn sort_by_band_key(bucket: &mut Vec<(u32, u32)>, scratch: &mut Vec<(u32, u32)>) {
    scratch.clear();
    scratch.resize(bucket.len(), (0, 0));
    for shift in [0, 8, 16, 24] {
        let digit = |key: u32| ((key >> shift) & 0xFF) as usize;
        // Where each digit's run starts in the output.
        let mut starts = [0usize; 256];
        for &(key, _) in bucket.iter() {
            starts[digit(key)] += 1;
        }
        let mut next = 0;
        for start in &mut starts {
            (*start, next) = (next, next + *start);
        }
        for &entry in bucket.iter() {
            let slot = &mut starts[digit(entry.0)];
            scratch[*slot] = entry;
            *slot += 1;
        }
        std::mem::swap(bucket, scratch);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::corpus::signatures::RECORD_BYTES;
    use crate::fingerprint::{for_each_shingle, normalize_into};

    /// A log of `pages`' signatures that keeps `memory_limit` bytes in memory, added in an order
    /// that `memory_limit` shuffles.
    fn log_of(pages: &[Fingerprint], memory_limit: usize) -> SignatureLog {
        let log = SignatureLog::with_memory_limit(std::env::temp_dir(), memory_limit);
        let mut order: Vec<usize> = (0..pages.len()).collect();
        order.sort_by_key(|&page| mix(page as u64 ^ memory_limit as u64));
        for page in order {
            log.add(page, &pages[page]);
        }
        log
    }

    /// [`group`] of `pages`' signatures, from a log in memory and from one in its file (the
    /// two ways of finding pairs), which must agree.
    fn group_all(pages: Vec<Fingerprint>, threshold: f64, related_threshold: Option<f64>) -> Groups {
        let in_memory = log_of(&pages, usize::MAX);
        let in_file = log_of(&pages, 3 * RECORD_BYTES);
        assert!(!in_memory.in_file() && (pages.len() < 3 || in_file.in_file()));
        let often = log_of(&pages, 3 * RECORD_BYTES);
        let groups = group(in_memory, threshold, related_threshold).unwrap();
        assert_eq!(group(in_file, threshold, related_threshold).unwrap(), groups, "from the file");
        // A sweep whenever a candidate waits: in the middle of passes too.
        let swept_often = group_with(often, threshold, related_threshold, 1).unwrap();
        assert_eq!(swept_often, groups, "from the file, sweeping often");
        groups
    }

    #[test]
    fn a_log_that_cannot_be_read_back_groups_nothing_and_says_so() {
        let pages: Vec<Fingerprint> =
            (0..20).map(|i| fp(&format!("story {} {}", i % 4, "word ".repeat(40)))).collect();
        let log = log_of(&pages, 3 * RECORD_BYTES);
        log.break_file_for_reading();
        let error = group(log, 0.5, Some(0.1)).unwrap_err().to_string();
        assert!(error.contains("(TMPDIR)"), "{error}");
    }

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
    fn band_keys_sort_as_a_comparison_sort_sorts_them() {
        let mut scratch = Vec::new();
        for (n, keys) in [(0u64, 1u64), (1, 7), (1000, 3), (5000, 1 << 32), (3000, 1 << 9)] {
            // Keys from few to all distinct, many of them equal in some bytes.
            let mut bucket: Vec<(u32, u32)> = (0..n).map(|i| ((mix(i) % keys) as u32, i as u32)).collect();
            let mut expected = bucket.clone();
            expected.sort_unstable();
            sort_by_band_key(&mut bucket, &mut scratch);
            assert_eq!(bucket, expected, "{n} pages, {keys} keys");
        }
    }

    #[test]
    fn identical_texts_have_similarity_one_and_different_texts_near_zero() {
        let a = words(300, 1).join(" ");
        let b = words(300, 2).join(" ");
        assert_eq!(similarity(&fp(&a), &fp(&a)), 1.0);
        assert!(similarity(&fp(&a), &fp(&b)) < 0.1);
    }

    #[test]
    fn taking_blocks_out_of_a_removable_signature_is_signing_the_others() {
        let (mut taken_out, mut few_pages) = (0, 0);
        for seed in 0..300u64 {
            // 1 to 40 blocks of 0 to 30 shingles, a few of them repeated within a block.
            let blocks: Vec<Vec<u64>> = (0..1 + mix(seed) % 40)
                .map(|b| {
                    (0..mix(seed ^ (b << 8)) % 31).map(|s| mix((seed << 20) ^ (b << 10) ^ (s % 25))).collect()
                })
                .collect();
            let removed = |b: usize| mix(seed ^ ((b as u64) << 32)).is_multiple_of(12);
            // Kept shingle by shingle while there are few, and two values a slot from the start.
            let (mut removable, mut two_per_slot) =
                (RemovableSignature::default(), RemovableSignature::for_text(usize::MAX, FEW_SHINGLES));
            // The same, a block at a time: the same state whatever kind it keeps.
            let (mut by_block, mut two_by_block) = (removable.clone(), two_per_slot.clone());
            for (b, hashes) in blocks.iter().enumerate() {
                by_block.add_block(b, hashes);
                two_by_block.add_block(b, hashes);
            }
            let (mut all, mut rest) = (SignatureBuilder::default(), SignatureBuilder::default());
            let mut removed_shingles = 0;
            for (b, hashes) in blocks.iter().enumerate() {
                for &h in hashes {
                    removable.add(b, h);
                    two_per_slot.add(b, h);
                    all.add(h);
                    if removed(b) {
                        removed_shingles += 1;
                    } else {
                        rest.add(h);
                    }
                }
            }
            assert_eq!(removable.finish(), all.finish());
            assert_eq!(two_per_slot.finish(), all.finish());
            assert_eq!(format!("{by_block:?}"), format!("{removable:?}"), "seed {seed}");
            assert_eq!(format!("{two_by_block:?}"), format!("{two_per_slot:?}"), "seed {seed}");
            let few = removable.shingles() as usize <= FEW_SHINGLES;
            few_pages += usize::from(few);
            let without = removable.without(removed, removed_shingles);
            assert!(without.is_some() || !few, "seed {seed}: a page of few shingles always takes blocks out");
            if let Some(without) = without {
                assert_eq!(without.mins, rest.mins, "seed {seed}");
                assert_eq!(without.finish(), rest.finish());
                taken_out += 1;
            }
            // Past the few, the two keep the same: taken out or not, the same signature.
            let slotted = two_per_slot.without(removed, removed_shingles).map(|b| b.mins);
            if !few {
                assert_eq!(
                    removable.without(removed, removed_shingles).map(|b| b.mins),
                    slotted,
                    "seed {seed}"
                );
                assert_eq!(removable.heap_bytes(), RemovableSignature::MAX_HEAP_BYTES);
            }
        }
        // With one block in 12 taken out, most signatures need no text.
        assert!(taken_out > 150, "{taken_out}");
        assert!((20..280).contains(&few_pages), "{few_pages} pages of few shingles");
    }

    #[test]
    fn copies_of_one_signature_keep_the_page_of_the_lower_text_key_in_any_order() {
        let signature = fp(&words(300, 7).join(" "));
        // Two pages that sign alike but kept different blocks, and a copy of the second.
        let low = Fingerprint { text_key: 5, ..signature.clone() };
        let high = Fingerprint { text_key: 9, ..signature };
        let orders = [
            (vec![low.clone(), high.clone(), high.clone()], 0),
            (vec![high.clone(), low.clone(), high.clone()], 1),
            (vec![high.clone(), high.clone(), low], 2),
        ];
        for (pages, kept) in orders {
            let groups = group_all(pages, 0.8, None);
            for page in (0..3).filter(|&p| p != kept) {
                assert_eq!(groups.duplicate_of.of(page).map(|d| d.0), Some(kept), "page {page}");
            }
            assert_eq!(groups.duplicate_of.of(kept), None);
        }
        // Pages that kept the same blocks fall back to input order.
        let groups = group_all(vec![high.clone(), high], 0.8, None);
        assert_eq!(groups.duplicate_of.of(1).map(|d| d.0), Some(0));
    }

    #[test]
    fn a_signature_of_more_blocks_than_fit_in_16_bits_takes_nothing_out() {
        // Added a block at a time, the same.
        let mut by_block = RemovableSignature::for_text(usize::MAX, FEW_SHINGLES);
        let mut by_hash = by_block.clone();
        by_block.add_block(70_000, &[mix(1), mix(2)]);
        by_hash.add(70_000, mix(1));
        by_hash.add(70_000, mix(2));
        assert_eq!(format!("{by_block:?}"), format!("{by_hash:?}"));
        let mut removable = RemovableSignature::default();
        removable.add(70_000, mix(1));
        removable.add(1, mix(2));
        assert!(removable.without(|b| b == 1, 1).is_none());
        assert!(removable.without(|_| false, 0).is_some());
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
        let groups = group_all(vec![cut.clone(), other.clone(), full.clone(), cut], 0.5, Some(0.1));
        assert_eq!(groups.duplicate_of.of(0).map(|d| d.0), Some(2));
        assert_eq!(groups.duplicate_of.of(3).map(|d| d.0), Some(2));
        assert_eq!(groups.duplicate_of.of(1), None);
        assert_eq!(groups.duplicate_of.of(2), None);
    }

    #[test]
    fn the_centre_of_two_equally_long_pages_does_not_depend_on_their_order() {
        let base = words(400, 9);
        let mut edited = base.clone();
        edited[200] = "changed".to_string();
        let a = Fingerprint { shingles: 400, ..fp(&base.join(" ")) };
        let b = Fingerprint { shingles: 400, ..fp(&edited.join(" ")) };
        assert_ne!(a.slots, b.slots);
        let forward = group_all(vec![a.clone(), b.clone()], 0.5, Some(0.5));
        let backward = group_all(vec![b, a], 0.5, Some(0.5));
        let centre = |g: &Groups, n: usize| (0..n).find(|&i| g.duplicate_of.of(i).is_none()).unwrap();
        // The same page is the centre: index 0 in one order is index 1 in the other.
        assert_eq!(centre(&forward, 2), 1 - centre(&backward, 2));
    }

    #[test]
    fn of_two_equally_long_pages_whose_first_slots_tie_the_lower_signature_is_the_centre() {
        // Equal shingles and equal first four slots: the order comes from the whole signatures,
        // read back from the log, whichever page comes first and wherever the log is.
        let base = fp(&words(300, 13).join(" "));
        let (mut low, mut high) = (base.clone(), base);
        low.slots[10] = 1;
        high.slots[10] = 2;
        for (pages, centre) in [(vec![high.clone(), low.clone()], 1), (vec![low, high], 0)] {
            let groups = group_all(pages, 0.5, None);
            assert_eq!(groups.duplicate_of.of(1 - centre).map(|d| d.0), Some(centre));
        }
    }

    #[test]
    fn no_chaining_without_a_check() {
        // a ~ b and b ~ c but a and c share little: c must not join a's group through b.
        let base = words(600, 7);
        let a = fp(&base[..400].join(" "));
        let b = fp(&base[100..500].join(" "));
        let c = fp(&base[200..600].join(" "));
        let full_a = Fingerprint { shingles: 10_000, ..a };
        let groups = group_all(vec![full_a, b, c], 0.5, Some(0.5));
        assert!(groups.duplicate_of.of(2).is_none_or(|(of, _)| of != 0));
    }

    #[test]
    fn a_thousand_identical_pages_make_one_group() {
        let page = fp(&words(300, 8).join(" "));
        let groups = group_all(vec![page; 1000], 0.4, Some(0.1));
        assert_eq!(groups.duplicate_of.len(), 999);
        assert!((1..1000).all(|i| groups.duplicate_of.of(i).map(|d| d.0) == Some(0)));
        assert!(groups.related.is_empty());
    }

    /// Grouping page by page over every pair that shares a band: what [`group`] gives when no
    /// bucket is capped (related pairs of copies listed once).
    fn group_every_pair(pages: &[Fingerprint], threshold: f64, related_threshold: f64) -> Groups {
        let signed = |p: usize| pages[p].shingles >= MIN_SHINGLES;
        let share_a_band = |a: &Fingerprint, b: &Fingerprint| {
            a.slots.chunks(BAND_ROWS).zip(b.slots.chunks(BAND_ROWS)).any(|(x, y)| x == y)
        };
        let n = pages.len();
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .filter(|&(a, b)| signed(a) && signed(b) && share_a_band(&pages[a], &pages[b]))
            .filter(|&(a, b)| similarity(&pages[a], &pages[b]) >= related_threshold.min(threshold))
            .collect();
        let mut neighbours = vec![Vec::new(); n];
        for &(a, b) in pairs.iter().filter(|&&(a, b)| similarity(&pages[a], &pages[b]) >= threshold) {
            neighbours[a].push(b);
            neighbours[b].push(a);
        }
        let mut order: Vec<usize> = (0..n).filter(|&p| !neighbours[p].is_empty()).collect();
        order.sort_by_key(|&p| (std::cmp::Reverse(pages[p].shingles), pages[p].slots, p));
        let mut duplicate_of = vec![None; n];
        let mut grouped = vec![false; n];
        for page in order {
            if std::mem::replace(&mut grouped[page], true) {
                continue;
            }
            for &other in &neighbours[page] {
                if !std::mem::replace(&mut grouped[other], true) {
                    duplicate_of[other] = Some((page, similarity(&pages[page], &pages[other])));
                }
            }
        }
        let group_of = |p: usize| duplicate_of[p].map_or(p, |(of, _)| of);
        // Copies (identical signatures) are listed once, by the most complete of them.
        let copy = |p: usize| {
            (0..n)
                .filter(|&q| signed(q) && pages[q].slots == pages[p].slots)
                .min_by_key(|&q| (std::cmp::Reverse(pages[q].shingles), q))
                .expect("p is one")
        };
        let mut related: Vec<(usize, usize, f64)> = pairs
            .into_iter()
            .filter(|&(a, b)| group_of(a) != group_of(b))
            .map(|(a, b)| (copy(a).min(copy(b)), copy(a).max(copy(b)), similarity(&pages[a], &pages[b])))
            .collect();
        related.sort_by_key(|x| (x.0, x.1));
        related.dedup();
        Groups { duplicate_of: duplicate_of.into(), related }
    }

    #[test]
    fn densifying_in_one_sweep_is_searching_forward_from_each_slot() {
        // The first formula: from each slot, the first filled one at or after it, going round.
        let searched = |builder: &SignatureBuilder| {
            let mut slots = [0u16; SIGNATURE_SLOTS];
            for (i, slot) in slots.iter_mut().enumerate() {
                let Some((distance, min)) = (0..SIGNATURE_SLOTS)
                    .map(|d| (d, builder.mins[(i + d) % SIGNATURE_SLOTS]))
                    .find(|&(_, m)| m != EMPTY_SLOT)
                else {
                    break;
                };
                *slot = densified(min, distance);
            }
            slots
        };
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for round in 0..300 {
            let mut builder = SignatureBuilder::default();
            // None, one, a few or most slots filled; the first and last slots among them or not.
            let filled = [0, 1, 3, 20, 63, 64][round % 6];
            for _ in 0..filled {
                let r = crate::testing::next(&mut state);
                builder.mins[(r % SIGNATURE_SLOTS as u64) as usize] = (r >> 32) as u32 & 0x7FFF_FFFF;
            }
            builder.shingles = filled as u32 + 1;
            assert_eq!(builder.finish().slots, searched(&builder), "round {round}");
        }
    }

    #[test]
    fn grouping_copies_as_one_signature_is_grouping_every_page() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut copies = 0;
        for round in 0..200 {
            // A few texts, each signed as it is, in copies, and with a few slots edited; some
            // of them too short to group.
            let bases: Vec<Fingerprint> =
                (0..1 + next() % 4).map(|t| fp(&words(80, round * 10 + t).join(" "))).collect();
            let pages: Vec<Fingerprint> = (0..next() % 40)
                .map(|_| {
                    let mut page = bases[(next() % bases.len() as u64) as usize].clone();
                    match next() % 4 {
                        0 => {
                            for _ in 0..1 + next() % 30 {
                                page.slots[(next() % 64) as usize] = next() as u16;
                            }
                        }
                        1 => page.shingles = (next() % 12) as u32,
                        _ => {}
                    }
                    if next() % 3 == 0 {
                        page.shingles += (next() % 3) as u32;
                    }
                    page
                })
                .collect();
            copies += pages.len() - Classes::of(&log_of(&pages, usize::MAX)).unwrap().centres.len();
            for (threshold, related) in [(0.4, 0.1), (0.7, 0.3), (0.9, 0.9)] {
                let expected = group_every_pair(&pages, threshold, related);
                assert_eq!(group_all(pages.clone(), threshold, Some(related)), expected, "round {round}");
                let unlisted = group_all(pages.clone(), threshold, None);
                assert_eq!((unlisted.duplicate_of, unlisted.related.len()), (expected.duplicate_of, 0));
            }
        }
        assert!(copies > 1000, "{copies} pages shared a signature");
    }

    #[test]
    fn in_a_bucket_beyond_the_cap_every_page_is_paired_with_the_most_complete() {
        // 2,000 different edits of one text (more than MAX_BUCKET_PAIRS in a bucket), the most
        // complete copy listed last: each is paired with it, and it is every page's centre.
        let base = fp(&words(300, 11).join(" "));
        let mut pages: Vec<Fingerprint> = (0..2000u64)
            .map(|i| {
                let mut page = base.clone();
                page.slots[(i % 64) as usize] ^= 1 + (i / 64) as u16;
                page
            })
            .collect();
        pages.push(Fingerprint { shingles: base.shingles + 1, ..base });
        assert!(pages.len() > 4 * MAX_BUCKET_PAIRS);
        let groups = group_all(pages.clone(), 0.4, None);
        assert!((0..2000).all(|i| groups.duplicate_of.of(i).map(|d| d.0) == Some(2000)));
    }

    #[test]
    fn a_text_in_thousands_of_variants_makes_pairs_in_proportion() {
        // 3,000 variants of one text, each a slot or two apart: every band's bucket holds most of
        // them. The pairs grow with the cap times the variants, not with the variants squared.
        let base = fp(&words(300, 12).join(" "));
        let variants: Vec<Fingerprint> = (0..3000u64)
            .map(|i| {
                let mut variant = base.clone();
                variant.slots[(i % 64) as usize] ^= 1 + (i / 64) as u16;
                variant.slots[(mix(i) % 64) as usize] ^= 1;
                variant
            })
            .collect();
        let ranks: Vec<u32> = (0..variants.len() as u32).collect();
        let pairs_of = |memory_limit, pending_pairs| {
            checked_pairs(log_of(&variants, memory_limit), &ranks, ranks.len(), 0.4, pending_pairs).unwrap()
        };
        let (pairs, equal) = pairs_of(usize::MAX, PENDING_PAIRS);
        let from_file = pairs_of(3 * RECORD_BYTES, PENDING_PAIRS);
        assert!(from_file == (pairs.clone(), equal.clone()), "the same pairs from the log's file");
        // Swept whenever 1,000 candidates wait: within the passes, whose keys are read again.
        let swept_often = pairs_of(3 * RECORD_BYTES, 1000);
        assert!(swept_often == (pairs.clone(), equal), "the same pairs, swept often");
        assert!(pairs.len() <= 2 * MAX_BUCKET_PAIRS * variants.len(), "{} pairs", pairs.len());
        assert!(pairs.len() >= variants.len(), "every variant is paired: {} pairs", pairs.len());
        assert!(pairs.windows(2).all(|w| w[0] < w[1]), "sorted, no pair twice");
    }

    #[test]
    fn short_pages_are_never_grouped() {
        let tiny = fp("one two three four");
        let groups = group_all(vec![tiny.clone(), tiny], 0.5, Some(0.1));
        assert!(groups.duplicate_of.is_empty());
    }
}
