//! Per-block features: length, stopword share in the page's language, end punctuation, capitals,
//! digits, link and separator shapes. Pure functions over a block's text, no allocation per
//! block (the caller passes a scratch buffer).

use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use xxhash_rust::xxh3::xxh3_64;

use crate::fingerprint::{is_unspaced_script, PrehashedKey};

/// Stopword lists, one line a language (`code: words`), shipped inside the binary.
const STOPWORD_DATA: &str = include_str!("page/data/stopwords.txt");

/// The stopwords of one language, as hashes of their lower-case form.
#[derive(Debug, Default)]
pub struct Stopwords {
    hashes: HashSet<u64, BuildHasherDefault<PrehashedKey>>,
}

impl Stopwords {
    /// True when `lowercase_word` is a stopword.
    #[inline]
    pub fn contains(&self, lowercase_word: &str) -> bool {
        self.hashes.contains(&xxh3_64(lowercase_word.as_bytes()))
    }
}

struct StopwordTable {
    by_code: Vec<(&'static str, Stopwords)>,
    union: Stopwords,
}

fn table() -> &'static StopwordTable {
    static TABLE: OnceLock<StopwordTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut by_code = Vec::new();
        let mut union = Stopwords::default();
        for line in STOPWORD_DATA.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let Some((code, words)) = line.split_once(':') else { continue };
            let mut list = Stopwords::default();
            for word in words.split_whitespace() {
                let hash = xxh3_64(word.as_bytes());
                list.hashes.insert(hash);
                union.hashes.insert(hash);
            }
            by_code.push((code.trim(), list));
        }
        StopwordTable { by_code, union }
    })
}

/// How many characters of a page's longest blocks the language guess reads.
pub const LANGUAGE_SAMPLE_CHARS: usize = 600;

/// The stopwords of the page's language, guessed with whatlang from `sample`; the union of all
/// shipped lists when the language is unknown or has no list.
pub fn stopwords_for(sample: &str) -> &'static Stopwords {
    let table = table();
    let code = whatlang::detect_lang(sample).map(|lang| lang.code());
    code.and_then(|code| table.by_code.iter().find(|(c, _)| *c == code).map(|(_, s)| s))
        .unwrap_or(&table.union)
}

/// What the page pass knows of one block.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Features {
    /// Words (a character of an unspaced script such as Chinese counts as half a word).
    pub words: u32,
    /// Words that are stopwords of the page's language.
    pub stopwords: u32,
    /// Characters, white space excluded.
    pub chars: u32,
    /// Ends with sentence punctuation (`.`, `!`, `?`, `…`, `。`, closing quotes after those).
    pub ends_sentence: bool,
    /// Words starting with a capital letter.
    pub capitalised: u32,
    /// Digits.
    pub digits: u32,
    /// Looks like a URL, an e-mail address or a file name.
    pub link_like: bool,
    /// Separators typical of menus and breadcrumbs (`|`, `•`, `·`, `›`, `►`).
    pub separators: u32,
}

impl Features {
    /// Share of the block's words that are stopwords (0 for an empty block).
    pub fn stopword_share(&self) -> f64 {
        if self.words == 0 {
            0.0
        } else {
            f64::from(self.stopwords) / f64::from(self.words)
        }
    }
}

/// Computes the features of `text` with the page's `stopwords`; `scratch` holds one lower-cased
/// word at a time.
pub fn features(text: &str, stopwords: &Stopwords, scratch: &mut String) -> Features {
    let mut f = Features::default();
    let mut unspaced = 0u32;
    let mut word_start: Option<usize> = None;
    let flush = |start: usize, end: usize, f: &mut Features, scratch: &mut String| {
        let word = &text[start..end];
        f.words += 1;
        if word.chars().next().is_some_and(char::is_uppercase) {
            f.capitalised += 1;
        }
        scratch.clear();
        if word.is_ascii() {
            scratch.push_str(word);
            scratch.make_ascii_lowercase();
        } else {
            scratch.extend(word.chars().flat_map(char::to_lowercase));
        }
        if stopwords.contains(scratch) {
            f.stopwords += 1;
        }
    };
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = word_start.take() {
                flush(s, i, &mut f, scratch);
            }
            continue;
        }
        f.chars += 1;
        if c.is_ascii_digit() {
            f.digits += 1;
        }
        if matches!(c, '|' | '•' | '·' | '›' | '►' | '▸') {
            f.separators += 1;
        }
        if is_unspaced_script(c) {
            unspaced += 1;
            if let Some(s) = word_start.take() {
                flush(s, i, &mut f, scratch);
            }
            continue;
        }
        if c.is_alphanumeric() || c == '\'' || c == '’' || c == '-' {
            if word_start.is_none() {
                word_start = Some(i);
            }
        } else if let Some(s) = word_start.take() {
            flush(s, i, &mut f, scratch);
        }
    }
    if let Some(s) = word_start.take() {
        flush(s, text.len(), &mut f, scratch);
    }
    f.words += unspaced / 2;
    f.ends_sentence = ends_sentence(text);
    f.link_like = link_like(text);
    f
}

fn ends_sentence(text: &str) -> bool {
    let trimmed = text.trim_end_matches(['"', '\'', '”', '’', '»', ')', ']', '*']);
    trimmed.ends_with(['.', '!', '?', '…', '。', '！', '？', ':', ';'])
}

fn link_like(text: &str) -> bool {
    text.contains("://")
        || text.contains("www.")
        || (text.len() < 80
            && !text.contains(' ')
            && (text.contains('@') || text.contains(".com") || text.contains('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_prose_has_many_stopwords() {
        let sw = stopwords_for("Japan has cancelled a high-level meeting with its closest ally, the United States, after the administration demanded more spending.");
        let mut s = String::new();
        let f =
            features("The meeting was cancelled after the US asked Japan to raise its spending.", sw, &mut s);
        assert_eq!(f.words, 13);
        assert!(f.stopword_share() > 0.3, "{f:?}");
        assert!(f.ends_sentence);
        let menu = features("Home | World | Business | Sport", sw, &mut s);
        assert_eq!(menu.stopwords, 0);
        assert_eq!(menu.separators, 3);
        assert!(!menu.ends_sentence);
    }

    #[test]
    fn german_page_uses_german_stopwords() {
        let sw = stopwords_for("Die Regierung hat am Montag beschlossen, dass die Steuern für alle Bürger nicht erhöht werden, wie der Minister sagte.");
        let mut s = String::new();
        let f = features("Die Regierung hat beschlossen, dass die Steuern nicht steigen.", sw, &mut s);
        assert!(f.stopword_share() > 0.3, "{f:?}");
    }

    #[test]
    fn cjk_counts_characters_as_half_words() {
        let sw = stopwords_for("日本は米国との会議を中止した");
        let mut s = String::new();
        let f = features("日本は米国との会議を中止した。", sw, &mut s);
        assert_eq!(f.words, 7);
        assert!(f.ends_sentence);
    }

    #[test]
    fn links_and_addresses_are_link_like() {
        let sw = stopwords_for("");
        let mut s = String::new();
        assert!(features("i.redd.it/whs5mnaxwft31.jpg", sw, &mut s).link_like);
        assert!(features("Visit https://example.com today", sw, &mut s).link_like);
        assert!(!features("A plain sentence here.", sw, &mut s).link_like);
    }
}
