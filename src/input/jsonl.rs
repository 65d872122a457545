//! JSONL records: one JSON object per line with an id and a text field; every other field is
//! carried through untouched.

use std::io::{self, BufRead};

use serde_json::{Map, Value};
use xxhash_rust::xxh3::Xxh3;

/// The field names of a JSONL record that textsift reads and writes.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Field holding the record id (`id` by default).
    pub id: String,
    /// Field holding the page text (`text` by default).
    pub text: String,
}

impl Default for Keys {
    fn default() -> Self {
        Self { id: "id".into(), text: "text".into() }
    }
}

/// One JSONL record, parsed.
#[derive(Debug, Clone)]
pub struct Record {
    /// 1-based line number in its file.
    pub line: usize,
    /// The whole record, fields in their input order.
    pub fields: Map<String, Value>,
}

/// A line that is not a usable record.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenLine {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// Parses every non-blank line of `bytes` (after a UTF-8 byte-order mark, if any); broken lines
/// come back as errors with their number.
pub fn parse(bytes: &[u8], keys: &Keys) -> Vec<Result<Record, BrokenLine>> {
    lines(bytes).into_iter().map(|(number, line)| parse_line(line, number, keys)).collect()
}

/// The non-blank lines of `bytes` (after a UTF-8 byte-order mark, if any) with their 1-based
/// numbers, unparsed: for parsing them in parallel with [`parse_line`].
pub fn lines(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    all_lines(bytes)
        .into_iter()
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(index, line)| (index + 1, line))
        .collect()
}

/// Every line of `bytes` (after a UTF-8 byte-order mark, if any), line `n` at index `n - 1`.
fn all_lines(bytes: &[u8]) -> Vec<&[u8]> {
    split_lines(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
}

/// `bytes` split at every `\n`, as `bytes.split(|&b| b == b'\n')` splits them, with the SIMD
/// search for the line ends.
fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', bytes) {
        lines.push(&bytes[start..end]);
        start = end + 1;
    }
    lines.push(&bytes[start..]);
    lines
}

/// Decompressed bytes read a batch at a time: a JSONL file is never held whole.
pub const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Bytes of the first batch; each next one is twice the one before, up to the batch size. The
/// first batch is read while no other work can run (there is no batch yet to label): a small
/// one sets the workers going sooner (a 16 MiB first batch of a `.gz` file is 0.1 s of
/// inflating on one core, in each of the two passes).
pub const FIRST_BATCH_BYTES: usize = 1024 * 1024;

/// Bytes a batch's buffer holds beyond [`BATCH_BYTES`] for the line that crosses it (only pages
/// touched take memory).
const BATCH_SLACK_BYTES: usize = 1024 * 1024;

/// Reads a JSONL stream a batch of whole lines at a time, hashing what it reads.
pub struct Batches<R> {
    reader: R,
    batch_bytes: usize,
    /// Bytes of the next batch, growing to `batch_bytes`.
    next_bytes: usize,
    next_line: usize,
    /// Bytes read so far.
    read_bytes: u64,
    hasher: Xxh3,
    done: bool,
    /// A finished batch's buffer, for the next batch to fill: a run reads a file through two
    /// buffers, not one new buffer a batch (each of which the system would hand out anew,
    /// zeroed a page at a time, since [`crate::allocator`] has buffers that large mapped apart).
    spare: Vec<u8>,
}

/// Whole lines of a JSONL file, from line `first_line` (1-based) on.
pub struct Batch {
    /// The lines' bytes, each ended by `\n` but perhaps the file's last.
    pub bytes: Vec<u8>,
    /// Number of the first line.
    pub first_line: usize,
    /// Where the batch starts in the stream (bytes before it).
    pub first_offset: u64,
}

impl<R: BufRead> Batches<R> {
    /// Batches of `reader`'s lines, [`BATCH_BYTES`] each after the first few
    /// ([`FIRST_BATCH_BYTES`], then twice as many each time).
    pub fn new(reader: R) -> Self {
        Self::with_batch_bytes(reader, BATCH_BYTES)
    }

