//! Phrase rules: the built-in list of chrome phrases (`data/chrome-phrases.txt`) and the user's
//! `--rules` file, compiled into hash maps for whole-block, heading and start phrases and, for
//! the phrases a block contains, a map of their first words, looked up once a word of the page.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::ConfigError;
use crate::fingerprint::{
    has_long_lead, key_of_normalized, normalize_into, word_hash, word_hash_at, HashFilter, KeyMap,
    ShingleRing, WordObserver,
};
use crate::segment::Segmented;

/// The built-in phrase rules.
const PHRASE_DATA: &str = include_str!("data/chrome-phrases.txt");

/// Blocks with more words than this are never matched by `contains` phrase rules (a long
/// paragraph that mentions a newsletter is still prose).
pub const CONTAINS_MAX_WORDS: u32 = 30;
/// Blocks with more words than this are never matched by `line` or `start` phrase rules.
pub const START_MAX_WORDS: u32 = 40;
/// Families whose `start` and `contains` rules only name short blocks: a byline, a caption or a
/// menu entry is a few words, while prose may well start with "By" or "Photo".
pub const SHORT_FAMILIES: &[&str] = &["byline", "caption", "nav", "ads", "related"];
/// Most words of a block that a [`SHORT_FAMILIES`] rule may name.
pub const SHORT_FAMILY_MAX_WORDS: u32 = 12;

/// How a phrase rule matches the normalised block text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    /// The whole block is the phrase.
    Line,
    /// The block is the phrase, maybe followed by up to [`HEADING_EXTRA_WORDS`] words: a
    /// section heading with a site or date after it ("Mehr zum Thema vor 1 Woche").
    Heading,
    /// The block starts with the phrase.
    Start,
    /// The phrase occurs in the block (on word boundaries), when the block is short.
    Contains,
    /// The phrase occurs in the block, whatever its length: for phrases specific enough never
    /// to stand in article prose ("comments are moderated").
    Anywhere,
}

/// One phrase rule: the family it names (shown in drop reasons), how it matches, whether it
/// keeps or drops, and the site it is limited to.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) family: Cow<'static, str>,
    pub(crate) how: How,
    pub(crate) keep: bool,
    pub(crate) host: Option<String>,
}

/// A list of phrases and their rules, found by their lead: a one-word phrase by its word, a
/// longer one by its first two words. Each word of the searched text, and each pair of words
/// in a row, is looked up among the leads, and only the phrases it leads are compared. A
/// phrase is normalised text, so it can only match at a word start; a lookup a word costs
/// less than an automaton's transition a byte, and a pair of words leads a phrase far more
/// rarely than a common first word ("to", "we", "0") alone.
#[derive(Debug, Clone)]
struct PhraseSet {
    /// Indices into `phrases` (and `rules`) by their lead: the [`word_hash`] of a one-word
    /// phrase, the [`pair_key`] of the first two words' hashes of a longer one.
    by_lead: KeyMap<Vec<u32>>,
    /// Bytes of the longest word that leads a phrase: longer words are not looked up.
    max_lead_word: usize,
    /// Every lead: most words and pairs lead no phrase, and this says so before `by_lead` is
    /// read.
    leads: HashFilter,
    phrases: Vec<String>,
    /// Whether each phrase is of two words or more (led by a pair).
    led_by_pair: Vec<bool>,
    rules: Vec<Rule>,
}

/// The key of two words in a row, from their [`word_hash`]es.
#[inline]
fn pair_key(first: u64, second: u64) -> u64 {
    (first.rotate_left(23) ^ second).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5D58_8B65_6C07_8965
}

impl PhraseSet {
    fn build(entries: Vec<(String, Rule)>) -> Option<Self> {
        if entries.is_empty() {
            return None;
        }
        let (phrases, rules): (Vec<String>, Vec<Rule>) = entries.into_iter().unzip();
        let mut by_lead: KeyMap<Vec<u32>> = KeyMap::default();
        let mut max_lead_word = 0;
        let mut leads = HashFilter::default();
        for (index, phrase) in phrases.iter().enumerate() {
            let mut words = phrase.split(' ');
            let first = words.next().unwrap_or_default();
            let lead = match words.next() {
                None => word_hash(first.as_bytes(), 0),
                Some(second) => {
                    max_lead_word = max_lead_word.max(second.len());
                    pair_key(word_hash(first.as_bytes(), 0), word_hash(second.as_bytes(), 0))
                }
            };
            max_lead_word = max_lead_word.max(first.len());
            by_lead.entry(lead).or_default().push(index as u32);
            leads.insert(lead);
        }
        let led_by_pair = phrases.iter().map(|phrase| phrase.contains(' ')).collect();
        Some(PhraseSet { by_lead, max_lead_word, leads, phrases, led_by_pair, rules })
    }

    /// Calls `found(start, end, index)` for every phrase on word boundaries in `text[range]`
    /// (in no set order); `anywhere_only` skips the `contains` phrases. `text` is normalised:
    /// words apart by one space, blocks by `\n`.
    fn scan(
        &self,
        text: &[u8],
        range: Range<usize>,
        anywhere_only: bool,
        mut found: impl FnMut(usize, usize, u32),
    ) {
        let end = range.end;
        let mut compare = |start: usize, lead: u64, pair: bool| {
            self.compare(text, end, anywhere_only, lead, start, pair, &mut found)
        };
        let mut start = range.start;
        // The word before, when a space parts it from this one: its start and hash.
        let mut previous: Option<(usize, u64)> = None;
        while start < end {
            let word_end = separator_at_or_after(text, start, end);
            let probed = self.probe(text, start..word_end, previous, &mut compare);
            previous = probed.filter(|_| word_end < end && text[word_end] == b' ');
            start = word_end + 1;
        }
    }
}

