//! The corpus pass: what only the whole batch shows. Chrome that recurs on many pages of a site
//! ([`site`]), and near-duplicate pages, syndicated or lightly edited copies ([`dedup`]).
//!
//! It keeps small per-page summaries and counts, never page texts, in four steps:
//!
//! 1. While the scan pass reads, [`summarize`] counts each page's distinct block keys in its
//!    site in a fixed-size sketch ([`Recurrence`]); no block list is kept. [`provisional`]
//!    gives the blocks estimated to recur on enough pages of their site, before near-duplicates
//!    are known.
//! 2. A fingerprint pass signs each page's cleaned text: the blocks the page pass keeps, minus
//!    the provisional site chrome ([`fingerprint()`]), so chrome neither hides a copy nor glues
//!    two different articles together. Most pages are signed without reading them again, by
//!    taking the chrome out of the signature pass 1 made ([`fingerprint_without_text`]).
//!    [`group`] finds the near-duplicates. The pages read again are counted exactly as they
//!    are read, for the blocks that can be chrome ([`count`]).
//! 3. Pages of one group count once per site: the later ones ([`uncounted`]) are counted off
//!    ([`uncount`], by the keys pass 1 kept or reading them again), so the body shared by
//!    copies is not chrome. The pages signed from pass 1's signature are counted only now, from
//!    the keys pass 1 kept, and those that do not count not at all.
//! 4. [`finish`] turns the counts into the [`Verdict`] that the write pass applies.
//!
//! Memory: 8 bytes of site per page, its fingerprint (144 bytes in a [`SignatureLog`], in a
//! temporary file beyond 32 MiB of them), and the recurrence count: a sketch
//! of 16 KiB to 32 MiB (by the input's size, and the high bytes of the counters past 255) until
//! the fingerprints are signed, an eighth of it until the counts are exact, and about 32 bytes per block and site that the sketch puts
//! on 3 or more pages ([`site`]).

pub mod dedup;
pub mod signatures;
pub mod site;

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::fingerprint::{self, SEED};
use crate::label::{Label, Placement, Reason};
use crate::segment::Segmented;

pub use dedup::{Duplicates, Fingerprint, Groups, RemovableSignature};
pub use signatures::SignatureLog;
pub use site::{Recurrence, SiteChrome};

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
    /// The page's site: [`site_of`] its host.
    pub site: u64,
}

/// The site key of a host (`None`: the run's own site, for text files and records without URL).
pub fn site_of(host: Option<&str>) -> u64 {
    xxh3_64_with_seed(host.unwrap_or("").as_bytes(), SEED)
}

/// The distinct normalised keys of all the blocks of a page, in page order.
pub fn page_keys(page: &Segmented<'_>) -> Vec<u64> {
    let repeat_of = page.repeat_of();
    let mut keys = Vec::with_capacity(page.blocks.len());
    let firsts = page.blocks.iter().zip(repeat_of.iter()).filter(|(_, repeat)| repeat.is_none());
    keys.extend(firsts.filter_map(|(b, _)| b.key));
    keys
}

/// [`page_keys`] sorted: the exact counts take each shard's lock once for them.
fn sorted_page_keys(page: &Segmented<'_>) -> Vec<u64> {
    let mut keys = page_keys(page);
    keys.sort_unstable();
    keys
}

/// Builds the summary of one page of site `host` and counts its blocks in `recurrence`.
pub fn summarize(page: &Segmented<'_>, host: Option<&str>, recurrence: &Recurrence) -> PageSummary {
    let site = site_of(host);
    recurrence.add(site, &page_keys(page));
    PageSummary { site }
}

/// Site chrome estimated over every page, before near-duplicates are known: what the
/// fingerprint pass leaves out of each page's text.
pub fn provisional(recurrence: &Recurrence, options: &CorpusOptions) -> SiteChrome {
    if options.site_chrome {
        recurrence.estimated()
    } else {
        SiteChrome::default()
    }
}

