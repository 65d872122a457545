//! A memo of measured blocks, one a thread: a block whose text the thread has measured before
//! (the same newsletter pitch, footer or related-stories line on every page of a site; a
//! paragraph of a syndicated copy) takes its normalised text, features, stopword counts,
//! shingles and phrase leads from the memo instead of a new scan ([`crate::segment::segment`]).
//!
//! What a block's scan gives depends on its text alone, so a page's result is the same whether
//! its blocks came from the memo or not, and the same in any order of pages and threads. A hit
//! compares the whole text, not just its hash. A thread's memo holds at most [`memo_bytes`];
//! when a block would take it past that, it is emptied and starts again.
//!
//! A miss costs too (the hash, a lookup and a copy into the memo, a cache miss or more each):
//! about a quarter of what a hit saves. Where less than [`MEMO_MIN_HIT_SHARE`] of the bytes
//! looked up in a window of [`MEMO_WINDOW_BYTES`] were found, the memo rests for
//! [`MEMO_REST_BYTES`] of blocks (neither looked up nor kept), then tries again.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::features::{Features, StopwordHits, FEATURE_BYTES};
use crate::fingerprint::{PrehashedKey, SEED};
use crate::page::rules::{LeadCandidate, LEAD_BYTES};

/// Most bytes the memos of all threads take together by default (`--memo-mib`): texts,
/// normalised texts, stopword counts, shingles, leads and entries ...
pub const MEMO_TOTAL_BYTES: usize = 256 << 20;
/// ... and most and least bytes one thread's memo takes (when the memo is on).
pub const MEMO_THREAD_BYTES: RangeInclusive<usize> = (4 << 20)..=(32 << 20);

/// The bytes all threads' memos take together, as [`set_total_bytes`] last set them.
static TOTAL_BYTES: AtomicUsize = AtomicUsize::new(MEMO_TOTAL_BYTES);

/// Sets the bytes the memos of all threads take together (`--memo-mib`; 0 turns the memo
/// off), for the memos that threads make from then on. A page's result is the same either way.
pub fn set_total_bytes(bytes: usize) {
    TOTAL_BYTES.store(bytes, Ordering::Relaxed);
}

/// Bytes of one thread's memo when all take `total` together and the run has `threads`
/// threads: `total` shared out, within [`MEMO_THREAD_BYTES`] (32 MiB each for up to 8 threads
/// by default), or 0 (off) when `total` is 0.
///
/// ```
/// use textsift::memo::{memo_bytes, MEMO_TOTAL_BYTES};
/// assert_eq!(memo_bytes(MEMO_TOTAL_BYTES, 2), 32 << 20);
/// assert_eq!(memo_bytes(MEMO_TOTAL_BYTES, 16), 16 << 20);
/// assert_eq!(memo_bytes(MEMO_TOTAL_BYTES, 1000), 4 << 20);
/// assert_eq!(memo_bytes(0, 2), 0);
/// ```
pub fn memo_bytes(total: usize, threads: usize) -> usize {
    if total == 0 {
        return 0;
    }
    (total / threads.max(1)).clamp(*MEMO_THREAD_BYTES.start(), *MEMO_THREAD_BYTES.end())
}

/// Blocks shorter than this are measured, not looked up: their scan costs about as much as the
/// hash and the lookup.
pub const MEMO_MIN_BYTES: usize = 16;

/// Bytes of blocks looked up between two checks of a memo's hits ...
pub const MEMO_WINDOW_BYTES: usize = 2 << 20;
/// ... the share of them that must be found for the memo to go on ...
pub const MEMO_MIN_HIT_SHARE: f64 = 0.25;
/// ... and the bytes of blocks it lets pass without a lookup when too few were.
pub const MEMO_REST_BYTES: usize = 8 << 20;

/// What the scan of a block gave, as [`BlockMemo::insert`] takes it.
pub(crate) struct Measured<'m> {
    /// The normalised text ([`crate::fingerprint::normalize_into`]).
    pub normalized: &'m [u8],
    /// Its words.
    pub words: usize,
    /// The block's features.
    pub features: Features,
    /// Its stopword counts.
    pub hits: StopwordHits,
    /// Its shingles, when they were made (`None`: the page had no room left for them).
    pub shingles: Option<&'m [u64]>,
    /// Whether the shingles are whole (not for a block that may hold an unspaced script: it
    /// has none then).
    pub whole: bool,
    /// Its phrase lead candidates, as found on the page where it was measured ...
    pub leads: &'m [LeadCandidate],
    /// ... where its normalised text started at this byte.
    pub leads_from: usize,
    /// The simhash of its shingles, when it was made.
    pub simhash: Option<u64>,
}

