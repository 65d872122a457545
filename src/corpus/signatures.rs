//! The run's page signatures on their way to grouping: a log of records, appended in any order
//! as the fingerprint pass signs pages, kept in memory up to a limit and in an unnamed temporary
//! file (in `TMPDIR`) beyond it. Grouping reads the log again, a few bands at a time
//! ([`crate::corpus::dedup::group`]), so a run of millions of pages never holds 144 bytes a page.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::dedup::{Fingerprint, BAND_ROWS, SIGNATURE_SLOTS};
use crate::output::temporary_file_error;

/// Bytes of one record: the page (u32), its shingles (u32), its text key (u64) and its slots
/// (u16 each), little-endian.
pub const RECORD_BYTES: usize = 16 + 2 * SIGNATURE_SLOTS;

/// Where a record's slots start.
const SLOTS_AT: usize = 16;

/// Bytes the log keeps in memory; beyond them it moves to a temporary file (233,000 pages: as
/// much as the recurrence sketch's largest size).
pub const MEMORY_BYTES: usize = 32 << 20;

/// Bytes of records written to the file at a time, once the log is there.
const FILE_WRITE_BYTES: usize = 1 << 20;

/// Records read from the file at a time.
const READ_RECORDS: usize = 4096;

/// Page signatures, appended from any thread in any order, at most one a page, and read back
/// whole as often as grouping needs. When no temporary file can be made or written, the log
/// stays in memory: it costs memory, never a signature.
#[derive(Debug)]
pub struct SignatureLog {
    log: Mutex<Log>,
}

#[derive(Debug)]
struct Log {
    /// Records not in the file.
    memory: Vec<u8>,
    /// Bytes of records kept in memory before they go to the file.
    memory_limit: usize,
    /// Where the file is made.
    folder: PathBuf,
    file: Option<File>,
    /// Bytes of whole records written to the file.
    file_len: u64,
    /// A file could not be made or written: the records stay in memory from then on.
    file_failed: bool,
    records: usize,
}

impl Default for SignatureLog {
    fn default() -> Self {
        Self::new()
    }
}

impl SignatureLog {
    /// A log that keeps [`MEMORY_BYTES`] in memory, then moves to a file in `TMPDIR`.
    pub fn new() -> Self {
        Self::with_memory_limit(std::env::temp_dir(), MEMORY_BYTES)
    }

    /// A log for a run of `pages` pages: in memory, taken at once, when their records stay
    /// under [`MEMORY_BYTES`]; else in its file from the start, a megabyte at a time, rather than
    /// first filling [`MEMORY_BYTES`] on top of the run's tables only to move them there (600,000
    /// text files without the cache: 92.0 to 81.1 MB at the peak).
    pub fn for_pages(pages: usize) -> Self {
        Self::for_pages_in(std::env::temp_dir(), pages, MEMORY_BYTES)
    }

    /// [`SignatureLog::for_pages`] with its file in `folder` and `memory_bytes` in memory.
    fn for_pages_in(folder: PathBuf, pages: usize, memory_bytes: usize) -> Self {
        let bytes = pages.saturating_mul(RECORD_BYTES);
        // The log moves to its file when its records in memory reach the limit.
        if bytes >= memory_bytes {
            return Self::with_memory_limit(folder, FILE_WRITE_BYTES.min(memory_bytes));
        }
        let log = Self::with_memory_limit(folder, memory_bytes);
        log.lock().memory.reserve_exact(bytes + RECORD_BYTES);
        log
    }

