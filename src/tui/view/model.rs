//! What the dashboard draws, computed once per frame from the snapshots: plain numbers, so
//! that drawing is pure and tests build it from fixtures.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::engine::{Health, PoolView, SlotTotals};
use crate::model::{Direction, NodeId, Op, PerDirection, Phase};
use crate::stats::{OpSnapshot, StatsSnapshot};
use crate::workload::WorkloadStatus;

/// One row of the nodes table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeRow {
    pub id: NodeId,
    pub label: String,
    pub health: Option<Health>,
    pub target: PerDirection<u32>,
    /// What the pacers run at: differs from `target` while carrying a down node's share.
    pub effective: PerDirection<u32>,
    /// Per second, POST side: slots with work, requests sent, successes, confirmations.
    pub offered: f64,
    pub sent: f64,
    /// Slots a second that found no account ready: the workload, not the node, held them.
    pub unfilled: f64,
    pub ok: f64,
    pub confirmed: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub errors: u64,
    pub in_flight: u64,
    pub lag_us: u64,
}

/// Phase progress for the gauges.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhaseLine {
    pub phase: String,
    pub done: u64,
    pub total: u64,
    pub finished: bool,
}

/// Everything one frame shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View {
    pub elapsed_s: u64,
    pub phase: String,
    pub phase_done: u64,
    pub phase_total: u64,
    pub phase_failed: u64,
    pub phases: Vec<PhaseLine>,
    pub paused: bool,
    /// What happens to a down node's share: "keep" or "redistribute".
    pub policy: String,
    pub finished: bool,
    pub failure: Option<String>,
    pub nodes: Vec<NodeRow>,
    pub total: NodeRow,
    /// Whose figures the node rows and the TPS chart show: POSTs, or GETs in a read-only run.
    pub focus: Direction,
    /// POST successes a second over the last minute: (label, points (second, value)).
    pub tps: Vec<(String, Vec<(f64, f64)>)>,
    /// Latency of the histogram's node and operation.
    pub histogram_title: String,
    pub histogram: OpSnapshot,
    /// Errors by class and by `error_code`.
    pub error_classes: Vec<(String, u64)>,
    pub error_codes: Vec<(String, u64)>,
    /// The latest events (the engine's and the workload's), oldest first: "12.3s text".
    pub events: Vec<String>,
    /// The write surface and the nodes' modes, e.g. `writes /v2: dual 3, v2_only 1`; empty in
    /// a read-only run.
    pub surface: String,
    pub dropped_samples: u64,
    /// Why the workload, not the nodes, holds the POST rate back, while it does.
    pub held_back: Option<String>,
}

/// Slot rates of one node's pacer, a second.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PacerRates {
    pub offered: f64,
    pub sent: f64,
    pub unfilled: f64,
}

/// The phases whose POST slots the workload fills from its accounts: a shortage of ready
/// accounts there is the workload's, and the user can change it (issue and grant are the
/// operator's own few transactions).
const ACCOUNT_PHASES: [Phase; 3] = [Phase::Mint, Phase::Transfer, Phase::Sustained];

/// The header's note when the workload holds the POST rate back: over 5 % of the rate set (and
/// at least 2 a second) of the slots found no account ready, in a phase that fills slots from
/// accounts, not paused.
#[must_use]
pub fn held_back_note(
    phase: Phase,
    paused: bool,
    target_post: u32,
    unfilled: f64,
) -> Option<String> {
    let target = f64::from(target_post);
    if paused || !ACCOUNT_PHASES.contains(&phase) || target == 0.0 {
        return None;
    }
    (unfilled >= 2.0 && unfilled > 0.05 * target).then(|| {
        format!(
            "the workload holds the rate back: {unfilled:.0} of {target_post} POST slots/s find \
             no account ready (each awaits confirmation): raise --in-flight-per-account or the \
             wallets"
        )
    })
}

/// Turns cumulative pacer counters into per-second rates between frames.
#[derive(Debug, Default)]
pub struct RateTracker {
    /// Whose counters: POSTs, or GETs in a read-only run.
    direction: Direction,
    last: HashMap<NodeId, (Instant, SlotTotals)>,
    rates: HashMap<NodeId, PacerRates>,
}

impl RateTracker {
    /// Rates of the pacers of one direction.
    #[must_use]
    pub fn new(direction: Direction) -> Self {
        Self {
            direction,
            ..Self::default()
        }
    }

