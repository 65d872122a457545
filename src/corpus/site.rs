//! Site chrome learned from recurrence: a block (by its normalised key) that occurs on enough
//! pages of one site is chrome, whatever the page pass thought of it.
//!
//! The threshold is [`threshold`]: at least [`MIN_SITE_PAGES`] pages and at least the square root
//! of the site's page count. A site of 5 pages needs a block on 3 of them (60%); 100 pages, 10;
//! 50,000 pages, 224. Chrome sits on nearly every page of a site, or on every page of a section,
//! which grows with the site; a legitimate sentence shared by √n unrelated articles of one site
//! is itself boilerplate (a disclaimer, a bio, a standard closing line). Pages of one
//! near-duplicate group count once, so the shared body of syndicated copies is not chrome.
//!
//! Memory: [`Recurrence`] counts in two reads of the pages, so no page's block list is kept
//! and what it holds does not grow with the distinct blocks of the run. While the scan pass
//! reads, it counts each site's pages exactly (12 bytes a site) and every page's distinct
//! (site, block) pairs in a [`CountSketch`] of [`SKETCH_ROWS`] rows of 16-bit counters, sized
//! from the run's input bytes ([`sketch_width`]: 4,096 to 8 million counters a row, 1 per 128
//! bytes read), a byte a counter and the high bytes of the counters that pass 255. The corpus
//! pass then counts exactly, from the block keys pass 1 kept or from a new read of the page, in
//! a map of about 32 bytes an entry, only the candidates: blocks the
//! sketch puts on at least [`MIN_SITE_PAGES`] pages ([`Recurrence::count`]). The sketch never
//! underestimates, so every block that can be chrome is a candidate and the chrome learned is
//! exactly what a count of every block gives; blocks on fewer pages become candidates only
//! where other blocks share all their counters. Once the provisional chrome is signed out, only
//! a bit a counter is kept, whether it reached [`MIN_SITE_PAGES`] ([`CounterBits`]), for the
//! pages counted after grouping. Pages that another page of their group already counted are
//! counted off after grouping ([`Recurrence::remove`]); those not counted yet only leave their
//! site's page count ([`Recurrence::remove_page`]). While grouping runs, the exact counts wait
//! packed, about 9 bytes an entry ([`Recurrence::pack_exact`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use crate::cache::{push_varint, read_varint};

/// A block must be on at least this many pages (groups counted once) of a site to be chrome.
pub const MIN_SITE_PAGES: u32 = 3;

/// Pages (groups counted once) a block must occur on to be chrome of a site of `site_pages`
/// pages: `max(MIN_SITE_PAGES, ceil(sqrt(site_pages)))`.
///
/// ```
/// use textsift::corpus::site::threshold;
/// assert_eq!((threshold(5), threshold(100), threshold(50_000)), (3, 10, 224));
/// ```
pub fn threshold(site_pages: u32) -> u32 {
    MIN_SITE_PAGES.max((site_pages as f64).sqrt().ceil() as u32)
}

/// Shards of the exact count, so parallel passes rarely wait for each other. A shard holds the
/// keys of one range (their high bits): a page's sorted keys lock each shard once.
const SHARDS: usize = 16;
/// High bits of a key that name its shard.
const SHARD_SHIFT: u32 = 64 - SHARDS.trailing_zeros();
const _: () = assert!(SHARDS.is_power_of_two());

/// Rows of the count sketch: a block's estimate is the least of its counters in these rows.
pub const SKETCH_ROWS: usize = 4;
/// Input bytes per counter of a sketch row (about one counter per distinct block and site:
/// blocks average 100 to 200 bytes).
pub const SKETCH_BYTES_PER_COUNTER: u64 = 128;
/// Counters per sketch row at least (16 KiB of low bytes in all) ...
pub const SKETCH_MIN_WIDTH: usize = 1 << 12;
/// ... and at most (32 MiB of low bytes, and up to as much of high bytes, from 1 GiB of input
/// on). With 4 million (16-bit counters in the same 32 MiB), 3,000,000 records (1.9 GB) had about
/// a fifth of the blocks seen once counted exactly as candidates: 54 MB of exact counts; with 8
/// million the run's peak fell from 203 to 163 MB, its output the same.
pub const SKETCH_MAX_WIDTH: usize = 1 << 23;

/// Counters per sketch row for a run of `input_bytes`: one per [`SKETCH_BYTES_PER_COUNTER`],
/// within [`SKETCH_MIN_WIDTH`] and [`SKETCH_MAX_WIDTH`].
///
/// ```
/// use textsift::corpus::site::{sketch_width, SKETCH_MAX_WIDTH, SKETCH_MIN_WIDTH};
/// assert_eq!(sketch_width(0), SKETCH_MIN_WIDTH);
/// assert_eq!(sketch_width(128 << 20), 1 << 20);
/// assert_eq!(sketch_width(u64::MAX), SKETCH_MAX_WIDTH);
/// ```
pub fn sketch_width(input_bytes: u64) -> usize {
    (input_bytes / SKETCH_BYTES_PER_COUNTER).clamp(SKETCH_MIN_WIDTH as u64, SKETCH_MAX_WIDTH as u64) as usize
}