    /// A log that keeps `memory_limit` bytes in memory, then moves to a file in `folder`.
    pub fn with_memory_limit(folder: PathBuf, memory_limit: usize) -> Self {
        let log = Log {
            memory: Vec::new(),
            memory_limit,
            folder,
            file: None,
            file_len: 0,
            file_failed: false,
            records: 0,
        };
        Self { log: Mutex::new(log) }
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        // A panic while appending leaves at worst a record short of its end, past `file_len` or
        // at the end of `memory`; no caller goes on after a worker's panic.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends the signature of page `page`.
    pub fn add(&self, page: usize, fingerprint: &Fingerprint) {
        let mut record = [0u8; RECORD_BYTES];
        record[..4].copy_from_slice(&u32::try_from(page).expect("fewer than 2^32 pages").to_le_bytes());
        record[4..8].copy_from_slice(&fingerprint.shingles.to_le_bytes());
        record[8..SLOTS_AT].copy_from_slice(&fingerprint.text_key.to_le_bytes());
        for (bytes, slot) in record[SLOTS_AT..].chunks_exact_mut(2).zip(&fingerprint.slots) {
            bytes.copy_from_slice(&slot.to_le_bytes());
        }
        let mut log = self.lock();
        log.records += 1;
        log.memory.extend_from_slice(&record);
        // Once in the file, records go there a few at a time.
        let limit =
            if log.file.is_some() { log.memory_limit.min(FILE_WRITE_BYTES) } else { log.memory_limit };
        if log.memory.len() >= limit && !log.file_failed {
            log.move_to_file();
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.lock().records
    }

    /// True when no page was signed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when some records are in the temporary file.
    pub fn in_file(&self) -> bool {
        self.lock().file_len > 0
    }

    /// Calls `each` on every record, in the order they were added, reading the file again;
    /// the first error of reading it.
    pub fn for_each(&self, mut each: impl FnMut(Record<'_>)) -> io::Result<()> {
        let log = self.lock();
        if let Some(file) = &log.file {
            let mut file = file;
            let named = |error| temporary_file_error(&log.folder, error);
            file.seek(SeekFrom::Start(0)).map_err(named)?;
            let mut buffer = vec![0u8; READ_RECORDS * RECORD_BYTES];
            let mut left = log.file_len;
            while left > 0 {
                let take = left.min(buffer.len() as u64) as usize;
                file.read_exact(&mut buffer[..take]).map_err(named)?;
                buffer[..take].chunks_exact(RECORD_BYTES).for_each(|record| each(Record(record)));
                left -= take as u64;
            }
        }
        log.memory.chunks_exact(RECORD_BYTES).for_each(|record| each(Record(record)));
        Ok(())
    }

    /// For tests of a log that cannot be read back: its file is swapped for one that is open
    /// for writing only (reads fail), as an unnamed temporary file cannot be broken from outside.
    #[cfg(test)]
    pub(crate) fn break_file_for_reading(&self) {
        let mut log = self.lock();
        assert!(log.file.is_some(), "the log is in its file");
        let write_only = tempfile::NamedTempFile::new_in(&log.folder).unwrap();
        log.file = Some(std::fs::OpenOptions::new().write(true).open(write_only.path()).unwrap());
    }
}

impl Log {
    /// Moves the records in memory to the file (made now if need be), or marks the file failed.
    fn move_to_file(&mut self) {
        let written = (|| -> io::Result<()> {
            if self.file.is_none() {
                self.file = Some(tempfile::tempfile_in(&self.folder)?);
            }
            let mut file = self.file.as_ref().expect("just made");
            // Whole records only count: a write cut short is written over, never read.
            file.seek(SeekFrom::Start(self.file_len))?;
            file.write_all(&self.memory)
        })();
        match written {
            Ok(()) => {
                self.file_len += self.memory.len() as u64;
                self.memory = Vec::new();
            }
            Err(_) => self.file_failed = true,
        }
    }
}

/// One record of a [`SignatureLog`].
#[derive(Debug, Clone, Copy)]
pub struct Record<'a>(&'a [u8]);

impl<'a> Record<'a> {
    /// The page it signs.
    #[inline]
    pub fn page(&self) -> u32 {
        u32::from_le_bytes(self.0[..4].try_into().expect("4 bytes"))
    }

    /// The page's shingles (see [`Fingerprint::shingles`]).
    #[inline]
    pub fn shingles(&self) -> u32 {
        u32::from_le_bytes(self.0[4..8].try_into().expect("4 bytes"))
    }

    /// The page's text key (see [`Fingerprint::text_key`]).
    #[inline]
    pub fn text_key(&self) -> u64 {
        u64::from_le_bytes(self.0[8..SLOTS_AT].try_into().expect("8 bytes"))
    }

    /// Slot `slot` of the signature.
    #[inline]
    pub fn slot(&self, slot: usize) -> u16 {
        u16::from_le_bytes(self.0[SLOTS_AT + 2 * slot..SLOTS_AT + 2 + 2 * slot].try_into().expect("2 bytes"))
    }

    /// The slots of band `band`, the first in the high bits.
    #[inline]
    pub fn band_key(&self, band: usize) -> u32 {
        (band * BAND_ROWS..(band + 1) * BAND_ROWS)
            .fold(0u32, |key, slot| (key << 16) | self.slot(slot) as u32)
    }

    /// The slots' bytes (equal slots, equal bytes).
    pub fn slot_bytes(&self) -> &'a [u8] {
        &self.0[SLOTS_AT..]
    }

    /// The whole signature.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut fingerprint =
            Fingerprint { shingles: self.shingles(), text_key: self.text_key(), ..Fingerprint::default() };
        for (slot, value) in fingerprint.slots.iter_mut().enumerate() {
            *value = self.slot(slot);
        }
        fingerprint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(seed: u64) -> Fingerprint {
        let mut state = seed | 1;
        let mut fingerprint =
            Fingerprint { shingles: seed as u32, text_key: seed.rotate_left(17), ..Fingerprint::default() };
        for slot in fingerprint.slots.iter_mut() {
            *slot = crate::testing::next(&mut state) as u16;
        }
        fingerprint
    }

    fn read_back(log: &SignatureLog) -> Vec<(u32, Fingerprint)> {
        let mut records = Vec::new();
        log.for_each(|record| records.push((record.page(), record.fingerprint()))).unwrap();
        records
    }

    #[test]
    fn a_log_that_would_not_fit_in_memory_goes_to_its_file_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let limit_pages = 2 * FILE_WRITE_BYTES / RECORD_BYTES;
        let memory_bytes = limit_pages * RECORD_BYTES;
        let fits = SignatureLog::for_pages_in(dir.path().to_path_buf(), limit_pages - 1, memory_bytes);
        let too_many = SignatureLog::for_pages_in(dir.path().to_path_buf(), limit_pages, memory_bytes);
        // More than the file's share of records, fewer than the limit.
        let written: Vec<(u32, Fingerprint)> =
            (0..(limit_pages * 3 / 4) as u32).map(|i| (i, fingerprint(u64::from(i)))).collect();
        for (page, fp) in &written {
            fits.add(*page as usize, fp);
            too_many.add(*page as usize, fp);
            assert!(too_many.lock().memory.len() < FILE_WRITE_BYTES);
        }
        assert!(!fits.in_file() && too_many.in_file());
        assert_eq!(read_back(&fits), written);
        assert_eq!(read_back(&too_many), written);
    }

