//! The command line as typed: clap derive types. [`crate::config`] turns them into a checked
//! configuration before any work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Turns scraped article text into clean text: drops menus, share buttons, newsletter pitches,
/// related-story lists, repeated blocks and near-duplicate pages, with a reason for every drop.
#[derive(Debug, Parser)]
#[command(name = "textsift", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Clean page text files, folders, standard input or JSONL records.
    Clean(Box<CleanArgs>),
    /// Score cleaned pages against keep/drop annotations (precision, recall, F1).
    Eval(EvalArgs),
}

/// Options of `textsift eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folder of cleaned pages, one `<file>` per annotated page.
    #[arg(value_name = "CLEAN_DIR")]
    pub clean_dir: PathBuf,

    /// Annotations, JSONL: `{"file", "keep": [...], "drop": [...]}` per page.
    #[arg(long, value_name = "FILE")]
    pub annotations: PathBuf,

    /// Also list every page's lost and leaked snippets.
    #[arg(long)]
    pub per_page: bool,
}

/// How to read inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// By file name: `.jsonl`, `.ndjson` (optionally `.gz`/`.zst`) are JSONL, the rest text.
    Auto,
    /// Every input is one page of text.
    Text,
    /// Every input is JSONL, one record per line.
    Jsonl,
}

/// Where a text file's site comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SiteFromArg {
    /// All text files of the run are one site.
    Run,
    /// The folder holding the file (relative to its input folder) is its site.
    ParentDir,
}

/// Options of `textsift clean`.
#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Files, folders (walked recursively) or `-` for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Write one clean file per input under DIR, at the input's path relative to its folder.
    ///
    /// Without --out, a single input (or standard input) is written to standard output.
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Write a JSON report of every document (blocks kept, dropped by reason, duplicates).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Instead of clean text, show every block with KEEP or DROP and why (the rule or the
    /// context and features behind the decision).
    #[arg(long)]
    pub explain: bool,

    /// Memory for what the first pass learns of each page (labels, keys and where each block
    /// sits, about 15 bytes a block; a signature of 768 bytes a page, 8 a shingle for a page of
    /// at most 64), reused by the later passes;
    /// pages beyond it are labelled again (the same output, more time). About 35% of the
    /// input's size keeps every page.
    #[arg(long, value_name = "MIB", default_value_t = crate::cache::DEFAULT_CACHE_MIB)]
    pub cache_mib: usize,

    /// Memory for the memo of measured blocks, which all threads share: a block whose text was
    /// measured before (a site's footer, a syndicated paragraph) is not measured again. At most
    /// 32 MiB for each thread of the run, at least 4; 0 turns it off (the same output, more
    /// time where pages share blocks).
    #[arg(long, value_name = "MIB", default_value_t = crate::memo::MEMO_TOTAL_BYTES >> 20)]
    pub memo_mib: usize,

    /// Worker threads (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// When the run ends, print its totals and the time each phase took to standard error.
    ///
    /// The totals are the report's, with the run's peak memory. The phases are finding the
    /// inputs, pass 1 (read and label), the corpus pass (site chrome and near-duplicates) and
    /// pass 2 (write), each with its wall-clock and CPU seconds (all threads), the cores it kept
    /// busy and MB/s over the bytes read. Printed with --quiet too.
    #[arg(long)]
    pub stats: bool,

    /// Never drop a page as a near-duplicate of another.
    #[arg(long)]
    pub keep_duplicates: bool,

    /// Estimated word-shingle Jaccard similarity from which two pages are near-duplicates.
    ///
    /// Copies with a few words changed or a paragraph cut measure 0.6 to 0.95; two outlets'
    /// rewrites of one story about 0.15.
    #[arg(long, default_value_t = crate::corpus::dedup::DEFAULT_SIMILARITY, value_name = "X")]
    pub similarity: f64,

    /// Write pairs of related pages (same story, rewritten) as JSONL to FILE; nothing is removed.
    /// Copies of one text are listed once, by the most complete of them.
    #[arg(long, value_name = "FILE")]
    pub related: Option<PathBuf>,

    /// Estimated similarity from which --related lists a pair.
    #[arg(long, default_value_t = crate::corpus::dedup::DEFAULT_RELATED_SIMILARITY, value_name = "X")]
    pub related_similarity: f64,

    /// Write the JSONL records dropped as near-duplicates, untouched, to FILE.
    #[arg(long, value_name = "FILE")]
    pub removed: Option<PathBuf>,

    /// Where a text file's site (for site chrome) comes from; JSONL records use their URL's host.
    #[arg(long, value_enum, default_value_t = SiteFromArg::Run, value_name = "FROM")]
    pub site_from: SiteFromArg,

    /// Do not learn site chrome from blocks recurring across pages.
    #[arg(long)]
    pub no_site_chrome: bool,

    /// Input format.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub format: FormatArg,

    /// File-name pattern to read from folders (repeatable).
    ///
    /// Default: *.txt, *.jsonl and their .gz and .zst forms.
    #[arg(long, value_name = "PATTERN")]
    pub glob: Vec<String>,

    /// JSONL field holding the record id.
    #[arg(long, default_value = "id", value_name = "KEY")]
    pub id_key: String,

    /// Extra chrome rules (TOML): phrases or regular expressions (`pattern`) to drop or keep,
    /// optionally per site host.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// JSONL field holding the page text.
    #[arg(long, default_value = "text", value_name = "KEY")]
    pub text_key: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