impl PhraseSet {
    /// Calls `found(start, phrase end, index)` for the phrases led by `lead` (of two words or
    /// more when `pair`) that stand at `start` in `text`, ending on a word boundary before
    /// `end`; `anywhere_only` skips the `contains` phrases.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn compare(
        &self,
        text: &[u8],
        end: usize,
        anywhere_only: bool,
        lead: u64,
        start: usize,
        pair: bool,
        found: &mut impl FnMut(usize, usize, u32),
    ) {
        let Some(indices) = self.by_lead.get(&lead) else { return };
        for &index in indices {
            let phrase = self.phrases[index as usize].as_bytes();
            if (anywhere_only && self.rules[index as usize].how != How::Anywhere)
                || pair != self.led_by_pair[index as usize]
            {
                continue;
            }
            let phrase_end = start + phrase.len();
            if phrase_end <= end
                && &text[start..phrase_end] == phrase
                && (phrase_end == text.len() || matches!(text[phrase_end], b' ' | b'\n'))
            {
                found(start, phrase_end, index);
            }
        }
    }

    /// The lead probes of [`PhraseSet::scan`] for the word `text[word]`, when `previous` (its
    /// start and hash, if it had one) is the word before it in its block: calls
    /// `candidate(start, lead, pair)` for each lead that may lead a phrase, and returns what
    /// the next word takes as `previous`.
    #[inline]
    fn probe(
        &self,
        text: &[u8],
        word: Range<usize>,
        previous: Option<(usize, u64)>,
        candidate: impl FnMut(usize, u64, bool),
    ) -> Option<(usize, u64)> {
        if word.len() > self.max_lead_word {
            return None;
        }
        let hash = word_hash_at(text, word.clone(), 0);
        self.probe_hashed(word, hash, previous, candidate)
    }

    /// [`PhraseSet::probe`] of a word whose [`word_hash`] is `hash` already.
    #[inline]
    fn probe_hashed(
        &self,
        word: Range<usize>,
        hash: u64,
        previous: Option<(usize, u64)>,
        mut candidate: impl FnMut(usize, u64, bool),
    ) -> Option<(usize, u64)> {
        if word.len() > self.max_lead_word {
            return None;
        }
        if self.leads.may_contain(hash) {
            candidate(word.start, hash, false);
        }
        if let Some((previous_start, previous_hash)) = previous {
            let pair = pair_key(previous_hash, hash);
            if self.leads.may_contain(pair) {
                candidate(previous_start, pair, true);
            }
        }
        Some((word.start, hash))
    }
}

/// A word of a page's normalised text whose lead (the word, or it and the next) may lead a
/// built-in `contains` or `anywhere` phrase: found by [`WordWatcher`] as [`crate::segment::segment`]
/// normalises the page, so the page pass compares phrases there without searching the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LeadCandidate {
    /// Where the lead starts in the normalised page.
    start: usize,
    /// Its key ([`word_hash`], or [`pair_key`] of two words).
    lead: u64,
    /// Its block.
    block: u32,
    /// Whether it is two words.
    pair: bool,
}

/// Bytes of [`LeadCandidate::to_bytes`].
pub(crate) const LEAD_BYTES: usize = 8 + 8 + 1;

impl LeadCandidate {
    /// The candidate as bytes (for [`crate::memo`]), its start taken from `from`, where its
    /// block's normalised text starts (its block is not kept).
    pub(crate) fn to_bytes(self, from: usize) -> [u8; LEAD_BYTES] {
        let mut bytes = [0; LEAD_BYTES];
        bytes[..8].copy_from_slice(&((self.start - from) as u64).to_le_bytes());
        bytes[8..16].copy_from_slice(&self.lead.to_le_bytes());
        bytes[16] = u8::from(self.pair);
        bytes
    }

    /// The candidate [`LeadCandidate::to_bytes`] gave `bytes`, in block `block`, whose
    /// normalised text starts at `to`.
    pub(crate) fn from_bytes(bytes: &[u8; LEAD_BYTES], to: usize, block: usize) -> Self {
        let offset = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        LeadCandidate {
            start: to + usize::try_from(offset).expect("an offset within a block"),
            lead: u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")),
            block: u32::try_from(block).expect("fewer than u32::MAX blocks"),
            pair: bytes[16] != 0,
        }
    }
}

/// Records the [`LeadCandidate`]s of one block of the built-in phrases as the block is
/// normalised (a [`WordObserver`]): the probes [`PhraseSet::scan`] makes, on each word while
/// its bytes are at hand, instead of a search over the page afterwards. It also shingles the
/// block from the same word hashes ([`fingerprint::for_each_shingle`] gives the same), when
/// given somewhere to put the shingles.
pub(crate) struct WordWatcher<'c> {
    set: Option<&'static PhraseSet>,
    block: u32,
    previous: Option<(usize, u64)>,
    found: &'c mut Vec<LeadCandidate>,
    /// Where the block's shingles go (`None`: nowhere).
    shingles: Option<&'c mut Vec<u64>>,
    ring: ShingleRing,
}

