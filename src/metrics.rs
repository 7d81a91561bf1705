//! `/metrics` for Prometheus (`--metrics-addr`): the run's latest snapshots in the Prometheus
//! text format (0.0.4), written at each scrape. Nothing is counted twice: every value is read
//! from the statistics, pool and workload snapshots the dashboard and the results files read,
//! so `/metrics` agrees with `summary.json`.
//!
//! Metric names take the `stress_tui_` prefix; counters end in `_total`, durations are in
//! seconds. Labels are bounded: `node` (a pool node's `host:port`), `direction` (`post`,
//! `get`), `operation` (the 11 operations), `outcome` (`ok` or an error class), `phase`. The
//! latency histograms' classic buckets (0.1 ms to 10 s) are counted from the HDR histograms to
//! their 3 significant digits.
//!
//! Written here, not with `prometheus-client`: that crate writes the `OpenMetrics` format only,
//! whose counter families are named without `_total`; `promtool check metrics` (Prometheus 2.42,
//! Debian's) then reports "no help text" for every counter of it. The Prometheus text format
//! is a few lines of escaping, and every scraper reads it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use std::fmt::Write;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::client::ErrorClass;
use crate::engine::{DirectionCounters, NodeView, PoolView};
use crate::model::{Direction, NodeId, Op, Phase, UsageError};
use crate::stats::{CLASSIC_BOUNDS_US, Classic, NodeSnapshot, OpSnapshot, StatsSnapshot};
use crate::workload::{Workload, WorkloadStatus};

/// The Prometheus text format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every phase, for the `stress_tui_phase` state set.
const PHASES: [Phase; 8] = [
    Phase::Issue,
    Phase::Grant,
    Phase::Mint,
    Phase::Transfer,
    Phase::Sustained,
    Phase::Reads,
    Phase::Verify,
    Phase::Done,
];

/// What a scrape reads.
#[derive(Clone)]
pub struct Sources {
    pub stats: watch::Receiver<Arc<StatsSnapshot>>,
    pub pool: watch::Receiver<Arc<PoolView>>,
    pub workload: Arc<Workload>,
    /// Every node's label ever seen, so that a removed node's counters keep their label.
    labels: Arc<Mutex<BTreeMap<NodeId, String>>>,
    /// With `--shard`: `I/N`, a label on every series (a shard's counters are its own).
    shard: Option<String>,
}

impl Sources {
    #[must_use]
    pub fn new(
        stats: watch::Receiver<Arc<StatsSnapshot>>,
        pool: watch::Receiver<Arc<PoolView>>,
        workload: Arc<Workload>,
    ) -> Self {
        Self {
            stats,
            pool,
            workload,
            labels: Arc::default(),
            shard: None,
        }
    }

    /// Labels every series with `shard="I/N"`.
    #[must_use]
    pub fn with_shard(mut self, shard: Option<crate::model::Shard>) -> Self {
        self.shard = shard.map(|s| s.to_string());
        self
    }

    /// The exposition of the latest snapshots.
    #[must_use]
    pub fn exposition(&self) -> String {
        let stats = Arc::clone(&self.stats.borrow());
        let pool = Arc::clone(&self.pool.borrow());
        let labels = {
            let mut labels = self.labels.lock().unwrap_or_else(PoisonError::into_inner);
            for node in &pool.nodes {
                labels.insert(node.id, node.label.clone());
            }
            labels.clone()
        };
        let mut text = exposition(&stats, &pool, &self.workload.status(), &labels);
        if let Some(shard) = &self.shard {
            text = with_constant_label(&text, "shard", shard);
        }
        text
    }
}

