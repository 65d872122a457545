//! Fixed, documented hashes of text: normalised block keys, word shingles and simhash.
//!
//! Block keys and the hash of a text too short for a shingle are xxh3-64 with seed [`SEED`]; a
//! shingle's hash is mixed from its words' hashes (`shingle_of`), the word hash behind the
//! stopword and phrase tables, so the normaliser can shingle a block as it writes it. All are
//! fixed functions, the same in every process and on every machine. Normalisation (lower case, every digit to `0`, punctuation and symbols
//! removed, white space folded) follows CCNet's line hashing.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::sync::OnceLock;

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of every xxh3 hash that textsift computes.
pub const SEED: u64 = 0x7465_7874_7369_6674; // "textsift"

/// Words per shingle for near-duplicate fingerprints.
pub const SHINGLE_WORDS: usize = 3;

/// Writes the normalised form of `text` into `out` (cleared first): lower case, digits as `0`,
/// alphanumeric words separated by one space, everything else dropped.
///
/// ```
/// let mut out = String::new();
/// textsift::fingerprint::normalize_into("  Hello,  WORLD! 2025 ", &mut out);
/// assert_eq!(out, "hello world 0000");
/// ```
pub fn normalize_into(text: &str, out: &mut String) {
    let mut buf = std::mem::take(out).into_bytes();
    buf.clear();
    normalize_append(text, &mut buf);
    *out = crate::decode::utf8_string(buf).expect("built from whole characters");
}

/// Appends the normalised form of `text` (see [`normalize_into`]) to `out` as UTF-8 bytes;
/// returns its number of words (what it appended is that many words, one space apart).
pub fn normalize_append(text: &str, out: &mut Vec<u8>) -> usize {
    let mut writer = NormalWriter::new(out, text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !b.is_ascii() {
            let c = text[i..].chars().next().expect("i is at a char boundary");
            i += c.len_utf8();
            writer.char(c, CharProps::of(c));
            continue;
        }
        if ASCII_NORMAL[usize::from(b)] > ASCII_JOIN && bytes.len() - i >= 8 {
            // A run of letters and digits, eight bytes at a time.
            writer.space_before_word();
            while let Some(eight) = bytes.get(i..i + 8) {
                let x = u64::from_le_bytes(eight.try_into().expect("eight bytes"));
                let lanes = AsciiLanes::of(x);
                let ends = !(lanes.letter | lanes.digit) & LANE_HIGH;
                let taken = (ends.trailing_zeros() / 8) as usize;
                writer.alphanumeric_chunk(x, &lanes, taken);
                i += taken;
                if ends != 0 {
                    break;
                }
            }
            continue;
        }
        // A separator, an apostrophe, or a letter or digit too near the end for eight bytes.
        writer.ascii(b);
        i += 1;
    }
    writer.finish()
}

/// What a scan of a block's text that finds its words for other ends
/// ([`crate::features::measure`]) is told of each byte, so that it normalises the block as it
/// goes, as [`normalize_append`] would, without a pass of its own.
pub(crate) trait NormalSink {
    /// `taken` (at most 8) bytes that the scan read as `x`, little-endian, whose `lanes` say
    /// they are all ASCII letters, digits, apostrophes or hyphens.
    fn word_chunk(&mut self, x: u64, lanes: &AsciiLanes, taken: usize);
    /// One ASCII byte.
    fn ascii(&mut self, b: u8);
    /// An ASCII byte that is no letter, digit or apostrophe.
    fn split(&mut self);
    /// A character outside ASCII, with its properties.
    fn char(&mut self, c: char, props: CharProps);
}

/// A [`NormalSink`] that normalises nothing.
pub(crate) struct NoNormal;

impl NormalSink for NoNormal {
    #[inline(always)]
    fn word_chunk(&mut self, _: u64, _: &AsciiLanes, _: usize) {}
    #[inline(always)]
    fn ascii(&mut self, _: u8) {}
    #[inline(always)]
    fn split(&mut self) {}
    #[inline(always)]
    fn char(&mut self, _: char, _: CharProps) {}
}

/// Told each word a [`NormalWriter`] has written, when the next one starts or the text ends:
/// work a word that reads the normalised bytes while they are at hand (the phrase rules' lead
/// probes and the block's shingles: [`crate::page::rules::WordWatcher`]).
pub(crate) trait WordObserver {
    /// The word `out[word]`, written and final (`out` may hold more bytes after it).
    fn word(&mut self, out: &[u8], word: Range<usize>);
}

/// A [`WordObserver`] that observes nothing.
pub(crate) struct NoWords;

impl WordObserver for NoWords {
    #[inline(always)]
    fn word(&mut self, _: &[u8], _: Range<usize>) {}
}

impl<W: WordObserver> WordObserver for &mut W {
    #[inline(always)]
    fn word(&mut self, out: &[u8], word: Range<usize>) {
        (**self).word(out, word);
    }
}

/// A [`NormalSink`] that appends a text's normalised form to a buffer (see [`normalize_into`]),
/// when it is told every byte of the text in order: [`normalize_append`] tells it by itself,
/// [`crate::features::measure`] as it measures the text. It tells `words` each word it wrote.
pub(crate) struct NormalWriter<'a, W: WordObserver = NoWords> {
    out: &'a mut Vec<u8>,
    start: usize,
    n: usize,
    pending_space: bool,
    spaces: usize,
    words: W,
    /// Where the word being written starts.
    word_start: usize,
}

