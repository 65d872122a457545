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
//! Memory: [`Recurrence`] counts while the scan pass reads, so no page's block list is kept:
//! one entry per distinct (site, block key), 20 bytes plus the hash table's overhead (about 32
//! in all), during the scan; then only the blocks on at least [`MIN_SITE_PAGES`] pages stay.
//! Pages that another page of their group already counted are read again after grouping and
//! their blocks counted off ([`Recurrence::remove`]).

use std::collections::HashMap;
use std::sync::Mutex;

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

/// Shards of the recurrence count, so parallel scans rarely wait for each other.
const SHARDS: usize = 64;

/// Hasher for maps keyed by xxh3 hashes: the keys are already uniform, so it only folds them
/// together (in-memory maps only; nothing it computes leaves the process).
#[derive(Debug, Default, Clone, Copy)]
pub struct PrehashedHasher(u64);

impl std::hash::Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(23) ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type PrehashedMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<PrehashedHasher>>;

/// Counts, while pages are read in parallel, on how many pages of its site each block key
/// occurs. Counts are sums, so the result does not depend on the order pages arrive in.
#[derive(Debug)]
pub struct Recurrence {
    shards: Vec<Mutex<PrehashedMap<(u64, u64), u32>>>,
    site_pages: Mutex<PrehashedMap<u64, u32>>,
}

impl Default for Recurrence {
    fn default() -> Self {
        Self { shards: (0..SHARDS).map(|_| Mutex::default()).collect(), site_pages: Mutex::default() }
    }
}

impl Recurrence {
    fn shard(&self, key: u64) -> &Mutex<PrehashedMap<(u64, u64), u32>> {
        &self.shards[(key >> 58) as usize % SHARDS]
    }

    /// Counts one page of `site` with the distinct block keys `keys`.
    pub fn add(&self, site: u64, keys: &[u64]) {
        *self.site_pages.lock().expect("not poisoned").entry(site).or_default() += 1;
        for &key in keys {
            *self.shard(key).lock().expect("not poisoned").entry((site, key)).or_default() += 1;
        }
    }

    /// Counts off a page counted before (a later page of a near-duplicate group in its site).
    pub fn remove(&self, site: u64, keys: &[u64]) {
        if let Some(n) = self.site_pages.lock().expect("not poisoned").get_mut(&site) {
            *n = n.saturating_sub(1);
        }
        for &key in keys {
            if let Some(count) = self.shard(key).lock().expect("not poisoned").get_mut(&(site, key)) {
                *count = count.saturating_sub(1);
            }
        }
    }

    /// Forgets the blocks seen on fewer than [`MIN_SITE_PAGES`] pages: they can never be chrome.
    pub fn prune(&mut self) {
        for shard in &mut self.shards {
            let shard = shard.get_mut().expect("not poisoned");
            shard.retain(|_, count| *count >= MIN_SITE_PAGES);
            shard.shrink_to_fit();
        }
    }

    /// The blocks at or above their site's [`threshold`] now.
    pub fn chrome(&self) -> SiteChrome {
        let site_pages = self.site_pages.lock().expect("not poisoned");
        let mut chrome = PrehashedMap::default();
        for shard in &self.shards {
            for (&(site, key), &count) in shard.lock().expect("not poisoned").iter() {
                if count >= threshold(site_pages.get(&site).copied().unwrap_or(0)) {
                    chrome.insert((site, key), count);
                }
            }
        }
        SiteChrome { chrome }
    }
}

/// The blocks that are chrome of their site, with the number of pages each was counted on.
#[derive(Debug, Clone, Default)]
pub struct SiteChrome {
    chrome: PrehashedMap<(u64, u64), u32>,
}

impl SiteChrome {
    /// The number of pages the block `key` was seen on when it is chrome of `site`.
    pub fn pages(&self, site: u64, key: u64) -> Option<u32> {
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
        let pages: Vec<(u64, Vec<u64>)> = vec![
            (0, vec![menu, 10]),
            (0, vec![menu, 11]),
            (0, vec![menu, 12]),
            (0, vec![13]),
            (1, vec![menu, 20]),
            (1, vec![menu, 21]),
        ];
        let mut recurrence = Recurrence::default();
        pages.iter().for_each(|(site, keys)| recurrence.add(*site, keys));
        recurrence.prune();
        let chrome = recurrence.chrome();
        assert_eq!(chrome.pages(0, menu), Some(3));
        assert_eq!(chrome.pages(0, 10), None);
        // Site 1 has two pages: too few to learn from.
        assert_eq!(chrome.pages(1, menu), None);
        assert_eq!(chrome.len(), 1);
        // Counting a page off (a copy of another) takes the block below the threshold.
        recurrence.remove(0, &pages[1].1);
        assert_eq!(recurrence.chrome().pages(0, menu), None);
    }
}
