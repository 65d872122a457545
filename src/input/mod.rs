//! Finding inputs (files, folders, standard input) and reading their bytes, decompressed.

pub mod jsonl;
mod sources;

pub use sources::Sources;

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::Error;

/// File-name patterns read from folders when `--glob` is not given.
pub const DEFAULT_GLOBS: &[&str] =
    &["*.txt", "*.txt.gz", "*.txt.zst", "*.jsonl", "*.jsonl.gz", "*.jsonl.zst"];

/// How an input's records are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The whole input is one page of text.
    Text,
    /// One JSON record per line, the page in a text field.
    Jsonl,
}

/// How an input's bytes are compressed, from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (magic `1f 8b`).
    Gzip,
    /// Zstandard (magic `28 b5 2f fd`).
    Zstd,
}

impl Compression {
    /// Recognises gzip and zstd streams by their magic bytes.
    pub fn sniff(bytes: &[u8]) -> Compression {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Where an input's bytes come from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A file on disk.
    File(Box<Path>),
    /// Standard input, read once at the start and kept for the second pass.
    Stdin(Arc<Vec<u8>>),
}

/// One input: a file, or standard input. A run keeps one for every input file, so it holds one
/// path: its relative path is the end of it.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where to read it.
    pub origin: Origin,
    /// How many leading components of the file's path are not part of its relative path.
    root_components: u32,
    /// How its records are laid out.
    pub format: Format,
}

impl Source {
    /// The file at `path`, whose relative path is what follows its first `root_components`
    /// components.
    pub(crate) fn file(path: PathBuf, root_components: usize, format: Format) -> Self {
        Self {
            origin: Origin::File(path.into_boxed_path()),
            // A path has far fewer components.
            root_components: u32::try_from(root_components).unwrap_or(u32::MAX),
            format,
        }
    }

    /// Its path relative to the folder it was found under (its file name when given directly,
    /// `stdin` for standard input): the output goes to the same relative path, and text pages
    /// use it as their id.
    pub fn relative(&self) -> &Path {
        match &self.origin {
            Origin::File(path) => {
                let mut components = path.components();
                for _ in 0..self.root_components {
                    components.next();
                }
                components.as_path()
            }
            Origin::Stdin(_) => Path::new("stdin"),
        }
    }

    /// The path to name in messages (`-` for standard input).
    pub fn display_path(&self) -> PathBuf {
        match &self.origin {
            Origin::File(path) => path.to_path_buf(),
            Origin::Stdin(_) => PathBuf::from("-"),
        }
    }

    /// The id of a text page from this source: its relative path with `/` separators.
    pub fn id(&self) -> String {
        match &self.origin {
            Origin::Stdin(_) => "-".to_string(),
            Origin::File(_) => self.relative().to_string_lossy().replace('\\', "/"),
        }
    }