/// Signs the cleaned text of one page: the blocks labelled `Keep` that are not chrome of `site`
/// in `chrome`. When leaving the chrome out leaves too little text to compare (a site made of
/// copies of one page), every kept block is signed instead. The text key is of every block
/// labelled `Keep`.
pub fn fingerprint(page: &Segmented<'_>, labels: &[Label], site: u64, chrome: &SiteChrome) -> Fingerprint {
    let mut with_site = labels.to_vec();
    apply_site_chrome(page, &mut with_site, site, chrome);
    let sign = |skip_chrome: bool| {
        let mut builder = dedup::SignatureBuilder::default();
        let labels = if skip_chrome { &with_site } else { labels };
        for (index, label) in labels.iter().enumerate() {
            if label.is_keep() {
                fingerprint::for_each_shingle(page.normalized(index), |h| builder.add(h));
            }
        }
        builder
    };
    let text_key = kept_key(labels, |index| page.blocks[index].key);
    let without_chrome = sign(true);
    if without_chrome.shingles() >= dedup::MIN_SHINGLES || chrome.is_empty() {
        Fingerprint { text_key, ..without_chrome.finish() }
    } else {
        Fingerprint { text_key, ..sign(false).finish() }
    }
}

/// The [`Fingerprint::text_key`] of a page: of the blocks its page-pass `labels` keep (block
/// `index` of key `key_of(index)`), site chrome or not. Two pages that sign the same text once
/// the site's chrome is out may still differ in blocks the final site chrome keeps.
fn kept_key(labels: &[Label], key_of: impl Fn(usize) -> Option<u64>) -> u64 {
    dedup::text_key(
        labels.iter().enumerate().filter(|(_, label)| label.is_keep()).filter_map(|(i, _)| key_of(i)),
    )
}

/// Groups near-duplicate pages from their signatures in `log` (taken over and freed; none when
/// dedup is off), listing the related pairs when `list_related`; the first error of reading
/// the log again.
pub fn group(
    log: Option<SignatureLog>,
    options: &CorpusOptions,
    list_related: bool,
) -> std::io::Result<Groups> {
    match log {
        Some(log) if options.dedup => {
            let related = list_related.then_some(options.related_similarity);
            dedup::group(log, options.similarity, related)
        }
        _ => Ok(Groups { duplicate_of: Duplicates::default(), related: Vec::new() }),
    }
}

/// The pages to count off: within a site, every page of a group but one, the one that counts:
/// the group's centre (its most complete copy) when it is on that site, else the member most
/// similar to the centre (ties: input order). Chosen by content, not by input order, so the
/// site chrome learned does not depend on the order the files are listed in. Copies on other
/// sites are those sites' evidence and stay counted.
pub fn uncounted(pages: &[PageSummary], groups: &Groups) -> Vec<bool> {
    // The pages in a group: the duplicates and the pages they duplicate. Any other page is alone
    // in its group and counts.
    let mut grouped = vec![false; pages.len()];
    for (page, of, _) in groups.duplicate_of.iter() {
        (grouped[page], grouped[of]) = (true, true);
    }
    let mut counting: std::collections::HashMap<(u64, usize), (f64, usize)> =
        std::collections::HashMap::new();
    for (i, page) in pages.iter().enumerate().filter(|&(i, _)| grouped[i]) {
        let (group, closeness) = groups.duplicate_of.of(i).map_or((i, f64::INFINITY), |(of, sim)| (of, sim));
        let best = counting.entry((page.site, group)).or_insert((closeness, i));
        if closeness > best.0 {
            *best = (closeness, i);
        }
    }
    (0..pages.len())
        .map(|i| {
            let group = groups.duplicate_of.of(i).map_or(i, |(of, _)| of);
            grouped[i] && counting[&(pages[i].site, group)].1 != i
        })
        .collect()
}

/// Counts one page again, exactly, on its second read (after [`summarize`] on the first): the
/// blocks that can be chrome.
pub fn count(page: &Segmented<'_>, summary: &PageSummary, recurrence: &Recurrence) {
    recurrence.count(summary.site, &sorted_page_keys(page));
}