    /// Samples the counters; rates update at most once a second so the numbers are readable.
    pub fn sample(&mut self, pool: &PoolView, now: Instant) {
        for node in &pool.nodes {
            let totals = node.counters.totals(self.direction);
            match self.last.get(&node.id) {
                Some(&(at, last)) => {
                    let secs = now.saturating_duration_since(at).as_secs_f64();
                    if secs >= 1.0 {
                        let slots = totals - last;
                        self.rates.insert(
                            node.id,
                            PacerRates {
                                offered: slots.offered as f64 / secs,
                                sent: slots.sent as f64 / secs,
                                unfilled: slots.unfilled as f64 / secs,
                            },
                        );
                        self.last.insert(node.id, (now, totals));
                    }
                }
                None => {
                    self.last.insert(node.id, (now, totals));
                }
            }
        }
    }

    #[must_use]
    pub fn rates(&self, id: NodeId) -> PacerRates {
        self.rates.get(&id).copied().unwrap_or_default()
    }
}

fn post_errors(op: &OpSnapshot) -> u64 {
    op.error_count()
}

impl View {
    /// Builds a frame's view; `histogram` picks the node (`None` = all) and operation.
    #[must_use]
    pub fn build(
        stats: &StatsSnapshot,
        pool: &PoolView,
        status: &WorkloadStatus,
        rates: &RateTracker,
        histogram: (Option<NodeId>, Op),
        finished: bool,
    ) -> Self {
        let focus = Direction::shown(status.read_only);
        let (nodes, total) = Self::node_rows(stats, pool, rates, focus);
        let tps = Self::tps_series(stats, pool, focus);
        let (histogram_node, op) = histogram;
        let (histogram_title, histogram) =
            match histogram_node.and_then(|id| pool.nodes.iter().find(|n| n.id == id)) {
                Some(node) => (
                    format!("{} · {}", op.as_str(), node.label),
                    stats
                        .node(node.id)
                        .and_then(|s| s.ops.get(&op))
                        .cloned()
                        .unwrap_or_default(),
                ),
                None => (
                    format!("{} · all nodes", op.as_str()),
                    stats.ops.get(&op).cloned().unwrap_or_default(),
                ),
            };
        let mut error_classes: std::collections::BTreeMap<String, u64> =
            std::collections::BTreeMap::new();
        for op in stats.ops.values() {
            for (class, count) in &op.errors {
                *error_classes.entry(class.as_str().to_owned()).or_default() += count;
            }
        }
        let mut error_codes: Vec<(String, u64)> = stats
            .error_codes
            .iter()
            .map(|(c, n)| (c.clone(), *n))
            .collect();
        error_codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let phases = Self::phase_lines(status);
        let held_back = if focus == Direction::Post {
            held_back_note(status.phase, pool.paused, total.target.post, total.unfilled)
        } else {
            None
        };
        Self {
            elapsed_s: stats.elapsed.as_secs(),
            phase: match (status.starts_in, &status.stage) {
                (Some(wait), _) => format!("ready, load in {}s", wait.as_secs_f64().ceil()),
                (None, Some(stage)) => format!("{} · {stage}", status.phase),
                (None, None) => status.phase.as_str().to_owned(),
            },
            phase_done: status.phase_done,
            phase_total: status.phase_total,
            phase_failed: status.phase_failed,
            phases,
            paused: pool.paused,
            policy: match pool.policy {
                crate::model::FailurePolicy::Keep => "keep".to_owned(),
                crate::model::FailurePolicy::Redistribute => "redistribute".to_owned(),
            },
            finished,
            failure: status.failure.clone(),
            nodes,
            total,
            focus,
            tps,
            histogram_title,
            histogram,
            error_classes: error_classes.into_iter().collect(),
            error_codes,
            events: Self::event_lines(pool, status),
            surface: Self::surface_text(pool, status),
            dropped_samples: stats.dropped_samples,
            held_back,
        }
    }

    /// The engine's recent events and the workload's (surface switches), in time order.
    fn event_lines(pool: &PoolView, status: &WorkloadStatus) -> Vec<String> {
        let mut events: Vec<(std::time::Duration, &str)> = pool
            .events
            .iter()
            .map(|e| (e.at, e.text.as_str()))
            .chain(status.events.iter().map(|(at, text)| (*at, text.as_str())))
            .collect();
        events.sort_by_key(|(at, _)| *at);
        let skip = events.len().saturating_sub(crate::engine::RECENT_EVENTS);
        events
            .into_iter()
            .skip(skip)
            .map(|(at, text)| format!("{:>6.1}s {text}", at.as_secs_f64()))
            .collect()
    }

