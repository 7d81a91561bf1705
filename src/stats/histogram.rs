//! A latency histogram in microseconds (`HdrHistogram`, 3 significant digits, 1 µs to 1 hour,
//! saturating above) and the percentiles every report shows.
//!
//! Counts are `u32`: a run keeps a hundred or more of these (node × operation × latency and
//! service time, plus the per-second ones), and at ~92 KB each instead of ~184 KB they are most
//! of the difference between a 20 MiB and a 35 MiB generator. One bucket saturates at 4.29
//! billion samples, which a run reaches after 59 hours at 20,000 requests/s into a single
//! 0.1 %-wide latency bucket; percentiles stay exact until then.

use hdrhistogram::Histogram;
use serde::Serialize;

const HIGHEST_MICROS: u64 = 3_600_000_000;

/// An HDR histogram of microseconds.
#[derive(Clone, Debug)]
pub struct LatencyHistogram(Histogram<u32>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, HIGHEST_MICROS, 3).expect("valid histogram bounds"))
    }
}

/// Spare, empty histograms handed back by whoever consumed them (the recorder, after writing an
/// interval), so that the per-second histograms are reused instead of allocated in one thread and
/// freed in another every second (that churn fragmented the heap: RSS crept up over long runs).
#[derive(Clone, Debug, Default)]
pub struct HistogramPool(std::sync::Arc<std::sync::Mutex<Vec<LatencyHistogram>>>);

impl HistogramPool {
    /// Spares kept at most; more are freed.
    const CAPACITY: usize = 512;

    /// An empty histogram: a spare if there is one.
    #[must_use]
    pub fn take(&self) -> LatencyHistogram {
        self.spares().pop().unwrap_or_default()
    }

    /// Returns a histogram for reuse (emptied here).
    pub fn give(&self, mut histogram: LatencyHistogram) {
        histogram.reset();
        let mut spares = self.spares();
        if spares.len() < Self::CAPACITY {
            spares.push(histogram);
        }
    }

    fn spares(&self) -> std::sync::MutexGuard<'_, Vec<LatencyHistogram>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The percentiles of a histogram, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: u64,
}

/// Upper bounds of the classic latency histogram `/metrics` exposes, µs: 0.1 ms to 10 s, 1-2.5-5
/// a decade (a quantile Prometheus estimates is interpolated within one bucket).
pub const CLASSIC_BOUNDS_US: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// A classic (Prometheus-style) histogram derived from an HDR one.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Classic {
    /// Values at or below each of [`CLASSIC_BOUNDS_US`], cumulative.
    pub cumulative: Vec<u64>,
    /// Every value (the `+Inf` bucket).
    pub count: u64,
    pub sum_us: f64,
}

impl LatencyHistogram {
    pub fn record(&mut self, micros: u64) {
        self.0.saturating_record(micros.clamp(1, HIGHEST_MICROS));
    }

    pub fn add(&mut self, other: &LatencyHistogram) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    /// Adds a histogram read back from a file, of any counter type, bucket by bucket (exact
    /// for a histogram of this tool's bounds and precision: each bucket's value lands in the
    /// same bucket here); one with other settings is refused.
    pub fn add_inner<C: hdrhistogram::Counter>(
        &mut self,
        other: &Histogram<C>,
    ) -> anyhow::Result<()> {
        if other.sigfig() != self.0.sigfig() || other.high() > self.0.high() {
            anyhow::bail!(
                "a histogram of {} significant digits up to {} µs does not fit this tool's ({} digits up to {} µs)",
                other.sigfig(),
                other.high(),
                self.0.sigfig(),
                self.0.high()
            );
        }
        for bucket in other.iter_recorded() {
            let count = u32::try_from(bucket.count_at_value().as_u64()).unwrap_or(u32::MAX);
            self.0
                .record_n(bucket.value_iterated_to(), count)
                .map_err(|e| anyhow::anyhow!("a histogram does not fit: {e:?}"))?;
        }
        Ok(())
    }

