//! Every input of a run in one buffer: a run of a million text files holds a million paths to
//! the end (each is read again and written), so they are front-coded (each path as the bytes it
//! does not share with the one before) sixteen to a group, where a `Source` each with its own
//! path took about 70 bytes a file: about 12 bytes a file for paths a walk finds.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{Format, Origin, Source};
use crate::cache::{push_varint, read_varint};

/// Inputs a group: the first is stored whole, the others by what they add to the one before.
/// Finding an input decodes up to this many paths.
const GROUP: usize = 16;

/// A run's inputs, in order ([`Sources::get`] makes each one's [`Source`] again).
#[derive(Debug, Default)]
pub struct Sources {
    /// The inputs, one after the other: a tag ([`Tag`]), the root components, then a file's
    /// path as the bytes it shares with the one before (a count, 0 at a group's start) and the
    /// bytes that follow, or a path kept apart ([`Sources::apart`]) by its index.
    bytes: Vec<u8>,
    /// Where each group of [`GROUP`] inputs starts in `bytes`.
    groups: Vec<usize>,
    /// Number of inputs.
    len: usize,
    /// Standard input's bytes, when it is an input.
    stdin: Option<Arc<Vec<u8>>>,
    /// Paths whose bytes this platform does not give (not Unicode, off Unix).
    apart: Vec<Box<Path>>,
    /// The last path pushed, to front-code the next.
    last: Vec<u8>,
    /// Tells this list from the others for [`CURSOR`].
    id: SourcesId,
}

/// A number no other [`Sources`] of the process has.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct SourcesId(u64);

impl Default for SourcesId {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        SourcesId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Where a thread's last [`Sources::get`] left off: the passes ask for the inputs in order, a
/// run of them a thread, so the next one in the group goes on from here rather than decoding
/// the group's paths from its start again (up to 15 of them: `get` was 4.6% of the
/// instructions of a run of short pages).
#[derive(Default)]
struct Cursor {
    /// The list it is in (`None`: none yet).
    sources: Option<SourcesId>,
    /// The index of the next entry, and where it starts in the list's bytes.
    next: usize,
    offset: usize,
    /// The path decoded last (the next entry's is front-coded against it).
    path: Vec<u8>,
}

thread_local! {
    static CURSOR: RefCell<Cursor> = RefCell::new(Cursor::default());
}

/// What an entry of [`Sources`] is: its format in bit 0, where it comes from above.
struct Tag;

impl Tag {
    const JSONL: u8 = 1;
    const STDIN: u8 = 2;
    const APART: u8 = 4;
}

impl Sources {
    /// No inputs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `source` after the others (standard input once at most: a run reads it once).
    pub fn push(&mut self, source: Source) {
        if self.len.is_multiple_of(GROUP) {
            self.groups.push(self.bytes.len());
            self.last.clear();
        }
        self.len += 1;
        let format = match source.format {
            Format::Text => 0,
            Format::Jsonl => Tag::JSONL,
        };
        match source.origin {
            Origin::Stdin(bytes) => {
                assert!(self.stdin.is_none(), "standard input is one input");
                self.bytes.push(format | Tag::STDIN);
                push_varint(&mut self.bytes, source.root_components as usize);
                self.stdin = Some(bytes);
            }
            Origin::File(path) => match path_bytes(&path) {
                Some(path) => {
                    self.bytes.push(format);
                    push_varint(&mut self.bytes, source.root_components as usize);
                    let shared = self.last.iter().zip(path).take_while(|(a, b)| a == b).count();
                    push_varint(&mut self.bytes, shared);
                    push_varint(&mut self.bytes, path.len() - shared);
                    self.bytes.extend_from_slice(&path[shared..]);
                    self.last.clear();
                    self.last.extend_from_slice(path);
                }
                None => {
                    self.bytes.push(format | Tag::APART);
                    push_varint(&mut self.bytes, source.root_components as usize);
                    push_varint(&mut self.bytes, self.apart.len());
                    self.apart.push(path);
                }
            },
        }
    }

    /// Frees what building needed and the room left over.
    pub fn shrink_to_fit(&mut self) {
        self.last = Vec::new();
        self.bytes.shrink_to_fit();
        self.groups.shrink_to_fit();
        self.apart.shrink_to_fit();
    }