    /// Opens the input as a stream of its bytes, decompressed, for reading it a piece at a time
    /// (JSONL: [`jsonl::Batches`]).
    pub fn open(&self) -> Result<InputStream<'_>, Error> {
        let path = self.display_path();
        let mut raw: Box<dyn BufRead + Send + '_> = match &self.origin {
            Origin::File(file) => Box::new(BufReader::with_capacity(
                STREAM_BUFFER_BYTES,
                fs::File::open(file).map_err(|source| Error::Read { path: file.to_path_buf(), source })?,
            )),
            Origin::Stdin(bytes) => Box::new(io::Cursor::new(bytes.as_slice())),
        };
        let head = raw.fill_buf().map_err(|source| Error::Read { path: path.clone(), source })?;
        let (reader, codec): (Box<dyn BufRead + Send + '_>, _) = match Compression::sniff(head) {
            Compression::None => (raw, None),
            Compression::Gzip => (
                Box::new(BufReader::with_capacity(
                    STREAM_BUFFER_BYTES,
                    flate2::read::MultiGzDecoder::new(raw),
                )),
                Some("gzip"),
            ),
            Compression::Zstd => {
                let decoder = zstd::stream::read::Decoder::with_buffer(raw)
                    .map_err(|source| Error::Decompress { path: path.clone(), codec: "zstd", source })?;
                (Box::new(BufReader::with_capacity(STREAM_BUFFER_BYTES, decoder)), Some("zstd"))
            }
        };
        Ok(InputStream { reader, errors: StreamErrors { codec, path } })
    }

    /// Reads the whole input, decompressing gzip and zstd.
    pub fn read(&self) -> Result<Vec<u8>, Error> {
        self.read_sized(None)
    }

    /// [`Source::read`] of an input that held `stored_bytes` bytes when last looked at: its
    /// buffer is sized from them rather than from a `stat` of the file. Any size is read whole.
    pub fn read_sized(&self, stored_bytes: Option<u64>) -> Result<Vec<u8>, Error> {
        let raw = match &self.origin {
            Origin::File(path) => match stored_bytes.and_then(|n| usize::try_from(n).ok()) {
                Some(n) => read_file_of_size(path, n),
                None => fs::read(path),
            }
            .map_err(|source| Error::Read { path: path.to_path_buf(), source })?,
            Origin::Stdin(bytes) => bytes.as_ref().clone(),
        };
        decompress(raw, &self.display_path())
    }
}

impl Source {
    /// A reader of single lines of the input where they start ([`LineReader::append_line_at`]), for
    /// an input that is not compressed (a byte offset of a decompressed stream is not one of
    /// the file's).
    pub fn line_reader(&self) -> Result<LineReader<'_>, Error> {
        Ok(match &self.origin {
            Origin::File(path) => LineReader::File {
                file: BufReader::with_capacity(
                    LINE_READER_BUFFER,
                    fs::File::open(path)
                        .map_err(|source| Error::Read { path: path.to_path_buf(), source })?,
                ),
                at: 0,
                path,
            },
            Origin::Stdin(bytes) => LineReader::Bytes(bytes),
        })
    }
}

/// Bytes a [`LineReader`] of a file reads at a time: a later pass that wants most records
/// reads on through the buffer rather than seeking (and reading) once a record.
const LINE_READER_BUFFER: usize = 256 * 1024;

/// Reads single lines of an input, each from where it starts ([`Source::line_reader`]).
pub enum LineReader<'a> {
    /// A file, read from each line's start to its end.
    File {
        /// The open file.
        file: BufReader<fs::File>,
        /// Where the next byte `file` gives sits in the file.
        at: u64,
        /// Its path, to name in errors.
        path: &'a Path,
    },
    /// Bytes read already (standard input).
    Bytes(&'a [u8]),
}

impl LineReader<'_> {
    /// Appends to `out` the line (without its `\n`) that starts at byte `offset` (nothing at
    /// or past the end). Lines read in file order are read on through the buffer, without a
    /// seek: a later pass that wants most of a file's records makes a read a buffer, not a
    /// seek and a read a record.
    pub fn append_line_at(&mut self, offset: u64, out: &mut Vec<u8>) -> Result<(), Error> {
        match self {
            LineReader::File { file, at, path } => {
                let read_error = |source| Error::Read { path: path.to_path_buf(), source };
                if offset != *at {
                    // Within the buffer, no system call; beyond it, a seek.
                    let ahead = i64::try_from(offset).unwrap_or(i64::MAX).wrapping_sub(*at as i64);
                    file.seek_relative(ahead).map_err(read_error)?;
                    *at = offset;
                }
                let start = out.len();
                let read = file.read_until(b'\n', out).map_err(read_error)?;
                *at += read as u64;
                if out.len() > start && out.last() == Some(&b'\n') {
                    out.pop();
                }
                Ok(())
            }
            LineReader::Bytes(bytes) => {
                let rest = usize::try_from(offset).ok().and_then(|at| bytes.get(at..)).unwrap_or_default();
                out.extend_from_slice(&rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())]);
                Ok(())
            }
        }
    }
}