    /// Batches of `reader`'s lines, about `batch_bytes` each after the first few (which start
    /// at [`FIRST_BATCH_BYTES`] when that is fewer).
    pub fn with_batch_bytes(reader: R, batch_bytes: usize) -> Self {
        let next_bytes = FIRST_BATCH_BYTES.min(batch_bytes);
        Self {
            reader,
            batch_bytes,
            next_bytes,
            next_line: 1,
            read_bytes: 0,
            hasher: Xxh3::new(),
            done: false,
            spare: Vec::new(),
        }
    }

    /// The next batch (about the batch size, and always whole lines), or `None` at the end.
    pub fn next_batch(&mut self) -> io::Result<Option<Batch>> {
        if self.done {
            return Ok(None);
        }
        let batch_bytes = self.next_bytes;
        self.next_bytes = batch_bytes.saturating_mul(2).min(self.batch_bytes);
        // Room for the batch and a line past it, so that filling it does not double it. A
        // spare buffer that a long line grew past twice that is not kept.
        let room = batch_bytes + BATCH_SLACK_BYTES;
        let mut bytes = std::mem::take(&mut self.spare);
        if bytes.capacity() > 2 * (self.batch_bytes + BATCH_SLACK_BYTES) {
            bytes = Vec::new();
        }
        bytes.clear();
        bytes.reserve(room);
        while bytes.len() < batch_bytes {
            if self.reader.read_until(b'\n', &mut bytes)? == 0 {
                self.done = true;
                break;
            }
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        self.hasher.update(&bytes);
        let (first_line, first_offset) = (self.next_line, self.read_bytes);
        self.next_line += memchr::memchr_iter(b'\n', &bytes).count();
        self.read_bytes += bytes.len() as u64;
        Ok(Some(Batch { bytes, first_line, first_offset }))
    }

    /// xxh3 of every byte read (once the last batch is read: of the whole stream).
    pub fn content_hash(&self) -> u64 {
        self.hasher.digest()
    }
}

impl<R: BufRead + Send> Batches<R> {
    /// Calls `each` with every batch in order, reading (and decompressing) the next batch, on
    /// another thread when one is free, while `each` works on this one: at most two batches
    /// are held, and their buffers serve the batches after them. Stops, without error, when
    /// `each` returns false; a read error is returned once `each` is done with the batches
    /// before it.
    pub fn for_each_read_ahead(&mut self, mut each: impl FnMut(&Batch) -> bool) -> io::Result<()> {
        let mut next = self.next_batch()?;
        while let Some(batch) = next {
            let mut following = Ok(None);
            // `each` runs here (it may hold what cannot change threads, such as locked stdout).
            let go_on = rayon::in_place_scope(|scope| {
                scope.spawn(|_| following = self.next_batch());
                each(&batch)
            });
            self.spare = batch.bytes;
            if !go_on {
                return Ok(());
            }
            next = following?;
        }
        Ok(())
    }
}

impl Batch {
    /// Every line of the batch, line `first_line + i` at index `i` (a byte-order mark at the
    /// start of the file dropped).
    pub fn all_lines(&self) -> Vec<&[u8]> {
        let bytes = if self.first_line == 1 {
            self.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&self.bytes)
        } else {
            &self.bytes
        };
        let mut lines = split_lines(bytes);
        if bytes.ends_with(b"\n") {
            // The piece after the last newline belongs to the next batch.
            lines.pop();
        }
        lines
    }

    /// Where `line`, one of the batch's lines ([`Batch::lines`], [`Batch::all_lines`]), starts
    /// in the stream.
    pub fn offset_of(&self, line: &[u8]) -> u64 {
        let start =
            (line.as_ptr() as usize).checked_sub(self.bytes.as_ptr() as usize).expect("a line of the batch");
        self.first_offset + start as u64
    }

