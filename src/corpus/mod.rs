//! The corpus pass: what only the whole batch shows. Chrome that recurs on many pages of a site
//! ([`site`]), and near-duplicate pages, syndicated or lightly edited copies ([`dedup`]).
//!
//! It works on small per-page summaries, never on page texts, in three steps:
//!
//! 1. The scan pass keeps each page's distinct block keys ([`summarize`]). [`provisional`]
//!    counts them over all pages and gives the blocks recurring on enough pages of a site.
//! 2. A fingerprint pass reads each page again and signs its cleaned text: the blocks the page
//!    pass keeps, minus the provisional site chrome ([`fingerprint()`]), so chrome neither hides a
//!    copy nor glues two different articles together.
//! 3. [`analyze`] groups near-duplicates and counts site chrome again with the pages of one group
//!    counted once per site, so the body shared by copies is not chrome.
//!
//! Memory: 8 bytes per distinct block per page (the keys, dropped after [`analyze`]), 68 bytes
//! per page of fingerprint, and the chrome table (see [`site`]).

pub mod dedup;
pub mod site;

use crate::fingerprint::{self, block_key};
use crate::label::{Label, Reason};
use crate::segment::Segmented;

pub use dedup::Fingerprint;
pub use site::SiteChrome;

/// Settings of the corpus pass.
#[derive(Debug, Clone)]
pub struct CorpusOptions {
    /// Learn site chrome from recurrence.
    pub site_chrome: bool,
    /// Find near-duplicate pages.
    pub dedup: bool,
    /// Estimated Jaccard similarity from which two pages are one group (`--similarity`).
    pub similarity: f64,
    /// Estimated Jaccard similarity from which pairs are listed as related (`--related`).
    pub related_similarity: f64,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        Self {
            site_chrome: true,
            dedup: true,
            similarity: dedup::DEFAULT_SIMILARITY,
            related_similarity: dedup::DEFAULT_RELATED_SIMILARITY,
        }
    }
}

/// What the scan pass keeps of one page for the corpus pass.
#[derive(Debug, Clone, Default)]
pub struct PageSummary {
    /// The page's site (an index into the run's site list).
    pub site: u32,
    /// The distinct normalised keys of all the page's blocks, sorted.
    pub keys: Box<[u64]>,
}

/// Builds the summary of one page from its blocks; the pipeline sets the site once every page's
/// host is known.
pub fn summarize(page: &Segmented<'_>, _labels: &[Label]) -> PageSummary {
    let mut scratch = String::new();
    let mut keys: Vec<u64> = page.blocks.iter().filter_map(|b| block_key(b.text, &mut scratch)).collect();
    keys.sort_unstable();
    keys.dedup();
    PageSummary { site: 0, keys: keys.into_boxed_slice() }
}

/// Site chrome counted over every page, before near-duplicates are known: what the fingerprint
/// pass leaves out of each page's text.
pub fn provisional(pages: &[PageSummary], options: &CorpusOptions) -> SiteChrome {
    if !options.site_chrome {
        return SiteChrome::default();
    }
    SiteChrome::learn(pages.iter().map(|p| (p.site, &*p.keys)))
}

/// Signs the cleaned text of one page: the blocks labelled `Keep` that are not chrome of `site`
/// in `chrome`. When leaving the chrome out leaves too little text to compare (a site made of
/// copies of one page), every kept block is signed instead.
pub fn fingerprint(page: &Segmented<'_>, labels: &[Label], site: u32, chrome: &SiteChrome) -> Fingerprint {
    let mut normalized = String::new();
    let mut sign = |skip_chrome: bool| {
        let mut builder = dedup::SignatureBuilder::default();
        for (block, label) in page.blocks.iter().zip(labels) {
            if !label.is_keep() {
                continue;
            }
            let Some(key) = block_key(block.text, &mut normalized) else {
                continue;
            };
            if skip_chrome && chrome.pages(site, key).is_some() {
                continue;
            }
            fingerprint::for_each_shingle(&normalized, |h| builder.add(h));
        }
        builder
    };
    let without_chrome = sign(true);
    if without_chrome.shingles() >= dedup::MIN_SHINGLES || chrome.is_empty() {
        without_chrome.finish()
    } else {
        sign(false).finish()
    }
}

/// The corpus pass's decisions.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// For each page (in input order): the page it duplicates and the estimated similarity.
    pub duplicate_of: Vec<Option<(usize, f64)>>,
    /// Checked pairs `(a, b, similarity)` at or above the related threshold whose pages are in
    /// different near-duplicate groups.
    pub related: Vec<(usize, usize, f64)>,
    /// Each page's site.
    pub sites: Vec<u32>,
    /// Blocks that are chrome of their site.
    pub chrome: SiteChrome,
}

