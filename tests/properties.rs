//! Property tests of the page path (decode, segment, page pass, render): no panic on any input,
//! and the clean text is made of the input's own blocks, in their order.

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
