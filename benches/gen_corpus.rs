//! Builds a deterministic benchmark corpus of text pages from seed pages.
//!
//! Seeds are `fixtures/seeds/*.txt` and, when present, `../shared/devset/text/*.txt` (relative to
//! the crate root). Every generated page is one seed page with its first and last lines (the
//! page's chrome) in place and the lines in between reshuffled by a seeded xorshift generator, so
//! no two pages are identical and every run with the same arguments writes the same bytes.
//! Pages go into subfolders of `--per-dir` files each.
//!
//!     cargo run --release --example gen_corpus -- --mb 300 --out /tmp/corpus
//!     cargo run --release --example gen_corpus -- --mb 64 --pages 7000 --out /tmp/c64
//!
//! `--pages N` with `--mb M` gives N pages of about M/N bytes each (seed pages are cut, or
//! filled up with lines of the next seed pages, to that size); without `--pages`, pages keep their seed's size and the
//! generator stops once M MiB are written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Lines at the top and bottom of a seed page that stay in place (header and footer chrome).
const FIXED_LINES: usize = 4;

/// A small xorshift64* generator: deterministic, no dependencies.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

struct Args {
    mb: f64,
    pages: Option<usize>,
    out: PathBuf,
    per_dir: usize,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { mb: 64.0, pages: None, out: PathBuf::new(), per_dir: 500, seed: 1 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--mb" => args.mb = value()?.parse().map_err(|e| format!("--mb: {e}"))?,
            "--pages" => args.pages = Some(value()?.parse().map_err(|e| format!("--pages: {e}"))?),
            "--out" => args.out = PathBuf::from(value()?),
            "--per-dir" => args.per_dir = value()?.parse().map_err(|e| format!("--per-dir: {e}"))?,
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "-h" | "--help" => {
                return Err(
                    "usage: gen_corpus --out DIR [--mb MiB] [--pages N] [--per-dir N] [--seed N]".into()
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.out.as_os_str().is_empty() {
        return Err("--out DIR is required".into());
    }
    Ok(args)
}

/// Reads every `*.txt` in `dir`, sorted by name, as lines.
fn read_seeds(dir: &Path) -> Vec<Vec<String>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| fs::read(p).ok())
        .map(|b| String::from_utf8_lossy(&b).lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|lines: &Vec<String>| lines.len() > 2 * FIXED_LINES)
        .collect()
}

/// One page from `seeds[pick]`: fixed head and tail, shuffled middle, the middle cut so the
/// page has about `target` bytes (when given), or filled up with the middle lines of the
/// following seed pages (never repeating a line, which would turn into repeated blocks).
fn make_page(seeds: &[Vec<String>], pick: usize, target: Option<usize>, rng: &mut XorShift) -> String {
    let seed = &seeds[pick];
    let (head, rest) = seed.split_at(FIXED_LINES);
    let (own, tail) = rest.split_at(rest.len() - FIXED_LINES);
    let mut middle: Vec<&String> = own.iter().collect();
    if let Some(target) = target {
        let mut size: usize = seed.iter().map(|l| l.len() + 1).sum();
        let mut next = pick;
        while size < target && next != (pick + seeds.len() - 1) % seeds.len() {
            next = (next + 1) % seeds.len();
            let other = &seeds[next][FIXED_LINES..seeds[next].len() - FIXED_LINES];
            size += other.iter().map(|l| l.len() + 1).sum::<usize>();
            middle.extend(other);
        }
    }
    let mut order: Vec<usize> = (0..middle.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut page = String::new();
    for line in head {
        page.push_str(line);
        page.push('\n');
    }
    let fixed: usize = head.iter().chain(tail).map(|l| l.len() + 1).sum();
    let mut written = 0usize;
    for &i in &order {
        if target.is_some_and(|target| fixed + written >= target) {
            break;
        }
        page.push_str(middle[i]);
        page.push('\n');
        written += middle[i].len() + 1;
    }
    for line in tail {
        page.push_str(line);
        page.push('\n');
    }
    page
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("gen_corpus: {message}");
            return ExitCode::from(2);
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds = read_seeds(&root.join("fixtures/seeds"));
    let devset = root.join("../shared/devset/text");
    let from_devset = read_seeds(&devset);
    if from_devset.is_empty() {
        eprintln!("gen_corpus: {} not found; using only the {} fixture seeds", devset.display(), seeds.len());
    } else {
        eprintln!("gen_corpus: {} fixture seeds + {} devset pages", seeds.len(), from_devset.len());
    }
    seeds.extend(from_devset);
    if seeds.is_empty() {
        eprintln!("gen_corpus: no seed pages found");
        return ExitCode::from(1);
    }
    let budget = (args.mb * 1024.0 * 1024.0) as usize;
    let target = args.pages.map(|n| budget / n.max(1));
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ args.seed.wrapping_mul(0xA24B_AED4_963E_E407) | 1);
    let (mut total, mut count) = (0usize, 0usize);
    while match args.pages {
        Some(n) => count < n,
        None => total < budget,
    } {
        let pick = rng.below(seeds.len());
        // Vary page size by +-25% around the target so pages differ in length too.
        let size = target.map(|t| t * 3 / 4 + rng.below(t / 2 + 1));
        let page = make_page(&seeds, pick, size, &mut rng);
        let dir = args.out.join(format!("d{:04}", count / args.per_dir.max(1)));
        if count % args.per_dir.max(1) == 0 {
            if let Err(e) = fs::create_dir_all(&dir) {
                eprintln!("gen_corpus: {}: {e}", dir.display());
                return ExitCode::from(1);
            }
        }
        let path = dir.join(format!("p{count:07}.txt"));
        if let Err(e) = fs::write(&path, &page) {
            eprintln!("gen_corpus: {}: {e}", path.display());
            return ExitCode::from(1);
        }
        total += page.len();
        count += 1;
    }
    eprintln!(
        "gen_corpus: wrote {count} pages, {:.1} MiB, to {}",
        total as f64 / (1024.0 * 1024.0),
        args.out.display()
    );
    ExitCode::SUCCESS
}