    #[must_use]
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Empties the histogram (an empty one is left alone: resetting writes every count, which
    /// would make all of its pages resident).
    pub fn reset(&mut self) {
        if !self.0.is_empty() {
            self.0.reset();
        }
    }

    #[must_use]
    pub fn inner(&self) -> &Histogram<u32> {
        &self.0
    }

    #[must_use]
    pub fn percentiles(&self) -> Percentiles {
        if self.0.is_empty() {
            return Percentiles::default();
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let mean = self.0.mean().round() as u64;
        Percentiles {
            count: self.0.len(),
            min: self.0.min(),
            p50: self.0.value_at_quantile(0.50),
            p90: self.0.value_at_quantile(0.90),
            p99: self.0.value_at_quantile(0.99),
            p999: self.0.value_at_quantile(0.999),
            max: self.0.max(),
            mean,
        }
    }

    /// The classic (cumulative) histogram of these values at `bounds` (µs, ascending): how many
    /// values are at or below each bound, and their sum, to this histogram's precision (3
    /// significant digits: a value counts against a bound by the lowest value its HDR bucket
    /// holds, so a value recorded exactly at a bound is at or below it). One pass over the recorded buckets.
    #[must_use]
    pub fn classic(&self, bounds: &[u64]) -> Classic {
        let mut per_bound = vec![0u64; bounds.len()];
        let mut sum_us = 0.0;
        for value in self.0.iter_recorded() {
            let count = u64::from(value.count_at_value());
            let lowest = self.0.lowest_equivalent(value.value_iterated_to());
            sum_us += self.0.median_equivalent(lowest) as f64 * count as f64;
            if let Some(slot) = bounds.iter().position(|bound| lowest <= *bound) {
                per_bound[slot] += count;
            }
        }
        let mut cumulative = 0;
        for count in &mut per_bound {
            cumulative += *count;
            *count = cumulative;
        }
        Classic {
            cumulative: per_bound,
            count: self.0.len(),
            sum_us,
        }
    }

    /// Counts per bucket for drawing: `buckets` log-spaced buckets between min and max.
    #[must_use]
    pub fn buckets(&self, buckets: usize) -> Vec<(u64, u64)> {
        if self.0.is_empty() || buckets == 0 {
            return Vec::new();
        }
        let (low, high) = (self.0.min().max(1) as f64, self.0.max().max(2) as f64);
        let ratio = (high / low).max(1.000_001).powf(1.0 / buckets as f64);
        let mut out = Vec::with_capacity(buckets);
        let mut lower = low;
        for i in 0..buckets {
            let upper = if i + 1 == buckets {
                // Never below the bounds before it (with one value, low = high).
                high.max(lower)
            } else {
                lower * ratio
            };
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let (lo, hi) = (lower as u64, upper.ceil() as u64);
            let count = self.0.count_between(lo, hi.max(lo));
            out.push((hi, count));
            lower = upper + 1.0;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_merge() {
        let mut a = LatencyHistogram::default();
        for v in 1..=1000 {
            a.record(v);
        }
        let p = a.percentiles();
        assert_eq!(p.count, 1000);
        assert!((499..=501).contains(&p.p50), "{p:?}");
        assert!((989..=991).contains(&p.p99), "{p:?}");
        let mut b = LatencyHistogram::default();
        b.record(50_000);
        a.add(&b);
        assert!((49_950..=50_050).contains(&a.percentiles().max));
        assert_eq!(a.len(), 1001);
        assert_eq!(
            LatencyHistogram::default().percentiles(),
            Percentiles::default()
        );
    }

    #[test]
    fn the_classic_histogram_counts_at_or_below_each_bound() {
        let mut h = LatencyHistogram::default();
        // 1 value at 0.1 ms or less, 3 at 1 ms or less, 2 more by 2.5 ms, 1 above every bound.
        for v in [10, 999, 1_000, 2_000, 2_500, 20_000_000] {
            h.record(v);
        }
        let classic = h.classic(&CLASSIC_BOUNDS_US);
        assert_eq!(classic.cumulative[..6], [1, 1, 1, 3, 5, 5]);
        assert_eq!(
            *classic.cumulative.last().unwrap(),
            5,
            "20 s is only in +Inf"
        );
        assert_eq!(classic.count, 6);
        let exact = 10.0 + 999.0 + 1_000.0 + 2_000.0 + 2_500.0 + 20_000_000.0;
        assert!(
            (classic.sum_us - exact).abs() / exact < 0.001,
            "{classic:?}"
        );
    }
}
