//! The engine: one task, the only owner of the node pool, the rates and the pause state. Every
//! runtime control arrives as a [`Command`] on one bounded channel (through an
//! [`EngineHandle`]); the engine publishes a [`PoolView`] through `watch` after every change.
//!
//! Each node has a POST pacer and a GET pacer ([`pacer`]): smooth schedules at the node's own
//! rates that pull work from the [`WorkSource`]. A node's trouble stays its own: its slow or
//! failed requests only fill its own in-flight cap and miss its own slots.
//!
//! Rates: totals are split evenly over the nodes (remainders to the first nodes); adding or
//! removing a node re-splits the current total; setting one node's rate changes only that node
//! (the total becomes the sum).

mod actor;
mod alarm;
mod load;
mod node;
pub mod pacer;
pub mod schedule;

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use actor::Engine;
pub use load::LoadThreads;
pub use node::{DirectionCounters, Health, NodeCounters, PoolNode, SlotTotals};
pub use pacer::{IDLE_BACKOFF, PaceContext, SendLog, SendRecord};
pub use schedule::Lattice;

use crate::client::CallError;
use crate::model::{FailurePolicy, NodeId, NodeTarget, Op, PerDirection};
use crate::protocol::{B256, TxKind, WriteSurface};

/// Identifies a job between the work source and its completion.
pub type Ticket = u64;

/// A POST the work source wants sent.
#[derive(Debug)]
pub struct PostJob {
    pub op: Op,
    pub kind: TxKind,
    /// The surface it was signed for: its path.
    pub surface: WriteSurface,
    pub body: Vec<u8>,
    pub ticket: Ticket,
}

/// A GET the work source wants sent.
#[derive(Debug)]
pub struct GetJob {
    pub op: Op,
    pub path: String,
    pub ticket: Ticket,
}

/// What the pacers pull work from and report answers to. Calls must not block: they run on
/// the pacers' tasks.
pub trait WorkSource: Send + Sync + 'static {
    fn next_post(&self, node: NodeId) -> Option<PostJob>;
    fn post_done(&self, ticket: Ticket, node: NodeId, result: Result<B256, CallError>);
    fn next_get(&self, node: NodeId) -> Option<GetJob>;
    /// Takes a GET's answer. Returns the decode error when a 2xx body is not what the endpoint
    /// answers (the source parses it anyway, so the pacer does not parse it a second time): the
    /// request is then counted as a `decode` failure.
    fn get_done(
        &self,
        ticket: Ticket,
        node: NodeId,
        result: Result<Bytes, CallError>,
    ) -> Option<CallError>;
    /// Ends the current phase early (operator's "skip").
    fn skip_phase(&self);
    /// Whether a slot of `direction` that finds no job is the workload holding the rate back
    /// (counted as unfilled), rather than a phase that sends none at the rate (setup,
    /// waiting for `--start-at`, verify, the end). Asked only when a pacer starves.
    fn holds_back(&self, direction: crate::model::Direction) -> bool {
        let _ = direction;
        true
    }
}

