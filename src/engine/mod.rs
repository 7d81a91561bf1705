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

pub use load::LoadThreads;
pub use node::{DirectionCounters, Health, NodeCounters, NodeSlot};
pub use pacer::{IDLE_BACKOFF, PaceContext, SendLog, SendRecord};

use crate::client::{CallError, NodeClient};
use crate::model::{Direction, FailurePolicy, NodeId, NodeTarget, Op, PerDirection};
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
        reply: oneshot::Sender<Result<(), String>>,
    },
    Pause,
    Resume,
    SkipPhase,
    Quit,
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
    /// Nodes ever removed (their ids are not reused).
    pub removed: Vec<NodeId>,
    /// The most recent live changes, oldest first.
    pub events: Vec<EngineEvent>,
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
        self.ask(|reply| Command::SetTotalRates { rates, reply })
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

    pub async fn quit(&self) {
        let _ = self.tx.send(Command::Quit).await;
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

/// The engine's own state.
struct Engine {
    nodes: Vec<Arc<NodeSlot>>,
    removed: Vec<NodeId>,
    next_id: NodeId,
    paused: watch::Sender<bool>,
    ctx: Arc<PaceContext>,
    view: watch::Sender<Arc<PoolView>>,
    request_timeout: std::time::Duration,
    cancel: CancellationToken,
    /// Fires when an operator asks to quit.
    quit: CancellationToken,
    started: std::time::Instant,
    events: std::collections::VecDeque<EngineEvent>,
    next_event: u64,
    policy: FailurePolicy,
    /// Where the nodes' pacers and requests run.
    load: LoadThreads,
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
    /// Cancelled by the engine on [`Command::Quit`].
    pub quit: CancellationToken,
    pub tracker: TaskTracker,
    pub send_log: Option<Arc<SendLog>>,
    pub on_node_failure: FailurePolicy,
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
        quit: setup.quit,
        started: std::time::Instant::now(),
        events: std::collections::VecDeque::new(),
        next_event: 0,
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
                    if engine.rebalance() {
                        engine.publish();
                    }
                }
            }
        }
    });
    EngineHandle { tx, view: view_rx }
}

impl Engine {
    fn add(&mut self, target: NodeTarget, rates: PerDirection<u32>) -> NodeId {
        let id = self.next_id;
        self.next_id += 1;
        let client = NodeClient::new(&target.url, self.request_timeout);
        let slot = Arc::new(NodeSlot::new(
            id,
            target.label,
            client,
            rates,
            self.cancel.child_token(),
        ));
        let thread = self.load.for_node(id);
        for direction in [Direction::Post, Direction::Get] {
            self.ctx.tracker.spawn_on(
                pacer::pace(direction, Arc::clone(&slot), Arc::clone(&self.ctx)),
                &thread,
            );
        }
        // On the node's thread too: the connections it opens join the node's pool.
        self.ctx
            .tracker
            .spawn_on(pacer::probe(Arc::clone(&slot)), &thread);
        self.nodes.push(slot);
        id
    }

    fn total(&self) -> PerDirection<u32> {
        let mut total = PerDirection::default();
        for node in &self.nodes {
            let rates = *node.rates.borrow();
            total.post += rates.post;
            total.get += rates.get;
        }
        total
    }

    fn spread(&self, total: PerDirection<u32>) {
        let posts = split_evenly(total.post, self.nodes.len());
        let gets = split_evenly(total.get, self.nodes.len());
        for ((node, post), get) in self.nodes.iter().zip(posts).zip(gets) {
            node.rates.send_if_modified(|rates| {
                let next = PerDirection { post, get };
                let changed = *rates != next;
                *rates = next;
                changed
            });
        }
    }