    /// The batch's non-blank lines with their numbers (as [`lines`] numbers a whole file).
    pub fn lines(&self) -> Vec<(usize, &[u8])> {
        self.all_lines()
            .into_iter()
            .enumerate()
            .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
            .map(|(index, line)| (self.first_line + index, line))
            .collect()
    }
}

/// Parses line `number` of a file (as [`lines`] gives it).
pub fn parse_line(line: &[u8], number: usize, keys: &Keys) -> Result<Record, BrokenLine> {
    let broken = |message: String| BrokenLine { line: number, message };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // A line of valid UTF-8 (checked at SIMD speed) is parsed as a `str`, so that serde_json
    // does not check every string of it again byte by byte; any other line as bytes, for
    // serde_json's error naming where the UTF-8 breaks.
    let parsed = match simdutf8::basic::from_utf8(line) {
        Ok(line) => serde_json::from_str::<Value>(line),
        Err(_) => serde_json::from_slice::<Value>(line),
    };
    let fields: Map<String, Value> = match parsed {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(broken("not a JSON object".into())),
        Err(e) => return Err(broken(format!("invalid JSON: {e}"))),
    };
    match fields.get(&keys.text) {
        Some(Value::String(_)) => Ok(Record { line: number, fields }),
        Some(_) => Err(broken(format!("field `{}` is not a string", keys.text))),
        None => Err(broken(format!("no `{}` field", keys.text))),
    }
}

impl Record {
    /// The page text.
    pub fn text<'a>(&'a self, keys: &Keys) -> &'a str {
        self.fields.get(&keys.text).and_then(Value::as_str).unwrap_or("")
    }

    /// Takes the page text out of the record (leaving it empty there), for a record that is
    /// not written again: no copy of the text is made.
    pub fn take_text(&mut self, keys: &Keys) -> String {
        match self.fields.get_mut(&keys.text) {
            Some(Value::String(text)) => std::mem::take(text),
            _ => String::new(),
        }
    }

    /// The record id: the id field as text, or `<file>:<line>` when it is missing.
    pub fn id(&self, keys: &Keys, file_id: &str) -> String {
        match self.fields.get(&keys.id) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => format!("{file_id}:{}", self.line),
            Some(other) => other.to_string(),
        }
    }

    /// The page's host, from a `url` field at the top or inside `metadata`.
    pub fn host(&self) -> Option<String> {
        let url = self
            .fields
            .get("url")
            .or_else(|| self.fields.get("metadata").and_then(|m| m.get("url")))
            .and_then(Value::as_str)?;
        host_of_url(url)
    }

    /// The record as one JSON line with the text replaced by `clean` and `summary` stored as
    /// `metadata.textsift` (a `metadata` object is created when there is none).
    pub fn to_clean_line(&self, keys: &Keys, clean: &str, summary: Value) -> String {
        // Copy every field but the page text, which is replaced anyway (no clone of the dirty text).
        let mut fields: Map<String, Value> = self
            .fields
            .iter()
            .map(|(k, v)| {
                let v = if *k == keys.text { Value::String(clean.to_string()) } else { v.clone() };
                (k.clone(), v)
            })
            .collect();
        match fields.entry("metadata").or_insert_with(|| Value::Object(Map::new())) {
            Value::Object(meta) => {
                meta.insert("textsift".into(), summary);
            }
            _ => {
                fields.insert("textsift".into(), summary);
            }
        }
        Value::Object(fields).to_string()
    }
}