/// The whole file at `path`, read into a buffer with room for `size` bytes and one more (so
/// that a file of that size takes two reads, the second one returning nothing): `fs::read`
/// without its `stat`. A file of another size is read whole all the same. The buffer is read
/// into as it is, not zeroed first.
fn read_file_of_size(path: &Path, size: usize) -> io::Result<Vec<u8>> {
    let file = fs::File::open(path)?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(size.saturating_add(1))?;
    // Through `Take`, which reads with the generic `read_to_end`: `File`'s own asks the file's
    // size and position first (two more system calls a file).
    file.take(u64::MAX).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Buffer of a streamed input.
const STREAM_BUFFER_BYTES: usize = 256 * 1024;

/// An input's bytes as a stream, decompressed ([`Source::open`]).
pub struct InputStream<'a> {
    /// The bytes.
    pub reader: Box<dyn BufRead + Send + 'a>,
    /// How to name a failed read.
    pub errors: StreamErrors,
}

/// Names a failed read of an [`InputStream`]: a read error, or a decompression error of its codec.
#[derive(Debug, Clone)]
pub struct StreamErrors {
    codec: Option<&'static str>,
    path: PathBuf,
}

impl InputStream<'_> {
    /// Whether the bytes were decompressed: then a byte offset of the stream is not one of the
    /// input's ([`Source::line_reader`]).
    pub fn compressed(&self) -> bool {
        self.errors.codec.is_some()
    }
}

impl StreamErrors {
    /// The error to name for a failed read of the stream.
    pub fn error(&self, source: io::Error) -> Error {
        match self.codec {
            Some(codec) => Error::Decompress { path: self.path.clone(), codec, source },
            None => Error::Read { path: self.path.clone(), source },
        }
    }
}

/// Decompresses `raw` when its magic bytes say gzip or zstd; returns it unchanged otherwise.
pub fn decompress(raw: Vec<u8>, path: &Path) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let result = match Compression::sniff(&raw) {
        Compression::None => return Ok(raw),
        Compression::Gzip => {
            flate2::read::MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut out).map_err(|e| ("gzip", e))
        }
        Compression::Zstd => zstd::stream::read::Decoder::new(raw.as_slice())
            .and_then(|mut d| d.read_to_end(&mut out))
            .map_err(|e| ("zstd", e)),
    };
    result.map(|_| out).map_err(|(codec, source)| Error::Decompress {
        path: path.to_path_buf(),
        codec,
        source,
    })
}

/// Format of a file from its name: `.jsonl` and `.ndjson`, optionally with `.gz` or `.zst`.
pub fn format_from_name(path: &Path) -> Format {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let base = name.strip_suffix(".gz").or_else(|| name.strip_suffix(".zst")).unwrap_or(&name);
    if base.ends_with(".jsonl") || base.ends_with(".ndjson") {
        Format::Jsonl
    } else {
        Format::Text
    }
}

/// What to look for when walking input folders.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// File-name patterns to read from folders.
    pub globs: GlobSet,
    /// A forced format, or `None` to choose by file name.
    pub format: Option<Format>,
    /// The output folder, never read (canonical path).
    pub exclude: Option<PathBuf>,
}

impl Discovery {
    /// Builds the file-name matcher from patterns (empty: [`DEFAULT_GLOBS`]).
    pub fn new(
        patterns: &[String],
        format: Option<Format>,
        exclude: Option<PathBuf>,
    ) -> Result<Self, String> {
        let mut builder = GlobSetBuilder::new();
        let defaults: Vec<String> = DEFAULT_GLOBS.iter().map(|s| s.to_string()).collect();
        for pattern in if patterns.is_empty() { &defaults } else { patterns } {
            builder.add(Glob::new(pattern).map_err(|e| format!("--glob {pattern}: {e}"))?);
        }
        let globs = builder.build().map_err(|e| e.to_string())?;
        Ok(Self { globs, format, exclude })
    }

    fn format_of(&self, path: &Path) -> Format {
        self.format.unwrap_or_else(|| format_from_name(path))
    }