impl<'a> NormalWriter<'a> {
    /// A writer appending the normalised form of a text of `text_len` bytes to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>, text_len: usize) -> Self {
        Self::with_words(out, text_len, NoWords)
    }
}

impl<'a, W: WordObserver> NormalWriter<'a, W> {
    /// [`NormalWriter::new`], telling `words` each word written.
    pub(crate) fn with_words(out: &'a mut Vec<u8>, text_len: usize, words: W) -> Self {
        let start = out.len();
        // The output never outgrows 3/2 of the input: a separator writes nothing and pays for
        // the one space it may cause, and lower-casing grows a character by at most half (Ⱥ to
        // ⱥ).
        out.resize(start + text_len + text_len / 2 + 4, 0);
        NormalWriter { out, start, n: start, pending_space: false, spaces: 0, words, word_start: start }
    }

    /// Ends the text: the words appended (as [`normalize_append`] returns).
    pub(crate) fn finish(mut self) -> usize {
        if self.n > self.start {
            self.words.word(self.out, self.word_start..self.n);
        }
        self.out.truncate(self.n);
        if self.n > self.start {
            self.spaces + 1
        } else {
            0
        }
    }

    /// Writes the space a separator left pending, before a word's character.
    #[inline(always)]
    fn space_before_word(&mut self) {
        if self.pending_space && self.n > self.start {
            // A word is written between two spaces (or the start and a space).
            self.words.word(self.out, self.word_start..self.n);
            self.out[self.n] = b' ';
            self.n += 1;
            self.spaces += 1;
            self.word_start = self.n;
        }
        self.pending_space = false;
    }

    /// `taken` (at most 8) bytes read as `x`, little-endian, whose `lanes` say they are all ASCII
    /// letters and digits, after the space before their word: written eight at a time (when
    /// there is room), letters lower-cased by setting bit 5, digits written as `0`.
    #[inline(always)]
    fn alphanumeric_chunk(&mut self, x: u64, lanes: &AsciiLanes, taken: usize) {
        match self.out.get_mut(self.n..self.n + 8) {
            Some(into) => {
                let whole_bytes = |lane: u64| (lane >> 7) * 0xFF;
                let mapped = ((x | 0x2020_2020_2020_2020) & whole_bytes(lanes.letter))
                    | (0x3030_3030_3030_3030 & whole_bytes(lanes.digit));
                into.copy_from_slice(&mapped.to_le_bytes());
                self.n += taken;
            }
            None => {
                for &b in &x.to_le_bytes()[..taken] {
                    self.ascii(b);
                }
            }
        }
    }
}

impl<W: WordObserver> NormalSink for NormalWriter<'_, W> {
    #[inline(always)]
    fn word_chunk(&mut self, x: u64, lanes: &AsciiLanes, taken: usize) {
        if taken == 0 {
            return;
        }
        let taken_lanes = LANE_HIGH & (u64::MAX >> (64 - 8 * taken));
        if (lanes.apostrophe | lanes.hyphen) & taken_lanes == 0 {
            self.space_before_word();
            self.alphanumeric_chunk(x, lanes, taken);
        } else {
            for &b in &x.to_le_bytes()[..taken] {
                self.ascii(b);
            }
        }
    }

    #[inline(always)]
    fn ascii(&mut self, b: u8) {
        let mapped = ASCII_NORMAL[usize::from(b & 0x7F)];
        if mapped <= ASCII_JOIN {
            self.pending_space |= mapped == ASCII_SPLIT;
            return;
        }
        self.space_before_word();
        self.out[self.n] = mapped;
        self.n += 1;
    }

    #[inline(always)]
    fn split(&mut self) {
        self.pending_space = true;
    }

    #[inline(always)]
    fn char(&mut self, c: char, props: CharProps) {
        if props.alphanumeric() {
            self.space_before_word();
            let n = self.n;
            if props.numeric() {
                self.out[n] = b'0';
                self.n += 1;
            } else if props.lowercase() || !props.uppercase() {
                self.n += c.encode_utf8(&mut self.out[n..]).len();
            } else {
                for lower in c.to_lowercase() {
                    let n = self.n;
                    self.n += lower.encode_utf8(&mut self.out[n..]).len();
                }
            }
        } else if !is_joiner(c) {
            self.pending_space = true;
        }
    }
}

/// Bit 7 of every byte of a `u64`.
pub(crate) const LANE_HIGH: u64 = 0x8080_8080_8080_8080;

/// Which of eight bytes (read little-endian into a `u64`) are ASCII letters, digits,
/// apostrophes and hyphens: bit 7 of each byte says (SWAR compares, no branches). Bytes of
/// 0x80 and above are none of these.
pub(crate) struct AsciiLanes {
    pub letter: u64,
    pub digit: u64,
    pub apostrophe: u64,
    pub hyphen: u64,
}

