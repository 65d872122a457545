//! Repeated blocks inside one page: exact repeats after normalisation, near repeats of long
//! blocks, and whole pasted runs. The first copy is kept.

use crate::fingerprint::hamming;
use crate::label::{Label, Reason};
use crate::segment::Segmented;

/// Blocks with at least this many words are also compared for near repeats.
pub const NEAR_REPEAT_MIN_WORDS: usize = 12;
/// Simhash distance (of 64 bits) under which two long blocks are checked as near repeats.
pub const NEAR_REPEAT_CANDIDATE_BITS: u32 = 18;
/// Shingle Jaccard similarity from which a checked candidate counts as a near repeat.
pub const NEAR_REPEAT_JACCARD: f64 = 0.6;
/// A kept block between two repeats of blocks that stand the same distance apart in the first
/// copy is part of the pasted run when the gap is at most this many blocks.
pub const RUN_GAP: usize = 3;
/// Near repeats of a long block are looked for among the previous this many long blocks (exact
/// repeats everywhere): comparing with all of them made a page of n long blocks cost n² / 2
/// checks (a 100 MB page of 2.8 million lines ran for more than 10 minutes).
pub const NEAR_REPEAT_WINDOW: usize = 1024;

/// Reusable buffers, so the per-block path does not allocate.
#[derive(Default)]
pub struct Scratch {
    shingles_a: Vec<u64>,
    shingles_b: Vec<u64>,
    long_blocks: Vec<(u32, u64)>,
}

/// Marks every kept block of `page` that repeats an earlier block as `Drop(Repeat { of })`.
pub fn mark(page: &Segmented<'_>, labels: &mut [Label], scratch: &mut Scratch) {
    let Scratch { shingles_a, shingles_b, long_blocks } = scratch;
    long_blocks.clear();
    let repeat_of = page.repeat_of();
    for (index, block) in page.blocks.iter().enumerate() {
        if block.key.is_none() {
            continue;
        }
        if let Some(first) = repeat_of[index] {
            labels[index] = Label::Drop(Reason::Repeat { of: first });
            continue;
        }
        let index = index as u32;
        if page.normalized_words(index as usize) < NEAR_REPEAT_MIN_WORDS {
            continue;
        }
        let hash = page.simhash(index as usize);
        // The block's shingle list is only needed when a candidate turns up.
        shingles_a.clear();
        let window = &long_blocks[long_blocks.len().saturating_sub(NEAR_REPEAT_WINDOW)..];
        let near = window.iter().find(|&&(other, other_hash)| {
            hamming(hash, other_hash) <= NEAR_REPEAT_CANDIDATE_BITS && {
                if shingles_a.is_empty() {
                    page.for_each_shingle(index as usize, |h| shingles_a.push(h));
                }
                shingles_b.clear();
                page.for_each_shingle(other as usize, |h| shingles_b.push(h));
                jaccard(shingles_a, shingles_b) >= NEAR_REPEAT_JACCARD
            }
        });
        match near {
            Some(&(other, _)) => labels[index as usize] = Label::Drop(Reason::Repeat { of: other }),
            None => long_blocks.push((index, hash)),
        }
    }
    fill_runs(labels);
}

/// Drops kept blocks that sit inside a pasted run: between a repeat of block `a` and a repeat
/// of block `a + gap + 1`, the block `gap` places on is taken as a repeat of `a + offset`.
fn fill_runs(labels: &mut [Label]) {
    let repeat_of = |label: &Label| match label {
        Label::Drop(Reason::Repeat { of }) => Some(*of as usize),
        _ => None,
    };
    let mut index = 0;
    while index < labels.len() {
        let Some(start_of) = repeat_of(&labels[index]) else {
            index += 1;
            continue;
        };
        let next =
            (index + 1..labels.len().min(index + RUN_GAP + 2)).find(|&j| repeat_of(&labels[j]).is_some());
        if let Some(next) = next {
            let next_of = repeat_of(&labels[next]).expect("found above");
            let gap = next - index;
            if gap > 1 && next_of == start_of + gap {
                for (offset, label) in labels[index + 1..next].iter_mut().enumerate() {
                    if label.is_keep() {
                        *label = Label::Drop(Reason::Repeat { of: (start_of + offset + 1) as u32 });
                    }
                }
            }
            index = next;
        } else {
            index += 1;
        }
    }
}

