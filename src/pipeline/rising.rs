//! Numbers that rise, packed: a JSONL input's record lines and where they start, a varint of
//! each one's step from the one before (a byte for the next line, two or three for a line's
//! bytes), where a `u64` each took 16 bytes a record from pass 1 to the end of the run.

use crate::cache::{push_varint_u64, read_varint_u64};

/// A list of numbers that mostly rise, read in order ([`RisingNumbers::iter`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RisingNumbers {
    /// Each number's step from the one before (the first's from 0), wrapping, as varints.
    steps: Vec<u8>,
    /// The last number pushed.
    last: u64,
    len: usize,
}

impl RisingNumbers {
    /// Appends `number` (any number: one below the last takes ten bytes).
    pub(super) fn push(&mut self, number: u64) {
        push_varint_u64(&mut self.steps, number.wrapping_sub(self.last));
        self.last = number;
        self.len += 1;
    }

    /// The numbers, in the order they were pushed.
    pub(super) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let mut steps = &self.steps[..];
        let mut number = 0u64;
        (0..self.len).map(move |_| {
            number = number.wrapping_add(read_varint_u64(&mut steps).expect("pushed by push"));
            number
        })
    }

    /// Gives back the slack that growing left.
    pub(super) fn shrink_to_fit(&mut self) {
        self.steps.shrink_to_fit();
    }
}

impl FromIterator<u64> for RisingNumbers {
    fn from_iter<I: IntoIterator<Item = u64>>(numbers: I) -> Self {
        let mut rising = RisingNumbers::default();
        for number in numbers {
            rising.push(number);
        }
        rising
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_come_back_in_order_whether_they_rise_or_not() {
        let lists: [&[u64]; 5] = [
            &[],
            &[0],
            &[0, 1, 2, 5, 6, 700, 701, 70_000, 1 << 40, u64::MAX],
            &[9, 3, 3, 0, u64::MAX, 1],
            &[u64::MAX, 0, u64::MAX - 1],
        ];
        for list in lists {
            let rising: RisingNumbers = list.iter().copied().collect();
            assert_eq!(rising.iter().collect::<Vec<u64>>(), list);
        }
    }

    #[test]
    fn the_next_line_takes_a_byte() {
        let lines: RisingNumbers = (0..1000).collect();
        assert_eq!(lines.steps.len(), 1000);
        let offsets: RisingNumbers = (0..1000).map(|n| n * 700).collect();
        assert_eq!(offsets.steps.len(), 1 + 999 * 2);
    }
}
