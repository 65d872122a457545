//! The page pass: one page at a time, every block gets a [`Label`].
//!
//! Order: repeated blocks first (the first copy stays), then the chrome rules and the context
//! pass on what is left. The pass is a pure function of the page's blocks, its host and the
//! configured rules, so it can run on many pages in parallel and again in the write pass with the
//! same result.

pub mod chrome;
pub mod repeats;
pub mod rules;

use std::cell::RefCell;

use crate::label::Label;
use crate::segment::Segmented;

/// Configuration of the page pass, built once per run and shared by all threads.
#[derive(Debug, Default, Clone)]
pub struct PagePass {
    /// Rules from `--rules`, applied before the built-in ones.
    pub rules: rules::UserRules,
}

thread_local! {
    static SCRATCH: RefCell<repeats::Scratch> = RefCell::new(repeats::Scratch::default());
}

impl PagePass {
    /// Labels every block of `page`; `host` is the page's site when known (for per-site rules).
    pub fn classify(&self, page: &Segmented<'_>, host: Option<&str>) -> Vec<Label> {
        let mut labels = vec![Label::Keep; page.blocks.len()];
        SCRATCH.with(|scratch| repeats::mark(page, &mut labels, &mut scratch.borrow_mut()));
        chrome::mark(page, host, &self.rules, &mut labels);
        labels
    }

    /// [`PagePass::classify`], with why each kept block is kept: the explain view runs the pass
    /// again for this, and gets the same labels.
    pub fn classify_explained(
        &self,
        page: &Segmented<'_>,
        host: Option<&str>,
    ) -> (Vec<Label>, chrome::Explanation) {
        let mut labels = vec![Label::Keep; page.blocks.len()];
        SCRATCH.with(|scratch| repeats::mark(page, &mut labels, &mut scratch.borrow_mut()));
        let explanation = chrome::mark_explained(page, host, &self.rules, &mut labels);
        (labels, explanation)
    }
}
