//! Rendering a labelled page (clean text or the explain view) and writing files atomically.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::label::{KeepNote, Label};
use crate::segment::Segmented;

/// Appends the kept blocks of `page` to `out`: each block on one line (a wrapped paragraph is
/// joined with spaces), blocks separated as the input separated them (see
/// [`crate::segment::Layout::separator`]), with a final newline when anything is kept.
pub fn render_clean(page: &Segmented<'_>, labels: &[Label], out: &mut String) {
    render_clean_blocks(page.layout.separator(), page.blocks.iter().map(|b| b.text), labels, out);
}

/// [`render_clean`] of the blocks `texts`, in block order, of a page whose layout writes
/// `separator` between blocks.
pub fn render_clean_blocks<'t>(
    separator: &str,
    texts: impl IntoIterator<Item = &'t str>,
    labels: &[Label],
    out: &mut String,
) {
    let mut first = true;
    for (text, label) in texts.into_iter().zip(labels) {
        if !label.is_keep() {
            continue;
        }
        if !first {
            out.push_str(separator);
        }
        first = false;
        push_unwrapped(text, out);
    }
    if !first {
        out.push('\n');
    }
}

/// Pushes a block's lines joined by single spaces.
fn push_unwrapped(text: &str, out: &mut String) {
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(line.trim());
    }
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Appends the explain view of one page: a header line, then per block `KEEP` or `DROP`, its
/// line range, the reason of a drop or the note of a keep (`notes`, by block; missing or `None`
/// shows none), and the block's text.
pub fn render_explain(
    id: &str,
    page: &Segmented<'_>,
    labels: &[Label],
    notes: &[Option<KeepNote>],
    extra: Option<&str>,
    color: bool,
    out: &mut String,
) {
    let kept = labels.iter().filter(|l| l.is_keep()).count();
    let _ = write!(out, "== {id}: {} blocks, {kept} kept", labels.len());
    if let Some(extra) = extra {
        let _ = write!(out, "; {extra}");
    }
    out.push('\n');
    for (index, (block, label)) in page.blocks.iter().zip(labels).enumerate() {
        let lines = if block.first_line == block.last_line {
            format!("L{}", block.first_line)
        } else {
            format!("L{}-{}", block.first_line, block.last_line)
        };
        let (verdict, paint) = if label.is_keep() { ("KEEP", GREEN) } else { ("DROP", RED) };
        if color {
            let _ = write!(out, "{paint}{verdict}{RESET} {lines:<9} ");
        } else {
            let _ = write!(out, "{verdict} {lines:<9} ");
        }
        let note = notes.get(index).and_then(Option::as_ref).filter(|_| label.is_keep());
        let why: Option<&dyn std::fmt::Display> = match (label.reason(), note) {
            (Some(reason), _) => Some(reason),
            (None, Some(note)) => Some(note),
            (None, None) => None,
        };
        if let Some(why) = why {
            if color {
                let _ = write!(out, "{DIM}[{why}]{RESET} ");
            } else {
                let _ = write!(out, "[{why}] ");
            }
        }
        push_unwrapped(block.text, out);
        out.push('\n');
    }
}

/// `error` of a temporary file in `folder`, named for what it is (or it would read as the
/// error of the output the file was for).
pub fn temporary_file_error(folder: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("temporary file in {} (TMPDIR): {error}", folder.display()))
}

/// Bytes a [`Spill`] keeps in memory; beyond them it moves to a temporary file.
pub const SPILL_MEMORY_BYTES: usize = 8 << 20;

/// Bytes written now and copied out later, in memory up to [`SPILL_MEMORY_BYTES`] and in an
/// unnamed temporary file (in `TMPDIR`, gone when dropped) beyond: what one input gives the
/// report, standard output or `--removed` in the write pass, held until the inputs before it
/// are out, so that a large JSONL input is never held in memory whole. Writing never fails:
/// the first error is kept and returned by [`Spill::copy_to`] (so [`Write`] on a spill never
/// fails either).
#[derive(Debug)]
pub struct Spill {
    memory: Vec<u8>,
    /// Bytes kept in memory before the file takes over.
    memory_limit: usize,
    file: Option<BufWriter<fs::File>>,
    len: u64,
    error: Option<io::Error>,
}

impl Default for Spill {
    fn default() -> Self {
        Self::with_memory_limit(SPILL_MEMORY_BYTES)
    }
}

impl Spill {
    /// A spill that keeps `memory_limit` bytes in memory (the default [`SPILL_MEMORY_BYTES`]).
    pub fn with_memory_limit(memory_limit: usize) -> Self {
        Self { memory: Vec::new(), memory_limit, file: None, len: 0, error: None }
    }

