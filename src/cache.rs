//! What pass 1 keeps of each page for the later passes, within a memory budget (`--cache-mib`):
//! every block's page-pass label and key, and the page's signature. A page whose results fit
//! is not labelled again, and the later passes normalise only the blocks whose text they read;
//! the others are labelled again. The page pass is a pure function of the page, so the output is
//! the same either way; the budget only bounds memory.
//!
//! The write pass renders a cached page from it and the text, without splitting the text into
//! blocks again: the cache holds where each block sits.
//!
//! Memory: about 15 bytes a block (a 4-byte packed label, an 8-byte key and 2 to 4 bytes of
//! place) and about 900 bytes a page (most of it the signature, with dedup on; a page of at
//! most 64 shingles 8 bytes a shingle instead), counted against the budget as they are taken.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;

use crate::corpus::dedup::RemovableSignature;
use crate::label::{Label, Placement, Reason};
use crate::segment::{Layout, Segmented};

/// Default budget in MiB (`--cache-mib`).
pub const DEFAULT_CACHE_MIB: usize = 256;

/// One page as pass 1 left it.
#[derive(Debug)]
pub struct CachedPage {
    labels: Box<[PackedLabel]>,
    /// Labels that do not pack (a user rule's name), by [`PackedLabel`] payload.
    other: Box<[Label]>,
    /// Every block's key; 0 for none ([`crate::fingerprint::key_of_bytes`] is never 0).
    keys: Box<[u64]>,
    /// Where every block sits in the page's text: for each, the bytes from the end of the one
    /// before (the start of the text for the first) to its start, then its length, as LEB128
    /// varints.
    places: Box<[u8]>,
    /// How the page separates its paragraphs.
    layout: Layout,
    /// The text the page was cached from is the input's as it stood: folding ([`crate::decode::fold`])
    /// left it alone, so a later pass over the same input need not fold it again.
    plain: bool,
    /// The signature of the blocks the page pass keeps (with dedup on): the fingerprint pass
    /// takes site chrome out of it without reading the page again
    /// ([`crate::corpus::fingerprint_without_text`]).
    pub signature: Option<RemovableSignature>,
}

impl CachedPage {
    /// The page-pass labels of every block.
    pub fn labels(&self) -> Vec<Label> {
        self.labels.iter().map(|packed| packed.unpack(&self.other)).collect()
    }

    /// Shingles of block `index` in the signature (0 for a block the page pass dropped).
    pub fn shingles(&self, index: usize) -> u32 {
        let packed = self.labels[index];
        if packed.tag() == Tag::Keep {
            packed.payload()
        } else {
            0
        }
    }