impl<'c> WordWatcher<'c> {
    /// A watcher of block `block`, adding to `found`, and its shingles to `shingles`.
    pub(crate) fn new(
        block: usize,
        found: &'c mut Vec<LeadCandidate>,
        shingles: Option<&'c mut Vec<u64>>,
    ) -> Self {
        let block = u32::try_from(block).expect("fewer than u32::MAX blocks");
        let set = builtin().phrases.as_ref();
        WordWatcher { set, block, previous: None, found, shingles, ring: ShingleRing::default() }
    }

    /// After the block's last word, given its normalised text: whether its shingles are all
    /// in the list and right (not when the block may hold an unspaced script, which shingles by
    /// characters, or was not given a list; the caller drops what was added then).
    pub(crate) fn finish_shingles(self, normalized: &[u8]) -> bool {
        let Some(shingles) = self.shingles else { return false };
        if has_long_lead(normalized) {
            return false;
        }
        if !normalized.is_empty() {
            shingles.extend(self.ring.short_text(normalized));
        }
        true
    }
}

impl WordWatcher<'_> {
    /// Tells the watcher every word of `out[block]`, a block's normalised text that was not
    /// watched as it was written (it came from [`crate::memo`]): the words a [`NormalWriter`]
    /// tells, which are the text's runs between single spaces.
    ///
    /// [`NormalWriter`]: crate::fingerprint::NormalWriter
    pub(crate) fn watch(&mut self, out: &[u8], block: Range<usize>) {
        let out = &out[..block.end];
        let mut start = block.start;
        while start < out.len() {
            let end = crate::fingerprint::space_at_or_after(out, start);
            self.see(out, start..end);
            start = end + 1;
        }
    }

    /// Hashes the word `out[word]`, shingles it and probes it for phrase leads.
    #[inline(always)]
    fn see(&mut self, out: &[u8], word: Range<usize>) {
        let hash = word_hash_at(out, word.clone(), 0);
        if let Some(shingles) = &mut self.shingles {
            // Words of an unspaced script are wrong tokens: `finish_shingles` finds them once
            // for the block and drops what was made.
            if let Some(shingle) = self.ring.token(hash) {
                shingles.push(shingle);
            }
        }
        let Some(set) = self.set else { return };
        let (found, block) = (&mut *self.found, self.block);
        self.previous = set.probe_hashed(word, hash, self.previous, |start, lead, pair| {
            found.push(LeadCandidate { start, lead, block, pair });
        });
    }
}

impl WordObserver for WordWatcher<'_> {
    // Out of line: inlined at each place the normaliser ends a word, it slowed the normaliser
    // more than the call costs (`stages/segment` 29.9 against 28.9 ms).
    #[inline(never)]
    fn word(&mut self, out: &[u8], word: Range<usize>) {
        self.see(out, word);
    }
}

/// The first space or `\n` in `text[from..end]`, or `end`: eight bytes at a time (in
/// normalised text they are the only bytes below `!`).
#[inline]
fn separator_at_or_after(text: &[u8], mut from: usize, end: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    while from < end {
        let Some(eight) = text.get(from..from + 8) else { break };
        let x = u64::from_le_bytes(eight.try_into().expect("eight bytes"));
        // Bit 7 of the lowest byte below 0x21 is set (bytes above it may be wrong).
        let below = x.wrapping_sub(ONES * 0x21) & !x & (ONES * 0x80);
        if below != 0 {
            return (from + (below.trailing_zeros() / 8) as usize).min(end);
        }
        from += 8;
    }
    while from < end && !matches!(text[from], b' ' | b'\n') {
        from += 1;
    }
    from.min(end)
}

/// A compiled set of phrase rules. `line` and `start` rules are looked up by the hash of the
/// block's normalised text and of its first words (no scan); `contains` and `anywhere` rules
/// are found by their first word, the first only in short blocks.
#[derive(Debug, Clone, Default)]
pub struct PhraseRules {
    /// `line` rules by the key of their phrase ...
    lines: KeyMap<Vec<Rule>>,
    /// ... and those keys, for most blocks to be ruled out without a lookup (a filter: a few
    /// others pass too).
    line_keys: HashFilter,
    /// `heading` rules by the key of their phrase.
    headings: KeyMap<Vec<Rule>>,
    /// `start` rules by the key of their phrase.
    starts: KeyMap<Vec<Rule>>,
    /// Most words of a `start` phrase.
    start_max_words: usize,
    /// Word hashes of the first words of the `start` and `heading` phrases: a block whose first
    /// word is none of them needs no keys of its prefixes (a filter: a few others pass too).
    first_words: HashFilter,
    /// `contains` and `anywhere` rules, searched once over a whole page.
    phrases: Option<PhraseSet>,
}

impl PhraseRules {
    fn build(entries: Vec<(String, Rule)>) -> Self {
        let mut rules = PhraseRules::default();
        let mut phrases = Vec::new();
        for (phrase, rule) in entries {
            let key = key_of_normalized(&phrase).expect("phrases are not empty");
            match rule.how {
                How::Line => {
                    rules.line_keys.insert(key);
                    rules.lines.entry(key).or_default().push(rule);
                }
                How::Heading | How::Start => {
                    if let Some(hash) = first_word_hash(&phrase) {
                        rules.first_words.insert(hash);
                    }
                    let words = phrase.split(' ').count();
                    assert!(words <= MAX_START_WORDS, "start and heading phrases are checked when parsed");
                    rules.start_max_words = rules.start_max_words.max(words);
                    let map = if rule.how == How::Heading { &mut rules.headings } else { &mut rules.starts };
                    map.entry(key).or_default().push(rule);
                }
                How::Contains | How::Anywhere => phrases.push((phrase, rule)),
            }
        }
        rules.phrases = PhraseSet::build(phrases);
        rules
    }

