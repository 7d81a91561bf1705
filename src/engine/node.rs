//! One node of the pool: its client, its target rates, live counters the pacers keep, and its
//! health as the requests see it.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::client::{ErrorClass, NodeClient};
use crate::model::{Direction, NodeId, PerDirection};

/// How a node is doing, as its requests see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Healthy,
    /// Timeouts or server errors recently, but connections work.
    Degraded,
    /// Connections fail: no work is sent; a probe checks every second.
    Down,
}

/// Consecutive connection failures that mark a node down.
const DOWN_AFTER: u32 = 3;

/// Counters of one direction, kept by the pacer and its requests.
#[derive(Debug, Default)]
pub struct DirectionCounters {
    /// Slots that had work for this node: sent + missed.
    pub offered: AtomicU64,
    pub sent: AtomicU64,
    /// Slots dropped: late beyond the schedule's max lag, node down, or in-flight cap reached.
    pub missed: AtomicU64,
    pub in_flight: AtomicU32,
    /// Slots that found no work for this node (and those that passed while its pacer waited
    /// for some): the workload, not the node, held the rate back. Not in `offered`.
    pub unfilled: AtomicU64,
    /// Lateness of the last slot sent, microseconds.
    pub lag_us: AtomicU64,
}

/// A direction's slot counts at the end of a run: what adds up over the shards of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlotTotals {
    pub offered: u64,
    pub sent: u64,
    pub missed: u64,
    pub unfilled: u64,
}

impl std::ops::Sub for SlotTotals {
    type Output = Self;

    /// The slots between two readings of the same counters (`self` the later).
    fn sub(self, earlier: Self) -> Self {
        Self {
            offered: self.offered.saturating_sub(earlier.offered),
            sent: self.sent.saturating_sub(earlier.sent),
            missed: self.missed.saturating_sub(earlier.missed),
            unfilled: self.unfilled.saturating_sub(earlier.unfilled),
        }
    }
}

impl std::ops::AddAssign for SlotTotals {
    fn add_assign(&mut self, other: Self) {
        self.offered += other.offered;
        self.sent += other.sent;
        self.missed += other.missed;
        self.unfilled += other.unfilled;
    }
}

/// Live counters and health of one node: shared with the faces, which read them live.
#[derive(Debug, Default)]
pub struct NodeCounters {
    pub post: DirectionCounters,
    pub get: DirectionCounters,
    health: AtomicU8,
    connect_failures: AtomicU32,
    /// Until when the node asked us to back off (429 + Retry-After), µs since [`epoch`].
    backoff_until_us: AtomicU64,
}

/// A process-wide origin for instants stored in atomics.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn micros_since_epoch(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_micros()).unwrap_or(u64::MAX)
}

/// The longest Retry-After honoured; a node asking for more is still retried after this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl NodeCounters {
    /// Honours a Retry-After: no request goes to this node before `until`.
    pub fn back_off(&self, until: Instant) {
        self.backoff_until_us
            .fetch_max(micros_since_epoch(until), Ordering::Relaxed);
    }

    /// Whether the node asked us to wait and the wait is not over.
    #[must_use]
    pub fn backing_off(&self, now: Instant) -> bool {
        micros_since_epoch(now) < self.backoff_until_us.load(Ordering::Relaxed)
    }

    /// Counters holding totals read back from a finished run (`stress-tui merge`).
    #[must_use]
    pub fn restored(totals: PerDirection<SlotTotals>, health: Health) -> Self {
        let counters = Self::default();
        for direction in Direction::BOTH {
            let (into, from) = (counters.direction(direction), totals[direction]);
            into.offered.store(from.offered, Ordering::Relaxed);
            into.sent.store(from.sent, Ordering::Relaxed);
            into.missed.store(from.missed, Ordering::Relaxed);
            into.unfilled.store(from.unfilled, Ordering::Relaxed);
        }
        counters.set_health(health);
        counters
    }

    /// The slot totals of one direction so far.
    #[must_use]
    pub fn totals(&self, direction: Direction) -> SlotTotals {
        let c = self.direction(direction);
        SlotTotals {
            offered: c.offered.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            missed: c.missed.load(Ordering::Relaxed),
            unfilled: c.unfilled.load(Ordering::Relaxed),
        }
    }

    #[must_use]
    pub fn health(&self) -> Health {
        match self.health.load(Ordering::Relaxed) {
            0 => Health::Healthy,
            1 => Health::Degraded,
            _ => Health::Down,
        }
    }

    fn set_health(&self, health: Health) {
        let value = match health {
            Health::Healthy => 0,
            Health::Degraded => 1,
            Health::Down => 2,
        };
        self.health.store(value, Ordering::Relaxed);
    }

    /// Updates health from one request's outcome (`None` = success).
    pub fn observe(&self, failure: Option<ErrorClass>) {
        match failure {
            None | Some(ErrorClass::Rejected) => {
                self.connect_failures.store(0, Ordering::Relaxed);
                self.set_health(Health::Healthy);
            }
            Some(ErrorClass::Connect) => {
                let failures = self.connect_failures.fetch_add(1, Ordering::Relaxed) + 1;
                if failures >= DOWN_AFTER {
                    self.set_health(Health::Down);
                }
            }
            Some(_) => {
                if self.health() != Health::Down {
                    self.set_health(Health::Degraded);
                }
            }
        }
    }

    /// A successful probe brings a down node back.
    pub fn mark_up(&self) {
        self.connect_failures.store(0, Ordering::Relaxed);
        self.set_health(Health::Healthy);
    }

    #[must_use]
    pub fn direction(&self, direction: Direction) -> &DirectionCounters {
        match direction {
            Direction::Post => &self.post,
            Direction::Get => &self.get,
        }
    }
}

/// A node in the pool: what the pacers of this node share.
#[derive(Debug)]
pub struct PoolNode {
    pub id: NodeId,
    /// `host:port` as the user gave it (for display).
    pub label: String,
    pub client: NodeClient,
    /// What the operator asked for.
    pub rates: watch::Sender<PerDirection<u32>>,
    /// What the pacers run at: the target, plus a down node's share under
    /// [`FailurePolicy::Redistribute`](super::FailurePolicy).
    pub effective: watch::Sender<PerDirection<u32>>,
    pub counters: Arc<NodeCounters>,
    /// Cancels this node's pacers and probe (removal).
    pub cancel: CancellationToken,
}

impl PoolNode {
    #[must_use]
    pub fn new(
        id: NodeId,
        label: String,
        client: NodeClient,
        rates: PerDirection<u32>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            id,
            label,
            client,
            rates: watch::Sender::new(rates),
            effective: watch::Sender::new(rates),
            counters: Arc::new(NodeCounters::default()),
            cancel,
        }
    }

    #[must_use]
    pub fn health(&self) -> Health {
        self.counters.health()
    }

    pub fn observe(&self, failure: Option<ErrorClass>) {
        self.counters.observe(failure);
    }

    pub fn mark_up(&self) {
        self.counters.mark_up();
    }
}
