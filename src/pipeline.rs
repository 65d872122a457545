//! The run: discover inputs, scan every page (pass 1, which keeps what it learned of each page
//! within a budget: [`crate::cache`]), run the corpus pass on the summaries (which reads pages
//! again to fingerprint them when it must), then read every page again and write it (pass 2).
//!
//! Both passes are parallel maps over inputs whose results are collected in input order, so the
//! output never depends on the thread count. The corpus pass sees only small summaries, so memory
//! grows with the number of pages, not with the bytes read.

use std::borrow::Cow;
use std::collections::hash_map::{Entry, HashMap};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::cache::{CachedPage, PageCache};
use crate::config::Config;
use crate::corpus::{self, PageSummary, Verdict};
use crate::decode::{self, DecodeError};
use crate::error::{ConfigError, Error};
use crate::input::jsonl::{self, BrokenLine, Record};
use crate::input::{Format, Origin, Source, Sources};
use crate::label::{KeepNote, Label, Reason};
use crate::output::{self, Spill};
use crate::report::{
    self, BlockCounts, DocumentEntry, DuplicateEntry, ReportPart, ReportWriter, SkippedEntry, Totals,
};
use crate::segment::{self, Segmented};

mod idle;
mod rising;

use rising::RisingNumbers;

/// Inputs from which a progress bar is shown (when stderr is a terminal).
const PROGRESS_MIN_INPUTS: usize = 200;

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// The report's totals (the report itself is written to `--report` as the run goes).
    pub totals: Totals,
    /// Number of problems named on stderr (missing inputs, binary files, broken lines, write
    /// errors); the exit code is 1 when it is not zero.
    pub failures: usize,
    /// Inputs found (files, standard input), before any was skipped.
    pub inputs: usize,
    /// The time each phase of the run took, in order (for `--stats`).
    pub phases: Vec<crate::stats::Phase>,
}

/// What pass 1 learned about one input. A run keeps one for every input: a text input's page
/// is kept inline, and its id is not stored (it is its source's).
enum Scan {
    /// The input could not be read.
    Failed(Box<Error>),
    /// The input was read but is not text.
    Binary,
    /// A text input: its one page.
    Text {
        /// Hash of the input's bytes, checked again in pass 2.
        content_hash: u64,
        /// The bytes were the page's text as they stood: UTF-8 that decoding and folding left
        /// alone, so pass 2 only validates them.
        plain: bool,
        /// Bytes read (decompressed), for the report of a page pass 2 does not read again.
        bytes: u64,
        /// The file held just the bytes read (it is not compressed), so `bytes` sizes the
        /// buffer it is read into again.
        stored_as_read: bool,
        page: PageScan,
    },
    /// A JSONL input: its records.
    Jsonl(Box<JsonlScan>),
}

/// What pass 1 learned about a JSONL input.
struct JsonlScan {
    /// Hash of the input's bytes, checked again in pass 2.
    content_hash: u64,
    /// Every record's page.
    pages: Vec<PageScan>,
    /// Every record's summary, beside `pages`, until the run's table takes them.
    summaries: Vec<PageSummary>,
    /// Every record's id, beside `pages`, when the run shows ids ([`Config::shows_ids`]; else
    /// empty).
    ids: RecordIds,
    /// Every record's line in the input (from 0), beside `pages`.
    lines: RisingNumbers,
    /// Where every record's line starts in the input, beside `pages`, when the input is not
    /// compressed: a later pass that needs a few records reads just their lines.
    offsets: Option<RisingNumbers>,
    /// Lines that are not records.
    broken: Vec<BrokenLine>,
}

impl Scan {
    /// The input's pages (none when it was not read).
    fn pages(&self) -> &[PageScan] {
        match self {
            Scan::Text { page, .. } => std::slice::from_ref(page),
            Scan::Jsonl(scan) => &scan.pages,
            Scan::Failed(_) | Scan::Binary => &[],
        }
    }

    /// The text of the input's bytes, read again after pass 1 (which hashed them as
    /// `content_hash`): a plain input's are only validated, any other's decoded again.
    fn decode_again(&self, bytes: Vec<u8>) -> Result<String, DecodeError> {
        match self {
            Scan::Text { plain: true, .. } => decode::utf8_string(bytes).or_else(decode::decode),
            _ => decode::decode(bytes),
        }
    }

    /// The size of a text input's file as pass 1 read it, when it is known: what reading it
    /// again should give.
    fn known_file_size(&self) -> Option<u64> {
        match self {
            Scan::Text { bytes, stored_as_read: true, .. } => Some(*bytes),
            _ => None,
        }
    }

    /// Hash of the input's bytes (none when it was not read).
    fn content_hash(&self) -> Option<u64> {
        match self {
            Scan::Text { content_hash, .. } => Some(*content_hash),
            Scan::Jsonl(scan) => Some(scan.content_hash),
            Scan::Failed(_) | Scan::Binary => None,
        }
    }
}

/// The ids of a JSONL input's records, one after the other in one buffer: 8 bytes a record and
/// its id's bytes (a `Box<str>` a record took 48 with the allocator's header, for ids of up to 24
/// bytes).
#[derive(Debug, Default)]
struct RecordIds {
    /// The ids, one after the other.
    bytes: String,
    /// Where each id ends in `bytes`.
    ends: Vec<u64>,
}

impl RecordIds {
    /// Appends the next record's id.
    fn push(&mut self, id: &str) {
        self.bytes.push_str(id);
        self.ends.push(self.bytes.len() as u64);
    }

    /// The id of record `index` (in the order they were pushed).
    fn get(&self, index: usize) -> &str {
        let start = index.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.bytes[start as usize..self.ends[index] as usize]
    }

    /// Gives back the slack that growing left.
    fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// The ids of the run's pages, by page index: a JSONL record's is kept in its input's scan, a
/// text page's is its source's ([`Source::id`]).
struct PageIds<'a> {
    sources: &'a Sources,
    scans: &'a [Scan],
    /// Each input's first page index.
    first_page: &'a [usize],
    /// Whether anything shows the ids (the report, the explain view, `--related`): when
    /// nothing does, every id is empty, and a page costs no id strings.
    shown: bool,
}

impl PageIds<'_> {
    /// The id of page `page` (empty when ids are not [`PageIds::shown`]).
    fn id(&self, page: usize) -> String {
        if !self.shown {
            return String::new();
        }
        // Its input: the first one whose next input starts after it (inputs without pages share
        // the next one's first page).
        let input = self.first_page[1..].partition_point(|&next| next <= page);
        match &self.scans[input] {
            Scan::Jsonl(scan) => scan.ids.get(page - self.first_page[input]).to_string(),
            _ => self.sources.get(input).id(),
        }
    }
}

/// What the later passes use of what pass 1 learned of one page (a JSONL record's line is its
/// input's: [`JsonlScan::lines`]).
struct PageScan {
    /// What pass 1 kept of the page for the later passes, when it fitted in the budget.
    cached: Option<Box<CachedPage>>,
}

/// What pass 2 produced for one input, held until the inputs before it are out (in [`Spill`]s:
/// a large JSONL input's share is not held in memory).
#[derive(Default)]
struct Written {
    /// Its documents and duplicates, for the report and the totals.
    report: ReportPart,
    /// The rendered output when it goes to standard output.
    stdout: Spill,
    /// JSONL lines of duplicates not written, untouched, for `--removed`.
    removed: Spill,
    error: Option<Error>,
}

impl Written {
    /// Nothing written yet; the report's entries rendered when `config` writes a report.
    fn new(config: &Config) -> Self {
        Written { report: ReportPart::new(config.report.is_some()), ..Written::default() }
    }

    /// What is left of an input that failed with `error`: nothing of it is reported or written.
    fn failed(error: Error) -> Self {
        Written { error: Some(error), ..Written::default() }
    }
}