    /// The first rule matching the normalised text `norm` (with block key `key`) of a block
    /// with `words` words on `host`: keep rules win over drop rules, and the most specific
    /// match over the others: `line`, `heading`, then `start` (longest phrase first), `contains`,
    /// `anywhere`.
    #[cfg(test)]
    fn find(&self, norm: &str, key: Option<u64>, words: u32, host: Option<&str>) -> Option<&Rule> {
        let found: Vec<&Rule> = self.phrases.iter().flat_map(|set| set.hits(norm)).collect();
        self.find_among(norm, key, words, host, found.iter().copied())
    }

    /// [`PhraseRules::find`] given the `contains` and `anywhere` rules whose phrases occur in
    /// the block (in the order they end), from a search over the whole page ([`PageHits`]).
    fn find_among<'r>(
        &'r self,
        norm: &str,
        key: Option<u64>,
        words: u32,
        host: Option<&str>,
        found: impl Iterator<Item = &'r Rule> + Clone,
    ) -> Option<&'r Rule> {
        // Filled only for the few blocks whose first word starts a phrase.
        let mut keys: [u64; MAX_START_WORDS];
        let prefixes: &[u64] = if words <= START_MAX_WORDS
            && first_word_hash(norm).is_some_and(|hash| self.first_words.may_contain(hash))
        {
            keys = [0; MAX_START_WORDS];
            let mut count = 0;
            for key in prefix_keys(norm, self.start_max_words) {
                keys[count] = key;
                count += 1;
            }
            &keys[..count]
        } else {
            &[]
        };
        let norm_words =
            if prefixes.is_empty() { 0 } else { memchr::memchr_iter(b' ', norm.as_bytes()).count() + 1 };
        let headings = prefixes
            .iter()
            .enumerate()
            .rev()
            .filter(|&(k, _)| norm_words <= k + 1 + HEADING_EXTRA_WORDS)
            .filter_map(|(_, prefix)| self.headings.get(prefix))
            .flatten();
        let starts = prefixes.iter().rev().filter_map(|prefix| self.starts.get(prefix)).flatten();
        let contains = found.clone().filter(|r| r.how == How::Contains && words <= CONTAINS_MAX_WORDS);
        let anywhere = found.filter(|r| r.how == How::Anywhere);
        let lines = key
            .filter(|&key| self.line_keys.may_contain(key))
            .and_then(|key| self.lines.get(&key))
            .into_iter()
            .flatten();
        let mut found = None;
        for rule in lines.chain(headings).chain(starts).chain(contains).chain(anywhere) {
            let too_long = matches!(rule.how, How::Start | How::Contains)
                && SHORT_FAMILIES.contains(&rule.family.as_ref())
                && words > SHORT_FAMILY_MAX_WORDS;
            if too_long || rule.host.as_deref().is_some_and(|h| Some(h) != host) {
                continue;
            }
            if rule.keep {
                return Some(rule);
            }
            found = found.or(Some(rule));
        }
        found
    }
}

impl PhraseSet {
    /// The rules whose phrase occurs in `norm` on word boundaries, in the order the matches
    /// end (the longest first among those that end together).
    #[cfg(test)]
    fn hits<'r>(&'r self, norm: &str) -> impl Iterator<Item = &'r Rule> + use<'r> {
        let mut found = Vec::new();
        self.scan(norm.as_bytes(), 0..norm.len(), false, |start, end, index| found.push((end, start, index)));
        found.sort_unstable();
        found.into_iter().map(move |(_, _, index)| &self.rules[index as usize])
    }

    /// Appends `(block, rule)` for every phrase found on word boundaries in a block of `page`
    /// (every block normalised, as [`crate::segment::segment`] leaves it) that `wanted` asks for:
    /// by block, and within a block in the order the matches end, the longest first among
    /// those that end together (as [`PhraseSet::hits`] finds them block by block). Each run of
    /// blocks that want the same phrases is one scan.
    fn page_hits(&self, page: &Segmented<'_>, wanted: impl Fn(usize) -> Wanted, out: &mut Vec<Hit>) {
        let text = page.normalized_page().as_bytes();
        let blocks = page.blocks.len();
        let mut first = 0;
        while first < blocks {
            let kind = wanted(first);
            let mut end = first + 1;
            while end < blocks && wanted(end) == kind {
                end += 1;
            }
            if kind != Wanted::Nothing {
                self.scan(
                    text,
                    page.normalized_span(first..end),
                    kind == Wanted::Anywhere,
                    |start, end, index| {
                        if let Some(block) = page.block_at(start) {
                            out.push(Hit { block: block as u32, end, start, rule: index });
                        }
                    },
                );
            }
            first = end;
        }
        out.sort_unstable();
    }

    /// [`PhraseSet::page_hits`] from the lead candidates [`WordWatcher`] found in `page` as it
    /// was normalised: the same hits, in the same order, without searching the page.
    fn page_hits_from_leads(
        &self,
        page: &Segmented<'_>,
        leads: &[LeadCandidate],
        wanted: impl Fn(usize) -> Wanted,
        out: &mut Vec<Hit>,
    ) {
        let text = page.normalized_page().as_bytes();
        for lead in leads {
            let block = lead.block as usize;
            let kind = wanted(block);
            if kind == Wanted::Nothing {
                continue;
            }
            let end = page.normalized_span(block..block + 1).end;
            self.compare(
                text,
                end,
                kind == Wanted::Anywhere,
                lead.lead,
                lead.start,
                lead.pair,
                &mut |start, end, rule| {
                    out.push(Hit { block: lead.block, end, start, rule });
                },
            );
        }
        out.sort_unstable();
    }
}