    /// Appends `bytes`.
    pub fn push(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.error.is_some() {
            return;
        }
        if self.file.is_none() && self.memory.len() + bytes.len() <= self.memory_limit {
            self.memory.extend_from_slice(bytes);
            return;
        }
        if let Err(error) = self.push_to_file(bytes) {
            self.error = Some(error);
        }
    }

    fn push_to_file(&mut self, bytes: &[u8]) -> io::Result<()> {
        let named = |error| temporary_file_error(&std::env::temp_dir(), error);
        if self.file.is_none() {
            let mut file = BufWriter::new(tempfile::tempfile().map_err(named)?);
            file.write_all(&self.memory).map_err(named)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        self.file.as_mut().expect("just created").write_all(bytes).map_err(named)
    }

    /// A spill of `bytes` in memory, whatever their size (a page rendered whole is in memory
    /// already: copying it to a file would only cost time and disk).
    pub fn of_bytes(bytes: Vec<u8>) -> Self {
        Self { len: bytes.len() as u64, memory: bytes, ..Self::default() }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes what was written to `out`, less its first `skip` bytes; the first error of
    /// writing the spill itself, or of `out`.
    pub fn copy_to(self, out: &mut impl Write, skip: u64) -> io::Result<()> {
        if let Some(error) = self.error {
            return Err(error);
        }
        match self.file {
            None => out.write_all(self.memory.get(skip as usize..).unwrap_or_default()),
            Some(file) => {
                let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.seek(io::SeekFrom::Start(skip.min(self.len)))?;
                io::copy(&mut file, out).map(|_| ())
            }
        }
    }
}

impl Write for Spill {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.push(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Permission bits written outputs are created with on Unix, less the process's umask: the
/// mode any new file gets (0o644 under the usual umask 022), not a temporary file's 0o600.
pub const OUTPUT_MODE: u32 = 0o666;

/// Writes `bytes` to `path` through a hidden temporary file in the same folder and a rename,
/// so a reader (or a run killed at any moment) only ever sees the old file or the whole new one.
/// Missing parent folders are created. A `.gz` or `.zst` path is written compressed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// A file written as a run goes (the report, `--removed`) that appears at its path only whole:
/// the bytes go to a hidden temporary file in the same folder, renamed into place by
/// [`AtomicFile::commit`]; dropped without it, the temporary file is removed. Missing parent
/// folders are created. A `.gz` or `.zst` path is written compressed.
pub struct AtomicFile {
    sink: Sink,
    path: PathBuf,
}

/// Where an [`AtomicFile`]'s bytes go: its temporary file, through a compressor or not.
enum Sink {
    Plain(BufWriter<NamedTempFile>),
    Gzip(flate2::write::GzEncoder<BufWriter<NamedTempFile>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<NamedTempFile>>),
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let builder = || {
            let mut builder = tempfile::Builder::new();
            // Created with the mode of any new file: no chmod before the rename.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(fs::Permissions::from_mode(OUTPUT_MODE));
            }
            builder.prefix(".textsift-").suffix(".tmp").tempfile_in(parent)
        };
        // Create the folders only when the first try says they are missing: most writes land in
        // a folder that already exists, and this saves a mkdir and a stat each.
        let tmp = match builder() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(parent)?;
                builder()?
            }
            other => other?,
        };
        let tmp = BufWriter::with_capacity(WRITE_BUFFER_BYTES, tmp);
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        let sink = if name.ends_with(".gz") {
            Sink::Gzip(flate2::write::GzEncoder::new(tmp, flate2::Compression::default()))
        } else if name.ends_with(".zst") {
            Sink::Zstd(zstd::stream::write::Encoder::new(tmp, 3)?)
        } else {
            Sink::Plain(tmp)
        };
        Ok(Self { sink, path: path.to_path_buf() })
    }

    /// Whether the file is written compressed (its name ends in `.gz` or `.zst`).
    pub fn compressed(&self) -> bool {
        !matches!(self.sink, Sink::Plain(_))
    }

