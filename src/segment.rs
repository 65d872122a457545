//! Splits a page's folded text into blocks: paragraphs, lines, list items, table rows.
//!
//! Two layouts are common in scraped text and both work: one paragraph per line, and paragraphs
//! separated by blank lines (where a sentence may be wrapped over several lines). A page counts
//! as blank-line separated when at least [`PARAGRAPH_MODE_BLANK_SHARE`] of the gaps between its
//! text lines hold a blank line; there, a line that starts in lower case continues the previous line's paragraph.
//! Everywhere else each non-blank line is a block. List items and table rows are always blocks of
//! their own.

use std::borrow::Cow;
use std::ops::{Range, RangeInclusive};

use crate::features::{self, Features, StopwordHits};
use crate::fingerprint;
use crate::memo::{self, BlockMemo, Measured, MemoWindow, SharedMemo, MEMO_MIN_BYTES};
use crate::page::repeats::NEAR_REPEAT_MIN_WORDS;
use crate::page::rules::{LeadCandidate, WordWatcher};

/// Share of the gaps between text lines that hold a blank line, from which a page counts as
/// blank-line separated.
pub const PARAGRAPH_MODE_BLANK_SHARE: f64 = 0.25;

/// What a block looks like, from its first characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// Running text, a heading or any other line.
    Text,
    /// A line that starts with a bullet ("- ", "• ", "* ", "1. ").
    ListItem,
    /// A table row: starts and ends with `|`.
    TableRow,
}

/// One block of a page: a slice of the folded page text and where it stood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    /// The block's text, trimmed; a paragraph wrapped over several lines keeps its inner `\n`.
    pub text: &'a str,
    /// First and last line (1-based) of the block in the input.
    pub first_line: u32,
    /// Last line (1-based), equal to `first_line` for one-line blocks.
    pub last_line: u32,
    /// What the block looks like.
    pub kind: BlockKind,
    /// Hash of the block's normalised text ([`fingerprint::block_key`]); `None` when nothing
    /// alphanumeric is left. Repeats, phrase rules and site chrome all compare these.
    pub key: Option<u64>,
    /// Where the block's normalised text sits in [`Segmented::normalized`].
    norm: Range<usize>,
    /// Words of the normalised text.
    norm_words: u32,
    /// Where the block's shingle hashes sit in the page's list, once [`segment`] or
    /// [`Segmented::keep_shingles`] kept them.
    shingles: Option<Range<u32>>,
    /// The simhash of those shingles, when [`segment`] made it (a block of at least
    /// [`NEAR_REPEAT_MIN_WORDS`] words shingled whole, or one found in the memo).
    simhash: Option<u64>,
}

impl Block<'_> {
    /// The block's line range, 1-based and inclusive.
    pub fn lines(&self) -> RangeInclusive<u32> {
        self.first_line..=self.last_line
    }
}

/// How a page separates its paragraphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One paragraph per line.
    Lines,
    /// Paragraphs separated by blank lines.
    Paragraphs,
}

impl Layout {
    /// The separator to write between kept blocks so the output keeps the input's layout.
    pub fn separator(self) -> &'static str {
        match self {
            Layout::Lines => "\n",
            Layout::Paragraphs => "\n\n",
        }
    }
}

/// A segmented page: its layout and its blocks in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segmented<'a> {
    /// Whether the page separates paragraphs by blank lines.
    pub layout: Layout,
    /// The blocks in page order.
    pub blocks: Vec<Block<'a>>,
    /// Every block's normalised text ([`fingerprint::normalize_into`]), one after the other,
    /// each followed by a `\n` (which normalised text never holds): computed once here so that
    /// no later stage normalises a block again, and searchable in one pass.
    normalized: String,
    /// Shingle hashes of the blocks shingled, one block after the other: by [`segment`] as it
    /// normalised them, or by [`Segmented::keep_shingles`]. The near-repeat check and the
    /// page's signature both read them.
    shingles: Vec<u64>,
    /// Every block's features, measured in the pass that normalised it ([`segment`]); empty
    /// when the blocks were normalised apart ([`Segmented::normalize_where`]).
    features: Vec<Features>,
    /// Every block's stopword counts, measured with its features (apart from them, so that the
    /// page pass reads them in place rather than copying 128 bytes a block).
    hits: Vec<StopwordHits>,
    /// The words that may lead a built-in phrase, found as the blocks were measured (`None`
    /// when they were normalised apart).
    leads: Option<Vec<LeadCandidate>>,
    /// For each block, the first block before it with the same key, found once by [`segment`]
    /// for the repeats, the shingles kept and the page's distinct keys (empty when the blocks
    /// were normalised apart: [`Segmented::repeat_of`] finds them then).
    repeat_of: Vec<Option<u32>>,
}

