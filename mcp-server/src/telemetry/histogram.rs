//! The latency histogram behind the EMF line's p50, p99 and maximum: fixed buckets of atomic
//! counts, so recording is a few atomic adds on the request path and memory stays the same
//! whatever the traffic (a histogram that keeps every sample until the interval ends, as the
//! `metrics` storage's `AtomicBucket` does, would hold millions of them in a busy minute).
//!
//! Values are whole microseconds in log-linear buckets: exact below 16 us, then 16 buckets per
//! power of two, so a bucket's midpoint is within 1/32 (about 3%) of any value in it.

use std::sync::atomic::{AtomicU64, Ordering};

use metrics::HistogramFn;

/// Sub-buckets per power of two (as a power of two).
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;
/// Values are capped at 2^36 us (about 19 hours).
const MAX_EXPONENT: u32 = 36;
const BUCKETS: usize = ((MAX_EXPONENT - SUB_BITS + 2) as usize) * SUB as usize;

/// Counts of recorded values per bucket, drained once per interval.
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    max: AtomicU64,
}

/// What one interval recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub count: u64,
    /// Milliseconds.
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Records a value in microseconds.
    pub fn record_micros(&self, micros: u64) {
        let micros = micros.min((1 << (MAX_EXPONENT + 1)) - 1);
        self.buckets[index(micros)].fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(micros, Ordering::Relaxed);
    }

    /// The interval's count, p50, p99 and maximum, and a fresh start for the next one; `None`
    /// when nothing was recorded.
    pub fn drain(&self) -> Option<Summary> {
        // The maximum first: a value recorded between the two swaps then lands in the next
        // interval's maximum and this one's buckets, and the buckets bound the maximum below.
        let max = self.max.swap(0, Ordering::Relaxed);
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.swap(0, Ordering::Relaxed))
            .collect();
        let count: u64 = counts.iter().sum();
        if count == 0 {
            return None;
        }
        let highest = counts
            .iter()
            .rposition(|&n| n > 0)
            .map_or(0, |i| bounds(i).0);
        let max = max.max(highest);
        let millis = |micros: f64| micros / 1000.0;
        Some(Summary {
            count,
            p50: millis(quantile(&counts, count, 0.50).min(max as f64)),
            p99: millis(quantile(&counts, count, 0.99).min(max as f64)),
            max: millis(max as f64),
        })
    }
}

impl HistogramFn for Histogram {
    /// `metrics` histograms record seconds (the Prometheus base unit).
    fn record(&self, seconds: f64) {
        if seconds.is_finite() && seconds >= 0.0 {
            self.record_micros((seconds * 1e6).round() as u64);
        }
    }
}

/// The bucket of a value.
fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exponent = 63 - v.leading_zeros();
    let sub = (v >> (exponent - SUB_BITS)) & (SUB - 1);
    ((exponent - SUB_BITS + 1) as u64 * SUB + sub) as usize
}

/// The smallest value and the width of bucket `i`.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, 1);
    }
    let exponent = (i / SUB) as u32 + SUB_BITS - 1;
    let sub = i % SUB;
    let width = 1u64 << (exponent - SUB_BITS);
    ((SUB + sub) * width, width)
}

/// The value at quantile `q`: the midpoint of the bucket holding the `ceil(q * count)`-th
/// smallest value.
fn quantile(counts: &[u64], count: u64, q: f64) -> f64 {
    let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
    let mut seen = 0;
    for (i, &n) in counts.iter().enumerate() {
        seen += n;
        if seen >= rank {
            let (low, width) = bounds(i);
            return low as f64 + (width - 1) as f64 / 2.0;
        }
    }
    unreachable!("rank is at most the count")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets_tile_the_values() {
        let mut next = 0;
        for i in 0..BUCKETS {
            let (low, width) = bounds(i);
            assert_eq!(
                low,
                next,
                "bucket {i} starts where {} ends",
                i.saturating_sub(1)
            );
            assert_eq!(index(low), i);
            assert_eq!(index(low + width - 1), i);
            next = low + width;
        }
        assert_eq!(
            next,
            1 << (MAX_EXPONENT + 1),
            "the last bucket ends at the cap"
        );
    }

    #[test]
    fn an_empty_interval_is_none_and_draining_starts_afresh() {
        let h = Histogram::default();
        assert_eq!(h.drain(), None);
        h.record(0.002);
        let first = h.drain().expect("one value");
        assert_eq!(first.count, 1);
        assert_eq!(h.drain(), None, "drained");
        h.record(f64::NAN);
        h.record(-1.0);
        assert_eq!(h.drain(), None, "NaN and negative values are not recorded");
    }

    proptest! {
        #[test]
        fn quantiles_are_within_a_bucket_of_the_exact_ones(
            values in proptest::collection::vec(0u64..50_000_000, 1..400)
        ) {
            let h = Histogram::default();
            for &v in &values {
                h.record_micros(v);
            }
            let summary = h.drain().unwrap();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let exact = |q: f64| {
                let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
                sorted[rank - 1] as f64
            };
            prop_assert_eq!(summary.count, values.len() as u64);
            prop_assert_eq!(summary.max, *sorted.last().unwrap() as f64 / 1000.0);
            for (q, got) in [(0.5, summary.p50), (0.99, summary.p99)] {
                let want = exact(q);
                let got = got * 1000.0;
                // Half a bucket: 1/32 of the value, or half a microsecond below 16 us.
                let tolerance = (want / 32.0).max(0.5) + 1e-9;
                prop_assert!((got - want).abs() <= tolerance, "q {} got {} want {}", q, got, want);
            }
        }
    }
}
