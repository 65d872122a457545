//! The JSON report of a run: per document what was kept and dropped and why, duplicates,
//! skipped inputs and totals. Field names are a public interface: users' scripts read them.

use std::io::{self, Write};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::label::{Label, Reason};
use crate::output::Spill;

/// The reason kinds ([`crate::label::Reason::kind`]), in name order: the slots of
/// [`DroppedCounts`] and the order the report lists them in.
const KINDS: [&str; 4] = ["chrome", "context", "repeat", "site_chrome"];

/// Dropped blocks by reason kind, in 32 bytes (a map per document took about 275). Serialised as
/// a JSON object of the kinds that occur, in name order: `{"context": 12, "repeat": 3}`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DroppedCounts([u64; KINDS.len()]);

impl DroppedCounts {
    /// Every reason kind with its count, in name order (kinds that do not occur count 0).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        KINDS.iter().copied().zip(self.0.iter().copied())
    }

    /// Blocks dropped for reasons of `kind` (0 for a kind that is not one).
    pub fn get(&self, kind: &str) -> u64 {
        KINDS.iter().position(|&k| k == kind).map_or(0, |slot| self.0[slot])
    }

    /// Counts one block dropped for `reason`: its slot by the variant, not by comparing its
    /// kind's name (a few string compares a block showed in the write pass's profile).
    fn add(&mut self, reason: &Reason) {
        let slot = match reason {
            Reason::Chrome { .. } => 0,
            Reason::Context { .. } => 1,
            Reason::Repeat { .. } => 2,
            Reason::SiteChrome { .. } => 3,
        };
        self.0[slot] += 1;
    }
}

impl std::ops::Index<&str> for DroppedCounts {
    type Output = u64;

    fn index(&self, kind: &str) -> &u64 {
        &self.0[KINDS.iter().position(|&k| k == kind).expect("a reason kind")]
    }
}

impl Serialize for DroppedCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.iter().filter(|&&n| n > 0).count()))?;
        for (kind, &n) in KINDS.iter().zip(&self.0) {
            if n > 0 {
                map.serialize_entry(kind, &n)?;
            }
        }
        map.end()
    }
}

/// Counts of one document's blocks by decision.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BlockCounts {
    /// Number of blocks.
    pub blocks: u64,
    /// Blocks written out.
    pub kept: u64,
    /// Dropped blocks by reason kind (`repeat`, `chrome`, `context`, `site_chrome`).
    pub dropped: DroppedCounts,
}

impl BlockCounts {
    /// Counts the labels of one page.
    pub fn from_labels(labels: &[Label]) -> Self {
        let mut counts = BlockCounts { blocks: labels.len() as u64, ..Default::default() };
        for label in labels {
            match label.reason() {
                None => counts.kept += 1,
                Some(reason) => counts.dropped.add(reason),
            }
        }
        counts
    }

    /// Adds another document's counts to these.
    pub fn add(&mut self, other: &BlockCounts) {
        self.blocks += other.blocks;
        self.kept += other.kept;
        for (count, &n) in self.dropped.0.iter_mut().zip(&other.dropped.0) {
            *count += n;
        }
    }
}

/// One document of the report.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentEntry {
    /// Path relative to its input folder, or the JSONL id.
    pub id: String,
    /// Block counts.
    #[serde(flatten)]
    pub counts: BlockCounts,
    /// Bytes read (after decompression).
    pub bytes_in: u64,
    /// Bytes of clean text written (0 for a duplicate that was not written).
    pub bytes_out: u64,
    /// The id of the page this one duplicates, when it does.
    pub duplicate_of: Option<String>,
}

/// A page found to duplicate another.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateEntry {
    /// The page not written (or written anyway with `--keep-duplicates`).
    pub id: String,
    /// The copy that was kept.
    pub duplicate_of: String,
    /// Estimated Jaccard similarity of the two pages' cleaned text.
    pub similarity: f64,
}

