//! Site chrome found from one page's text alone: phrase rules for the chrome families, block
//! features, and a context pass that finds the article as the densest run of prose.
//!
//! 1. Every block gets [`Features`] and is matched against the phrase rules ([`super::rules`]:
//!    the built-in `data/chrome-phrases.txt`, plus `--rules`) and the line tests below (date
//!    lines, link lists, button lines, credits).
//! 2. The article ends at the first section opener ("Related Articles", "You may also like", ...)
//!    that follows some prose; everything after it goes, long teaser paragraphs included.
//! 3. Before that cut, the article is the contiguous run of blocks with the highest score
//!    (maximum subarray): prose blocks score their word count, short lines cost a little and
//!    chrome phrases cost more, so headings, list items and table rows between paragraphs stay
//!    while menus and footers fall outside.
//! 4. Inside the run, blocks that match a chrome phrase still go; before it, the nearest
//!    title-like line stays (the page's title).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BinaryHeap;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use super::rules::{builtin, How, PageHits, Rule, UserRules, Wanted, CONTAINS_MAX_WORDS, KEEP_FAMILY};
use crate::features::{self, Features, Language, StopwordHits, LANGUAGE_SAMPLE_BYTES};
use crate::label::{KeepNote, Label, Placement, Reason};
use crate::segment::{Block, BlockKind, Segmented};

/// A block with at least this many words and [`PROSE_MIN_STOPWORD_SHARE`] stopwords is prose.
pub const PROSE_MIN_WORDS: u32 = 10;
/// Words from which a block that holds a URL or an address is still prose: a paragraph that
/// names a web site ("more at www.example.org") is running text, a short line with one a link.
pub const PROSE_LINK_MIN_WORDS: u32 = 20;
/// Share of stopwords in a page's longest blocks under which its language is taken to have no
/// list: then the stopword share does not decide what is prose.
pub const UNLISTED_MAX_SHARE: f64 = 0.05;
/// Words a page's language sample needs before its lack of stopwords says anything: a page of
/// a few lines is measured with the lists whatever it holds.
pub const UNLISTED_MIN_WORDS: u32 = 50;
/// Minimum stopword share of prose.
pub const PROSE_MIN_STOPWORD_SHARE: f64 = 0.18;
/// Cap on the score one prose block adds, so a single huge block does not decide alone.
pub const PROSE_MAX_SCORE: f64 = 120.0;
/// Most words of a block that the separator rule calls a link list.
pub const LINK_LIST_MAX_WORDS: u32 = 20;
/// Cost of a short line that is neither prose nor a chrome phrase.
pub const SHORT_LINE_COST: f64 = 2.5;
/// Cost of a block that matches a chrome phrase.
pub const PHRASE_COST: f64 = 8.0;
/// Words of prose that must precede a section opener for it to end the article.
pub const OPENER_MIN_PROSE_WORDS: u32 = 40;
/// Share of the article run's prose that must precede a section opener for it to end the article.
pub const OPENER_MIN_PROSE_SHARE: f64 = 0.25;
/// How many blocks before the article the title may stand.
pub const TITLE_LOOKBACK: usize = 8;
/// Most lines (bylines, date lines, credits) between a lead paragraph and the article.
pub const LEAD_LOOKBACK: usize = 6;
/// Most lines between the article and a last paragraph behind share buttons.
pub const TAIL_LOOKAHEAD: usize = 8;
/// Families of the lines that may stand between a lead paragraph and the article.
pub const LEAD_GAP_FAMILIES: &[&str] =
    &["byline", "dateline", "caption", "copyright", "share", "ads", "follow"];
/// A section label that opens a story card after the article has at most this many words.
pub const CARD_LABEL_MAX_WORDS: u32 = 4;
/// Share of the run's prose that must stand before the first story card for the cards to end it.
pub const CARDS_MIN_PROSE_SHARE: f64 = 0.5;

/// Blocks after a section opener in which a long paragraph makes it an inline link box.
pub const INLINE_LOOKAHEAD: usize = 3;
/// Most short lines after an opener inside the article that go as the links of its box.
pub const INLINE_BOX_MAX_ITEMS: usize = 8;
/// Words of a paragraph that, close after an opener, marks the article going on.
pub const INLINE_PROSE_WORDS: u32 = 50;

/// What a block is to the context pass.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Class {
    /// Already dropped (a repeat): ignored by the context pass.
    Gone,
    /// A user keep rule matched.
    Kept,
    /// A chrome phrase matched (its rule index into the per-page match list).
    Chrome,
    /// A section opener ("Related Articles").
    Opener,
    /// Running prose.
    Prose,
    /// Anything else: headings, list items, short lines.
    Short,
}

#[derive(Default)]
struct Scratch {
    word: String,
    features: Vec<Features>,
    hits: Vec<StopwordHits>,
    classes: Vec<Class>,
    rules: Vec<Option<Cow<'static, str>>>,
    /// The blocks by length, for the language sample.
    longest: BinaryHeap<(usize, std::cmp::Reverse<usize>)>,
    builtin_hits: PageHits,
    user_hits: PageHits,
    names: Vec<(String, String)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Marks chrome blocks of `page` in `labels` (blocks already dropped stay dropped).
pub fn mark(page: &Segmented<'_>, host: Option<&str>, rules: &UserRules, labels: &mut [Label]) {
    SCRATCH.with(|scratch| mark_with(page, host, rules, labels, None, &mut scratch.borrow_mut()));
}

/// Why the page pass kept what it kept, and how it measured the page: for the explain view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Explanation {
    /// By block: why it is kept (`None` for a dropped block).
    pub notes: Vec<Option<KeepNote>>,
    /// The stopword list the page was measured with (`None`: all lists at once).
    pub language: Option<&'static str>,
    /// False when the page's language has no list (under [`UNLISTED_MAX_SHARE`] stopwords):
    /// prose was then told by length and punctuation alone.
    pub listed: bool,
}

/// [`mark`], and why each block it keeps is kept: for the explain view.
pub fn mark_explained(
    page: &Segmented<'_>,
    host: Option<&str>,
    rules: &UserRules,
    labels: &mut [Label],
) -> Explanation {
    let mut explanation = Explanation { notes: vec![None; labels.len()], language: None, listed: true };
    SCRATCH.with(|scratch| {
        mark_with(page, host, rules, labels, Some(&mut explanation), &mut scratch.borrow_mut())
    });
    explanation
}

/// How the context pass kept a block (what [`KeepNote`] it gets, when notes are asked for).
#[derive(Clone, Copy)]
enum KeptAs {
    Title,
    NoteAfterShare,
    Rule,
    Article,
}

