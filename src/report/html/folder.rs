//! A finished results folder read back for its page: `summary.json` (the fields the page shows),
//! `timeseries.csv`, `events.log` and `latency.hlog`. Reading the files, not the run's memory,
//! is what lets `stress-tui report DIR` draw any folder again, a merged one included, with the
//! same code as the run that wrote it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::Deserialize;

use crate::report::hlog;
use crate::report::summary_json::{MergedJson, ShardJson};

/// A folder's files, as the page needs them.
pub struct RunFolder {
    pub name: String,
    pub summary: SummaryView,
    /// `summary.json` as written, for the configuration table.
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Rows of `timeseries.csv`, in file order (per second: the nodes, then `total`).
    pub seconds: Vec<SecondView>,
    pub events: Vec<EventLine>,
    /// Every interval of `latency.hlog` added per tag (`<node>/<operation>`): the run's whole
    /// latency distribution of each node's operation.
    pub spectra: BTreeMap<String, Histogram<u64>>,
    /// When the run's second 0 was (the interval log's start time).
    pub started: Option<std::time::SystemTime>,
    /// The folder's files that are missing or empty, which the page cannot show.
    pub missing: Vec<&'static str>,
}

/// The fields of `summary.json` the page shows (schema: `assets/summary.schema.json`).
#[derive(Debug, Deserialize)]
pub struct SummaryView {
    pub version: String,
    pub ending: String,
    pub elapsed_s: f64,
    pub failure: Option<String>,
    #[serde(default)]
    pub shard: Option<ShardJson>,
    #[serde(default)]
    pub merged: Option<MergedJson>,
    pub write_surface: Option<SurfaceView>,
    pub phases: Vec<PhaseView>,
    pub generator: GeneratorView,
    pub transactions: TransactionsView,
    pub nodes: Vec<NodeView>,
    pub send_error: BTreeMap<String, Option<PercentilesView>>,
    pub verify: Option<VerifyView>,
    pub thresholds: Vec<ThresholdView>,
    /// A capacity search's steps and verdict (`--find-capacity`).
    #[serde(default)]
    pub capacity: Option<CapacityView>,
}

#[derive(Debug, Deserialize)]
pub struct CapacityView {
    pub held_post_rate: Option<u64>,
    pub broke_post_rate: Option<u64>,
    #[serde(default)]
    pub broken: Vec<String>,
    pub first_node: Option<String>,
    #[serde(default)]
    pub first_node_broke: Vec<String>,
    pub generator_limited: Option<String>,
    pub steps: Vec<CapacityStepView>,
}

#[derive(Debug, Deserialize)]
pub struct CapacityStepView {
    pub index: u64,
    pub post_rate: u64,
    pub held: bool,
    pub generator_limited: Option<String>,
    pub figures: Vec<CapacityFigureView>,
}