/// Hasher for maps keyed by xxh3 hashes: the keys are already uniform, so it only folds them
/// together (in-memory maps only; nothing it computes leaves the process).
#[derive(Debug, Default, Clone, Copy)]
pub struct PrehashedHasher(u64);

impl std::hash::Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(23) ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type PrehashedMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<PrehashedHasher>>;

/// splitmix64's finaliser.
#[inline]
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A count-min sketch of (site, block) page counts: [`SKETCH_ROWS`] rows of 16-bit counters
/// that saturate at `u16::MAX`. A count's estimate is never below the true count (capped at
/// `u16::MAX`, which stands for "at least that many"), and is above it only where other blocks
/// share all its counters. Counts are saturating sums, so the estimates do not depend on the
/// order pages are counted in.
///
/// The sketch is blocked: all of a block's counters sit in one 32-byte line (a row is an
/// 8-counter part of each line, and a line never straddles a cache line), so counting a block
/// costs one cache miss, not one a row. Each counter is shared by as many blocks as in a plain
/// sketch of the same size.
///
/// A counter's low byte sits in its line; its high byte, in a chunk of 256 high bytes
/// made when one of them is first carried into. Most counters never pass 255 (a block on fewer
/// pages of its site, and the blocks that share its counters), so the sketch takes about half
/// the memory of 16-bit counters, for the same counts.
#[derive(Debug)]
pub struct CountSketch {
    lines: Box<[SketchLine]>,
    /// The high bytes of the counters, [`HIGH_CHUNK`] a chunk, in counter order.
    high: Box<[OnceLock<HighChunk>]>,
}

/// Counters of one line of a [`CountSketch`].
const LINE_COUNTERS: usize = 32;
/// Counters of one row in each line: a block takes one of them, by 3 bits of its hash.
const ROW_COUNTERS: usize = LINE_COUNTERS / SKETCH_ROWS;
/// High bytes in one chunk of a [`CountSketch`] (those of 8 lines).
const HIGH_CHUNK: usize = 256;

/// One line of a [`CountSketch`], half a cache line: the low bytes of [`ROW_COUNTERS`] counters
/// of each row.
#[derive(Debug)]
#[repr(align(32))]
struct SketchLine([AtomicU8; LINE_COUNTERS]);

/// The high bytes of [`HIGH_CHUNK`] counters of a [`CountSketch`].
type HighChunk = Box<[AtomicU8; HIGH_CHUNK]>;

