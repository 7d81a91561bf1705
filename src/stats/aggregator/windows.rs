//! Measurement windows: spans of intended send time (the capacity search's steps) whose
//! samples are also counted apart, per node and operation, so that a step is judged on its own
//! samples only. A sample belongs to the window its intended send time falls in; answers that
//! come after the window closed still count for it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::watch;

use super::{Aggregator, OpStats};
use crate::model::{NodeId, Op, PerDirection};
use crate::stats::histogram::{LatencyHistogram, Percentiles};
use crate::stats::{OpSnapshot, Sample, micros_between};

/// One window: from `start`, until `end` (open while `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: Instant,
    pub end: Option<Instant>,
}

impl Window {
    fn holds(&self, at: Instant) -> bool {
        at >= self.start && self.end.is_none_or(|end| at < end)
    }
}

/// The windows so far, in order; whoever measures in windows publishes them.
pub type Windows = Arc<Vec<Window>>;

/// One window's measurements, as the snapshot shows them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WindowSnapshot {
    /// Per node, per operation.
    pub nodes: BTreeMap<NodeId, BTreeMap<Op, OpSnapshot>>,
    /// Send-time error of the window's requests, all nodes.
    pub send_error: PerDirection<Percentiles>,
}

/// A window's samples.
#[derive(Default)]
pub(super) struct WindowStats {
    nodes: BTreeMap<NodeId, BTreeMap<Op, OpStats>>,
    send_error: PerDirection<LatencyHistogram>,
    /// Samples since its last snapshot.
    changed: bool,
}

/// The aggregator's windows: what they are, what they hold, and their last snapshots.
#[derive(Default)]
pub(super) struct WindowState {
    plan: Option<watch::Receiver<Windows>>,
    current: Windows,
    stats: Vec<WindowStats>,
    shown: Vec<WindowSnapshot>,
}

impl Aggregator {
    /// Counts samples in the windows `plan` publishes, besides everything else.
    pub fn measure_windows(&mut self, plan: watch::Receiver<Windows>) {
        self.windows.plan = Some(plan);
    }

    /// Takes the latest windows (once per drain, not per sample).
    pub(super) fn refresh_windows(&mut self) {
        if let Some(plan) = &mut self.windows.plan
            && plan.has_changed().unwrap_or(false)
        {
            self.windows.current = Arc::clone(&plan.borrow_and_update());
        }
    }

    /// Counts `sample` in the window its intended send time falls in, if any.
    pub(super) fn record_window(&mut self, sample: &Sample) {
        let state = &mut self.windows;
        let Some(index) = state.current.iter().rposition(|w| w.holds(sample.intended)) else {
            return;
        };
        if state.stats.len() <= index {
            state.stats.resize_with(index + 1, WindowStats::default);
        }
        let window = &mut state.stats[index];
        window
            .nodes
            .entry(sample.node)
            .or_default()
            .entry(sample.op)
            .or_default()
            .record(sample);
        if let Some(direction) = sample.op.direction() {
            window.send_error[direction].record(micros_between(sample.intended, sample.sent));
        }
        window.changed = true;
    }

    /// Every window's snapshot; only those with new samples are computed again.
    pub(super) fn window_snapshots(&mut self) -> Vec<WindowSnapshot> {
        let state = &mut self.windows;
        state
            .shown
            .resize_with(state.stats.len(), WindowSnapshot::default);
        for (window, shown) in state.stats.iter_mut().zip(&mut state.shown) {
            if window.changed {
                window.changed = false;
                *shown = WindowSnapshot {
                    nodes: window
                        .nodes
                        .iter()
                        .map(|(node, ops)| {
                            (
                                *node,
                                ops.iter().map(|(op, s)| (*op, s.snapshot())).collect(),
                            )
                        })
                        .collect(),
                    send_error: window
                        .send_error
                        .each_ref()
                        .map(LatencyHistogram::percentiles),
                };
            }
        }
        state.shown.clone()
    }
}
