//! The choices a run is made with that several layers act on: how a down node's share is
//! handled, how transactions are confirmed, which write surface is signed for. Each is a
//! command-line value (`clap::ValueEnum`) and a `summary.json` value (snake case).

use serde::{Deserialize, Serialize};

/// What happens to a down node's share of the load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// The share is not sent: the other nodes keep their rates, so each node's numbers stay
    /// comparable and a failure does not silently load the survivors.
    #[default]
    Keep,
    /// The share is spread evenly over the healthy nodes while the node is down, keeping the
    /// cluster's offered load constant.
    Redistribute,
}

/// How the workload learns that a submitted transaction executed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmBy {
    /// A receipt GET per transaction (200 ms after submission, then every 200 ms): each
    /// transaction's own success or failure, at one GET per transaction.
    #[default]
    Receipts,
    /// Reading the chain's checkpoints (`/v1/checkpoints/by_number`): a transaction counts as
    /// confirmed when a checkpoint lists it, at ~10 GETs a second whatever the rate. A
    /// checkpoint does not say whether a transaction succeeded; the verify phase's balances
    /// do. Transactions no checkpoint listed within 3 s fall back to receipts.
    Checkpoints,
}

/// What `--write-surface` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SurfaceChoice {
    /// v2 when every node accepts it (`dual`, `v2_only`), else v1 when every node accepts that.
    #[default]
    Auto,
    /// Sign for /v1 (refused before traffic if a node is `v2_only`).
    V1,
    /// Sign for /v2, domain-separated (refused before traffic if a node is `v1_only`).
    V2,
}

impl SurfaceChoice {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SurfaceChoice::Auto => "auto",
            SurfaceChoice::V1 => "v1",
            SurfaceChoice::V2 => "v2",
        }
    }
}