/// An input, or a JSONL line, that was not processed.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedEntry {
    /// The input's path, or `<file>:<line>` for a JSONL line.
    pub id: String,
    /// Why it was skipped.
    pub reason: String,
}

/// Sums over the whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Documents processed.
    pub documents: u64,
    /// Block counts over all documents.
    #[serde(flatten)]
    pub counts: BlockCounts,
    /// Bytes read.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Documents found to duplicate another.
    pub duplicates: u64,
    /// Inputs and lines skipped.
    pub skipped: u64,
}

/// What one input gives the report, gathered as its pages are written (on its worker) and
/// added to the report in input order ([`ReportWriter::add`]): its documents' sums and
/// duplicates' count and, when the report is written somewhere, their entries rendered, in
/// [`Spill`]s (so a large JSONL input's entries are not held in memory).
#[derive(Debug, Default)]
pub struct ReportPart {
    /// Whether entries are rendered.
    render: bool,
    documents: u64,
    counts: BlockCounts,
    bytes_in: u64,
    bytes_out: u64,
    duplicates: u64,
    /// The documents' entries, each after a `,` ([`render_entry`]).
    document_entries: Spill,
    /// The duplicates' entries, likewise.
    duplicate_entries: Spill,
}

impl ReportPart {
    /// An empty part; `render` when the report is written somewhere (otherwise only counted).
    pub fn new(render: bool) -> Self {
        Self { render, ..Self::default() }
    }

    /// Adds the next document, its entry `rendered` already ([`render_entry`]) or not.
    pub fn document(&mut self, document: &DocumentEntry, rendered: Option<&str>) {
        self.documents += 1;
        self.counts.add(&document.counts);
        self.bytes_in += document.bytes_in;
        self.bytes_out += document.bytes_out;
        if self.render {
            match rendered {
                Some(rendered) => self.document_entries.push(rendered.as_bytes()),
                None => self.document_entries.push(render_entry(document).as_bytes()),
            }
        }
    }

    /// Adds the next duplicate.
    pub fn duplicate(&mut self, duplicate: &DuplicateEntry) {
        self.duplicates += 1;
        if self.render {
            self.duplicate_entries.push(render_entry(duplicate).as_bytes());
        }
    }
}

/// Writes the report as the run goes, so that it is never held whole: the documents in input
/// order, then the duplicates (held in a [`Spill`] until then), the skipped inputs and the
/// totals. The JSON is laid out as `serde_json`'s pretty printer lays it out:
///
/// `{"version": ..., "documents": [...], "duplicates": [...], "skipped": [...], "totals": {...}}`
pub struct ReportWriter<W: Write> {
    out: W,
    totals: Totals,
    /// The duplicates' entries so far, each after a `,`.
    duplicate_entries: Spill,
}

impl<W: Write> ReportWriter<W> {
    /// Starts the report on `out`.
    pub fn new(mut out: W) -> io::Result<Self> {
        write!(out, "{{\n  \"version\": {},\n  \"documents\": [", json(&env!("CARGO_PKG_VERSION"), 0))?;
        Ok(Self { out, totals: Totals::default(), duplicate_entries: Spill::default() })
    }

    /// Adds the next document.
    pub fn document(&mut self, document: &DocumentEntry) -> io::Result<()> {
        let mut part = ReportPart::new(true);
        part.document(document, None);
        self.add(part)
    }

    /// Adds the next input's documents and duplicates. An error is the output's or the part's
    /// spill's; the part is counted in the totals all the same.
    pub fn add(&mut self, part: ReportPart) -> io::Result<()> {
        // Every entry is rendered after a `,`, which the first one of the report goes without.
        let skip = u64::from(self.totals.documents == 0);
        self.totals.documents += part.documents;
        self.totals.counts.add(&part.counts);
        self.totals.bytes_in += part.bytes_in;
        self.totals.bytes_out += part.bytes_out;
        self.totals.duplicates += part.duplicates;
        let documents = part.document_entries.copy_to(&mut self.out, skip);
        let duplicates = part.duplicate_entries.copy_to(&mut self.duplicate_entries, 0);
        documents.and(duplicates)
    }

