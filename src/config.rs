//! The checked configuration of a run, built from the command line before any work starts.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::cli::{CleanArgs, FormatArg, SiteFromArg};
use crate::corpus::CorpusOptions;
use crate::error::ConfigError;
use crate::input::jsonl::Keys;
use crate::input::{Discovery, Format};
use crate::page::PagePass;

/// Everything a `clean` run needs, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Inputs as given.
    pub inputs: Vec<PathBuf>,
    /// What to read from folders, and how.
    pub discovery: Discovery,
    /// Output folder; `None` writes to standard output.
    pub out: Option<PathBuf>,
    /// Report file.
    pub report: Option<PathBuf>,
    /// Write the explain view instead of clean text.
    pub explain: bool,
    /// Colour the explain view.
    pub color: bool,
    /// Worker threads; 0 for all cores.
    pub threads: usize,
    /// Bytes of pass-1 results (labels, block keys) kept for the later passes (`--cache-mib`).
    pub cache_bytes: usize,
    /// Bytes of the memos of measured blocks, all threads together (`--memo-mib`; 0: off).
    pub memo_bytes: usize,
    /// Print nothing but errors.
    pub quiet: bool,
    /// Print the run's totals and phase times at its end (`--stats`).
    pub stats: bool,
    /// Show a progress bar (stderr is a terminal and not quiet).
    pub progress: bool,
    /// Never drop near-duplicate pages.
    pub keep_duplicates: bool,
    /// JSONL field names.
    pub keys: Keys,
    /// The page pass.
    pub page: PagePass,
    /// The corpus pass.
    pub corpus: CorpusOptions,
    /// Where a text file's site comes from.
    pub site_from: SiteFrom,
    /// File for the JSONL records removed as near-duplicates.
    pub removed: Option<PathBuf>,
    /// File for the related pairs.
    pub related: Option<PathBuf>,
}

/// Where a text file's site comes from (`--site-from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteFrom {
    /// All text files of the run are one site.
    Run,
    /// The folder holding the file, relative to its input folder.
    ParentDir,
}

impl SiteFrom {
    /// The site name of a text file at `relative` (`None`: the run's site).
    pub fn site_of(self, relative: &Path) -> Option<String> {
        match self {
            SiteFrom::Run => None,
            SiteFrom::ParentDir => {
                Some(format!("dir:{}", relative.parent().unwrap_or(Path::new("")).display()))
            }
        }
    }
}

impl Config {
    /// Whether anything the run writes names pages by id (the report, the explain view,
    /// `--related`): when nothing does, no page's id is made or kept.
    pub fn shows_ids(&self) -> bool {
        self.report.is_some() || self.explain || self.related.is_some()
    }

    /// Checks the options of `textsift clean`.
    pub fn from_args(args: CleanArgs) -> Result<Config, ConfigError> {
        let usage = |m: String| ConfigError::Usage(m);
        if args.inputs.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
            return Err(usage("standard input (-) can be given only once".into()));
        }
        if args.threads == Some(0) {
            return Err(usage("--threads must be at least 1".into()));
        }
        let out_canonical = match &args.out {
            Some(out) => {
                let canonical = canonical_even_if_missing(out);
                for input in args.inputs.iter().filter(|p| p.is_dir()) {
                    let input_canonical = input.canonicalize().unwrap_or_else(|_| input.clone());
                    if canonical.starts_with(&input_canonical) {
                        return Err(usage(format!(
                            "--out {} is inside the input folder {}; choose a folder outside it",
                            out.display(),
                            input.display()
                        )));
                    }
                }
                if out.exists() && !out.is_dir() {
                    return Err(usage(format!("--out {}: exists and is not a folder", out.display())));
                }
                Some(canonical)
            }
            None => None,
        };
        let format = match args.format {
            FormatArg::Auto => None,
            FormatArg::Text => Some(Format::Text),
            FormatArg::Jsonl => Some(Format::Jsonl),
        };
        for (name, x) in
            [("--similarity", args.similarity), ("--related-similarity", args.related_similarity)]
        {
            if !(x > 0.0 && x <= 1.0) {
                return Err(usage(format!("{name} must be in (0, 1], got {x}")));
            }
        }
        let discovery = Discovery::new(&args.glob, format, out_canonical).map_err(usage)?;
        let rules = match &args.rules {
            Some(path) => crate::page::rules::UserRules::load(path)?,
            None => crate::page::rules::UserRules::default(),
        };
        let stderr_tty = std::io::stderr().is_terminal();
        Ok(Config {
            inputs: args.inputs,
            discovery,
            color: args.explain
                && args.out.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none(),
            out: args.out,
            report: args.report,
            explain: args.explain,
            threads: args.threads.unwrap_or(0),
            cache_bytes: args.cache_mib.saturating_mul(1 << 20),
            memo_bytes: args.memo_mib.saturating_mul(1 << 20),
            quiet: args.quiet,
            stats: args.stats,
            progress: stderr_tty && !args.quiet,
            keep_duplicates: args.keep_duplicates,
            keys: Keys { id: args.id_key, text: args.text_key },
            page: PagePass { rules },
            corpus: CorpusOptions {
                site_chrome: !args.no_site_chrome,
                similarity: args.similarity,
                related_similarity: args.related_similarity,
                ..CorpusOptions::default()
            },
            site_from: match args.site_from {
                SiteFromArg::Run => SiteFrom::Run,
                SiteFromArg::ParentDir => SiteFrom::ParentDir,
            },
            removed: args.removed,
            related: args.related,
        })
    }
}

/// The canonical form of a path that may not exist yet: its nearest existing ancestor,
/// canonicalised, with the rest appended.
fn canonical_even_if_missing(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut canonical = existing.canonicalize().unwrap_or_else(|_| existing.to_path_buf());
    for name in rest.into_iter().rev() {
        canonical.push(name);
    }
    canonical
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_path_is_canonicalised_through_its_existing_ancestor() {
        let dir = tempfile::tempdir().unwrap();
        let canonical = canonical_even_if_missing(&dir.path().join("a/b"));
        assert_eq!(canonical, dir.path().canonicalize().unwrap().join("a/b"));
    }
}
