//! Percentiles, throughput and ratios: the pure arithmetic of the benchmark.

use serde::{Deserialize, Serialize};

/// What one measured loop produced: one latency per cycle and the wall time of
/// the whole loop (which also covers the loop's own overhead).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Samples {
    /// Per-cycle latencies, nanoseconds, in measurement order.
    pub latencies_ns: Vec<u64>,
    /// Wall time of the measured loop, nanoseconds.
    pub elapsed_ns: u64,
}

/// Throughput and latency of one measured loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Measured cycles.
    pub cycles: usize,
    /// Cycles per second over the loop's wall time.
    pub per_sec: f64,
    /// Mean cycle latency, milliseconds.
    pub mean_ms: f64,
    /// Median cycle latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile cycle latency, milliseconds.
    pub p99_ms: f64,
    /// Slowest cycle, milliseconds.
    pub max_ms: f64,
}

/// Nearest-rank percentile (`p` in 0..=100) of ascending `sorted` values;
/// `None` for an empty slice.
///
/// The nearest rank is `ceil(p / 100 × n)`: p50 of `[1, 2, 3, 4]` is 2, p99
/// of 100 values is the 99th smallest, p100 the largest, p0 the smallest.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Summarises `samples`; `None` when nothing was measured.
pub fn summarize(samples: &Samples) -> Option<Summary> {
    if samples.latencies_ns.is_empty() || samples.elapsed_ns == 0 {
        return None;
    }
    let mut sorted = samples.latencies_ns.clone();
    sorted.sort_unstable();
    let total: u128 = sorted.iter().map(|&l| u128::from(l)).sum();
    let n = sorted.len();
    Some(Summary {
        cycles: n,
        per_sec: n as f64 / (samples.elapsed_ns as f64 / 1e9),
        mean_ms: total as f64 / n as f64 / 1e6,
        p50_ms: ms(percentile(&sorted, 50.0)?),
        p99_ms: ms(percentile(&sorted, 99.0)?),
        max_ms: ms(*sorted.last()?),
    })
}

/// Events per second; `None` without a positive duration.
pub fn rate(count: u64, seconds: f64) -> Option<f64> {
    (seconds.is_finite() && seconds > 0.0).then(|| count as f64 / seconds)
}

/// `numerator / denominator` when both are finite and the denominator is
/// positive; `None` otherwise (a missing or failed measurement).
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (numerator.is_finite() && denominator.is_finite() && denominator > 0.0).then(|| numerator / denominator)
}

/// The median of `values` (mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v = [1, 2, 3, 4];
        assert_eq!(percentile(&v, 50.0), Some(2));
        assert_eq!(percentile(&v, 75.0), Some(3));
        assert_eq!(percentile(&v, 76.0), Some(4));
        assert_eq!(percentile(&v, 100.0), Some(4));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 99.0), Some(99));
        assert_eq!(percentile(&hundred, 50.0), Some(50));
        assert_eq!(percentile(&hundred, 99.9), Some(100));
        // Out-of-range p is clamped.
        assert_eq!(percentile(&hundred, 150.0), Some(100));
        assert_eq!(percentile(&hundred, -1.0), Some(1));
    }

    #[test]
    fn summary_of_a_loop() {
        // 4 cycles of 1, 2, 3 and 10 ms in 20 ms of wall time.
        let samples =
            Samples { latencies_ns: vec![3_000_000, 1_000_000, 10_000_000, 2_000_000], elapsed_ns: 20_000_000 };
        let s = summarize(&samples).expect("summary");
        assert_eq!(s.cycles, 4);
        assert!((s.per_sec - 200.0).abs() < 1e-9);
        assert!((s.mean_ms - 4.0).abs() < 1e-9);
        assert!((s.p50_ms - 2.0).abs() < 1e-9);
        assert!((s.p99_ms - 10.0).abs() < 1e-9);
        assert!((s.max_ms - 10.0).abs() < 1e-9);
        assert_eq!(summarize(&Samples::default()), None);
        assert_eq!(summarize(&Samples { latencies_ns: vec![1], elapsed_ns: 0 }), None);
    }

    #[test]
    fn rates_and_ratios() {
        assert_eq!(rate(300, 3.0), Some(100.0));
        assert_eq!(rate(1, 0.0), None);
        assert_eq!(rate(1, f64::NAN), None);
        assert_eq!(ratio(1400.0, 1000.0), Some(1.4));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(1.0, -2.0), None);
        assert_eq!(ratio(f64::INFINITY, 2.0), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }
}