/// What [`fingerprint()`] gives a page with site chrome `chrome`, without its text: from the
/// page's pass-1 `signature` of the blocks its page-pass `labels` keep (`shingles_of` each
/// block's share of it) and its blocks' `keys`, taking out the kept blocks that are chrome.
/// `None` when the text is needed: site chrome restores a block the page pass dropped (its text
/// was never signed) or takes out both values the signature holds for a slot.
pub fn fingerprint_without_text(
    signature: &RemovableSignature,
    labels: &[Label],
    shingles_of: impl Fn(usize) -> u32,
    keys: impl Iterator<Item = Option<u64>>,
    site: u64,
    chrome: &SiteChrome,
) -> Option<Fingerprint> {
    let keys: Vec<Option<u64>> = keys.collect();
    let key_of = |index: usize| keys.get(index).copied().flatten();
    let mut with_site = labels.to_vec();
    apply_site_chrome_by_keys(keys.iter().copied(), &mut with_site, site, chrome);
    let mut removed = vec![false; labels.len()];
    let mut removed_shingles = 0u32;
    for (index, (before, after)) in labels.iter().zip(&with_site).enumerate() {
        match (before.is_keep(), after.is_keep()) {
            (false, true) => return None,
            (true, false) => {
                removed[index] = true;
                removed_shingles = removed_shingles.saturating_add(shingles_of(index));
            }
            _ => {}
        }
    }
    let text_key = kept_key(labels, key_of);
    // As in `fingerprint()`: too little text left without the chrome signs every kept block.
    if signature.shingles().saturating_sub(removed_shingles) < dedup::MIN_SHINGLES && !chrome.is_empty() {
        return Some(Fingerprint { text_key, ..signature.finish() });
    }
    let builder = signature.without(|index| removed[index], removed_shingles)?;
    Some(Fingerprint { text_key, ..builder.finish() })
}

/// Counts off a page found by [`uncounted`].
pub fn uncount(page: &Segmented<'_>, summary: &PageSummary, recurrence: &Recurrence) {
    recurrence.remove(summary.site, &sorted_page_keys(page));
}

/// A page needs at least this many site-chrome blocks before its context decisions are revised.
pub const RESTORE_MIN_SITE_BLOCKS: usize = 3;
/// Share of a page's context-dropped blocks that must be site chrome before the others are
/// restored: then the site's template explains the page's chrome, and what the context pass
/// dropped beside it is the page's own text.
pub const RESTORE_MIN_SITE_SHARE: f64 = 0.6;

/// Adds site chrome to one page's labels. Every block that is not a repeat and is chrome of
/// `site` becomes `Drop(SiteChrome { pages })`, whatever the page pass said (recurrence on the
/// site is stronger evidence than one page's rules). When the site's chrome accounts for most
/// of what the context pass dropped ([`RESTORE_MIN_SITE_SHARE`]), the remaining context drops,
/// except those after a section opener, are the page's own text and are kept again.
pub fn apply_site_chrome(page: &Segmented<'_>, labels: &mut [Label], site: u64, chrome: &SiteChrome) {
    apply_site_chrome_by_keys(page.blocks.iter().map(|b| b.key), labels, site, chrome);
}

/// [`apply_site_chrome`] given the blocks' keys alone, in block order.
pub fn apply_site_chrome_by_keys(
    keys: impl Iterator<Item = Option<u64>>,
    labels: &mut [Label],
    site: u64,
    chrome: &SiteChrome,
) {
    if chrome.is_empty() {
        return;
    }
    let (mut site_blocks, mut context, mut context_site) = (0usize, 0usize, 0usize);
    let chrome = chrome.of_site(site);
    for (key, label) in keys.zip(labels.iter_mut()) {
        if matches!(label, Label::Drop(Reason::Repeat { .. })) {
            continue;
        }
        let was_context = matches!(label, Label::Drop(Reason::Context { .. }));
        context += usize::from(was_context);
        if let Some(pages) = key.and_then(|k| chrome.pages(k)) {
            *label = Label::Drop(Reason::SiteChrome { pages });
            site_blocks += 1;
            context_site += usize::from(was_context);
        }
    }
    if site_blocks >= RESTORE_MIN_SITE_BLOCKS
        && context_site as f64 >= RESTORE_MIN_SITE_SHARE * context as f64
    {
        for label in labels.iter_mut() {
            if matches!(label, Label::Drop(Reason::Context { why, .. }) if *why != Placement::AfterOpener) {
                *label = Label::Keep;
            }
        }
    }
}