impl CountSketch {
    /// An empty sketch of `width` counters a row.
    pub fn new(width: usize) -> Self {
        let lines = (width.max(1) * SKETCH_ROWS).div_ceil(LINE_COUNTERS);
        Self {
            lines: (0..lines).map(|_| SketchLine(std::array::from_fn(|_| AtomicU8::new(0)))).collect(),
            high: (0..(lines * LINE_COUNTERS).div_ceil(HIGH_CHUNK)).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Bytes the counters take: their low bytes, the chunks' table and the chunks made.
    pub fn bytes(&self) -> usize {
        let chunks = self.high.iter().filter(|chunk| chunk.get().is_some()).count();
        self.lines.len() * std::mem::size_of::<SketchLine>()
            + self.high.len() * std::mem::size_of::<OnceLock<HighChunk>>()
            + chunks * HIGH_CHUNK
    }

    /// The counters of a (site, block) pair: their index in counter order.
    #[inline]
    fn cells(&self, site: u64, key: u64) -> impl Iterator<Item = usize> {
        let (line, counters) = place(site, key, self.lines.len());
        counters.map(move |counter| line * LINE_COUNTERS + counter)
    }

    /// The count of counter `index`.
    #[inline]
    fn value(&self, index: usize) -> u16 {
        let low = self.lines[index / LINE_COUNTERS].0[index % LINE_COUNTERS].load(Ordering::Relaxed);
        let high = self.high[index / HIGH_CHUNK]
            .get()
            .map_or(0, |chunk| chunk[index % HIGH_CHUNK].load(Ordering::Relaxed));
        u16::from_le_bytes([low, high])
    }

    /// Which counters are at least `n`, a bit each.
    pub fn at_least(&self, n: u16) -> CounterBits {
        let bits = (0..self.lines.len()).map(|line| {
            (0..LINE_COUNTERS)
                .fold(0u32, |bits, i| bits | (u32::from(self.value(line * LINE_COUNTERS + i) >= n) << i))
        });
        CounterBits(bits.collect())
    }

    /// Reads the line of each (site, block) pair of `site` and `keys`, to be counted next: a
    /// locked add that misses the cache holds back every load after it, where these plain
    /// loads overlap their misses, and the adds then find their lines at hand.
    pub fn touch(&self, site: u64, keys: &[u64]) {
        let lines = self.lines.len();
        let touched = keys.iter().fold(0u8, |all, &key| {
            let (line, _) = place(site, key, lines);
            all ^ self.lines[line].0[0].load(Ordering::Relaxed)
        });
        std::hint::black_box(touched);
    }

    /// Counts one more page of `site` with the block `key`.
    pub fn add(&self, site: u64, key: u64) {
        for index in self.cells(site, key) {
            let low = &self.lines[index / LINE_COUNTERS].0[index % LINE_COUNTERS];
            // One locked add (a compare-and-swap loop cost twice as much). The add that takes
            // the low byte past 255 carries one into the high byte; one that takes the counter
            // past `u16::MAX` sets both bytes back to the top, so a saturated counter stays
            // saturated.
            if low.fetch_add(1, Ordering::Relaxed) == u8::MAX {
                let chunk = self.high[index / HIGH_CHUNK]
                    .get_or_init(|| Box::new(std::array::from_fn(|_| AtomicU8::new(0))));
                let high = &chunk[index % HIGH_CHUNK];
                if high.fetch_add(1, Ordering::Relaxed) == u8::MAX {
                    high.fetch_max(u8::MAX, Ordering::Relaxed);
                    low.fetch_max(u8::MAX, Ordering::Relaxed);
                }
            }
        }
    }

    /// At least the number of pages of `site` counted with `key`; `u32::MAX` once a counter is
    /// saturated. Read once the adds are done (a carry in flight is not seen whole).
    pub fn estimate(&self, site: u64, key: u64) -> u32 {
        // The pair's counters share a line, and so a chunk of high bytes: both are looked up
        // once (this runs for every block of every page, in the fingerprint and write passes).
        let (line, counters) = place(site, key, self.lines.len());
        let low = &self.lines[line].0;
        let first = line * LINE_COUNTERS;
        let min_low = counters.clone().map(|counter| low[counter].load(Ordering::Relaxed)).min().unwrap_or(0);
        let min = match self.high[first / HIGH_CHUNK].get() {
            None => u16::from(min_low),
            Some(high) => counters
                .map(|counter| {
                    let index = first + counter;
                    u16::from_le_bytes([
                        low[counter].load(Ordering::Relaxed),
                        high[index % HIGH_CHUNK].load(Ordering::Relaxed),
                    ])
                })
                .min()
                .unwrap_or(0),
        };
        match min {
            u16::MAX => u32::MAX,
            n => n as u32,
        }
    }
}

/// Where the counters of a (site, block) pair sit in a sketch of `lines` lines: the line, from
/// the hash's high bits, and the counter of each row in it, from its low bits.
#[inline]
fn place(site: u64, key: u64, lines: usize) -> (usize, impl Iterator<Item = usize> + Clone) {
    let hash = mix(key ^ mix(site));
    let line = ((hash as u128 * lines as u128) >> 64) as usize;
    (line, (0..SKETCH_ROWS).map(move |row| row * ROW_COUNTERS + (hash >> (3 * row)) as usize % ROW_COUNTERS))
}

/// A bit for every counter of a [`CountSketch`], a `u32` a line (an eighth of its low bytes):
/// which counters reached a count ([`CountSketch::at_least`]).
#[derive(Debug)]
pub struct CounterBits(Box<[u32]>);

impl CounterBits {
    /// Whether every counter of the (site, block) pair reached the count: its estimate did.
    pub fn holds(&self, site: u64, key: u64) -> bool {
        let (line, mut counters) = place(site, key, self.0.len());
        let bits = self.0[line];
        counters.all(|counter| bits & (1 << counter) != 0)
    }

    /// Bytes it takes.
    pub fn bytes(&self) -> usize {
        self.0.len() * std::mem::size_of::<u32>()
    }
}

/// The exact counts of a [`Recurrence`], packed while grouping runs
/// ([`Recurrence::pack_exact`]): a buffer a shard.
#[derive(Debug, Default)]
pub struct PackedCounts {
    shards: Vec<Vec<u8>>,
}

/// One shard of the exact counts, on cache lines of its own (two threads locking neighbouring
/// shards do not take each other's line).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(Mutex<PrehashedMap<(u64, u64), u32>>);

/// The exact counts, sharded by the high bits of the key.
type Shards = Vec<Shard>;

/// Counts on how many pages of its site each block key occurs, in two reads of the pages.
///
/// While the scan pass reads, [`Recurrence::add`] counts every page of each site exactly and
/// its blocks in a fixed-size [`CountSketch`]; the sketch's estimates give the provisional chrome
/// ([`Recurrence::estimated`]). The corpus pass then gives every page's keys again
/// ([`Recurrence::count`]) and counts exactly only the candidates, the blocks whose estimate
/// reaches [`MIN_SITE_PAGES`]: every block on that many pages is one, so [`Recurrence::chrome`]
/// is exact. Counts are sums, so nothing depends on the order pages
/// arrive in.
#[derive(Debug)]
pub struct Recurrence {
    sketch: Arc<CountSketch>,
    /// Once only candidacy is asked ([`Recurrence::keep_candidates_only`]): which counters of
    /// the sketch reached [`MIN_SITE_PAGES`].
    candidates: Option<CounterBits>,
    site_pages: Mutex<PrehashedMap<u64, u32>>,
    exact: Shards,
}

impl Default for Recurrence {
    fn default() -> Self {
        Self::for_input_bytes(0)
    }
}

impl Recurrence {
    /// A count for a run reading about `input_bytes` bytes (sizes the sketch: [`sketch_width`]).
    pub fn for_input_bytes(input_bytes: u64) -> Self {
        Self {
            sketch: Arc::new(CountSketch::new(sketch_width(input_bytes))),
            candidates: None,
            site_pages: Mutex::default(),
            exact: (0..SHARDS).map(|_| Shard::default()).collect(),
        }
    }

    fn shard(&self, key: u64) -> &Mutex<PrehashedMap<(u64, u64), u32>> {
        &self.exact[(key >> SHARD_SHIFT) as usize].0
    }

    /// `keys` in runs of one shard each (one run a shard when `keys` are sorted).
    fn shard_runs(keys: &[u64]) -> impl Iterator<Item = &[u64]> {
        keys.chunk_by(|a, b| a >> SHARD_SHIFT == b >> SHARD_SHIFT)
    }

    /// First read: counts one page of `site` with the distinct block keys `keys`.
    pub fn add(&self, site: u64, keys: &[u64]) {
        *self.site_pages.lock().expect("not poisoned").entry(site).or_default() += 1;
        self.sketch.touch(site, keys);
        for &key in keys {
            self.sketch.add(site, key);
        }
    }

    /// Second read of the same page: counts exactly those of its distinct block keys `keys`
    /// that are candidates (estimated on at least [`MIN_SITE_PAGES`] pages of `site`). Sorted
    /// keys (as pages give them) take each shard's lock once.
    pub fn count(&self, site: u64, keys: &[u64]) {
        for run in Self::shard_runs(keys) {
            let mut counts = None;
            for &key in run {
                if self.is_candidate(site, key) {
                    let counts = counts.get_or_insert_with(|| self.shard(key).lock().expect("not poisoned"));
                    *counts.entry((site, key)).or_default() += 1;
                }
            }
        }
    }

    /// Counts off a page of `site` whose keys were never counted exactly: it is no longer one
    /// of the site's pages.
    pub fn remove_page(&self, site: u64) {
        if let Some(n) = self.site_pages.lock().expect("not poisoned").get_mut(&site) {
            *n = n.saturating_sub(1);
        }
    }

    /// Whether the sketch puts the block `key` of `site` on [`MIN_SITE_PAGES`] pages or more.
    #[inline]
    fn is_candidate(&self, site: u64, key: u64) -> bool {
        match &self.candidates {
            Some(bits) => bits.holds(site, key),
            None => self.sketch.estimate(site, key) >= MIN_SITE_PAGES,
        }
    }

    /// Keeps of the sketch only which counters reached [`MIN_SITE_PAGES`] (an eighth of its low
    /// bytes), once the provisional chrome is no longer asked for: [`Recurrence::count`] counts
    /// the same candidates.
    pub fn keep_candidates_only(&mut self) {
        self.candidates = Some(self.sketch.at_least(MIN_SITE_PAGES as u16));
        self.sketch = Arc::new(CountSketch::new(0));
    }

    /// Counts off a page counted before (a later page of a near-duplicate group in its site).
    pub fn remove(&self, site: u64, keys: &[u64]) {
        if let Some(n) = self.site_pages.lock().expect("not poisoned").get_mut(&site) {
            *n = n.saturating_sub(1);
        }
        for run in Self::shard_runs(keys) {
            let mut counts = self.shard(run[0]).lock().expect("not poisoned");
            for &key in run {
                if let Some(count) = counts.get_mut(&(site, key)) {
                    *count = count.saturating_sub(1);
                }
            }
        }
    }

    /// The blocks whose estimate is at or above their site's [`threshold`] after the first read:
    /// a superset of the chrome counted exactly then (more only where blocks share counters).
    pub fn estimated(&self) -> SiteChrome {
        let site_pages = self.site_pages.lock().expect("not poisoned").clone();
        SiteChrome {
            chrome: Chrome::Estimated { sketch: Arc::clone(&self.sketch), site_pages: Arc::new(site_pages) },
        }
    }

    /// Frees the sketch once the exact counts are taken (the [`Recurrence::estimated`] chrome
    /// keeps its own reference). [`Recurrence::count`] counts nothing afterwards.
    pub fn forget_sketch(&mut self) {
        self.sketch = Arc::new(CountSketch::new(0));
        self.candidates = None;
    }

    /// Takes the exact counts out while nothing reads them (grouping), packed: sorted, each
    /// site once for its run of blocks, each block's key in 8 bytes and its count as a varint,
    /// about 9 bytes an entry where a map takes 28 to 57 (24 and a control byte, at its load).
    /// [`Recurrence::unpack_exact`] puts them back; until then nothing is counted exactly.
    pub fn pack_exact(&mut self) -> PackedCounts {
        let shards = self
            .exact
            .iter()
            .map(|shard| {
                let mut entries: Vec<((u64, u64), u32)> =
                    std::mem::take(&mut *shard.0.lock().expect("not poisoned")).into_iter().collect();
                entries.sort_unstable();
                let mut bytes = Vec::new();
                push_varint(&mut bytes, entries.len());
                for run in entries.chunk_by(|a, b| a.0 .0 == b.0 .0) {
                    push_varint(&mut bytes, run.len());
                    bytes.extend_from_slice(&run[0].0 .0.to_le_bytes());
                    for &((_, key), count) in run {
                        bytes.extend_from_slice(&key.to_le_bytes());
                        push_varint(&mut bytes, count as usize);
                    }
                }
                bytes.shrink_to_fit();
                bytes
            })
            .collect();
        PackedCounts { shards }
    }

    /// Puts back the exact counts [`Recurrence::pack_exact`] took (in parallel, on the calling
    /// rayon pool).
    pub fn unpack_exact(&mut self, packed: PackedCounts) {
        let next_u64 = |bytes: &mut &[u8]| {
            let (value, rest) = bytes.split_at(8);
            *bytes = rest;
            u64::from_le_bytes(value.try_into().expect("8 bytes"))
        };
        self.exact.par_iter().zip(packed.shards).for_each(|(shard, packed)| {
            let mut bytes = &packed[..];
            let entries = read_varint(&mut bytes).expect("packed by pack_exact");
            let mut map = PrehashedMap::with_capacity_and_hasher(entries, Default::default());
            while map.len() < entries {
                let run = read_varint(&mut bytes).expect("packed by pack_exact");
                let site = next_u64(&mut bytes);
                for _ in 0..run {
                    let key = next_u64(&mut bytes);
                    let count = read_varint(&mut bytes).expect("packed by pack_exact");
                    map.insert((site, key), count as u32);
                }
            }
            drop(packed);
            *shard.0.lock().expect("not poisoned") = map;
        });
    }

    /// Bytes the sketch and the exact counts take now (approximately).
    pub fn bytes(&self) -> usize {
        let entry = std::mem::size_of::<((u64, u64), u32)>() + 1;
        let exact: usize =
            self.exact.iter().map(|s| s.0.lock().expect("not poisoned").capacity() * entry).sum();
        self.sketch.bytes() + self.candidates.as_ref().map_or(0, CounterBits::bytes) + exact
    }

    /// The blocks at or above their site's [`threshold`] now, by the exact counts.
    pub fn chrome(&self) -> SiteChrome {
        let site_pages = self.site_pages.lock().expect("not poisoned");
        let mut chrome = PrehashedMap::default();
        for shard in &self.exact {
            for (&(site, key), &count) in shard.0.lock().expect("not poisoned").iter() {
                if count >= threshold(site_pages.get(&site).copied().unwrap_or(0)) {
                    chrome.insert((site, key), count);
                }
            }
        }
        SiteChrome { chrome: Chrome::Exact(chrome) }
    }
}

/// The chrome of one site ([`SiteChrome::of_site`]).
#[derive(Debug)]
pub struct SiteView<'a>(View<'a>);

/// What a [`SiteView`] answers from.
#[derive(Debug)]
enum View<'a> {
    /// A site the estimate has no page of.
    Nothing,
    Exact {
        chrome: &'a PrehashedMap<(u64, u64), u32>,
        site: u64,
    },
    Estimated {
        sketch: &'a CountSketch,
        site: u64,
        /// The site's page count, and the [`threshold`] it sets.
        pages: u32,
        threshold: u32,
    },
}

