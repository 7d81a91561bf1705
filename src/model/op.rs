//! What a request does ([`Op`]) and where a run is ([`Phase`]): the names under which every
//! figure is kept and shown.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Direction;

/// What a request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Issue,
    Grant,
    Mint,
    Payment,
    Receipt,
    Nonce,
    Balance,
    /// Looking a transaction up by hash after an unknown outcome.
    Lookup,
    /// Reading the checkpoint head or a checkpoint's hashes (`--confirm checkpoints`).
    Checkpoint,
    /// Submit → receipt seen: one per confirmed transaction (not an HTTP request).
    Confirm,
    /// Reading a node's `/api/status` again after it refused a write's surface.
    Status,
}

impl Op {
    /// Every operation, in the order the dashboard's `o` key cycles through them.
    /// The operation of a name [`Op::as_str`] gives.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == name)
    }

    pub const ALL: [Op; 11] = [
        Op::Issue,
        Op::Grant,
        Op::Mint,
        Op::Payment,
        Op::Receipt,
        Op::Nonce,
        Op::Balance,
        Op::Lookup,
        Op::Checkpoint,
        Op::Confirm,
        Op::Status,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Issue => "issue",
            Op::Grant => "grant",
            Op::Mint => "mint",
            Op::Payment => "payment",
            Op::Receipt => "receipt",
            Op::Nonce => "nonce",
            Op::Balance => "balance",
            Op::Lookup => "lookup",
            Op::Checkpoint => "checkpoint",
            Op::Confirm => "confirm",
            Op::Status => "status",
        }
    }

    /// POSTs: the operations that submit a transaction.
    #[must_use]
    pub fn is_post(self) -> bool {
        matches!(self, Op::Issue | Op::Grant | Op::Mint | Op::Payment)
    }

    /// The direction whose pacer sends this operation; `None` for a confirmation, which is
    /// not a request.
    #[must_use]
    pub fn direction(self) -> Option<Direction> {
        if self.is_post() {
            Some(Direction::Post)
        } else if self.is_request() {
            Some(Direction::Get)
        } else {
            None
        }
    }

    /// Whether this is an HTTP request (everything but confirmations).
    #[must_use]
    pub fn is_request(self) -> bool {
        self != Op::Confirm
    }
}

/// The phases of a run, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Issue,
    Grant,
    Mint,
    /// Funded, waiting for `--start-at` before the load phase.
    Ready,
    Transfer,
    Sustained,
    /// The read-only workload (`--post-rate 0`): GETs for `--duration`, nothing signed.
    Reads,
    Verify,
    Done,
}

impl Phase {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Issue => "issue",
            Phase::Grant => "grant",
            Phase::Mint => "mint",
            Phase::Ready => "ready",
            Phase::Transfer => "transfer",
            Phase::Sustained => "sustained",
            Phase::Reads => "reads",
            Phase::Verify => "verify",
            Phase::Done => "done",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