fn mark_with(
    page: &Segmented<'_>,
    host: Option<&str>,
    user: &UserRules,
    labels: &mut [Label],
    mut explain: Option<&mut Explanation>,
    s: &mut Scratch,
) {
    let blocks = &page.blocks;
    let n = blocks.len();
    if n == 0 {
        return;
    }
    // Features and stopword counts of every block; then the page's language, guessed from its
    // longest blocks (up to LANGUAGE_SAMPLE_BYTES), decides which counts are the stopwords.
    s.features.clear();
    s.hits.clear();
    // Measured as the page was segmented (read in place), or now.
    let hits: &[StopwordHits] = match page.measures() {
        Some((measured, hits)) => {
            s.features.extend_from_slice(measured);
            hits
        }
        None => {
            for (block, label) in blocks.iter().zip(labels.iter()) {
                // A repeat with the same text as its first copy has its features.
                if let Label::Drop(Reason::Repeat { of }) = *label {
                    let of = of as usize;
                    if blocks[of].text == block.text {
                        let (f, hits) = (s.features[of], s.hits[of]);
                        s.features.push(f);
                        s.hits.push(hits);
                        continue;
                    }
                }
                let mut hits = StopwordHits::default();
                s.features.push(features::features(block.text, &mut hits, &mut s.word));
                s.hits.push(hits);
            }
            &s.hits
        }
    };
    // Longest first, in page order among equals: a heap (built in linear time, its buffer
    // reused) gives the few blocks of the sample without sorting the page.
    let mut longest = std::mem::take(&mut s.longest).into_vec();
    longest.clear();
    longest.extend(blocks.iter().enumerate().map(|(i, b)| (b.text.len(), std::cmp::Reverse(i))));
    let mut longest = BinaryHeap::from(longest);
    let (mut sample, mut sampled, mut sample_words) = (StopwordHits::default(), 0, 0);
    while let Some((_, std::cmp::Reverse(i))) = longest.pop() {
        if sampled >= LANGUAGE_SAMPLE_BYTES {
            break;
        }
        sample.add(&hits[i]);
        sampled += blocks[i].text.len() + 1;
        sample_words += s.features[i].words;
    }
    s.longest = longest;
    let language = Language::guess(&sample);
    // A page in a language without a list (Bengali, Greek, ...) has almost no stopwords in its
    // longest blocks: prose is then told by length and punctuation alone, as jusText does
    // without a stoplist. A page too short to tell is measured with the lists.
    let listed = sample_words < UNLISTED_MIN_WORDS
        || f64::from(sample.of(language)) >= UNLISTED_MAX_SHARE * f64::from(sample_words);
    if let Some(explain) = explain.as_deref_mut() {
        explain.language = language.code();
        explain.listed = listed;
    }
    for (f, hits) in s.features.iter_mut().zip(hits) {
        f.stopwords = hits.of(language);
    }

    s.classes.clear();
    s.rules.clear();
    // Blocks gone already are not searched, and blocks too long for `contains` phrases only
    // for the `anywhere` ones.
    let wanted = |index: usize| Wanted::of(s.features[index].words, !labels[index].is_keep());
    s.builtin_hits.search_builtin(page, wanted);
    if let Some(user_rules) = &user.rules {
        s.user_hits.search(user_rules, page, wanted);
    }
    for (index, (block, label)) in blocks.iter().zip(labels.iter()).enumerate() {
        let f = s.features[index];
        if !label.is_keep() {
            s.classes.push(Class::Gone);
            s.rules.push(None);
            continue;
        }
        let norm = page.normalized(index);
        let phrase =
            user.rules.as_ref().and_then(|r| s.user_hits.find(r, index, norm, block.key, f.words, host));
        // The user's rules: a keep rule of either kind wins, then a phrase, then a pattern.
        let pattern = user.patterns.as_ref().and_then(|p| p.find(block.text, host));
        let found = match (phrase, pattern) {
            (Some(p), _) if p.keep => Some(p),
            (_, Some(p)) if p.keep => Some(p),
            (phrase, pattern) => phrase.or(pattern),
        };
        let mut rule =
            found.or_else(|| s.builtin_hits.find(builtin(), index, norm, block.key, f.words, host)).cloned();
        if rule.is_none() && f.words <= CONTAINS_MAX_WORDS {
            rule = raw_rule(block.text, &f);
        }
        if rule.is_none() && is_widget_line(norm, f.words) {
            rule = Some(feature_rule("share", How::Line));
        }
        let class = match &rule {
            Some(r) if r.keep => Class::Kept,
            Some(r) if r.family == "opener" => Class::Opener,
            Some(_) => Class::Chrome,
            None if is_prose(&f, block.kind, listed) => Class::Prose,
            None if is_dateline(&f, block.text) => {
                rule = Some(feature_rule("dateline", How::Line));
                Class::Chrome
            }
            None if block.kind != BlockKind::TableRow
                && f.words <= LINK_LIST_MAX_WORDS
                && (f.separators + features::spaced_slashes(block.text) >= 2
                    || (f.link_like && f.words <= 3)) =>
            {
                rule = Some(feature_rule("link list", How::Line));
                Class::Chrome
            }
            None => Class::Short,
        };
        s.classes.push(class);
        s.rules.push(rule.map(|r| r.family));
    }

    // Author names, from the byline and date lines: a block late in the article that starts
    // with one is the author's bio ("Jane Doe is a reporter at ..."), or the name over it.
    s.names.clear();
    for (i, rule) in s.rules.iter().enumerate() {
        if matches!(rule.as_deref(), Some("byline" | "dateline")) {
            collect_names(blocks[i].text, &mut s.names);
        }
    }

    // The article is the densest run of prose; when a section opener or a list of story cards
    // stands inside that run after a fair share of its prose, the article ends there and the run
    // is found again before it. An opener before most of the prose (a "Most read" box above the
    // article) cuts nothing. Then the author's bio goes, and a lead over the byline joins.
    let article = |s: &Scratch, range: std::ops::Range<usize>| {
        densest_run(range, |i| run_score(s.classes[i], &s.features[i]))
    };
    let mut cut = n;
    let mut run = article(s, 0..n);
    if let Some(end_at) = run.and_then(|(start, end)| article_end(s, labels, start, end)) {
        cut = end_at;
        run = article(s, 0..cut);
    }
    if let Some((start, end)) = run {
        if mark_author_bio(s, blocks, start, end) {
            run = article(s, 0..cut);
        }
    }
    let best_start = run.map_or(0, |(start, _)| lead_start(s, blocks, start));
    let best_end = run.map(|(_, end)| end);
    let note = best_end.and_then(|end| tail_note(s, blocks, end, cut));

    let Some(end) = best_end else {
        // No prose at all (a page of only a table or a list): drop only what the rules name.
        for (i, (label, (class, rule))) in labels.iter_mut().zip(s.classes.iter().zip(&s.rules)).enumerate() {
            if matches!(class, Class::Chrome | Class::Opener) {
                *label = chrome(rule);
            } else if let (Some(explain), true) = (explain.as_deref_mut(), label.is_keep()) {
                explain.notes[i] = Some(match class {
                    Class::Kept => KeepNote::Rule(rule.clone().unwrap_or(Cow::Borrowed(KEEP_FAMILY))),
                    _ => KeepNote::NoArticle,
                });
            }
        }
        return;
    };
    // The title: the nearest title-like short line before the article. When that line repeats an
    // earlier one (the page title at the top, again as the heading over the article), the first
    // copy is the one kept if it is title-like itself ("Title | Site" is not: then the heading).
    // A repeat of a line that a rule names (a dateline, a menu entry) is no title.
    let title = (best_start.saturating_sub(TITLE_LOOKBACK)..best_start).rev().find_map(|i| {
        let title_like = |j: usize| is_title(&s.features[j], blocks[j].text, blocks[j].kind);
        match (&labels[i], s.classes[i]) {
            (_, Class::Short) if title_like(i) => Some(i),
            // A headline that reads as prose: one short sentence, often a question.
            (_, Class::Prose) if title_like(i) && is_one_sentence(blocks[i].text) => Some(i),
            (Label::Drop(Reason::Repeat { of }), Class::Gone) if title_like(i) => {
                // Only an exact repeat: a block taken into a pasted run is no copy of its title.
                let first = *of as usize;
                (s.classes[first] == Class::Short && blocks[first].key == blocks[i].key).then(|| {
                    if title_like(first) {
                        first
                    } else {
                        i
                    }
                })
            }
            _ => None,
        }
    });

    // Short lines right after an opener inside the article (a "Related" box between its
    // paragraphs) are the box's links, up to the next paragraph.
    let mut box_items = 0;
    for (i, label) in labels.iter_mut().enumerate() {
        box_items = match s.classes[i] {
            Class::Opener if (best_start..=end).contains(&i) => INLINE_BOX_MAX_ITEMS,
            Class::Short if box_items > 0 => box_items - 1,
            Class::Gone | Class::Chrome => box_items,
            _ => 0,
        };
        let in_box = s.classes[i] == Class::Short && box_items > 0 && i <= end;
        let f = &s.features[i];
        let context = |why: Placement| {
            Label::Drop(Reason::Context {
                why,
                words: f.words,
                stopword_pct: (f.stopword_share() * 100.0).round() as u8,
            })
        };
        let kept_as = match s.classes[i] {
            _ if Some(i) == title => KeptAs::Title,
            _ if Some(i) == note => KeptAs::NoteAfterShare,
            Class::Gone => continue,
            Class::Kept => KeptAs::Rule,
            Class::Chrome | Class::Opener => {
                *label = chrome(&s.rules[i]);
                continue;
            }
            _ if i < best_start => {
                *label = context(Placement::BeforeArticle);
                continue;
            }
            _ if in_box => {
                *label = context(Placement::AfterOpener);
                continue;
            }
            _ if i <= end => KeptAs::Article,
            _ => {
                *label = context(if i < cut { Placement::AfterArticle } else { Placement::AfterOpener });
                continue;
            }
        };
        *label = Label::Keep;
        if let Some(explain) = explain.as_deref_mut() {
            let (words, stopword_pct) = (f.words, (f.stopword_share() * 100.0).round() as u8);
            explain.notes[i] = Some(match kept_as {
                KeptAs::Title => KeepNote::Title,
                KeptAs::NoteAfterShare => KeepNote::NoteAfterShare { words, stopword_pct },
                KeptAs::Rule => KeepNote::Rule(s.rules[i].clone().unwrap_or(Cow::Borrowed(KEEP_FAMILY))),
                KeptAs::Article if s.classes[i] == Class::Prose => {
                    KeepNote::ArticleProse { words, stopword_pct }
                }
                KeptAs::Article => KeepNote::ArticleLine { words, stopword_pct },
            });
        }
    }
}