/// A phrase found in a block: its rule and where it ends and starts in the normalised page,
/// ordered as [`PhraseSet::page_hits`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Hit {
    block: u32,
    end: usize,
    start: usize,
    rule: u32,
}

/// Which of the `contains` and `anywhere` phrases [`PageHits::search`] looks for in a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// None: the block is gone already.
    Nothing,
    /// The `anywhere` phrases: the block is longer than [`CONTAINS_MAX_WORDS`].
    Anywhere,
    /// Both kinds.
    All,
}

impl Wanted {
    /// What a block with `words` words (as [`crate::features::Features::words`] counts them)
    /// needs searched, or nothing when it is `gone`.
    pub(crate) fn of(words: u32, gone: bool) -> Self {
        match (gone, words <= CONTAINS_MAX_WORDS) {
            (true, _) => Wanted::Nothing,
            (false, true) => Wanted::All,
            (false, false) => Wanted::Anywhere,
        }
    }
}

/// The `contains` and `anywhere` phrases found in each block of one page, by one search over
/// the whole page (or, for the built-in phrases, from the lead candidates found as the page
/// was normalised: [`PageHits::search_builtin`]): `(block, rule index)`, by block.
#[derive(Default)]
pub(crate) struct PageHits {
    hits: Vec<Hit>,
}

impl PageHits {
    /// Searches `page` for the phrases of `rules` that `wanted` asks for in each block.
    pub(crate) fn search(
        &mut self,
        rules: &PhraseRules,
        page: &Segmented<'_>,
        wanted: impl Fn(usize) -> Wanted,
    ) {
        self.hits.clear();
        if let Some(set) = &rules.phrases {
            set.page_hits(page, wanted, &mut self.hits);
        }
    }

    /// [`PageHits::search`] for the built-in phrases: from the lead candidates [`WordWatcher`]
    /// found as [`crate::segment::segment`] measured the page, or by a search of a page
    /// normalised apart.
    pub(crate) fn search_builtin(&mut self, page: &Segmented<'_>, wanted: impl Fn(usize) -> Wanted) {
        self.hits.clear();
        let Some(set) = &builtin().phrases else { return };
        match page.lead_candidates() {
            Some(leads) => set.page_hits_from_leads(page, leads, wanted, &mut self.hits),
            None => set.page_hits(page, wanted, &mut self.hits),
        }
    }

    /// [`PhraseRules::find`] for block `block` of the page searched last.
    pub(crate) fn find<'r>(
        &self,
        rules: &'r PhraseRules,
        block: usize,
        norm: &str,
        key: Option<u64>,
        words: u32,
        host: Option<&str>,
    ) -> Option<&'r Rule> {
        let from = self.hits.partition_point(|hit| (hit.block as usize) < block);
        let here = self.hits[from..].iter().take_while(move |hit| hit.block as usize == block);
        let found = here.filter_map(|hit| rules.phrases.as_ref().map(|set| &set.rules[hit.rule as usize]));
        rules.find_among(norm, key, words, host, found)
    }
}

/// Words that may follow a `heading` phrase in its block.
pub const HEADING_EXTRA_WORDS: usize = 4;

/// Most words of a `start` or `heading` phrase (the rules files are checked for it).
pub const MAX_START_WORDS: usize = 32;

/// The [`word_hash`] of the first word of normalised text (`None` for none): cheaper than its
/// key (an xxh3 call and a map lookup: 0.9% of a run's time), and enough to rule most blocks
/// out.
fn first_word_hash(norm: &str) -> Option<u64> {
    // A word is a few bytes: a loop finds its end in fewer instructions than a `memchr` call.
    let end = norm.bytes().position(|b| b == b' ').unwrap_or(norm.len());
    (end > 0).then(|| word_hash_at(norm.as_bytes(), 0..end, 0))
}

/// The keys of the first one, two, ... `max_words` words of normalised text.
fn prefix_keys(norm: &str, max_words: usize) -> impl Iterator<Item = u64> + '_ {
    let ends = memchr::memchr_iter(b' ', norm.as_bytes()).chain(std::iter::once(norm.len()));
    ends.take(max_words).filter_map(|end| key_of_normalized(&norm[..end]))
}

/// The family of the built-in rules that keep a block wherever it stands (a wire story's
/// "Reporting by ...; Editing by ..." line after the article).
pub(crate) const KEEP_FAMILY: &str = "article";

fn parse_builtin() -> Vec<(String, Rule)> {
    let mut out = Vec::new();
    let mut norm = String::new();
    for line in PHRASE_DATA.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut parts = line.splitn(3, "  ").map(str::trim);
        let (Some(family), Some(how), Some(phrase)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let how = match how {
            "line" => How::Line,
            "heading" => How::Heading,
            "start" => How::Start,
            "anywhere" => How::Anywhere,
            _ => How::Contains,
        };
        normalize_into(phrase, &mut norm);
        let family: &'static str = Box::leak(family.to_string().into_boxed_str());
        let keep = family == KEEP_FAMILY;
        out.push((norm.clone(), Rule { family: Cow::Borrowed(family), how, keep, host: None }));
    }
    out
}