#[derive(Debug, Deserialize)]
pub struct CapacityFigureView {
    pub scope: String,
    pub ok_per_s: f64,
    pub error_pct: f64,
    pub post_p99_ms: Option<f64>,
    #[serde(default)]
    pub broke: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct SurfaceView {
    /// None in a read-only run.
    pub surface: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PhaseView {
    pub phase: String,
    pub duration_s: f64,
    pub total: u64,
    pub confirmed: u64,
    pub failed: u64,
    pub cpu_s: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct GeneratorView {
    pub cpu_s: Option<f64>,
    pub peak_rss_kib: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct TransactionsView {
    pub submitted: u64,
    pub confirmed: u64,
    pub failed: u64,
}

#[derive(Debug, Deserialize)]
pub struct NodeView {
    /// Set for a node removed during the run: when, seconds on the run's clock.
    #[serde(default)]
    pub removed_at_s: Option<f64>,
    pub label: String,
    pub url: String,
    pub health: String,
    pub target_rates: Rates,
    pub post: DirectionView,
    pub get: DirectionView,
    pub post_pacing: PacingView,
    pub get_pacing: PacingView,
    pub confirmed: u64,
}

#[derive(Debug, Deserialize)]
pub struct Rates {
    pub post: u64,
    pub get: u64,
}

#[derive(Debug, Deserialize)]
pub struct DirectionView {
    pub count: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub latency: Option<PercentilesView>,
}

#[derive(Debug, Deserialize)]
pub struct PacingView {
    pub offered: u64,
    pub sent: u64,
    pub missed: u64,
    pub unfilled: u64,
}

#[derive(Clone, Copy, Debug, Deserialize)]
pub struct PercentilesView {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

#[derive(Debug, Deserialize)]
pub struct VerifyView {
    pub checked: u64,
    pub matched: u64,
    pub mismatched: u64,
    pub unread: u64,
    pub expected_supply: Option<String>,
    pub reported_supply: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ThresholdView {
    pub threshold: String,
    pub passed: bool,
    pub note: String,
}

/// One row of `timeseries.csv` (the columns the charts draw).
#[derive(Clone, Debug, Deserialize)]
pub struct SecondView {
    pub second: u64,
    pub node: String,
    pub target_post: f64,
    pub target_get: f64,
    pub post_offered: f64,
    pub post_sent: f64,
    pub post_missed: f64,
    pub post_unfilled: f64,
    pub get_offered: f64,
    pub get_sent: f64,
    pub get_missed: f64,
    pub get_unfilled: f64,
    pub post_ok: f64,
    pub get_ok: f64,
    pub confirmed: f64,
    pub errors: f64,
    pub rejected: f64,
    pub rate_limited: f64,
    pub server_error: f64,
    pub timeout: f64,
    pub connect: f64,
    pub decode: f64,
    pub lost: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// The row name of all nodes together.
pub const TOTAL: &str = "total";

/// One line of `events.log`: seconds on the run's clock and what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    pub at: f64,
    pub text: String,
}

impl EventLine {
    /// The phase a `phase X` line enters (a merged run's lines carry a `[shard I/N]` prefix).
    #[must_use]
    pub fn phase(&self) -> Option<&str> {
        let text = match self.text.strip_prefix('[') {
            Some(rest) => rest.split_once("] ").map_or(self.text.as_str(), |(_, t)| t),
            None => &self.text,
        };
        text.strip_prefix("phase ")
    }
}

/// Parses `events.log` (`   12.345s text`); lines that are not events are left out.
#[must_use]
pub fn parse_events(text: &str) -> Vec<EventLine> {
    text.lines()
        .filter_map(|line| {
            let (at, text) = line.trim_start().split_once("s ")?;
            Some(EventLine {
                at: at.parse().ok()?,
                text: text.to_owned(),
            })
        })
        .collect()
}

impl RunFolder {
    /// Reads a finished results folder; it must hold `summary.json` and `timeseries.csv`.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let shown = dir.display();
        if !dir.is_dir() {
            anyhow::bail!("{shown}: no such folder");
        }
        let summary_path = dir.join("summary.json");
        let text = std::fs::read_to_string(&summary_path).map_err(|_| {
            anyhow::anyhow!(
                "{shown} holds no summary.json: not a finished stress-tui results folder"
            )
        })?;
        let summary: SummaryView = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a stress-tui summary", summary_path.display()))?;
        let whole: serde_json::Value = serde_json::from_str(&text)?;
        let config = whole
            .get("config")
            .and_then(serde_json::Value::as_object)
            .cloned()
            .unwrap_or_default();
        let series_path = dir.join("timeseries.csv");
        let mut reader = csv::Reader::from_path(&series_path)
            .with_context(|| format!("reading {}", series_path.display()))?;
        let seconds = reader
            .deserialize()
            .collect::<Result<Vec<SecondView>, _>>()
            .with_context(|| format!("{}: unexpected columns", series_path.display()))?;
        let mut missing = Vec::new();
        if seconds.is_empty() {
            missing.push("timeseries.csv");
        }
        let events = if let Ok(text) = std::fs::read_to_string(dir.join("events.log")) {
            parse_events(&text)
        } else {
            missing.push("events.log");
            Vec::new()
        };
        let hlog_path = dir.join("latency.hlog");
        let (spectra, started) = if let Ok(bytes) = std::fs::read(&hlog_path) {
            let spectra = whole_run_histograms(&bytes)
                .with_context(|| format!("reading {}", hlog_path.display()))?;
            (spectra, hlog_start(&bytes))
        } else {
            missing.push("latency.hlog");
            (BTreeMap::new(), None)
        };
        let name = std::fs::canonicalize(dir)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| shown.to_string());
        Ok(Self {
            name,
            summary,
            config,
            seconds,
            events,
            spectra,
            started,
            missing,
        })
    }

    /// Every node of the run, numbered as `--at` and thresholds number them: the run's first
    /// nodes in their order, then those added during it. The summary names the nodes in the
    /// pool at the end; only the timeseries still names those removed during the run.
    #[must_use]
    pub fn node_labels(&self) -> Vec<&str> {
        let mut labels: Vec<&str> = self
            .summary
            .nodes
            .iter()
            .map(|n| n.label.as_str())
            .collect();
        for row in &self.seconds {
            if row.node != TOTAL && !labels.contains(&row.node.as_str()) {
                labels.push(&row.node);
            }
        }
        let first: Vec<String> = self
            .config
            .get("nodes")
            .and_then(serde_json::Value::as_array)
            .map(|urls| {
                urls.iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(|url| {
                        let host = url.split_once("://").map_or(url, |(_, rest)| rest);
                        host.trim_end_matches('/').to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default();
        labels.sort_by_key(|label| first.iter().position(|f| f == label).unwrap_or(usize::MAX));
        labels
    }

    /// The summary's entry of a node still in the pool at the end.
    #[must_use]
    pub fn node(&self, label: &str) -> Option<&NodeView> {
        self.summary.nodes.iter().find(|n| n.label == label)
    }

    /// How long the node was down, in seconds, from the events (`node X down: ...` until
    /// `node X answers again`, or the end of the run's events).
    #[must_use]
    pub fn down_for(&self, label: &str) -> f64 {
        let (down, back) = (
            format!("node {label} down:"),
            format!("node {label} answers again"),
        );
        let end = self.events.iter().map(|e| e.at).fold(0.0, f64::max);
        let mut since: Option<f64> = None;
        let mut total = 0.0;
        for event in &self.events {
            if event.text.starts_with(&down) {
                since = since.or(Some(event.at));
            } else if event.text == back
                && let Some(from) = since.take()
            {
                total += event.at - from;
            }
        }
        total + since.map_or(0.0, |from| end - from)
    }

    /// A column summed over the run's `total` rows.
    pub fn total_of(&self, column: impl Fn(&SecondView) -> f64) -> f64 {
        self.rows_of(TOTAL).map(column).sum()
    }

    /// One node's (or [`TOTAL`]'s) rows.
    pub fn rows_of<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a SecondView> + 'a {
        self.seconds.iter().filter(move |row| row.node == node)
    }
}

/// The `#[StartTime: 1796161792.795 (seconds since epoch)]` of an interval log.
fn hlog_start(log: &[u8]) -> Option<std::time::SystemTime> {
    let head = log.get(..log.len().min(4096))?;
    let text = String::from_utf8_lossy(head);
    let line = text.lines().find(|l| l.starts_with("#[StartTime: "))?;
    let seconds: f64 = line
        .strip_prefix("#[StartTime: ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    std::time::UNIX_EPOCH.checked_add(std::time::Duration::try_from_secs_f64(seconds).ok()?)
}

/// Each tag's intervals of a log added into one histogram, read one at a time.
fn whole_run_histograms(log: &[u8]) -> anyhow::Result<BTreeMap<String, Histogram<u64>>> {
    let mut whole: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
    hlog::for_each(log, |interval| {
        match whole.get_mut(&interval.tag) {
            Some(into) => hlog::add_recorded(into, &interval.histogram)?,
            None => {
                whole.insert(interval.tag, interval.histogram);
            }
        }
        Ok(())
    })?;
    Ok(whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_time_adds_each_outage_and_an_open_one_runs_to_the_end() {
        let events = parse_events(
            "    2.000s node 127.0.0.1:1 down: nothing is sent to it until it answers again\n    \
             5.500s node 127.0.0.1:1 answers again\n    9.000s node 127.0.0.1:1 down: nothing is \
             sent to it until it answers again\n   10.000s node 127.0.0.1:2 down: nothing is sent \
             to it until it answers again\n   12.000s phase done\n",
        );
        let folder = RunFolder {
            name: String::new(),
            summary: serde_json::from_value(serde_json::json!({
                "version": "0", "ending": "completed", "elapsed_s": 12.0, "failure": null,
                "write_surface": null, "phases": [], "generator": {"cpu_s": null, "peak_rss_kib": null},
                "transactions": {"submitted": 0, "confirmed": 0, "failed": 0}, "nodes": [],
                "send_error": {}, "verify": null, "thresholds": []
            }))
            .unwrap(),
            config: serde_json::Map::new(),
            seconds: Vec::new(),
            events,
            spectra: BTreeMap::new(),
            started: None,
            missing: Vec::new(),
        };
        assert!(
            (folder.down_for("127.0.0.1:1") - 6.5).abs() < 1e-9,
            "3.5 s + 3 s to the end"
        );
        assert!((folder.down_for("127.0.0.1:2") - 2.0).abs() < 1e-9);
        assert!(folder.down_for("127.0.0.1:3").abs() < 1e-9);
    }

    #[test]
    fn events_and_their_phases() {
        let events = parse_events(
            "    0.000s phase issue\n    2.500s [shard 1/3] phase mint\n   12.010s removed node 127.0.0.1:9\nnot an event\n",
        );
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].phase(), Some("issue"));
        assert_eq!(events[1].phase(), Some("mint"));
        assert_eq!(events[2].phase(), None);
        assert!((events[2].at - 12.01).abs() < 1e-9);
    }
}