/// What the scan of a block gave, as [`BlockMemo::get`] finds it in the memo.
pub(crate) struct Remembered<'m> {
    /// The normalised text.
    pub normalized: &'m [u8],
    /// Its words.
    pub words: usize,
    /// The block's features.
    pub features: Features,
    /// Its stopword counts.
    pub hits: StopwordHits,
    /// Whether the shingles are whole.
    pub whole: bool,
    /// The simhash of its shingles, when it was made.
    pub simhash: Option<u64>,
    /// Its shingles, [`SHINGLE_BYTES`] each (`None`: not made).
    shingles: Option<&'m [u8]>,
    /// Its phrase lead candidates, [`LEAD_BYTES`] each.
    leads: &'m [u8],
}

impl<'m> Remembered<'m> {
    /// Its shingles, when they were made.
    pub(crate) fn shingles(&self) -> Option<impl Iterator<Item = u64> + 'm> {
        self.shingles.map(|bytes| {
            bytes.chunks_exact(SHINGLE_BYTES).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        })
    }

    /// Its phrase lead candidates as block `block` of a page where its normalised text starts
    /// at byte `to`.
    pub(crate) fn leads(&self, to: usize, block: usize) -> impl Iterator<Item = LeadCandidate> + 'm {
        self.leads
            .chunks_exact(LEAD_BYTES)
            .map(move |bytes| LeadCandidate::from_bytes(bytes.try_into().expect("a lead's bytes"), to, block))
    }
}

/// Bytes of a shingle in a record.
const SHINGLE_BYTES: usize = 8;

/// Where a block's record starts in [`BlockMemo::records`], and its text's length.
#[derive(Clone, Copy)]
struct Slot {
    at: u32,
    text_len: u32,
}

/// Bytes of a record's head: the features, the words, the lengths of the normalised text, the
/// shingles (`u32::MAX`: not made) and the leads (4 bytes each), the stopword planes (a byte),
/// the whole flag (a byte), whether there is a simhash (a byte) and the simhash (8 bytes).
const HEAD_BYTES: usize = FEATURE_BYTES + 4 * 4 + 3 + 8;

/// Shingles of a record whose shingles were not made.
const NO_SHINGLES: u32 = u32::MAX;

/// The blocks one thread measured last, by the hash of their text.
#[derive(Default)]
pub(crate) struct BlockMemo {
    /// Most bytes it takes: [`memo_bytes`], set at the first block offered (`None` before; 0
    /// when the memo is off).
    budget: Option<usize>,
    /// Bytes of blocks looked up in this window, and found.
    looked_up: usize,
    found: usize,
    /// Bytes of blocks still to pass without a lookup.
    resting: usize,
    /// Where each block's record is, by the hash of its text.
    by_hash: HashMap<u64, Slot, BuildHasherDefault<PrehashedKey>>,
    /// The records, one after another, each all in one place (a hit reads the map's slot and
    /// one run of bytes: six scattered reads before, 9% of a run's time on the 68 MB corpus):
    /// its head ([`HEAD_BYTES`]), text, normalised text, stopword planes (4 bytes each),
    /// shingles ([`SHINGLE_BYTES`] each) and leads ([`LEAD_BYTES`] each), numbers
    /// little-endian.
    records: Vec<u8>,
}

impl BlockMemo {
    /// The hash a block's text is looked up by.
    pub(crate) fn hash(text: &str) -> u64 {
        xxh3_64_with_seed(text.as_bytes(), SEED)
    }

    /// Whether a block of `len` bytes is to be looked up (not while the memo rests).
    pub(crate) fn wants(&mut self, len: usize) -> bool {
        if self.budget.is_none() {
            self.set_budget(memo_bytes(TOTAL_BYTES.load(Ordering::Relaxed), rayon::current_num_threads()));
        }
        if self.budget == Some(0) {
            return false;
        }
        if self.resting == 0 {
            return true;
        }
        self.resting = self.resting.saturating_sub(len);
        false
    }

    /// Notes that a block of `len` bytes was looked up, and `found` or not; at the end of a
    /// window with too few found, sets the memo to rest.
    pub(crate) fn note(&mut self, len: usize, found: bool) {
        self.looked_up += len;
        self.found += if found { len } else { 0 };
        if self.looked_up >= MEMO_WINDOW_BYTES {
            if (self.found as f64) < MEMO_MIN_HIT_SHARE * self.looked_up as f64 {
                self.resting = MEMO_REST_BYTES;
            }
            (self.looked_up, self.found) = (0, 0);
        }
    }

