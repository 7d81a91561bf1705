//! The engine's task state: the pool of nodes, their target and effective rates, the pause
//! and the recent events. Each [`Command`] is a method answering a `Result`; one place
//! ([`Engine::settle`]) logs it, re-derives the effective rates, publishes the [`PoolView`]
//! once and replies.

use std::sync::Arc;

use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::load::LoadThreads;
use super::node::{Health, PoolNode};
use super::pacer::{self, PaceContext};
use super::{
    Command, EngineEvent, MAX_RATE, NodeView, PoolView, RECENT_EVENTS, RemovedNode, split_evenly,
};
use crate::client::NodeClient;
use crate::model::{Direction, FailurePolicy, NodeId, NodeTarget, PerDirection};

/// The engine's own state.
pub(super) struct Engine {
    pub(super) nodes: Vec<Arc<PoolNode>>,
    pub(super) removed: Vec<RemovedNode>,
    pub(super) next_id: NodeId,
    pub(super) paused: watch::Sender<bool>,
    pub(super) ctx: Arc<PaceContext>,
    pub(super) view: watch::Sender<Arc<PoolView>>,
    pub(super) request_timeout: std::time::Duration,
    pub(super) cancel: CancellationToken,
    pub(super) started: std::time::Instant,
    pub(super) events: std::collections::VecDeque<EngineEvent>,
    pub(super) next_event: u64,
    /// The nodes last seen down, to log when one goes down or comes back.
    pub(super) down: Vec<NodeId>,
    pub(super) policy: FailurePolicy,
    /// Where the nodes' pacers and requests run.
    pub(super) load: LoadThreads,
}

impl Engine {
    pub(super) fn add(&mut self, target: NodeTarget, rates: PerDirection<u32>) -> NodeId {
        let id = self.next_id;
        self.next_id += 1;
        let client = NodeClient::new(&target.url, self.request_timeout);
        let node = Arc::new(PoolNode::new(
            id,
            target.label,
            client,
            rates,
            self.cancel.child_token(),
        ));
        let thread = self.load.for_node(id);
        for direction in [Direction::Post, Direction::Get] {
            self.ctx.tracker.spawn_on(
                pacer::pace(direction, Arc::clone(&node), Arc::clone(&self.ctx)),
                &thread,
            );
        }
        // On the node's thread too: the connections it opens join the node's pool.
        self.ctx
            .tracker
            .spawn_on(pacer::probe(Arc::clone(&node)), &thread);
        self.nodes.push(node);
        id
    }