impl AsciiLanes {
    /// The lanes of the eight bytes `x`.
    #[inline]
    pub fn of(x: u64) -> Self {
        const fn lanes(b: u8) -> u64 {
            0x0101_0101_0101_0101 * b as u64
        }
        // Bit 7 where a 7-bit lane `t` lies in lo..=hi: the adds never carry out of a lane.
        let in_range = |t: u64, lo: u8, hi: u8| (t + lanes(0x80 - lo)) & !(t + lanes(0x7F - hi)) & LANE_HIGH;
        let seven = x & !LANE_HIGH;
        let ascii = !x & LANE_HIGH;
        AsciiLanes {
            letter: in_range(seven | lanes(0x20), b'a', b'z') & ascii,
            digit: in_range(seven, b'0', b'9') & ascii,
            apostrophe: in_range(seven, b'\'', b'\'') & ascii,
            hyphen: in_range(seven, b'-', b'-') & ascii,
        }
    }
}

/// [`word_hash`] of the word `text[word]`: a word of up to sixteen bytes is read in one load
/// for each eight when they are in `text`.
#[inline(always)]
pub(crate) fn word_hash_at(text: &[u8], word: Range<usize>, fold: u8) -> u64 {
    let len = word.len();
    let folds = u64::from_ne_bytes([fold; 8]);
    // Eight bytes from `at`, each OR-ed with `fold`.
    let load = |at: usize| {
        text.get(at..at + 8).map(|eight| u64::from_le_bytes(eight.try_into().expect("eight")) | folds)
    };
    // The low `bytes` bytes (1 to 8) of a load.
    let low = |bytes: usize| u64::MAX >> (64 - 8 * bytes);
    if len <= 8 {
        if let Some(first) = load(word.start) {
            return mix_chunk(WORD_HASH_K ^ len as u64, first & low(len));
        }
    } else if len <= 16 {
        if let (Some(first), Some(second)) = (load(word.start), load(word.start + 8)) {
            return mix_chunk(mix_chunk(WORD_HASH_K ^ len as u64, first), second & low(len - 8));
        }
    }
    word_hash(&text[word], fold)
}

/// A set of hashes that may say "maybe" of a hash not in it: one bit a hash, from its high bits,
/// in 4 KB that stay in the L1 cache, so most lookups of absent keys end without reading the
/// map it stands before (with 2,900 hashes in it, 8.5% of the others pass).
#[derive(Debug, Clone)]
pub(crate) struct HashFilter(Box<[u64; HASH_FILTER_WORDS]>);

/// Words of a [`HashFilter`].
const HASH_FILTER_WORDS: usize = 512;

impl Default for HashFilter {
    fn default() -> Self {
        HashFilter(Box::new([0; HASH_FILTER_WORDS]))
    }
}

impl HashFilter {
    /// Adds `hash`.
    pub fn insert(&mut self, hash: u64) {
        let (word, bit) = Self::place(hash);
        self.0[word] |= bit;
    }

    /// False when `hash` was never added; true when it was, and for a few others.
    #[inline]
    pub fn may_contain(&self, hash: u64) -> bool {
        let (word, bit) = Self::place(hash);
        self.0[word] & bit != 0
    }

    /// The word and bit of `hash` (its high bits: a map keyed by the hash probes from the low).
    #[inline]
    fn place(hash: u64) -> (usize, u64) {
        ((hash >> 55) as usize % HASH_FILTER_WORDS, 1 << ((hash >> 49) % 64))
    }
}

/// Multiplier of [`word_hash`].
const WORD_HASH_K: u64 = 0x9E37_79B9_7F4A_7C15;

/// One step of [`word_hash`]: mixes eight packed bytes into `hash`.
#[inline]
fn mix_chunk(hash: u64, packed: u64) -> u64 {
    let hash = (hash ^ packed).wrapping_mul(WORD_HASH_K);
    hash ^ (hash >> 32)
}

