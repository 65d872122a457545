//! What pass 1 keeps of each page for the later passes, within a memory budget (`--cache-mib`):
//! every block's page-pass label and key, and the page's signature. A page whose results fit
//! is not labelled again, and the later passes normalise only the blocks whose text they read;
//! the others are labelled again. The page pass is a pure function of the page, so the output is
//! the same either way; the budget only bounds memory.
//!
//! Memory: 12 bytes a block (a 4-byte packed label and an 8-byte key) and about 900 bytes
//! a page (most of it the signature, with dedup on), counted against the budget as they are
//! taken.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;

use crate::corpus::dedup::RemovableSignature;
use crate::label::{Label, Placement, Reason};
use crate::segment::Segmented;

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
    /// The signature of the blocks the page pass keeps (with dedup on): the fingerprint pass
    /// takes site chrome out of it without reading the page again
    /// ([`crate::corpus::fingerprint_without_text`]).
    pub signature: Option<Box<RemovableSignature>>,
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

    /// The page's distinct block keys, sorted (as [`crate::corpus::page_keys`] gives them).
    pub fn distinct_keys(&self) -> Vec<u64> {
        let mut keys: Vec<u64> = self.keys().flatten().collect();
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

    /// What to keep of `page` with its page-pass `labels` (signed when `sign`), or `None` once
    /// the budget is spent (boxed, so a page that was not kept costs 8 bytes).
    pub fn keep(&self, page: &Segmented<'_>, labels: &[Label], sign: bool) -> Option<Box<CachedPage>> {
        let other = labels.iter().filter(|l| !PackedLabel::packs(l)).count();
        let cost = std::mem::size_of::<CachedPage>()
            + labels.len() * (std::mem::size_of::<PackedLabel>() + std::mem::size_of::<u64>())
            + other * std::mem::size_of::<Label>()
            + if sign { std::mem::size_of::<RemovableSignature>() } else { 0 };
        if self.used.fetch_add(cost, Ordering::Relaxed) + cost > self.budget {
            return None;
        }
        let mut others = Vec::with_capacity(other);
        let mut signature = sign.then(Box::<RemovableSignature>::default);
        let mut signed_whole = true;
        let packed = labels
            .iter()
            .enumerate()
            .map(|(index, label)| {
                if let (Some(signature), true) = (signature.as_mut(), label.is_keep()) {
                    // A kept block's packed label holds its shingle count.
                    let mut shingles = 0u32;
                    page.for_each_shingle(index, |hash| {
                        signature.add(index, hash);
                        shingles = shingles.saturating_add(1);
                    });
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
        Some(Box::new(CachedPage {
            labels: packed,
            other: others.into_boxed_slice(),
            keys: page.blocks.iter().map(|b| b.key.unwrap_or(0)).collect(),
            signature,
        }))
    }
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

fn rule_id(name: &'static str) -> u32 {
    let position = |names: &[&'static str]| names.iter().position(|&n| n == name);
    if let Some(id) = position(&RULE_NAMES.read().expect("not poisoned")) {
        return id as u32;
    }
    let mut names = RULE_NAMES.write().expect("not poisoned");
    let id = position(&names).unwrap_or_else(|| {
        names.push(name);
        names.len() - 1
    });
    id as u32
}

fn rule_name(id: u32) -> &'static str {
    RULE_NAMES.read().expect("not poisoned")[id as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::segment;

    #[test]
    fn labels_come_back_as_they_were_kept() {
        let page = segment("a\nb\nc\nd\ne\nf\ng\nh");
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
        let cached = PageCache::new(1 << 20).keep(&page, &labels, true).expect("fits");
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
    fn pages_beyond_the_budget_are_not_kept() {
        let page = segment("a\nb");
        let labels = vec![Label::Keep; 2];
        let cache = PageCache::new(std::mem::size_of::<CachedPage>() + 40);
        assert!(cache.keep(&page, &labels, false).is_some());
        assert!(cache.keep(&page, &labels, false).is_none());
    }
}