/// The corpus pass's decisions.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// The pages that duplicate another: the page each duplicates and the estimated similarity.
    pub duplicate_of: Duplicates,
    /// Checked pairs `(a, b, similarity)` at or above the related threshold whose pages are in
    /// different near-duplicate groups.
    pub related: Vec<(usize, usize, f64)>,
    /// Each page's site.
    pub sites: Vec<u64>,
    /// Blocks that are chrome of their site.
    pub chrome: SiteChrome,
}

impl Verdict {
    /// Adds the corpus pass's block decisions (site chrome) to a page's labels: a kept block that
    /// is chrome of the page's site becomes `Drop(SiteChrome { pages })`.
    pub fn apply(&self, page_index: usize, page: &Segmented<'_>, labels: &mut [Label]) {
        self.apply_by_keys(page_index, page.blocks.iter().map(|b| b.key), labels);
    }

    /// [`Verdict::apply`] given the page's block keys alone, in block order.
    pub fn apply_by_keys(
        &self,
        page_index: usize,
        keys: impl Iterator<Item = Option<u64>>,
        labels: &mut [Label],
    ) {
        if let Some(&site) = self.sites.get(page_index) {
            apply_site_chrome_by_keys(keys, labels, site, &self.chrome);
        }
    }

    /// The page that `page_index` duplicates, with its similarity.
    pub fn duplicate(&self, page_index: usize) -> Option<(usize, f64)> {
        self.duplicate_of.of(page_index)
    }
}