    /// The measures of `text` (of hash `hash`), when the memo holds them.
    pub(crate) fn get(&self, hash: u64, text: &str) -> Option<Remembered<'_>> {
        let slot = self.by_hash.get(&hash)?;
        if slot.text_len as usize != text.len() {
            return None;
        }
        let (head, rest) = self.records[slot.at as usize..].split_at(HEAD_BYTES);
        let (kept_text, rest) = rest.split_at(text.len());
        if kept_text != text.as_bytes() {
            return None;
        }
        let (features, head) = head.split_at(FEATURE_BYTES);
        let number =
            |i: usize| u32::from_le_bytes(head[4 * i..4 * i + 4].try_into().expect("4 bytes")) as usize;
        let (words, normalized, shingles, leads) = (number(0), number(1), number(2), number(3));
        let (planes, whole) = (usize::from(head[16]), head[17] != 0);
        let simhash = (head[18] != 0).then(|| u64::from_le_bytes(head[19..27].try_into().expect("8 bytes")));
        let (normalized, rest) = rest.split_at(normalized);
        let (planes, rest) = rest.split_at(4 * planes);
        let (shingles, rest) = match shingles {
            n if n == NO_SHINGLES as usize => (None, rest),
            n => {
                let (shingles, rest) = rest.split_at(SHINGLE_BYTES * n);
                (Some(shingles), rest)
            }
        };
        Some(Remembered {
            normalized,
            words,
            features: Features::from_bytes(features.try_into().expect("a head's features")),
            hits: StopwordHits::from_plane_bytes(planes),
            whole,
            simhash,
            shingles,
            leads: &rest[..LEAD_BYTES * leads],
        })
    }

    /// Keeps the measures of `text` (of hash `hash`), emptying the memo first when they would
    /// take it past its budget ([`memo_bytes`]; a block of more than an eighth of that is not
    /// kept, nor any before [`BlockMemo::wants`] set the budget).
    pub(crate) fn insert(&mut self, hash: u64, text: &str, measured: Measured<'_>) {
        let budget = self.budget.unwrap_or(0);
        let planes = measured.hits.planes();
        let shingles = measured.shingles.unwrap_or_default();
        let cost = HEAD_BYTES
            + text.len()
            + measured.normalized.len()
            + std::mem::size_of_val(planes)
            + SHINGLE_BYTES * shingles.len()
            + LEAD_BYTES * measured.leads.len()
            + SLOT_BYTES;
        if cost > budget / 8 {
            return;
        }
        if self.bytes() + cost > budget {
            self.by_hash.clear();
            self.records.clear();
        }
        let at = u32::try_from(self.records.len()).expect("a memo of less than 4 GiB");
        let text_len = u32::try_from(text.len()).expect("a block of less than 4 GiB");
        let count = |n: usize| u32::try_from(n).expect("fewer than u32::MAX").to_le_bytes();
        let records = &mut self.records;
        records.extend_from_slice(&measured.features.to_bytes());
        records.extend_from_slice(&count(measured.words));
        records.extend_from_slice(&count(measured.normalized.len()));
        records.extend_from_slice(&measured.shingles.map_or(NO_SHINGLES.to_le_bytes(), |s| count(s.len())));
        records.extend_from_slice(&count(measured.leads.len()));
        records.extend_from_slice(&[
            planes.len() as u8,
            u8::from(measured.whole),
            u8::from(measured.simhash.is_some()),
        ]);
        records.extend_from_slice(&measured.simhash.unwrap_or(0).to_le_bytes());
        records.extend_from_slice(text.as_bytes());
        records.extend_from_slice(measured.normalized);
        planes.iter().for_each(|plane| records.extend_from_slice(&plane.to_le_bytes()));
        shingles.iter().for_each(|shingle| records.extend_from_slice(&shingle.to_le_bytes()));
        for lead in measured.leads {
            records.extend_from_slice(&lead.to_bytes(measured.leads_from));
        }
        // A text of the same hash as another's takes its place.
        self.by_hash.insert(hash, Slot { at, text_len });
    }

    /// Sets the most bytes the memo takes, and takes room for its records at once (address
    /// space only until they are written): grown by doubling, the copies cost 2% of a run on
    /// pages that seldom repeat a block.
    fn set_budget(&mut self, budget: usize) {
        self.budget = Some(budget);
        self.records.reserve(budget);
    }

    /// Bytes the memo takes (its records, and a slot's cost a record).
    fn bytes(&self) -> usize {
        self.records.len() + SLOT_BYTES * self.by_hash.len()
    }
}

/// What a record costs besides its bytes: its slot in the map.
const SLOT_BYTES: usize = std::mem::size_of::<(u64, Slot)>() + 1;

#[cfg(test)]
mod tests {
    use super::*;