/// The host of a URL (`https://www.example.com/a` → `example.com`), lower case, without `www.`
/// and port.
pub fn host_of_url(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next()?.trim_end_matches('.').to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_valid_and_of_broken_utf8_are_told_apart() {
        let keys = Keys::default();
        let record = parse_line("{\"text\": \"Grüße\\naus Köln\"}".as_bytes(), 1, &keys).unwrap();
        assert_eq!(record.text(&keys), "Grüße\naus Köln");
        let mut record = record;
        assert_eq!(record.take_text(&keys), "Grüße\naus Köln");
        assert_eq!(record.text(&keys), "");
        let broken = parse_line(b"{\"text\": \"Gr\xFC\xDFe\"}", 2, &keys).unwrap_err();
        assert_eq!(broken.line, 2);
        assert!(broken.message.starts_with("invalid JSON: invalid unicode code point"), "{}", broken.message);
    }

    #[test]
    fn lines_are_split_as_the_slice_split_splits_them() {
        for text in ["", "\n", "a", "a\n", "\na", "a\nb", "a\n\nb\n", "\n\n", "é\r\nü\n\n\nx"] {
            let expected: Vec<&[u8]> = text.as_bytes().split(|&b| b == b'\n').collect();
            assert_eq!(split_lines(text.as_bytes()), expected, "{text:?}");
        }
    }

    /// A reader that fails once it has given `left` bytes.
    struct FailingAfter<R> {
        inner: R,
        left: usize,
    }

    impl<R: io::Read> io::Read for FailingAfter<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Err(io::Error::other("broken stream"));
            }
            let n = buf.len().min(self.left);
            let read = self.inner.read(&mut buf[..n])?;
            self.left -= read;
            Ok(read)
        }
    }

    #[test]
    fn reading_ahead_gives_every_batch_in_order_stops_when_told_and_reports_errors_last() {
        let input: Vec<u8> = (0..500).flat_map(|i| format!("{{\"id\":\"{i}\"}}\n").into_bytes()).collect();
        let mut plain = Batches::with_batch_bytes(io::Cursor::new(&input), 300);
        let mut expected = Vec::new();
        while let Some(batch) = plain.next_batch().unwrap() {
            expected.push((batch.first_line, batch.bytes));
        }
        assert!(expected.len() > 10);
        let mut ahead = Batches::with_batch_bytes(io::Cursor::new(&input), 300);
        let mut seen = Vec::new();
        ahead
            .for_each_read_ahead(|batch| {
                seen.push((batch.first_line, batch.bytes.clone()));
                true
            })
            .unwrap();
        assert_eq!(seen, expected);
        assert_eq!(ahead.content_hash(), plain.content_hash());
        // The last batch's buffer is kept for a next batch, as each one was.
        assert!(ahead.spare.capacity() >= 300, "{}", ahead.spare.capacity());

        let mut stopped = Batches::with_batch_bytes(io::Cursor::new(&input), 300);
        let mut count = 0;
        stopped
            .for_each_read_ahead(|_| {
                count += 1;
                count < 3
            })
            .unwrap();
        assert_eq!(count, 3);

        let failing = io::BufReader::new(FailingAfter { inner: io::Cursor::new(&input), left: 2000 });
        let mut broken = Batches::with_batch_bytes(failing, 300);
        let mut before_error = 0;
        let error = broken.for_each_read_ahead(|_| {
            before_error += 1;
            true
        });
        assert_eq!(error.unwrap_err().to_string(), "broken stream");
        assert!(before_error >= 5, "{before_error} batches before the error");
    }

    #[test]
    fn every_line_knows_where_it_starts_in_the_stream() {
        let input: Vec<u8> = b"\xEF\xBB\xBF{\"a\":1}\n\n"
            .iter()
            .copied()
            .chain((0..3000).flat_map(|i| format!("{{\"id\":{i}}}\r\n").into_bytes()))
            .collect();
        let mut batches = Batches::with_batch_bytes(io::Cursor::new(&input), 1000);
        let mut seen = 0;
        while let Some(batch) = batches.next_batch().unwrap() {
            for (_, line) in batch.lines() {
                let at = batch.offset_of(line) as usize;
                assert_eq!(&input[at..at + line.len()], line);
                assert!(at == 3 || input[at - 1] == b'\n', "{at}");
                seen += 1;
            }
        }
        assert_eq!(seen, 3001);
    }

    #[test]
    fn batches_start_small_and_double_up_to_the_batch_size() {
        // Lines of 100 bytes: each batch ends at the first line end at or past its size.
        let line = format!("{{\"text\":\"{}\"}}\n", "x".repeat(100 - 12));
        let input = line.repeat(FIRST_BATCH_BYTES * 12 / 100);
        let mut batches = Batches::with_batch_bytes(io::Cursor::new(&input), 4 * FIRST_BATCH_BYTES);
        let mut sizes = Vec::new();
        while let Some(batch) = batches.next_batch().unwrap() {
            sizes.push(batch.bytes.len());
        }
        let f = FIRST_BATCH_BYTES;
        for (size, wanted) in sizes.iter().zip([f, 2 * f, 4 * f, 4 * f]) {
            assert!((wanted..wanted + line.len()).contains(size), "{sizes:?}");
        }
        assert_eq!(sizes.iter().sum::<usize>(), input.len());
        // A batch size below the first one is every batch's size.
        let mut small = Batches::with_batch_bytes(io::Cursor::new(&input), 1000);
        assert_eq!(small.next_batch().unwrap().unwrap().bytes.len(), 1000);
        assert_eq!(small.next_batch().unwrap().unwrap().bytes.len(), 1000);
    }

    #[test]
    fn records_and_broken_lines_are_told_apart() {
        let input =
            b"{\"id\":\"a\",\"text\":\"hello\"}\n\n{broken\n[1,2]\n{\"id\":\"b\"}\n{\"text\":\"x\"}\r\n";
        let parsed = parse(input, &Keys::default());
        assert_eq!(parsed.len(), 5);
        assert_eq!(parsed[0].as_ref().unwrap().text(&Keys::default()), "hello");
        assert_eq!(parsed[1].as_ref().unwrap_err().line, 3);
        assert_eq!(parsed[2].as_ref().unwrap_err().message, "not a JSON object");
        assert_eq!(parsed[3].as_ref().unwrap_err().message, "no `text` field");
        assert_eq!(parsed[4].as_ref().unwrap().id(&Keys::default(), "f.jsonl"), "f.jsonl:6");
    }

    #[test]
    fn batches_number_lines_as_the_whole_file_does() {
        let input: Vec<u8> = b"\xEF\xBB\xBF{\"text\":\"a\"}\n\n"
            .iter()
            .copied()
            .chain((0..20_000).flat_map(|i| format!("{{\"id\":{i},\"text\":\"line {i}\"}}\n").into_bytes()))
            .chain(*b"{\"text\":\"last, no newline\"}")
            .collect();
        let whole: Vec<(usize, Vec<u8>)> = lines(&input).into_iter().map(|(n, l)| (n, l.to_vec())).collect();
        let mut batches = Batches::with_batch_bytes(io::Cursor::new(&input), 4096);
        let (mut streamed, mut count) = (Vec::new(), 0);
        while let Some(batch) = batches.next_batch().unwrap() {
            count += 1;
            streamed.extend(batch.lines().into_iter().map(|(n, l)| (n, l.to_vec())));
        }
        assert!(count > 100, "{count} batches");
        assert_eq!(streamed, whole);
        assert_eq!(batches.content_hash(), xxhash_rust::xxh3::xxh3_64(&input));
    }

    #[test]
    fn clean_line_keeps_every_other_field_in_order() {
        let keys = Keys::default();
        let rec = &parse(
            br#"{"url":"https://www.Example.com:8080/x","text":"dirty","z":[1],"metadata":{"lang":"en"}}"#,
            &keys,
        )[0];
        let rec = rec.as_ref().unwrap();
        assert_eq!(rec.host().as_deref(), Some("example.com"));
        let line = rec.to_clean_line(&keys, "clean", serde_json::json!({"kept": 1}));
        assert_eq!(
            line,
            r#"{"url":"https://www.Example.com:8080/x","text":"clean","z":[1],"metadata":{"lang":"en","textsift":{"kept":1}}}"#
        );
    }

    #[test]
    fn hosts_come_from_urls() {
        assert_eq!(host_of_url("http://user@news.site.org/a?b").as_deref(), Some("news.site.org"));
        assert_eq!(host_of_url("site.org/path").as_deref(), Some("site.org"));
        assert_eq!(host_of_url("https:///x"), None);
    }
}