    /// `writes /v2: dual 3, v2_only 1`: the run's surface and how many nodes are in each mode.
    fn surface_text(pool: &PoolView, status: &WorkloadStatus) -> String {
        if status.read_only {
            return String::new();
        }
        let mut modes: std::collections::BTreeMap<String, usize> =
            std::collections::BTreeMap::new();
        for node in &pool.nodes {
            *modes.entry(status.node_mode_text(node.id)).or_default() += 1;
        }
        let modes: Vec<String> = modes
            .into_iter()
            .map(|(mode, count)| format!("{mode} {count}"))
            .collect();
        format!("writes /{}: {}", status.write_surface, modes.join(", "))
    }

    fn node_rows(
        stats: &StatsSnapshot,
        pool: &PoolView,
        rates: &RateTracker,
        focus: Direction,
    ) -> (Vec<NodeRow>, NodeRow) {
        let mut nodes = Vec::with_capacity(pool.nodes.len());
        let mut total = NodeRow {
            label: "total".to_owned(),
            ..NodeRow::default()
        };
        for node in &pool.nodes {
            let snapshot = stats.node(node.id);
            let PacerRates {
                offered,
                sent,
                unfilled,
            } = rates.rates(node.id);
            let second = snapshot.map(|s| s.last_second).unwrap_or_default();
            let counters = node.counters.direction(focus);
            let requests = snapshot.map(|s| s.direction(focus));
            let row = NodeRow {
                id: node.id,
                label: node.label.clone(),
                health: Some(node.health()),
                target: node.rates,
                effective: node.effective,
                offered,
                sent,
                unfilled,
                ok: second.ok[focus] as f64,
                confirmed: second.confirmed as f64,
                p50_us: requests.map_or(0, |r| r.latency.p50),
                p99_us: requests.map_or(0, |r| r.latency.p99),
                errors: snapshot.map_or(0, |s| post_errors(&s.post) + s.get.error_count()),
                in_flight: u64::from(counters.in_flight.load(Ordering::Relaxed)),
                lag_us: counters.lag_us.load(Ordering::Relaxed),
            };
            total.target += row.target;
            total.effective += row.effective;
            total.offered += row.offered;
            total.sent += row.sent;
            total.unfilled += row.unfilled;
            total.ok += row.ok;
            total.confirmed += row.confirmed;
            total.errors += row.errors;
            total.in_flight += row.in_flight;
            total.lag_us = total.lag_us.max(row.lag_us);
            total.p99_us = total.p99_us.max(row.p99_us);
            total.p50_us = total.p50_us.max(row.p50_us);
            nodes.push(row);
        }
        (nodes, total)
    }

    fn tps_series(
        stats: &StatsSnapshot,
        pool: &PoolView,
        focus: Direction,
    ) -> Vec<(String, Vec<(f64, f64)>)> {
        let mut tps: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        let mut sums: std::collections::BTreeMap<u64, f64> = std::collections::BTreeMap::new();
        for node in &pool.nodes {
            if let Some(snapshot) = stats.node(node.id) {
                let points: Vec<(f64, f64)> = snapshot
                    .history
                    .iter()
                    .rev()
                    .take(60)
                    .rev()
                    .map(|s| (s.second as f64, s.answered(focus) as f64))
                    .collect();
                for (second, value) in &points {
                    *sums.entry(second.to_bits()).or_default() += value;
                }
                tps.push((node.label.clone(), points));
            }
        }
        let mut total_points: Vec<(f64, f64)> = sums
            .into_iter()
            .map(|(bits, v)| (f64::from_bits(bits), v))
            .collect();
        total_points.sort_by(|a, b| a.0.total_cmp(&b.0));
        if tps.len() > 1 {
            tps.push(("total".to_owned(), total_points));
        }
        tps
    }

    fn phase_lines(status: &WorkloadStatus) -> Vec<PhaseLine> {
        let mut lines: Vec<PhaseLine> = status
            .reports
            .iter()
            .map(|r| PhaseLine {
                phase: r.phase.as_str().to_owned(),
                done: r.confirmed,
                total: r.total,
                finished: true,
            })
            .collect();
        if status.phase != Phase::Done {
            lines.push(PhaseLine {
                phase: status.phase.as_str().to_owned(),
                done: status.phase_done,
                total: status.phase_total,
                finished: false,
            });
        }
        lines
    }
}
