//! The per-page tables that grouping does not read, packed in memory while it runs: a JSONL
//! record's line and offset (16 bytes, and 8 for where the pass-1 cache keeps it), every
//! page's site (8) and deferred-count flag (1) come to about 5 bytes, so that grouping's own
//! tables, the run's peak from about 2,000,000 pages on, do not come on top of them (2,000,000
//! records without the cache: 232 to 179 MB at the peak).
//!
//! Lines and offsets rise within a file: each is written as a varint of its step from the one
//! before. Sites are numbered in the order they first appear (a run has few), flags take a bit.

use std::collections::HashMap;

use super::{PageScan, Scan};
use crate::cache::{push_varint, read_varint, CachedPage};
use crate::corpus::PageSummary;

/// The tables [`IdleTables::pack`] took, until [`IdleTables::unpack`] puts them back.
pub(super) struct IdleTables {
    /// The JSONL inputs' lines, then offsets (when kept), input after input, as varint steps.
    steps: Vec<u8>,
    /// Each packed JSONL input: its index, its pages and whether it kept offsets.
    inputs: Vec<(usize, usize, bool)>,
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
    /// Takes the JSONL inputs' pages and offsets out of `scans`, and `summaries` and
    /// `deferred` (one a page of the run), leaving them empty, and packs them.
    pub(super) fn pack(
        scans: &mut [Scan],
        summaries: &mut Vec<PageSummary>,
        deferred: &mut Vec<bool>,
    ) -> Self {
        let mut idle = IdleTables {
            steps: Vec::new(),
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
            let offsets = jsonl.offsets.take();
            idle.inputs.push((input, pages.len(), offsets.is_some()));
            let mut previous = 0;
            for (index, page) in pages.into_iter().enumerate() {
                // Wrapping, so that any order packs (a file's lines rise).
                push_varint(&mut idle.steps, page.line.wrapping_sub(previous));
                previous = page.line;
                if let Some(cached) = page.cached {
                    idle.cached.push((input, index, cached));
                }
            }
            let mut previous = 0;
            for offset in offsets.into_iter().flatten() {
                // A step is a line's bytes, which fit a `usize`.
                let step =
                    usize::try_from(offset.wrapping_sub(previous)).expect("a line's bytes fit a usize");
                push_varint(&mut idle.steps, step);
                previous = offset;
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
        idle.steps.shrink_to_fit();
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
        let mut steps = &self.steps[..];
        let mut cached = self.cached.into_iter().peekable();
        for (input, pages, has_offsets) in self.inputs {
            let Scan::Jsonl(jsonl) = &mut scans[input] else { unreachable!("packed from a JSONL input") };
            let mut line = 0;
            jsonl.pages = (0..pages)
                .map(|index| {
                    line = read_varint(&mut steps).expect("packed by pack").wrapping_add(line);
                    let cached =
                        cached.next_if(|&(i, p, _)| (i, p) == (input, index)).map(|(_, _, page)| page);
                    PageScan { line, cached }
                })
                .collect();
            if has_offsets {
                let mut offset = 0u64;
                jsonl.offsets = Some(
                    (0..pages)
                        .map(|_| {
                            offset =
                                offset.wrapping_add(read_varint(&mut steps).expect("packed by pack") as u64);
                            offset
                        })
                        .collect(),
                );
            }
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
    use super::super::{JsonlScan, RecordIds};
    use super::*;
    use crate::cache::PageCache;
    use crate::page::PagePass;
    use crate::segment;

    /// A JSONL input's scan of pages at `lines`, cached where `cached` says, with offsets
    /// when `offsets`.
    fn jsonl(lines: &[usize], cached: impl Fn(usize) -> bool, offsets: bool) -> Scan {
        let text = "A headline\n\nA paragraph of the story, in full sentences.\n";
        let page = segment::segment(text);
        let labels = PagePass::default().classify(&page, None);
        let cache = PageCache::new(1 << 30);
        let pages = lines
            .iter()
            .enumerate()
            .map(|(index, &line)| PageScan {
                line,
                cached: cached(index).then(|| cache.keep(text, &page, &labels, false).expect("fits")),
            })
            .collect();
        let offsets = offsets.then(|| lines.iter().map(|&line| line as u64 * 977 + 3).collect());
        Scan::Jsonl(Box::new(JsonlScan {
            content_hash: 7,
            pages,
            summaries: Vec::new(),
            ids: RecordIds::default(),
            offsets,
            broken: Vec::new(),
        }))
    }

    /// What `scan` holds that packing takes: lines, where the cached pages sit, offsets.
    fn held(scan: &Scan) -> (Vec<usize>, Vec<Option<*const CachedPage>>, Option<Vec<u64>>) {
        let pages = scan.pages();
        let offsets = match scan {
            Scan::Jsonl(jsonl) => jsonl.offsets.clone(),
            _ => None,
        };
        (
            pages.iter().map(|p| p.line).collect(),
            pages.iter().map(|p| p.cached.as_deref().map(|c| c as *const CachedPage)).collect(),
            offsets,
        )
    }

    #[test]
    fn unpacking_gives_back_what_packing_took() {
        let many: Vec<usize> = (0..5000).map(|i| 1 + i * 3 + usize::from(i % 7 == 0)).collect();
        let mut scans = vec![
            jsonl(&many, |i| i % 97 == 5, true),
            Scan::Binary,
            jsonl(&[2, 3, 9], |i| i == 0, false),
            // Lines that do not rise still come back (steps wrap).
            jsonl(&[5, 3, usize::MAX, 0, 1], |_| false, true),
            jsonl(&[], |_| false, true),
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
        assert!(idle.steps.len() + idle.site_numbers.len() < 5 * pages, "{} bytes", idle.steps.len());

        idle.unpack(&mut scans, &mut summaries, &mut deferred);
        assert_eq!(scans.iter().map(held).collect::<Vec<_>>(), before);
        assert_eq!(summaries.iter().map(|s| s.site).collect::<Vec<_>>(), sites_before);
        assert_eq!(deferred, deferred_before);
    }
}
