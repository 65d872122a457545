//! Builds the `sites` and `copies` test corpora from devset pages.
//!
//! A devset page's *core* runs from its first to its last line holding a `keep` snippet; the
//! lines above are its *top* chrome, the lines below its *bottom* chrome. Every choice is made in
//! file-name order, so the corpora are the same on every run.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

/// One devset page cut into chrome and core.
pub struct DevPage {
    /// Its file name.
    pub file: String,
    top: Vec<String>,
    core: Vec<String>,
    bottom: Vec<String>,
    /// Keep snippets found in the core.
    core_keep: Vec<String>,
    /// Drop snippets found in the top or bottom chrome and not in the core.
    chrome_drop: Vec<String>,
}

fn norm(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl DevPage {
    fn words(&self) -> usize {
        self.core.iter().map(|l| l.split_whitespace().count()).sum()
    }

    fn chrome_lines(&self) -> usize {
        self.top.len() + self.bottom.len()
    }

    /// The page with `core` between this page's top and bottom chrome.
    fn wrap(&self, core: &[String]) -> String {
        let mut lines: Vec<&str> = self.top.iter().map(String::as_str).collect();
        lines.extend(core.iter().map(String::as_str));
        lines.extend(self.bottom.iter().map(String::as_str));
        lines.join("\n") + "\n"
    }
}

/// Reads the devset pages whose core holds at least two keep snippets, in file-name order.
pub fn load(devset: &Path) -> Vec<DevPage> {
    let annotations = std::fs::read_to_string(devset.join("annotations.jsonl")).expect("annotations");
    let mut pages = Vec::new();
    for line in annotations.lines() {
        let rec: Value = serde_json::from_str(line).expect("annotation JSON");
        let file = rec["file"].as_str().unwrap().to_string();
        let Ok(text) = std::fs::read_to_string(devset.join("text").join(&file)) else { continue };
        let lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
        let normed: Vec<String> = lines.iter().map(|l| norm(l)).collect();
        let snippets = |key: &str| -> Vec<String> {
            rec[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| norm(s.as_str().unwrap()))
                .filter(|s| !s.is_empty())
                .collect()
        };
        let (keep, drop) = (snippets("keep"), snippets("drop"));
        let keep_lines: Vec<usize> =
            (0..lines.len()).filter(|&i| keep.iter().any(|k| normed[i].contains(k.as_str()))).collect();
        if keep_lines.len() < 2 {
            continue;
        }
        let (first, last) = (keep_lines[0], *keep_lines.last().unwrap());
        let in_lines = |range: &mut dyn Iterator<Item = usize>, s: &str| {
            for i in range {
                if normed[i].contains(s) {
                    return true;
                }
            }
            false
        };
        let core_keep: Vec<String> =
            keep.iter().filter(|k| in_lines(&mut (first..=last), k)).cloned().collect();
        let chrome_drop: Vec<String> = drop
            .iter()
            .filter(|d| {
                in_lines(&mut (0..first).chain(last + 1..lines.len()), d) && !in_lines(&mut (first..=last), d)
            })
            .cloned()
            .collect();
        pages.push(DevPage {
            file,
            top: lines[..first].to_vec(),
            core: lines[first..=last].to_vec(),
            bottom: lines[last + 1..].to_vec(),
            core_keep,
            chrome_drop,
        });
    }
    pages.sort_by(|a, b| a.file.cmp(&b.file));
    pages
}

/// Writes `sites` sites of `per_site` pages each to `dir/pages/siteNN/K.txt`: article cores of
/// different pages inside one chrome donor's top and bottom; `dir/expect.json` holds each page's
/// keep snippets (of its article) and drop snippets (of the donor's chrome).
pub fn write_sites(pages: &[DevPage], dir: &Path, sites: usize, per_site: usize) {
    let _ = std::fs::remove_dir_all(dir);
    let donors: Vec<&DevPage> =
        pages.iter().filter(|p| p.chrome_lines() >= 8 && p.chrome_drop.len() >= 2).collect();
    let articles: Vec<&DevPage> =
        pages.iter().filter(|p| p.words() >= 150 && p.core_keep.len() >= 2).collect();
    let mut expect = BTreeMap::new();
    let mut next_article = 0;
    for (s, donor) in donors.iter().take(sites).enumerate() {
        let site_dir = dir.join("pages").join(format!("site{s:02}"));
        std::fs::create_dir_all(&site_dir).unwrap();
        let mut written = 0;
        while written < per_site {
            let article = articles[next_article % articles.len()];
            next_article += 1;
            if article.file == donor.file {
                continue;
            }
            let core_text = norm(&article.core.join("\n"));
            let chrome_text = norm(&format!("{}\n{}", donor.top.join("\n"), donor.bottom.join("\n")));
            let keep: Vec<&String> =
                article.core_keep.iter().filter(|k| !chrome_text.contains(k.as_str())).collect();
            let drop: Vec<&String> =
                donor.chrome_drop.iter().filter(|d| !core_text.contains(d.as_str())).collect();
            let name = format!("site{s:02}/{written}.txt");
            std::fs::write(dir.join("pages").join(&name), donor.wrap(&article.core)).unwrap();
            expect.insert(name, json!({ "chrome_from": donor.file, "article_from": article.file, "keep": keep, "drop": drop }));
            written += 1;
        }
    }
    std::fs::write(dir.join("expect.json"), serde_json::to_string_pretty(&expect).unwrap()).unwrap();
}

/// Every 33rd word changed (3%) and the last paragraph cut.
fn edit(core: &[String]) -> Vec<String> {
    let mut n = 0usize;
    core[..core.len() - 1]
        .iter()
        .map(|line| {
            line.split(' ')
                .map(|w| {
                    n += 1;
                    if n % 33 == 16 {
                        "altered".to_string()
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Writes `dir/pages.jsonl` and `dir/truth.json`: `articles` sites (`https://siteN.example`),
/// each with four pages in its own chrome: its own article (`aN-orig`), the previous site's
/// article syndicated (`aM-synd`), the article of two sites back with 3% of words changed and
/// its last paragraph cut (`aK-edit`), and an unrelated article (`oN`, one of `others`).
pub fn write_copies(pages: &[DevPage], dir: &Path, articles: usize, others: usize) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let chosen: Vec<&DevPage> = pages
        .iter()
        .filter(|p| p.words() >= 200 && p.core.len() >= 4 && p.chrome_lines() >= 6)
        .take(articles)
        .collect();
    let rest: Vec<&DevPage> = pages
        .iter()
        .filter(|p| p.words() >= 100 && !chosen.iter().any(|c| c.file == p.file))
        .take(others.min(chosen.len()))
        .collect();
    let n = chosen.len();
    let mut lines = String::new();
    let mut truth = BTreeMap::new();
    for (i, site) in chosen.iter().enumerate() {
        let url = |kind: &str| format!("https://site{i}.example/{kind}");
        let (j, k) = ((i + n - 1) % n, (i + n - 2) % n);
        let mut records = vec![
            (format!("a{i}-orig"), format!("a{i}"), site.wrap(&site.core), url("orig")),
            (format!("a{j}-synd"), format!("a{j}"), site.wrap(&chosen[j].core), url("synd")),
            (format!("a{k}-edit"), format!("a{k}"), site.wrap(&edit(&chosen[k].core)), url("edit")),
        ];
        if let Some(other) = rest.get(i) {
            records.push((format!("o{i}"), format!("o{i}"), site.wrap(&other.core), url("other")));
        }
        for (id, article, text, url) in records {
            lines.push_str(&json!({ "id": id, "url": url, "text": text }).to_string());
            lines.push('\n');
            truth.insert(id, article);
        }
    }
    std::fs::write(dir.join("pages.jsonl"), lines).unwrap();
    std::fs::write(dir.join("truth.json"), serde_json::to_string_pretty(&truth).unwrap()).unwrap();
}