/// Runs `clean` as configured. `stdin` is read only when an input is `-`; `report_error` is
/// called for every problem as soon as it is found.
pub fn run(
    config: &Config,
    stdin: impl FnOnce() -> io::Result<Vec<u8>>,
    report_error: &(dyn Fn(&Error) + Sync),
) -> Result<Outcome, ConfigError> {
    let mut clock = crate::stats::PhaseClock::start();
    // No input can be an output file when the output folder did not exist before the run.
    let fresh_out = config.out.as_deref().is_some_and(|out| std::fs::symlink_metadata(out).is_err());
    let (mut sources, walk_errors) = config.discovery.discover(&config.inputs, stdin);
    let inputs = sources.len() + walk_errors.len();
    let mut skipped: Vec<SkippedEntry> = Vec::new();
    let mut failures = walk_errors.len();
    for error in &walk_errors {
        report_error(error);
        skipped.push(SkippedEntry { id: error_path(error), reason: error.to_string() });
    }
    // Two inputs mapping to one output file (one relative path): the first keeps it, the later
    // ones are skipped. The files of one input argument have distinct relative paths, so only
    // several arguments can clash.
    if let (Some(out), true) = (&config.out, config.inputs.len() > 1) {
        let hasher = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default();
        let mut keep = vec![true; sources.len()];
        for (index, first) in output_clashes(&sources, |path| std::hash::BuildHasher::hash_one(&hasher, path))
        {
            let (source, first) = (sources.get(index), sources.get(first));
            let error = Error::OutputClash {
                path: source.display_path(),
                other: first.display_path(),
                out: out.join(first.relative()),
            };
            report_error(&error);
            failures += 1;
            skipped.push(SkippedEntry { id: error_path(&error), reason: error.to_string() });
            keep[index] = false;
        }
        sources = sources.retained(|index| keep[index]);
    }
    if config.out.is_none()
        && sources.len() > 1
        && !config.explain
        && sources.iter().any(|s| s.format == Format::Text)
    {
        return Err(ConfigError::Usage(format!(
            "{} inputs need --out DIR (only a single input, or only JSONL inputs, can go to standard output)",
            sources.len()
        )));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
        .map_err(|e| ConfigError::Usage(format!("cannot start worker threads: {e}")))?;

    clock.lap("find inputs");
    let progress = progress_bar(config, sources.len());
    // The recurrence sketch is sized from the bytes to read (compressed inputs count as stored).
    // Each input's size also sizes the buffer it is read into (no second `stat`).
    let sizes: Vec<u64> = pool.install(|| {
        (0..sources.len())
            .into_par_iter()
            .map(|input| stored_bytes(&sources.get(input)).unwrap_or(UNKNOWN_SIZE))
            .collect()
    });
    let recurrence =
        corpus::Recurrence::for_input_bytes(sizes.iter().filter(|&&size| size != UNKNOWN_SIZE).sum());
    let cache = PageCache::new(config.cache_bytes);
    // The run's pool makes its threads' memos from this setting.
    crate::memo::set_total_bytes(config.memo_bytes);
    // A text input's summary comes beside its scan (a JSONL input's are in its scan), so that
    // the scans the run keeps to the end do not hold it.
    let (mut scans, text_summaries): (Vec<Scan>, Vec<PageSummary>) = pool.install(|| {
        (0..sources.len())
            .into_par_iter()
            .zip(&sizes)
            .map(|(input, &size)| {
                let size = (size != UNKNOWN_SIZE).then_some(size);
                let scanned = scan(&sources.get(input), size, config, &recurrence, &cache);
                progress.inc(1);
                scanned
            })
            .unzip()
    });
    drop(sizes);
    progress.finish_and_clear();

    // Report pass-1 problems in input order, then lay out the page table.
    let mut summaries: Vec<PageSummary> =
        Vec::with_capacity(scans.iter().map(|scan| scan.pages().len()).sum());
    let mut first_page: Vec<usize> = Vec::with_capacity(sources.len());
    for ((source, scan), summary) in sources.iter().zip(scans.iter_mut()).zip(text_summaries) {
        first_page.push(summaries.len());
        match scan {
            Scan::Failed(error) => {
                report_error(error);
                failures += 1;
                skipped.push(SkippedEntry { id: source.id(), reason: error.to_string() });
            }
            Scan::Binary => {
                report_error(&Error::Walk {
                    path: source.display_path(),
                    message: "skipped, binary file".into(),
                });
                failures += 1;
                skipped.push(SkippedEntry { id: source.id(), reason: "binary file".into() });
            }
            Scan::Text { .. } => summaries.push(summary),
            Scan::Jsonl(scan) => {
                for line in scan.broken.iter() {
                    let path = source.display_path();
                    report_error(&Error::Walk {
                        path: PathBuf::from(format!("{}:{}", path.display(), line.line)),
                        message: format!("skipped, {}", line.message),
                    });
                    failures += 1;
                    skipped.push(SkippedEntry {
                        id: format!("{}:{}", source.id(), line.line),
                        reason: line.message.clone(),
                    });
                }
                summaries.extend(std::mem::take(&mut scan.summaries));
            }
        }
    }
    clock.lap_over_input("label (pass 1)");
    let (verdict, error) =
        corpus_pass(&pool, &sources, &mut scans, &mut first_page, summaries, recurrence, config);
    if let Some(error) = error {
        report_error(&error);
        failures += 1;
    }
    clock.lap("corpus pass");
    let shown = config.shows_ids();
    let ids = PageIds { sources: &sources, scans: &scans, first_page: &first_page, shown };

    let to_stdout = config.out.is_none();
    // A lone JSONL input writes to standard output as it goes (`textsift clean shard.jsonl.zst |
    // ...`): nothing else has to come out before it.
    let plan = WritePlan {
        stream_stdout: to_stdout && sources.len() == 1 && sources.get(0).format == Format::Jsonl,
        check_own_input: !fresh_out,
    };
    let progress = progress_bar(config, sources.len());
    // Standard output is locked only to write: a lone JSONL input's worker writes there itself.
    let stdout = io::stdout();
    let mut stdout_closed = false;
    let mut report = ReportWriter::new(StreamedFile::create(config.report.as_deref()))
        .expect("a streamed file keeps its errors for commit");
    let mut removed = StreamedFile::create(config.removed.as_deref());
    // The write pass goes a chunk of inputs at a time, each chunk in parallel: what the inputs
    // produced (the report's documents and duplicates, standard output, `--removed` lines) goes
    // out in input order after each chunk, so it is never held for the whole run.
    let mut next = 0;
    while next < sources.len() {
        let chunk = next..write_chunk_end(scans.len(), |i| scans[i].known_file_size().unwrap_or(0), next);
        next = chunk.end;
        let written: Vec<Written> = pool.install(|| {
            chunk
                .clone()
                .into_par_iter()
                .zip(scans[chunk.clone()].par_iter())
                .zip(first_page[chunk.clone()].par_iter())
                .map(|((input, scan), &first)| {
                    let written =
                        write_source(&sources.get(input), scan, first, &ids, &verdict, config, plan);
                    progress.inc(1);
                    written
                })
                .collect()
        });
        for (input, result) in chunk.zip(written) {
            if let Some(error) = &result.error {
                report_error(error);
                failures += 1;
                skipped.push(SkippedEntry { id: sources.get(input).id(), reason: error.to_string() });
            }
            if to_stdout && !stdout_closed && !result.stdout.is_empty() {
                let mut stdout = stdout.lock();
                if let Err(source) = result.stdout.copy_to(&mut stdout, 0).and_then(|_| stdout.flush()) {
                    // A closed pipe (`textsift clean x | head`) is the reader's choice, not an error.
                    stdout_closed = true;
                    if source.kind() != io::ErrorKind::BrokenPipe {
                        let error = Error::Write { path: PathBuf::from("-"), source };
                        report_error(&error);
                        failures += 1;
                    }
                }
            }
            // The streamed files keep their own errors: what fails here is a spill's.
            if let Err(error) = report.add(result.report) {
                report.get_mut().keep(error);
            }
            if let Err(error) = result.removed.copy_to(&mut removed, 0) {
                removed.keep(error);
            }
        }
    }
    progress.finish_and_clear();
    if let Err(error) = removed.commit() {
        report_error(&error);
        failures += 1;
    }
    if let Some(path) = &config.related {
        let mut lines = String::new();
        for &(a, b, similarity) in &verdict.related {
            let line = serde_json::json!({ "id": ids.id(a), "related": ids.id(b), "similarity": round3(similarity) });
            lines.push_str(&line.to_string());
            lines.push('\n');
        }
        if let Err(source) = output::write_atomic(path, lines.as_bytes()) {
            report_error(&Error::Write { path: path.clone(), source });
            failures += 1;
        }
    }
    let totals = match report.finish(&skipped) {
        Ok(totals) => totals,
        Err(error) => {
            report.get_mut().keep(error);
            report.totals().clone()
        }
    };
    if let Err(error) = report.into_inner().commit() {
        report_error(&error);
        failures += 1;
    }
    // The scan records and the pages cached in them are freed on the run's threads: one
    // thread took 57 ms for 200,000 pages.
    drop((ids, verdict));
    pool.install(|| scans.into_par_iter().with_min_len(PAGES_PER_TASK).for_each(drop));
    clock.lap_over_input("write (pass 2)");
    Ok(Outcome { totals, failures, inputs, phases: clock.into_phases() })
}

/// Inputs the fingerprint pass ([`corpus_pass`]) and the write pass ([`run`]) take at a time.
const CHUNK_INPUTS: usize = 4096;

/// Bytes of input (as stored) the write pass takes at a time, beside [`CHUNK_INPUTS`] (an
/// input larger than that alone): each input's output waits until the inputs before it are
/// out, in memory or in a spill file, so a chunk of many large inputs would hold that much
/// memory, or that many open files.
const CHUNK_BYTES: u64 = 64 << 20;

/// The end of the write pass's chunk of inputs that starts at `start`, of `inputs` whose sizes
/// `size_of` gives: at most [`CHUNK_INPUTS`], and no more once [`CHUNK_BYTES`] are reached.
fn write_chunk_end(inputs: usize, size_of: impl Fn(usize) -> u64, start: usize) -> usize {
    let (mut end, mut bytes) = (start, 0u64);
    while end < inputs && end - start < CHUNK_INPUTS && (end == start || bytes < CHUNK_BYTES) {
        bytes = bytes.saturating_add(size_of(end));
        end += 1;
    }
    end
}

/// Pages of one input that a thread takes at a time in the corpus pass: enough to pay for the
/// hand-over, so that an input of one page (a text file) is not split at all.
const PAGES_PER_TASK: usize = 64;

/// A file written as the run goes (`--report`, `--removed`), or nowhere when not asked for. The
/// first error is kept and named at [`StreamedFile::commit`]; the file is then not written, and
/// the rest of the run goes on.
struct StreamedFile {
    path: Option<PathBuf>,
    file: Option<output::AtomicFile>,
    error: Option<io::Error>,
}

impl StreamedFile {
    fn create(path: Option<&std::path::Path>) -> Self {
        let (file, error) = match path.map(output::AtomicFile::create) {
            None => (None, None),
            Some(Ok(file)) => (Some(file), None),
            Some(Err(error)) => (None, Some(error)),
        };
        Self { path: path.map(PathBuf::from), file, error }
    }

    /// Keeps `error` when it is the first (the file is then not written).
    fn keep(&mut self, error: io::Error) {
        if self.path.is_some() && self.error.is_none() {
            self.error = Some(error);
        }
    }

    /// Renames the file into place, or names the first error.
    fn commit(self) -> Result<(), Error> {
        let Some(path) = self.path else { return Ok(()) };
        let result = match (self.error, self.file) {
            (Some(error), _) => Err(error),
            (None, Some(file)) => file.commit(),
            (None, None) => Ok(()),
        };
        result.map_err(|source| Error::Write { path, source })
    }
}

impl Write for StreamedFile {
    /// Never fails: the first error is kept for [`StreamedFile::commit`], later bytes dropped.
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if let (Some(file), None) = (&mut self.file, &self.error) {
            if let Err(error) = file.write_all(bytes) {
                self.error = Some(error);
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let (Some(file), None) = (&mut self.file, &self.error) {
            if let Err(error) = file.flush() {
                self.error = Some(error);
            }
        }
        Ok(())
    }
}

/// The inputs whose relative path an earlier input has (their outputs would clash), each with
/// that first input, in input order. The inputs are found by `hash` of their relative path (a
/// run may have many inputs: their paths are not held twice), which must agree with `Path`'s
/// equality; the paths whose hash another path has are kept whole, apart.
fn output_clashes(sources: &Sources, hash: impl Fn(&Path) -> u64) -> Vec<(usize, usize)> {
    let mut first_of: HashMap<u64, usize> = HashMap::with_capacity(sources.len());
    let mut first_of_shared_hash: HashMap<PathBuf, usize> = HashMap::new();
    let mut clashes = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let relative = source.relative();
        let first = match first_of.entry(hash(relative)) {
            Entry::Vacant(entry) => {
                entry.insert(index);
                continue;
            }
            Entry::Occupied(entry) if sources.get(*entry.get()).relative() == relative => *entry.get(),
            Entry::Occupied(_) => match first_of_shared_hash.entry(relative.to_path_buf()) {
                Entry::Vacant(entry) => {
                    entry.insert(index);
                    continue;
                }
                Entry::Occupied(entry) => *entry.get(),
            },
        };
        clashes.push((index, first));
    }
    clashes
}

/// The corpus pass (see [`corpus`]): signs every page's cleaned text (reading a page again when
/// provisional site chrome changes what it keeps), counts the candidate chrome blocks exactly,
/// groups near-duplicates, reads the later copies of a group on one site again to count them
/// off, and returns the verdict pass 2 applies.
fn corpus_pass(
    pool: &rayon::ThreadPool,
    sources: &Sources,
    scans: &mut Vec<Scan>,
    first_page: &mut Vec<usize>,
    mut summaries: Vec<PageSummary>,
    mut recurrence: corpus::Recurrence,
    config: &Config,
) -> (Verdict, Option<Error>) {
    // The fingerprint pass: sign each page's text without provisional chrome, reading it again
    // only when that chrome changes its kept blocks. The same pass counts exactly the blocks that
    // can be chrome (by their keys, which pass 1 kept: only the blocks whose text is signed are
    // normalised again).
    let provisional = corpus::provisional(&recurrence, &config.corpus);
    let site_chrome = config.corpus.site_chrome;
    // Each page's signature goes to the log as it is made (in a temporary file beyond 32 MiB):
    // a large run holds no signature a page in memory.
    let log = config.corpus.dedup.then(|| corpus::SignatureLog::for_pages(summaries.len()));
    // Pages whose blocks are counted after grouping, from the keys pass 1 kept: once it is known
    // which pages count, those that do not are never counted (rather than counted, then counted
    // off). The pages read again are counted as they are read (reading them once more would
    // cost more than counting blocks off).
    let mut deferred = vec![false; summaries.len()];
    if let Some(log) = &log {
        // Each input marks its pages in its own part of `deferred`, a chunk of inputs at a time
        // (the parts of every input at once would cost two words a page).
        let mut rest_deferred = deferred.as_mut_slice();
        for start in (0..sources.len()).step_by(CHUNK_INPUTS) {
            let inputs = start..sources.len().min(start + CHUNK_INPUTS);
            let mut parts: Vec<&mut [bool]> = Vec::with_capacity(inputs.len());
            for scan in &scans[inputs.clone()] {
                let (part, tail) = std::mem::take(&mut rest_deferred).split_at_mut(scan.pages().len());
                parts.push(part);
                rest_deferred = tail;
            }
            pool.install(|| {
                inputs
                    .clone()
                    .into_par_iter()
                    .zip(&scans[inputs.clone()])
                    .zip(&first_page[inputs])
                    .zip(parts)
                    .for_each(|(((input, scan), &first), deferred)| {
                        let pages = scan.pages();
                        // A page pass 1 signed is signed again from that signature, site chrome
                        // taken out, without reading it again (unless chrome changes too much:
                        // see `fingerprint_without_text`); its keys count after grouping. The
                        // pages of one input (a JSONL file's records) are signed in parallel too.
                        let read_again: Vec<bool> = pages
                            .par_iter()
                            .enumerate()
                            .with_min_len(PAGES_PER_TASK)
                            .map(|(offset, page)| {
                                let Some(cached) = &page.cached else { return true };
                                let Some(signature) = &cached.signature else { return true };
                                let site = summaries[first + offset].site;
                                let fingerprint = corpus::fingerprint_without_text(
                                    signature,
                                    &cached.labels(),
                                    |block| cached.shingles(block),
                                    cached.keys(),
                                    site,
                                    &provisional,
                                );
                                let Some(fingerprint) = fingerprint else { return true };
                                log.add(first + offset, &fingerprint);
                                false
                            })
                            .collect();
                        for (deferred, &read) in deferred.iter_mut().zip(&read_again) {
                            *deferred = site_chrome && !read;
                        }
                        let wanted = |index: usize| read_again[index - first];
                        reread(
                            (sources, input),
                            scan,
                            first,
                            config,
                            &wanted,
                            may_be_signed,
                            &|index, labelled| {
                                let site = summaries[index].site;
                                if site_chrome {
                                    corpus::count(&labelled.page, &summaries[index], &recurrence);
                                }
                                corpus::fingerprint(&labelled.page, &labelled.labels, site, &provisional)
                            },
                            |index, fingerprint| log.add(index, &fingerprint),
                        );
                    })
            });
        }
    } else if site_chrome {
        // No fingerprint pass: the pages pass 1 kept count after grouping; the others are read
        // again and counted now.
        let mut index = 0;
        for scan in scans.iter() {
            for page in scan.pages() {
                deferred[index] = page.cached.is_some();
                index += 1;
            }
        }
        pool.install(|| {
            (0..sources.len()).into_par_iter().zip(scans.par_iter()).zip(first_page.par_iter()).for_each(
                |((input, scan), &first)| {
                    let pages = scan.pages();
                    let wanted = |index: usize| pages[index - first].cached.is_none();
                    let count = |index: usize, labelled: &Labelled<'_>| {
                        corpus::count(&labelled.page, &summaries[index], &recurrence)
                    };
                    reread((sources, input), scan, first, config, &wanted, keys_only, &count, |_, ()| {});
                },
            )
        });
    }
    drop(provisional);
    // From here on the sketch is only asked which blocks are candidates, for the pages counted
    // after grouping: a bit a counter is enough, and grouping does not hold the sketch beside
    // its pairs. Without such pages it is not asked at all.
    if deferred.contains(&true) {
        recurrence.keep_candidates_only();
    } else {
        recurrence.forget_sketch();
    }
    // What grouping does not read waits packed, so that grouping's tables do not come on top:
    // the scan records and page tables, and the exact counts of the site blocks.
    let idle = idle::IdleTables::pack(scans, first_page, &mut summaries, &mut deferred);
    let counts = recurrence.pack_exact();
    // Related pairs are listed only for --related. Grouping runs on the run's threads (not
    // rayon's global pool, which --threads does not size).
    let groups = pool.install(|| corpus::group(log, &config.corpus, config.related.is_some()));
    pool.install(|| recurrence.unpack_exact(counts));
    idle.unpack(scans, first_page, &mut summaries, &mut deferred);
    let (scans, first_page): (&[Scan], &[usize]) = (scans, first_page);
    // A log that cannot be read again leaves every page out of every group: all are written.
    let (groups, error) = match groups {
        Ok(groups) => (groups, None),
        Err(source) => (corpus::Groups::default(), Some(Error::Signatures { source })),
    };
    // Pages of one group count once per site: count the later ones off, by the keys pass 1
    // kept or reading them again.
    let uncounted = corpus::uncounted(&summaries, &groups);
    if site_chrome && uncounted.contains(&true) {
        pool.install(|| {
            (0..sources.len()).into_par_iter().zip(scans.par_iter()).zip(first_page.par_iter()).for_each(
                |((input, scan), &first)| {
                    let pages = scan.pages();
                    pages.par_iter().enumerate().with_min_len(PAGES_PER_TASK).for_each(|(offset, page)| {
                        let index = first + offset;
                        match (uncounted[index], deferred[index], &page.cached) {
                            (true, true, _) => recurrence.remove_page(summaries[index].site),
                            (true, false, Some(cached)) => {
                                recurrence.remove(summaries[index].site, &cached.distinct_keys())
                            }
                            _ => {}
                        }
                    });
                    let wanted = |index: usize| uncounted[index] && pages[index - first].cached.is_none();
                    let uncount = |index: usize, labelled: &Labelled<'_>| {
                        corpus::uncount(&labelled.page, &summaries[index], &recurrence)
                    };
                    reread((sources, input), scan, first, config, &wanted, keys_only, &uncount, |_, ()| {});
                },
            )
        });
    }
    if deferred.contains(&true) {
        // The deferred pages that count.
        pool.install(|| {
            scans.par_iter().zip(first_page.par_iter()).for_each(|(scan, &first)| {
                let pages = scan.pages();
                pages.par_iter().enumerate().with_min_len(PAGES_PER_TASK).for_each(|(offset, page)| {
                    let index = first + offset;
                    if let (true, false, Some(cached)) = (deferred[index], uncounted[index], &page.cached) {
                        recurrence.count(summaries[index].site, &cached.distinct_keys());
                    }
                });
            })
        });
    }
    drop(deferred);
    recurrence.forget_sketch();
    (corpus::finish(summaries, groups, &recurrence, &config.corpus), error)
}