/// Most shingle hashes [`Segmented::keep_shingles`] keeps for one page (8 MiB): the blocks past
/// it are shingled again by whoever needs them, so a huge page costs time, not memory.
pub const MAX_KEPT_SHINGLES: usize = 1 << 20;

impl Segmented<'_> {
    /// The normalised text of block `index` (lower case, digits as `0`, words separated by one
    /// space; see [`fingerprint::normalize_into`]).
    pub fn normalized(&self, index: usize) -> &str {
        &self.normalized[self.blocks[index].norm.clone()]
    }

    /// Where the normalised text of blocks `range` sits in [`Segmented::normalized_page`]
    /// (empty for an empty range).
    pub fn normalized_span(&self, range: Range<usize>) -> Range<usize> {
        match (self.blocks.get(range.start), range.end.checked_sub(1).and_then(|last| self.blocks.get(last)))
        {
            (Some(first), Some(last)) if range.start < range.end => first.norm.start..last.norm.end,
            _ => 0..0,
        }
    }

    /// Every block's features and stopword counts, by block, when [`segment`] measured them as
    /// it normalised the blocks.
    pub fn measures(&self) -> Option<(&[Features], &[StopwordHits])> {
        (self.features.len() == self.blocks.len()).then_some((&self.features[..], &self.hits[..]))
    }

    /// The words of the normalised page that may lead a built-in phrase, when [`segment`]
    /// measured every block (in page order).
    pub(crate) fn lead_candidates(&self) -> Option<&[LeadCandidate]> {
        self.leads.as_deref()
    }

    /// For each block, the first block before it with the same key (`None` for the first of its
    /// kind and for a block without a key): as [`segment`] found them, or found now for a page
    /// normalised apart ([`Segmented::normalize_where`]).
    pub fn repeat_of(&self) -> Cow<'_, [Option<u32>]> {
        if self.repeat_of.len() == self.blocks.len() {
            Cow::Borrowed(&self.repeat_of)
        } else {
            Cow::Owned(find_repeats(&self.blocks))
        }
    }

    /// Words of the normalised text of block `index` (0 when it is not normalised).
    pub fn normalized_words(&self, index: usize) -> usize {
        self.blocks[index].norm_words as usize
    }

    /// All normalised blocks in block order, each followed by `\n`: one haystack for a search
    /// over the whole page (a match never spans two blocks when the pattern holds no `\n`).
    pub fn normalized_page(&self) -> &str {
        &self.normalized
    }

    /// The block whose normalised text holds byte `offset` of [`Segmented::normalized_page`],
    /// if any (`None` on a separator). For a page whose blocks were all normalised in order, as
    /// [`segment`] does (a binary search over their ranges).
    pub fn block_at(&self, offset: usize) -> Option<usize> {
        let index = self.blocks.partition_point(|b| b.norm.end <= offset);
        self.blocks.get(index).filter(|b| b.norm.start <= offset).map(|_| index)
    }

    /// Frees the normalised text (every block's key stays; [`Segmented::normalized`] is empty
    /// afterwards), when only the blocks' own text is needed any more.
    pub fn forget_normalized(&mut self) {
        self.normalized = String::new();
        self.shingles = Vec::new();
        self.features = Vec::new();
        self.hits = Vec::new();
        self.leads = None;
        for block in &mut self.blocks {
            block.norm = 0..0;
            block.norm_words = 0;
            block.shingles = None;
        }
    }

    /// Shingles ([`fingerprint::for_each_shingle`]) every normalised block of at least
    /// `min_words` words whose key is the first of its kind on the page (later copies are
    /// repeats, never compared or signed) and that is not shingled yet, and keeps the hashes, up
    /// to [`MAX_KEPT_SHINGLES`] for the page (a block only when its normalised bytes, a bound on
    /// its shingles, fit). [`segment`] shingles every block as it normalises it, but for those
    /// that may hold an unspaced script; a page normalised apart has none.
    pub fn keep_shingles(&mut self, min_words: usize) {
        self.keep_shingles_up_to(min_words, MAX_KEPT_SHINGLES);
    }

    fn keep_shingles_up_to(&mut self, min_words: usize, max_kept: usize) {
        let repeat_of = self.repeat_of().into_owned();
        let mut shingles = std::mem::take(&mut self.shingles);
        for (block, repeat_of) in self.blocks.iter_mut().zip(repeat_of) {
            if block.key.is_none() || repeat_of.is_some() || block.shingles.is_some() {
                continue;
            }
            if (block.norm_words as usize) < min_words {
                continue;
            }
            // A block has at most one shingle a byte: one too long for what is left is shingled
            // again when needed, never held (a one-line page of 1 GB would hold over 1 GB).
            if shingles.len() + block.norm.len() > max_kept {
                continue;
            }
            let start = shingles.len();
            fingerprint::for_each_shingle(&self.normalized[block.norm.clone()], |h| shingles.push(h));
            block.shingles = Some(start as u32..shingles.len() as u32);
        }
        self.shingles = shingles;
    }

    /// The simhash of block `index`'s shingles ([`fingerprint::SimhashBuilder`]), as
    /// [`segment`] kept it or made now.
    pub fn simhash(&self, index: usize) -> u64 {
        self.blocks[index].simhash.unwrap_or_else(|| {
            let mut simhash = fingerprint::SimhashBuilder::default();
            self.for_each_shingle(index, |h| simhash.add(h));
            simhash.finish()
        })
    }

    /// The shingle hashes of block `index` in the order [`fingerprint::for_each_shingle`] gives
    /// them, when [`Segmented::keep_shingles`] kept them.
    pub fn shingles(&self, index: usize) -> Option<&[u64]> {
        let range = self.blocks[index].shingles.clone()?;
        Some(&self.shingles[range.start as usize..range.end as usize])
    }

    /// Calls `emit` with every shingle hash of block `index`: the kept ones, or shingled now.
    pub fn for_each_shingle(&self, index: usize, mut emit: impl FnMut(u64)) {
        match self.shingles(index) {
            Some(kept) => kept.iter().for_each(|&h| emit(h)),
            None => fingerprint::for_each_shingle(self.normalized(index), emit),
        }
    }

    /// Normalises every block, sets its key, measures its features ([`features::measure`])
    /// and shingles it, one pass over each block's bytes for all (a block that may hold an
    /// unspaced script, or past [`MAX_KEPT_SHINGLES`], is not shingled here), or takes all of
    /// that from the thread's memo of blocks ([`crate::memo`]) when it measured the same text
    /// before.
    fn normalize_and_measure(&mut self) {
        let mut measured = Vec::with_capacity(self.blocks.len());
        let mut hits = Vec::with_capacity(self.blocks.len());
        let mut leads = Vec::new();
        // A word or more a shingle, and words of about six bytes with their space: room for
        // most pages' shingles, so the list seldom grows by copying itself.
        let text_bytes: usize = self.blocks.iter().map(|b| b.text.len()).sum();
        let mut shingles: Vec<u64> = Vec::with_capacity((text_bytes / 6).min(MAX_KEPT_SHINGLES));
        let mut shingled: Vec<(Option<Range<u32>>, Option<u64>)> = Vec::with_capacity(self.blocks.len());
        let mut word = String::new();
        let (memo, budget, mut window) = (SharedMemo::global(), memo::shard_budget(), WINDOW.take());
        self.normalize_with(
            |_| true,
            |text, normalized| {
                // Counted in place: the counts are 128 bytes.
                hits.push(StopwordHits::default());
                let counts = hits.last_mut().expect("just pushed");
                let (start, norm_start, leads_start) = (shingles.len(), normalized.len(), leads.len());
                let block = measured.len();
                // A block has fewer shingles than bytes (one more for a short one).
                let fits = start + text.len() < MAX_KEPT_SHINGLES;
                let hash = (text.len() >= MEMO_MIN_BYTES && memo_on() && window.wants(text.len(), budget))
                    .then(|| BlockMemo::hash(text));
                // A block measured before comes from the memo (its shard locked while it is
                // copied): the same bytes, counts, shingles and leads a new scan would give.
                let shard = hash.map(|hash| memo.shard(hash));
                let known = hash.zip(shard.as_deref()).and_then(|(hash, shard)| shard.get(hash, text));
                let found = known.is_some();
                // The simhash of a long block shingled whole (the near-repeat check's).
                let simhash_of = |words: usize, whole: bool, shingles: &[u64]| {
                    (whole && words >= NEAR_REPEAT_MIN_WORDS).then(|| {
                        let mut simhash = fingerprint::SimhashBuilder::default();
                        shingles.iter().for_each(|&h| simhash.add(h));
                        simhash.finish()
                    })
                };
                let (features, words, whole, simhash) = match known {
                    Some(known) => {
                        normalized.extend_from_slice(known.normalized);
                        *counts = known.hits;
                        let whole = if fits && known.shingles().is_none() {
                            // Not shingled when it was measured: shingled and probed now.
                            let mut watcher = WordWatcher::new(block, &mut leads, Some(&mut shingles));
                            watcher.watch(normalized, norm_start..normalized.len());
                            watcher.finish_shingles(&normalized[norm_start..])
                        } else {
                            leads.extend(known.leads(norm_start, block));
                            match known.shingles() {
                                Some(kept) if fits => {
                                    shingles.extend(kept);
                                    known.whole
                                }
                                _ => false,
                            }
                        };
                        // Only with the shingles kept, as a new scan gives it.
                        let simhash = known
                            .simhash
                            .filter(|_| whole)
                            .or_else(|| simhash_of(known.words, whole, &shingles[start..]));
                        (known.features, known.words, whole, simhash)
                    }
                    None => {
                        // Measured with no shard locked.
                        drop(shard);
                        let mut watcher = WordWatcher::new(block, &mut leads, fits.then_some(&mut shingles));
                        let (features, words) =
                            features::measure_telling(text, counts, &mut word, normalized, &mut watcher);
                        let whole = watcher.finish_shingles(&normalized[norm_start..]);
                        let simhash = simhash_of(words, whole, &shingles[start..]);
                        if let Some(hash) = hash {
                            let measured = Measured {
                                normalized: &normalized[norm_start..],
                                words,
                                features,
                                hits: *counts,
                                shingles: fits.then(|| if whole { &shingles[start..] } else { &[][..] }),
                                whole,
                                leads: &leads[leads_start..],
                                leads_from: norm_start,
                                simhash,
                            };
                            memo.shard(hash).insert(hash, text, measured, budget);
                        }
                        (features, words, whole, simhash)
                    }
                };
                if hash.is_some() {
                    window.note(text.len(), found);
                }
                if !whole {
                    shingles.truncate(start);
                }
                shingled.push((whole.then_some(start as u32..shingles.len() as u32), simhash));
                measured.push(features);
                words
            },
        );
        WINDOW.set(window);
        for (block, (range, simhash)) in self.blocks.iter_mut().zip(shingled) {
            block.shingles = range;
            block.simhash = simhash;
        }
        self.shingles = shingles;
        self.features = measured;
        self.hits = hits;
        self.leads = Some(leads);
    }

    /// Normalises the blocks that `wanted` selects (by index) and sets their keys; the others
    /// keep what they had. [`segment`] normalises every block.
    pub fn normalize_where(&mut self, wanted: impl Fn(usize) -> bool) {
        // Keys change: the repeats are found again when asked for.
        self.repeat_of = Vec::new();
        self.normalize_with(wanted, fingerprint::normalize_append);
    }

    /// Appends the normalised text of the blocks `wanted` selects with `append` (which returns
    /// its words), each followed by `\n`, and sets their ranges, word counts and keys.
    fn normalize_with(
        &mut self,
        wanted: impl Fn(usize) -> bool,
        mut append: impl FnMut(&str, &mut Vec<u8>) -> usize,
    ) {
        let text_bytes: usize = self.blocks.iter().map(|b| b.text.len()).sum();
        let mut normalized = std::mem::take(&mut self.normalized).into_bytes();
        normalized.reserve(text_bytes + text_bytes / 2 + 4);
        for (index, block) in self.blocks.iter_mut().enumerate() {
            if !wanted(index) {
                continue;
            }
            let start = normalized.len();
            let words = append(block.text, &mut normalized);
            block.norm_words = u32::try_from(words).unwrap_or(u32::MAX);
            block.norm = start..normalized.len();
            block.key = fingerprint::key_of_bytes(&normalized[start..]);
            normalized.push(b'\n');
        }
        self.normalized =
            crate::decode::utf8_string(normalized).expect("normalising writes whole characters");
    }
}

