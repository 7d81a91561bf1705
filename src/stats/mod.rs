//! Measurements: every request becomes a [`Sample`] sent (never awaited) to one aggregator task
//! that owns every HDR histogram; the aggregator publishes a [`StatsSnapshot`] several times a
//! second through a `watch` channel, which the headless progress line, the dashboard and the
//! reports read.
//!
//! Latency is recorded twice: service time (sent → answered) and latency from the intended
//! send time (slot → answered), so that a node that falls behind its schedule cannot hide
//! behind coordinated omission. Histograms are in microseconds, 3 significant digits, one per
//! node and operation, merged with `add`.

mod aggregator;
mod histogram;
mod measurements;
mod snapshot;

use std::time::Instant;

pub use aggregator::{
    Aggregator, FinalStats, Interval, StatsHandle, Window, WindowSnapshot, Windows,
    spawn_aggregator,
};
pub use histogram::{CLASSIC_BOUNDS_US, Classic, HistogramPool, LatencyHistogram, Percentiles};
pub use measurements::{EncodedHistogram, Measurements, NodeMeasurements, OpMeasurements};
pub use snapshot::{NodeSnapshot, OpSnapshot, SecondSample, StatsSnapshot};

use crate::client::ErrorClass;
use crate::model::{NodeId, Op};

/// How a request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed {
        class: ErrorClass,
        code: Option<String>,
    },
}

/// One measured request (or confirmation).
#[derive(Clone, Debug)]
pub struct Sample {
    pub node: NodeId,
    pub op: Op,
    pub outcome: Outcome,
    /// When the schedule meant it to be sent (for a confirmation: when it was submitted).
    pub intended: Instant,
    pub sent: Instant,
    pub done: Instant,
}

/// Microseconds between two instants, saturating at 0 (one tested conversion for all units).
#[must_use]
pub fn micros_between(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn micros_between_saturates() {
        let now = Instant::now();
        assert_eq!(micros_between(now, now + Duration::from_millis(3)), 3_000);
        assert_eq!(micros_between(now + Duration::from_millis(3), now), 0);
    }
}