    fn memo_of(budget: usize) -> BlockMemo {
        let mut memo = BlockMemo::default();
        memo.set_budget(budget);
        memo
    }

    #[test]
    fn a_memo_that_is_off_looks_nothing_up_and_keeps_nothing() {
        let mut memo = memo_of(0);
        let text = "The cat and the hat, in one block of the page";
        assert!(!memo.wants(text.len()));
        memo.insert(BlockMemo::hash(text), text, measured(b"the cat", 2));
        assert!(memo.get(BlockMemo::hash(text), text).is_none());
        // Made by a thread that offers it a block, a memo takes its budget from the setting.
        let mut memo = BlockMemo::default();
        assert!(memo.wants(text.len()));
        assert_eq!(
            memo.budget,
            Some(memo_bytes(TOTAL_BYTES.load(Ordering::Relaxed), rayon::current_num_threads()))
        );
    }

    fn measured(normalized: &[u8], words: usize) -> Measured<'_> {
        let mut hits = StopwordHits::default();
        let features = crate::features::features("The cat and the hat", &mut hits, &mut String::new());
        Measured {
            normalized,
            words,
            features,
            hits,
            shingles: Some(&[1, 2, 3]),
            whole: true,
            leads: &[],
            leads_from: 0,
            simhash: Some(u64::MAX - 1),
        }
    }

    #[test]
    fn a_kept_block_comes_back_whole() {
        let mut memo = memo_of(1 << 20);
        let text = "The cat and the hat, in one block of the page";
        let hash = BlockMemo::hash(text);
        assert!(memo.get(hash, text).is_none());
        let kept = measured(b"the cat and the hat", 5);
        let (features, hits) = (kept.features, kept.hits);
        memo.insert(hash, text, kept);
        let got = memo.get(hash, text).expect("kept");
        assert_eq!(got.normalized, b"the cat and the hat");
        assert_eq!((got.words, got.features, got.hits), (5, features, hits));
        assert_eq!(got.shingles().map(Iterator::collect::<Vec<_>>), Some(vec![1, 2, 3]));
        assert!(got.whole);
        assert_eq!(got.simhash, Some(u64::MAX - 1));
        assert_eq!(got.leads(0, 0).count(), 0);
    }

    #[test]
    fn a_hit_needs_the_same_text_not_just_the_hash() {
        let mut memo = memo_of(1 << 20);
        let text = "The cat and the hat, in one block of the page";
        let hash = BlockMemo::hash(text);
        memo.insert(hash, text, measured(b"the cat", 2));
        // Another text under the same hash (as a collision would give) is not taken for it.
        assert!(memo.get(hash, "The dog and the log, in one block of the page").is_none());
        assert!(memo.get(hash, text).is_some());
    }

    #[test]
    fn a_memo_that_finds_too_little_rests_then_tries_again() {
        let mut memo = memo_of(1 << 20);
        // A window of finds keeps it going; one with a fifth found sets it to rest.
        memo.note(MEMO_WINDOW_BYTES, true);
        assert!(memo.wants(100));
        memo.note(MEMO_WINDOW_BYTES / 5, true);
        memo.note(MEMO_WINDOW_BYTES - MEMO_WINDOW_BYTES / 5, false);
        assert!(!memo.wants(MEMO_REST_BYTES - 1));
        assert!(!memo.wants(1));
        assert!(memo.wants(1));
        // A third found is enough.
        memo.note(MEMO_WINDOW_BYTES / 3, true);
        memo.note(MEMO_WINDOW_BYTES - MEMO_WINDOW_BYTES / 3, false);
        assert!(memo.wants(1));
    }

    #[test]
    fn the_memo_empties_itself_before_it_outgrows_its_bound() {
        let budget = 1 << 20;
        let mut memo = memo_of(budget);
        let text = "x".repeat(budget / 32);
        let mut kept = Vec::new();
        for i in 0..40u64 {
            let text = format!("{i}{text}");
            memo.insert(BlockMemo::hash(&text), &text, measured(b"x", 1));
            assert!(memo.bytes() <= budget);
            kept.push(text);
        }
        // The last one is there; the first went when the memo was emptied.
        let last = kept.last().expect("forty");
        assert!(memo.get(BlockMemo::hash(last), last).is_some());
        assert!(memo.get(BlockMemo::hash(&kept[0]), &kept[0]).is_none());
        // A text of more than an eighth of the bound is never kept.
        let huge = "y".repeat(budget / 8 + 1);
        memo.insert(BlockMemo::hash(&huge), &huge, measured(b"y", 1));
        assert!(memo.get(BlockMemo::hash(&huge), &huge).is_none());
    }
}