thread_local! {
    /// How the memo of blocks has served this thread lately ([`crate::memo`]).
    static WINDOW: std::cell::Cell<MemoWindow> = std::cell::Cell::new(MemoWindow::default());
}

/// Whether [`segment`] looks blocks up in the memo (always, but in the tests that turn it off to
/// compare).
#[cfg(not(test))]
fn memo_on() -> bool {
    true
}

#[cfg(test)]
thread_local! {
    static MEMO_OFF: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn memo_on() -> bool {
    !MEMO_OFF.get()
}

/// Splits folded page text (see [`crate::decode::fold`]) into blocks.
///
/// ```
/// use textsift::segment::segment;
/// let page = segment("Title\n\nFirst paragraph, wrapped\nover two lines.\n\n- a list item\n- another");
/// let texts: Vec<_> = page.blocks.iter().map(|b| b.text).collect();
/// assert_eq!(texts, ["Title", "First paragraph, wrapped\nover two lines.", "- a list item", "- another"]);
/// ```
pub fn segment(text: &str) -> Segmented<'_> {
    let mut page = split(text);
    page.normalize_and_measure();
    page.repeat_of = find_repeats(&page.blocks);
    page
}

/// For each of `blocks`, the first block before it with the same key.
fn find_repeats(blocks: &[Block<'_>]) -> Vec<Option<u32>> {
    let mut first_of_key: fingerprint::KeyMap<u32> =
        fingerprint::KeyMap::with_capacity_and_hasher(blocks.len(), Default::default());
    blocks
        .iter()
        .enumerate()
        .map(|(index, block)| {
            let key = block.key?;
            match first_of_key.entry(key) {
                std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(index as u32);
                    None
                }
            }
        })
        .collect()
}

