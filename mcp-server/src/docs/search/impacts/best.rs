//! The best hits of a search kept as the scores come: a bounded heap whose top is the worst
//! kept, so most candidates are turned away by one comparison.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A candidate's rank as one integer, higher is better: its score's bits, then its slot
/// reversed (equal scores rank in slot order, as tantivy breaks ties). A score here is never
/// negative or NaN (every listed BM25 score is above zero, and sums of them are), and the bits
/// of such floats order as the floats do. One integer comparison, where ordering by
/// `f32::total_cmp` then slot was a tenth of a search, in a heap that sees many of the units a
/// common word holds.
fn rank(score: f32, slot: usize) -> u64 {
    debug_assert!(score >= 0.0 && slot <= u32::MAX as usize, "{score} {slot}");
    (u64::from(score.to_bits()) << 32) | u64::from(u32::MAX - slot as u32)
}

fn unrank(rank: u64) -> (f32, usize) {
    (
        f32::from_bits((rank >> 32) as u32),
        (u32::MAX - rank as u32) as usize,
    )
}

/// The best `wanted` candidates offered: most are turned away by one comparison with the worst
/// kept, where sorting every unit a common word holds cost more than adding up the scores.
pub(super) struct Best {
    wanted: usize,
    /// Ranks kept, the worst on top.
    heap: BinaryHeap<Reverse<u64>>,
}

impl Best {
    pub(super) fn new(wanted: usize) -> Best {
        Best {
            wanted,
            heap: BinaryHeap::with_capacity(wanted + 1),
        }
    }

    /// Whether `(score, slot)` would be kept.
    pub(super) fn admits(&self, score: f32, slot: usize) -> bool {
        if self.heap.len() < self.wanted {
            return true;
        }
        self.heap
            .peek()
            .is_some_and(|worst| rank(score, slot) > worst.0)
    }

    /// The score a candidate must pass to be kept: the worst kept once there are `wanted`.
    pub(super) fn floor(&self) -> f32 {
        match self.heap.peek() {
            Some(worst) if self.heap.len() == self.wanted => unrank(worst.0).0,
            _ => 0.0,
        }
    }

    /// Keeps `(score, slot)`, which [`Best::admits`] admitted: once there are `wanted`, in the
    /// place of the worst kept (one sift down, where a push and a pop took two sifts and a
    /// sift up).
    pub(super) fn offer(&mut self, score: f32, slot: usize) {
        let rank = Reverse(rank(score, slot));
        if self.heap.len() < self.wanted {
            self.heap.push(rank);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            *worst = rank;
        }
    }

    /// The candidates kept, best first.
    pub(super) fn ranked(self) -> Vec<(f32, usize)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(rank)| unrank(rank))
            .collect()
    }
}