/// The hash of a word's bytes, each first OR-ed with `fold` (`0x20` lower-cases an ASCII word
/// of letters, digits, `'` and `-`): eight bytes at a time into one multiply, so a word of up
/// to eight bytes costs one (and no two such words share a hash). For lookups in tables built
/// in this process (stopwords, phrase rules); not a fixed, documented hash.
#[inline]
pub(crate) fn word_hash(bytes: &[u8], fold: u8) -> u64 {
    let folds = u64::from_ne_bytes([fold; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut hash = WORD_HASH_K ^ bytes.len() as u64;
    for chunk in &mut chunks {
        hash = mix_chunk(hash, u64::from_le_bytes(chunk.try_into().expect("eight bytes")) | folds);
    }
    match chunks.remainder() {
        [] => hash,
        rest => mix_chunk(hash, rest.iter().rev().fold(0u64, |v, &b| (v << 8) | u64::from(b | fold))),
    }
}

/// [`ASCII_NORMAL`] entry of a byte that separates words.
const ASCII_SPLIT: u8 = 0;
/// [`ASCII_NORMAL`] entry of a byte that is dropped inside a word (the apostrophe).
const ASCII_JOIN: u8 = 1;
/// What [`normalize_into`] writes for each ASCII byte: the lower-case letter, `0` for a digit,
/// or [`ASCII_SPLIT`] / [`ASCII_JOIN`].
static ASCII_NORMAL: [u8; 128] = {
    let mut table = [ASCII_SPLIT; 128];
    let mut b = 0u8;
    while b < 128 {
        if b.is_ascii_digit() {
            table[b as usize] = b'0';
        } else if b.is_ascii_alphabetic() {
            table[b as usize] = b.to_ascii_lowercase();
        }
        b += 1;
    }
    table[b'\'' as usize] = ASCII_JOIN;
    table
};

/// `char::is_alphanumeric`, answered from a table for most characters of running text.
#[inline]
pub fn is_alphanumeric(c: char) -> bool {
    CharProps::of(c).alphanumeric()
}

/// Characters below this code point have their [`CharProps`] in tables: the alphabets
/// (Latin, Greek, Cyrillic, Hebrew, Arabic, the Indic scripts, Thai), punctuation, symbols and
/// the Japanese kana.
const SMALL_CHARS: usize = 0x3100;

/// Characters a table of [`CharProps::of`] holds: each is filled the first time one of its
/// characters is asked for. Filling all 49 at once took 12.7 million instructions (about 4 ms,
/// two thirds of a one-page run); a page of one script fills a few.
const CHARS_A_TABLE: usize = 256;

/// The Unicode properties of a character that the byte scans ask for (alphanumeric, numeric,
/// lower and upper case, white space): below [`SMALL_CHARS`] read from tables filled from the
/// std tables as they are needed (256 characters each, 12 KB in all), for the CJK ideographs
/// and Hangul syllables known (letters without case), and for the rest asked of the std tables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CharProps(u8);

impl CharProps {
    const ALPHANUMERIC: u8 = 1;
    const NUMERIC: u8 = 2;
    const LOWERCASE: u8 = 4;
    const UPPERCASE: u8 = 8;
    const WHITESPACE: u8 = 16;

    /// The properties of `c`.
    #[inline]
    pub fn of(c: char) -> Self {
        static SMALL: [OnceLock<[u8; CHARS_A_TABLE]>; SMALL_CHARS / CHARS_A_TABLE] =
            [const { OnceLock::new() }; SMALL_CHARS / CHARS_A_TABLE];
        let code = c as usize;
        let table = SMALL.get(code / CHARS_A_TABLE).map(|table| {
            table.get_or_init(|| {
                let first = code / CHARS_A_TABLE * CHARS_A_TABLE;
                std::array::from_fn(|offset| {
                    char::from_u32((first + offset) as u32).map_or(0, |c| Self::from_tables(c).0)
                })
            })
        });
        match table {
            Some(table) => CharProps(table[code % CHARS_A_TABLE]),
            None if matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7A3}') => {
                CharProps(Self::ALPHANUMERIC)
            }
            None => Self::from_tables(c),
        }
    }

    fn from_tables(c: char) -> Self {
        let flag = |set: bool, flag: u8| if set { flag } else { 0 };
        CharProps(
            flag(c.is_alphanumeric(), Self::ALPHANUMERIC)
                | flag(c.is_numeric(), Self::NUMERIC)
                | flag(c.is_lowercase(), Self::LOWERCASE)
                | flag(c.is_uppercase(), Self::UPPERCASE)
                | flag(c.is_whitespace(), Self::WHITESPACE),
        )
    }

    /// `char::is_alphanumeric`.
    pub fn alphanumeric(self) -> bool {
        self.0 & Self::ALPHANUMERIC != 0
    }

    /// `char::is_numeric`.
    pub fn numeric(self) -> bool {
        self.0 & Self::NUMERIC != 0
    }

    /// `char::is_lowercase`.
    pub fn lowercase(self) -> bool {
        self.0 & Self::LOWERCASE != 0
    }

    /// `char::is_uppercase`.
    pub fn uppercase(self) -> bool {
        self.0 & Self::UPPERCASE != 0
    }

    /// `char::is_whitespace`.
    pub fn whitespace(self) -> bool {
        self.0 & Self::WHITESPACE != 0
    }
}

/// Marks inside words that neither split nor count: apostrophes, combining marks, joiners.
fn is_joiner(c: char) -> bool {
    matches!(c, '\'' | '’' | '\u{200C}' | '\u{200D}') || is_combining(c)
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
        || (c as u32 >= 0x0900 && c as u32 <= 0x0DFF && !is_alphanumeric(c))
}

/// The hash of a block's normalised text; `None` when nothing alphanumeric is left.
pub fn block_key(text: &str, scratch: &mut String) -> Option<u64> {
    normalize_into(text, scratch);
    key_of_normalized(scratch)
}

/// The block key of already normalised text (see [`block_key`]).
#[inline]
pub fn key_of_normalized(normalized: &str) -> Option<u64> {
    key_of_bytes(normalized.as_bytes())
}

/// [`key_of_normalized`] of normalised text as bytes.
#[inline]
pub fn key_of_bytes(normalized: &[u8]) -> Option<u64> {
    if normalized.is_empty() {
        None
    } else {
        // Never 0, so that 0 can stand for "no key" in compact tables.
        Some(xxh3_64_with_seed(normalized, SEED).max(1))
    }
}

