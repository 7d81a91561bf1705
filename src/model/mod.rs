//! The shared words of the whole crate, at the bottom of the layers: what several layers speak
//! of (a node's identity and address, a direction, an operation, a phase, the choices a run
//! makes, a usage error). Nothing here imports from another module of the crate, so every layer
//! can use it without pulling in another layer.

mod choices;
mod direction;
mod node;
mod op;
mod shard;

use std::fmt;

pub use choices::{ConfirmBy, FailurePolicy, SurfaceChoice};
pub use direction::{Direction, PerDirection};
pub use node::{NodeId, NodeTarget, parse_node};
pub use op::{Op, Phase};
pub use shard::{COMPLETION_INDEX_VAR, Shard};

/// Exit codes: 0 success, 1 a run or runtime failure (or an interrupted run), 2 a usage error
/// (nothing was sent), 3 the run completed but a threshold failed, 4 ready too late for
/// `--start-at` (nothing was sent).
pub mod exit {
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const THRESHOLDS: u8 = 3;
    /// Ready only after `--start-at` + `--start-tolerance`: nothing was sent.
    pub const LATE: u8 = 4;
}

/// A command-line mistake: printed as one line, exit code 2, before any traffic is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(String);

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