    /// Expands the command-line inputs into sources, in a stable order (inputs as given, folder
    /// entries sorted by name). Problems (missing paths, unreadable folders, loops) are returned
    /// beside the sources; they do not stop the others.
    pub fn discover(
        &self,
        inputs: &[PathBuf],
        stdin: impl FnOnce() -> io::Result<Vec<u8>>,
    ) -> (Sources, Vec<Error>) {
        let mut sources = Sources::new();
        let mut errors = Vec::new();
        let mut stdin = Some(stdin);
        for input in inputs {
            if input.as_os_str() == "-" {
                let Some(read) = stdin.take() else {
                    errors.push(Error::Walk {
                        path: input.clone(),
                        message: "standard input given twice".into(),
                    });
                    continue;
                };
                match read() {
                    Ok(bytes) => sources.push(Source {
                        origin: Origin::Stdin(Arc::new(bytes)),
                        root_components: 0,
                        format: self.format.unwrap_or(Format::Text),
                    }),
                    Err(source) => errors.push(Error::Read { path: input.clone(), source }),
                }
                continue;
            }
            match fs::metadata(input) {
                Err(source) => errors.push(Error::Read { path: input.clone(), source }),
                Ok(meta) if meta.is_dir() => self.walk(input, &mut sources, &mut errors),
                Ok(_) => {
                    // Given directly: its relative path is its file name, its last component (the
                    // whole path in the unlikely case it has none).
                    let root = if input.file_name().is_some() { input.components().count() - 1 } else { 0 };
                    sources.push(Source::file(input.clone(), root, self.format_of(input)));
                }
            }
        }
        sources.shrink_to_fit();
        (sources, errors)
    }

    fn walk(&self, root: &Path, sources: &mut Sources, errors: &mut Vec<Error>) {
        let exclude = self.exclude.as_deref();
        // Every path found starts with the root's components.
        let root_components = root.components().count();
        let walker =
            walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name().into_iter().filter_entry(
                |entry| {
                    let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
                    // Only a folder can be the output folder; resolving every file's path would cost a
                    // readlink per path component.
                    let excluded = entry.file_type().is_dir()
                        && exclude.is_some_and(|ex| entry.path().canonicalize().is_ok_and(|p| p == ex));
                    !hidden && !excluded
                },
            );
        for entry in walker {
            match entry {
                Err(e) => {
                    let path = e.path().unwrap_or(root).to_path_buf();
                    let message = match e.loop_ancestor() {
                        Some(ancestor) => {
                            format!("symlink loop back to {}; not followed", ancestor.display())
                        }
                        None => e.io_error().map(|io| io.to_string()).unwrap_or_else(|| e.to_string()),
                    };
                    errors.push(Error::Walk { path, message });
                }
                Ok(entry) if entry.file_type().is_file() && self.globs.is_match(entry.file_name()) => {
                    let format = self.format_of(entry.path());
                    sources.push(Source::file(entry.into_path(), root_components, format));
                }
                Ok(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_whole_whatever_size_it_was_said_to_have() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.txt");
        let content: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        for size in [0, 1, 99_999, 100_000, 100_001, 1 << 20] {
            assert_eq!(read_file_of_size(&path, size).unwrap(), content, "said {size}");
        }
        std::fs::write(&path, b"").unwrap();
        assert_eq!(read_file_of_size(&path, 10).unwrap(), b"");
        assert!(read_file_of_size(&dir.path().join("missing.txt"), 10).is_err());
    }

    #[test]
    fn format_follows_the_file_name() {
        assert_eq!(format_from_name(Path::new("a/b.jsonl")), Format::Jsonl);
        assert_eq!(format_from_name(Path::new("b.JSONL.gz")), Format::Jsonl);
        assert_eq!(format_from_name(Path::new("b.jsonl.zst")), Format::Jsonl);
        assert_eq!(format_from_name(Path::new("b.txt.gz")), Format::Text);
        assert_eq!(format_from_name(Path::new("b.json")), Format::Text);
    }

    #[test]
    fn compressed_bytes_are_recognised_and_decompressed() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello gzip").unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(decompress(gz, Path::new("x.gz")).unwrap(), b"hello gzip");
        let zst = zstd::encode_all(&b"hello zstd"[..], 1).unwrap();
        assert_eq!(decompress(zst, Path::new("x.zst")).unwrap(), b"hello zstd");
        assert_eq!(decompress(b"plain".to_vec(), Path::new("x")).unwrap(), b"plain");
    }

    #[test]
    fn a_truncated_gzip_stream_is_an_error_naming_the_file() {
        let err = decompress(vec![0x1f, 0x8b, 8, 0, 0, 0], Path::new("broken.txt.gz")).unwrap_err();
        assert!(err.to_string().starts_with("broken.txt.gz: broken gzip stream"), "{err}");
    }

    #[test]
    fn walking_skips_hidden_files_and_sorts_by_name() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("sub")).unwrap();
        for name in ["b.txt", "a.txt", ".hidden.txt", "sub/c.txt", "notes.md"] {
            fs::write(dir.path().join(name), "x").unwrap();
        }
        let discovery = Discovery::new(&[], None, None).unwrap();
        let (sources, errors) = discovery.discover(&[dir.path().to_path_buf()], || Ok(Vec::new()));
        assert!(errors.is_empty());
        let rel: Vec<_> = sources.iter().map(|s| s.id()).collect();
        assert_eq!(rel, ["a.txt", "b.txt", "sub/c.txt"]);
    }