/// The built-in rules, parsed and compiled once.
pub(crate) fn builtin() -> &'static PhraseRules {
    static RULES: OnceLock<PhraseRules> = OnceLock::new();
    RULES.get_or_init(|| PhraseRules::build(parse_builtin()))
}

/// One rule of a `--rules` file: a `phrase` (matched on normalised text, as `how` says) or a
/// `pattern` (a regular expression searched in the block's own text).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRule {
    phrase: Option<String>,
    pattern: Option<String>,
    how: Option<How>,
    host: Option<String>,
}

/// Most bytes a compiled `--rules` pattern may take (the regex crate's size limit): a pattern
/// that would build a bigger automaton is refused when the file is read.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// The `pattern` rules of a `--rules` file: regular expressions searched in each block's own
/// text (case and punctuation as written), in one pass over the block for all of them.
#[derive(Debug, Clone)]
pub(crate) struct PatternRules {
    set: regex::RegexSet,
    rules: Vec<Rule>,
}

impl PatternRules {
    /// The rule of a pattern found in `text` on `host`: a keep pattern wins over drop patterns;
    /// otherwise the first drop pattern in the file.
    pub(crate) fn find(&self, text: &str, host: Option<&str>) -> Option<&Rule> {
        let on_host = |rule: &&Rule| rule.host.as_deref().is_none_or(|h| Some(h) == host);
        let found = self.set.matches(text);
        let mut hits = found.iter().map(|i| &self.rules[i]).filter(on_host);
        let first = hits.next()?;
        if first.keep {
            return Some(first);
        }
        Some(hits.find(|rule| rule.keep).unwrap_or(first))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    drop: Vec<UserRule>,
    #[serde(default)]
    keep: Vec<UserRule>,
}

/// Drop and keep rules given by the user with `--rules` (TOML), applied before the built-in ones.
///
/// ```toml
/// [[drop]]
/// phrase = "Weather forecast"    # matched on normalised text
/// how = "line"                   # line | heading | start | contains (default) | anywhere
/// host = "example.com"           # optional: only pages of this site
///
/// [[drop]]
/// pattern = '^Photo: .+ / AFP$'  # a regular expression on the block's own text
///
/// [[keep]]
/// phrase = "Editor's note"
/// ```
#[derive(Debug, Default, Clone)]
pub struct UserRules {
    pub(crate) rules: Option<PhraseRules>,
    pub(crate) patterns: Option<PatternRules>,
}

impl UserRules {
    /// Reads and checks a rules file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let err = |message: String| ConfigError::Rules { path: path.to_path_buf(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::parse(&text).map_err(err)
    }

    /// Parses rules from TOML text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: RulesFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut entries = Vec::new();
        let (mut patterns, mut pattern_rules) = (Vec::new(), Vec::new());
        let mut norm = String::new();
        for (keep, list) in [(false, file.drop), (true, file.keep)] {
            for rule in list {
                let host = rule.host.map(|h| h.to_lowercase().trim_start_matches("www.").to_string());
                match (rule.phrase, rule.pattern) {
                    (Some(phrase), None) => {
                        let how = rule.how.unwrap_or(How::Contains);
                        normalize_into(&phrase, &mut norm);
                        if norm.is_empty() {
                            return Err(format!("phrase {phrase:?} has no letters or digits"));
                        }
                        if matches!(how, How::Start | How::Heading)
                            && norm.split(' ').count() > MAX_START_WORDS
                        {
                            return Err(format!(
                                "phrase {phrase:?}: a start or heading phrase may have at most {MAX_START_WORDS} words"
                            ));
                        }
                        let family = format!("user rule {phrase:?}");
                        entries.push((norm.clone(), Rule { family: Cow::Owned(family), how, keep, host }));
                    }
                    (None, Some(pattern)) => {
                        if rule.how.is_some() {
                            return Err(format!(
                                "pattern {pattern:?}: `how` is for phrases; anchor a pattern with ^ and $ instead"
                            ));
                        }
                        regex::RegexBuilder::new(&pattern)
                            .size_limit(PATTERN_SIZE_LIMIT)
                            .build()
                            .map_err(|e| format!("pattern {pattern:?}: {e}"))?;
                        let family = format!("user pattern {pattern:?}");
                        pattern_rules.push(Rule {
                            family: Cow::Owned(family),
                            how: How::Anywhere,
                            keep,
                            host,
                        });
                        patterns.push(pattern);
                    }
                    _ => return Err("each rule needs exactly one of `phrase` and `pattern`".to_string()),
                }
            }
        }
        let patterns = if patterns.is_empty() {
            None
        } else {
            let set = regex::RegexSetBuilder::new(&patterns)
                .size_limit(PATTERN_SIZE_LIMIT * patterns.len())
                .build()
                .map_err(|e| format!("patterns: {e}"))?;
            Some(PatternRules { set, rules: pattern_rules })
        };
        Ok(UserRules { rules: (!entries.is_empty()).then(|| PhraseRules::build(entries)), patterns })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::segment;