/// [`segment`] without normalising: every block's `key` is `None` and its normalised text empty
/// until [`Segmented::normalize_where`] fills them in. For passes that know which blocks they
/// will look at.
pub fn split(text: &str) -> Segmented<'_> {
    // One scan for the lines, trimmed once, shared by the layout guess and the blocks. Counted
    // first (memchr's SIMD search), so the list does not grow by copying itself.
    let line_count = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
    let mut trimmed: Vec<&str> = Vec::with_capacity(line_count);
    trimmed.extend(lines(text).map(trim));
    let layout = detect_layout(&trimmed);
    // Room at once for a block a line that is not blank, or, when lines of a paragraph may
    // join, for one a line that cannot continue the line before it (the blocks of most pages,
    // and never more than there are): grown by doubling, the list's copies took 0.9% of a
    // run's time.
    let capacity = match layout {
        Layout::Paragraphs => {
            let mut previous_blank = true;
            trimmed
                .iter()
                .filter(|line| {
                    let starts = !line.is_empty() && (previous_blank || !starts_lowercase(line));
                    previous_blank = line.is_empty();
                    starts
                })
                .count()
        }
        Layout::Lines => trimmed.iter().filter(|line| !line.is_empty()).count(),
    };
    let mut blocks: Vec<Block<'_>> = Vec::with_capacity(capacity);
    let mut previous_blank = true;
    let base = text.as_ptr() as usize;
    for (index, &line) in trimmed.iter().enumerate() {
        let line_no = index as u32 + 1;
        if line.is_empty() {
            previous_blank = true;
            continue;
        }
        let kind = kind_of(line);
        let continues = layout == Layout::Paragraphs
            && !previous_blank
            && kind == BlockKind::Text
            && starts_lowercase(line)
            && blocks.last().is_some_and(|b| b.kind == BlockKind::Text && b.last_line + 1 == line_no);
        previous_blank = false;
        if continues {
            let last = blocks.last_mut().expect("checked above");
            let start = last.text.as_ptr() as usize - base;
            let end = line.as_ptr() as usize - base + line.len();
            last.text = &text[start..end];
            last.last_line = line_no;
        } else {
            blocks.push(Block {
                text: line,
                first_line: line_no,
                last_line: line_no,
                kind,
                key: None,
                norm: 0..0,
                norm_words: 0,
                shingles: None,
                simhash: None,
            });
        }
    }
    Segmented {
        layout,
        blocks,
        normalized: String::new(),
        shingles: Vec::new(),
        features: Vec::new(),
        hits: Vec::new(),
        leads: None,
        repeat_of: Vec::new(),
    }
}

