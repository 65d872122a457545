//! Site chrome learned from recurrence: a block (by its normalised key) that occurs on enough
//! pages of one site is chrome, whatever the page pass thought of it.
//!
//! The threshold is [`threshold`]: at least [`MIN_SITE_PAGES`] pages and at least the square root
//! of the site's page count. A site of 5 pages needs a block on 3 of them (60%); 100 pages, 10;
//! 50,000 pages, 224. Chrome sits on nearly every page of a site, or on every page of a section,
//! which grows with the site; a legitimate sentence shared by √n unrelated articles of one site
//! is itself boilerplate (a disclaimer, a bio, a standard closing line). Pages of one
//! near-duplicate group count once, so the shared body of syndicated copies is not chrome.
//!
//! Memory: the count table holds one entry per distinct (site, block key): 12 bytes of key, 4 of
//! count, about 32 with the hash table's overhead. After counting only the entries at or above
//! their site's threshold are kept.

use std::collections::HashMap;

/// A block must be on at least this many pages (groups counted once) of a site to be chrome.
pub const MIN_SITE_PAGES: u32 = 3;

/// Pages (groups counted once) a block must occur on to be chrome of a site of `site_pages`
/// pages: `max(MIN_SITE_PAGES, ceil(sqrt(site_pages)))`.
///
/// ```
/// use textsift::corpus::site::threshold;
/// assert_eq!((threshold(5), threshold(100), threshold(50_000)), (3, 10, 224));
/// ```
pub fn threshold(site_pages: u32) -> u32 {
    MIN_SITE_PAGES.max((site_pages as f64).sqrt().ceil() as u32)
}

/// The blocks that are chrome of their site, with the number of pages each was counted on.
#[derive(Debug, Clone, Default)]
pub struct SiteChrome {
    chrome: HashMap<(u32, u64), u32>,
}

impl SiteChrome {
    /// Counts, for every site, on how many of the pages `counted` selects each block key occurs
    /// (`keys` of a page are distinct), and keeps the keys at or above their site's threshold.
    pub fn learn<'a>(pages: impl Iterator<Item = (u32, &'a [u64])> + Clone) -> SiteChrome {
        let mut site_pages: Vec<u32> = Vec::new();
        for (site, _) in pages.clone() {
            if site_pages.len() <= site as usize {
                site_pages.resize(site as usize + 1, 0);
            }
            site_pages[site as usize] += 1;
        }
        let mut counts: HashMap<(u32, u64), u32> = HashMap::new();
        for (site, keys) in pages {
            if site_pages[site as usize] < MIN_SITE_PAGES {
                continue;
            }
            for &key in keys {
                *counts.entry((site, key)).or_default() += 1;
            }
        }
        counts.retain(|&(site, _), count| *count >= threshold(site_pages[site as usize]));
        counts.shrink_to_fit();
        SiteChrome { chrome: counts }
    }

    /// The number of pages the block `key` was seen on when it is chrome of `site`.
    pub fn pages(&self, site: u32, key: u64) -> Option<u32> {
        self.chrome.get(&(site, key)).copied()
    }

    /// Number of (site, block) pairs found to be chrome.
    pub fn len(&self) -> usize {
        self.chrome.len()
    }

    /// True when no chrome was found.
    pub fn is_empty(&self) -> bool {
        self.chrome.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_grows_with_the_square_root() {
        assert_eq!(threshold(1), 3);
        assert_eq!(threshold(9), 3);
        assert_eq!(threshold(10), 4);
        assert_eq!(threshold(467), 22);
    }

    #[test]
    fn blocks_on_enough_pages_of_one_site_are_chrome() {
        let menu = 1u64;
        let pages: Vec<(u32, Vec<u64>)> = vec![
            (0, vec![menu, 10]),
            (0, vec![menu, 11]),
            (0, vec![menu, 12]),
            (0, vec![13]),
            (1, vec![menu, 20]),
            (1, vec![menu, 21]),
        ];
        let chrome = SiteChrome::learn(pages.iter().map(|(s, k)| (*s, k.as_slice())));
        assert_eq!(chrome.pages(0, menu), Some(3));
        assert_eq!(chrome.pages(0, 10), None);
        // Site 1 has two pages: too few to learn from.
        assert_eq!(chrome.pages(1, menu), None);
        assert_eq!(chrome.len(), 1);
    }
}