/// A size [`stored_bytes`] could not tell, in the run's table of sizes (8 bytes an input where an
/// `Option` takes 16).
const UNKNOWN_SIZE: u64 = u64::MAX;

/// Bytes a source holds as stored (`None` when it cannot be looked at; pass 1 names it).
fn stored_bytes(source: &Source) -> Option<u64> {
    match &source.origin {
        Origin::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
        Origin::Stdin(bytes) => Some(bytes.len() as u64),
    }
}

fn error_path(error: &Error) -> String {
    match error {
        Error::Read { path, .. }
        | Error::Decompress { path, .. }
        | Error::Changed { path }
        | Error::Walk { path, .. }
        | Error::OutputClash { path, .. }
        | Error::Write { path, .. } => path.display().to_string(),
        Error::Signatures { .. } => String::new(),
    }
}

fn progress_bar(config: &Config, inputs: usize) -> ProgressBar {
    if !config.progress || inputs < PROGRESS_MIN_INPUTS {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(inputs as u64);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos}/{len} inputs {wide_bar} {eta}") {
        bar.set_style(style);
    }
    bar
}

/// One page, decoded and labelled: the part both passes share.
struct Labelled<'a> {
    page: Segmented<'a>,
    labels: Vec<Label>,
}

fn label_page<'a>(text: &'a str, host: Option<&str>, config: &Config) -> Labelled<'a> {
    let mut page = segment::segment(text);
    // The near-repeat check shingles long blocks, and pass 1's signature reads the same shingles.
    page.keep_shingles(crate::page::repeats::NEAR_REPEAT_MIN_WORDS);
    let labels = config.page.classify(&page, host);
    Labelled { page, labels }
}