/// Every runtime control of a run.
#[derive(Debug)]
pub enum Command {
    AddNode {
        target: NodeTarget,
        reply: oneshot::Sender<Result<NodeId, String>>,
    },
    RemoveNode {
        id: NodeId,
        reply: oneshot::Sender<Result<(), String>>,
    },
    SetNodeRates {
        id: NodeId,
        rates: PerDirection<u32>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    SetTotalRates {
        rates: PerDirection<u32>,
        /// What asked for it, shown before the change in the event log (a stage).
        why: Option<String>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    Pause,
    Resume,
    SkipPhase,
    /// Logs a change made outside the engine (a devnet fault knob set by `--at`).
    Note(String),
}

/// One node as the faces see it.
#[derive(Clone, Debug, Serialize)]
pub struct NodeView {
    pub id: NodeId,
    pub label: String,
    pub url: String,
    pub rates: PerDirection<u32>,
    /// What its pacers run at (differs from `rates` while another node's share is carried).
    pub effective: PerDirection<u32>,
    #[serde(skip)]
    pub counters: Arc<NodeCounters>,
}

impl NodeView {
    /// Live health (changes between pool views).
    #[must_use]
    pub fn health(&self) -> Health {
        self.counters.health()
    }
}

/// A live change to the run, as the event log shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EngineEvent {
    /// Numbered from 0 in order; a reader remembers the last it saw.
    pub seq: u64,
    /// Since the engine started.
    pub at: std::time::Duration,
    pub text: String,
}

/// How many recent events a pool view carries.
pub const RECENT_EVENTS: usize = 100;

/// The pool after the last change.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PoolView {
    pub nodes: Vec<NodeView>,
    pub paused: bool,
    pub policy: FailurePolicy,
    /// Sum of the nodes' rates.
    pub total: PerDirection<u32>,
    /// Nodes removed during the run (their ids are not reused), kept with their counters so
    /// that the results still show what they did.
    pub removed: Vec<RemovedNode>,
    /// The most recent live changes, oldest first.
    pub events: Vec<EngineEvent>,
    /// When this view was published, on the run's clock: when its rates took effect.
    pub at: std::time::Duration,
}

impl PoolView {
    /// Every node of the run so far: the pool's, then those removed, each with when it was.
    pub fn every_node(&self) -> impl Iterator<Item = (&NodeView, Option<std::time::Duration>)> {
        self.nodes
            .iter()
            .map(|n| (n, None))
            .chain(self.removed.iter().map(|r| (&r.view, Some(r.at))))
    }
}

/// A node removed from the pool, as it was then.
#[derive(Clone, Debug, Serialize)]
pub struct RemovedNode {
    pub view: NodeView,
    /// When, on the run's clock.
    pub at: std::time::Duration,
}

/// A handle on the engine: cheap to clone; each call is one [`Command`].
#[derive(Clone, Debug)]
pub struct EngineHandle {
    tx: mpsc::Sender<Command>,
    view: watch::Receiver<Arc<PoolView>>,
}

/// Upper bound of a rate, per node and direction: far above what a node or this tool does.
pub const MAX_RATE: u32 = 1_000_000;

impl EngineHandle {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, String>>) -> Command,
    ) -> Result<T, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| "the run has ended".to_owned())?;
        answer.await.map_err(|_| "the run has ended".to_owned())?
    }

    pub async fn add_node(&self, target: NodeTarget) -> Result<NodeId, String> {
        self.ask(|reply| Command::AddNode { target, reply }).await
    }

    pub async fn remove_node(&self, id: NodeId) -> Result<(), String> {
        self.ask(|reply| Command::RemoveNode { id, reply }).await
    }

    pub async fn set_node_rates(&self, id: NodeId, rates: PerDirection<u32>) -> Result<(), String> {
        self.ask(|reply| Command::SetNodeRates { id, rates, reply })
            .await
    }

    pub async fn set_total_rates(&self, rates: PerDirection<u32>) -> Result<(), String> {
        self.ask(|reply| Command::SetTotalRates {
            rates,
            why: None,
            reply,
        })
        .await
    }

    /// Sets the total rates for `why` (a stage of the run), which the event log shows.
    pub async fn set_total_rates_for(
        &self,
        rates: PerDirection<u32>,
        why: String,
    ) -> Result<(), String> {
        self.ask(|reply| Command::SetTotalRates {
            rates,
            why: Some(why),
            reply,
        })
        .await
    }

    /// Sends a command without waiting for its effect; refused if the channel is full.
    pub fn try_send(&self, command: Command) -> Result<(), String> {
        self.tx
            .try_send(command)
            .map_err(|e| format!("engine busy or stopped: {e}"))
    }

    pub async fn pause(&self) {
        let _ = self.tx.send(Command::Pause).await;
    }

    pub async fn resume(&self) {
        let _ = self.tx.send(Command::Resume).await;
    }

    pub async fn skip_phase(&self) {
        let _ = self.tx.send(Command::SkipPhase).await;
    }

    /// Logs `text` as an event of the run (the dashboard's event pane, `events.log`).
    pub async fn note(&self, text: String) {
        let _ = self.tx.send(Command::Note(text)).await;
    }

    #[must_use]
    pub fn pool(&self) -> Arc<PoolView> {
        Arc::clone(&self.view.borrow())
    }

    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<Arc<PoolView>> {
        self.view.clone()
    }
}

