//! What a finished run leaves: the [`RunReport`] every report (summary text, JSON, CSV,
//! thresholds) is computed from, and why the run ended.

use std::sync::Arc;
use std::time::Duration;

use super::thresholds::ThresholdResult;
use crate::engine::PoolView;
use crate::footprint::Footprint;
use crate::stats::StatsSnapshot;
use crate::workload::WorkloadStatus;

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    Completed,
    Failed,
    Interrupted,
    /// Funded later than `--start-at` + `--start-tolerance`: the load did not start.
    Late,
}

/// What a finished run leaves.
#[derive(Debug)]
pub struct RunReport {
    pub ending: Ending,
    pub status: WorkloadStatus,
    pub stats: Arc<StatsSnapshot>,
    pub pool: Arc<PoolView>,
    pub elapsed: Duration,
    /// The results folder.
    pub out_dir: std::path::PathBuf,
    pub thresholds: Vec<ThresholdResult>,
    /// Problems writing results (the run itself is unaffected).
    pub write_errors: Vec<String>,
    /// `accounts_detail.csv` holds the wallets' private keys (`--export-keys`).
    pub keys_exported: bool,
    /// The generator's own CPU time and peak RSS, read when the run ended.
    pub generator: Footprint,
    /// When the load started, with `--start-at`.
    pub start: Option<StartRecord>,
    /// A whole run, one shard of one, or the merge of its shards.
    pub origin: Origin,
    /// What `--find-capacity` found.
    pub capacity: Option<super::capacity::CapacityReport>,
}

/// Whose report this is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// One process ran the whole run.
    #[default]
    Whole,
    /// One shard (`--shard`) of the run `run_id`: its part of the rates and wallets.
    Shard {
        shard: crate::model::Shard,
        run_id: String,
    },
    /// `stress-tui merge` of the `count` shards of the run `run_id`.
    Merged { count: u32, run_id: String },
}

/// A start at `--start-at`: the time asked for, when the run's second 0 began (a whole number
/// of seconds before it), and how late the load started (ms; negative: early, by the clock's
/// resolution; `None`: it did not start).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StartRecord {
    pub at: std::time::SystemTime,
    pub zero: std::time::SystemTime,
    pub skew_ms: Option<f64>,
}

impl RunReport {
    /// The seconds rates are taken over: the run's, less its wait for `--start-at` (phase
    /// `ready`), in which nothing is sent on purpose.
    #[must_use]
    pub fn rate_seconds(&self) -> f64 {
        let waited: Duration = self
            .status
            .reports
            .iter()
            .filter(|r| r.phase == crate::model::Phase::Ready)
            .map(|r| r.duration)
            .sum();
        self.elapsed.saturating_sub(waited).as_secs_f64().max(0.001)
    }

    #[must_use]
    pub fn thresholds_failed(&self) -> bool {
        self.thresholds.iter().any(|t| !t.passed)
    }
}