    fn total(&self) -> PerDirection<u32> {
        let mut total = PerDirection::default();
        for node in &self.nodes {
            total += *node.rates.borrow();
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

    /// Logs each node that went down or came back since the last look; answers whether any did.
    pub(super) fn note_health(&mut self) -> bool {
        let mut notes = Vec::new();
        for node in &self.nodes {
            let down = node.health() == Health::Down;
            let was_down = self.down.contains(&node.id);
            if down && !was_down {
                self.down.push(node.id);
                notes.push(format!(
                    "node {} down: nothing is sent to it until it answers again",
                    node.label
                ));
            } else if !down && was_down {
                self.down.retain(|id| *id != node.id);
                notes.push(format!("node {} answers again", node.label));
            }
        }
        let noted = !notes.is_empty();
        for note in notes {
            self.log(note);
        }
        noted
    }

    /// Derives every node's effective rates from the targets, health and policy; answers
    /// whether any changed.
    pub(super) fn rebalance(&mut self) -> bool {
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
                orphaned += *node.rates.borrow();
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
            let mut next = target;
            next += extra;
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

    pub(super) fn log(&mut self, text: String) {
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

    /// Runs one command: its method changes the state and answers a result; [`Self::settle`]
    /// logs it, re-derives the effective rates, publishes once and replies.
    pub(super) fn handle(&mut self, command: Command) {
        match command {
            Command::AddNode { target, reply } => {
                let what = format!("add node {}", target.label);
                let result = self.add_node(target);
                self.settle(what, result, Some(reply));
            }
            Command::RemoveNode { id, reply } => {
                let what = format!("remove node {}", self.label(id));
                let result = self.remove_node(id);
                self.settle(what, result, Some(reply));
            }
            Command::SetNodeRates { id, rates, reply } => {
                let what = format!(
                    "set {} to {} POST/s, {} GET/s",
                    self.label(id),
                    rates.post,
                    rates.get
                );
                let result = self.set_node_rates(id, rates);
                self.settle(what, result, Some(reply));
            }
            Command::SetTotalRates { rates, why, reply } => {
                let set = format!("set total to {} POST/s, {} GET/s", rates.post, rates.get);
                let what = why.map_or_else(|| set.clone(), |why| format!("{why}: {set}"));
                let result = self.set_total_rates(rates);
                self.settle(what, result, Some(reply));
            }
            Command::Pause => {
                self.paused.send_replace(true);
                self.settle("paused".to_owned(), Ok(()), None);
            }
            Command::Resume => {
                self.paused.send_replace(false);
                self.settle("resumed".to_owned(), Ok(()), None);
            }
            Command::SkipPhase => {
                self.ctx.work.skip_phase();
                self.settle("skipped the phase".to_owned(), Ok(()), None);
            }
            Command::Note(text) => self.settle(text, Ok(()), None),
        }
    }

    /// The one place a command ends: its effect (or refusal) logged, the effective rates
    /// re-derived, the pool published, then the asker answered, so that whoever awaits the
    /// reply already sees the new pool.
    fn settle<T>(
        &mut self,
        what: String,
        result: Result<T, String>,
        reply: Option<oneshot::Sender<Result<T, String>>>,
    ) {
        match &result {
            Ok(_) => self.log(what),
            Err(reason) => self.log(format!("refused: {what}: {reason}")),
        }
        self.rebalance();
        self.publish();
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
    }

    fn add_node(&mut self, target: NodeTarget) -> Result<NodeId, String> {
        if self.nodes.iter().any(|n| n.client.base_url() == target.url) {
            return Err(format!("{} is already in the pool", target.label));
        }
        let total = self.total();
        let id = self.add(target, PerDirection::default());
        self.spread(total);
        Ok(id)
    }

    fn remove_node(&mut self, id: NodeId) -> Result<(), String> {
        let index = self
            .nodes
            .iter()
            .position(|n| n.id == id)
            .ok_or_else(|| format!("no node {id} in the pool"))?;
        if self.nodes.len() == 1 {
            return Err("cannot remove the last node".to_owned());
        }
        let total = self.total();
        let node = self.nodes.remove(index);
        node.cancel.cancel();
        self.removed.push(RemovedNode {
            view: node_view(&node),
            at: self.started.elapsed(),
        });
        self.spread(total);
        Ok(())
    }

    fn set_node_rates(&mut self, id: NodeId, rates: PerDirection<u32>) -> Result<(), String> {
        if rates.post > MAX_RATE || rates.get > MAX_RATE {
            return Err(format!("a node's rate must be at most {MAX_RATE}/s"));
        }
        let node = self
            .nodes
            .iter()
            .find(|n| n.id == id)
            .ok_or_else(|| format!("no node {id} in the pool"))?;
        node.rates.send_replace(rates);
        Ok(())
    }

    fn set_total_rates(&mut self, rates: PerDirection<u32>) -> Result<(), String> {
        let limit = u64::from(MAX_RATE) * self.nodes.len() as u64;
        if u64::from(rates.post) > limit || u64::from(rates.get) > limit {
            return Err(format!(
                "total rates must be at most {limit}/s for {} nodes",
                self.nodes.len()
            ));
        }
        self.spread(rates);
        Ok(())
    }

    pub(super) fn publish(&self) {
        let nodes = self.nodes.iter().map(|n| node_view(n)).collect();
        self.view.send_replace(Arc::new(PoolView {
            nodes,
            paused: *self.paused.borrow(),
            policy: self.policy,
            total: self.total(),
            removed: self.removed.clone(),
            at: self.started.elapsed(),
            events: self.events.iter().cloned().collect(),
        }));
    }
}

/// What the faces see of a node.
fn node_view(node: &PoolNode) -> NodeView {
    NodeView {
        id: node.id,
        label: node.label.clone(),
        url: node.client.base_url().to_owned(),
        rates: *node.rates.borrow(),
        effective: *node.effective.borrow(),
        counters: Arc::clone(&node.counters),
    }
}