/// What a block adds to the article run: prose its words (up to [`PROSE_MAX_SCORE`]), other
/// lines a small cost, chrome phrases and openers more.
fn run_score(class: Class, f: &Features) -> f64 {
    match class {
        Class::Gone => 0.0,
        Class::Kept => 1.0,
        Class::Prose => f64::from(f.words).min(PROSE_MAX_SCORE),
        Class::Chrome | Class::Opener => -PHRASE_COST,
        Class::Short => -SHORT_LINE_COST,
    }
}

/// Where the article run `start..=end` ends early, if it does: at a section opener after a
/// fair share of its prose (unless a long paragraph follows it: a "Read also" box inside the
/// article), or at a list of story cards.
fn article_end(s: &Scratch, labels: &[Label], start: usize, end: usize) -> Option<usize> {
    let n = s.classes.len();
    let prose = |range: std::ops::Range<usize>| -> u32 {
        range.filter(|&i| s.classes[i] == Class::Prose).map(|i| s.features[i].words).sum()
    };
    let total = prose(start..end + 1);
    // An opener with a long paragraph right after it is a link box inside the article
    // ("Read also: <headline>", then the article goes on), not a trailing section.
    let inline = |i: usize| {
        (i + 1..(i + 1 + INLINE_LOOKAHEAD).min(n))
            .any(|j| s.classes[j] == Class::Prose && s.features[j].words >= INLINE_PROSE_WORDS)
    };
    let opener = (start..=end).find(|&i| {
        s.classes[i] == Class::Opener && {
            let before = prose(start..i);
            before >= OPENER_MIN_PROSE_WORDS
                && f64::from(before) >= OPENER_MIN_PROSE_SHARE * f64::from(total)
                && !inline(i)
        }
    });
    // A list of story cards after the article: each card opens with a copy of a short line
    // from above the article (its section label, as in the menu), then a headline and a
    // teaser. Two such copies inside the run, after half its prose, end it.
    let separator = |i: usize| match labels[i] {
        Label::Drop(Reason::Repeat { of }) => {
            let of = of as usize;
            let label = &s.features[of];
            of < start
                && s.classes[of] == Class::Short
                && label.words <= CARD_LABEL_MAX_WORDS
                && label.digits == 0
        }
        _ => false,
    };
    let cards = (start..=end).find(|&i| {
        separator(i) && {
            let before = prose(start..i);
            before >= OPENER_MIN_PROSE_WORDS
                && f64::from(before) >= CARDS_MIN_PROSE_SHARE * f64::from(total)
                && (i + 1..=end).any(&separator)
        }
    });
    [opener, cards].into_iter().flatten().min()
}