/// `text` with `name="value"` as the first label of every sample (`value` needs no escaping:
/// `I/N`).
fn with_constant_label(text: &str, name: &str, value: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for line in text.lines() {
        if line.starts_with('#') {
            out.push_str(line);
        } else if let Some(brace) = line.find('{') {
            let _ = write!(
                out,
                "{}{{{name}=\"{value}\",{}",
                &line[..brace],
                &line[brace + 1..]
            );
        } else if let Some((metric, rest)) = line.split_once(' ') {
            let _ = write!(out, "{metric}{{{name}=\"{value}\"}} {rest}");
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The exposition of one set of snapshots; `labels` names every node the statistics know.
#[must_use]
pub fn exposition(
    stats: &StatsSnapshot,
    pool: &PoolView,
    status: &WorkloadStatus,
    labels: &BTreeMap<NodeId, String>,
) -> String {
    let label = |id: NodeId| {
        labels
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("node{id}"))
    };
    let mut out = Exposition::default();
    for (name, help, read) in PACER_COUNTERS {
        out.family(name, help, "counter");
        for node in &pool.nodes {
            for direction in Direction::BOTH {
                let value = read(node.counters.direction(direction));
                out.sample(
                    name,
                    &[("node", &node.label), ("direction", direction.as_str())],
                    value as f64,
                );
            }
        }
    }
    let nodes: Vec<(String, &NodeSnapshot)> =
        stats.nodes.iter().map(|n| (label(n.id), n)).collect();
    out.family(
        "stress_tui_responses_total",
        "Requests answered or failed, by outcome: ok or the error class.",
        "counter",
    );
    for (node, snapshot) in &nodes {
        for (op, figures) in snapshot.ops.iter().filter(|(op, _)| **op != Op::Confirm) {
            for (outcome, count) in outcomes(figures) {
                out.sample(
                    "stress_tui_responses_total",
                    &[
                        ("node", node),
                        ("operation", op.as_str()),
                        ("outcome", outcome),
                    ],
                    count as f64,
                );
            }
        }
    }
    out.family(
        "stress_tui_confirmed_total",
        "Transactions confirmed (by receipt or checkpoint).",
        "counter",
    );
    for (node, snapshot) in &nodes {
        out.sample(
            "stress_tui_confirmed_total",
            &[("node", node)],
            snapshot.confirmed as f64,
        );
    }
    out.family(
        "stress_tui_latency_seconds",
        "Latency from the intended send time (confirm: from submission to the receipt).",
        "histogram",
    );
    for (node, snapshot) in &nodes {
        for (op, figures) in &snapshot.ops {
            out.histogram(
                "stress_tui_latency_seconds",
                &[("node", node), ("operation", op.as_str())],
                &figures.classic,
            );
        }
    }
    for (name, help, read) in POOL_GAUGES {
        out.family(name, help, "gauge");
        for node in &pool.nodes {
            for direction in Direction::BOTH {
                out.sample(
                    name,
                    &[("node", &node.label), ("direction", direction.as_str())],
                    read(node, direction),
                );
            }
        }
    }
    out.family(
        "stress_tui_phase",
        "1 for the phase the run is in, 0 for the others.",
        "gauge",
    );
    for phase in PHASES {
        let current = f64::from(u8::from(phase == status.phase));
        out.sample("stress_tui_phase", &[("phase", phase.as_str())], current);
    }
    out.family(
        "stress_tui_dropped_samples_total",
        "Samples not counted because the statistics task was behind.",
        "counter",
    );
    out.sample(
        "stress_tui_dropped_samples_total",
        &[],
        stats.dropped_samples as f64,
    );
    out.text
}

type PacerCounter = (&'static str, &'static str, fn(&DirectionCounters) -> u64);

/// The pacers' counters, per node and direction.
const PACER_COUNTERS: [PacerCounter; 4] = [
    (
        "stress_tui_offered_total",
        "Slots that had work for the node: sent + missed.",
        |c| c.offered.load(Ordering::Relaxed),
    ),
    ("stress_tui_sent_total", "Requests sent.", |c| {
        c.sent.load(Ordering::Relaxed)
    }),
    (
        "stress_tui_missed_total",
        "Slots dropped: late beyond the schedule, node down, or in-flight cap reached.",
        |c| c.missed.load(Ordering::Relaxed),
    ),
    (
        "stress_tui_unfilled_total",
        "Slots that found no work ready: the workload, not the node, held the rate back.",
        |c| c.unfilled.load(Ordering::Relaxed),
    ),
];

type PoolGauge = (&'static str, &'static str, fn(&NodeView, Direction) -> f64);

/// The pool's gauges, per node and direction.
const POOL_GAUGES: [PoolGauge; 3] = [
    (
        "stress_tui_target_rate_per_second",
        "The node's target rate.",
        |node, d| f64::from(node.rates[d]),
    ),
    (
        "stress_tui_in_flight",
        "Requests awaiting an answer.",
        |node, d| f64::from(node.counters.direction(d).in_flight.load(Ordering::Relaxed)),
    ),
    (
        "stress_tui_schedule_lag_seconds",
        "How late the last slot was sent.",
        |node, d| node.counters.direction(d).lag_us.load(Ordering::Relaxed) as f64 / 1e6,
    ),
];

/// Prometheus text being written.
#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, help: &str, kind: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{key}=\"");
                for c in value.chars() {
                    match c {
                        '\\' => self.text.push_str("\\\\"),
                        '"' => self.text.push_str("\\\""),
                        '\n' => self.text.push_str("\\n"),
                        c => self.text.push(c),
                    }
                }
                self.text.push('"');
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// A classic histogram: cumulative buckets, `+Inf`, sum and count.
    fn histogram(&mut self, name: &str, labels: &[(&str, &str)], classic: &Classic) {
        let bucket = format!("{name}_bucket");
        for (bound, cumulative) in CLASSIC_BOUNDS_US.iter().zip(&classic.cumulative) {
            let le = (*bound as f64 / 1e6).to_string();
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            self.sample(&bucket, &with_le, *cumulative as f64);
        }
        let mut with_le = labels.to_vec();
        with_le.push(("le", "+Inf"));
        self.sample(&bucket, &with_le, classic.count as f64);
        self.sample(&format!("{name}_sum"), labels, classic.sum_us / 1e6);
        self.sample(&format!("{name}_count"), labels, classic.count as f64);
    }
}

/// Binds `--metrics-addr` before any traffic: a port in use is a usage error.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, UsageError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| UsageError::new(format!("--metrics-addr `{addr}`: cannot listen: {e}")))
}