    /// Finishes the file and renames it into place.
    pub fn commit(self) -> io::Result<()> {
        let buffered = match self.sink {
            Sink::Plain(tmp) => tmp,
            Sink::Gzip(gz) => gz.finish()?,
            Sink::Zstd(zst) => zst.finish()?,
        };
        let tmp = buffered.into_inner().map_err(io::IntoInnerError::into_error)?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Buffer between an [`AtomicFile`] and its temporary file.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;

impl Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Plain(w) => w.write(bytes),
            Sink::Gzip(w) => w.write(bytes),
            Sink::Zstd(w) => w.write(bytes),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Plain(w) => w.write_all(bytes),
            Sink::Gzip(w) => w.write_all(bytes),
            Sink::Zstd(w) => w.write_all(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
            Sink::Zstd(w) => w.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::Reason;
    use crate::segment::segment;

    #[test]
    fn a_spill_gives_back_what_was_written_from_memory_or_its_file() {
        let cases: [&[&[u8]]; 3] =
            [&[b"small"], &[b"0123456789abcd", b"efgh", b"ij"], &[b"", b"0123456789abcdefg"]];
        for pieces in cases {
            let mut spill = Spill::with_memory_limit(16);
            for piece in pieces {
                spill.push(piece);
            }
            let whole = pieces.concat();
            assert_eq!(spill.len(), whole.len() as u64);
            // Past 16 bytes the bytes went to a file.
            assert_eq!(spill.file.is_some(), whole.len() > 16);
            let mut out = Vec::new();
            spill.copy_to(&mut out, 2).unwrap();
            assert_eq!(out, whole[2..]);
        }
        let mut out = Vec::new();
        Spill::default().copy_to(&mut out, 1).unwrap();
        assert!(out.is_empty());
        // Bytes handed over stay in memory, past the limit too.
        let spill = Spill::of_bytes(vec![b'x'; 40]);
        assert_eq!((spill.len(), spill.file.is_some()), (40, false));
        spill.copy_to(&mut out, 0).unwrap();
        assert_eq!(out, [b'x'; 40]);
    }

    #[test]
    fn clean_text_keeps_layout_and_unwraps_paragraphs() {
        let page = segment("Menu\n\nA paragraph wrapped\nover two lines.\n\nLast one.\n");
        let labels = [Label::Drop(Reason::Chrome { rule: "menu".into() }), Label::Keep, Label::Keep];
        let mut out = String::new();
        render_clean(&page, &labels, &mut out);
        assert_eq!(out, "A paragraph wrapped over two lines.\n\nLast one.\n");
    }

    #[test]
    fn nothing_kept_is_empty_output() {
        let page = segment("Menu\n");
        let mut out = String::new();
        render_clean(&page, &[Label::Drop(Reason::Repeat { of: 0 })], &mut out);
        assert_eq!(out, "");
    }

    #[test]
    fn explain_names_every_block_and_reason() {
        let page = segment("Title\nTitle\n");
        let mut out = String::new();
        let labels = [Label::Keep, Label::Drop(Reason::Repeat { of: 0 })];
        render_explain("p.txt", &page, &labels, &[], None, false, &mut out);
        assert_eq!(
            out,
            "== p.txt: 2 blocks, 1 kept\nKEEP L1        Title\nDROP L2        [repeat of block 1] Title\n"
        );
        // A keep's note shows like a drop's reason; a note beside a dropped block does not.
        let notes = [Some(KeepNote::Title), Some(KeepNote::Title)];
        out.clear();
        render_explain("p.txt", &page, &labels, &notes, None, false, &mut out);
        assert_eq!(
            out,
            "== p.txt: 2 blocks, 1 kept\nKEEP L1        [title] Title\nDROP L2        [repeat of block 1] Title\n"
        );
    }

    #[test]
    fn atomic_write_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deep/er/out.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn outputs_are_ordinary_readable_files_not_private_temporaries() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, b"x").unwrap();
        let made_here = dir.path().join("made-here.txt");
        fs::write(&made_here, b"x").unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&made_here));
        assert_ne!(mode(&path), 0o600, "the test needs a umask that lets others read new files");
    }

    #[test]
    fn a_streamed_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json.zst");
        let mut file = AtomicFile::create(&path).unwrap();
        for piece in ["{", "\"a\": 1", "}"] {
            file.write_all(piece.as_bytes()).unwrap();
        }
        assert!(!path.exists());
        file.commit().unwrap();
        let back = crate::input::decompress(fs::read(&path).unwrap(), &path).unwrap();
        assert_eq!(back, b"{\"a\": 1}");
        // Dropped without a commit: no file, and no temporary file left behind.
        let unfinished = dir.path().join("unfinished.json");
        AtomicFile::create(&unfinished).unwrap().write_all(b"half").unwrap();
        assert!(!unfinished.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn compressed_outputs_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.jsonl.gz", "a.jsonl.zst"] {
            let path = dir.path().join(name);
            write_atomic(&path, b"{\"text\":\"x\"}\n").unwrap();
            let back = crate::input::decompress(fs::read(&path).unwrap(), &path).unwrap();
            assert_eq!(back, b"{\"text\":\"x\"}\n");
        }
    }
}