impl SiteView<'_> {
    /// The number of pages the block `key` was seen on when it is chrome of the site.
    pub fn pages(&self, key: u64) -> Option<u32> {
        match self.0 {
            View::Nothing => None,
            View::Exact { chrome, site } => chrome.get(&(site, key)).copied(),
            View::Estimated { sketch, site, pages, threshold } => {
                let estimate = sketch.estimate(site, key).min(pages);
                (estimate >= threshold).then_some(estimate)
            }
        }
    }
}

/// What a [`SiteChrome`] answers from.
#[derive(Debug, Clone)]
enum Chrome {
    /// Exact counts of the blocks that are chrome.
    Exact(PrehashedMap<(u64, u64), u32>),
    /// Sketch estimates and each site's page count.
    Estimated { sketch: Arc<CountSketch>, site_pages: Arc<PrehashedMap<u64, u32>> },
}

impl Default for Chrome {
    fn default() -> Self {
        Chrome::Exact(PrehashedMap::default())
    }
}

/// The blocks that are chrome of their site, with the number of pages each was counted on
/// (exact, or estimated for the provisional chrome: [`Recurrence::estimated`]).
#[derive(Debug, Clone, Default)]
pub struct SiteChrome {
    chrome: Chrome,
}

impl SiteChrome {
    /// The number of pages the block `key` was seen on when it is chrome of `site`.
    pub fn pages(&self, site: u64, key: u64) -> Option<u32> {
        self.of_site(site).pages(key)
    }