/// `line.trim()`, answered without decoding when the line starts and ends with a visible
/// ASCII character, as most do.
#[inline]
fn trim(line: &str) -> &str {
    let bytes = line.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => line,
        _ => line.trim(),
    }
}

/// The same lines as `text.split('\n')`, found with the SIMD `memchr` search.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes()).map(Some).chain(std::iter::once(None)).map(move |end| {
        let end = end.unwrap_or(text.len());
        let line = &text[start..end];
        start = end + 1;
        line
    })
}

fn detect_layout(trimmed_lines: &[&str]) -> Layout {
    // Count the gaps between text lines that hold at least one blank line.
    let (mut gaps, mut filled, mut in_gap) = (0usize, 0usize, false);
    for line in trimmed_lines {
        if line.is_empty() {
            in_gap = filled > 0;
        } else {
            gaps += usize::from(in_gap);
            in_gap = false;
            filled += 1;
        }
    }
    if filled > 1 && gaps as f64 >= PARAGRAPH_MODE_BLANK_SHARE * (filled - 1) as f64 {
        Layout::Paragraphs
    } else {
        Layout::Lines
    }
}

fn starts_lowercase(line: &str) -> bool {
    line.chars().next().is_some_and(char::is_lowercase)
}

/// Bullet characters that open a list item when followed by a space.
const BULLETS: &[char] = &['-', '*', '•', '·', '◦', '▪', '►', '–', '—', '+'];

