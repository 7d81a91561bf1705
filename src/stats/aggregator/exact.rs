//! The aggregator's state as [`Measurements`] and back: what a shard writes, and what
//! `stress-tui merge` adds into one aggregator.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context;

use super::{Aggregator, OpStats};
use crate::model::NodeId;
use crate::stats::measurements::NodeMeasurements;
use crate::stats::measurements::{EncodedHistogram, Measurements, OpMeasurements};

impl OpStats {
    fn add(&mut self, other: &OpStats) {
        self.count += other.count;
        self.ok += other.ok;
        for (class, n) in &other.errors {
            *self.errors.entry(*class).or_default() += n;
        }
        self.latency.add(&other.latency);
        self.service.add(&other.service);
    }

    fn measurements(&self) -> OpMeasurements {
        OpMeasurements {
            count: self.count,
            ok: self.ok,
            errors: self.errors.clone(),
            latency: EncodedHistogram::encode(&self.latency),
            service: EncodedHistogram::encode(&self.service),
        }
    }

    fn from_measurements(m: &OpMeasurements) -> anyhow::Result<Self> {
        Ok(Self {
            count: m.count,
            ok: m.ok,
            errors: m.errors.clone(),
            latency: m.latency.decode()?,
            service: m.service.decode()?,
        })
    }
}

impl Aggregator {
    /// The measurements so far as data that adds exactly (see [`Measurements`]); nodes named
    /// by `label_of`.
    #[must_use]
    pub fn measurements(&self, label_of: impl Fn(NodeId) -> String) -> Measurements {
        let nodes = self
            .nodes
            .iter()
            .map(|(&id, node)| {
                let own = NodeMeasurements {
                    ops: node
                        .ops
                        .iter()
                        .map(|(op, s)| (*op, s.measurements()))
                        .collect(),
                    send_error: node.send_error.each_ref().map(EncodedHistogram::encode),
                };
                (label_of(id), own)
            })
            .collect();
        Measurements {
            nodes,
            error_codes: self.error_codes.clone(),
            dropped_samples: self.dropped.load(Ordering::Relaxed),
        }
    }

    /// An aggregator holding the sum of `parts` (nodes numbered by `ids`), as if it had
    /// recorded all their samples: its snapshot is the one a single run of them all would have
    /// shown. No per-second history: that lives in the timeseries.
    pub fn from_measurements<'a>(
        parts: impl IntoIterator<Item = &'a Measurements>,
        ids: &BTreeMap<String, NodeId>,
        started: Instant,
    ) -> anyhow::Result<Self> {
        let mut aggregator = Self::new(started, None, Arc::default());
        for part in parts {
            aggregator.add_measurements(part, ids)?;
        }
        Ok(aggregator)
    }

    fn add_measurements(
        &mut self,
        measurements: &Measurements,
        ids: &BTreeMap<String, NodeId>,
    ) -> anyhow::Result<()> {
        let aggregator = self;
        aggregator
            .dropped
            .fetch_add(measurements.dropped_samples, Ordering::Relaxed);
        for (code, n) in &measurements.error_codes {
            *aggregator.error_codes.entry(code.clone()).or_default() += n;
        }
        for (label, node) in &measurements.nodes {
            let id = *ids.get(label).with_context(|| {
                format!("node {label} has measurements but no place in the pool")
            })?;
            let stats = aggregator.nodes.entry(id).or_default();
            for (op, m) in &node.ops {
                let op_stats = OpStats::from_measurements(m)?;
                if op.is_post() {
                    stats.post.add(&op_stats);
                } else if op.is_request() {
                    stats.get.add(&op_stats);
                }
                aggregator.op_totals.entry(*op).or_default().add(&op_stats);
                stats.ops.entry(*op).or_default().add(&op_stats);
            }
            for direction in crate::model::Direction::BOTH {
                let send_error = node.send_error[direction].decode()?;
                stats.send_error[direction].add(&send_error);
                aggregator.send_error[direction].add(&send_error);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::client::ErrorClass;
    use crate::model::Op;
    use crate::stats::{Outcome, Sample, StatsSnapshot};

    const OPS: [Op; 4] = [Op::Payment, Op::Receipt, Op::Mint, Op::Confirm];

    fn sample(
        start: Instant,
        (node, op, ok, send_us, answer_us): (u8, usize, bool, u64, u64),
    ) -> Sample {
        let intended = start + Duration::from_micros(u64::from(node) * 7);
        Sample {
            node: NodeId::from(node),
            op: OPS[op],
            outcome: if ok {
                Outcome::Ok
            } else {
                Outcome::Failed {
                    class: ErrorClass::ALL[op],
                    code: (op % 2 == 0).then(|| format!("code{op}")),
                }
            },
            intended,
            sent: intended + Duration::from_micros(send_us),
            done: intended + Duration::from_micros(send_us + answer_us),
        }
    }

    /// Everything but the per-second history, which merged measurements do not carry.
    fn totals(mut snapshot: StatsSnapshot) -> StatsSnapshot {
        for node in &mut snapshot.nodes {
            node.history.clear();
            node.last_second = crate::stats::SecondSample::default();
        }
        snapshot
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Samples split over 3 shards, each written as measurements (through JSON) and added
        /// back, give the snapshot of one aggregator that recorded them all: every count,
        /// percentile and maximum.
        #[test]
        fn split_measurements_add_up_to_the_whole(
            samples in prop::collection::vec(
                ((0u8..3, 0usize..4, any::<bool>(), 0u64..5_000, 1u64..2_000_000), 0usize..3),
                1..400,
            )
        ) {
            let start = Instant::now();
            let mut whole = Aggregator::new(start, None, Arc::default());
            let mut shards: Vec<Aggregator> =
                (0..3).map(|_| Aggregator::new(start, None, Arc::default())).collect();
            for (fields, shard) in &samples {
                let sample = sample(start, *fields);
                whole.record(&sample);
                shards[*shard].record(&sample);
            }
            let label = |id: NodeId| format!("127.0.0.1:{}", 9000 + id);
            let written: Vec<Measurements> = shards
                .iter()
                .map(|a| {
                    let json = serde_json::to_string(&a.measurements(label)).unwrap();
                    serde_json::from_str(&json).unwrap()
                })
                .collect();
            let ids: BTreeMap<String, NodeId> = (0..3u32).map(|id| (label(id), id)).collect();
            let mut merged = Aggregator::from_measurements(&written, &ids, start).unwrap();
            let now = start + Duration::from_secs(10);
            prop_assert_eq!(totals(merged.snapshot(now)), totals(whole.snapshot(now)));
        }
    }
}
