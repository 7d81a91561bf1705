//! What the aggregator publishes: plain data, cheap to clone behind an `Arc`, drawn by the
//! faces without locks or clocks.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::histogram::{Classic, Percentiles};
use crate::client::ErrorClass;
use crate::model::{Direction, NodeId, Op, PerDirection};

/// One operation's totals (for one node, or merged over nodes).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OpSnapshot {
    pub count: u64,
    pub ok: u64,
    pub errors: BTreeMap<ErrorClass, u64>,
    /// From the intended send time to the answer (coordinated-omission corrected).
    pub latency: Percentiles,
    /// From the actual send to the answer.
    pub service: Percentiles,
    /// Latency counts in log-spaced buckets: (upper bound µs, count), for drawing.
    pub buckets: Vec<(u64, u64)>,
    /// Latency as a classic histogram at [`super::CLASSIC_BOUNDS_US`], for `/metrics`.
    pub classic: Classic,
}

impl OpSnapshot {
    #[must_use]
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// One node's completions in one second of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SecondSample {
    /// Seconds since the run started; this sample covers [second, second + 1).
    pub second: u64,
    /// Requests answered ok, POSTs and GETs.
    pub ok: PerDirection<u64>,
    /// Requests that failed, POSTs and GETs.
    pub failed: PerDirection<u64>,
    pub confirmed: u64,
    /// Failed requests of that second by class, indexed like [`ErrorClass::ALL`].
    pub errors: [u64; ErrorClass::ALL.len()],
    /// Latency (from intended send) of that second, POSTs and GETs.
    pub latency: PerDirection<Percentiles>,
}

impl SecondSample {
    /// Requests of one direction answered in that second (ok or not).
    #[must_use]
    pub fn answered(&self, direction: Direction) -> u64 {
        self.ok[direction] + self.failed[direction]
    }
}

impl NodeSnapshot {
    /// Every operation of one direction merged.
    #[must_use]
    pub fn direction(&self, direction: Direction) -> &OpSnapshot {
        match direction {
            Direction::Post => &self.post,
            Direction::Get => &self.get,
        }
    }
}

/// One node's measurements.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeSnapshot {
    pub id: NodeId,
    pub ops: BTreeMap<Op, OpSnapshot>,
    /// Every POST operation merged.
    pub post: OpSnapshot,
    /// Every GET operation merged.
    pub get: OpSnapshot,
    pub confirmed: u64,
    pub last_second: SecondSample,
    /// Send-time error (actual send minus intended slot time).
    pub send_error: PerDirection<Percentiles>,
    /// The last seconds, oldest first (bounded).
    pub history: Vec<SecondSample>,
}

/// Everything measured so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StatsSnapshot {
    pub elapsed: Duration,
    pub nodes: Vec<NodeSnapshot>,
    /// Per operation, all nodes merged.
    pub ops: BTreeMap<Op, OpSnapshot>,
    /// Error counts by `error_code` (or class name when the node sent none), all nodes.
    pub error_codes: BTreeMap<String, u64>,
    /// Send-time error of all nodes.
    pub send_error: PerDirection<Percentiles>,
    /// Samples the workers could not hand over because the aggregator was behind.
    pub dropped_samples: u64,
    /// The measurement windows' (the capacity search's steps), in order.
    pub windows: Vec<super::WindowSnapshot>,
}

impl StatsSnapshot {
    #[must_use]
    pub fn node(&self, id: NodeId) -> Option<&NodeSnapshot> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// All nodes' last complete second, summed.
    #[must_use]
    pub fn last_second_total(&self) -> SecondSample {
        let mut total = SecondSample::default();
        for node in &self.nodes {
            let s = &node.last_second;
            total.second = total.second.max(s.second);
            for direction in Direction::BOTH {
                total.ok[direction] += s.ok[direction];
                total.failed[direction] += s.failed[direction];
            }
            total.confirmed += s.confirmed;
        }
        total
    }

    #[must_use]
    pub fn total_errors(&self) -> u64 {
        self.ops.values().map(OpSnapshot::error_count).sum()
    }
}
