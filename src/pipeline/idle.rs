//! The per-page tables that grouping does not read, packed in memory while it runs: where the
//! pass-1 cache keeps a JSONL record (8 bytes), every page's site (8) and deferred-count flag
//! (1) come to about 2 bytes, so that grouping's own tables, the run's peak from about
//! 2,000,000 pages on, do not come on top of them (2,000,000 records without the cache: 232 to
//! 179 MB at the peak, with the records' lines and offsets, which are now packed from pass 1
//! on: [`super::rising`]). A text input's scan record (32 bytes) and first page index (8) come
//! to about 11 (600,000 text files without the cache: grouping's peak 96.7 to about 78 MB).
//!
//! Sites are numbered in the order they first appear (a run has few), flags take a bit, the
//! cached pages are listed by input and record, and the first page indexes are counted again.

use std::collections::HashMap;

use super::{PageScan, Scan};
use crate::cache::{push_varint, push_varint_u64, read_varint, read_varint_u64, CachedPage};
use crate::corpus::PageSummary;

/// The tables [`IdleTables::pack`] took, until [`IdleTables::unpack`] puts them back.
pub(super) struct IdleTables {
    /// Inputs of the run.
    inputs: usize,
    /// Every text input's scan, one after the other: its content hash (8 bytes), its bytes (a
    /// varint) and its flags ([`TextFlags`]).
    texts: Vec<u8>,
    /// The other inputs' scans, by input, and the pages taken from each JSONL input's.
    others: Vec<(usize, usize, Scan)>,
    /// The cached pages of the packed inputs: input, page and what the cache keeps.
    cached: Vec<(usize, usize, Box<CachedPage>)>,
    /// Every page's site number, as varints.
    site_numbers: Vec<u8>,
    /// The sites, by number.
    sites: Vec<u64>,
    /// Every page's deferred flag, a bit each.
    deferred: Vec<u64>,
    /// Pages of the run (summaries), and deferred flags.
    pages: usize,
    deferred_len: usize,
}

/// Bits of a packed text scan's flags.
struct TextFlags;

impl TextFlags {
    const PLAIN: u8 = 1;
    const STORED_AS_READ: u8 = 2;
}

impl IdleTables {
    /// Takes `scans` and `first_page` (one an input of the run), and `summaries` and
    /// `deferred` (one a page), leaving them empty, and packs them.
    pub(super) fn pack(
        scans: &mut Vec<Scan>,
        first_page: &mut Vec<usize>,
        summaries: &mut Vec<PageSummary>,
        deferred: &mut Vec<bool>,
    ) -> Self {
        let mut idle = IdleTables {
            inputs: scans.len(),
            texts: Vec::new(),
            others: Vec::new(),
            cached: Vec::new(),
            site_numbers: Vec::new(),
            sites: Vec::new(),
            deferred: Vec::new(),
            pages: summaries.len(),
            deferred_len: deferred.len(),
        };
        *first_page = Vec::new();
        for (input, scan) in std::mem::take(scans).into_iter().enumerate() {
            let pages = match scan {
                Scan::Text { content_hash, plain, bytes, stored_as_read, page } => {
                    idle.texts.extend_from_slice(&content_hash.to_le_bytes());
                    push_varint_u64(&mut idle.texts, bytes);
                    let flags = (if plain { TextFlags::PLAIN } else { 0 })
                        | (if stored_as_read { TextFlags::STORED_AS_READ } else { 0 });
                    idle.texts.push(flags);
                    if let Some(cached) = page.cached {
                        idle.cached.push((input, 0, cached));
                    }
                    continue;
                }
                Scan::Jsonl(mut jsonl) => {
                    let pages = std::mem::take(&mut jsonl.pages);
                    idle.others.push((input, pages.len(), Scan::Jsonl(jsonl)));
                    pages
                }
                other => {
                    idle.others.push((input, 0, other));
                    Vec::new()
                }
            };
            for (index, page) in pages.into_iter().enumerate() {
                if let Some(cached) = page.cached {
                    idle.cached.push((input, index, cached));
                }
            }
        }
        idle.texts.shrink_to_fit();
        let mut number_of: HashMap<u64, usize> = HashMap::new();
        for summary in std::mem::take(summaries) {
            let number = *number_of.entry(summary.site).or_insert_with(|| {
                idle.sites.push(summary.site);
                idle.sites.len() - 1
            });
            push_varint(&mut idle.site_numbers, number);
        }
        idle.deferred = vec![0u64; deferred.len().div_ceil(64)];
        for (index, _) in std::mem::take(deferred).into_iter().enumerate().filter(|&(_, flag)| flag) {
            idle.deferred[index / 64] |= 1 << (index % 64);
        }
        idle.site_numbers.shrink_to_fit();
        idle
    }

