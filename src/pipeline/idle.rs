//! The per-page tables that grouping does not read, packed in memory while it runs: where the
//! pass-1 cache keeps a JSONL record (8 bytes), every page's site (8) and deferred-count flag
//! (1) come to about 2 bytes, so that grouping's own tables, the run's peak from about
//! 2,000,000 pages on, do not come on top of them (2,000,000 records without the cache: 232 to
//! 179 MB at the peak, with the records' lines and offsets, which are now packed from pass 1
//! on: [`super::rising`]).
//!
//! Sites are numbered in the order they first appear (a run has few), flags take a bit, and
//! the cached pages are listed by input and record.

use std::collections::HashMap;

use super::{PageScan, Scan};
use crate::cache::{push_varint, read_varint, CachedPage};
use crate::corpus::PageSummary;

/// The tables [`IdleTables::pack`] took, until [`IdleTables::unpack`] puts them back.
pub(super) struct IdleTables {
    /// Each packed JSONL input: its index and its pages.
    inputs: Vec<(usize, usize)>,
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

impl IdleTables {
    /// Takes the JSONL inputs' pages out of `scans`, and `summaries` and
    /// `deferred` (one a page of the run), leaving them empty, and packs them.
    pub(super) fn pack(
        scans: &mut [Scan],
        summaries: &mut Vec<PageSummary>,
        deferred: &mut Vec<bool>,
    ) -> Self {
        let mut idle = IdleTables {
            inputs: Vec::new(),
            cached: Vec::new(),
            site_numbers: Vec::new(),
            sites: Vec::new(),
            deferred: Vec::new(),
            pages: summaries.len(),
            deferred_len: deferred.len(),
        };
        for (input, scan) in scans.iter_mut().enumerate() {
            let Scan::Jsonl(jsonl) = scan else { continue };
            let pages = std::mem::take(&mut jsonl.pages);
            idle.inputs.push((input, pages.len()));
            for (index, page) in pages.into_iter().enumerate() {
                if let Some(cached) = page.cached {
                    idle.cached.push((input, index, cached));
                }
            }
        }
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
        scans: &mut [Scan],
        summaries: &mut Vec<PageSummary>,
        deferred: &mut Vec<bool>,
    ) {
        let mut cached = self.cached.into_iter().peekable();
        for (input, pages) in self.inputs {
            let Scan::Jsonl(jsonl) = &mut scans[input] else { unreachable!("packed from a JSONL input") };
            jsonl.pages = (0..pages)
                .map(|index| PageScan {
                    cached: cached.next_if(|&(i, p, _)| (i, p) == (input, index)).map(|(_, _, page)| page),
                })
                .collect();
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

    #[test]
    fn unpacking_gives_back_what_packing_took() {
        let mut scans = vec![
            jsonl(5000, |i| i % 97 == 5),
            Scan::Binary,
            jsonl(3, |i| i == 0),
            jsonl(5, |_| false),
            jsonl(0, |_| false),
        ];
        let before: Vec<_> = scans.iter().map(held).collect();
        let pages = 5000 + 3 + 5;
        let mut summaries: Vec<PageSummary> = (0..pages)
            .map(|i| PageSummary { site: if i % 11 == 0 { i as u64 * 31 } else { (i % 3) as u64 } })
            .collect();
        let sites_before: Vec<u64> = summaries.iter().map(|s| s.site).collect();
        let mut deferred: Vec<bool> = (0..pages).map(|i| i % 5 == 1 || i == pages - 1).collect();
        let deferred_before = deferred.clone();

        let idle = IdleTables::pack(&mut scans, &mut summaries, &mut deferred);
        assert!(scans.iter().all(|scan| scan.pages().is_empty()));
        assert!(summaries.is_empty() && deferred.is_empty());
        assert!(idle.site_numbers.len() < 2 * pages, "{} bytes", idle.site_numbers.len());

        idle.unpack(&mut scans, &mut summaries, &mut deferred);
        assert_eq!(scans.iter().map(held).collect::<Vec<_>>(), before);
        assert_eq!(summaries.iter().map(|s| s.site).collect::<Vec<_>>(), sites_before);
        assert_eq!(deferred, deferred_before);
    }
}