impl Verdict {
    /// Adds the corpus pass's block decisions (site chrome) to a page's labels: a kept block that
    /// is chrome of the page's site becomes `Drop(SiteChrome { pages })`.
    pub fn apply(&self, page_index: usize, page: &Segmented<'_>, labels: &mut [Label]) {
        let Some(&site) = self.sites.get(page_index) else {
            return;
        };
        if self.chrome.is_empty() {
            return;
        }
        let mut scratch = String::new();
        for (block, label) in page.blocks.iter().zip(labels.iter_mut()) {
            if !label.is_keep() {
                continue;
            }
            if let Some(pages) = block_key(block.text, &mut scratch).and_then(|k| self.chrome.pages(site, k))
            {
                *label = Label::Drop(Reason::SiteChrome { pages });
            }
        }
    }

    /// The page that `page_index` duplicates, with its similarity.
    pub fn duplicate(&self, page_index: usize) -> Option<(usize, f64)> {
        self.duplicate_of.get(page_index).copied().flatten()
    }
}

/// Runs the corpus pass over every page's summary and fingerprint (`fingerprints` is empty
/// when dedup is off): groups near-duplicates, then learns site chrome counting each group once.
pub fn analyze(pages: &[PageSummary], fingerprints: &[Fingerprint], options: &CorpusOptions) -> Verdict {
    let groups = if options.dedup && fingerprints.len() == pages.len() {
        dedup::group(fingerprints, options.similarity, options.related_similarity)
    } else {
        dedup::Groups { duplicate_of: vec![None; pages.len()], related: Vec::new() }
    };
    let chrome = if options.site_chrome {
        // Within a site, the pages of one group count once (the first in input order); copies
        // on other sites are other sites' evidence and count there.
        let mut seen = std::collections::HashSet::new();
        let counted: Vec<bool> = (0..pages.len())
            .map(|i| {
                let group = groups.duplicate_of[i].map_or(i, |(of, _)| of);
                seen.insert((pages[i].site, group))
            })
            .collect();
        SiteChrome::learn(pages.iter().zip(&counted).filter(|(_, &c)| c).map(|(p, _)| (p.site, &*p.keys)))
    } else {
        SiteChrome::default()
    };
    Verdict {
        duplicate_of: groups.duplicate_of,
        related: groups.related,
        sites: pages.iter().map(|p| p.site).collect(),
        chrome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::segment;

    const MENU: &str = "Home\nWorld\nSport\nSubscribe to our newsletter for the best stories\n";

    fn body(seed: usize) -> String {
        (0..6)
            .map(|p| {
                (0..25)
                    .map(|w| dedup::tests::word(((seed * 7919 + p * 131) * 31 + w * 17) as u64 % 100_003))
                    .collect::<Vec<_>>()
                    .join(" ")
                    + "."
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn summaries(texts: &[String]) -> Vec<PageSummary> {
        texts.iter().map(|t| summarize(&segment(t), &[])).collect()
    }

    fn run(texts: &[String]) -> (Verdict, Vec<Vec<Label>>) {
        let pages = summaries(texts);
        let options = CorpusOptions::default();
        let chrome = provisional(&pages, &options);
        let fps: Vec<Fingerprint> = texts
            .iter()
            .map(|t| {
                let seg = segment(t);
                fingerprint(&seg, &vec![Label::Keep; seg.blocks.len()], 0, &chrome)
            })
            .collect();
        let verdict = analyze(&pages, &fps, &options);
        let labels = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let seg = segment(t);
                let mut labels = vec![Label::Keep; seg.blocks.len()];
                verdict.apply(i, &seg, &mut labels);
                labels
            })
            .collect();
        (verdict, labels)
    }

    #[test]
    fn chrome_on_every_page_is_dropped_and_bodies_kept() {
        let texts: Vec<String> = (0..5).map(|i| format!("{MENU}{}\n{MENU}", body(i))).collect();
        let (verdict, labels) = run(&texts);
        assert!(verdict.duplicate_of.iter().all(Option::is_none));
        for page in &labels {
            assert_eq!(page[0], Label::Drop(Reason::SiteChrome { pages: 5 }));
            assert!(page[4..10].iter().all(Label::is_keep));
        }
    }

    #[test]
    fn copies_count_once_so_their_body_stays() {
        // Three copies of one article and two other pages: the copies are one group, so the
        // article's paragraphs are on 1 of 3 counted pages, not 3 of 5.
        let mut texts: Vec<String> = (0..3).map(|_| format!("{MENU}{}", body(1))).collect();
        texts.push(format!("{MENU}{}", body(2)));
        texts.push(format!("{MENU}{}", body(3)));
        let (verdict, labels) = run(&texts);
        assert_eq!(verdict.duplicate(1).map(|d| d.0), Some(0));
        assert_eq!(verdict.duplicate(2).map(|d| d.0), Some(0));
        assert!(labels[0][4..].iter().all(Label::is_keep));
        assert_eq!(labels[0][0], Label::Drop(Reason::SiteChrome { pages: 3 }));
    }

    #[test]
    fn different_articles_in_identical_chrome_stay_apart() {
        let texts: Vec<String> = (0..4).map(|i| format!("{MENU}{}\n{MENU}", body(10 + i))).collect();
        let (verdict, _) = run(&texts);
        assert!(verdict.duplicate_of.iter().all(Option::is_none));
    }
}
