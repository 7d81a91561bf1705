//! `shard.json`: what a shard's results folder holds for `stress-tui merge` beyond its ordinary
//! files: the run it belongs to, its clock, and every figure of its report as data that adds
//! exactly (counts, slot totals, whole histograms; see [`Measurements`]). Written last, after
//! `summary.json`, so that its presence marks a shard that finished.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::summary_json::RunIdentity;
use super::{Ending, RunReport};
use crate::engine::{Health, SlotTotals};
use crate::footprint::Footprint;
use crate::model::{NodeId, PerDirection};
use crate::stats::{Aggregator, Measurements};
use crate::workload::WorkloadStatus;

/// The file's name in a results folder.
pub const FILE_NAME: &str = "shard.json";

/// Raised when the file's layout changes: `merge` refuses folders of another layout.
pub const FORMAT: u32 = 1;

/// A finished shard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardFile {
    pub format: u32,
    pub tool_version: String,
    pub identity: RunIdentity,
    pub ending: Ending,
    pub elapsed_s: f64,
    /// `--start-at`, the run's second 0 and how late the load began, in Unix milliseconds.
    pub start_at_unix_ms: u64,
    pub zero_unix_ms: u64,
    pub skew_ms: Option<f64>,
    pub generator: Footprint,
    /// Every node of the run (those removed during it too), by the key their measurements use.
    pub nodes: Vec<NodeRecord>,
    pub measurements: Measurements,
    pub status: WorkloadStatus,
}

/// One node of the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeRecord {
    /// Its key in [`Measurements::nodes`]: the label, made unique when a label was re-added.
    pub key: String,
    pub label: String,
    pub url: String,
    pub rates: PerDirection<u32>,
    pub effective: PerDirection<u32>,
    pub health: Health,
    pub slots: PerDirection<SlotTotals>,
    /// When the node was removed during the run (seconds on its clock); `None` for the pool's
    /// nodes at the end.
    #[serde(default)]
    pub removed_at_s: Option<f64>,
}

/// Each node's key: its label, or with its id when the label is taken by an earlier node (one
/// removed and added again from the dashboard).
#[must_use]
pub fn node_keys(pool: &crate::engine::PoolView) -> BTreeMap<NodeId, String> {
    let mut keys = BTreeMap::new();
    let mut taken = std::collections::BTreeSet::new();
    for (node, _) in pool.every_node() {
        let key = if taken.insert(node.label.clone()) {
            node.label.clone()
        } else {
            format!("{}#{}", node.label, node.id)
        };
        keys.insert(node.id, key);
    }
    keys
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The time `ms` Unix milliseconds name.
#[must_use]
pub fn from_unix_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

impl ShardFile {
    /// The shard file of a finished run; `None` for a run that is not a shard.
    #[must_use]
    pub fn of_run(
        report: &RunReport,
        identity: &RunIdentity,
        aggregator: &Aggregator,
    ) -> Option<Self> {
        identity.shard.as_ref()?;
        let start = report.start?;
        let keys = node_keys(&report.pool);
        let key_of = |id: NodeId| {
            keys.get(&id)
                .cloned()
                .unwrap_or_else(|| format!("node{id}"))
        };
        let nodes = report
            .pool
            .every_node()
            .map(|(node, removed)| NodeRecord {
                removed_at_s: removed.map(|at| at.as_secs_f64()),
                key: key_of(node.id),
                label: node.label.clone(),
                url: node.url.clone(),
                rates: node.rates,
                effective: node.effective,
                health: node.health(),
                slots: PerDirection::from_fn(|d| node.counters.totals(d)),
            })
            .collect();
        Some(Self {
            format: FORMAT,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            identity: identity.clone(),
            ending: report.ending,
            elapsed_s: report.elapsed.as_secs_f64(),
            start_at_unix_ms: unix_ms(start.at),
            zero_unix_ms: unix_ms(start.zero),
            skew_ms: start.skew_ms,
            generator: report.generator,
            nodes,
            measurements: aggregator.measurements(key_of),
            status: report.status.clone(),
        })
    }
}
