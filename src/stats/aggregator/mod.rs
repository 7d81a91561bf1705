//! The aggregator task: the only owner of histograms and counters. Workers hand samples over
//! with `try_send` (a full channel drops the sample and counts it: load generation never waits
//! on bookkeeping); the task drains them in batches and publishes a snapshot every tick.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

mod exact;
mod windows;

pub use windows::{Window, WindowSnapshot, Windows};

use super::histogram::{CLASSIC_BOUNDS_US, HistogramPool, LatencyHistogram, Percentiles};
use super::snapshot::{NodeSnapshot, OpSnapshot, SecondSample, StatsSnapshot};
use super::{Outcome, Sample, micros_between};
use crate::client::ErrorClass;
use crate::model::{NodeId, Op, PerDirection};

/// Seconds of per-node history kept for charts.
const HISTORY_SECONDS: usize = 300;
/// Samples waiting for the aggregator: 3 s at 20,000 a second.
const CHANNEL_CAPACITY: usize = 65_536;
/// How often the aggregator takes the samples waiting in its channel.
const DRAIN_EVERY: Duration = Duration::from_millis(10);
/// Buckets of the latency histogram the dashboard draws.
const HISTOGRAM_BUCKETS: usize = 16;

/// Where workers send samples; cheap to clone.
#[derive(Clone, Debug)]
pub struct StatsHandle {
    tx: mpsc::Sender<Sample>,
    dropped: Arc<AtomicU64>,
}

impl StatsHandle {
    /// A handle with no aggregator behind it: every sample counts as dropped. For driving a
    /// workload in a unit test.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn detached() -> Self {
        let (tx, _) = mpsc::channel(1);
        Self {
            tx,
            dropped: Arc::default(),
        }
    }

    /// Hands a sample over without waiting; counts it as dropped if the aggregator is behind.
    pub fn record(&self, sample: Sample) {
        if self.tx.try_send(sample).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
struct OpStats {
    count: u64,
    ok: u64,
    errors: BTreeMap<ErrorClass, u64>,
    latency: LatencyHistogram,
    service: LatencyHistogram,
}

impl OpStats {
    fn record(&mut self, sample: &Sample) {
        self.count += 1;
        match &sample.outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Failed { class, .. } => *self.errors.entry(*class).or_default() += 1,
        }
        self.latency
            .record(micros_between(sample.intended, sample.done));
        self.service
            .record(micros_between(sample.sent, sample.done));
    }

    fn snapshot(&self) -> OpSnapshot {
        OpSnapshot {
            count: self.count,
            ok: self.ok,
            errors: self.errors.clone(),
            latency: self.latency.percentiles(),
            service: self.service.percentiles(),
            buckets: self.latency.buckets(HISTOGRAM_BUCKETS),
            classic: self.latency.classic(&CLASSIC_BOUNDS_US),
        }
    }
}

#[derive(Default)]
struct NodeStats {
    ops: BTreeMap<Op, OpStats>,
    /// Every POST operation, and every GET, kept merged as samples arrive: snapshots then
    /// allocate no histogram (each is ~180 KB; merging per snapshot churned megabytes a second).
    post: OpStats,
    get: OpStats,
    current: SecondSample,
    /// The open second's latency, POSTs and GETs.
    current_latency: PerDirection<LatencyHistogram>,
    /// Send-time error (actual send minus the slot's intended time).
    send_error: PerDirection<LatencyHistogram>,
    history: VecDeque<SecondSample>,
}