/// Calls `emit` with the hash of every `SHINGLE_WORDS`-word shingle of already normalised text
/// (see [`normalize_into`]). Text shorter than a shingle yields one hash of the whole text.
/// Scripts written without spaces (CJK) are shingled by characters instead of words.
pub fn for_each_shingle(normalized: &str, mut emit: impl FnMut(u64)) {
    if normalized.is_empty() {
        return;
    }
    let bytes = normalized.as_bytes();
    // Every unspaced script lies above U+0800, so text without a lead byte of 3 or 4 bytes has
    // only space-separated tokens.
    if !has_long_lead(bytes) {
        for_each_spaced_shingle(bytes, emit);
        return;
    }
    let mut ring = ShingleRing::default();
    let mut token_start = None;
    let mut token = |token: Range<usize>, ring: &mut ShingleRing| {
        if let Some(shingle) = ring.token(word_hash_at(bytes, token, 0)) {
            emit(shingle);
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b' ' {
            if let Some(start) = token_start.take() {
                token(start..i, &mut ring);
            }
            i += 1;
            continue;
        }
        if b.is_ascii() {
            if token_start.is_none() {
                token_start = Some(i);
            }
            i += 1;
            continue;
        }
        let c = normalized[i..].chars().next().expect("i is at a char boundary");
        if is_unspaced_script(c) {
            if let Some(start) = token_start.take() {
                token(start..i, &mut ring);
            }
            token(i..i + c.len_utf8(), &mut ring);
        } else if token_start.is_none() {
            token_start = Some(i);
        }
        i += c.len_utf8();
    }
    if let Some(start) = token_start {
        token(start..bytes.len(), &mut ring);
    }
    if let Some(whole) = ring.short_text(bytes) {
        emit(whole);
    }
}

/// Whether `bytes` hold a lead byte of a 3- or 4-byte character (0xE0 and above), where every
/// unspaced script lies: eight bytes at a time.
#[inline]
pub(crate) fn has_long_lead(bytes: &[u8]) -> bool {
    // Bit 7 of a byte whose top three bits are set (the shifts move bits 6 and 5 of each byte
    // to its bit 7; what crosses into the next byte lands below its bit 7).
    let long = |x: u64| x & (x << 1) & (x << 2) & LANE_HIGH != 0;
    let mut chunks = bytes.chunks_exact(8);
    let found = chunks.any(|eight| long(u64::from_le_bytes(eight.try_into().expect("eight bytes"))));
    found || chunks.remainder().iter().any(|&b| b >= 0xE0)
}

/// The hash of a shingle from the hashes of its three tokens ([`word_hash`]), in order: a
/// polynomial in them, then a finaliser that spreads every bit (the word hash is one multiply).
#[inline]
pub(crate) fn shingle_of(first: u64, second: u64, third: u64) -> u64 {
    const K1: u64 = 0x9E37_79B9_7F4A_7C15;
    const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;
    let mut h = first.wrapping_mul(K1).wrapping_add(second).wrapping_mul(K2).wrapping_add(third);
    // MurmurHash3's 64-bit finaliser.
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// The last two token hashes of a text being shingled: told each token's hash in order, it
/// gives a shingle for every token from the third on ([`for_each_shingle`], and the normaliser's
/// word observer, which shingles a block as it writes it).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ShingleRing {
    previous: [u64; 2],
    tokens: usize,
}

impl ShingleRing {
    /// The next token, by its hash: the shingle it ends, from the third token on.
    #[inline]
    pub(crate) fn token(&mut self, hash: u64) -> Option<u64> {
        let shingle =
            (self.tokens >= SHINGLE_WORDS - 1).then(|| shingle_of(self.previous[0], self.previous[1], hash));
        self.previous = [self.previous[1], hash];
        self.tokens += 1;
        shingle
    }

    /// After the last token of the (non-empty) normalised `text`: its one hash when it had
    /// fewer tokens than a shingle.
    pub(crate) fn short_text(&self, text: &[u8]) -> Option<u64> {
        (self.tokens < SHINGLE_WORDS).then(|| xxh3_64_with_seed(text, SEED))
    }
}

/// The first space in `bytes[from..]`, or `bytes.len()`: eight bytes at a time, which for
/// the few bytes of a word costs less than a SIMD search set up anew for each word. (The phrase
/// search's `separator_at_or_after` also stops at `\n` and at a bound; shingling with it
/// instead measured 5% slower, `stages/shingles_simhash` 15.1 against 15.8 ms.)
#[inline]
pub(crate) fn space_at_or_after(bytes: &[u8], mut from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    while let Some(eight) = bytes.get(from..from + 8) {
        let x = u64::from_le_bytes(eight.try_into().expect("eight bytes")) ^ (ONES * u64::from(b' '));
        // Bit 7 of the lowest zero byte (a space) is set; bits above it may be wrong.
        let zero = x.wrapping_sub(ONES) & !x & (ONES * 0x80);
        if zero != 0 {
            return from + (zero.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    bytes[from..].iter().position(|&b| b == b' ').map_or(bytes.len(), |at| from + at)
}

/// [`for_each_shingle`] of text whose tokens are all separated by spaces.
fn for_each_spaced_shingle(bytes: &[u8], mut emit: impl FnMut(u64)) {
    let mut ring = ShingleRing::default();
    let mut start = 0;
    while start <= bytes.len() {
        let end = space_at_or_after(bytes, start);
        if end > start {
            if let Some(shingle) = ring.token(word_hash_at(bytes, start..end, 0)) {
                emit(shingle);
            }
        }
        start = end + 1;
    }
    if let Some(whole) = ring.short_text(bytes) {
        emit(whole);
    }
}

/// Characters of scripts written without spaces between words, shingled one character a token.
pub fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x0E00..=0x0E7F    // Thai
        | 0x0E80..=0x0EFF    // Lao
        | 0x1000..=0x109F    // Myanmar
        | 0x1780..=0x17FF    // Khmer
        | 0x20000..=0x2FA1F) // CJK extensions B..
}

/// For every byte value, a `u64` whose byte `b` is bit `b` of the value (0 or 1): adding these
/// counts eight bit positions at once, one per byte.
static SPREAD: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut bit = 0;
        while bit < 8 {
            table[byte] |= (((byte >> bit) & 1) as u64) << (8 * bit);
            bit += 1;
        }
        byte += 1;
    }
    table
};

