//! The one currency of the pipeline: every decision about a block is a [`Label`].
//!
//! The explain view, the report, `eval` and the tests all read labels; nothing re-derives a
//! decision after the fact.

use std::borrow::Cow;
use std::fmt;

/// Why a block was dropped.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The block repeats block `of` (0-based index) of the same page, exactly after
    /// normalisation or nearly (simhash over word shingles).
    Repeat {
        /// Index of the first copy, the one that is kept.
        of: u32,
    },
    /// A page-level chrome rule matched: `rule` names it (a phrase family, a feature rule or a
    /// user rule from `--rules`).
    Chrome {
        /// Name of the rule that matched, shown in the explain view.
        rule: Cow<'static, str>,
    },
    /// The context pass put this block outside the article (before it, after it, or after a
    /// section opener such as "Related Articles").
    Context {
        /// Where the block stood relative to the article.
        why: Placement,
        /// The block's word count, one of the features behind the decision.
        words: u32,
        /// The block's stopword share in percent, the other feature behind the decision.
        stopword_pct: u8,
    },
    /// The block recurs on `pages` pages of the same site (learned by the corpus pass).
    SiteChrome {
        /// Number of pages (near-duplicate groups counted once) the block was seen on.
        pages: u32,
    },
}

impl Reason {
    /// Short stable name of the reason's kind, used as key in the report's `dropped` counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::Repeat { .. } => "repeat",
            Reason::Chrome { .. } => "chrome",
            Reason::Context { .. } => "context",
            Reason::SiteChrome { .. } => "site_chrome",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Repeat { of } => write!(f, "repeat of block {}", of + 1),
            Reason::Chrome { rule } => write!(f, "chrome: {rule}"),
            Reason::Context { why, words, stopword_pct } => {
                write!(f, "context: {why} ({words} words, {stopword_pct}% stopwords)")
            }
            Reason::SiteChrome { pages } => write!(f, "site chrome: on {pages} pages"),
        }
    }
}

/// Where the context pass found a block it dropped, relative to the article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Before the article's first block.
    BeforeArticle,
    /// After the article's last block, before any section opener.
    AfterArticle,
    /// After a section opener ("Related Articles") that ended the article.
    AfterOpener,
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Placement::BeforeArticle => "before the article",
            Placement::AfterArticle => "after the article",
            Placement::AfterOpener => "after a section opener",
        })
    }
}

/// Why the page pass kept a block: shown by the explain view beside `KEEP`, as a drop's
/// [`Reason`] is beside `DROP`. Not part of [`Label`]: the clean text, the report and the cache
/// need only that a block is kept, and the page pass, a pure function, gives the same notes
/// when run again for the explain view ([`crate::page::PagePass::classify_explained`]).
#[derive(Debug, Clone, PartialEq)]
pub enum KeepNote {
    /// A paragraph of the article (the densest run of prose), with its features.
    ArticleProse {
        /// The block's word count.
        words: u32,
        /// The block's stopword share in percent.
        stopword_pct: u8,
    },
    /// A short line between the article's paragraphs (a heading, a list item, a table row).
    ArticleLine {
        /// The block's word count.
        words: u32,
        /// The block's stopword share in percent.
        stopword_pct: u8,
    },
    /// The title: the nearest title-like line before the article.
    Title,
    /// The article's last paragraph behind its share buttons (a note under a graphic).
    NoteAfterShare {
        /// The block's word count.
        words: u32,
        /// The block's stopword share in percent.
        stopword_pct: u8,
    },
    /// A keep rule names it (a wire story's sign-off, or a `[[keep]]` rule of `--rules`).
    Rule(Cow<'static, str>),
    /// The page has no prose: only what a rule names is dropped.
    NoArticle,
    /// The page pass dropped it by context; the corpus pass kept it again, because the site's
    /// recurring chrome accounts for most of the page's context drops.
    Restored,
}

impl fmt::Display for KeepNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepNote::ArticleProse { words, stopword_pct } => {
                write!(f, "article: prose ({words} words, {stopword_pct}% stopwords)")
            }
            KeepNote::ArticleLine { words, stopword_pct } => {
                write!(f, "article: line between paragraphs ({words} words, {stopword_pct}% stopwords)")
            }
            KeepNote::Title => f.write_str("title"),
            KeepNote::NoteAfterShare { words, stopword_pct } => write!(
                f,
                "article: last paragraph behind share buttons ({words} words, {stopword_pct}% stopwords)"
            ),
            KeepNote::Rule(rule) => write!(f, "keep rule: {rule}"),
            KeepNote::NoArticle => f.write_str("no prose on the page: only rules drop"),
            KeepNote::Restored => f.write_str("restored: site chrome explains the page's context drops"),
        }
    }
}

/// The decision about one block.
#[derive(Debug, Clone, PartialEq)]
pub enum Label {
    /// The block is part of the article and is written out.
    Keep,
    /// The block is dropped, for the given reason.
    Drop(Reason),
}

impl Label {
    /// True when the block is written out.
    pub fn is_keep(&self) -> bool {
        matches!(self, Label::Keep)
    }

    /// The drop reason, if any.
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            Label::Keep => None,
            Label::Drop(r) => Some(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_reason_shows_one_based_block_number() {
        assert_eq!(Reason::Repeat { of: 0 }.to_string(), "repeat of block 1");
        assert_eq!(Reason::SiteChrome { pages: 7 }.to_string(), "site chrome: on 7 pages");
    }

    #[test]
    fn kinds_are_stable_report_keys() {
        let kinds: Vec<_> = [
            Reason::Repeat { of: 1 },
            Reason::Chrome { rule: "x".into() },
            Reason::Context { why: Placement::AfterArticle, words: 3, stopword_pct: 10 },
            Reason::SiteChrome { pages: 2 },
        ]
        .iter()
        .map(Reason::kind)
        .collect();
        assert_eq!(kinds, ["repeat", "chrome", "context", "site_chrome"]);
    }
}