/// The seconds closed since the last interval: their latency histograms (from intended send)
/// per node and operation, for the HDR interval log, and their counts.
#[derive(Debug)]
pub struct Interval {
    /// Offset of the interval's start from the run's start.
    pub start: Duration,
    /// Offset of its end: a whole second, but for the run's last interval.
    pub end: Duration,
    /// `(second, node, operation, histogram)`: the answers of that second (by the time they
    /// came), like the per-second counts, so that a second's histogram and its counts agree.
    pub histograms: Vec<(u64, NodeId, Op, LatencyHistogram)>,
    /// Where [`Interval::recycle`] returns the histograms.
    pub pool: HistogramPool,
    /// Latency of all nodes together per second that had requests, POSTs and GETs apart
    /// (node rows have theirs in [`SecondSample`]).
    pub total_latency: PerDirection<Vec<(u64, Percentiles)>>,
    /// Every node's per-second counts for the seconds this interval closes (at the end of the
    /// run: the last, partial second too).
    pub seconds: Vec<(NodeId, SecondSample)>,
    /// Whether this is the run's last interval.
    pub last: bool,
}

impl Interval {
    /// Hands the histograms back to the aggregator for the next intervals.
    pub fn recycle(&mut self) {
        for (_, _, _, histogram) in self.histograms.drain(..) {
            self.pool.give(histogram);
        }
    }
}

/// Latency of all nodes in the open second, and the closed seconds not yet handed over.
#[derive(Default)]
struct TotalLatency {
    second: u64,
    open: LatencyHistogram,
    closed: Vec<(u64, Percentiles)>,
}

impl TotalLatency {
    fn roll_to(&mut self, second: u64) {
        if self.second < second {
            if !self.open.is_empty() {
                self.closed.push((self.second, self.open.percentiles()));
                self.open.reset();
            }
            self.second = second;
        }
    }
}

/// Every histogram and counter of a run; owned by the aggregator task (public for benchmarks of
/// sample recording and snapshot building).
pub struct Aggregator {
    started: Instant,
    /// Per operation, all nodes, kept merged as samples arrive.
    op_totals: BTreeMap<Op, OpStats>,
    /// Send-time error of all nodes, POSTs and GETs apart.
    send_error: PerDirection<LatencyHistogram>,
    interval_start: Duration,
    /// The open seconds' histograms, by second of answer, node and operation.
    interval: HashMap<(u64, NodeId, Op), LatencyHistogram>,
    pool: HistogramPool,
    total_latency: PerDirection<TotalLatency>,
    intervals: Option<mpsc::Sender<Interval>>,
    nodes: HashMap<NodeId, NodeStats>,
    error_codes: BTreeMap<String, u64>,
    dropped: Arc<AtomicU64>,
    windows: windows::WindowState,
}

impl Aggregator {
    /// An empty aggregator of a run started at `started`; `intervals` receives each second's
    /// histograms when given.
    #[must_use]
    pub fn new(
        started: Instant,
        intervals: Option<mpsc::Sender<Interval>>,
        dropped: Arc<AtomicU64>,
    ) -> Self {
        Self {
            started,
            op_totals: BTreeMap::new(),
            send_error: PerDirection::default(),
            interval_start: Duration::ZERO,
            interval: HashMap::new(),
            pool: HistogramPool::default(),
            total_latency: PerDirection::default(),
            intervals,
            nodes: HashMap::new(),
            error_codes: BTreeMap::new(),
            dropped,
            windows: windows::WindowState::default(),
        }
    }

    fn second_of(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_secs()
    }

