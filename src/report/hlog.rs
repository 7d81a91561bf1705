//! Interval logs (`latency.hlog`) read back and added exactly: the core of merging the results
//! of several shards of one run (HDR histograms add without loss, where percentiles do not
//! average). Each interval of each log is keyed by its tag (`<node>/<operation>`) and its start
//! (ms after the log's base time); intervals with the same key are added into one.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

/// One interval of one tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    pub tag: String,
    pub start: Duration,
    pub length: Duration,
    pub histogram: Histogram<u64>,
}

/// Every interval of a log, in the order written.
pub fn read(log: &[u8]) -> anyhow::Result<Vec<Interval>> {
    let mut intervals = Vec::new();
    for_each(log, |interval| {
        intervals.push(interval);
        Ok(())
    })?;
    Ok(intervals)
}

/// Hands each interval of a log to `take`, in the order written, one at a time: a long run's
/// log holds a histogram per tag and second, too many to hold at once (a 15-minute, 4-node
/// log took 2 GiB read whole).
pub fn for_each(
    log: &[u8],
    mut take: impl FnMut(Interval) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut deserializer = Deserializer::new();
    for_each_encoded(log, |encoded| {
        let histogram = decode(&mut deserializer, &encoded.base64)?;
        take(Interval {
            tag: encoded.tag,
            start: encoded.start,
            length: encoded.length,
            histogram,
        })
    })
}

/// One interval of a log with its histogram still encoded (base64 of V2 deflate): a few
/// hundred bytes where the decoded histogram holds tens of kilobytes of counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    pub tag: String,
    pub start: Duration,
    pub length: Duration,
    pub base64: String,
}

/// Hands each interval of a log to `take` without decoding its histogram.
pub fn for_each_encoded(
    log: &[u8],
    mut take: impl FnMut(Encoded) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for entry in IntervalLogIterator::new(log) {
        let entry = entry.map_err(|e| anyhow::anyhow!("latency.hlog: unreadable line: {e:?}"))?;
        let LogEntry::Interval(interval) = entry else {
            continue;
        };
        take(Encoded {
            tag: interval
                .tag()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            start: interval.start_timestamp(),
            length: interval.duration(),
            base64: interval.encoded_histogram().to_owned(),
        })?;
    }
    Ok(())
}

/// An interval's histogram from its base64 text.
pub fn decode(
    deserializer: &mut Deserializer,
    base64_text: &str,
) -> anyhow::Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_text)
        .context("latency.hlog: a histogram is not base64")?;
    deserializer
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("latency.hlog: a histogram does not decode: {e:?}"))
}

/// Adds `from`'s recorded buckets into `into` (histograms of one layout, as a log's are): a
/// second's few buckets, where `Histogram::add` walks every bucket of the layout (with a
/// histogram per tag and second, that walk was the whole cost of reading an hour's log).
pub fn add_recorded(into: &mut Histogram<u64>, from: &Histogram<u64>) -> anyhow::Result<()> {
    for bucket in from.iter_recorded() {
        into.record_n(bucket.value_iterated_to(), bucket.count_at_value())
            .map_err(|e| anyhow::anyhow!("latency.hlog: {e:?}"))?;
    }
    Ok(())
}

/// The intervals of several logs added: one per tag and start (to the millisecond), in start
/// then tag order. Logs of one run's shards start their intervals at the same whole seconds;
/// where lengths differ (a shard's last, partial second; a second a busy aggregator closed
/// late), the merged interval takes the longest.
pub fn add(logs: &[Vec<Interval>]) -> anyhow::Result<Vec<Interval>> {
    let mut merged: BTreeMap<(u128, String), Interval> = BTreeMap::new();
    for interval in logs.iter().flatten() {
        let key = (interval.start.as_millis(), interval.tag.clone());
        match merged.get_mut(&key) {
            Some(into) => {
                into.length = into.length.max(interval.length);
                into.histogram
                    .add(&interval.histogram)
                    .map_err(|e| anyhow::anyhow!("latency.hlog: {e:?}"))?;
            }
            None => {
                merged.insert(key, interval.clone());
            }
        }
    }
    Ok(merged.into_values().collect())
}