/// Marks the author's bio in the article run `start..=end` as chrome: a block in the second
/// half of its prose that starts with a name from the byline ("Jane Doe is a reporter at ..."),
/// or the name line over it. True when it found one: then the run must be found again (the
/// bio's prose would carry it past the lines between the article and the bio).
fn mark_author_bio(s: &mut Scratch, blocks: &[Block<'_>], start: usize, end: usize) -> bool {
    if s.names.is_empty() {
        return false;
    }
    let prose_words = |i: usize| if s.classes[i] == Class::Prose { s.features[i].words } else { 0 };
    let total: u32 = (start..=end).map(prose_words).sum();
    let mut seen = 0;
    let half = (start..=end)
        .find(|&i| {
            seen += prose_words(i);
            prose_words(i) > 0 && 2 * seen >= total
        })
        .unwrap_or(end);
    // The bio, and the name line over it; a name line with no bio under it is the author's
    // sign-off ("Yours, / Jane Doe"), part of the article. Marking a block changes no later
    // block's test, so they are marked as they are found.
    let mut found = false;
    for i in half + 1..=end {
        let bio = matches!(s.classes[i], Class::Prose | Class::Short)
            && starts_with_name(blocks[i].text, &s.names)
            && (s.features[i].words > NAME_LINE_MAX_WORDS
                || (i + 1..=end).find(|&j| s.classes[j] != Class::Gone).is_some_and(|j| {
                    s.features[j].words > NAME_LINE_MAX_WORDS && starts_with_name(blocks[j].text, &s.names)
                }));
        if bio {
            s.classes[i] = Class::Chrome;
            s.rules[i] = Some(Cow::Borrowed("author bio"));
            found = true;
        }
    }
    found
}

/// Most words of a line that is only the author's name (over a bio, or signing off).
pub const NAME_LINE_MAX_WORDS: u32 = 3;

/// Where the article starts once its lead joins: a paragraph under the headline, parted from
/// the run starting at `start` only by byline, date line, credit or share lines.
fn lead_start(s: &Scratch, blocks: &[Block<'_>], start: usize) -> usize {
    let mut i = start;
    let mut skipped = 0;
    while i > 0 && skipped <= LEAD_LOOKBACK {
        i -= 1;
        match s.classes[i] {
            Class::Gone => continue,
            Class::Chrome if s.rules[i].as_deref().is_some_and(|r| LEAD_GAP_FAMILIES.contains(&r)) => {
                skipped += 1;
            }
            Class::Prose if skipped > 0 => {
                let headline = (0..i).rev().find(|&j| s.classes[j] != Class::Gone).is_some_and(|j| {
                    s.classes[j] == Class::Short && is_title(&s.features[j], blocks[j].text, blocks[j].kind)
                });
                return if headline { i } else { start };
            }
            _ => break,
        }
    }
    start
}

/// A last paragraph of the article behind its share buttons (a note under a graphic): prose that
/// ends a sentence, parted from the run ending at `end` only by share lines, bylines, date lines,
/// credits and short lines, with at least one share line among them. The lines between go.
fn tail_note(s: &Scratch, blocks: &[Block<'_>], end: usize, cut: usize) -> Option<usize> {
    let mut skipped = 0;
    let mut shares = 0;
    let mut i = end + 1;
    while i < cut && skipped <= TAIL_LOOKAHEAD {
        match s.classes[i] {
            Class::Gone => {}
            Class::Chrome if s.rules[i].as_deref().is_some_and(|r| LEAD_GAP_FAMILIES.contains(&r)) => {
                skipped += 1;
                shares += usize::from(s.rules[i].as_deref() == Some("share"));
            }
            Class::Short if s.features[i].words <= 3 => skipped += 1,
            Class::Prose
                if shares > 0
                    && s.features[i].ends_sentence
                    && !starts_with_name(blocks[i].text, &s.names) =>
            {
                return Some(i);
            }
            _ => break,
        }
        i += 1;
    }
    None
}

/// The contiguous run of `range` with the highest total score (maximum subarray), if any run
/// scores above zero.
fn densest_run(range: std::ops::Range<usize>, score: impl Fn(usize) -> f64) -> Option<(usize, usize)> {
    let (mut best, mut best_run) = (0.0f64, None);
    let (mut sum, mut start) = (0.0f64, range.start);
    for i in range {
        if sum <= 0.0 {
            sum = 0.0;
            start = i;
        }
        sum += score(i);
        if sum > best {
            best = sum;
            best_run = Some((start, i));
        }
    }
    best_run
}

fn chrome(rule: &Option<Cow<'static, str>>) -> Label {
    Label::Drop(Reason::Chrome { rule: rule.clone().unwrap_or(Cow::Borrowed("chrome")) })
}

/// Marks in the raw text (case and punctuation matter) of chrome in short blocks: copyright
/// signs, photo credits, comment headers ("Anna says:").
const CREDIT_MARKS: &[&str] = &[
    "Foto:",
    "Fotos:",
    "Photo:",
    "Photos:",
    "Bild:",
    "Image:",
    "Fuente:",
    "Źródło:",
    "Quelle:",
    "Crédito:",
    "(crédito:",
    "Credit:",
    "Crédit photo",
    "Photo credit",
    "/ AFP",
    "/AFP",
    "(AFP)",
    "/ Reuters",
    "/Reuters",
    "photo:",
    "foto:",
    "Fot.",
    "PAP/",
    "/ Agencja Gazeta",
    "(c) 19",
    "(c) 20",
    "(C) 19",
    "(C) 20",
];
/// Every [`CREDIT_MARKS`] entry holds `:`, `/` or `(`, or one of these (a test checks): a block
/// with none of them is not searched for the marks. Each is four bytes with an `o` second.
const CREDIT_MARK_HINTS: [&[u8; 4]; 2] = [b"Fot.", b"hoto"];

/// Whether `text`, of features `f`, may hold a credit mark: it holds `:`, `/` or `(` (as its
/// features say, found in the one scan of its bytes) or one of [`CREDIT_MARK_HINTS`], looked
/// for around each `o`: one pass for both hints (a `memmem` search for each cost more on these
/// short blocks; so did comparing every four bytes).
fn may_hold_credit_mark(text: &str, f: &Features) -> bool {
    let bytes = text.as_bytes();
    f.credit_punctuation
        || memchr::memchr_iter(b'o', bytes).any(|at| {
            at >= 1
                && bytes.get(at - 1..at + 3).is_some_and(|four| CREDIT_MARK_HINTS.iter().any(|h| four == *h))
        })
}

/// Endings of comment headers.
const COMMENT_HEADER_ENDS: &[&str] =
    &["sagt:", "says:", "said:", "dit :", "dit:", "schreibt:", "escribió:", "wrote:"];

/// `text` ends with the word(s) `ending`, not with the end of a longer word ("Max sagt:", not
/// "Autokredit:" for "dit:").
fn ends_with_word(text: &str, ending: &str) -> bool {
    text.strip_suffix(ending).is_some_and(|before| before.is_empty() || before.ends_with(char::is_whitespace))
}

/// The built-in rule that the raw `text` of a short block (of features `f`) calls for, when no
/// phrase did: a copyright line, a photo credit, a comment header, or links to the previous and
/// next post.
fn raw_rule(text: &str, f: &Features) -> Option<Rule> {
    static MARKS: OnceLock<AhoCorasick> = OnceLock::new();
    let marks = MARKS.get_or_init(|| AhoCorasick::new(CREDIT_MARKS).expect("credit marks compile"));
    let family = if f.copyright_sign {
        "copyright"
    } else if may_hold_credit_mark(text, f) && marks.is_match(text) {
        "caption"
    } else if f.words <= 8 && COMMENT_HEADER_ENDS.iter().any(|e| ends_with_word(text, e)) {
        "comments"
    } else if text.starts_with('←') || text.ends_with('→') {
        // Links to the previous and next post: "← Older title   Newer title →".
        "nav"
    } else {
        return None;
    };
    Some(feature_rule(family, How::Contains))
}

/// A drop rule of a built-in `family` that a test of the block's text or features found, not a
/// phrase of the rules file.
fn feature_rule(family: &'static str, how: How) -> Rule {
    Rule { family: Cow::Borrowed(family), how, keep: false, host: None }
}

/// A word of share, save and comment buttons or of the networks they name, normalised (lower
/// case, digits as `0`: "Facebook 0 Twitter 0"). A `match`, which compiles to a switch on the
/// length and then a few compares: this runs for every short block no rule names.
fn is_widget_word(word: &str) -> bool {
    matches!(
        word,
        "0" | "adjust"
            | "comment"
            | "commenter"
            | "comments"
            | "compartilhar"
            | "compartir"
            | "condividi"
            | "copy"
            | "drucken"
            | "drukuj"
            | "e"
            | "email"
            | "facebook"
            | "flipboard"
            | "gefällt"
            | "imprimer"
            | "imprimir"
            | "instagram"
            | "kommentar"
            | "kommentare"
            | "kommentieren"
            | "like"
            | "likes"
            | "link"
            | "linkedin"
            | "mail"
            | "merken"
            | "message"
            | "messenger"
            | "mir"
            | "partager"
            | "pin"
            | "pinterest"
            | "pocket"
            | "print"
            | "reddit"
            | "save"
            | "send"
            | "share"
            | "sms"
            | "speichern"
            | "stampa"
            | "teilen"
            | "telegram"
            | "tumblr"
            | "tweet"
            | "tweeten"
            | "twitter"
            | "twittern"
            | "udostępnij"
            | "versenden"
            | "whatsapp"
            | "xing"
    )
}

/// A short line made only of button words ("Share Adjust Comment Print", "Facebook Twitter
/// Email"): share chrome, though no phrase rule names the whole line. One word is left to the
/// phrase rules, and a line of numbers ("0 2 4 6 8") is none.
fn is_widget_line(norm: &str, words: u32) -> bool {
    (2..=8).contains(&words) && norm.split(' ').all(is_widget_word) && norm.split(' ').any(|word| word != "0")
}

/// Running prose: enough words, enough stopwords, not a link list.
fn is_prose(f: &Features, kind: BlockKind, listed: bool) -> bool {
    let long_enough = f.words >= PROSE_MIN_WORDS || (f.words >= 6 && f.ends_sentence);
    long_enough
        && (!listed || f.stopword_share() >= PROSE_MIN_STOPWORD_SHARE)
        && (!f.link_like || f.words >= PROSE_LINK_MIN_WORDS)
        && (f.ends_sentence || f.words >= 2 * PROSE_MIN_WORDS || kind != BlockKind::Text)
}

/// A short line made of a date or time and a few words ("- 06:42 PM, Jun 21, 2025").
fn is_dateline(f: &Features, text: &str) -> bool {
    if f.words > 8 || f.ends_sentence || f.digits < 4 {
        return false;
    }
    let bytes = text.as_bytes();
    let has_year = bytes
        .windows(4)
        .any(|w| (w.starts_with(b"19") || w.starts_with(b"20")) && w.iter().all(u8::is_ascii_digit));
    let has_time = bytes
        .windows(4)
        .any(|w| w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit() && w[3].is_ascii_digit());
    let date_like = bytes.windows(4).any(|w| {
        w[0].is_ascii_digit()
            && matches!(w[1], b'-' | b'/' | b'.')
            && w[2].is_ascii_digit()
            && w[3].is_ascii_digit()
    });
    has_time
        || (date_like && has_year)
        || (has_year && f.words <= 4 && f.digits * 4 >= f.chars)
        || (has_year && f.words <= DATELINE_MONTH_MAX_WORDS && names_a_month(text))
}

/// Most words of a date line that spells its month ("Dienstag, 1. Februar 2022").
pub const DATELINE_MONTH_MAX_WORDS: u32 = 6;

/// Month names in the devset's main languages, lower case (Polish in the genitive of dates).
const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "januar",
    "jänner",
    "februar",
    "märz",
    "mai",
    "juni",
    "juli",
    "oktober",
    "dezember",
    "janvier",
    "février",
    "mars",
    "avril",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
    "gennaio",
    "febbraio",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "settembre",
    "ottobre",
    "dicembre",
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
];

/// `text` holds a month's name as a word.
fn names_a_month(text: &str) -> bool {
    text.split(|c: char| !c.is_alphabetic()).filter(|word| word.len() >= 3).any(|word| {
        if word.is_ascii() {
            MONTHS.iter().any(|month| word.eq_ignore_ascii_case(month))
        } else {
            MONTHS.contains(&word.to_lowercase().as_str())
        }
    })
}

/// Collects the pairs of capitalised words of `text` (a byline: "By Jane Doe, 21 June"),
/// lower-cased: the author names it may hold.
fn collect_names(text: &str, names: &mut Vec<(String, String)>) {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '|' | ':' | ';' | '(' | ')' | '/'))
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(2) {
        let capitalised = |w: &str| {
            w.chars().count() >= 2
                && w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().skip(1).all(|c| c.is_lowercase() || c == '-')
        };
        let name = |w: &str| capitalised(w) && !features::is_stopword(w);
        if name(pair[0]) && name(pair[1]) {
            names.push((pair[0].to_lowercase(), pair[1].to_lowercase()));
        }
    }
}

