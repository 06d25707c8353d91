//! The best hits of a search kept as the scores come: a bounded heap whose top is the worst
//! kept, so most candidates are turned away by one comparison.

use std::collections::BinaryHeap;

/// A candidate in the best so far, ordered by rank: a higher score first, equal scores in slot
/// order (as tantivy breaks ties), so the heap's top is the worst kept.
#[derive(PartialEq)]
struct Ranked(f32, usize);

impl Eq for Ranked {}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The best `wanted` candidates offered: most are turned away by one comparison with the worst
/// kept, where sorting every unit a common word holds cost more than adding up the scores.
pub(super) struct Best {
    wanted: usize,
    heap: BinaryHeap<Ranked>,
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
            .is_some_and(|worst| Ranked(score, slot) < *worst)
    }

    /// The score a candidate must pass to be kept: the worst kept once there are `wanted`.
    pub(super) fn floor(&self) -> f32 {
        match self.heap.peek() {
            Some(worst) if self.heap.len() == self.wanted => worst.0,
            _ => 0.0,
        }
    }

    /// Keeps `(score, slot)`, which [`Best::admits`] admitted: once there are `wanted`, in the
    /// place of the worst kept (one sift down, where a push and a pop took two sifts and a
    /// sift up).
    pub(super) fn offer(&mut self, score: f32, slot: usize) {
        if self.heap.len() < self.wanted {
            self.heap.push(Ranked(score, slot));
        } else if let Some(mut worst) = self.heap.peek_mut() {
            *worst = Ranked(score, slot);
        }
    }

    /// The candidates kept, best first.
    pub(super) fn ranked(self) -> Vec<(f32, usize)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Ranked(score, slot)| (score, slot))
            .collect()
    }
}
