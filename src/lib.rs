//! textsift turns scraped article text into clean text.
//!
//! Each page is decoded ([`decode`]), split into blocks ([`segment`]), labelled block by block by
//! the page pass ([`page`]: repeated blocks, site chrome found from the page alone), then the
//! corpus pass ([`corpus`]) adds what only the whole batch shows. Every decision is a
//! [`label::Label`]; the clean text, the explain view ([`output`]) and the JSON report
//! ([`report`]) are renderings of those labels.
//!
//! ```
//! use textsift::{decode, page::PagePass, segment, output};
//! let text = decode::decode(b"Big news today\nThe article body, in full sentences.\nBig news today\n".to_vec()).unwrap();
//! let page = segment::segment(&text);
//! let labels = PagePass::default().classify(&page, None);
//! let mut clean = String::new();
//! output::render_clean(&page, &labels, &mut clean);
//! assert_eq!(clean, "Big news today\nThe article body, in full sentences.\n");
//! ```
#![deny(missing_docs)]
// Three audited exceptions: `decode::utf8_string`, after SIMD validation,
// `allocator::set_threshold`, glibc's `mallopt`, and `stats::resource_usage`, `getrusage`.
#![deny(unsafe_code)]

pub mod allocator;
pub mod cache;
pub mod cli;
pub mod config;
pub mod corpus;
pub mod decode;
pub mod error;
pub mod eval;
pub mod exit_codes;
pub mod features;
pub mod fingerprint;
pub mod input;
pub mod label;
pub mod memo;
pub mod output;
pub mod page;
pub mod pipeline;
pub mod report;
pub mod segment;
pub mod stats;
#[cfg(test)]
mod testing;
