//! A memo of measured blocks, one that all threads share: a block whose text was measured
//! before (the same newsletter pitch, footer or related-stories line on every page of a site; a
//! paragraph of a syndicated copy) takes its normalised text, features, stopword counts,
//! shingles, simhash and phrase leads from the memo instead of a new scan
//! ([`crate::segment::segment`]).
//!
//! What a block's scan gives depends on its text alone, so a page's result is the same whether
//! its blocks came from the memo or not, and the same in any order of pages and threads. A hit
//! compares the whole text, not just its hash. The memo is [`SHARDS`] shards, each behind its
//! own lock and chosen by the hash (two threads seldom want the same one at once); it takes
//! at most [`memo_bytes`] for each thread of the run, and a shard that a block would take past
//! its share is emptied and starts again.
//!
//! A miss costs too (the hash, a lookup and a copy into the memo, a cache miss or more each):
//! about a quarter of what a hit saves. Where less than [`MEMO_MIN_HIT_SHARE`] of the bytes a
//! thread looked up in a window of [`MEMO_WINDOW_BYTES`] were found, that thread's lookups rest
//! for [`MEMO_REST_BYTES`] of blocks (neither looked up nor kept), then try again.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::features::{Features, StopwordHits, FEATURE_BYTES};
use crate::fingerprint::{PrehashedKey, SEED};
use crate::page::rules::{LeadCandidate, LEAD_BYTES};

/// Most bytes the memo takes by default (`--memo-mib`): texts, normalised texts, stopword
/// counts, shingles, leads and entries ...
pub const MEMO_TOTAL_BYTES: usize = 256 << 20;
/// ... and most and least bytes it takes for each thread of the run (when it is on).
pub const MEMO_THREAD_BYTES: RangeInclusive<usize> = (4 << 20)..=(32 << 20);

/// The most bytes the memo takes, as [`set_total_bytes`] last set them.
static TOTAL_BYTES: AtomicUsize = AtomicUsize::new(MEMO_TOTAL_BYTES);

/// Sets the most bytes the memo takes (`--memo-mib`; 0 turns it off), from the next page on.
/// A page's result is the same either way.
pub fn set_total_bytes(bytes: usize) {
    TOTAL_BYTES.store(bytes, Ordering::Relaxed);
}

/// Bytes of the memo for each thread when it takes `total` at most and the run has `threads`
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

/// Shards of the memo.
pub const SHARDS: usize = 64;

/// The bytes a shard takes at most: [`memo_bytes`] for each thread of the run (of the pool the
/// caller runs in), shared out over the shards; 0 when the memo is off.
pub(crate) fn shard_budget() -> usize {
    let threads = rayon::current_num_threads();
    memo_bytes(TOTAL_BYTES.load(Ordering::Relaxed), threads) * threads / SHARDS
}

/// The memo all threads share: [`SHARDS`] shards behind a lock each.
pub(crate) struct SharedMemo {
    shards: Box<[Shard]>,
}

/// A shard and its lock, in cache lines of their own: two threads locking two shards do not
/// take a line from each other.
#[derive(Default)]
#[repr(align(128))]
struct Shard(Mutex<BlockMemo>);

/// The process's memo.
static MEMO: LazyLock<SharedMemo> =
    LazyLock::new(|| SharedMemo { shards: (0..SHARDS).map(|_| Shard::default()).collect() });

impl SharedMemo {
    /// The process's memo.
    pub(crate) fn global() -> &'static SharedMemo {
        &MEMO
    }

    /// The shard of the text of hash `hash`, locked. A panic while a shard was locked leaves it
    /// whole: an entry goes into its map only once its record is written.
    pub(crate) fn shard(&self, hash: u64) -> MutexGuard<'_, BlockMemo> {
        // Bits the shard's map uses for neither its slot (the low ones) nor its tag (the top 7).
        let shard = (hash >> 40) as usize % SHARDS;
        self.shards[shard].0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Empties every shard.
    #[cfg(test)]
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            let mut shard = shard.0.lock().unwrap_or_else(PoisonError::into_inner);
            shard.by_hash.clear();
            shard.records.clear();
        }
    }
}

/// How the memo has served one thread lately: whether that thread looks blocks up.
#[derive(Default)]
pub(crate) struct MemoWindow {
    /// Bytes of blocks looked up in this window, and found.
    looked_up: usize,
    found: usize,
    /// Bytes of blocks still to pass without a lookup.
    resting: usize,
}

impl MemoWindow {
    /// Whether a block of `len` bytes is to be looked up in a memo whose shards take `budget`
    /// bytes (not when that is 0, nor while the lookups rest).
    pub(crate) fn wants(&mut self, len: usize, budget: usize) -> bool {
        if budget == 0 {
            return false;
        }
        if self.resting == 0 {
            return true;
        }
        self.resting = self.resting.saturating_sub(len);
        false
    }