    /// The input at `index` (panics past the end).
    pub fn get(&self, index: usize) -> Source {
        assert!(index < self.len, "input {index} of {}", self.len);
        let group = index / GROUP;
        CURSOR.with(|cursor| {
            let mut cursor = cursor.borrow_mut();
            let resumes =
                cursor.sources == Some(self.id) && cursor.next <= index && cursor.next > group * GROUP;
            let (from, offset) =
                if resumes { (cursor.next, cursor.offset) } else { (group * GROUP, self.groups[group]) };
            let mut path = std::mem::take(&mut cursor.path);
            if !resumes {
                path.clear();
            }
            let mut entries = Entries { bytes: &self.bytes[offset..], path };
            for _ in from..index {
                entries.read();
            }
            let source = entries.next(self);
            *cursor = Cursor {
                sources: Some(self.id),
                next: index + 1,
                offset: self.bytes.len() - entries.bytes.len(),
                path: entries.path,
            };
            source
        })
    }

    /// The inputs, in order.
    pub fn iter(&self) -> impl Iterator<Item = Source> + '_ {
        let mut entries = Entries { bytes: &self.bytes, path: Vec::new() };
        // A group's first path shares no bytes: the reader needs no reset between groups.
        (0..self.len).map(move |_| entries.next(self))
    }

    /// The inputs for which `keep` (given each one's index) is true, in order.
    pub fn retained(&self, mut keep: impl FnMut(usize) -> bool) -> Sources {
        let mut kept = Sources::new();
        for (index, source) in self.iter().enumerate() {
            if keep(index) {
                kept.push(source);
            }
        }
        kept.shrink_to_fit();
        kept
    }
}

impl FromIterator<Source> for Sources {
    fn from_iter<I: IntoIterator<Item = Source>>(sources: I) -> Self {
        let mut all = Sources::new();
        for source in sources {
            all.push(source);
        }
        all.shrink_to_fit();
        all
    }
}

/// A reader of [`Sources::bytes`] from a group's start, which keeps the last file path read.
struct Entries<'a> {
    bytes: &'a [u8],
    path: Vec<u8>,
}

impl Entries<'_> {
    /// Reads the next entry's tag and root components, and its path into `self.path` (a file's).
    fn read(&mut self) -> (u8, u32, Option<usize>) {
        let tag = self.bytes[0];
        self.bytes = &self.bytes[1..];
        let root_components = self.varint() as u32;
        if tag & Tag::STDIN != 0 {
            return (tag, root_components, None);
        }
        if tag & Tag::APART != 0 {
            return (tag, root_components, Some(self.varint()));
        }
        let shared = self.varint();
        let added = self.varint();
        self.path.truncate(shared);
        self.path.extend_from_slice(&self.bytes[..added]);
        self.bytes = &self.bytes[added..];
        (tag, root_components, None)
    }

    /// The next entry, as a [`Source`].
    fn next(&mut self, sources: &Sources) -> Source {
        let (tag, root_components, apart) = self.read();
        let format = if tag & Tag::JSONL != 0 { Format::Jsonl } else { Format::Text };
        let origin = if tag & Tag::STDIN != 0 {
            Origin::Stdin(Arc::clone(sources.stdin.as_ref().expect("standard input was pushed")))
        } else if let Some(apart) = apart {
            Origin::File(sources.apart[apart].clone())
        } else {
            Origin::File(path_from(&self.path).into_boxed_path())
        };
        Source { origin, root_components, format }
    }

    /// The next varint.
    fn varint(&mut self) -> usize {
        read_varint(&mut self.bytes).expect("written by Sources::push")
    }
}

/// The bytes of `path`, where the platform gives them (every path on Unix).
#[cfg(unix)]
fn path_bytes(path: &Path) -> Option<&[u8]> {
    use std::os::unix::ffi::OsStrExt;
    Some(path.as_os_str().as_bytes())
}

/// The bytes of `path`, where the platform gives them (Unicode paths elsewhere).
#[cfg(not(unix))]
fn path_bytes(path: &Path) -> Option<&[u8]> {
    path.to_str().map(str::as_bytes)
}