    /// Every block's key, in block order.
    pub fn keys(&self) -> impl Iterator<Item = Option<u64>> + '_ {
        self.keys.iter().map(|&key| (key != 0).then_some(key))
    }

    /// How the page separates its paragraphs.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Whether the page's text was its input's as it stood (folding left it alone): false
    /// unless [`CachedPage::set_plain`] said so.
    pub fn plain(&self) -> bool {
        self.plain
    }

    /// Says whether the page's text was its input's as it stood (see [`CachedPage::plain`]).
    pub fn set_plain(&mut self, plain: bool) {
        self.plain = plain;
    }

    /// Every block's text, in block order, taken from `text`, the text this page was cached
    /// from (the blocks of [`crate::segment::segment`]). `None` when `text` is shorter than the
    /// blocks reach or cuts a character: it is not that text.
    pub fn block_texts<'t>(&self, text: &'t str) -> Option<Vec<&'t str>> {
        let mut texts = Vec::with_capacity(self.keys.len());
        let (mut places, mut end) = (&self.places[..], 0usize);
        while !places.is_empty() {
            let start = end.checked_add(read_varint(&mut places)?)?;
            end = start.checked_add(read_varint(&mut places)?)?;
            texts.push(text.get(start..end)?);
        }
        Some(texts)
    }

    /// The page's distinct block keys, sorted (the exact counts take each shard's lock once
    /// for them).
    pub fn distinct_keys(&self) -> Vec<u64> {
        let mut keys = Vec::with_capacity(self.keys.len());
        keys.extend(self.keys().flatten());
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// The run's budget for [`CachedPage`]s, shared by the threads of pass 1.
#[derive(Debug)]
pub struct PageCache {
    used: AtomicUsize,
    budget: usize,
}

impl PageCache {
    /// A budget of `budget` bytes.
    pub fn new(budget: usize) -> Self {
        Self { used: AtomicUsize::new(0), budget }
    }

    /// What to keep of `page`, segmented from `text`, with its page-pass `labels` (signed when
    /// `sign`), or `None` once the budget is spent or when `page` is not a segmentation of
    /// `text` (boxed, so a page that was not kept costs 8 bytes).
    pub fn keep(
        &self,
        text: &str,
        page: &Segmented<'_>,
        labels: &[Label],
        sign: bool,
    ) -> Option<Box<CachedPage>> {
        let other = labels.iter().filter(|l| !PackedLabel::packs(l)).count();
        let mut places = Vec::with_capacity(page.blocks.len() * 3);
        let mut end = 0;
        for block in &page.blocks {
            // Blocks lie in `text`, in order.
            let start = (block.text.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
            if start < end || start + block.text.len() > text.len() {
                return None;
            }
            push_varint(&mut places, start - end);
            push_varint(&mut places, block.text.len());
            end = start + block.text.len();
        }
        let cost = std::mem::size_of::<CachedPage>()
            + places.len()
            + labels.len() * (std::mem::size_of::<PackedLabel>() + std::mem::size_of::<u64>())
            + other * std::mem::size_of::<Label>()
            + if sign { RemovableSignature::MAX_HEAP_BYTES } else { 0 };
        if self.used.fetch_add(cost, Ordering::Relaxed) + cost > self.budget {
            return None;
        }
        let mut others = Vec::with_capacity(other);
        let mut signature = sign.then(|| {
            let kept = labels.iter().enumerate().filter(|(_, label)| label.is_keep());
            // The shingles segmenting kept, or at most one a byte and one more of the others.
            let (bytes, shingles) = kept.fold((0, 0), |(bytes, shingles), (index, _)| {
                let block_bytes = page.normalized(index).len();
                let block_shingles = page.shingles(index).map_or(block_bytes + 1, <[u64]>::len);
                (bytes + block_bytes, shingles + block_shingles)
            });
            RemovableSignature::for_text(bytes, shingles)
        });
        let mut signed_whole = true;
        let packed = labels
            .iter()
            .enumerate()
            .map(|(index, label)| {
                if let (Some(signature), true) = (signature.as_mut(), label.is_keep()) {
                    // A kept block's packed label holds its shingle count.
                    let mut shingles = 0u32;
                    match page.shingles(index) {
                        Some(kept) => {
                            signature.add_block(index, kept);
                            shingles = u32::try_from(kept.len()).unwrap_or(u32::MAX);
                        }
                        None => page.for_each_shingle(index, |hash| {
                            signature.add(index, hash);
                            shingles = shingles.saturating_add(1);
                        }),
                    }
                    if let Some(packed) = PackedLabel::new(Tag::Keep, shingles) {
                        return packed;
                    }
                    // A block of more shingles than a label holds (half a billion words).
                    signed_whole = false;
                }
                PackedLabel::pack(label).unwrap_or_else(|| {
                    others.push(label.clone());
                    PackedLabel::new(Tag::Other, others.len() as u32 - 1)
                        .expect("fewer labels than u32::MAX >> 3")
                })
            })
            .collect();
        if !signed_whole {
            signature = None;
        }
        if let Some(signature) = &mut signature {
            // The budget took the most a signature holds; a page of few shingles holds less.
            signature.shrink_to_fit();
            self.used
                .fetch_sub(RemovableSignature::MAX_HEAP_BYTES - signature.heap_bytes(), Ordering::Relaxed);
        }
        Some(Box::new(CachedPage {
            labels: packed,
            other: others.into_boxed_slice(),
            keys: page.blocks.iter().map(|b| b.key.unwrap_or(0)).collect(),
            places: places.into_boxed_slice(),
            layout: page.layout,
            plain: false,
            signature,
        }))
    }
}

/// Appends `value` as a LEB128 varint: 7 bits a byte, low bits first, the high bit set on
/// every byte but the last.
pub(crate) fn push_varint(out: &mut Vec<u8>, value: usize) {
    push_varint_u64(out, value as u64);
}

/// [`push_varint`] of a `u64`.
pub(crate) fn push_varint_u64(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a varint [`push_varint`] wrote from the front of `bytes`, and moves past it; `None`
/// when it is cut short or does not fit a `usize`.
pub(crate) fn read_varint(bytes: &mut &[u8]) -> Option<usize> {
    read_varint_u64(bytes).and_then(|value| usize::try_from(value).ok())
}

/// [`read_varint`] of a `u64`: `None` when it is cut short or does not fit one.
pub(crate) fn read_varint_u64(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (index, &byte) in bytes.iter().enumerate() {
        let bits = u64::from(byte & 0x7F);
        let shift = 7 * index as u32;
        if shift >= u64::BITS || (bits << shift) >> shift != bits {
            return None;
        }
        value |= bits << shift;
        if byte < 0x80 {
            *bytes = &bytes[index + 1..];
            return Some(value);
        }
    }
    None
}

/// What a [`PackedLabel`] holds (its low [`TAG_BITS`] bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum Tag {
    /// `Keep`; the payload is the block's shingle count in the page's signature.
    Keep,
    /// `Drop(Repeat { of: payload })`.
    Repeat,
    /// `Drop(Chrome { rule })`, `rule` a static name with id `payload` ([`rule_id`]).
    Chrome,
    /// `Drop(Context { why, words, stopword_pct })`: [`CONTEXT_WHY_BITS`] of `why`, then
    /// [`CONTEXT_PCT_BITS`] of `stopword_pct`, then the words.
    Context,
    /// A label kept whole in [`CachedPage::other`], at index `payload`.
    Other,
}

const TAG_BITS: u32 = 3;
const CONTEXT_WHY_BITS: u32 = 2;
const CONTEXT_PCT_BITS: u32 = 7;
/// The largest payload: what is bigger does not pack.
const MAX_PAYLOAD: u32 = u32::MAX >> TAG_BITS;

/// One block's label in 4 bytes: a [`Tag`] and a payload.
#[derive(Debug, Clone, Copy)]
struct PackedLabel(u32);

impl PackedLabel {
    fn new(tag: Tag, payload: u32) -> Option<Self> {
        (payload <= MAX_PAYLOAD).then_some(Self(payload << TAG_BITS | tag as u32))
    }

    fn tag(self) -> Tag {
        match self.0 & ((1 << TAG_BITS) - 1) {
            0 => Tag::Keep,
            1 => Tag::Repeat,
            2 => Tag::Chrome,
            3 => Tag::Context,
            _ => Tag::Other,
        }
    }

    fn payload(self) -> u32 {
        self.0 >> TAG_BITS
    }

    /// Whether [`PackedLabel::pack`] packs `label`.
    fn packs(label: &Label) -> bool {
        Self::pack(label).is_some()
    }

    /// The packed form of `label`, or `None` when it does not pack (then it is kept whole).
    fn pack(label: &Label) -> Option<Self> {
        match label {
            Label::Keep => Self::new(Tag::Keep, 0),
            Label::Drop(Reason::Repeat { of }) => Self::new(Tag::Repeat, *of),
            Label::Drop(Reason::Chrome { rule: Cow::Borrowed(rule) }) => {
                Self::new(Tag::Chrome, rule_id(rule))
            }
            Label::Drop(Reason::Context { why, words, stopword_pct }) => {
                let why = match why {
                    Placement::BeforeArticle => 0,
                    Placement::AfterArticle => 1,
                    Placement::AfterOpener => 2,
                };
                let pct = u32::from(*stopword_pct);
                if pct >= 1 << CONTEXT_PCT_BITS
                    || *words > MAX_PAYLOAD >> (CONTEXT_WHY_BITS + CONTEXT_PCT_BITS)
                {
                    return None;
                }
                Self::new(
                    Tag::Context,
                    words << (CONTEXT_WHY_BITS + CONTEXT_PCT_BITS) | pct << CONTEXT_WHY_BITS | why,
                )
            }
            _ => None,
        }
    }

    fn unpack(self, other: &[Label]) -> Label {
        let payload = self.payload();
        match self.tag() {
            Tag::Keep => Label::Keep,
            Tag::Repeat => Label::Drop(Reason::Repeat { of: payload }),
            Tag::Chrome => Label::Drop(Reason::Chrome { rule: Cow::Borrowed(rule_name(payload)) }),
            Tag::Context => Label::Drop(Reason::Context {
                why: match payload & ((1 << CONTEXT_WHY_BITS) - 1) {
                    0 => Placement::BeforeArticle,
                    1 => Placement::AfterArticle,
                    _ => Placement::AfterOpener,
                },
                words: payload >> (CONTEXT_WHY_BITS + CONTEXT_PCT_BITS),
                stopword_pct: (payload >> CONTEXT_WHY_BITS & ((1 << CONTEXT_PCT_BITS) - 1)) as u8,
            }),
            Tag::Other => other[payload as usize].clone(),
        }
    }
}

/// The static rule names seen so far (a few dozen: phrase families and feature rules), so a
/// packed label holds a 4-byte id instead of the name. Ids are never written anywhere.
static RULE_NAMES: RwLock<Vec<&'static str>> = RwLock::new(Vec::new());

thread_local! {
    /// This thread's copy of [`RULE_NAMES`] as far as it has needed it: a label is packed and
    /// unpacked without touching the lock, whose count the two workers kept taking from each
    /// other's cache (1.6% of a run's samples went to packing).
    static KNOWN_NAMES: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

fn rule_id(name: &'static str) -> u32 {
    // The same name is nearly always the same static string: its address is checked first.
    let position = |names: &[&'static str]| {
        names.iter().position(|&n| std::ptr::eq(n, name)).or_else(|| names.iter().position(|&n| n == name))
    };
    KNOWN_NAMES.with_borrow_mut(|known| {
        if let Some(id) = position(known) {
            return id as u32;
        }
        let mut names = RULE_NAMES.write().expect("not poisoned");
        let id = position(&names).unwrap_or_else(|| {
            names.push(name);
            names.len() - 1
        });
        known.clone_from(&names);
        id as u32
    })
}

fn rule_name(id: u32) -> &'static str {
    KNOWN_NAMES.with_borrow_mut(|known| {
        if known.len() <= id as usize {
            known.clone_from(&RULE_NAMES.read().expect("not poisoned"));
        }
        known[id as usize]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::segment;

    #[test]
    fn labels_come_back_as_they_were_kept() {
        let text = "a\nb\nc\nd\ne\nf\ng\nh";
        let page = segment(text);
        let labels = vec![
            Label::Keep,
            Label::Drop(Reason::Repeat { of: 0 }),
            Label::Drop(Reason::Chrome { rule: Cow::Borrowed("nav") }),
            Label::Drop(Reason::Context { why: Placement::AfterOpener, words: 70_000, stopword_pct: 100 }),
            Label::Drop(Reason::Chrome { rule: Cow::Owned("user rule: weather".into()) }),
            Label::Drop(Reason::SiteChrome { pages: 9 }),
            // Too many words for a packed context label.
            Label::Drop(Reason::Context { why: Placement::BeforeArticle, words: 5_000_000, stopword_pct: 3 }),
            Label::Drop(Reason::Repeat { of: MAX_PAYLOAD }),
        ];
        let cached = PageCache::new(1 << 20).keep(text, &page, &labels, true).expect("fits");
        assert_eq!(cached.labels(), labels);
        assert_eq!(cached.other.len(), 3);
        assert_eq!(cached.keys().collect::<Vec<_>>(), page.blocks.iter().map(|b| b.key).collect::<Vec<_>>());
        let signature = cached.signature.as_ref().expect("signed");
        // Only the kept block is signed ("a": one shingle).
        assert_eq!(signature.shingles(), 1);
        assert_eq!((cached.shingles(0), cached.shingles(1)), (1, 0));
        assert_eq!(std::mem::size_of::<PackedLabel>(), 4);
    }

    #[test]
    fn rule_ids_hold_across_threads() {
        // Names packed on other threads, some equal in text but not in address, come back
        // whole on this one and on each other's.
        let owned: &'static str = Box::leak(String::from("test family b").into_boxed_str());
        let names: [&'static str; 4] = ["test family a", "test family b", owned, "test family c"];
        let ids: Vec<Vec<u32>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|turn| {
                    scope.spawn(move || names.iter().cycle().skip(turn).take(4).map(|n| rule_id(n)).collect())
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("no panic")).collect()
        });
        for (turn, ids) in ids.iter().enumerate() {
            for (name, &id) in names.iter().cycle().skip(turn).zip(ids) {
                assert_eq!(rule_name(id), *name);
            }
        }
        // One id for one text, whatever its address.
        assert_eq!(rule_id(names[1]), rule_id(owned));
        let other_thread = std::thread::spawn(move || rule_name(rule_id(owned))).join().expect("no panic");
        assert_eq!(other_thread, "test family b");
    }

    #[test]
    fn a_page_of_few_shingles_is_charged_for_what_its_signature_holds() {
        let text = "One two three four five six.\n\nSeven eight nine ten.";
        let page = segment(text);
        let labels = vec![Label::Keep; page.blocks.len()];
        let probe = PageCache::new(1 << 20);
        let cached = probe.keep(text, &page, &labels, true).expect("fits");
        let signature = cached.signature.as_ref().expect("signed");
        assert_eq!(signature.shingles(), 6);
        assert!(signature.heap_bytes() < RemovableSignature::MAX_HEAP_BYTES / 8);
        let used = probe.used.load(Ordering::Relaxed);
        // Room for ten such pages: each is charged the most a signature holds until it is
        // signed, then what it holds.
        let cache = PageCache::new(10 * used + RemovableSignature::MAX_HEAP_BYTES);
        assert_eq!((0..12).filter(|_| cache.keep(text, &page, &labels, true).is_some()).count(), 10);
    }

    #[test]
    fn pages_beyond_the_budget_are_not_kept() {
        let page = segment("a\nb");
        let labels = vec![Label::Keep; 2];
        // Two packed labels, two keys and two places of two bytes each.
        let cache = PageCache::new(std::mem::size_of::<CachedPage>() + 2 * 4 + 2 * 8 + 4);
        assert!(cache.keep("a\nb", &page, &labels, false).is_some());
        assert!(cache.keep("a\nb", &page, &labels, false).is_none());
    }

    #[test]
    fn block_texts_are_the_blocks_of_the_text() {
        let pieces =
            ["word ", "Word ", "\n", "\n\n", "\n\n\n", "  ", "- item", "| cell |", "é", "末", "\t", "12"];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut long_blocks = 0;
        for round in 0..500 {
            // Now and then a block longer than one byte of varint holds.
            let mut text = crate::testing::pieces_text(&pieces, 60, &mut state);
            if round % 10 == 0 {
                text.push_str(&"long ".repeat(40 * round / 10));
            }
            let page = segment(&text);
            long_blocks += page.blocks.iter().filter(|b| b.text.len() >= 0x80).count();
            let labels = vec![Label::Keep; page.blocks.len()];
            let cached = PageCache::new(1 << 20).keep(&text, &page, &labels, false).expect("fits");
            let texts: Vec<&str> = page.blocks.iter().map(|b| b.text).collect();
            assert_eq!(cached.block_texts(&text), Some(texts), "{text:?}");
            assert_eq!(cached.layout(), page.layout);
            // A page of another text is not kept.
            assert!(
                PageCache::new(1 << 20).keep(&text.clone(), &page, &labels, false).is_none()
                    || page.blocks.is_empty()
            );
            // A text the blocks do not fit in is refused, not read out of bounds.
            if let Some(last) = page.blocks.last() {
                let cut = &text[..last.text.as_ptr() as usize - text.as_ptr() as usize];
                assert_eq!(cached.block_texts(cut), None);
            }
        }
        assert!(long_blocks > 20, "{long_blocks}");
    }

    #[test]
    fn varints_come_back_as_written() {
        let values = [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 1 << 35, usize::MAX];
        let mut bytes = Vec::new();
        values.iter().for_each(|&v| push_varint(&mut bytes, v));
        assert_eq!(bytes.len(), 1 + 1 + 1 + 2 + 2 + 3 + 6 + 10);
        let mut rest = &bytes[..];
        for &v in &values {
            assert_eq!(read_varint(&mut rest), Some(v));
        }
        assert!(rest.is_empty());
        // Cut short, or too long for a usize.
        assert_eq!(read_varint(&mut &[0x80u8][..]), None);
        assert_eq!(read_varint(&mut &[0xFFu8; 11][..]), None);
        assert_eq!(read_varint(&mut &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F][..]), None);
    }
}