/// The block starts with one of `names` (its first two words, lower-cased).
fn starts_with_name(text: &str, names: &[(String, String)]) -> bool {
    if names.is_empty() {
        return false;
    }
    let mut words = text.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty());
    let (Some(first), Some(second)) = (words.next(), words.next()) else { return false };
    let same = |word: &str, name: &str| word.chars().flat_map(char::to_lowercase).eq(name.chars());
    names.iter().any(|(a, b)| same(first, a) && same(second, b))
}

/// One sentence, not a lead-in: no sentence ends inside ("Like what you read? Share it!") and
/// no colon at the end ("We recommend:").
fn is_one_sentence(text: &str) -> bool {
    let text = text.trim_end();
    !text.ends_with(':') && !["? ", "! ", ". "].iter().any(|end| text.contains(end))
}

/// A title: a few words, not a sentence ending in a full stop, no separators or links.
fn is_title(f: &Features, text: &str, kind: BlockKind) -> bool {
    kind == BlockKind::Text
        && (3..=30).contains(&f.words)
        && !text.ends_with('.')
        && f.separators == 0
        && features::spaced_slashes(text) <= 1
        && !f.link_like
        && f.digits * 3 < f.chars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::segment;

    fn classify(text: &str) -> Vec<(String, Label)> {
        let page = segment(text);
        let mut labels = vec![Label::Keep; page.blocks.len()];
        crate::page::repeats::mark(&page, &mut labels, &mut Default::default());
        mark(&page, None, &UserRules::default(), &mut labels);
        page.blocks.iter().map(|b| b.text.to_string()).zip(labels).collect()
    }

    fn kept(text: &str) -> Vec<String> {
        classify(text).into_iter().filter(|(_, l)| l.is_keep()).map(|(t, _)| t).collect()
    }

    const BODY: &str = "Japan has cancelled a high-level meeting with its closest ally the United States, after the administration abruptly demanded that Tokyo spend more on defence.\n\
        The meeting was expected to take place in Washington on July 1, and it would have been the first such meeting of the two governments this year.\n\
        A senior official said the decision was also influenced by the upcoming elections, in which the ruling party is expected to lose seats.\n";

    #[test]
    fn menus_before_and_related_stories_after_the_article_go() {
        let page = format!(
            "Menu\nSearch\nWorld | Business | Sport\nJapan cancels security talks\n{BODY}Related Articles\n\
             Vice President JD Vance has surged as a clear frontrunner in early polling for the 2028 Republican presidential nomination, according to a new survey of the voters.\n"
        );
        let kept = kept(&page);
        assert_eq!(kept[0], "Japan cancels security talks");
        assert_eq!(kept.len(), 4, "{kept:?}");
    }

    #[test]
    fn an_opener_with_a_long_paragraph_after_it_does_not_end_the_article() {
        let long = "Officials in Tokyo said the alliance remained strong, but that the budget would be decided by Japan alone and not under any pressure from abroad, and that the talks would resume once both sides had time to prepare. The opposition said the government had been caught off guard, and asked for a debate in parliament on the future of the alliance and on the cost of the new fighter jets.";
        // The article goes on after the box; the box's headline (a link) goes with its opener.
        let page = format!("{BODY}Read also\nTokyo weighs its options\n{long}\n");
        let kept_blocks = kept(&page);
        assert_eq!(kept_blocks.len(), 4, "{:?}", classify(&page));
        assert_eq!(kept_blocks[3], long);
        let page = format!("{BODY}Related Articles\nTokyo weighs its options\nA short teaser about the talks, in one line.\n");
        assert_eq!(kept(&page).len(), 3, "{:?}", classify(&page));
    }

    #[test]
    fn a_lead_parted_from_the_article_by_its_byline_stays() {
        let page = format!(
            "Menu\nJapan cancels security talks\nTokyo says the talks will resume once both sides are ready, and that the alliance is as strong as ever.\nBy Jane Doe\n06:42 PM, Jun 21, 2025\nPhoto: Reuters\nShare on Facebook\n{BODY}"
        );
        let kept = kept(&page);
        assert_eq!(kept.len(), 5, "{:?}", classify(&page));
        assert!(kept[1].starts_with("Tokyo says"));
    }

    #[test]
    fn a_note_behind_share_buttons_stays_but_a_comment_does_not() {
        let note = "Because there are too many parties, and many run in only a few states, we have shown the largest ones.";
        // The lines between cost more than the note's words: the densest run ends before them.
        let page = format!(
            "{BODY}Share on Facebook\nShare on Twitter\nCopy link\nDownload graphic\nCopy text\n{note}\n"
        );
        let with_share = kept(&page);
        assert_eq!(with_share.len(), 4, "{:?}", classify(&page));
        assert_eq!(with_share[3], note);
        // Without share buttons between them, a paragraph after short lines is no part of it.
        let page = format!("{BODY}Monika\nMarch 8, 2018\nJune 1, 2019\nTuesday, 5 May 2020\n{note}\n");
        assert_eq!(kept(&page).len(), 3, "{:?}", classify(&page));
    }

    #[test]
    fn the_links_of_a_related_box_inside_the_article_go() {
        let first = "Microsoft said on Thursday it aims to remove more carbon from the atmosphere than it emits by 2030, and to remove all it has emitted since its founding by 2050.";
        let links = "How one company turns carbon into soap\nCanada leads the way in carbon capture\nMicrosoft pushes its cloud to retailers\n";
        let page = format!("{first}\nRelated\n{links}{BODY}{BODY}");
        let labels = classify(&page);
        let survivors: Vec<&str> =
            labels.iter().filter(|(_, l)| l.is_keep()).map(|(t, _)| t.as_str()).collect();
        assert_eq!(survivors.len(), 4, "{labels:?}");
        assert_eq!(survivors[0], first);
        let box_links = labels
            .iter()
            .filter(|(_, l)| matches!(l, Label::Drop(Reason::Context { why: Placement::AfterOpener, .. })));
        assert_eq!(box_links.count(), 3, "{labels:?}");
        // The same short lines with no opener over them sit between paragraphs, and stay.
        let page = format!("{first}\n{links}{BODY}{BODY}");
        assert_eq!(kept(&page).len(), 7, "{:?}", classify(&page));
    }

    #[test]
    fn a_page_in_a_language_without_a_list_is_cleaned_by_length_and_punctuation() {
        // Greek has no stopword list: no block of the page would be prose, and the page would
        // be kept whole, menus and all.
        let article = "Η κυβέρνηση ανακοίνωσε την Πέμπτη ότι θα μειώσει τις δαπάνες του χρόνου, αλλά η αντιπολίτευση λέει ότι η απόφαση πάρθηκε πολύ γρήγορα.\n\
            Ο υπουργός είπε ότι οι συνομιλίες θα συνεχιστούν όταν και οι δύο πλευρές είναι έτοιμες, και ότι η συμμαχία παραμένει ισχυρή.\n\
            Η αντιπολίτευση ζήτησε συζήτηση στη Βουλή για το μέλλον της συμμαχίας και για το κόστος των νέων αεροσκαφών.\n";
        let page = format!(
            "Αρχική\nΠολιτική\nΟικονομία\nΑθλητισμός\nΗ κυβέρνηση μειώνει τις δαπάνες\n{article}\
             Ροή ειδήσεων\nΕπικοινωνία\nEdit with Live CSS\nSave\n"
        );
        let kept = kept(&page);
        assert_eq!(kept.len(), 4, "{:?}", classify(&page));
        assert_eq!(kept[0], "Η κυβέρνηση μειώνει τις δαπάνες");
        assert!(kept[3].starts_with("Η αντιπολίτευση ζήτησε"));
    }

    #[test]
    fn a_question_headline_is_the_title_but_a_pitch_of_two_sentences_is_not() {
        let headline = "What ever became of the Six Sigma craze in management?";
        let page = format!("Menu\nAbout\nThrough the looking glass\n{headline}\nDecember 10, 2019 · by freeman\nLeave a comment\nShare on Facebook\n{BODY}");
        assert_eq!(kept(&page)[0], headline, "{:?}", classify(&page));
        let pitch = "Do you like what you read here? Then share this post with your friends!";
        let page = format!("Menu\nAbout\nThrough the looking glass\n{pitch}\nDecember 10, 2019 · by freeman\nLeave a comment\nShare on Facebook\n{BODY}");
        assert_eq!(kept(&page)[0], "Through the looking glass", "{:?}", classify(&page));
    }

    #[test]
    fn a_line_of_button_words_is_share_chrome() {
        assert!(is_widget_line("share adjust comment print", 4));
        assert!(is_widget_line("facebook 0 twitter 0", 4));
        assert!(!is_widget_line("share", 1));
        assert!(!is_widget_line("0 0 0 0 0", 5));
        assert!(!is_widget_line("share your story", 3));
    }

    #[test]
    fn a_slash_separated_breadcrumb_is_no_title_but_one_slash_may_stand_in_one() {
        let page = format!("Home / Essays / Photography / Aggression\nAggression in photography\n{BODY}");
        let labels = classify(&page);
        assert_eq!(labels[0].1, Label::Drop(Reason::Chrome { rule: "link list".into() }), "{labels:?}");
        assert_eq!(kept(&page)[0], "Aggression in photography");
        let page = format!("Menu\nHoliday home Feinen - Lierfeld / Eifel\n{BODY}");
        assert_eq!(kept(&page)[0], "Holiday home Feinen - Lierfeld / Eifel", "{:?}", classify(&page));
    }

    #[test]
    fn a_wire_storys_sign_off_stays_wherever_it_stands() {
        let page = format!(
            "{BODY}Related Coverage\nSome other story in the news today\nReporting by Jane Doe; Editing by John Roe\n"
        );
        let kept = kept(&page);
        assert_eq!(kept.len(), 4, "{:?}", classify(&page));
        assert!(kept[3].starts_with("Reporting by"));
    }

    #[test]
    fn the_authors_bio_after_the_article_goes() {
        let page = format!(
            "Japan cancels security talks\nBy Jane Doe, June 21\n{BODY}Jane Doe\nJane Doe is a reporter at the Example Times, where she covers Japan and the wider region.\n"
        );
        let labels = classify(&page);
        let bio: Vec<&str> = labels
            .iter()
            .filter(|(_, l)| matches!(l, Label::Drop(Reason::Chrome { rule }) if rule == "author bio"))
            .map(|(t, _)| t.as_str())
            .collect();
        assert_eq!(bio.len(), 2, "{labels:?}");
        assert!(bio[1].starts_with("Jane Doe is a reporter"));
        // The author's name signing off, with no bio under it, is part of the article.
        let after = "Officials in Tokyo said the alliance remained strong, but that the budget would be decided by Japan alone and not under pressure from abroad, and the talks would resume once both sides were ready.";
        let page = format!("Japan cancels security talks\nBy Jane Doe, June 21\n{BODY}Jane Doe\n{after}\n");
        assert!(kept(&page).iter().any(|t| t == "Jane Doe"), "{:?}", classify(&page));
        // A name from the byline's marker words ("By Jane") is no name; nor are two stopwords.
        let (mut names, text) = (Vec::new(), "Por El Planeta Urbano");
        collect_names(text, &mut names);
        assert_eq!(names, [("planeta".to_string(), "urbano".to_string())]);
    }

    #[test]
    fn story_cards_labelled_like_the_menu_end_the_article() {
        let teaser = |headline: &str, text: &str| format!("Business\n{headline}\n{text}\n");
        let page = format!(
            "Menu\nBusiness\nSport\nJapan cancels security talks\n{BODY}{}{}",
            teaser(
                "Carmaker plans a new plant",
                "The company said on Monday that it would build the plant next year, and that it would employ hundreds of workers in the region."
            ),
            teaser(
                "Chipmaker raises its forecast",
                "Shares rose by a tenth after the firm told investors that demand for its memory chips was stronger than it had expected in the spring."
            )
        );
        let kept = kept(&page);
        assert_eq!(kept.len(), 4, "{kept:?}");
        // One copy of a menu label inside the article is no list of cards.
        let page = format!(
            "Menu\nBusiness\nSport\nJapan cancels security talks\n{BODY}{}",
            teaser("More on the talks", "Both sides said that they hoped to meet again before the end of the year, in Tokyo or in Washington.")
        );
        assert_eq!(super::tests::kept(&page).len(), 6, "{:?}", classify(&page));
    }

    #[test]
    fn a_title_repeated_over_the_article_is_kept_once_where_it_first_stood() {
        let page =
            format!("Japan cancels security talks\nMenu\nSearch\nJapan cancels security talks\n{BODY}");
        let labels = classify(&page);
        assert!(labels[0].1.is_keep(), "{labels:?}");
        assert_eq!(labels[3].1, Label::Drop(Reason::Repeat { of: 0 }));
        assert_eq!(kept(&page).len(), 4);
        // A first copy that is no title (a sentence) leaves the heading over the article.
        let page = format!("Japan cancels security talks.\nMenu\nJapan cancels security talks\n{BODY}");
        let labels = classify(&page);
        assert_eq!(labels[2].1, Label::Keep, "{labels:?}");
        assert!(!labels[0].1.is_keep(), "{labels:?}");
        // A repeat of a line that a rule names is no title.
        let labels = classify(&format!("Menu\nNews\nMenu\n{BODY}"));
        assert!(!labels[2].1.is_keep(), "{labels:?}");
        // Nor is a chrome line taken into a pasted run (found by the property tests).
        let newsletter = "Sign up for our newsletter to get the latest stories.";
        let page =
            format!("Search\n| a | b |\n{newsletter}\nSearch\nShare on Facebook\n{newsletter}\n{BODY}");
        let labels = classify(&page);
        assert_eq!(labels[4].1, Label::Drop(Reason::Repeat { of: 1 }), "{labels:?}");
    }

    #[test]
    fn headings_and_tables_between_paragraphs_stay() {
        let second = "Officials in Tokyo said the alliance remained strong, but that the budget would be decided by Japan alone and not under any pressure from abroad.";
        let page = format!("{BODY}Behind the dispute\n| a | b |\n| c | d |\n{second}\n");
        let labels = classify(&page);
        assert!(labels[3].1.is_keep() && labels[4].1.is_keep() && labels[5].1.is_keep(), "{labels:?}");
    }

    #[test]
    fn every_credit_mark_holds_a_hint() {
        let (mut hits, mut s) = (StopwordHits::default(), String::new());
        let may_hold = |text: &str, hits: &mut StopwordHits, s: &mut String| {
            may_hold_credit_mark(text, &features::features(text, hits, s))
        };
        for mark in CREDIT_MARKS {
            assert!(
                may_hold(mark, &mut hits, &mut s),
                "{mark:?} needs a byte or a hint in CREDIT_MARK_HINTS"
            );
        }
        assert!(!may_hold("A plain caption without a mark", &mut hits, &mut s));
        for hint in CREDIT_MARK_HINTS {
            assert_eq!(hint[1], b'o', "{hint:?}: the hints are looked for around an `o`");
            let text = std::str::from_utf8(hint).expect("hints are text");
            for (before, after) in [("", ""), ("o", " o"), ("A ", "graph by")] {
                let found = may_hold(&format!("{before}{text}{after}"), &mut hits, &mut s);
                assert!(found, "{before:?} {text:?} {after:?}");
            }
        }
        assert!(!may_hold("Fot", &mut hits, &mut s) && !may_hold("oto hot", &mut hits, &mut s));
    }

    #[test]
    fn chrome_phrases_inside_the_article_go_with_their_family() {
        let page = format!("{BODY}Share on Facebook\nOfficials in Tokyo said the alliance remained strong, but that the budget would be decided by Japan alone.\n");
        let labels = classify(&page);
        assert_eq!(labels[3].1, Label::Drop(Reason::Chrome { rule: "share".into() }));
    }

    #[test]
    fn anywhere_rules_of_short_families_name_long_blocks_too() {
        let note = "Für Links auf dieser Seite erhält die Redaktion gegebenenfalls eine Provision vom Händler, zum Beispiel für solche mit Symbol.";
        let labels = classify(&format!("{BODY}{note}\n"));
        assert_eq!(labels[3].1, Label::Drop(Reason::Chrome { rule: "ads".into() }), "{labels:?}");
    }

    #[test]
    fn links_to_the_previous_and_next_post_go() {
        let labels =
            classify(&format!("{BODY}← An older post about the budget → A newer post about the alliance\n"));
        assert_eq!(labels[3].1, Label::Drop(Reason::Chrome { rule: "nav".into() }), "{labels:?}");
    }

    #[test]
    fn a_page_without_prose_keeps_what_no_rule_names() {
        let labels = classify("| a | b |\n| c | d |\nShare\n");
        assert!(labels[0].1.is_keep() && labels[1].1.is_keep());
        assert!(!labels[2].1.is_keep());
    }

    #[test]
    fn user_rules_drop_and_keep_per_host() {
        let rules = UserRules::parse(
            "[[drop]]\nphrase = \"Japan has cancelled\"\nhow = \"start\"\nhost = \"a.com\"\n[[keep]]\nphrase = \"share\"\nhow = \"line\"\n",
        )
        .unwrap();
        let text = format!("{BODY}Share\n");
        let page = segment(&text);
        let mut labels = vec![Label::Keep; page.blocks.len()];
        mark(&page, Some("a.com"), &rules, &mut labels);
        assert!(matches!(&labels[0], Label::Drop(Reason::Chrome { rule }) if rule.contains("user rule")));
        assert!(labels[3].is_keep());
        let mut labels = vec![Label::Keep; page.blocks.len()];
        mark(&page, Some("b.com"), &rules, &mut labels);
        assert!(labels[0].is_keep());
        // A pattern on the block's own text; a phrase keep still wins over a pattern drop.
        let rules = UserRules::parse(
            "[[drop]]\npattern = 'Tokyo spend more on defence\\.$'\n[[drop]]\npattern = '^Share$'\n[[keep]]\nphrase = \"share\"\nhow = \"line\"\n",
        )
        .unwrap();
        let mut labels = vec![Label::Keep; page.blocks.len()];
        mark(&page, None, &rules, &mut labels);
        assert!(
            matches!(&labels[0], Label::Drop(Reason::Chrome { rule }) if rule.contains("user pattern")),
            "{labels:?}"
        );
        assert!(labels[3].is_keep(), "{labels:?}");
    }

    #[test]
    fn a_paragraph_naming_a_web_site_is_prose_and_a_short_link_line_is_not() {
        let (mut hits, mut s) = (StopwordHits::default(), String::new());
        let paragraph = "With the new online check, every household can find out in a few minutes \
                         where its power goes and what it could save; the tool and more advice on \
                         the subject are free to use at www.example.org for anyone who asks.";
        let f = features::features(paragraph, &mut hits, &mut s);
        assert!(f.link_like && f.words >= PROSE_LINK_MIN_WORDS);
        assert!(is_prose(&f, BlockKind::Text, true));
        let line = "More of the advice is at www.example.org for you.";
        let f = features::features(line, &mut hits, &mut s);
        assert!(f.link_like && f.words < PROSE_LINK_MIN_WORDS);
        assert!(!is_prose(&f, BlockKind::Text, true));
    }

    #[test]
    fn comment_headers_end_with_a_word_of_saying() {
        let (mut hits, mut s) = (StopwordHits::default(), String::new());
        let family = |text: &str, hits: &mut StopwordHits, s: &mut String| {
            let f = features::features(text, hits, s);
            raw_rule(text, &f).map(|r| r.family.to_string())
        };
        assert_eq!(family("Jane Doe says:", &mut hits, &mut s).as_deref(), Some("comments"));
        assert_eq!(family("Pierre dit :", &mut hits, &mut s).as_deref(), Some("comments"));
        assert_eq!(family("Vorteile bei der Finanzierung über einen Autokredit:", &mut hits, &mut s), None);
    }

    #[test]
    fn datelines_are_recognised() {
        let (mut hits, mut s) = (StopwordHits::default(), String::new());
        let f = features::features("- 06:42 PM, Jun 21, 2025", &mut hits, &mut s);
        assert!(is_dateline(&f, "- 06:42 PM, Jun 21, 2025"));
        let f = features::features("The meeting is on July 1.", &mut hits, &mut s);
        assert!(!is_dateline(&f, "The meeting is on July 1."));
        // A date with its month spelt out, in a line of a few words.
        for line in
            ["Dienstag, 1. Februar 2022", "Erscheinungsdatum 21. Januar 2022", "Politik | Januar 2022"]
        {
            let f = features::features(line, &mut hits, &mut s);
            assert!(is_dateline(&f, line), "{line}");
        }
        for line in
            ["Five things to know about May 2022 and the summer ahead", "Marching orders for the 2022 budget"]
        {
            let f = features::features(line, &mut hits, &mut s);
            assert!(!is_dateline(&f, line), "{line}");
        }
    }
}