/// Labels a page again after pass 1, from pass 1's labels and keys when they were kept: then
/// only the blocks whose label `needs` selects are normalised (every block otherwise).
fn relabel<'a>(
    text: &'a str,
    host: Option<&str>,
    cached: Option<&CachedPage>,
    needs: fn(&Label) -> bool,
    config: &Config,
) -> Labelled<'a> {
    let Some(cached) = cached else {
        return label_page(text, host, config);
    };
    let mut page = segment::split(text);
    let labels = cached.labels();
    for (block, key) in page.blocks.iter_mut().zip(cached.keys()) {
        block.key = key;
    }
    page.normalize_where(|index| needs(&labels[index]));
    Labelled { page, labels }
}

/// The write pass's labels of a cached page of `text` (page `page_index` of the run), the
/// corpus `verdict` applied, and its clean text (empty when `suppressed`), rendered from where
/// the cache says its blocks sit: the text is not split into blocks again. `None` when the
/// cache does not fit `text`.
fn clean_from_cache(
    text: &str,
    cached: &CachedPage,
    page_index: usize,
    verdict: &Verdict,
    suppressed: bool,
) -> Option<(Vec<Label>, String)> {
    let blocks = cached.block_texts(text)?;
    let mut labels = cached.labels();
    verdict.apply_by_keys(page_index, cached.keys(), &mut labels);
    let mut clean = String::new();
    if !suppressed {
        // Room for as many bytes as the page at once (the clean text seldom has more), rather
        // than growing by doubling.
        clean.reserve(text.len() + 1);
        output::render_clean_blocks(cached.layout().separator(), blocks, &labels, &mut clean);
    }
    Some((labels, clean))
}

