//! Property tests of the page path (decode, segment, page pass, render): no panic on any input,
//! and the clean text is made of the input's own blocks, in their order; and of JSONL batches:
//! the lines, numbers and hash of the whole file.

use proptest::prelude::*;
use textsift::{decode, output, page::PagePass, segment};

/// Lines that look like scraped pages: prose, chrome, tables, lists, odd characters.
const LINES: &[&str] = &[
    "Japan has cancelled a high-level meeting with its closest ally, the United States, after a dispute.",
    "The meeting was expected to take place in Washington on July 1, officials said on Friday.",
    "Menu",
    "Search",
    "Share on Facebook",
    "Related Articles",
    "Sign up for our newsletter to get the latest stories.",
    "| Country | Official | Issue |",
    "- a list item",
    "1. first step",
    "© 2025 Example News. All rights reserved.",
    "日本は米国との安全保障会議を中止した。防衛費をめぐる対立が背景にある。",
    "مرحبا بكم في موقعنا الإخباري، هذا نص عربي من اليمين إلى اليسار.",
    "e\u{301}te\u{301} cafe\u{301} 👩\u{200d}💻 emoji and combining marks",
    "\u{a0}\u{a0}|\u{a0}\u{a0}Economy",
    "",
    "   ",
    "- 06:42 PM, Jun 21, 2025",
    "word word word word word word word word word word word word word word",
];

fn page() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        4 => prop::sample::select(LINES).prop_map(str::to_string),
        1 => ".{0,80}",
    ];
    (prop::collection::vec(line, 0..60), prop::bool::ANY)
        .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

fn clean(text: &str) -> (String, Vec<String>) {
    let page = segment::segment(text);
    let labels = PagePass::default().classify(&page, None);
    let mut out = String::new();
    output::render_clean(&page, &labels, &mut out);
    let blocks =
        page.blocks.iter().map(|b| b.text.split('\n').map(str::trim).collect::<Vec<_>>().join(" ")).collect();
    (out, blocks)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        if let Ok(text) = decode::decode(bytes) {
            let _ = clean(&text);
        }
    }

    #[test]
    fn clean_text_is_the_inputs_own_blocks_in_order(raw in page()) {
        let text = decode::fold(raw);
        let (out, blocks) = clean(&text);
        let mut next = 0;
        for line in out.split('\n').filter(|l| !l.is_empty()) {
            let found = blocks[next..].iter().position(|b| b == line);
            prop_assert!(found.is_some(), "{line:?} is not a later input block");
            next += found.unwrap() + 1;
        }
    }

    #[test]
    fn the_page_pass_labels_every_block(raw in page()) {
        let text = decode::fold(raw);
        let page = segment::segment(&text);
        prop_assert_eq!(PagePass::default().classify(&page, None).len(), page.blocks.len());
    }
}

/// How the page pass measures `text`: the stopword list it picks (the one with the most hits in
/// the longest blocks), and whether any list fits at all.
fn language(text: &str) -> (Option<&'static str>, bool) {
    let (_, explanation) = PagePass::default().classify_explained(&segment::segment(text), None);
    (explanation.language, explanation.listed)
}

/// Lines of English pages only (prose, chrome, tables, lists), so the language guess is stable.
const ENGLISH: &[&str] = &[
    "Japan has cancelled a high-level meeting with its closest ally, the United States, after a dispute.",
    "The meeting was expected to take place in Washington on July 1, officials said on Friday.",
    "It is the first time in years that the two governments have called off talks at this level.",
    "Menu",
    "Search",
    "Share on Facebook",
    "Related Articles",
    "Sign up for our newsletter to get the latest stories.",
    "| Country | Official | Issue |",
    "- a list item",
    "1. first step",
    "© 2025 Example News. All rights reserved.",
    "",
    "- 06:42 PM, Jun 21, 2025",
    "Defence spending",
    "word word word word word word word word word word word word word word",
];