/// Jaccard similarity of two shingle lists (sorted and deduplicated in place).
pub fn jaccard(a: &mut Vec<u64>, b: &mut Vec<u64>) -> f64 {
    a.sort_unstable();
    a.dedup();
    b.sort_unstable();
    b.dedup();
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::segment;

    fn run(text: &str) -> Vec<Label> {
        let page = segment(text);
        let mut labels = vec![Label::Keep; page.blocks.len()];
        mark(&page, &mut labels, &mut Scratch::default());
        labels
    }

    const LONG_A: &str = "Japan has cancelled a high-level meeting with its closest ally United States, after the Trump administration abruptly demanded Tokyo spend more.";
    const LONG_B: &str = "US secretary of state Marco Rubio and defence secretary Pete Hegseth were expected to meet their Japanese counterparts in Washington.";

    #[test]
    fn exact_repeat_after_normalisation_drops_the_second_copy() {
        let labels = run("Big Title\nSome text here.\nbig   title!\n");
        assert_eq!(labels, [Label::Keep, Label::Keep, Label::Drop(Reason::Repeat { of: 0 })]);
    }

    #[test]
    fn near_repeat_of_a_long_block_is_dropped() {
        let edited = LONG_A.replace("abruptly demanded", "suddenly demanded");
        let labels = run(&format!("{LONG_A}\n{LONG_B}\n{edited}\n"));
        assert_eq!(labels[2], Label::Drop(Reason::Repeat { of: 0 }));
    }

    #[test]
    fn near_repeats_are_looked_for_in_a_window_and_exact_repeats_everywhere() {
        // Distinct long blocks made of letter-only words (digits would normalise alike).
        let word = |mut n: usize| {
            let mut w = String::new();
            for _ in 0..4 {
                w.push((b'a' + (n % 26) as u8) as char);
                n /= 26;
            }
            w
        };
        let filler: Vec<String> = (0..NEAR_REPEAT_WINDOW)
            .map(|i| (0..14).map(|j| word(i * 14 + j)).collect::<Vec<_>>().join(" "))
            .collect();
        let edited = LONG_A.replace("abruptly demanded", "suddenly demanded");
        let text = format!("{LONG_A}\n{}\n{edited}\n{LONG_A}\n", filler.join("\n"));
        let labels = run(&text);
        let n = labels.len();
        assert!(labels[..n - 2].iter().all(Label::is_keep));
        assert_eq!(labels[n - 2], Label::Keep, "a near repeat beyond the window is kept");
        assert_eq!(labels[n - 1], Label::Drop(Reason::Repeat { of: 0 }));
        let close = format!("{LONG_A}\n{}\n{edited}\n", filler[1..].join("\n"));
        assert_eq!(run(&close).last(), Some(&Label::Drop(Reason::Repeat { of: 0 })));
    }

    #[test]
    fn different_long_blocks_are_not_near_repeats() {
        assert_eq!(run(&format!("{LONG_A}\n{LONG_B}\n")), [Label::Keep, Label::Keep]);
    }

    #[test]
    fn a_changed_block_inside_a_pasted_run_goes_with_the_run() {
        let text = format!("{LONG_A}\nShort middle line\n{LONG_B}\n{LONG_A}\nAnother middle\n{LONG_B}\n");
        let labels = run(&text);
        assert!(labels[..3].iter().all(Label::is_keep));
        assert_eq!(labels[3], Label::Drop(Reason::Repeat { of: 0 }));
        assert_eq!(labels[4], Label::Drop(Reason::Repeat { of: 1 }));
        assert_eq!(labels[5], Label::Drop(Reason::Repeat { of: 2 }));
    }

    #[test]
    fn punctuation_only_blocks_are_never_repeats() {
        assert!(run("-\ntext\n-\n").iter().all(Label::is_keep));
    }

    #[test]
    fn jaccard_counts_shared_over_union() {
        let (mut a, mut b) = (vec![1, 2, 3, 3], vec![2, 3, 4]);
        assert!((jaccard(&mut a, &mut b) - 0.5).abs() < 1e-9);
    }
}