/// The path whose bytes [`path_bytes`] gave.
#[cfg(unix)]
fn path_from(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

/// The path whose bytes [`path_bytes`] gave.
#[cfg(not(unix))]
fn path_from(bytes: &[u8]) -> PathBuf {
    PathBuf::from(std::str::from_utf8(bytes).expect("path_bytes gives Unicode"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, root_components: u32, format: Format) -> Source {
        Source { origin: Origin::File(Path::new(path).into()), root_components, format }
    }

    /// What a source is, to compare (the standard input's bytes by content).
    fn shown(source: &Source) -> (String, u32, Format, Option<Vec<u8>>) {
        let stdin = match &source.origin {
            Origin::Stdin(bytes) => Some(bytes.to_vec()),
            Origin::File(_) => None,
        };
        (source.display_path().display().to_string(), source.root_components, source.format, stdin)
    }

    #[test]
    fn every_input_comes_back_as_it_was_pushed() {
        // Paths that share nothing, a prefix, all of the last one, or more than it; a path that
        // is the last one's prefix; groups of several sizes; standard input among them.
        let mut pushed = vec![
            file("/data/a/page1.txt", 2, Format::Text),
            file("/data/a/page10.txt", 2, Format::Text),
            file("/data/a/page1", 2, Format::Text),
            file("/data/a/page1", 2, Format::Jsonl),
            file("other.jsonl.zst", 0, Format::Jsonl),
            file("", 0, Format::Text),
            file("/data/b/schön/ページ.txt", 3, Format::Text),
        ];
        for i in 0..3 * GROUP + 5 {
            // As a walk finds them: sorted, a folder's files one after the other.
            pushed.push(file(&format!("/corpus/s{:02}/d{:04}/p{i:07}.txt", i / 40, i / 20), 1, Format::Text));
            if i == GROUP + 3 {
                pushed.push(Source {
                    origin: Origin::Stdin(Arc::new(b"from stdin".to_vec())),
                    root_components: 0,
                    format: Format::Jsonl,
                });
            }
        }
        let sources: Sources = pushed.iter().cloned().collect();
        assert_eq!(sources.len(), pushed.len());
        let want: Vec<_> = pushed.iter().map(shown).collect();
        assert_eq!(sources.iter().map(|s| shown(&s)).collect::<Vec<_>>(), want);
        for (index, want) in want.iter().enumerate() {
            assert_eq!(&shown(&sources.get(index)), want, "input {index}");
        }
        // Front-coded: far fewer bytes than the paths.
        let path_bytes: usize = pushed.iter().map(|s| s.display_path().as_os_str().len()).sum();
        assert!(sources.bytes.len() < path_bytes / 2, "{} of {path_bytes}", sources.bytes.len());

        let kept = sources.retained(|index| index % 3 != 1);
        let want_kept: Vec<_> =
            want.iter().enumerate().filter(|(i, _)| i % 3 != 1).map(|(_, s)| s.clone()).collect();
        assert_eq!(kept.iter().map(|s| shown(&s)).collect::<Vec<_>>(), want_kept);
        assert_eq!(shown(&kept.get(kept.len() - 1)), *want_kept.last().unwrap());
    }

    #[test]
    fn gets_in_any_order_and_from_two_lists_in_turn_give_each_input() {
        let list = |name: &str, n: usize| -> Sources {
            (0..n).map(|i| file(&format!("/{name}/d{:03}/p{i:05}.txt", i / 7), 1, Format::Text)).collect()
        };
        let (a, b) = (list("a", 5 * GROUP + 3), list("bb", 3 * GROUP));
        let (want_a, want_b): (Vec<_>, Vec<_>) =
            (a.iter().map(|s| shown(&s)).collect(), b.iter().map(|s| shown(&s)).collect());
        // In order, backwards, by strides that skip within and across groups, and the two lists
        // in turn (each thread's cursor must not carry one list's place into the other).
        let mut order: Vec<usize> = (0..a.len()).collect();
        order.extend((0..a.len()).rev());
        order.extend((0..a.len()).step_by(5));
        order.extend((0..a.len()).step_by(GROUP + 1));
        for (turn, &index) in order.iter().enumerate() {
            assert_eq!(shown(&a.get(index)), want_a[index], "a {index}");
            let other = (index * 7 + turn) % b.len();
            assert_eq!(shown(&b.get(other)), want_b[other], "b {other}");
            assert_eq!(shown(&a.get(index)), want_a[index], "a {index} again");
        }
        // A list dropped and another made: the new one is never read from the old one's place.
        drop(b);
        let c = list("cc", 2 * GROUP);
        for index in (0..c.len()).chain(0..c.len()) {
            assert_eq!(shown(&c.get(index)), shown(&c.iter().nth(index).unwrap()), "c {index}");
        }
    }

    #[test]
    fn no_inputs_is_empty() {
        let sources = Sources::new();
        assert!(sources.is_empty());
        assert_eq!(sources.iter().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_unicode_comes_back_byte_for_byte() {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(std::ffi::OsStr::from_bytes(b"/data/caf\xe9/a.txt"));
        let sources: Sources =
            [Source { origin: Origin::File(path.into()), root_components: 1, format: Format::Text }]
                .into_iter()
                .collect();
        assert_eq!(sources.get(0).display_path(), path);
    }
}