/// English words for generated lines, stopwords among them as in real prose.
const WORDS: &[&str] = &[
    "the",
    "minister",
    "said",
    "on",
    "Friday",
    "that",
    "talks",
    "would",
    "resume",
    "in",
    "July",
    "and",
    "officials",
    "of",
    "both",
    "countries",
    "were",
    "not",
    "available",
    "for",
    "comment",
    "a",
    "spokesman",
    "told",
    "reporters",
    "it",
    "was",
    "too",
    "early",
    "to",
    "say",
    "Home",
    "News",
    "Sport",
    "Login",
    "more",
    "budget",
    "defence",
    "with",
    "is",
    "by",
    "this",
    "week.",
];

fn english_page() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        6 => prop::sample::select(ENGLISH).prop_map(str::to_string),
        2 => prop::collection::vec(prop::sample::select(WORDS), 1..20).prop_map(|w| w.join(" ")),
    ];
    prop::collection::vec(line, 0..60).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Exact idempotence does not hold for every page: the page pass picks its stopword list
    /// by the hits in the page's longest blocks, dropped ones included, so on a page mixing
    /// languages the clean text may be guessed another language and a borderline block
    /// reclassified, or found to have no list at all (no devset page changes now; one did).
    /// What holds: when the page pass measures both the same way, cleaning the clean text again
    /// changes nothing.
    #[test]
    fn cleaning_is_idempotent_when_the_language_guess_is_unchanged(raw in page()) {
        let text = decode::fold(raw);
        let (once, _) = clean(&text);
        let (twice, _) = clean(&once);
        if language(&text) == language(&once) {
            prop_assert_eq!(&twice, &once, "input {:?}", text);
        }
    }

    #[test]
    fn cleaning_an_english_page_twice_changes_nothing(raw in english_page()) {
        let (once, _) = clean(&raw);
        let (twice, _) = clean(&once);
        prop_assert_eq!(&twice, &once, "input {:?}", raw);
    }
}

/// Runs `textsift clean` on `files` (listed one by one, in that order) into a fresh `out/` with
/// `threads` workers; returns the written files (name, bytes) and the report.
fn run_binary(
    dir: &std::path::Path,
    files: &[String],
    threads: usize,
) -> (Vec<(String, Vec<u8>)>, serde_json::Value) {
    let out = dir.join(format!("out-{threads}-{}", files.join("-").len() + files[0].len()));
    let _ = std::fs::remove_dir_all(&out);
    let report = out.with_extension("json");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_textsift"))
        .arg("clean")
        .args(files.iter().map(|f| dir.join(f)))
        .arg("-o")
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .arg("-j")
        .arg(threads.to_string())
        .arg("-q")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let mut written: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    written.sort();
    (written, serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap())
}

/// What of the report must not depend on the order the files are listed in: its totals but the
/// split of drops by reason, and per document (ids aside) the blocks kept, the bytes written and
/// whether it is a duplicate. Of copies whose clean texts tie for the centre of their group
/// (identical signatures: the same article in different chrome), the first listed is kept and
/// counted for site chrome, so which copy's other counts sit beside `duplicate_of`, and whether
/// a block both copies drop is `chrome` or `site_chrome`, follow the listing order; the written
/// text does not.
fn order_free(report: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    let totals = &report["totals"];
    let dropped: u64 = totals["dropped"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    let totals = ["documents", "blocks", "kept", "bytes_in", "bytes_out", "duplicates", "skipped"]
        .iter()
        .map(|k| format!("{k} {}", totals[*k]))
        .chain([format!("dropped {dropped}")])
        .collect();
    let mut docs: Vec<String> = report["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "kept {} bytes_out {} duplicate {}",
                d["kept"],
                d["bytes_out"],
                !d["duplicate_of"].is_null()
            )
        })
        .collect();
    docs.sort();
    (totals, docs)
}