/// Features a byte-wide counter in [`SimhashBuilder`] takes before it is flushed.
const LANE_LIMIT: u32 = 255;

/// Accumulates a 64-bit simhash (Charikar) from feature hashes, each with weight 1.
///
/// Counts how many features set each bit: eight byte-wide counters per `u64` lane (one table
/// lookup and one addition per byte of the hash), flushed into `u32` totals every 255 features.
#[derive(Debug, Clone)]
pub struct SimhashBuilder {
    ones: [u32; 64],
    lanes: [u64; 8],
    in_lanes: u32,
    features: u32,
}

impl Default for SimhashBuilder {
    fn default() -> Self {
        Self { ones: [0; 64], lanes: [0; 8], in_lanes: 0, features: 0 }
    }
}

impl SimhashBuilder {
    /// Adds one feature hash with weight 1.
    #[inline]
    pub fn add(&mut self, hash: u64) {
        self.features += 1;
        for (byte_index, lane) in self.lanes.iter_mut().enumerate() {
            *lane += SPREAD[usize::from((hash >> (byte_index * 8)) as u8)];
        }
        self.in_lanes += 1;
        if self.in_lanes == LANE_LIMIT {
            self.ones = self.totals();
            self.lanes = [0; 8];
            self.in_lanes = 0;
        }
    }

    /// Per bit, how many features set it.
    fn totals(&self) -> [u32; 64] {
        let mut ones = self.ones;
        for (byte_index, lane) in self.lanes.iter().enumerate() {
            for bit in 0..8 {
                ones[byte_index * 8 + bit] += ((lane >> (8 * bit)) & 0xff) as u32;
            }
        }
        ones
    }

    /// Number of features added.
    pub fn features(&self) -> u32 {
        self.features
    }

    /// The simhash: bit i is set when more features had bit i set than not.
    pub fn finish(&self) -> u64 {
        if self.in_lanes == self.features && self.features < 0x80 {
            return self.finish_in_lanes();
        }
        let features = u64::from(self.features);
        self.totals().iter().enumerate().fold(0u64, |acc, (i, &ones)| {
            if 2 * u64::from(ones) > features {
                acc | (1 << i)
            } else {
                acc
            }
        })
    }

    /// [`SimhashBuilder::finish`] while every count is in the lanes and below 128 (fewer than
    /// 128 features, the most blocks have): eight counts compared at once. A count `c` of
    /// seven bits has bit 7 set in `c + 128 - need` exactly when `c >= need` (no byte carries
    /// into the next), and one multiply gathers the eight bit 7s into a byte of the hash.
    fn finish_in_lanes(&self) -> u64 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        // Bit i is set when 2 * ones > features: ones at least features / 2 + 1 (1 to 64).
        let need = u64::from(self.features / 2 + 1);
        self.lanes.iter().enumerate().fold(0u64, |hash, (byte_index, &lane)| {
            let at_least = (lane + ONES * (0x80 - need)) & (ONES * 0x80);
            let bits = ((at_least >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
            hash | bits << (8 * byte_index)
        })
    }
}

/// A hasher for keys that already are well-mixed 64-bit hashes (xxh3 block keys and shingles):
/// it passes the key through, so in-memory maps skip SipHash. Not for keys from input.
#[derive(Debug, Default, Clone, Copy)]
pub struct PrehashedKey(u64);

impl Hasher for PrehashedKey {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys other than u64; fold them in so the hasher stays correct.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    #[inline]
    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// A `HashMap` keyed by a fingerprint hash, hashed with [`PrehashedKey`].
pub type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<PrehashedKey>>;

/// Number of differing bits between two simhashes.
#[inline]
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shingles(text: &str) -> Vec<u64> {
        let mut norm = String::new();
        normalize_into(text, &mut norm);
        let mut out = Vec::new();
        for_each_shingle(&norm, |h| out.push(h));
        out
    }