fn kind_of(line: &str) -> BlockKind {
    // A line that starts with a letter is text (no bullet, digit or `|` is a letter).
    if line.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        return BlockKind::Text;
    }
    if line.len() > 1 && line.starts_with('|') && line.ends_with('|') {
        return BlockKind::TableRow;
    }
    let mut chars = line.chars();
    let first = chars.next().unwrap_or(' ');
    if BULLETS.contains(&first) && chars.next() == Some(' ') {
        return BlockKind::ListItem;
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) && line[digits..].starts_with(". ") {
        return BlockKind::ListItem;
    }
    BlockKind::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `segment(text)` with the memo of blocks off, cold (emptied) and warm (after a run over
    /// the same text), each as its `Debug` form.
    fn segmented_three_ways(text: &str) -> [String; 3] {
        MEMO_OFF.set(true);
        let off = format!("{:?}", segment(text));
        MEMO_OFF.set(false);
        SharedMemo::global().clear();
        let cold = format!("{:?}", segment(text));
        let warm = format!("{:?}", segment(text));
        [off, cold, warm]
    }

    #[test]
    fn blocks_from_the_memo_segment_as_blocks_measured_anew() {
        // Real pages (repeated blocks on a page hit the memo cold), a page of every kind of
        // block and script, and one past the shingles a page keeps (its last blocks are
        // measured without shingles, and taken from the memo so, or shingled then).
        let seeds = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seeds")).expect("seeds");
        let mut pages: Vec<String> = seeds
            .map(|entry| entry.expect("an entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "txt"))
            .map(|path| crate::decode::fold(std::fs::read_to_string(path).expect("a seed")))
            .collect();
        assert_eq!(pages.len(), 5);
        pages.push(
            "Title of the page\n\nIt's a well-known fact, in 2025, that the café’s owner said: “Schön!”\n\n\
             中文的段落没有空格，也是一个很长的段落。\n\nПривет, это длинный абзац текста.\n\n\
             | a | table | row |\n\n- a list item of some length\n\nIt's a well-known fact, in 2025, \
             that the café’s owner said: “Schön!”\n"
                .to_string(),
        );
        let paragraph = "Many words of a long paragraph that repeats itself over and over again. ".repeat(40);
        // A shingle a word: enough paragraphs for more shingles than a page keeps.
        let words = paragraph.split_whitespace().count();
        // Longer than a paragraph: past the room the page has left for shingles.
        let tail = "A last paragraph, past the shingles the page keeps, and on a short page too. ".repeat(50);
        let long = format!("{paragraph}\n\n").repeat(MAX_KEPT_SHINGLES / words + 10) + &tail;
        for page in pages.iter().chain([&long]) {
            let [off, cold, warm] = segmented_three_ways(page);
            assert_eq!(off, cold, "{}", &page[..60]);
            assert_eq!(off, warm, "{}", &page[..60]);
        }
        // The tail, measured without shingles on the long page, is shingled when a page with
        // room for them takes it from the memo.
        let short = format!("A title\n\n{tail}");
        MEMO_OFF.set(true);
        let off = format!("{:?}", segment(&short));
        MEMO_OFF.set(false);
        SharedMemo::global().clear();
        let long_page = segment(&long);
        assert_eq!(long_page.blocks.last().expect("blocks").shingles, None);
        assert_eq!(format!("{:?}", segment(&short)), off);
    }

    #[test]
    fn a_kept_simhash_is_the_simhash_of_the_blocks_shingles() {
        let paragraph =
            "Words of a paragraph long enough for the near-repeat check to compare it with others.";
        let text = format!("A title\n\n{paragraph}\n\nA short line\n\n{paragraph} Changed.\n\n中文的段落没有空格，也是一个很长的段落，长到足以比较。");
        for _ in 0..2 {
            // Measured, then from the memo.
            let page = segment(&text);
            let mut kept = 0;
            for index in 0..page.blocks.len() {
                let mut simhash = fingerprint::SimhashBuilder::default();
                fingerprint::for_each_shingle(page.normalized(index), |h| simhash.add(h));
                assert_eq!(page.simhash(index), simhash.finish(), "block {index}");
                kept += usize::from(page.blocks[index].simhash.is_some());
            }
            assert_eq!(kept, 2, "the two long paragraphs");
        }
    }

    #[test]
    fn trim_is_str_trim() {
        for line in
            ["", " ", "a", " a ", "a b", "\u{a0}a", "a\u{3000}", "\ta\t", "é", " é", "|a|", "~", "\u{2028}x"]
        {
            assert_eq!(trim(line), line.trim(), "{line:?}");
        }
    }

    #[test]
    fn kept_shingles_are_the_shingles_of_first_copies_up_to_the_cap() {
        let text = "One two three four five.\nA repeat, a repeat.\none two three FOUR five\n---\nSix seven eight nine.\nShort.";
        // Pages normalised apart: segment's own shingles (every block's) are not there.
        let apart = || {
            let mut page = split(text);
            page.normalize_where(|_| true);
            page
        };
        let mut page = apart();
        page.keep_shingles(2);
        let shingled = |page: &Segmented<'_>| -> Vec<bool> {
            (0..page.blocks.len()).map(|i| page.shingles(i).is_some()).collect()
        };
        // The third block repeats the first once normalised; "---" has no key; the last is one word.
        assert_eq!(shingled(&page), [true, true, false, false, true, false]);
        for index in 0..page.blocks.len() {
            let mut fresh = Vec::new();
            fingerprint::for_each_shingle(page.normalized(index), |h| fresh.push(h));
            let mut given = Vec::new();
            page.for_each_shingle(index, |h| given.push(h));
            assert_eq!(given, fresh, "block {index}");
            if let Some(kept) = page.shingles(index) {
                assert_eq!(kept, fresh.as_slice());
            }
        }
        // Past the cap, blocks are shingled when asked: the first two blocks (23 and 17 bytes,
        // 3 and 2 shingles) fit a cap of 24, the fifth (20 bytes) no longer.
        let mut capped = apart();
        capped.keep_shingles_up_to(2, 24);
        assert_eq!(shingled(&capped), [true, true, false, false, false, false]);
        let mut given = Vec::new();
        capped.for_each_shingle(4, |h| given.push(h));
        assert_eq!(given, page.shingles(4).unwrap());
        capped.forget_normalized();
        assert_eq!(shingled(&capped), [false; 6]);
        // `segment` shingles every block as it normalises it, and keeps them.
        let mut segmented = segment(text);
        assert_eq!(shingled(&segmented), [true; 6]);
        segmented.keep_shingles(2);
        for index in 0..segmented.blocks.len() {
            let mut fresh = Vec::new();
            fingerprint::for_each_shingle(segmented.normalized(index), |h| fresh.push(h));
            assert_eq!(segmented.shingles(index), Some(fresh.as_slice()), "block {index}");
        }
    }

    #[test]
    fn the_shingles_segment_makes_are_those_of_each_normalised_block() {
        // Letters, digits, punctuation, joiners, accents, CJK and Thai (shingled by character:
        // `segment` leaves those blocks to be shingled apart), long words, short lines.
        let alphabet: Vec<char> =
            "aaaaZeeee09 ... ,'’-\n\n\tÄßİΣσé\u{0301}\u{200D}ǅ東京は\u{0e01}×😀 Internationalisation "
                .chars()
                .collect();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let (mut whole, mut apart) = (0, 0);
        for _ in 0..400 {
            let text = crate::testing::chars_text(&alphabet, 400, &mut state);
            let mut page = segment(&text);
            page.keep_shingles(1);
            for index in 0..page.blocks.len() {
                let mut fresh = Vec::new();
                fingerprint::for_each_shingle(page.normalized(index), |h| fresh.push(h));
                let mut given = Vec::new();
                page.for_each_shingle(index, |h| given.push(h));
                assert_eq!(given, fresh, "{:?}", page.normalized(index));
                if fingerprint::has_long_lead(page.normalized(index).as_bytes()) {
                    apart += 1;
                } else {
                    assert_eq!(page.shingles(index), Some(fresh.as_slice()), "{:?}", page.normalized(index));
                    whole += 1;
                }
            }
        }
        assert!(whole > 1000 && apart > 100, "{whole} blocks shingled by segment, {apart} apart");
    }

    fn texts(text: &str) -> Vec<&str> {
        segment(text).blocks.into_iter().map(|b| b.text).collect()
    }

    #[test]
    fn one_paragraph_per_line() {
        let page = segment("Title\nFirst paragraph.\nsecond starts lower.\n");
        assert_eq!(page.layout, Layout::Lines);
        assert_eq!(texts("Title\nFirst paragraph.\nsecond starts lower.\n").len(), 3);
    }

    #[test]
    fn blank_line_paragraphs_join_wrapped_lines() {
        let text = "Menu\n\nSign up for daily updates for the most important\nstories unfolding in the global economy.\n\nClose";
        let page = segment(text);
        assert_eq!(page.layout, Layout::Paragraphs);
        assert_eq!(
            page.blocks[1].text,
            "Sign up for daily updates for the most important\nstories unfolding in the global economy."
        );
        assert_eq!(page.blocks[1].lines(), 3..=4);
        assert_eq!(page.blocks[2].first_line, 6);
    }

    #[test]
    fn capitalised_lines_stay_apart_even_in_paragraph_mode() {
        assert_eq!(
            texts("Menu\nSearch\n\nNews\n\nSport\n\nWeather"),
            ["Menu", "Search", "News", "Sport", "Weather"]
        );
    }

    #[test]
    fn table_rows_and_list_items_are_blocks() {
        let page = segment("Intro text here\n\n| a | b |\n|---|---|\n| c | d |\n\n- one\n- two\n1. first\n");
        let kinds: Vec<_> = page.blocks.iter().map(|b| b.kind).collect();
        use BlockKind::*;
        assert_eq!(kinds, [Text, TableRow, TableRow, TableRow, ListItem, ListItem, ListItem]);
    }

    #[test]
    fn leading_and_trailing_space_is_trimmed() {
        assert_eq!(texts("   |   Economy  \n\n  • The Independent"), ["|   Economy", "• The Independent"]);
    }

    #[test]
    fn offsets_of_the_normalised_page_map_to_their_blocks() {
        let page = segment("Hello, World\n|||\nSecond line");
        assert_eq!(page.normalized_page(), "hello world\n\nsecond line\n");
        assert_eq!(page.block_at(0), Some(0));
        assert_eq!(page.block_at(10), Some(0));
        assert_eq!(page.block_at(11), None, "a separator");
        assert_eq!(page.block_at(12), None, "an empty block and its separator");
        assert_eq!(page.block_at(13), Some(2));
        assert_eq!(page.block_at(23), Some(2));
        assert_eq!(page.block_at(24), None);
    }

    #[test]
    fn blocks_carry_their_normalised_text_and_key() {
        let page = segment("Hello,  WORLD!\n-- | --\nhello world");
        assert_eq!(page.normalized(0), "hello world");
        assert_eq!(page.normalized(1), "");
        assert_eq!(page.blocks[1].key, None);
        assert_eq!(page.blocks[0].key, page.blocks[2].key);
        assert_eq!(page.blocks[0].key, fingerprint::block_key("hello world", &mut String::new()));
    }

    #[test]
    fn split_normalises_only_the_blocks_asked_for() {
        let text = "Hello, WORLD!\nSecond line\nhello world";
        let mut page = split(text);
        assert!(page.blocks.iter().all(|b| b.key.is_none()));
        page.normalize_where(|i| i != 1);
        assert_eq!(page.normalized(0), "hello world");
        assert_eq!((page.normalized(1), page.blocks[1].key), ("", None));
        let full = segment(text);
        assert_eq!(page.blocks[2].key, full.blocks[2].key);
        assert_eq!(full.normalized(1), "second line");
        page.forget_normalized();
        assert_eq!((page.normalized(0), page.blocks[0].key), ("", full.blocks[0].key));
    }

    #[test]
    fn empty_and_blank_pages_have_no_blocks() {
        assert!(segment("").blocks.is_empty());
        assert!(segment("\n \n\n").blocks.is_empty());
    }
}