/// Splits `total` evenly over `n` parts; the first `total % n` get one more.
#[must_use]
pub fn split_evenly(total: u32, n: usize) -> Vec<u32> {
    if n == 0 {
        return Vec::new();
    }
    let n32 = u32::try_from(n).unwrap_or(u32::MAX);
    (0..n32)
        .map(|i| total / n32 + u32::from(i < total % n32))
        .collect()
}

/// How the engine starts.
pub struct EngineSetup {
    pub targets: Vec<(NodeTarget, PerDirection<u32>)>,
    pub work: Arc<dyn WorkSource>,
    pub stats: crate::stats::StatsHandle,
    pub max_in_flight: u32,
    pub request_timeout: std::time::Duration,
    /// Cancelled when the run ends: pacers stop.
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
    pub send_log: Option<Arc<SendLog>>,
    pub on_node_failure: FailurePolicy,
    /// With `--shard`: the lattice every pacer's slots sit on.
    pub lattice: Option<Lattice>,
    /// The run's second 0: events are timed from it.
    pub started: std::time::Instant,
}

/// Starts the engine task and every initial node's pacers.
pub fn spawn_engine(setup: EngineSetup) -> EngineHandle {
    let (paused, paused_rx) = watch::channel(false);
    let load = LoadThreads::new(setup.cancel.clone(), setup.tracker.clone());
    let ctx = Arc::new(PaceContext {
        work: setup.work,
        stats: setup.stats,
        paused: paused_rx,
        max_in_flight: setup.max_in_flight,
        tracker: setup.tracker.clone(),
        send_log: setup.send_log,
        lattice: setup.lattice,
    });
    let (view_tx, view_rx) = watch::channel(Arc::new(PoolView::default()));
    let mut engine = Engine {
        nodes: Vec::new(),
        removed: Vec::new(),
        next_id: 0,
        paused,
        ctx,
        view: view_tx,
        request_timeout: setup.request_timeout,
        cancel: setup.cancel.clone(),
        started: setup.started,
        events: std::collections::VecDeque::new(),
        next_event: 0,
        down: Vec::new(),
        policy: setup.on_node_failure,
        load,
    };
    for (target, rates) in setup.targets {
        let what = format!(
            "start with node {} at {} POST/s, {} GET/s",
            target.label, rates.post, rates.get
        );
        engine.add(target, rates);
        engine.log(what);
    }
    engine.publish();
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = setup.cancel;
    setup.tracker.spawn(async move {
        // Health changes between commands: re-derive effective rates a few times a second.
        let mut health = tokio::time::interval(std::time::Duration::from_millis(250));
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                command = rx.recv() => match command {
                    Some(command) => engine.handle(command),
                    None => break,
                },
                _ = health.tick() => {
                    let noted = engine.note_health();
                    if engine.rebalance() || noted {
                        engine.publish();
                    }
                }
            }
        }
    });
    EngineHandle { tx, view: view_rx }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_even_with_remainders_first() {
        assert_eq!(split_evenly(500, 2), vec![250, 250]);
        assert_eq!(split_evenly(10, 3), vec![4, 3, 3]);
        assert_eq!(split_evenly(1, 4), vec![1, 0, 0, 0]);
        assert!(split_evenly(5, 0).is_empty());
        assert_eq!(split_evenly(1000, 3).iter().sum::<u32>(), 1000);
    }
}