    /// The chrome of `site`, for looking up a page's blocks: what depends on the site alone
    /// (its page count and threshold) is looked up once.
    pub fn of_site(&self, site: u64) -> SiteView<'_> {
        SiteView(match &self.chrome {
            Chrome::Exact(chrome) => View::Exact { chrome, site },
            Chrome::Estimated { sketch, site_pages } => match site_pages.get(&site) {
                Some(&pages) => View::Estimated { sketch, site, pages, threshold: threshold(pages) },
                None => View::Nothing,
            },
        })
    }

    /// Number of (site, block) pairs found to be chrome (0 for estimated chrome, which cannot
    /// list its blocks).
    pub fn len(&self) -> usize {
        match &self.chrome {
            Chrome::Exact(chrome) => chrome.len(),
            Chrome::Estimated { .. } => 0,
        }
    }

    /// True when no chrome was found (never for estimated chrome, which may hold some).
    pub fn is_empty(&self) -> bool {
        match &self.chrome {
            Chrome::Exact(chrome) => chrome.is_empty(),
            Chrome::Estimated { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_grows_with_the_square_root() {
        assert_eq!(threshold(1), 3);
        assert_eq!(threshold(9), 3);
        assert_eq!(threshold(10), 4);
        assert_eq!(threshold(467), 22);
    }

    /// The two reads as the pipeline does them.
    fn counted(pages: &[(u64, Vec<u64>)], recurrence: &Recurrence) {
        pages.iter().for_each(|(site, keys)| recurrence.add(*site, keys));
        pages.iter().for_each(|(site, keys)| recurrence.count(*site, keys));
    }

    #[test]
    fn blocks_on_enough_pages_of_one_site_are_chrome() {
        let menu = 1u64;
        let pages: Vec<(u64, Vec<u64>)> = vec![
            (0, vec![menu, 10]),
            (0, vec![menu, 11]),
            (0, vec![menu, 12]),
            (0, vec![13]),
            (1, vec![menu, 20]),
            (1, vec![menu, 21]),
        ];
        let recurrence = Recurrence::default();
        counted(&pages, &recurrence);
        let estimated = recurrence.estimated();
        assert_eq!(estimated.pages(0, menu), Some(3));
        assert_eq!(estimated.pages(1, menu), None);
        // A site with no page counted.
        assert_eq!(estimated.pages(99, menu), None);
        assert_eq!(estimated.of_site(0).pages(menu), Some(3));
        let chrome = recurrence.chrome();
        assert_eq!(chrome.pages(0, menu), Some(3));
        assert_eq!(chrome.pages(0, 10), None);
        // Site 1 has two pages: too few to learn from.
        assert_eq!(chrome.pages(1, menu), None);
        assert_eq!(chrome.len(), 1);
        // Counting a page off (a copy of another) takes the block below the threshold.
        recurrence.remove(0, &pages[1].1);
        assert_eq!(recurrence.chrome().pages(0, menu), None);
    }

    /// Random pages: `sites` sites, keys drawn from a small pool (so many recur) and a large one.
    fn random_pages(n: usize, sites: u64, seed: u64) -> Vec<(u64, Vec<u64>)> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            mix(state)
        };
        (0..n)
            .map(|_| {
                let site = next() % sites;
                // Keys spread over all 64 bits, as block hashes are (and so over every shard).
                let mut keys: Vec<u64> = (0..next() % 30)
                    .map(|_| mix(if next() % 3 == 0 { next() % 50 } else { 1000 + next() % 100_000 }))
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                (site, keys)
            })
            .collect()
    }

    fn plain_count(pages: &[(u64, Vec<u64>)]) -> HashMap<(u64, u64), u32> {
        let mut counts = HashMap::new();
        for (site, keys) in pages {
            for &key in keys {
                *counts.entry((*site, key)).or_default() += 1;
            }
        }
        counts
    }

    #[test]
    fn a_blocks_counters_share_one_cache_line_one_in_each_row() {
        let sketch = CountSketch::new(1000);
        // A byte a counter, and the table of the 16 chunks of high bytes, none made yet.
        let table = 16 * std::mem::size_of::<OnceLock<HighChunk>>();
        assert_eq!(sketch.bytes(), 1000 * SKETCH_ROWS + table);
        let base = sketch.lines.as_ptr() as usize;
        assert_eq!(base % 32, 0);
        for key in 0..500u64 {
            let offsets: Vec<usize> = sketch
                .cells(7, key)
                .map(|index| {
                    &sketch.lines[index / LINE_COUNTERS].0[index % LINE_COUNTERS] as *const _ as usize - base
                })
                .collect();
            assert!(offsets.iter().all(|o| o / 64 == offsets[0] / 64), "{offsets:?}");
            let rows: Vec<usize> = offsets.iter().map(|o| o % 32 / ROW_COUNTERS).collect();
            assert_eq!(rows, (0..SKETCH_ROWS).collect::<Vec<_>>());
        }
        // A count past 255 makes the chunk of its counters' high bytes, and no other.
        (0..300).for_each(|_| sketch.add(7, 3));
        assert_eq!(sketch.estimate(7, 3), 300);
        assert!(
            sketch.bytes() <= 1000 * SKETCH_ROWS + table + SKETCH_ROWS * HIGH_CHUNK,
            "{}",
            sketch.bytes()
        );
    }

    #[test]
    fn the_sketch_never_underestimates() {
        let pages = random_pages(3000, 5, 1);
        // A tiny sketch: many blocks share counters, so many estimates are too high.
        let sketch = CountSketch::new(64);
        pages.iter().for_each(|(site, keys)| keys.iter().for_each(|&k| sketch.add(*site, k)));
        let counts = plain_count(&pages);
        assert!(counts.iter().all(|(&(site, key), &n)| sketch.estimate(site, key) >= n));
        assert!(counts.iter().any(|(&(site, key), &n)| sketch.estimate(site, key) > n));
    }

    #[test]
    fn saturated_counters_stay_at_least_the_count() {
        let sketch = CountSketch::new(1);
        (0..70_000).for_each(|_| sketch.add(1, 2));
        assert_eq!(sketch.estimate(1, 2), u32::MAX);
        // Counted from several threads at once, past the top by far: no counter wraps.
        let sketch = CountSketch::new(1);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| (0..100_000).for_each(|_| sketch.add(1, 2)));
            }
        });
        assert_eq!(sketch.estimate(1, 2), u32::MAX);
        // Below the top, every count is kept.
        let sketch = CountSketch::new(1);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| (0..16_000).for_each(|_| sketch.add(1, 2)));
            }
        });
        assert_eq!(sketch.estimate(1, 2), 64_000);
    }

    #[test]
    fn exact_counts_come_back_as_they_were_packed() {
        let pages = random_pages(3000, 5, 4);
        let exact = |recurrence: &Recurrence| -> HashMap<(u64, u64), u32> {
            recurrence
                .exact
                .iter()
                .flat_map(|s| s.0.lock().unwrap().iter().map(|(&k, &v)| (k, v)).collect::<Vec<_>>())
                .collect()
        };
        let mut recurrence = Recurrence { sketch: Arc::new(CountSketch::new(64)), ..Recurrence::default() };
        counted(&pages, &recurrence);
        // Counts past a byte's varint too.
        (0..200).for_each(|_| recurrence.count(pages[1].0, &pages[1].1));
        let before = exact(&recurrence);
        assert!(before.len() > 1000 && before.values().any(|&n| n > 200), "{}", before.len());
        let packed = recurrence.pack_exact();
        assert!(exact(&recurrence).is_empty());
        let packed_bytes: usize = packed.shards.iter().map(Vec::len).sum();
        assert!(packed_bytes < 10 * before.len() + 8 * 5 * SHARDS + 4 * SHARDS, "{packed_bytes}");
        recurrence.unpack_exact(packed);
        assert_eq!(exact(&recurrence), before);
        // Counting goes on where it stood.
        let (site, keys) = &pages[0];
        recurrence.count(*site, keys);
        let after = exact(&recurrence);
        assert!(keys
            .iter()
            .all(|&key| after.get(&(*site, key)).copied() == before.get(&(*site, key)).map(|n| n + 1)));
        // Nothing counted: empty shards pack and come back empty.
        let mut empty = Recurrence::default();
        let packed = empty.pack_exact();
        empty.unpack_exact(packed);
        assert!(exact(&empty).is_empty());
    }

    #[test]
    fn candidates_are_counted_exactly() {
        let pages = random_pages(3000, 5, 2);
        let counts = plain_count(&pages);
        for width in [16, 4096] {
            let recurrence =
                Recurrence { sketch: Arc::new(CountSketch::new(width)), ..Recurrence::default() };
            counted(&pages, &recurrence);
            let exact: HashMap<(u64, u64), u32> = recurrence
                .exact
                .iter()
                .flat_map(|s| s.0.lock().unwrap().iter().map(|(&k, &v)| (k, v)).collect::<Vec<_>>())
                .collect();
            // Every block on enough pages is a candidate, and every candidate's count is exact.
            for (pair, &n) in &counts {
                if n >= MIN_SITE_PAGES {
                    assert_eq!(exact.get(pair), Some(&n), "{pair:?}");
                }
            }
            assert!(exact.iter().all(|(pair, n)| counts[pair] == *n));
            // The chrome is what the plain count gives.
            let site_pages = |site: u64| pages.iter().filter(|p| p.0 == site).count() as u32;
            let (chrome, estimated) = (recurrence.chrome(), recurrence.estimated());
            for (&(site, key), &n) in &counts {
                let expected = (n >= threshold(site_pages(site))).then_some(n);
                assert_eq!(chrome.pages(site, key), expected);
                // The provisional chrome holds all of it (and, with a tiny sketch, more).
                if expected.is_some() {
                    assert!(estimated.pages(site, key).is_some());
                }
            }
        }
    }

    #[test]
    fn counting_and_counting_off_take_keys_in_any_order() {
        let pages = random_pages(1500, 4, 7);
        let removed: Vec<(u64, Vec<u64>)> = pages.iter().step_by(3).cloned().collect();
        // Expected: the plain count of all pages less that of the pages counted off.
        let mut expected = plain_count(&pages);
        for (pair, n) in plain_count(&removed) {
            *expected.get_mut(&pair).expect("counted") -= n;
        }
        let site_pages = |site: u64| {
            let on = |pages: &[(u64, Vec<u64>)]| pages.iter().filter(|p| p.0 == site).count() as u32;
            on(&pages) - on(&removed)
        };
        for reverse in [false, true] {
            let in_order = |keys: &[u64]| {
                let mut keys = keys.to_vec();
                if reverse {
                    keys.reverse();
                }
                keys
            };
            let recurrence = Recurrence::default();
            pages.iter().for_each(|(site, keys)| recurrence.add(*site, &in_order(keys)));
            pages.iter().for_each(|(site, keys)| recurrence.count(*site, &in_order(keys)));
            removed.iter().for_each(|(site, keys)| recurrence.remove(*site, &in_order(keys)));
            let chrome = recurrence.chrome();
            let mut found = 0;
            for (&(site, key), &n) in &expected {
                let wanted = (n >= threshold(site_pages(site))).then_some(n);
                assert_eq!(chrome.pages(site, key), wanted, "reversed: {reverse}");
                found += wanted.is_some() as usize;
            }
            assert!(found > 10, "{found}");
        }
    }

    #[test]
    fn counting_after_the_pages_counted_off_learns_the_same_chrome() {
        let pages = random_pages(3000, 4, 11);
        let off = |index: usize| index % 3 == 1;
        for width in [16, 4096] {
            let sketch = || Arc::new(CountSketch::new(width));
            // Every page counted, then the pages that do not count counted off.
            let before = Recurrence { sketch: sketch(), ..Recurrence::default() };
            counted(&pages, &before);
            for (index, (site, keys)) in pages.iter().enumerate() {
                if off(index) {
                    before.remove(*site, keys);
                }
            }
            // Only the candidate bits kept, those pages taken off first, the others counted.
            let mut after = Recurrence { sketch: sketch(), ..Recurrence::default() };
            pages.iter().for_each(|(site, keys)| after.add(*site, keys));
            let lines = after.sketch.lines.len();
            after.keep_candidates_only();
            // A bit a counter, and the empty sketch left in its place.
            assert_eq!(after.bytes(), lines * 4 + CountSketch::new(0).bytes());
            for (index, (site, keys)) in pages.iter().enumerate() {
                if off(index) {
                    after.remove_page(*site);
                } else {
                    after.count(*site, keys);
                }
            }
            let (before, after) = (before.chrome(), after.chrome());
            assert!(before.len() > 10, "{}", before.len());
            assert_eq!(before.len(), after.len());
            for &(site, key) in plain_count(&pages).keys() {
                assert_eq!(before.pages(site, key), after.pages(site, key));
            }
        }
    }

    #[test]
    fn counter_bits_hold_where_the_estimate_reaches_the_count() {
        let pages = random_pages(2000, 3, 5);
        for width in [16, 4096, 1 << 16] {
            let sketch = CountSketch::new(width);
            pages.iter().for_each(|(site, keys)| keys.iter().for_each(|&k| sketch.add(*site, k)));
            for n in [1u16, 3, 7] {
                let bits = sketch.at_least(n);
                let (mut held, mut not) = (0, 0);
                for &(site, key) in plain_count(&pages).keys() {
                    let reaches = sketch.estimate(site, key) >= u32::from(n);
                    assert_eq!(bits.holds(site, key), reaches, "{width} {n}");
                    (held, not) = if reaches { (held + 1, not) } else { (held, not + 1) };
                }
                // Every pair was counted once; with room, some stay under 3.
                assert!(held > 0 && (not > 0 || n == 1 || width == 16), "{width} {n}: {held} {not}");
                if n == 3 && width == 1 << 16 {
                    assert!(not > held, "{held} {not}");
                }
            }
        }
    }

    #[test]
    fn counts_do_not_depend_on_page_order_or_threads() {
        let pages = random_pages(2000, 3, 3);
        let chrome = |pages: &[(u64, Vec<u64>)], parallel: bool| {
            let recurrence = Recurrence { sketch: Arc::new(CountSketch::new(256)), ..Recurrence::default() };
            if parallel {
                std::thread::scope(|scope| {
                    for half in pages.chunks(pages.len() / 2 + 1) {
                        let recurrence = &recurrence;
                        scope.spawn(move || half.iter().for_each(|(site, keys)| recurrence.add(*site, keys)));
                    }
                });
                std::thread::scope(|scope| {
                    for half in pages.chunks(pages.len() / 2 + 1) {
                        let recurrence = &recurrence;
                        scope.spawn(move || {
                            half.iter().for_each(|(site, keys)| recurrence.count(*site, keys))
                        });
                    }
                });
            } else {
                counted(pages, &recurrence);
            }
            let (exact, estimated) = (recurrence.chrome(), recurrence.estimated());
            let all = plain_count(pages);
            let mut listed: Vec<_> = all
                .keys()
                .map(|&(site, key)| (site, key, exact.pages(site, key), estimated.pages(site, key)))
                .collect();
            listed.sort_unstable();
            listed
        };
        let mut reversed = pages.clone();
        reversed.reverse();
        let forward = chrome(&pages, false);
        assert_eq!(forward, chrome(&reversed, false));
        assert_eq!(forward, chrome(&reversed, true));
    }
}