    /// Adds one sample to every histogram and counter it belongs to.
    pub fn record(&mut self, sample: &Sample) {
        let second = self.second_of(sample.done);
        let node = self.nodes.entry(sample.node).or_default();
        roll_to(node, second);
        node.ops.entry(sample.op).or_default().record(sample);
        if sample.op.is_post() {
            node.post.record(sample);
        } else if sample.op.is_request() {
            node.get.record(sample);
        }
        self.op_totals.entry(sample.op).or_default().record(sample);
        let ok = sample.outcome == Outcome::Ok;
        let current = &mut node.current;
        let latency = micros_between(sample.intended, sample.done);
        let direction = sample.op.direction();
        match direction {
            None if ok => current.confirmed += 1,
            None => {}
            Some(direction) => {
                if ok {
                    current.ok[direction] += 1;
                } else {
                    current.failed[direction] += 1;
                }
                let send_error = micros_between(sample.intended, sample.sent);
                node.send_error[direction].record(send_error);
                self.send_error[direction].record(send_error);
                node.current_latency[direction].record(latency);
            }
        }
        // The per-second histograms only exist for a recorder to write.
        if self.intervals.is_some() {
            if let Some(direction) = direction {
                let total = &mut self.total_latency[direction];
                total.roll_to(second);
                total.open.record(latency);
            }
            let pool = &self.pool;
            self.interval
                .entry((second, sample.node, sample.op))
                .or_insert_with(|| pool.take())
                .record(latency);
        }
        if let Outcome::Failed { class, .. } = &sample.outcome {
            node.current.errors[class.index()] += 1;
        }
        if let Outcome::Failed { class, code } = &sample.outcome {
            let key = code.clone().unwrap_or_else(|| class.as_str().to_owned());
            *self.error_codes.entry(key).or_default() += 1;
        }
        self.record_window(sample);
    }

    /// Hands the current interval's histograms over when a second boundary has passed (or
    /// always, at the end).
    fn emit_interval(&mut self, now: Instant, last: bool) {
        let elapsed = now.saturating_duration_since(self.started);
        let boundary = Duration::from_secs(elapsed.as_secs());
        let end = if last { elapsed } else { boundary };
        if end <= self.interval_start {
            return;
        }
        if self.intervals.is_none() {
            return;
        }
        let first_second = self.interval_start.as_secs();
        let mut seconds = Vec::new();
        for (&id, node) in &mut self.nodes {
            roll_to(node, boundary.as_secs());
            seconds.extend(
                node.history
                    .iter()
                    .filter(|s| s.second >= first_second)
                    .map(|s| (id, *s)),
            );
            if last {
                let mut open = node.current;
                open.latency = node
                    .current_latency
                    .each_ref()
                    .map(LatencyHistogram::percentiles);
                seconds.push((id, open));
            }
        }
        seconds.sort_by_key(|(id, s)| (s.second, *id));
        let total_latency = self.total_latency.each_mut().map(|total| {
            total.roll_to(boundary.as_secs());
            let mut closed = std::mem::take(&mut total.closed);
            if last && !total.open.is_empty() {
                closed.push((total.second, total.open.percentiles()));
            }
            closed
        });
        let closed: Vec<(u64, NodeId, Op)> = self
            .interval
            .keys()
            .filter(|(second, _, _)| last || *second < boundary.as_secs())
            .copied()
            .collect();
        let mut histograms: Vec<(u64, NodeId, Op, LatencyHistogram)> = closed
            .into_iter()
            .filter_map(|key| {
                let histogram = self.interval.remove(&key)?;
                Some((key.0, key.1, key.2, histogram))
            })
            .collect();
        histograms.sort_by_key(|(second, node, op, _)| (*second, *node, *op));
        let interval = Interval {
            start: self.interval_start,
            end,
            histograms,
            pool: self.pool.clone(),
            total_latency,
            seconds,
            last,
        };
        let Some(intervals) = &self.intervals else {
            return;
        };
        // A full channel means the writer is stuck; the interval is lost, the run goes on.
        let _ = intervals.try_send(interval);
        self.interval_start = end;
    }