    #[test]
    fn a_lead_candidate_moves_to_its_new_place_through_its_bytes() {
        let lead = LeadCandidate { start: 105, lead: u64::MAX - 7, block: 3, pair: true };
        let bytes = lead.to_bytes(100);
        assert_eq!(
            LeadCandidate::from_bytes(&bytes, 40, 9),
            LeadCandidate { start: 45, lead: u64::MAX - 7, block: 9, pair: true }
        );
        let single = LeadCandidate { pair: false, ..lead };
        assert_eq!(
            LeadCandidate::from_bytes(&single.to_bytes(105), 0, 3),
            LeadCandidate { start: 0, ..single }
        );
    }

    #[test]
    fn the_lead_search_finds_what_an_automaton_finds_in_its_order() {
        // The reference: an Aho-Corasick automaton over every built-in contains and anywhere
        // phrase, its overlapping matches kept on word boundaries (in the order they end, the
        // longest first among those that end together).
        let set = builtin().phrases.as_ref().expect("built-in phrases");
        let automaton = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::Standard)
            .build(&set.phrases)
            .unwrap();
        let reference = |text: &str, anywhere_only: bool| -> Vec<u32> {
            let bytes = text.as_bytes();
            let boundary = |i: usize| i == 0 || i == bytes.len() || matches!(bytes[i], b' ' | b'\n');
            let boundary_before = |i: usize| i == 0 || matches!(bytes[i - 1], b' ' | b'\n');
            automaton
                .find_overlapping_iter(text)
                .filter(|m| boundary_before(m.start()) && boundary(m.end()))
                .map(|m| m.pattern().as_u32())
                .filter(|&i| !anywhere_only || set.rules[i as usize].how == How::Anywhere)
                .collect()
        };
        // Words of the phrases, some split and joined, mixed by a fixed xorshift sequence into
        // normalised text: runs of phrases, overlapping phrases, phrases inside longer words.
        let mut words: Vec<&str> = set.phrases.iter().flat_map(|p| p.split(' ')).collect();
        words.extend([
            "all",
            "rights",
            "reserved",
            "comments",
            "are",
            "moderated",
            "0",
            "x",
            "rightsreserved",
        ]);
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut matched = 0;
        for round in 0..4000u64 {
            let mut text = String::new();
            for _ in 0..(round % 30) {
                let state = crate::testing::next(&mut state);
                if !text.is_empty() {
                    text.push(if state.is_multiple_of(17) { '\n' } else { ' ' });
                }
                if state.is_multiple_of(5) {
                    text.push_str(&set.phrases[(state >> 8) as usize % set.phrases.len()]);
                } else {
                    text.push_str(words[(state >> 8) as usize % words.len()]);
                }
            }
            if round.is_multiple_of(7) {
                text.push_str("ab");
            }
            for anywhere_only in [false, true] {
                let mut found = Vec::new();
                set.scan(text.as_bytes(), 0..text.len(), anywhere_only, |start, end, index| {
                    found.push((end, start, index))
                });
                found.sort_unstable();
                let found: Vec<u32> = found.into_iter().map(|(_, _, index)| index).collect();
                assert_eq!(found, reference(&text, anywhere_only), "{text:?}");
                matched += found.len();
            }
        }
        assert!(matched > 1000, "the texts hold phrases ({matched} found)");
    }

    #[test]
    fn each_rule_kind_matches_where_it_says() {
        let rules = UserRules::parse(
            "[[drop]]\nphrase = \"read more\"\nhow = \"start\"\n\
             [[drop]]\nphrase = \"weather\"\nhow = \"line\"\n\
             [[drop]]\nphrase = \"click here\"\nhow = \"contains\"\n\
             [[drop]]\nphrase = \"more on this\"\nhow = \"heading\"\n",
        )
        .unwrap()
        .rules
        .unwrap();
        let family = |text: &str| {
            let mut norm = String::new();
            normalize_into(text, &mut norm);
            let words = norm.split(' ').count() as u32;
            rules.find(&norm, key_of_normalized(&norm), words, None).map(|r| r.family.to_string())
        };
        assert_eq!(family("Read more: the full story").as_deref(), Some("user rule \"read more\""));
        assert_eq!(family("Read moreover"), None, "a start phrase ends on a word boundary");
        assert_eq!(family("We read more books"), None);
        assert_eq!(family("Weather!").as_deref(), Some("user rule \"weather\""));
        assert_eq!(family("Weather today"), None);
        assert_eq!(family("Please click here now").as_deref(), Some("user rule \"click here\""));
        assert_eq!(family("Please clicker here"), None);
        let heading = Some("user rule \"more on this\"");
        assert_eq!(family("More on this").as_deref(), heading);
        assert_eq!(family("More on this at example.com").as_deref(), heading);
        assert_eq!(family("More on this story from all of our team"), None, "at most 4 words after");
        assert_eq!(family("We want more on this"), None);
    }

    #[test]
    fn one_search_over_the_page_finds_what_a_search_of_each_block_finds() {
        // A phrase split over two blocks is no match; one inside a block is, wherever it is.
        let text = "All rights\nreserved\n© 2020 Example News. All rights reserved.\n\
                    Comments are moderated and your email address will not be published\n\
                    Short line\nall rights reserved";
        let page = segment(text);
        let mut hits = PageHits::default();
        hits.search_builtin(&page, |_| Wanted::All);
        let mut named = Vec::new();
        for (index, block) in page.blocks.iter().enumerate() {
            let norm = page.normalized(index);
            let words = norm.split(' ').count() as u32;
            let whole = hits.find(builtin(), index, norm, block.key, words, None).map(|r| &r.family);
            let alone = builtin().find(norm, block.key, words, None).map(|r| &r.family);
            assert_eq!(whole, alone, "block {index}: {norm}");
            named.push(whole.map(|f| f.to_string()));
        }
        assert_eq!(named[0], None);
        assert_eq!(named[1], None);
        assert_eq!(named[2].as_deref(), Some("copyright"));
        assert!(named[3].is_some());
        assert_eq!(named[5].as_deref(), Some("copyright"));
    }

    #[test]
    fn the_leads_found_while_normalising_give_the_hits_of_a_search() {
        // Raw text made of the phrases' words in mixed case, with punctuation, apostrophes,
        // digits and long words, lines and paragraphs: the hits from the leads `segment` found
        // are the hits of a search of the normalised page, whatever each block wants.
        let set = builtin().phrases.as_ref().expect("built-in phrases");
        let mut words: Vec<String> =
            set.phrases.iter().flat_map(|p| p.split(' ')).map(String::from).collect();
        words.extend(
            ["All", "RIGHTS", "Reserved.", "don't", "2024", "e-mail", "x", "Überall", "—"].map(String::from),
        );
        words.push("a".repeat(40));
        let mut state = 0x5DEE_CE66_D1CE_4E5Bu64;
        let mut compared = 0;
        for round in 0..600 {
            let mut text = String::new();
            for _ in 0..(round % 80) {
                let r = crate::testing::next(&mut state);
                if !text.is_empty() {
                    text.push_str(match r % 23 {
                        0 => "\n\n",
                        1..=3 => "\n",
                        4 => ", ",
                        _ => " ",
                    });
                }
                if r.is_multiple_of(7) {
                    text.push_str(&set.phrases[(r >> 8) as usize % set.phrases.len()].to_uppercase());
                } else {
                    text.push_str(&words[(r >> 8) as usize % words.len()]);
                }
            }
            let page = segment(&text);
            let leads = page.lead_candidates().expect("segment measures every block");
            let kinds: Vec<Wanted> = (0..page.blocks.len())
                .map(|_| match crate::testing::next(&mut state) % 3 {
                    0 => Wanted::Nothing,
                    1 => Wanted::Anywhere,
                    _ => Wanted::All,
                })
                .collect();
            let (mut from_leads, mut searched) = (Vec::new(), Vec::new());
            set.page_hits_from_leads(&page, leads, |b| kinds[b], &mut from_leads);
            set.page_hits(&page, |b| kinds[b], &mut searched);
            assert_eq!(from_leads, searched, "{text:?}");
            compared += searched.len();
        }
        assert!(compared > 1000, "the pages hold phrases ({compared} hits)");
    }

    #[test]
    fn the_most_specific_rule_names_the_block() {
        let rules = UserRules::parse(
            "[[drop]]\nphrase = \"plus populaires\"\nhow = \"contains\"\n\
             [[drop]]\nphrase = \"les plus\"\nhow = \"start\"\n\
             [[drop]]\nphrase = \"les plus populaires\"\nhow = \"line\"\n",
        )
        .unwrap()
        .rules
        .unwrap();
        let norm = "les plus populaires";
        let rule = rules.find(norm, key_of_normalized(norm), 3, None).unwrap();
        assert_eq!(rule.how, How::Line);
        let norm = "les plus lus";
        assert_eq!(rules.find(norm, key_of_normalized(norm), 3, None).unwrap().how, How::Start);
    }

    #[test]
    fn patterns_match_the_blocks_own_text_and_a_keep_wins() {
        let rules = UserRules::parse(
            "[[drop]]\npattern = '^Photo: .+ / AFP$'\n\
             [[drop]]\npattern = '(?i)sponsored'\nhost = \"a.com\"\n\
             [[keep]]\npattern = 'AFP / keep$'\n",
        )
        .unwrap();
        let patterns = rules.patterns.unwrap();
        let family = |text: &str, host: Option<&str>| {
            patterns.find(text, host).map(|r| (r.family.to_string(), r.keep))
        };
        assert_eq!(
            family("Photo: Jane Doe / AFP", None),
            Some(("user pattern \"^Photo: .+ / AFP$\"".into(), false))
        );
        assert_eq!(family("photo: Jane Doe / AFP", None), None, "case as written");
        assert_eq!(family("A SPONSORED post", Some("a.com")).map(|f| f.1), Some(false));
        assert_eq!(family("A SPONSORED post", Some("b.com")), None, "only on its host");
        assert_eq!(family("Photo: x / AFP / keep", None).map(|f| f.1), Some(true), "a keep wins");
    }

    #[test]
    fn bad_rules_files_are_refused() {
        assert!(UserRules::parse("[[drop]]\npattern = '(unclosed'\n").unwrap_err().contains("(unclosed"));
        assert!(UserRules::parse("[[drop]]\nphrase = 'x'\npattern = 'x'\n")
            .unwrap_err()
            .contains("exactly one"));
        assert!(UserRules::parse("[[drop]]\nhost = 'a.com'\n").unwrap_err().contains("exactly one"));
        assert!(UserRules::parse("[[drop]]\npattern = 'x'\nhow = 'line'\n").unwrap_err().contains("`how`"));
        assert!(UserRules::parse("[[drop]]\nphrase = \"--\"\n").is_err());
        assert!(UserRules::parse("[[drop]]\nphras = \"x\"\n").is_err());
        let long = format!("[[drop]]\nphrase = \"{}\"\nhow = \"start\"\n", "word ".repeat(33));
        assert!(UserRules::parse(&long).unwrap_err().contains("at most 32 words"));
    }
}
