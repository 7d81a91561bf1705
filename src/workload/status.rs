//! What the workload reports: each phase's figures, the verify tally, and the status the faces
//! (dashboard, progress line, summary, results files) read.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::NodeSurface;
use crate::model::NodeId;
use crate::model::{Phase, SurfaceChoice};
use crate::protocol::{Address, NodeWriteMode, U256, WriteSurface};

/// What one phase did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PhaseReport {
    pub phase: Phase,
    pub duration: Duration,
    pub total: u64,
    pub confirmed: u64,
    pub failed: u64,
    /// CPU time this process spent in the phase (Linux; `None` elsewhere).
    pub cpu: Option<Duration>,
    /// The part of `cpu` spent signing: the signer thread's (payments signed ahead of their
    /// slots) and the signatures made in slots (funding phases, or when none was ready). What
    /// is left is the cost of sending, reading answers and keeping the books.
    pub signing_cpu: Duration,
}

/// Balance checks of the verify phase.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct VerifyTally {
    pub checked: u64,
    pub matched: u64,
    pub mismatched: u64,
    /// Balances (or the supply) no node answered readably in every attempt.
    pub unread: u64,
    /// Expected token supply (sum of confirmed mints) and what a node reported.
    pub expected_supply: U256,
    pub reported_supply: Option<U256>,
}

/// The run's transactions so far (`summary.json`'s `transactions`, as it is).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TransactionCounts {
    pub submitted: u64,
    /// Of `submitted`: signed ahead of their slot by the signer thread (the rest were signed in
    /// the slot).
    pub signed_ahead: u64,
    pub confirmed: u64,
    pub failed: u64,
    pub resyncs: u64,
    /// Unknown outcomes (timeouts, 5xx, lost answers, garbage) found admitted afterwards, by
    /// their receipt or a lookup by hash.
    pub recovered: u64,
    /// Of `confirmed`: found in a checkpoint (`--confirm checkpoints`; the rest by receipt).
    pub confirmed_by_checkpoint: u64,
    /// Checkpoints not read because the follower fell too far behind the head.
    pub checkpoints_skipped: u64,
    /// Failed transactions by `error_code`.
    pub failures_by_code: HashMap<String, u64>,
}

/// Counts of several generators' shares of one run, added (`stress-tui merge`).
impl std::ops::AddAssign<&TransactionCounts> for TransactionCounts {
    fn add_assign(&mut self, from: &TransactionCounts) {
        self.submitted += from.submitted;
        self.signed_ahead += from.signed_ahead;
        self.confirmed += from.confirmed;
        self.failed += from.failed;
        self.resyncs += from.resyncs;
        self.recovered += from.recovered;
        self.confirmed_by_checkpoint += from.confirmed_by_checkpoint;
        self.checkpoints_skipped += from.checkpoints_skipped;
        for (code, n) in &from.failures_by_code {
            *self.failures_by_code.entry(code.clone()).or_default() += n;
        }
    }
}

/// The workload's progress, for the faces and the summary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkloadStatus {
    /// The read-only workload (`--post-rate 0`): the faces show GETs where they show POSTs.
    pub read_only: bool,
    pub phase: Phase,
    pub phase_done: u64,
    pub phase_total: u64,
    pub phase_failed: u64,
    pub transactions: TransactionCounts,
    pub token: Option<Address>,
    pub reports: Vec<PhaseReport>,
    pub verify: VerifyTally,
    /// Why the run failed, if it did.
    pub failure: Option<String>,
    /// Every phase entered, with its start as an offset from the workload's start.
    pub phase_log: Vec<(Phase, Duration)>,
    /// The write surface the run chose, and what `--write-surface` asked for.
    pub write_surface: WriteSurface,
    pub surface_choice: SurfaceChoice,
    /// Each node's write mode and the surface its writes use (nodes never read are left out).
    pub node_surfaces: Vec<NodeSurface>,
    /// Writes a node refused because it no longer takes their surface (re-signed and sent
    /// again under the one it takes).
    pub surface_refusals: u64,
    /// The workload's own events (surface switches), with their time since its start.
    pub events: Vec<(Duration, String)>,
    /// Funded this long after `--start-at`, beyond its tolerance: the load did not start.
    pub late_by: Option<Duration>,
    /// In the phase `ready`: how long until `--start-at`.
    #[serde(skip)]
    pub starts_in: Option<Duration>,
    /// The load's stage (`--stage`), e.g. `stage 2/3 ramp-to 800/1600, 12 s left`.
    #[serde(default)]
    pub stage: Option<String>,
    /// The memo of every payment as the summary shows it; empty without one.
    pub memo_text: String,
}

impl WorkloadStatus {
    /// A status at `phase` with nothing done yet, for tests of the faces.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn for_tests(phase: Phase) -> Self {
        Self {
            read_only: false,
            phase,
            phase_done: 0,
            phase_total: 0,
            phase_failed: 0,
            transactions: TransactionCounts::default(),
            token: None,
            reports: Vec::new(),
            verify: VerifyTally::default(),
            failure: None,
            phase_log: Vec::new(),
            write_surface: WriteSurface::V2,
            surface_choice: SurfaceChoice::Auto,
            node_surfaces: Vec::new(),
            surface_refusals: 0,
            events: Vec::new(),
            late_by: None,
            starts_in: None,
            stage: None,
            memo_text: String::new(),
        }
    }

    /// A node's write mode as the faces show it: what its `/api/status` said (`?` if never
    /// read), and the surface its writes use when that is not the run's (`v2_only>v2`,
    /// `read_only>none`).
    #[must_use]
    pub fn node_mode_text(&self, node: NodeId) -> String {
        let found = self.node_surfaces.iter().find(|s| s.node == node);
        let mode = found
            .and_then(|s| s.mode)
            .map_or("?", NodeWriteMode::as_str);
        match found.map(|s| s.surface) {
            Some(surface) if surface != Some(self.write_surface) => {
                format!("{mode}>{}", surface.map_or("none", WriteSurface::as_str))
            }
            _ => mode.to_owned(),
        }
    }
}