    #[test]
    fn records_read_back_as_written_from_memory_and_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for (memory_limit, in_file) in [(usize::MAX, false), (RECORD_BYTES * 7, true), (1, true)] {
            let log = SignatureLog::with_memory_limit(dir.path().to_path_buf(), memory_limit);
            let written: Vec<(u32, Fingerprint)> =
                (0..10_000u32).map(|i| (i * 3 % 10_007, fingerprint(u64::from(i)))).collect();
            for (page, fp) in &written {
                log.add(*page as usize, fp);
            }
            assert_eq!((log.len(), log.in_file()), (written.len(), in_file));
            // Read twice: reading does not consume.
            assert_eq!(read_back(&log), written);
            assert_eq!(read_back(&log), written);
        }
    }

    #[test]
    fn a_file_that_cannot_be_read_back_is_an_error_naming_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let log = SignatureLog::with_memory_limit(dir.path().to_path_buf(), RECORD_BYTES * 2);
        for page in 0..10 {
            log.add(page, &fingerprint(page as u64));
        }
        log.break_file_for_reading();
        let mut seen = 0;
        let error = log.for_each(|_| seen += 1).unwrap_err().to_string();
        assert!(error.contains(&dir.path().display().to_string()) && error.contains("(TMPDIR)"), "{error}");
        assert_eq!(seen, 0, "no record is given before the error");
    }

    #[test]
    fn a_record_gives_its_band_keys_and_slot_bytes() {
        let log = SignatureLog::with_memory_limit(std::env::temp_dir(), usize::MAX);
        let fp = fingerprint(42);
        log.add(7, &fp);
        log.for_each(|record| {
            assert_eq!(record.page(), 7);
            for band in 0..SIGNATURE_SLOTS / BAND_ROWS {
                let expected = fp.slots[band * BAND_ROWS..(band + 1) * BAND_ROWS]
                    .iter()
                    .fold(0u32, |k, &s| (k << 16) | s as u32);
                assert_eq!(record.band_key(band), expected);
            }
            let bytes: Vec<u8> = fp.slots.iter().flat_map(|s| s.to_le_bytes()).collect();
            assert_eq!(record.slot_bytes(), &bytes[..]);
        })
        .unwrap();
    }

    #[test]
    fn without_a_temporary_file_the_log_stays_in_memory_whole() {
        let dir = tempfile::tempdir().unwrap();
        let log = SignatureLog::with_memory_limit(dir.path().join("missing"), RECORD_BYTES * 3);
        let written: Vec<(u32, Fingerprint)> =
            (0..100u32).map(|i| (i, fingerprint(u64::from(i) + 5))).collect();
        for (page, fp) in &written {
            log.add(*page as usize, fp);
        }
        assert!(!log.in_file());
        assert_eq!(read_back(&log), written);
    }
}