/// For [`relabel`] in the passes that only look blocks up by key (site chrome, counting off):
/// no block is normalised.
fn keys_only(_: &Label) -> bool {
    false
}

/// For [`relabel`] in the fingerprint pass: the blocks whose text may be signed, the kept ones
/// and the context drops that site chrome may restore ([`corpus::apply_site_chrome`]).
fn may_be_signed(label: &Label) -> bool {
    matches!(label, Label::Keep | Label::Drop(Reason::Context { .. }))
}

/// Pass 1 over one input (of `stored_bytes` when they are known): every page labelled,
/// summarised and, within the budget, cached; a text input's summary comes beside the scan (a
/// default one beside any other's).
fn scan(
    source: &Source,
    stored_bytes: Option<u64>,
    config: &Config,
    recurrence: &corpus::Recurrence,
    cache: &PageCache,
) -> (Scan, PageSummary) {
    if source.format == Format::Jsonl {
        return (scan_jsonl(source, config, recurrence, cache), PageSummary::default());
    }
    let bytes = match source.read_sized(stored_bytes) {
        Ok(bytes) => bytes,
        Err(error) => return (Scan::Failed(Box::new(error)), PageSummary::default()),
    };
    let content_hash = xxh3_64(&bytes);
    let bytes_len = bytes.len();
    let (text, plain) = match decode::decode_noting(bytes) {
        Ok(decoded) => (decoded.text, decoded.unchanged),
        Err(DecodeError::Binary) => return (Scan::Binary, PageSummary::default()),
    };
    let labelled = label_page(&text, None, config);
    let site = config.site_from.site_of(source.relative());
    let summary = corpus::summarize(&labelled.page, site.as_deref(), recurrence);
    let cached = cache.keep(&text, &labelled.page, &labelled.labels, config.corpus.dedup);
    let stored_as_read = stored_bytes == Some(bytes_len as u64);
    let scan = Scan::Text {
        content_hash,
        plain,
        bytes: bytes_len as u64,
        stored_as_read,
        page: PageScan { cached },
    };
    (scan, summary)
}

/// A record pass 1 read: its page and summary, its id (when the run shows ids), its line and
/// where the line starts in the input.
type ScannedRecord = (PageScan, PageSummary, Option<String>, usize, u64);

/// [`scan`] of a JSONL input, read a batch of lines at a time ([`jsonl::Batches`]), the records
/// of a batch parsed and labelled in parallel: a file of many records uses every core and is
/// never held whole, and no record outlives its page pass.
fn scan_jsonl(source: &Source, config: &Config, recurrence: &corpus::Recurrence, cache: &PageCache) -> Scan {
    let stream = match source.open() {
        Ok(stream) => stream,
        Err(error) => return Scan::Failed(Box::new(error)),
    };
    let file_id = source.id();
    let shows_ids = config.shows_ids();
    let mut offsets = (!stream.compressed()).then(RisingNumbers::default);
    let mut record_lines = RisingNumbers::default();
    let mut batches = jsonl::Batches::new(stream.reader);
    let (mut pages, mut summaries, mut ids, mut broken) =
        (Vec::new(), Vec::new(), RecordIds::default(), Vec::new());
    let read = batches.for_each_read_ahead(|batch| {
        let lines = batch.lines();
        // Each record's page, id and where its line starts.
        let scanned: Vec<Result<ScannedRecord, BrokenLine>> = lines
            .into_par_iter()
            .map(|(number, line)| {
                let offset = batch.offset_of(line);
                let mut record = jsonl::parse_line(line, number, &config.keys)?;
                let (text, plain) = decode::fold_noting(record.take_text(&config.keys));
                let host = record.host();
                let labelled = label_page(&text, host.as_deref(), config);
                let summary = corpus::summarize(&labelled.page, host.as_deref(), recurrence);
                let mut cached = cache.keep(&text, &labelled.page, &labelled.labels, config.corpus.dedup);
                if let Some(cached) = &mut cached {
                    // The write pass then takes the record's text as it is, without a copy.
                    cached.set_plain(plain);
                }
                let id = shows_ids.then(|| record.id(&config.keys, &file_id));
                Ok((PageScan { cached }, summary, id, number, offset))
            })
            .collect();
        for scanned in scanned {
            match scanned {
                Ok((page, summary, id, line, offset)) => {
                    pages.push(page);
                    record_lines.push(line as u64);
                    summaries.push(summary);
                    if let Some(id) = id {
                        ids.push(&id);
                    }
                    if let Some(offsets) = &mut offsets {
                        offsets.push(offset);
                    }
                }
                Err(line) => broken.push(line),
            }
        }
        true
    });
    if let Err(error) = read {
        return Scan::Failed(Box::new(stream.errors.error(error)));
    }
    // Kept until the run ends: without the slack of growing (up to half of each).
    pages.shrink_to_fit();
    ids.shrink_to_fit();
    record_lines.shrink_to_fit();
    if let Some(offsets) = &mut offsets {
        offsets.shrink_to_fit();
    }
    let content_hash = batches.content_hash();
    Scan::Jsonl(Box::new(JsonlScan {
        content_hash,
        pages,
        summaries,
        ids,
        lines: record_lines,
        offsets,
        broken,
    }))
}