    /// The totals of the documents so far.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// The output, to hand it an error of the report's own.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Ends the report with the duplicates added and the inputs `skipped`; returns the totals.
    /// The output is [`ReportWriter::into_inner`].
    pub fn finish(&mut self, skipped: &[SkippedEntry]) -> io::Result<Totals> {
        self.totals.skipped = skipped.len() as u64;
        let close = if self.totals.documents == 0 { "]" } else { "\n  ]" };
        write!(self.out, "{close},\n  \"duplicates\": ")?;
        let duplicates = std::mem::take(&mut self.duplicate_entries);
        if self.totals.duplicates == 0 {
            self.out.write_all(b"[]")?;
        } else {
            self.out.write_all(b"[")?;
            duplicates.copy_to(&mut self.out, 1)?;
            self.out.write_all(b"\n  ]")?;
        }
        write!(
            self.out,
            ",\n  \"skipped\": {},\n  \"totals\": {}\n}}",
            json(&skipped, 1),
            json(&self.totals, 1)
        )?;
        self.out.flush()?;
        Ok(self.totals.clone())
    }

    /// The output the report was written to.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The report's entry of a document or a duplicate after a `,`, as [`ReportPart`] holds them
/// (rendered on any thread).
pub fn render_entry(value: &impl Serialize) -> String {
    let mut rendered = String::from(",\n    ");
    rendered.push_str(&json(value, 2));
    rendered
}

/// `value` as pretty JSON nested `depth` levels deep: every line but the first indented by two
/// spaces a level, as `serde_json::to_string_pretty` indents the whole report (a newline is
/// never inside a JSON string: it is escaped there).
fn json(value: &impl Serialize, depth: usize) -> String {
    let pretty = serde_json::to_string_pretty(value).expect("report entries serialise");
    if depth == 0 {
        return pretty;
    }
    pretty.replace('\n', &format!("\n{}", "  ".repeat(depth)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(documents: &[DocumentEntry], duplicates: &[DuplicateEntry], skipped: &[SkippedEntry]) -> String {
        let mut writer = ReportWriter::new(Vec::new()).unwrap();
        for document in documents {
            writer.document(document).unwrap();
        }
        // The duplicates go through files: spills that keep a byte in memory.
        writer.duplicate_entries = Spill::with_memory_limit(1);
        let mut part = ReportPart::new(true);
        part.duplicate_entries = Spill::with_memory_limit(1);
        for duplicate in duplicates {
            part.duplicate(duplicate);
        }
        writer.add(part).unwrap();
        writer.finish(skipped).unwrap();
        String::from_utf8(writer.into_inner()).unwrap()
    }

    #[test]
    fn each_reason_is_counted_under_its_kind() {
        let reasons = [
            Reason::Chrome { rule: "menu".into() },
            Reason::Context { why: crate::label::Placement::AfterOpener, words: 3, stopword_pct: 0 },
            Reason::Repeat { of: 0 },
            Reason::SiteChrome { pages: 5 },
        ];
        for reason in &reasons {
            let mut counts = DroppedCounts::default();
            counts.add(reason);
            assert_eq!(counts.get(reason.kind()), 1, "{reason:?}");
            assert_eq!(counts.0.iter().sum::<u64>(), 1);
        }
    }

    #[test]
    fn counts_and_totals_add_up() {
        let labels =
            [Label::Keep, Label::Drop(Reason::Repeat { of: 0 }), Label::Drop(Reason::Repeat { of: 0 })];
        let counts = BlockCounts::from_labels(&labels);
        assert_eq!((counts.blocks, counts.kept, counts.dropped["repeat"]), (3, 1, 2));
        let doc = DocumentEntry { id: "a".into(), counts, bytes_in: 10, bytes_out: 4, duplicate_of: None };
        let json: serde_json::Value = serde_json::from_str(&write(&[doc.clone(), doc], &[], &[])).unwrap();
        assert_eq!(json["totals"]["dropped"]["repeat"], 4);
        assert_eq!(json["totals"]["documents"], 2);
        assert_eq!(json["documents"][0]["dropped"]["repeat"], 2);
        assert_eq!(json["documents"][0]["duplicate_of"], serde_json::Value::Null);
        assert_eq!(json["totals"]["bytes_out"], 8);
        assert!(json["duplicates"].as_array().unwrap().is_empty());
    }

    #[test]
    fn the_streamed_report_is_laid_out_as_serde_json_pretty_prints_it() {
        let doc = |id: &str, dup: Option<&str>| DocumentEntry {
            id: id.into(),
            counts: BlockCounts::from_labels(&[Label::Keep, Label::Drop(Reason::Repeat { of: 0 })]),
            bytes_in: 10,
            bytes_out: 4,
            duplicate_of: dup.map(String::from),
        };
        let documents = [doc("a\n\"b\"", None), doc("c", Some("a")), doc("d", Some("a"))];
        let duplicates = [
            DuplicateEntry { id: "c".into(), duplicate_of: "a".into(), similarity: 0.9 },
            DuplicateEntry { id: "d".into(), duplicate_of: "a\n\"b\"".into(), similarity: 0.75 },
        ];
        let skipped = [SkippedEntry { id: "x".into(), reason: "binary file".into() }];
        for (documents, duplicates, skipped) in [
            (&documents[..], &duplicates[..], &skipped[..]),
            (&documents[..0], &duplicates[..0], &skipped[..0]),
        ] {
            let streamed = write(documents, duplicates, skipped);
            let parsed: serde_json::Value = serde_json::from_str(&streamed).unwrap();
            assert_eq!(streamed, serde_json::to_string_pretty(&parsed).unwrap());
            assert_eq!(parsed["documents"].as_array().unwrap().len(), documents.len());
            assert_eq!(parsed["totals"]["skipped"], skipped.len());
        }
    }

    #[test]
    fn documents_rendered_apart_make_the_same_report_and_totals() {
        let doc = |id: &str, bytes_in| DocumentEntry {
            id: id.into(),
            counts: BlockCounts::from_labels(&[Label::Keep, Label::Drop(Reason::Repeat { of: 0 })]),
            bytes_in,
            bytes_out: 1,
            duplicate_of: None,
        };
        let documents = [doc("a", 1), doc("b", 2), doc("c", 3), doc("d", 4)];
        let one_by_one = write(&documents, &[], &[]);
        // In inputs of none, one and two documents, the first input empty, the second with a
        // document rendered ahead.
        let mut writer = ReportWriter::new(Vec::new()).unwrap();
        for (n, part) in
            [&documents[..0], &documents[..1], &documents[1..3], &documents[3..]].into_iter().enumerate()
        {
            let mut report_part = ReportPart::new(true);
            // The third input's entries go to a file: a spill that keeps 10 bytes in memory.
            if n == 2 {
                report_part.document_entries = Spill::with_memory_limit(10);
            }
            for document in part {
                let ahead = (n == 1).then(|| render_entry(document));
                report_part.document(document, ahead.as_deref());
            }
            writer.add(report_part).unwrap();
        }
        writer.finish(&[]).unwrap();
        assert_eq!(String::from_utf8(writer.into_inner()).unwrap(), one_by_one);
        // Counted only, for a report written nowhere: nothing rendered.
        let mut counted = ReportWriter::new(Vec::new()).unwrap();
        let mut part = ReportPart::new(false);
        for document in &documents {
            part.document(document, None);
        }
        part.duplicate(&DuplicateEntry { id: "b".into(), duplicate_of: "a".into(), similarity: 0.5 });
        assert!(part.document_entries.is_empty() && part.duplicate_entries.is_empty());
        counted.add(part).unwrap();
        let totals = counted.totals();
        assert_eq!(totals.duplicates, 1);
        assert_eq!((totals.documents, totals.bytes_in, totals.counts.dropped["repeat"]), (4, 10, 4));
    }
}
