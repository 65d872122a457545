//! Errors of the library; every variant names the input it is about.

use std::io;
use std::path::PathBuf;

/// An error about one input or output; the run reports it and goes on with the rest.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be read (missing, unreadable, vanished).
    #[error("{path}: {source}")]
    Read {
        /// The input's path as given or found.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A compressed input could not be decompressed.
    #[error("{path}: broken {codec} stream: {source}")]
    Decompress {
        /// The input's path.
        path: PathBuf,
        /// `gzip` or `zstd`.
        codec: &'static str,
        /// What the decoder said.
        source: io::Error,
    },
    /// An input changed between the scan pass and the write pass.
    #[error("{path}: changed while textsift was running; not written")]
    Changed {
        /// The input's path.
        path: PathBuf,
    },
    /// Walking a folder failed (permission, symlink loop, ...).
    #[error("{path}: {message}")]
    Walk {
        /// The entry or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Two inputs would be written to the same output file.
    #[error("{path}: would be written to {out} like {other}; not written")]
    OutputClash {
        /// The later input.
        path: PathBuf,
        /// The earlier input that keeps the output.
        other: PathBuf,
        /// The output path both map to.
        out: PathBuf,
    },
    /// The near-duplicate search could not read back the page signatures it kept in a
    /// temporary file: no page is taken as a near-duplicate, and every page is written.
    #[error("{source}; near-duplicates not searched, every page written")]
    Signatures {
        /// What reading the file gave, naming the file's folder.
        source: io::Error,
    },
    /// Writing an output failed; nothing partial is left behind.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The output's path.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
}

impl Error {
    /// True when the error is a closed standard output (`textsift clean x | head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// A problem that stops the run before it starts (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The options contradict each other or name something impossible.
    #[error("{0}")]
    Usage(String),
    /// A rules file could not be read or parsed.
    #[error("{path}: {message}")]
    Rules {
        /// The rules file.
        path: PathBuf,
        /// What was wrong with it.
        message: String,
    },
}