/// Reads a source again, labels and writes it. Errors leave no partial output behind.
fn write_source(
    source: &Source,
    scan: &Scan,
    first_page: usize,
    ids: &PageIds<'_>,
    verdict: &Verdict,
    config: &Config,
    plan: WritePlan,
) -> Written {
    let mut written = Written::new(config);
    let (Some(content_hash), pages) = (scan.content_hash(), scan.pages()) else {
        return written;
    };
    if source.format == Format::Jsonl {
        let sink = match &config.out {
            Some(out) => JsonlSink::file(source, out.join(source.relative()), plan),
            None if plan.stream_stdout => Ok(JsonlSink::Stdout { out: io::stdout().lock(), closed: false }),
            None => Ok(JsonlSink::Buffer),
        };
        match sink {
            Ok(sink) => {
                let Scan::Jsonl(jsonl_scan) = scan else { unreachable!("a JSONL input's scan") };
                write_jsonl(
                    source,
                    content_hash,
                    jsonl_scan,
                    first_page,
                    ids,
                    verdict,
                    config,
                    sink,
                    &mut written,
                )
            }
            Err(error) => written.error = Some(error),
        }
        return written;
    }
    let page_index = first_page;
    let cached = pages.first().and_then(|p| p.cached.as_deref());
    let duplicate = duplicate_entry(page_index, ids, verdict);
    let suppressed = duplicate.is_some() && !config.keep_duplicates;
    let (labels, rendered, bytes_in) = match (suppressed && !config.explain, cached, scan) {
        (true, Some(cached), Scan::Text { bytes, .. }) => {
            // A near-duplicate that is not written is not read again: its labels are what pass
            // 1 kept, with the corpus verdict applied.
            let mut labels = cached.labels();
            verdict.apply_by_keys(page_index, cached.keys(), &mut labels);
            (labels, String::new(), *bytes)
        }
        _ => {
            let bytes = match source.read_sized(scan.known_file_size()) {
                Ok(bytes) => bytes,
                Err(error) => {
                    written.error = Some(error);
                    return written;
                }
            };
            if xxh3_64(&bytes) != content_hash {
                written.error = Some(Error::Changed { path: source.display_path() });
                return written;
            }
            let bytes_in = bytes.len() as u64;
            let Ok(text) = scan.decode_again(bytes) else {
                written.error = Some(Error::Changed { path: source.display_path() });
                return written;
            };
            let (labels, rendered) =
                render_page(&text, cached, page_index, ids, verdict, config, duplicate.as_ref());
            (labels, rendered, bytes_in)
        }
    };
    let document = DocumentEntry {
        id: ids.id(page_index),
        counts: BlockCounts::from_labels(&labels),
        bytes_in,
        bytes_out: if suppressed { 0 } else { rendered.len() as u64 },
        duplicate_of: duplicate.as_ref().map(|d| d.duplicate_of.clone()),
    };
    written.report.document(&document, None);
    if let Some(duplicate) = &duplicate {
        written.report.duplicate(duplicate);
    }
    match &config.out {
        None => written.stdout = Spill::of_bytes(rendered.into_bytes()),
        // A duplicate not written gets no file.
        Some(_) if suppressed && !config.explain => {}
        Some(out) => {
            let target = out.join(source.relative());
            if let Err(error) = refuse_own_input(source, &target, plan) {
                written.error = Some(error);
                return written;
            }
            if let Err(source) = output::write_atomic(&target, rendered.as_bytes()) {
                written.error = Some(Error::Write { path: target, source });
            }
        }
    }
    written
}

/// A text page's labels with the corpus `verdict` applied, and what the write pass writes of
/// it: its clean text (nothing for a `duplicate` that is not written) or its explain view.
fn render_page(
    text: &str,
    cached: Option<&CachedPage>,
    page_index: usize,
    ids: &PageIds<'_>,
    verdict: &Verdict,
    config: &Config,
    duplicate: Option<&DuplicateEntry>,
) -> (Vec<Label>, String) {
    let suppressed = duplicate.is_some() && !config.keep_duplicates;
    let from_cache = cached
        .filter(|_| !config.explain)
        .and_then(|cached| clean_from_cache(text, cached, page_index, verdict, suppressed));
    if let Some(done) = from_cache {
        return done;
    }
    let mut labelled = relabel(text, None, cached, keys_only, config);
    verdict.apply(page_index, &labelled.page, &mut labelled.labels);
    // Rendering needs only the blocks' text: free the normalised copy of a big page first.
    labelled.page.forget_normalized();
    let mut rendered = String::new();
    if config.explain {
        explain_page(&ids.id(page_index), text, None, &labelled, duplicate, config, &mut rendered);
    } else if !suppressed {
        output::render_clean(&labelled.page, &labelled.labels, &mut rendered);
    }
    (labelled.labels, rendered)
}

/// How the write pass writes, decided once a run.
#[derive(Debug, Clone, Copy)]
struct WritePlan {
    /// A lone JSONL input goes to standard output as it is written.
    stream_stdout: bool,
    /// Whether an output file may be an input's own file: not when the output folder did not
    /// exist before the run, which saves a `stat` an output file.
    check_own_input: bool,
}

/// An output at `target` that would overwrite `source`'s own file is refused.
fn refuse_own_input(source: &Source, target: &std::path::Path, plan: WritePlan) -> Result<(), Error> {
    match &source.origin {
        Origin::File(input) if plan.check_own_input && same_file(input, target) => Err(Error::Write {
            path: target.to_path_buf(),
            source: io::Error::other("would overwrite its own input"),
        }),
        _ => Ok(()),
    }
}

/// Where [`write_jsonl`] writes.
enum JsonlSink {
    /// Into [`Written::stdout`], printed in input order after the input is done.
    Buffer,
    /// Into the output's temporary file, renamed into place when the input is done.
    File(Box<output::AtomicFile>, PathBuf),
    /// Straight to standard output, a batch at a time (a lone input); `closed` once the reader
    /// has gone (`| head`), which is not an error.
    Stdout { out: io::StdoutLock<'static>, closed: bool },
}

impl JsonlSink {
    /// The sink of an output file at `target`, refused when it would overwrite `source`.
    fn file(source: &Source, target: PathBuf, plan: WritePlan) -> Result<Self, Error> {
        refuse_own_input(source, &target, plan)?;
        match output::AtomicFile::create(&target) {
            Ok(file) => Ok(JsonlSink::File(Box::new(file), target)),
            Err(source) => Err(Error::Write { path: target, source }),
        }
    }

    /// Writes one record's output.
    fn write(&mut self, bytes: &[u8], written: &mut Written) -> Result<(), Error> {
        match self {
            JsonlSink::Buffer => written.stdout.push(bytes),
            JsonlSink::File(file, target) => {
                file.write_all(bytes).map_err(|source| Error::Write { path: target.clone(), source })?
            }
            JsonlSink::Stdout { out, closed: false } => match out.write_all(bytes) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.close(),
                Err(source) => return Err(Error::Write { path: PathBuf::from("-"), source }),
                Ok(()) => {}
            },
            JsonlSink::Stdout { closed: true, .. } => {}
        }
        Ok(())
    }

    /// Whether writing compresses (a `.gz` or `.zst` output file): then it costs as much as
    /// rendering the records.
    fn compresses(&self) -> bool {
        matches!(self, JsonlSink::File(file, _) if file.compressed())
    }

    fn close(&mut self) {
        if let JsonlSink::Stdout { closed, .. } = self {
            *closed = true;
        }
    }

    /// Sends what the batch wrote on (standard output is flushed a batch at a time).
    fn end_batch(&mut self) -> Result<(), Error> {
        if let JsonlSink::Stdout { out, closed: false } = self {
            match out.flush() {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.close(),
                Err(source) => return Err(Error::Write { path: PathBuf::from("-"), source }),
                Ok(()) => {}
            }
        }
        Ok(())
    }
}

/// [`write_source`] of a JSONL input: read a batch of lines at a time ([`jsonl::Batches`]), the
/// records of a batch labelled and rendered in parallel and written in order into `sink`. An
/// output file is renamed into place only when the whole input was read and is what pass 1 read
/// (its hash); standard output cannot be taken back, so a changed input streamed there is only
/// named. A JSONL input always gets its output file, even when every record was a duplicate.
#[allow(clippy::too_many_arguments)]
fn write_jsonl(
    source: &Source,
    content_hash: u64,
    jsonl_scan: &JsonlScan,
    first_page: usize,
    ids: &PageIds<'_>,
    verdict: &Verdict,
    config: &Config,
    mut sink: JsonlSink,
    written: &mut Written,
) {
    let stream = match source.open() {
        Ok(stream) => stream,
        Err(error) => {
            written.error = Some(error);
            return;
        }
    };
    let pages = &jsonl_scan.pages;
    let mut batches = jsonl::Batches::new(stream.reader);
    let (mut next_page, mut record_lines) = (0, jsonl_scan.lines.iter().peekable());
    // A compressed output takes a batch's records while the next batch's are rendered: one
    // after the other, compressing left the other core idle (the write pass of the 70 MB JSONL
    // as `.jsonl.gz` 0.82 to 0.77 s, median of 7). It costs a batch of output more at the peak,
    // so an output that is not compressed takes each batch as it is rendered.
    let overlap = sink.compresses();
    let mut rendered_before: Vec<Option<WrittenRecord>> = Vec::new();
    let read = batches.for_each_read_ahead(|batch| {
        let lines = batch.all_lines();
        let (in_batch, numbers) = pages_in_batch(&mut next_page, &mut record_lines, batch, &lines);
        let start = in_batch.start;
        // Collected in place (indexed), not through the lists an unindexed collect joins.
        let render = || -> Vec<Option<WrittenRecord>> {
            pages[in_batch]
                .par_iter()
                .zip(&numbers)
                .enumerate()
                .map(|(offset, (page, &number))| {
                    let (record, line) = page_record(number, batch, &lines, config)?;
                    Some(write_record(&record, line, first_page + start + offset, page, ids, verdict, config))
                })
                .collect()
        };
        if !overlap {
            return write_records(render(), &mut sink, written);
        }
        let mut records = Vec::new();
        let wrote = rayon::in_place_scope(|scope| {
            scope.spawn(|_| records = render());
            // The sink stays on this thread.
            write_records(std::mem::take(&mut rendered_before), &mut sink, written)
        });
        rendered_before = records;
        wrote
    });
    if let Err(error) = read {
        *written = Written::failed(stream.errors.error(error));
        return;
    }
    if written.error.is_some() || !write_records(rendered_before, &mut sink, written) {
        return;
    }
    if batches.content_hash() != content_hash {
        // Changed since pass 1: nothing of it is reported, and an output file is dropped.
        *written = Written::failed(Error::Changed { path: source.display_path() });
        return;
    }
    if let JsonlSink::File(file, target) = sink {
        if let Err(source) = file.commit() {
            written.error = Some(Error::Write { path: target, source });
        }
    }
}