/// A batch of 2 to 8 generated pages, some of them exact copies of an earlier one (so
/// near-duplicate groups and site chrome come into play), and a permutation of them. Pages that
/// are not copies each get a story of their own: two different pages whose clean texts are the
/// same (the same article in different chrome) make the one limit of order independence, as the
/// first listed is the copy counted for site chrome, which can move site-chrome decisions on
/// other pages.
fn batch() -> impl Strategy<Value = (Vec<String>, Vec<usize>)> {
    prop::collection::vec((english_page(), page(), 0..4usize, any::<prop::sample::Index>()), 2..8)
        .prop_map(|specs| {
            let mut pages: Vec<String> = Vec::new();
            for (i, (english, mixed, kind, copy)) in specs.into_iter().enumerate() {
                let page = match kind {
                    0 if !pages.is_empty() => {
                        pages.push(pages[copy.index(pages.len())].clone());
                        continue;
                    }
                    // Without control characters, which would make the page a binary file.
                    1 => mixed.chars().filter(|c| *c == '\n' || !c.is_control()).collect(),
                    _ => english,
                };
                // Shared chrome on every page, so site chrome is learned, and a story of its
                // own, so two pages that are not copies never have the same clean text.
                let own = format!(
                    "The {} report describes what the council of {} decided on the harbour and the schools this spring.",
                    ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"][i],
                    ["Oslo", "Lyon", "Porto", "Graz", "Turku", "Ghent", "Cork", "Split"][i],
                );
                pages.push(format!("Home\nSign in\n{own}\n{page}\nAbout us | Contact | Careers\n"));
            }
            pages
        })
        .prop_flat_map(|pages| {
            let n = pages.len();
            (Just(pages), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn output_does_not_depend_on_thread_count_or_listing_order((pages, order) in batch()) {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..pages.len()).map(|i| format!("p{i}.txt")).collect();
        for (name, page) in names.iter().zip(&pages) {
            std::fs::write(dir.path().join(name), page).unwrap();
        }
        let (one, report_one) = run_binary(dir.path(), &names, 1);
        let (two, report_two) = run_binary(dir.path(), &names, 2);
        prop_assert_eq!(&one, &two, "one vs two threads");
        prop_assert_eq!(&report_one, &report_two, "reports with one vs two threads");

        let shuffled: Vec<String> = order.iter().map(|&i| names[i].clone()).collect();
        let (reordered, report_reordered) = run_binary(dir.path(), &shuffled, 2);
        let contents = |files: &[(String, Vec<u8>)]| {
            let mut c: Vec<Vec<u8>> = files.iter().map(|(_, b)| b.clone()).collect();
            c.sort();
            c
        };
        prop_assert_eq!(contents(&one), contents(&reordered), "listing order {:?}", shuffled);
        prop_assert_eq!(order_free(&report_one), order_free(&report_reordered));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// A JSONL file read a batch at a time gives the lines, numbers and hash of the whole file,
    /// whatever the batch size and the bytes (byte-order marks, CR, blank and unterminated lines).
    #[test]
    fn jsonl_batches_give_the_whole_files_lines(
        pieces in prop::collection::vec(prop_oneof![
            Just(b"\n".to_vec()), Just(b"\r\n".to_vec()), Just(b"\xEF\xBB\xBF".to_vec()), Just(b"  ".to_vec()),
            prop::collection::vec(any::<u8>(), 0..40),
        ], 0..40),
        batch_bytes in 1usize..64,
    ) {
        use textsift::input::jsonl::{lines, Batches};
        let bytes: Vec<u8> = pieces.concat();
        let mut batches = Batches::with_batch_bytes(std::io::Cursor::new(&bytes), batch_bytes);
        let mut streamed = Vec::new();
        while let Some(batch) = batches.next_batch().unwrap() {
            streamed.extend(batch.lines().into_iter().map(|(n, l)| (n, l.to_vec())));
        }
        let whole: Vec<(usize, Vec<u8>)> = lines(&bytes).into_iter().map(|(n, l)| (n, l.to_vec())).collect();
        prop_assert_eq!(streamed, whole);
        prop_assert_eq!(batches.content_hash(), xxhash_rust::xxh3::xxh3_64(&bytes));
    }
}
