//! `textsift eval`: precision, recall and F1 of cleaned pages against keep/drop annotations, as
//! the devset defines them.
//!
//! Annotations are JSONL, one record per page: `{"file": "<name>", "keep": [...], "drop": [...]}`.
//! A snippet counts as present when it is a substring of the cleaned page after every run of
//! white space is folded to one space (case-sensitive). Per snippet over all pages: a kept
//! `keep` snippet is a true positive, a missing one a false negative, a present `drop` snippet
//! a false positive. A missing output file counts as empty.

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

/// One annotated page.
#[derive(Debug, Deserialize)]
struct Annotation {
    file: String,
    #[serde(default)]
    keep: Vec<String>,
    #[serde(default)]
    drop: Vec<String>,
}

/// The scores of a set of cleaned pages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    /// `keep` snippets present.
    pub true_positives: usize,
    /// `drop` snippets present.
    pub false_positives: usize,
    /// `keep` snippets missing.
    pub false_negatives: usize,
    /// Annotated pages.
    pub pages: usize,
    /// One line per page with a miss, when asked for.
    pub misses: Vec<String>,
}

impl Scores {
    /// tp / (tp + fp).
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }
    /// tp / (tp + fn).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }
    /// 2tp / (2tp + fp + fn).
    pub fn f1(&self) -> f64 {
        ratio(2 * self.true_positives, 2 * self.true_positives + self.false_positives + self.false_negatives)
    }
    /// The summary line, in the devset scorer's format.
    pub fn summary(&self) -> String {
        format!("F1 {:.3} P {:.3} R {:.3} pages={}", self.f1(), self.precision(), self.recall(), self.pages)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Scores the cleaned pages in `clean_dir` against the annotations file.
pub fn evaluate(clean_dir: &Path, annotations: &Path, per_page: bool) -> Result<Scores, String> {
    let text = std::fs::read_to_string(annotations).map_err(|e| format!("{}: {e}", annotations.display()))?;
    let mut scores = Scores::default();
    for (index, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let page: Annotation = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: {e}", annotations.display(), index + 1))?;
        let clean = std::fs::read(clean_dir.join(&page.file))
            .map(|b| fold(&String::from_utf8_lossy(&b)))
            .unwrap_or_default();
        let lost: Vec<&str> =
            page.keep.iter().filter(|s| !clean.contains(&fold(s))).map(String::as_str).collect();
        let leaked: Vec<&str> =
            page.drop.iter().filter(|s| clean.contains(&fold(s))).map(String::as_str).collect();
        scores.pages += 1;
        scores.true_positives += page.keep.len() - lost.len();
        scores.false_negatives += lost.len();
        scores.false_positives += leaked.len();
        if per_page && (!lost.is_empty() || !leaked.is_empty()) {
            let mut miss = format!("{}:", page.file);
            for s in &lost {
                let _ = write!(miss, "\n  lost   {}", s.chars().take(80).collect::<String>());
            }
            for s in &leaked {
                let _ = write!(miss, "\n  leaked {}", s.chars().take(80).collect::<String>());
            }
            scores.misses.push(miss);
        }
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_the_devset_definitions() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "Kept  line one.\nAlso\u{a0}kept.\nMenu\n").unwrap();
        let ann = dir.path().join("ann.jsonl");
        std::fs::write(
            &ann,
            concat!(
                r#"{"file": "a.txt", "keep": ["Kept line one.", "Also kept.", "Lost one"], "drop": ["Menu", "Gone"]}"#,
                "\n",
                r#"{"file": "missing.txt", "keep": ["x"], "drop": ["y"]}"#,
                "\n"
            ),
        )
        .unwrap();
        let s = evaluate(dir.path(), &ann, true).unwrap();
        assert_eq!((s.true_positives, s.false_negatives, s.false_positives, s.pages), (2, 2, 1, 2));
        assert_eq!(s.summary(), "F1 0.571 P 0.667 R 0.500 pages=2");
        assert_eq!(s.misses.len(), 2);
        assert!(s.misses[0].contains("lost   Lost one") && s.misses[0].contains("leaked Menu"));
    }

    #[test]
    fn a_broken_annotation_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let ann = dir.path().join("ann.jsonl");
        std::fs::write(&ann, "{\"file\": \"a\"}\nnot json\n").unwrap();
        let err = evaluate(dir.path(), &ann, false).unwrap_err();
        assert!(err.contains("ann.jsonl:2"), "{err}");
    }
}