/// Writes one batch's `records` (`None` for a line that is no record) into `sink` in order,
/// and accounts for them in `written`: false (and `written` failed) when the sink fails.
fn write_records(records: Vec<Option<WrittenRecord>>, sink: &mut JsonlSink, written: &mut Written) -> bool {
    if records.is_empty() {
        return true;
    }
    for record in records.into_iter().flatten() {
        if let Err(error) = sink.write(record.rendered.as_bytes(), written) {
            *written = Written::failed(error);
            return false;
        }
        written.removed.push(&record.removed);
        written.report.document(&record.document, record.rendered_document.as_deref());
        if let Some(duplicate) = &record.duplicate {
            written.report.duplicate(duplicate);
        }
    }
    if let Err(error) = sink.end_batch() {
        *written = Written::failed(error);
        return false;
    }
    true
}

/// The pages (records, in line order from `*next_page` on, their lines `record_lines`) whose
/// lines are in `batch` (split into `lines`), and those lines' numbers; `*next_page` and
/// `record_lines` move past them.
fn pages_in_batch(
    next_page: &mut usize,
    record_lines: &mut std::iter::Peekable<impl Iterator<Item = u64>>,
    batch: &jsonl::Batch,
    lines: &[&[u8]],
) -> (std::ops::Range<usize>, Vec<usize>) {
    let start = *next_page;
    let end = (batch.first_line + lines.len()) as u64;
    let mut numbers = Vec::new();
    while let Some(number) = record_lines.next_if(|&number| number < end) {
        numbers.push(number as usize);
        *next_page += 1;
    }
    (start..*next_page, numbers)
}

/// The record on line `number` parsed again from `batch`, with that line.
fn page_record<'l>(
    number: usize,
    batch: &jsonl::Batch,
    lines: &[&'l [u8]],
    config: &Config,
) -> Option<(Record, &'l [u8])> {
    let line = *lines.get(number.checked_sub(batch.first_line)?)?;
    let record = jsonl::parse_line(line, number, &config.keys).ok()?;
    Some((record, line))
}

/// What the write pass made of one JSONL record.
struct WrittenRecord {
    /// Its output line (or explain view); empty when it is a duplicate not written.
    rendered: String,
    /// Its input line, untouched, when it is a duplicate not written and `--removed` asks for it.
    removed: Vec<u8>,
    document: DocumentEntry,
    /// The document's report entry ([`report::render_entry`]), rendered with the record (in
    /// parallel) when a report is written.
    rendered_document: Option<String>,
    duplicate: Option<DuplicateEntry>,
}

/// Labels, renders and accounts for one JSONL `record` (its input line `line`), page
/// `page_index` of the run.
fn write_record(
    record: &Record,
    line: &[u8],
    page_index: usize,
    page: &PageScan,
    ids: &PageIds<'_>,
    verdict: &Verdict,
    config: &Config,
) -> WrittenRecord {
    let cached = page.cached.as_deref();
    // A record whose text folding left alone in pass 1 is not folded (nor copied) again. The
    // file's hash is checked only once it is read whole: the output of a file changed since
    // pass 1 is dropped then (on standard output, where it cannot be taken back, the file is
    // named as changed), whether its records were folded again or not.
    let text = record.text(&config.keys);
    let text: Cow<'_, str> = if cached.is_some_and(CachedPage::plain) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(decode::fold(text.to_string()))
    };
    let duplicate = duplicate_entry(page_index, ids, verdict);
    let suppressed = duplicate.is_some() && !config.keep_duplicates;
    let from_cache = cached
        .filter(|_| !config.explain)
        .and_then(|cached| clean_from_cache(&text, cached, page_index, verdict, suppressed));
    let mut rendered = String::new();
    let (labels, clean) = match from_cache {
        Some(done) => done,
        None => {
            let host = record.host();
            let mut labelled = relabel(&text, host.as_deref(), cached, keys_only, config);
            verdict.apply(page_index, &labelled.page, &mut labelled.labels);
            let mut clean = String::new();
            if !suppressed {
                output::render_clean(&labelled.page, &labelled.labels, &mut clean);
            }
            if config.explain {
                let id = ids.id(page_index);
                explain_page(
                    &id,
                    &text,
                    host.as_deref(),
                    &labelled,
                    duplicate.as_ref(),
                    config,
                    &mut rendered,
                );
            }
            (labelled.labels, clean)
        }
    };
    let counts = BlockCounts::from_labels(&labels);
    let bytes_out = if suppressed { 0 } else { clean.len() as u64 };
    if !config.explain && !suppressed {
        let summary = serde_json::json!({ "kept": counts.kept, "dropped": counts.dropped });
        rendered.push_str(&record.to_clean_line(&config.keys, &clean, summary));
        rendered.push('\n');
    }
    let mut removed = Vec::new();
    if suppressed && config.removed.is_some() {
        removed.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
        removed.push(b'\n');
    }
    let document = DocumentEntry {
        id: ids.id(page_index),
        counts,
        bytes_in: record.text(&config.keys).len() as u64,
        bytes_out,
        duplicate_of: duplicate.as_ref().map(|d| d.duplicate_of.clone()),
    };
    let rendered_document = config.report.is_some().then(|| report::render_entry(&document));
    WrittenRecord { rendered, removed, document, rendered_document, duplicate }
}