    #[test]
    fn a_line_is_read_from_where_it_starts_in_a_file_or_in_bytes() {
        let bytes = b"first\nsecond line\r\n\nlast, no newline".to_vec();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        fs::write(&path, &bytes).unwrap();
        let file = Source::file(path, 0, Format::Jsonl);
        let stdin = Source {
            origin: Origin::Stdin(Arc::new(bytes.clone())),
            root_components: 0,
            format: Format::Jsonl,
        };
        // Out of order, again, blank, last, past the end, then in order from the start (read
        // on without a seek), skipping one, and the last again.
        let offsets = [6, 0, 6, 19, 20, 99, 0, 6, 20, 19];
        let wanted: Vec<&[u8]> = vec![
            b"second line\r",
            b"first",
            b"second line\r",
            b"",
            b"last, no newline",
            b"",
            b"first",
            b"second line\r",
            b"last, no newline",
            b"",
        ];
        for source in [file, stdin] {
            let mut reader = source.line_reader().unwrap();
            let lines: Vec<Vec<u8>> = offsets
                .iter()
                .map(|&at| {
                    let mut line = Vec::new();
                    reader.append_line_at(at, &mut line).unwrap();
                    line
                })
                .collect();
            assert_eq!(lines, wanted);
            // Appended one after the other into one buffer.
            let mut buffer = b"x".to_vec();
            for &at in &offsets {
                reader.append_line_at(at, &mut buffer).unwrap();
            }
            assert_eq!(
                buffer,
                [&b"x"[..]].into_iter().chain(wanted.iter().copied()).collect::<Vec<_>>().concat()
            );
        }
        let missing = Source::file(dir.path().join("gone.jsonl"), 0, Format::Jsonl);
        assert!(missing.line_reader().is_err());
    }

    #[test]
    fn the_relative_path_is_the_end_of_the_path() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/c.txt"), "x").unwrap();
        let discovery = Discovery::new(&[], None, None).unwrap();
        let inputs = [dir.path().join("."), dir.path().join("./sub/c.txt")];
        let (sources, errors) = discovery.discover(&inputs, || Ok(Vec::new()));
        assert!(errors.is_empty());
        let relative: Vec<_> = sources.iter().map(|s| s.relative().to_path_buf()).collect();
        assert_eq!(relative, [Path::new("sub/c.txt"), Path::new("c.txt")]);
        assert_eq!(sources.get(1).display_path(), dir.path().join("./sub/c.txt"));
    }
}
