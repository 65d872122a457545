//! The corpus pass: what only the whole batch shows. Chrome that recurs on many pages of a site,
//! and near-duplicate pages (syndicated or lightly edited copies).
//!
//! It works on small per-page summaries collected by the scan pass, never on page texts.

use crate::label::Label;
use crate::segment::Segmented;

/// Settings of the corpus pass.
#[derive(Debug, Clone)]
pub struct CorpusOptions {
    /// Learn site chrome from recurrence.
    pub site_chrome: bool,
    /// Find near-duplicate pages.
    pub dedup: bool,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        Self { site_chrome: true, dedup: true }
    }
}

/// What the scan pass keeps of one page for the corpus pass.
#[derive(Debug, Clone, Default)]
pub struct PageSummary {
    /// The page's site (an index into the run's site list).
    pub site: u32,
}

/// Builds the summary of one page from its blocks and page-pass labels; the pipeline sets the
/// site once every page's host is known.
pub fn summarize(_page: &Segmented<'_>, _labels: &[Label]) -> PageSummary {
    PageSummary::default()
}

/// The corpus pass's decisions.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// For each page (in input order): the page it duplicates and the estimated similarity.
    pub duplicate_of: Vec<Option<(usize, f64)>>,
}

impl Verdict {
    /// Adds the corpus pass's block decisions (site chrome) to a page's labels.
    pub fn apply(&self, _page_index: usize, _page: &Segmented<'_>, _labels: &mut [Label]) {}

    /// The page that `page_index` duplicates, with its similarity.
    pub fn duplicate(&self, page_index: usize) -> Option<(usize, f64)> {
        self.duplicate_of.get(page_index).copied().flatten()
    }
}

/// Runs the corpus pass over every page's summary.
pub fn analyze(pages: &[PageSummary], _options: &CorpusOptions) -> Verdict {
    Verdict { duplicate_of: vec![None; pages.len()] }
}