/// The verdict, once the pages found by [`uncounted`] have been counted off. The pages' sites
/// become the verdict's where their summaries were (no second table a page).
pub fn finish(
    pages: Vec<PageSummary>,
    groups: Groups,
    recurrence: &Recurrence,
    options: &CorpusOptions,
) -> Verdict {
    Verdict {
        duplicate_of: groups.duplicate_of,
        related: groups.related,
        sites: pages.into_iter().map(|p| p.site).collect(),
        chrome: if options.site_chrome { recurrence.chrome() } else { SiteChrome::default() },
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

    /// The corpus pass as the pipeline runs it, every page in one site, labels all `Keep`.
    fn run(texts: &[String]) -> (Verdict, Vec<Vec<Label>>) {
        let options = CorpusOptions::default();
        let recurrence = Recurrence::default();
        let keep = |seg: &Segmented<'_>| vec![Label::Keep; seg.blocks.len()];
        let pages: Vec<PageSummary> =
            texts.iter().map(|t| summarize(&segment(t), None, &recurrence)).collect();
        let chrome = provisional(&recurrence, &options);
        let log = SignatureLog::new();
        for (index, (t, p)) in texts.iter().zip(&pages).enumerate() {
            let seg = segment(t);
            count(&seg, p, &recurrence);
            log.add(index, &fingerprint(&seg, &keep(&seg), p.site, &chrome));
        }
        let groups = group(Some(log), &options, true).unwrap();
        for ((t, p), off) in texts.iter().zip(&pages).zip(uncounted(&pages, &groups)) {
            if off {
                uncount(&segment(t), p, &recurrence);
            }
        }
        let verdict = finish(pages, groups, &recurrence, &options);
        let labels = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let seg = segment(t);
                let mut labels = keep(&seg);
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
        assert!(verdict.duplicate_of.is_empty());
        for page in &labels {
            assert_eq!(page[0], Label::Drop(Reason::SiteChrome { pages: 5 }));
            assert!(page[4..10].iter().all(Label::is_keep));
        }
    }

    #[test]
    fn when_site_chrome_explains_the_context_drops_the_others_are_kept_again() {
        let texts: Vec<String> = (0..5).map(|i| format!("{MENU}{}\n{MENU}", body(i))).collect();
        let (verdict, _) = run(&texts);
        let page = segment(&texts[0]);
        let context = |why| Label::Drop(Reason::Context { why, words: 3, stopword_pct: 0 });
        // The page pass dropped both menus and the first paragraph before the article, and the
        // second paragraph as after an opener.
        let mut labels = vec![Label::Keep; page.blocks.len()];
        for (i, label) in labels.iter_mut().enumerate() {
            if !(5..10).contains(&i) {
                *label = context(Placement::BeforeArticle);
            }
        }
        labels[5] = context(Placement::AfterOpener);
        verdict.apply(0, &page, &mut labels);
        assert!(labels[..4]
            .iter()
            .chain(&labels[10..])
            .all(|l| matches!(l, Label::Drop(Reason::SiteChrome { .. }))));
        // 8 of the 10 context drops are the site's chrome: the paragraph is the page's own text.
        assert_eq!(labels[4], Label::Keep);
        assert_eq!(labels[5], context(Placement::AfterOpener), "what follows an opener stays dropped");
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
        assert!(verdict.duplicate_of.is_empty());
    }

    /// The signature pass 1 keeps of a page's kept blocks, and each block's shingle count.
    fn removable(page: &Segmented<'_>, labels: &[Label]) -> (RemovableSignature, Vec<u32>) {
        let mut signature = RemovableSignature::default();
        let mut shingles = vec![0u32; labels.len()];
        for (index, _) in labels.iter().enumerate().filter(|(_, l)| l.is_keep()) {
            fingerprint::for_each_shingle(page.normalized(index), |hash| {
                signature.add(index, hash);
                shingles[index] += 1;
            });
        }
        (signature, shingles)
    }

    #[test]
    fn a_page_is_signed_without_its_text_as_with_it() {
        let texts: Vec<String> = (0..5).map(|i| format!("{MENU}{}", body(i))).collect();
        let recurrence = Recurrence::default();
        let pages: Vec<PageSummary> =
            texts.iter().map(|t| summarize(&segment(t), None, &recurrence)).collect();
        let chrome = provisional(&recurrence, &CorpusOptions::default());
        let site = pages[0].site;
        let page = segment(&texts[0]);
        let keys = || page.blocks.iter().map(|b| b.key);
        // The page pass kept the menu: site chrome takes it out of the signature.
        let all_kept = vec![Label::Keep; page.blocks.len()];
        let (signature, shingles) = removable(&page, &all_kept);
        let expected = fingerprint(&page, &all_kept, site, &chrome);
        assert_ne!(expected, signature.finish());
        let without_text =
            fingerprint_without_text(&signature, &all_kept, |b| shingles[b], keys(), site, &chrome);
        assert_eq!(without_text, Some(expected));
        // No chrome: the signature as it was.
        let unchanged = fingerprint_without_text(
            &signature,
            &all_kept,
            |b| shingles[b],
            keys(),
            site,
            &SiteChrome::default(),
        );
        // (With the text key of the blocks the page pass kept: all of them here.)
        assert_eq!(
            unchanged,
            Some(Fingerprint { text_key: dedup::text_key(keys().flatten()), ..signature.finish() })
        );
        // The context pass dropped the menu and the last paragraph: site chrome explains the
        // menu, so the paragraph comes back, and its text was never signed.
        let mut context = all_kept.clone();
        for index in [0, 1, 2, 3, page.blocks.len() - 1] {
            context[index] =
                Label::Drop(Reason::Context { why: Placement::BeforeArticle, words: 4, stopword_pct: 0 });
        }
        let (signature, shingles) = removable(&page, &context);
        assert_eq!(
            fingerprint_without_text(&signature, &context, |b| shingles[b], keys(), site, &chrome),
            None
        );
    }

    #[test]
    fn the_page_that_counts_for_a_group_does_not_depend_on_input_order() {
        let site = |s| PageSummary { site: s };
        // Pages 0 and 2 copy page 1 (the centre); page 3 copies it on another site; 4 is alone.
        let groups = Groups {
            duplicate_of: vec![Some((1, 0.7)), None, Some((1, 0.9)), Some((1, 0.8)), None].into(),
            related: Vec::new(),
        };
        let pages = [site(1), site(1), site(1), site(2), site(1)];
        assert_eq!(uncounted(&pages, &groups), [true, false, true, false, false]);
        // Without the centre on site 1, its closest copy there counts, wherever it is listed.
        let pages = [site(1), site(2), site(1), site(2), site(1)];
        assert_eq!(uncounted(&pages, &groups), [true, false, false, true, false]);
    }
}