/// Writes `intervals` as an interval log whose base time is `started`.
pub fn write(
    intervals: &[Interval],
    started: SystemTime,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut serializer = V2DeflateSerializer::new();
    let mut log = IntervalLogWriterBuilder::new()
        .with_start_time(started)
        .with_base_time(started)
        .begin_log_with(out, &mut serializer)?;
    for interval in intervals {
        let tag = Tag::new(&interval.tag);
        log.write_histogram(&interval.histogram, interval.start, interval.length, tag)
            .map_err(|e| anyhow::anyhow!("latency.hlog: {e:?}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn histogram() -> Histogram<u64> {
        Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Adding a histogram's recorded buckets gives what `Histogram::add` gives: every
        /// bucket's count, so every percentile and the maximum.
        #[test]
        fn adding_recorded_buckets_equals_add(
            first in prop::collection::vec(1u64..20_000_000, 0..200),
            second in prop::collection::vec(1u64..20_000_000, 1..200),
        ) {
            let (mut by_add, mut by_buckets, mut other) = (histogram(), histogram(), histogram());
            for value in first {
                by_add.record(value).unwrap();
                by_buckets.record(value).unwrap();
            }
            for value in second {
                other.record(value).unwrap();
            }
            by_add.add(&other).unwrap();
            add_recorded(&mut by_buckets, &other).unwrap();
            prop_assert_eq!(by_add, by_buckets);
        }

        /// Samples split at random over N logs, each written and read back, then added, give
        /// the histogram of all samples recorded in one: every count, percentile and maximum.
        #[test]
        fn adding_split_logs_equals_recording_in_one(
            samples in prop::collection::vec((0u8..2, 0u64..4, 1u64..20_000_000, 0usize..4), 1..400),
            logs in 1usize..5,
        ) {
            let tags = ["a:1/payment", "b:2/receipt"];
            let mut whole: BTreeMap<(u64, usize), Histogram<u64>> = BTreeMap::new();
            let mut split: Vec<BTreeMap<(u64, usize), Histogram<u64>>> = vec![BTreeMap::new(); logs];
            for (tag, second, value, log) in samples {
                let key = (second, usize::from(tag));
                whole.entry(key).or_insert_with(histogram).record(value).unwrap();
                split[log % logs].entry(key).or_insert_with(histogram).record(value).unwrap();
            }
            let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
            let mut read_back = Vec::new();
            for shard in &split {
                let intervals: Vec<Interval> = shard
                    .iter()
                    .map(|((second, tag), h)| Interval {
                        tag: tags[*tag].to_owned(),
                        start: Duration::from_secs(*second),
                        length: Duration::from_secs(1),
                        histogram: h.clone(),
                    })
                    .collect();
                let mut log = Vec::new();
                write(&intervals, started, &mut log).unwrap();
                read_back.push(read(&log).unwrap());
            }
            let merged = add(&read_back).unwrap();
            prop_assert_eq!(merged.len(), whole.len());
            for interval in merged {
                let tag = tags.iter().position(|t| *t == interval.tag).unwrap();
                let expected = &whole[&(interval.start.as_secs(), tag)];
                prop_assert_eq!(interval.histogram.len(), expected.len());
                prop_assert_eq!(interval.histogram.max(), expected.max());
                for quantile in [0.5, 0.9, 0.99, 0.999] {
                    prop_assert_eq!(
                        interval.histogram.value_at_quantile(quantile),
                        expected.value_at_quantile(quantile)
                    );
                }
                prop_assert!(interval.histogram == *expected);
            }
        }
    }

    #[test]
    fn intervals_of_different_lengths_take_the_longest() {
        let interval = |length, value| {
            let mut histogram = histogram();
            histogram.record(value).unwrap();
            Interval {
                tag: "t".to_owned(),
                start: Duration::from_secs(7),
                length: Duration::from_millis(length),
                histogram,
            }
        };
        let merged = add(&[vec![interval(1_000, 5)], vec![interval(400, 9)]]).unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].length, Duration::from_secs(1));
        assert_eq!(merged[0].histogram.len(), 2);
        assert_eq!(merged[0].histogram.max(), 9);
    }
}
