//! Site chrome found from one page's text alone: phrase rules, block features and context.

use crate::label::Label;
use crate::segment::Segmented;

/// Drop and keep rules given by the user with `--rules`.
#[derive(Debug, Default, Clone)]
pub struct UserRules {}

/// Marks chrome blocks of `page` in `labels` (blocks already dropped stay dropped).
pub fn mark(_page: &Segmented<'_>, _host: Option<&str>, _rules: &UserRules, _labels: &mut [Label]) {}