    /// Puts back what [`IdleTables::pack`] took.
    pub(super) fn unpack(
        self,
        scans: &mut Vec<Scan>,
        first_page: &mut Vec<usize>,
        summaries: &mut Vec<PageSummary>,
        deferred: &mut Vec<bool>,
    ) {
        let mut cached = self.cached.into_iter().peekable();
        let mut page = |input: usize, index: usize| PageScan {
            cached: cached.next_if(|&(i, p, _)| (i, p) == (input, index)).map(|(_, _, page)| page),
        };
        let (mut others, mut texts) = (self.others.into_iter().peekable(), &self.texts[..]);
        *scans = Vec::with_capacity(self.inputs);
        *first_page = Vec::with_capacity(self.inputs);
        let mut pages_before = 0;
        for input in 0..self.inputs {
            let scan = match others.next_if(|&(i, _, _)| i == input) {
                Some((_, pages, Scan::Jsonl(mut jsonl))) => {
                    jsonl.pages = (0..pages).map(|index| page(input, index)).collect();
                    Scan::Jsonl(jsonl)
                }
                Some((_, _, other)) => other,
                None => {
                    let (hash, rest) = texts.split_at(8);
                    texts = rest;
                    let content_hash = u64::from_le_bytes(hash.try_into().expect("eight bytes"));
                    let bytes = read_varint_u64(&mut texts).expect("packed by pack");
                    let flags = texts[0];
                    texts = &texts[1..];
                    Scan::Text {
                        content_hash,
                        plain: flags & TextFlags::PLAIN != 0,
                        bytes,
                        stored_as_read: flags & TextFlags::STORED_AS_READ != 0,
                        page: page(input, 0),
                    }
                }
            };
            first_page.push(pages_before);
            pages_before += scan.pages().len();
            scans.push(scan);
        }
        let mut numbers = &self.site_numbers[..];
        *summaries = (0..self.pages)
            .map(|_| PageSummary { site: self.sites[read_varint(&mut numbers).expect("packed by pack")] })
            .collect();
        *deferred =
            (0..self.deferred_len).map(|index| self.deferred[index / 64] >> (index % 64) & 1 == 1).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::super::{JsonlScan, RecordIds, RisingNumbers};
    use super::*;
    use crate::cache::PageCache;
    use crate::page::PagePass;
    use crate::segment;

    /// A JSONL input's scan of `pages` pages, cached where `cached` says.
    fn jsonl(pages: usize, cached: impl Fn(usize) -> bool) -> Scan {
        let text = "A headline\n\nA paragraph of the story, in full sentences.\n";
        let page = segment::segment(text);
        let labels = PagePass::default().classify(&page, None);
        let cache = PageCache::new(1 << 30);
        let lines: RisingNumbers = (0..pages as u64).collect();
        let pages = (0..pages)
            .map(|index| PageScan {
                cached: cached(index).then(|| cache.keep(text, &page, &labels, false).expect("fits")),
            })
            .collect();
        Scan::Jsonl(Box::new(JsonlScan {
            content_hash: 7,
            pages,
            summaries: Vec::new(),
            ids: RecordIds::default(),
            offsets: Some(lines.clone()),
            lines,
            broken: Vec::new(),
        }))
    }

    /// Where the cached pages of `scan` sit, which packing takes.
    fn held(scan: &Scan) -> Vec<Option<*const CachedPage>> {
        scan.pages().iter().map(|p| p.cached.as_deref().map(|c| c as *const CachedPage)).collect()
    }

    /// A text input's scan, cached when `cached`.
    fn text(content_hash: u64, bytes: u64, plain: bool, stored_as_read: bool, cached: bool) -> Scan {
        let Scan::Jsonl(mut jsonl) = self::jsonl(1, |_| cached) else { unreachable!() };
        let page = jsonl.pages.pop().expect("one page");
        Scan::Text { content_hash, plain, bytes, stored_as_read, page }
    }

    /// What a scan is, apart from its pages: its kind and a text input's fields.
    fn fields(scan: &Scan) -> String {
        match scan {
            Scan::Text { content_hash, plain, bytes, stored_as_read, .. } => {
                format!("text {content_hash} {plain} {bytes} {stored_as_read}")
            }
            Scan::Jsonl(jsonl) => format!("jsonl {}", jsonl.content_hash),
            Scan::Binary => "binary".into(),
            Scan::Failed(error) => format!("failed {error}"),
        }
    }

    #[test]
    fn unpacking_gives_back_what_packing_took() {
        let mut scans = vec![
            text(u64::MAX, 0, true, true, false),
            jsonl(5000, |i| i % 97 == 5),
            Scan::Binary,
            text(1, 300, false, true, true),
            jsonl(3, |i| i == 0),
            text(2, u64::MAX, true, false, false),
            text(3, 1 << 40, false, false, true),
            jsonl(5, |_| false),
            jsonl(0, |_| false),
            Scan::Failed(Box::new(crate::error::Error::Walk {
                path: "gone.txt".into(),
                message: "gone".into(),
            })),
            text(4, 127, true, true, false),
        ];
        let before: Vec<_> = scans.iter().map(held).collect();
        let fields_before: Vec<_> = scans.iter().map(fields).collect();
        let pages = 5 + 5000 + 3 + 5;
        let mut first_page: Vec<usize> = scans
            .iter()
            .scan(0, |next, scan| {
                let first = *next;
                *next += scan.pages().len();
                Some(first)
            })
            .collect();
        let first_page_before = first_page.clone();
        let mut summaries: Vec<PageSummary> = (0..pages)
            .map(|i| PageSummary { site: if i % 11 == 0 { i as u64 * 31 } else { (i % 3) as u64 } })
            .collect();
        let sites_before: Vec<u64> = summaries.iter().map(|s| s.site).collect();
        let mut deferred: Vec<bool> = (0..pages).map(|i| i % 5 == 1 || i == pages - 1).collect();
        let deferred_before = deferred.clone();

        let idle = IdleTables::pack(&mut scans, &mut first_page, &mut summaries, &mut deferred);
        assert!(scans.is_empty() && first_page.is_empty());
        assert!(summaries.is_empty() && deferred.is_empty());
        assert!(idle.site_numbers.len() < 2 * pages, "{} bytes", idle.site_numbers.len());
        // Ten bytes or more a text input: its hash, its size and its flags.
        assert!(idle.texts.len() <= 5 * 20, "{} bytes", idle.texts.len());

        idle.unpack(&mut scans, &mut first_page, &mut summaries, &mut deferred);
        assert_eq!(scans.iter().map(held).collect::<Vec<_>>(), before);
        assert_eq!(scans.iter().map(fields).collect::<Vec<_>>(), fields_before);
        assert_eq!(first_page, first_page_before);
        assert_eq!(summaries.iter().map(|s| s.site).collect::<Vec<_>>(), sites_before);
        assert_eq!(deferred, deferred_before);
    }
}