    /// Derives every node's effective rates from the targets, health and policy; answers
    /// whether any changed.
    fn rebalance(&mut self) -> bool {
        let healthy: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].health() != Health::Down)
            .collect();
        let mut extra = vec![PerDirection::default(); self.nodes.len()];
        if self.policy == FailurePolicy::Redistribute
            && !healthy.is_empty()
            && healthy.len() < self.nodes.len()
        {
            let mut orphaned = PerDirection::default();
            for node in self.nodes.iter().filter(|n| n.health() == Health::Down) {
                let target = *node.rates.borrow();
                orphaned.post += target.post;
                orphaned.get += target.get;
            }
            let posts = split_evenly(orphaned.post, healthy.len());
            let gets = split_evenly(orphaned.get, healthy.len());
            for ((&i, post), get) in healthy.iter().zip(posts).zip(gets) {
                extra[i] = PerDirection { post, get };
            }
        }
        let mut changed = false;
        let mut notes = Vec::new();
        for (node, extra) in self.nodes.iter().zip(extra) {
            let target = *node.rates.borrow();
            let next = PerDirection {
                post: target.post + extra.post,
                get: target.get + extra.get,
            };
            let moved = node.effective.send_if_modified(|effective| {
                let moved = *effective != next;
                *effective = next;
                moved
            });
            if moved && next != target {
                notes.push(format!(
                    "{} carries +{} POST/s, +{} GET/s of down nodes",
                    node.label, extra.post, extra.get
                ));
            }
            changed |= moved;
        }
        for note in notes {
            self.log(note);
        }
        changed
    }

    fn log(&mut self, text: String) {
        self.events.push_back(EngineEvent {
            seq: self.next_event,
            at: self.started.elapsed(),
            text,
        });
        self.next_event += 1;
        if self.events.len() > RECENT_EVENTS {
            self.events.pop_front();
        }
    }

    fn label(&self, id: NodeId) -> String {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .map_or_else(|| format!("node {id}"), |n| n.label.clone())
    }

    /// Logs a command's effect, or its refusal.
    fn log_result<T>(&mut self, what: String, result: &Result<T, String>) {
        match result {
            Ok(_) => self.log(what),
            Err(reason) => self.log(format!("refused: {what}: {reason}")),
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::AddNode { target, reply } => {
                let result = if self.nodes.iter().any(|n| n.client.base_url() == target.url) {
                    Err(format!("{} is already in the pool", target.label))
                } else {
                    let total = self.total();
                    let id = self.add(target.clone(), PerDirection::default());
                    self.spread(total);
                    Ok(id)
                };
                self.log_result(format!("add node {}", target.label), &result);
                // Publish first: whoever awaits the reply sees the new pool.
                self.rebalance();
                self.publish();
                let _ = reply.send(result);
            }
            Command::RemoveNode { id, reply } => {
                let what = format!("remove node {}", self.label(id));
                let result = match self.nodes.iter().position(|n| n.id == id) {
                    None => Err(format!("no node {id} in the pool")),
                    Some(_) if self.nodes.len() == 1 => {
                        Err("cannot remove the last node".to_owned())
                    }
                    Some(index) => {
                        let total = self.total();
                        let node = self.nodes.remove(index);
                        node.cancel.cancel();
                        self.removed.push(id);
                        self.spread(total);
                        Ok(())
                    }
                };
                self.log_result(what, &result);
                // Publish first: whoever awaits the reply sees the new pool.
                self.rebalance();
                self.publish();
                let _ = reply.send(result);
            }
            Command::SetNodeRates { id, rates, reply } => {
                let what = format!(
                    "set {} to {} POST/s, {} GET/s",
                    self.label(id),
                    rates.post,
                    rates.get
                );
                let result = if rates.post > MAX_RATE || rates.get > MAX_RATE {
                    Err(format!("a node's rate must be at most {MAX_RATE}/s"))
                } else {
                    match self.nodes.iter().find(|n| n.id == id) {
                        None => Err(format!("no node {id} in the pool")),
                        Some(node) => {
                            node.rates.send_replace(rates);
                            Ok(())
                        }
                    }
                };
                self.log_result(what, &result);
                // Publish first: whoever awaits the reply sees the new pool.
                self.rebalance();
                self.publish();
                let _ = reply.send(result);
            }
            Command::SetTotalRates { rates, reply } => {
                let limit = u64::from(MAX_RATE) * self.nodes.len() as u64;
                let result = if u64::from(rates.post) > limit || u64::from(rates.get) > limit {
                    Err(format!(
                        "total rates must be at most {limit}/s for {} nodes",
                        self.nodes.len()
                    ))
                } else {
                    self.spread(rates);
                    Ok(())
                };
                self.log_result(
                    format!("set total to {} POST/s, {} GET/s", rates.post, rates.get),
                    &result,
                );
                // Publish first: whoever awaits the reply sees the new pool.
                self.rebalance();
                self.publish();
                let _ = reply.send(result);
            }
            Command::Pause => {
                self.paused.send_replace(true);
                self.log("paused".to_owned());
            }
            Command::Resume => {
                self.paused.send_replace(false);
                self.log("resumed".to_owned());
            }
            Command::SkipPhase => {
                self.ctx.work.skip_phase();
                self.log("skipped the phase".to_owned());
            }
            Command::Quit => {
                self.log("quit".to_owned());
                self.quit.cancel();
            }
        }
        self.rebalance();
        self.publish();
    }

    fn publish(&self) {
        let nodes = self
            .nodes
            .iter()
            .map(|n| NodeView {
                id: n.id,
                label: n.label.clone(),
                url: n.client.base_url().to_owned(),
                rates: *n.rates.borrow(),
                effective: *n.effective.borrow(),
                counters: Arc::clone(&n.counters),
            })
            .collect();
        self.view.send_replace(Arc::new(PoolView {
            nodes,
            paused: *self.paused.borrow(),
            policy: self.policy,
            total: self.total(),
            removed: self.removed.clone(),
            events: self.events.iter().cloned().collect(),
        }));
    }
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