/// Reads a source (the input of `sources` at an index) again and calls `each` with every page that `wanted` selects (by page index),
/// labelled as in pass 1, with the blocks whose label `needs` selects normalised, and hands what
/// it returned to `store` with the page index (the records of a JSONL input are taken in
/// parallel, a batch at a time, and stored after each batch: what the pages give is never
/// held for the whole input). An input that is not needed, cannot be read or has changed is
/// skipped (its pages are never grouped or counted off); pass 2 names it.
#[allow(clippy::too_many_arguments)]
fn reread<T: Send>(
    (sources, input): (&Sources, usize),
    scan: &Scan,
    first_page: usize,
    config: &Config,
    wanted: &(dyn Fn(usize) -> bool + Sync),
    needs: fn(&Label) -> bool,
    each: &(dyn Fn(usize, &Labelled<'_>) -> T + Sync),
    mut store: impl FnMut(usize, T),
) {
    let (Some(content_hash), pages) = (scan.content_hash(), scan.pages()) else {
        return;
    };
    if !(first_page..first_page + pages.len()).any(wanted) {
        return;
    }
    let source = &sources.get(input);
    if let Scan::Jsonl(jsonl_scan) = scan {
        // Only the wanted records' lines are parsed. What this read takes from a file changed
        // since pass 1 stays counted (the hash of a stream is known only at its end), and the
        // write pass names the file and does not write it.
        let record_result = |index: usize, page: &PageScan, number: usize, line: &[u8]| {
            let mut record = jsonl::parse_line(line, number, &config.keys).ok()?;
            let text = decode::fold(record.take_text(&config.keys));
            let host = record.host();
            Some((
                index,
                each(index, &relabel(&text, host.as_deref(), page.cached.as_deref(), needs, config)),
            ))
        };
        if let Some(offsets) = &jsonl_scan.offsets {
            // Not compressed: just the wanted lines are read, where pass 1 found them, about a
            // batch of them at a time.
            let Ok(mut reader) = source.line_reader() else { return };
            let mut wanted_pages = jsonl_scan
                .lines
                .iter()
                .zip(offsets.iter())
                .enumerate()
                .filter(|&(page, _)| wanted(first_page + page))
                .peekable();
            // The batch's lines, one after the other (no allocation a line), with room for the
            // line that crosses the batch's size.
            let mut buffer = Vec::with_capacity(jsonl::BATCH_BYTES + (1 << 20));
            while wanted_pages.peek().is_some() {
                buffer.clear();
                let mut lines = Vec::new();
                for (page, (number, offset)) in wanted_pages.by_ref() {
                    let start = buffer.len();
                    if reader.append_line_at(offset, &mut buffer).is_err() {
                        return;
                    }
                    lines.push((page, number as usize, start..buffer.len()));
                    if buffer.len() >= jsonl::BATCH_BYTES {
                        break;
                    }
                }
                let batch_results: Vec<Option<(usize, T)>> = lines
                    .par_iter()
                    .map(|(page, number, line)| {
                        record_result(first_page + page, &pages[*page], *number, &buffer[line.clone()])
                    })
                    .collect();
                for (index, result) in batch_results.into_iter().flatten() {
                    store(index, result);
                }
            }
            return;
        }
        // Compressed: read a batch at a time, up to the batch of the last wanted record.
        let Some(last_wanted) = (0..pages.len()).rev().find(|&page| wanted(first_page + page)) else {
            return;
        };
        let Ok(stream) = source.open() else { return };
        let mut batches = jsonl::Batches::new(stream.reader);
        let (mut next_page, mut record_lines) = (0, jsonl_scan.lines.iter().peekable());
        let _ = batches.for_each_read_ahead(|batch| {
            let lines = batch.all_lines();
            let (in_batch, numbers) = pages_in_batch(&mut next_page, &mut record_lines, batch, &lines);
            let start = in_batch.start;
            let batch_results: Vec<Option<(usize, T)>> = pages[in_batch]
                .par_iter()
                .zip(&numbers)
                .enumerate()
                .map(|(offset, (page, &number))| {
                    let index = first_page + start + offset;
                    if !wanted(index) {
                        return None;
                    }
                    let line = lines.get(number.checked_sub(batch.first_line)?)?;
                    record_result(index, page, number, line)
                })
                .collect();
            for (index, result) in batch_results.into_iter().flatten() {
                store(index, result);
            }
            next_page <= last_wanted
        });
        return;
    }
    let bytes = match source.read_sized(scan.known_file_size()) {
        Ok(bytes) if xxh3_64(&bytes) == content_hash => bytes,
        _ => return,
    };
    let Ok(text) = scan.decode_again(bytes) else { return };
    let cached = pages.first().and_then(|p| p.cached.as_deref());
    store(first_page, each(first_page, &relabel(&text, None, cached, needs, config)));
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Appends the explain view of one labelled page (its folded `text`, on `host`), naming the
/// page it duplicates, if any. The page pass runs again on the text for why each block it
/// keeps is kept (the labels carry only that it is); a block it dropped by context that is
/// kept in the end was restored by the corpus pass.
fn explain_page(
    id: &str,
    text: &str,
    host: Option<&str>,
    labelled: &Labelled<'_>,
    duplicate: Option<&DuplicateEntry>,
    config: &Config,
    out: &mut String,
) {
    let (page_pass, mut explanation) = config.page.classify_explained(&segment::segment(text), host);
    for ((note, first), last) in explanation.notes.iter_mut().zip(&page_pass).zip(&labelled.labels) {
        if last.is_keep() && matches!(first, Label::Drop(Reason::Context { .. })) {
            *note = Some(KeepNote::Restored);
        }
    }
    let mut extra = match (explanation.language, explanation.listed) {
        (_, false) => "no stopword list fits: prose by length".to_string(),
        (Some(code), true) => format!("stopwords: {code}"),
        (None, true) => "stopwords: all lists".to_string(),
    };
    if let Some(d) = duplicate {
        extra.push_str(&format!("; duplicate of {} (similarity {:.2})", d.duplicate_of, d.similarity));
    }
    output::render_explain(
        id,
        &labelled.page,
        &labelled.labels,
        &explanation.notes,
        Some(&extra),
        config.color,
        out,
    );
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    // Usually the target does not exist yet: one failed stat instead of resolving both paths
    // component by component.
    if std::fs::symlink_metadata(b).is_err() {
        return false;
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn duplicate_entry(page_index: usize, ids: &PageIds<'_>, verdict: &Verdict) -> Option<DuplicateEntry> {
    verdict.duplicate(page_index).map(|(of, similarity)| DuplicateEntry {
        id: ids.id(page_index),
        duplicate_of: ids.id(of),
        similarity: round3(similarity),
    })
}

/// Reads all of standard input.
pub fn read_stdin() -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io::stdin().lock().read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_give_back_each_id_pushed() {
        let ids = ["r1", "", "zeitung.de:7", "", "ünïcødé id", "r1"];
        let mut record_ids = RecordIds::default();
        for id in ids {
            record_ids.push(id);
        }
        record_ids.shrink_to_fit();
        let got: Vec<&str> = (0..ids.len()).map(|index| record_ids.get(index)).collect();
        assert_eq!(got, ids);
    }

    #[test]
    fn clashing_outputs_are_found_by_path_whatever_the_hash() {
        let names = ["a/x.txt", "b.txt", "a/x.txt", "c.txt", "b.txt", "a/x.txt", "d/e.txt", "c.txt"];
        // Each under its own input folder (one component), so only the names can clash.
        let sources: Sources = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let path = PathBuf::from(format!("in{i}/{name}"));
                Source::file(path, 1, Format::Text)
            })
            .collect();
        // Each later copy of a name with the name's first input.
        let expected: Vec<(usize, usize)> = (0..names.len())
            .filter_map(|i| names[..i].iter().position(|n| *n == names[i]).map(|first| (i, first)))
            .collect();
        assert_eq!(expected.len(), 4);
        let hasher = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default();
        assert_eq!(output_clashes(&sources, |p| std::hash::BuildHasher::hash_one(&hasher, p)), expected);
        // Every path one hash, or two: the paths are told apart by themselves.
        assert_eq!(output_clashes(&sources, |_| 7), expected);
        assert_eq!(output_clashes(&sources, |p| p.as_os_str().len() as u64 % 2), expected);
    }

    #[test]
    fn an_input_costs_a_scan_record_of_32_bytes() {
        // Every input's record lives to the end of the run: a text page's summary is not in it.
        assert_eq!(std::mem::size_of::<Scan>(), 32);
    }

    #[test]
    fn a_write_chunk_ends_at_its_input_count_or_its_bytes() {
        // Small inputs: CHUNK_INPUTS at a time, the last chunk what is left.
        assert_eq!(write_chunk_end(10_000, |_| 10, 0), CHUNK_INPUTS);
        assert_eq!(write_chunk_end(10_000, |_| 10, 8192), 10_000);
        // Inputs of a third of CHUNK_BYTES: three at a time; one over it goes alone.
        assert_eq!(write_chunk_end(10, |_| CHUNK_BYTES / 3 + 1, 4), 7);
        assert_eq!(write_chunk_end(10, |i| if i == 5 { 5 * CHUNK_BYTES } else { 1 }, 5), 6);
        assert_eq!(write_chunk_end(0, |_| 1, 0), 0);
    }
}
