//! Helpers for the unit tests: texts generated from a fixed xorshift sequence, so a failing
//! case is the same on every run.

/// The next number of the xorshift sequence in `state` (never 0 when `state` is not).
pub(crate) fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Up to `max_pieces` of `pieces`, drawn from `state` and joined.
pub(crate) fn pieces_text(pieces: &[&str], max_pieces: u64, state: &mut u64) -> String {
    let count = next(state) % (max_pieces + 1);
    (0..count).map(|_| pieces[(next(state) % pieces.len() as u64) as usize]).collect()
}

/// Up to `max_len` characters of `alphabet`, drawn from `state`.
pub(crate) fn chars_text(alphabet: &[char], max_len: u64, state: &mut u64) -> String {
    let count = next(state) % (max_len + 1);
    (0..count).map(|_| alphabet[(next(state) % alphabet.len() as u64) as usize]).collect()
}

#[test]
fn generated_texts_vary_in_length_and_content() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let texts: Vec<String> = (0..200).map(|_| pieces_text(&["a", "b"], 10, &mut state)).collect();
    let lengths: std::collections::HashSet<usize> = texts.iter().map(String::len).collect();
    assert_eq!(lengths.len(), 11, "every length from 0 to 10 occurs");
    let distinct: std::collections::HashSet<&String> = texts.iter().collect();
    assert!(distinct.len() > 100);
}