/// Serves `GET /metrics` on `listener` until `stop`.
pub fn serve(listener: TcpListener, sources: Sources, stop: CancellationToken) {
    let router = Router::new()
        .route("/metrics", get(scrape))
        .with_state(sources);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
    });
}

async fn scrape(State(sources): State<Sources>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], sources.exposition())
}

/// An operation's answers by outcome: `ok`, then every error class (zero included, so that a
/// rate over them is defined from the first scrape).
fn outcomes(op: &OpSnapshot) -> Vec<(&'static str, u64)> {
    std::iter::once(("ok", op.ok))
        .chain(
            ErrorClass::ALL
                .iter()
                .map(|class| (class.as_str(), op.errors.get(class).copied().unwrap_or(0))),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{NodeCounters, NodeView};

    #[test]
    fn a_shard_label_goes_on_every_sample() {
        let text = "# HELP a_total x\n# TYPE a_total counter\na_total{node=\"n\"} 3\nb 1\n";
        assert_eq!(
            with_constant_label(text, "shard", "1/3"),
            "# HELP a_total x\n# TYPE a_total counter\na_total{shard=\"1/3\",node=\"n\"} 3\nb{shard=\"1/3\"} 1\n"
        );
    }

    #[test]
    fn labels_are_escaped_and_histograms_are_cumulative_with_inf() {
        let mut out = Exposition::default();
        out.sample("x_total", &[("node", "a\"b\\c\nd")], 3.0);
        assert_eq!(out.text, "x_total{node=\"a\\\"b\\\\c\\nd\"} 3\n");
        let mut out = Exposition::default();
        let classic = Classic {
            cumulative: vec![0, 0, 0, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4],
            count: 5,
            sum_us: 2_500_000.0,
        };
        out.histogram("h_seconds", &[("op", "p")], &classic);
        let lines: Vec<&str> = out.text.lines().collect();
        assert_eq!(lines[0], "h_seconds_bucket{op=\"p\",le=\"0.0001\"} 0");
        assert_eq!(lines[3], "h_seconds_bucket{op=\"p\",le=\"0.001\"} 1");
        assert_eq!(lines[4], "h_seconds_bucket{op=\"p\",le=\"0.0025\"} 3");
        assert_eq!(lines[15], "h_seconds_bucket{op=\"p\",le=\"10\"} 4");
        assert_eq!(lines[16], "h_seconds_bucket{op=\"p\",le=\"+Inf\"} 5");
        assert_eq!(lines[17], "h_seconds_sum{op=\"p\"} 2.5");
        assert_eq!(lines[18], "h_seconds_count{op=\"p\"} 5");
    }

    #[test]
    fn a_removed_node_keeps_its_counters_under_its_label() {
        let mut stats = StatsSnapshot::default();
        for id in [0, 1] {
            let mut node = NodeSnapshot {
                id,
                confirmed: 7,
                ..NodeSnapshot::default()
            };
            node.ops.insert(
                Op::Payment,
                OpSnapshot {
                    count: 9,
                    ok: 8,
                    errors: [(ErrorClass::Timeout, 1)].into(),
                    ..OpSnapshot::default()
                },
            );
            stats.nodes.push(node);
        }
        let view = NodeView {
            id: 0,
            label: "127.0.0.1:1".to_owned(),
            url: "http://127.0.0.1:1".to_owned(),
            rates: crate::model::PerDirection { post: 5, get: 2 },
            effective: crate::model::PerDirection::default(),
            counters: Arc::new(NodeCounters::default()),
        };
        let pool = PoolView {
            nodes: vec![view],
            ..PoolView::default()
        };
        let labels = [(0, "127.0.0.1:1".to_owned()), (1, "127.0.0.1:2".to_owned())].into();
        let status = crate::workload::WorkloadStatus::for_tests(Phase::Sustained);
        let text = exposition(&stats, &pool, &status, &labels);
        for line in [
            "stress_tui_responses_total{node=\"127.0.0.1:2\",operation=\"payment\",outcome=\"ok\"} 8",
            "stress_tui_responses_total{node=\"127.0.0.1:2\",operation=\"payment\",outcome=\"timeout\"} 1",
            "stress_tui_confirmed_total{node=\"127.0.0.1:2\"} 7",
            "stress_tui_target_rate_per_second{node=\"127.0.0.1:1\",direction=\"post\"} 5",
            "stress_tui_phase{phase=\"sustained\"} 1",
            "stress_tui_phase{phase=\"done\"} 0",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