    /// Notes that a block of `len` bytes was looked up, and `found` or not; at the end of a
    /// window with too few found, sets the lookups to rest.
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

/// One shard of the memo: the blocks measured last whose hashes fall in it, by the hash of
/// their text.
#[derive(Default)]
pub(crate) struct BlockMemo {
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

    /// Keeps the measures of `text` (of hash `hash`), emptying the shard first when they would
    /// take it past `budget` bytes ([`shard_budget`]; a block of more than an eighth of that
    /// is not kept).
    pub(crate) fn insert(&mut self, hash: u64, text: &str, measured: Measured<'_>, budget: usize) {
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
        // Room for the whole budget at once (address space only until it is written): grown
        // by doubling, the copies cost 2% of a run on pages that seldom repeat a block.
        if self.records.capacity() < budget {
            self.records.reserve_exact(budget - self.records.len());
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

    #[test]
    fn a_memo_that_is_off_looks_nothing_up_and_keeps_nothing() {
        let mut memo = BlockMemo::default();
        let text = "The cat and the hat, in one block of the page";
        assert!(!MemoWindow::default().wants(text.len(), 0));
        memo.insert(BlockMemo::hash(text), text, measured(b"the cat", 2), 0);
        assert!(memo.get(BlockMemo::hash(text), text).is_none());
        assert!(MemoWindow::default().wants(text.len(), 1 << 20));
    }

    #[test]
    fn the_shards_share_out_the_memory_of_every_thread() {
        let pool = |threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool");
        let total = TOTAL_BYTES.load(Ordering::Relaxed);
        for threads in [1, 2, 16] {
            let budget = pool(threads).install(shard_budget);
            assert_eq!(budget, memo_bytes(total, threads) * threads / SHARDS, "{threads} threads");
        }
        // The process's memo finds what one thread kept from another thread.
        let text = "A footer line that every page of the site has, once more";
        let hash = BlockMemo::hash(text);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                SharedMemo::global().shard(hash).insert(hash, text, measured(b"a footer", 2), 1 << 20)
            });
        });
        assert!(SharedMemo::global().shard(hash).get(hash, text).is_some());
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
        let mut memo = BlockMemo::default();
        let text = "The cat and the hat, in one block of the page";
        let hash = BlockMemo::hash(text);
        assert!(memo.get(hash, text).is_none());
        let kept = measured(b"the cat and the hat", 5);
        let (features, hits) = (kept.features, kept.hits);
        memo.insert(hash, text, kept, 1 << 20);
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
        let mut memo = BlockMemo::default();
        let text = "The cat and the hat, in one block of the page";
        let hash = BlockMemo::hash(text);
        memo.insert(hash, text, measured(b"the cat", 2), 1 << 20);
        // Another text under the same hash (as a collision would give) is not taken for it.
        assert!(memo.get(hash, "The dog and the log, in one block of the page").is_none());
        assert!(memo.get(hash, text).is_some());
    }

    #[test]
    fn a_memo_that_finds_too_little_rests_then_tries_again() {
        let (mut window, budget) = (MemoWindow::default(), 1 << 20);
        // A window of finds keeps it going; one with a fifth found sets it to rest.
        window.note(MEMO_WINDOW_BYTES, true);
        assert!(window.wants(100, budget));
        window.note(MEMO_WINDOW_BYTES / 5, true);
        window.note(MEMO_WINDOW_BYTES - MEMO_WINDOW_BYTES / 5, false);
        assert!(!window.wants(MEMO_REST_BYTES - 1, budget));
        assert!(!window.wants(1, budget));
        assert!(window.wants(1, budget));
        // A third found is enough.
        window.note(MEMO_WINDOW_BYTES / 3, true);
        window.note(MEMO_WINDOW_BYTES - MEMO_WINDOW_BYTES / 3, false);
        assert!(window.wants(1, budget));
    }

    #[test]
    fn the_memo_empties_itself_before_it_outgrows_its_bound() {
        let budget = 1 << 20;
        let mut memo = BlockMemo::default();
        let text = "x".repeat(budget / 32);
        let mut kept = Vec::new();
        for i in 0..40u64 {
            let text = format!("{i}{text}");
            memo.insert(BlockMemo::hash(&text), &text, measured(b"x", 1), budget);
            assert!(memo.bytes() <= budget);
            kept.push(text);
        }
        // The last one is there; the first went when the memo was emptied.
        let last = kept.last().expect("forty");
        assert!(memo.get(BlockMemo::hash(last), last).is_some());
        assert!(memo.get(BlockMemo::hash(&kept[0]), &kept[0]).is_none());
        // A text of more than an eighth of the bound is never kept.
        let huge = "y".repeat(budget / 8 + 1);
        memo.insert(BlockMemo::hash(&huge), &huge, measured(b"y", 1), budget);
        assert!(memo.get(BlockMemo::hash(&huge), &huge).is_none());
    }
}