    /// [`word_hash`] as first written: a byte at a time, eight to a chunk.
    fn word_hash_bytewise(bytes: &[u8], fold: u8) -> u64 {
        bytes.chunks(8).fold(WORD_HASH_K ^ bytes.len() as u64, |hash, chunk| {
            mix_chunk(hash, chunk.iter().rev().fold(0u64, |v, &b| (v << 8) | u64::from(b | fold)))
        })
    }

    #[test]
    fn word_hashes_read_by_the_eight_bytes_are_those_read_a_byte_at_a_time() {
        let text: Vec<u8> = (0..40u8).map(|i| b"Ab-9'z\xc3\xa9Q"[usize::from(i) % 9] ^ (i & 0x10)).collect();
        for fold in [0, 0x20] {
            for start in 0..text.len() {
                for end in start + 1..=text.len() {
                    let expected = word_hash_bytewise(&text[start..end], fold);
                    assert_eq!(word_hash(&text[start..end], fold), expected, "{start}..{end}");
                    // Near the end of `text` too, where fewer than eight or sixteen bytes are left.
                    assert_eq!(word_hash_at(&text, start..end, fold), expected, "{start}..{end} at");
                }
            }
        }
    }

    #[test]
    fn keys_ignore_case_space_punctuation_and_digit_values() {
        let mut s = String::new();
        let a = block_key("Updated: 21 June 2025, 06:42", &mut s);
        let b = block_key("updated 22 june 2025 -- 07:13", &mut s);
        assert_eq!(a, b);
        assert_ne!(a, block_key("updated 22 july 2025", &mut s));
        assert_eq!(block_key(" -- | • ", &mut s), None);
    }

    #[test]
    fn apostrophes_do_not_split_words() {
        let mut s = String::new();
        normalize_into("Japan’s don't", &mut s);
        assert_eq!(s, "japans dont");
    }

    #[test]
    fn shingle_count_is_words_minus_two() {
        assert_eq!(shingles("one two three four five").len(), 3);
        assert_eq!(shingles("one two").len(), 1);
        assert_eq!(shingles("").len(), 0);
        // The same three words give the same shingle wherever they stand.
        assert_eq!(shingles("a b c d")[1], shingles("x b c d")[1]);
    }

    #[test]
    fn cjk_is_shingled_by_character() {
        assert_eq!(shingles("日本は米国").len(), 3);
    }

    #[test]
    fn simhash_of_similar_texts_is_close_and_of_different_texts_far() {
        let sim = |t: &str| {
            let mut b = SimhashBuilder::default();
            shingles(t).into_iter().for_each(|h| b.add(h));
            b.finish()
        };
        let a = "Japan has cancelled a high level meeting with its closest ally the United States after the Trump administration demanded more defence spending from Tokyo this year";
        let b = "Japan has cancelled a high level meeting with its closest ally the United States after the Trump administration demanded higher defence spending from Tokyo this year";
        let c = "The recipe calls for two cups of flour, a pinch of salt and three eggs beaten until light, then folded gently into the warm butter and sugar";
        assert!(hamming(sim(a), sim(b)) < hamming(sim(a), sim(c)));
        assert!(hamming(sim(a), sim(c)) > 16);
    }

    /// The char-by-char normalisation, kept as the reference for [`normalize_into`].
    fn normalize_reference(text: &str) -> String {
        let mut out = String::new();
        let mut pending_space = false;
        for c in text.chars() {
            if c.is_alphanumeric() {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                if c.is_numeric() {
                    out.push('0');
                } else if c.is_lowercase() || !c.is_uppercase() {
                    out.push(c);
                } else {
                    out.extend(c.to_lowercase());
                }
            } else if !is_joiner(c) {
                pending_space = true;
            }
        }
        out
    }

    /// The char-by-char shingler, kept as the reference for [`for_each_shingle`].
    fn shingles_reference(normalized: &str) -> Vec<u64> {
        let mut out = Vec::new();
        if normalized.is_empty() {
            return out;
        }
        let bytes = normalized.as_bytes();
        let mut tokens: Vec<(usize, usize)> = Vec::new();
        let mut token_start = None;
        for (i, c) in normalized.char_indices() {
            if c == ' ' || is_unspaced_script(c) {
                if let Some(start) = token_start.take() {
                    tokens.push((start, i));
                }
                if c != ' ' {
                    tokens.push((i, i + c.len_utf8()));
                }
            } else if token_start.is_none() {
                token_start = Some(i);
            }
        }
        if let Some(start) = token_start {
            tokens.push((start, bytes.len()));
        }
        let hash = |(start, end): (usize, usize)| word_hash(&bytes[start..end], 0);
        for w in tokens.windows(SHINGLE_WORDS) {
            out.push(shingle_of(hash(w[0]), hash(w[1]), hash(w[2])));
        }
        if tokens.len() < SHINGLE_WORDS {
            out.push(xxh3_64_with_seed(bytes, SEED));
        }
        out
    }

    #[test]
    fn the_character_table_agrees_with_the_unicode_tables() {
        for c in (0..0x20000u32).filter_map(char::from_u32) {
            let props = CharProps::of(c);
            assert_eq!(props.alphanumeric(), c.is_alphanumeric(), "{c:?}");
            assert_eq!(props.numeric(), c.is_numeric(), "{c:?}");
            assert_eq!(props.lowercase(), c.is_lowercase(), "{c:?}");
            assert_eq!(props.uppercase(), c.is_uppercase(), "{c:?}");
            assert_eq!(props.whitespace(), c.is_whitespace(), "{c:?}");
        }
    }