    /// Everything measured so far, as the faces read it.
    pub fn snapshot(&mut self, now: Instant) -> StatsSnapshot {
        let second = self.second_of(now);
        let mut nodes: Vec<NodeSnapshot> = Vec::with_capacity(self.nodes.len());
        for (&id, node) in &mut self.nodes {
            roll_to(node, second);
            nodes.push(NodeSnapshot {
                id,
                ops: node.ops.iter().map(|(op, s)| (*op, s.snapshot())).collect(),
                post: node.post.snapshot(),
                get: node.get.snapshot(),
                confirmed: node.ops.get(&Op::Confirm).map_or(0, |c| c.ok),
                last_second: node.history.back().copied().unwrap_or_default(),
                send_error: node
                    .send_error
                    .each_ref()
                    .map(LatencyHistogram::percentiles),
                history: node.history.iter().copied().collect(),
            });
        }
        nodes.sort_by_key(|n| n.id);
        StatsSnapshot {
            elapsed: now.saturating_duration_since(self.started),
            nodes,
            ops: self
                .op_totals
                .iter()
                .map(|(op, s)| (*op, s.snapshot()))
                .collect(),
            error_codes: self.error_codes.clone(),
            send_error: self
                .send_error
                .each_ref()
                .map(LatencyHistogram::percentiles),
            dropped_samples: self.dropped.load(Ordering::Relaxed),
            windows: self.window_snapshots(),
        }
    }
}

/// Closes the node's open second(s) up to `second`, keeping the history bounded.
fn roll_to(node: &mut NodeStats, second: u64) {
    while node.current.second < second {
        let mut closed = node.current;
        closed.latency = node
            .current_latency
            .each_ref()
            .map(LatencyHistogram::percentiles);
        node.current_latency.post.reset();
        node.current_latency.get.reset();
        node.history.push_back(closed);
        if node.history.len() > HISTORY_SECONDS {
            node.history.pop_front();
        }
        node.current = SecondSample {
            second: closed.second + 1,
            ..SecondSample::default()
        };
    }
}

/// What the aggregator task ends with: the last snapshot, and the aggregator itself (for
/// [`Aggregator::measurements`]).
pub type FinalStats = (Arc<StatsSnapshot>, Aggregator);

/// Starts the aggregator: samples in through the handle, a snapshot out every `tick`, and (if
/// `intervals` is given) each second's histograms. On `stop` it drains what was sent, emits the
/// last partial interval and returns the final snapshot and itself (for [`Measurements`]).
pub fn spawn_aggregator(
    started: Instant,
    tick: Duration,
    stop: CancellationToken,
    intervals: Option<mpsc::Sender<Interval>>,
    windows: Option<watch::Receiver<Windows>>,
) -> (
    StatsHandle,
    watch::Receiver<Arc<StatsSnapshot>>,
    JoinHandle<FinalStats>,
) {
    let (tx, mut rx) = mpsc::channel::<Sample>(CHANNEL_CAPACITY);
    let dropped = Arc::new(AtomicU64::new(0));
    let (snapshot_tx, snapshot_rx) = watch::channel(Arc::new(StatsSnapshot::default()));
    let mut aggregator = Aggregator::new(started, intervals, Arc::clone(&dropped));
    if let Some(windows) = windows {
        aggregator.measure_windows(windows);
    }
    let task = tokio::spawn(async move {
        // The channel is drained on a clock, not on arrival: waiting on `recv` made every
        // sample (or every few, at 20,000/s) wake and schedule this task; a drain every
        // DRAIN_EVERY takes them in batches of hundreds. The channel holds seconds of samples.
        let mut drain = tokio::time::interval(DRAIN_EVERY.min(tick));
        drain.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut next_snapshot = Instant::now() + tick;
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                _ = drain.tick() => {}
            }
            aggregator.refresh_windows();
            while let Ok(sample) = rx.try_recv() {
                aggregator.record(&sample);
            }
            let now = Instant::now();
            if now >= next_snapshot {
                next_snapshot = (next_snapshot + tick).max(now);
                aggregator.emit_interval(now, false);
                let _ = snapshot_tx.send(Arc::new(aggregator.snapshot(now)));
            }
        }
        while let Ok(sample) = rx.try_recv() {
            aggregator.record(&sample);
        }
        let now = Instant::now();
        aggregator.emit_interval(now, true);
        let last = Arc::new(aggregator.snapshot(now));
        let _ = snapshot_tx.send(Arc::clone(&last));
        aggregator.intervals = None;
        (last, aggregator)
    });
    (StatsHandle { tx, dropped }, snapshot_rx, task)
}

#[cfg(test)]
mod tests;