    #[test]
    fn fast_paths_match_the_char_by_char_references() {
        let alphabet: Vec<char> =
            "aZ09 .,'’-\n\tÄßİΣσ東京日本はÉé\u{0301}\u{200D}٣ⅷ😀ǅ\u{0e01}×÷ÿɏ".chars().collect();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut norm = String::new();
        for _ in 0..3000 {
            let text = crate::testing::chars_text(&alphabet, 60, &mut state);
            normalize_into(&text, &mut norm);
            assert_eq!(norm, normalize_reference(&text), "{text:?}");
            // Appended after other text, the same bytes, and the count of their words.
            let mut appended = b"earlier text".to_vec();
            let words = normalize_append(&text, &mut appended);
            assert_eq!(&appended[12..], norm.as_bytes());
            assert_eq!(words, norm.split(' ').filter(|w| !w.is_empty()).count(), "{norm:?}");
            let mut fast = Vec::new();
            for_each_shingle(&norm, |h| fast.push(h));
            assert_eq!(fast, shingles_reference(&norm), "{norm:?}");
        }
    }

    #[test]
    fn long_ascii_words_match_the_reference() {
        // Runs of letters and digits longer than the eight bytes the fast path reads at once,
        // ending at every offset and next to what ends them.
        let pieces = [
            "Internationalisation",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "year2025x",
            "12345678",
            "a",
            "Zz",
            " ",
            ".",
            "'",
            "-",
            "@",
            "[",
            "`",
            "{",
            "Ä",
            "é",
            "東",
            "\u{0301}",
            "\n",
        ];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut norm = String::new();
        for _ in 0..3000 {
            let text = crate::testing::pieces_text(&pieces, 16, &mut state);
            normalize_into(&text, &mut norm);
            assert_eq!(norm, normalize_reference(&text), "{text:?}");
        }
    }

    #[test]
    fn space_separated_text_is_shingled_as_the_reference_does() {
        // Only 1- and 2-byte characters: the spaced path of `for_each_shingle`.
        let alphabet: Vec<char> = "ab cdÄßé z0 ΣЖ".chars().collect();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut norm = String::new();
        for _ in 0..3000 {
            let text = crate::testing::chars_text(&alphabet, 80, &mut state);
            normalize_into(&text, &mut norm);
            let mut fast = Vec::new();
            for_each_shingle(&norm, |h| fast.push(h));
            assert_eq!(fast, shingles_reference(&norm), "{norm:?}");
            // Spaces as they come, doubled or at the ends, too.
            let mut fast = Vec::new();
            for_each_shingle(&text, |h| fast.push(h));
            assert_eq!(fast, shingles_reference(&text), "{text:?}");
        }
    }

    #[test]
    fn lower_casing_grows_no_character_by_more_than_half() {
        // normalize_append sizes its buffer on this.
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let lower: usize = c.to_lowercase().map(char::len_utf8).sum();
            assert!(2 * lower <= 3 * c.len_utf8(), "{c:?}");
        }
        let mut out = String::new();
        normalize_into(&"ȺİẞK".repeat(50), &mut out);
        assert!(out.starts_with("ⱥi\u{307}ßkⱥ"), "{out}");
    }

    #[test]
    fn simhash_lanes_match_the_bit_loop() {
        let mut state = 1u64;
        let (mut fast, mut counts) = (SimhashBuilder::default(), [0i32; 64]);
        for _ in 0..1001 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            fast.add(state);
            for (bit, count) in counts.iter_mut().enumerate() {
                *count += if (state >> bit) & 1 == 1 { 1 } else { -1 };
            }
        }
        let ones = fast.totals();
        for (bit, count) in counts.iter().enumerate() {
            assert_eq!(2 * ones[bit] as i32 - fast.features() as i32, *count);
        }
    }

    #[test]
    fn simhash_finish_matches_the_majority_of_every_bit() {
        // Every count of features from none to past a flush, with skewed hashes so that
        // counts sit at and around each threshold.
        let mut state = 7u64;
        let mut b = SimhashBuilder::default();
        let mut counts = [0u32; 64];
        for features in 0..300u32 {
            let majority =
                counts
                    .iter()
                    .enumerate()
                    .fold(0u64, |acc, (bit, &ones)| if 2 * ones > features { acc | 1 << bit } else { acc });
            assert_eq!(b.finish(), majority, "{features} features");
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let hash = state & (state >> 7) | (state >> 3 & 0x00FF_00FF_00FF_00FF);
            b.add(hash);
            for (bit, ones) in counts.iter_mut().enumerate() {
                *ones += u32::from((hash >> bit) & 1 == 1);
            }
        }
    }

    #[test]
    fn simhash_bits_follow_the_majority() {
        let mut b = SimhashBuilder::default();
        b.add(0b101);
        b.add(0b100);
        b.add(0b001);
        assert_eq!(b.finish(), 0b101);
        assert_eq!(b.features(), 3);
    }
}
