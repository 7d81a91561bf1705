//! The account book: each sending account's key, next nonce, unconfirmed transactions and
//! queue of intents, and the round-robin of accounts that may send now.
//!
//! An account with transactions in flight is pinned to the node they went to: its next ones
//! go there too, so that they reach the cluster in nonce order. Sent to different nodes, an
//! account's consecutive nonces raced each other (the later one refused as
//! `business_invalid_nonce` on a healthy cluster: 10 in 17,000 over 3 devnet nodes at 4 in
//! flight), and on a real cluster a node may not have heard of the earlier one yet. The pin
//! goes when nothing of the account is in flight any more, so an account moves away from a
//! node that went down or was removed as soon as its transactions there are settled.

use std::collections::{HashMap, VecDeque};

use super::plan::{Wallets, WorkloadPlan};
use crate::model::NodeId;
use crate::protocol::{Address, Signer, U256};

pub type AccountId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntentKind {
    Issue,
    Grant,
    Mint,
    Pay,
}

/// Something the workload owes: a transaction to send, whatever nonce it ends up with.
#[derive(Clone, Debug)]
pub struct Intent {
    pub kind: IntentKind,
    pub to: Address,
    pub value: U256,
    pub attempts: u32,
}

impl Intent {
    pub fn new(kind: IntentKind, to: Address, value: U256) -> Self {
        Self {
            kind,
            to,
            value,
            attempts: 0,
        }
    }
}

/// Nonce resynchronisation state of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resync {
    None,
    /// Needed once nothing is in flight.
    Wanted,
    /// In the read queue.
    Queued,
    /// A read is in flight.
    Reading,
}

/// Which ready queue an account waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Queued {
    No,
    /// The shared queue: any node may take it.
    Anywhere,
    /// The queue of the node it is pinned to.
    On(NodeId),
}

struct Account {
    signer: Signer,
    next_nonce: u64,
    in_flight: u32,
    /// The node its transactions in flight went to.
    pinned: Option<NodeId>,
    queue: VecDeque<Intent>,
    resync: Resync,
    /// Its nonce has been read once: a later read is a resync.
    nonce_known: bool,
    /// Where it waits; an entry in another queue than this one is stale and skipped.
    queued: Queued,
    /// Index among the transfer wallets, for sustained payments.
    transfer_index: Option<usize>,
}

pub struct AccountBook {
    accounts: Vec<Account>,
    /// Ready accounts with nothing in flight, with the order they became ready in.
    ready: VecDeque<(u64, AccountId)>,
    /// Ready accounts pinned to a node, per node, likewise.
    ready_on: HashMap<NodeId, VecDeque<(u64, AccountId)>>,
    /// The next position in the round-robin of ready accounts: a node takes whichever of its
    /// two queues' heads became ready first, so that an account taken goes after every other
    /// (taking the pinned ones first sent bursts of one account's consecutive nonces, which
    /// overtook each other on parallel connections).
    next_turn: u64,
    resync_queue: VecDeque<AccountId>,
    operator: AccountId,
    master: AccountId,
    mint_base: usize,
    transfer_base: usize,
    cap: u32,
    sustained: bool,
}

impl AccountBook {
    pub fn new(plan: &WorkloadPlan, wallets: &Wallets) -> Self {
        let account = |signer: &Signer, transfer_index| Account {
            signer: signer.clone(),
            next_nonce: 0,
            in_flight: 0,
            pinned: None,
            queue: VecDeque::new(),
            resync: Resync::None,
            nonce_known: false,
            queued: Queued::No,
            transfer_index,
        };
        let mut accounts = vec![account(&plan.operator, None)];
        let master = if plan.master.address() == plan.operator.address() {
            0
        } else {
            accounts.push(account(&plan.master, None));
            1
        };
        let mint_base = accounts.len();
        accounts.extend(wallets.mint.iter().map(|s| account(s, None)));
        let transfer_base = accounts.len();
        accounts.extend(
            wallets
                .transfer
                .iter()
                .enumerate()
                .map(|(i, s)| account(s, Some(i))),
        );
        // Nonces of accounts used before (a rerun with the same seed) are learnt on first use:
        // every account starts by reading its nonce.
        let mut book = Self {
            accounts,
            ready: VecDeque::new(),
            ready_on: HashMap::new(),
            next_turn: 0,
            resync_queue: VecDeque::new(),
            operator: 0,
            master,
            mint_base,
            transfer_base,
            cap: plan.in_flight_per_account.max(1),
            sustained: false,
        };
        for id in 0..book.accounts.len() {
            book.want_resync(id);
        }
        book
    }

    pub fn operator(&self) -> AccountId {
        self.operator
    }

    pub fn master(&self) -> AccountId {
        self.master
    }

    pub fn mint_account(&self, index: usize) -> AccountId {
        self.mint_base + index
    }

    pub fn transfer_account(&self, index: usize) -> AccountId {
        self.transfer_base + index
    }

    pub fn signer(&self, id: AccountId) -> &Signer {
        &self.accounts[id].signer
    }

    pub fn push_intent(&mut self, id: AccountId, intent: Intent) {
        self.accounts[id].queue.push_back(intent);
    }

    pub fn push_front(&mut self, id: AccountId, intent: Intent) {
        self.accounts[id].queue.push_front(intent);
        self.make_ready(id);
    }

    fn eligible(&self, id: AccountId) -> bool {
        let a = &self.accounts[id];
        a.resync == Resync::None
            && a.in_flight < self.cap
            && (!a.queue.is_empty() || (self.sustained && a.transfer_index.is_some()))
    }

    /// Queues the account where it may be taken: its node's queue while it is pinned, the
    /// shared one otherwise (moving it there when its pin went).
    fn make_ready(&mut self, id: AccountId) {
        if !self.eligible(id) {
            return;
        }
        let account = &mut self.accounts[id];
        let place = account.pinned.map_or(Queued::Anywhere, Queued::On);
        if account.queued == place {
            return;
        }
        account.queued = place;
        let entry = (self.next_turn, id);
        self.next_turn += 1;
        match place {
            Queued::On(node) => self.ready_on.entry(node).or_default().push_back(entry),
            Queued::Anywhere | Queued::No => self.ready.push_back(entry),
        }
    }

    pub fn refresh_ready(&mut self) {
        for id in 0..self.accounts.len() {
            self.make_ready(id);
        }
    }

    /// Whether sustained payments are being made.
    pub fn sustained(&self) -> bool {
        self.sustained
    }

    pub fn set_sustained(&mut self, sustained: bool) {
        self.sustained = sustained;
        self.refresh_ready();
    }

    /// The next account that may send to `node`, round-robin over those pinned to it and
    /// those with nothing in flight (only the latter with `unpinned_only`), with the intent it
    /// sends and one more transaction in flight, pinned to `node`. `sustained_intent` makes an
    /// intent for a transfer wallet with an empty queue in the sustained phase.
    pub fn take_ready(
        &mut self,
        node: NodeId,
        unpinned_only: bool,
        sustained_intent: impl Fn(usize) -> Intent,
    ) -> Option<(AccountId, Intent)> {
        let id = self.pop_ready(node, unpinned_only)?;
        let account = &mut self.accounts[id];
        let intent = match account.queue.pop_front() {
            Some(intent) => intent,
            None => sustained_intent(account.transfer_index.unwrap_or_default()),
        };
        account.in_flight += 1;
        account.pinned = Some(node);
        self.make_ready(id);
        Some((id, intent))
    }

    /// The eligible account that became ready first, of `node`'s queue and the shared one;
    /// stale entries (the account moved queue, or may not send now) are dropped on the way.
    fn pop_ready(&mut self, node: NodeId, unpinned_only: bool) -> Option<AccountId> {
        loop {
            let pinned_turn = self
                .ready_on
                .get(&node)
                .and_then(VecDeque::front)
                .map(|(turn, _)| *turn)
                .filter(|_| !unpinned_only);
            let shared_turn = self.ready.front().map(|(turn, _)| *turn);
            let (id, place) = match (pinned_turn, shared_turn) {
                (Some(pinned), shared) if shared.is_none_or(|shared| pinned < shared) => {
                    let queue = self.ready_on.get_mut(&node)?;
                    (queue.pop_front()?.1, Queued::On(node))
                }
                _ => (self.ready.pop_front()?.1, Queued::Anywhere),
            };
            let account = &mut self.accounts[id];
            if account.queued != place {
                continue;
            }
            account.queued = Queued::No;
            if self.eligible(id) {
                return Some(id);
            }
        }
    }

    /// The node an account is pinned to, if any.
    #[cfg(test)]
    pub fn pinned(&self, id: AccountId) -> Option<NodeId> {
        self.accounts[id].pinned
    }

    /// Nothing of the account is in flight any more: it may go to any node.
    fn unpin_if_settled(&mut self, id: AccountId) {
        let account = &mut self.accounts[id];
        if account.in_flight == 0 {
            account.pinned = None;
        }
    }

    pub fn assign_nonce(&mut self, id: AccountId) -> u64 {
        let account = &mut self.accounts[id];
        account.next_nonce += 1;
        account.next_nonce - 1
    }

    /// A transaction with `nonce` was definitely not admitted.
    pub fn release(&mut self, id: AccountId, nonce: u64) {
        let account = &mut self.accounts[id];
        account.in_flight = account.in_flight.saturating_sub(1);
        if account.next_nonce == nonce + 1 && account.in_flight == 0 {
            account.next_nonce = nonce;
        } else if account.resync == Resync::None {
            // Later nonces may have gone out: they will fail; read the nonce once they have.
            account.resync = Resync::Wanted;
        }
        self.unpin_if_settled(id);
    }

    /// After a release: queue a resync or make the account ready again.
    pub fn after_release(&mut self, id: AccountId) {
        let account = &mut self.accounts[id];
        if account.resync == Resync::Wanted && account.in_flight == 0 {
            account.resync = Resync::Queued;
            self.resync_queue.push_back(id);
        }
        self.make_ready(id);
    }

    /// A transaction of `id` left flight (receipt seen, or given up).
    pub fn confirmed(&mut self, id: AccountId) {
        let account = &mut self.accounts[id];
        account.in_flight = account.in_flight.saturating_sub(1);
        self.unpin_if_settled(id);
        self.after_release(id);
    }

    pub fn want_resync(&mut self, id: AccountId) {
        if self.accounts[id].resync == Resync::None {
            self.accounts[id].resync = Resync::Wanted;
        }
        self.after_release(id);
    }

    /// An account whose nonce should be read now.
    pub fn take_resync(&mut self) -> Option<AccountId> {
        let id = self.resync_queue.pop_front()?;
        self.accounts[id].resync = Resync::Reading;
        Some(id)
    }

    /// Whether the account's nonce was read before (its next read is a resync, not its first).
    #[must_use]
    pub fn nonce_known(&self, id: AccountId) -> bool {
        self.accounts[id].nonce_known
    }

    pub fn resynced(&mut self, id: AccountId, nonce: u64) {
        let account = &mut self.accounts[id];
        account.nonce_known = true;
        account.next_nonce = nonce;
        account.resync = Resync::None;
        self.make_ready(id);
    }

    pub fn resync_failed(&mut self, id: AccountId) {
        self.accounts[id].resync = Resync::Queued;
        self.resync_queue.push_back(id);
    }

    pub fn has_pending_work(&self) -> bool {
        self.accounts.iter().any(|a| !a.queue.is_empty())
    }

    /// Drops every queued intent (skip phase); answers how many.
    pub fn clear_intents(&mut self) -> u64 {
        let mut cleared = 0;
        for account in &mut self.accounts {
            cleared += account.queue.len() as u64;
            account.queue.clear();
        }
        cleared
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::plan::fixtures::{plan, signer};

    /// A book of the operator and two transfer wallets, 4 in flight each, nonces read.
    fn book() -> AccountBook {
        let wallets = Wallets {
            mint: Vec::new(),
            transfer: vec![signer(2), signer(3)],
            distribution: Vec::new(),
            grant_to: Vec::new(),
        };
        let mut book = AccountBook::new(&plan(), &wallets);
        while let Some(id) = book.take_resync() {
            book.resynced(id, 0);
        }
        book
    }

    fn pay() -> Intent {
        Intent::new(IntentKind::Pay, Address::ZERO, U256::from(1))
    }

    fn never(_: usize) -> Intent {
        unreachable!("not sustained")
    }

    #[test]
    fn an_account_in_flight_stays_on_its_node_until_it_is_settled() {
        let mut book = book();
        let a = book.transfer_account(0);
        for _ in 0..3 {
            book.push_intent(a, pay());
        }
        book.refresh_ready();
        assert_eq!(book.take_ready(0, false, never).map(|(id, _)| id), Some(a));
        assert_eq!(book.pinned(a), Some(0));
        assert!(
            book.take_ready(0, true, never).is_none(),
            "a slot signing inline takes no pinned account"
        );
        assert!(
            book.take_ready(1, false, never).is_none(),
            "node 1 may not send the account's next nonce"
        );
        assert_eq!(book.take_ready(0, false, never).map(|(id, _)| id), Some(a));
        book.confirmed(a);
        assert_eq!(book.pinned(a), Some(0), "one is still in flight");
        assert!(book.take_ready(1, false, never).is_none());
        book.confirmed(a);
        assert_eq!(book.pinned(a), None);
        assert_eq!(
            book.take_ready(1, false, never).map(|(id, _)| id),
            Some(a),
            "settled, it may go anywhere"
        );
        assert_eq!(book.pinned(a), Some(1));
    }

    #[test]
    fn a_refused_transaction_unpins_an_account_with_nothing_else_in_flight() {
        let mut book = book();
        let b = book.transfer_account(1);
        book.push_intent(b, pay());
        book.push_intent(b, pay());
        book.refresh_ready();
        let (id, intent) = book.take_ready(3, false, never).unwrap();
        let nonce = book.assign_nonce(id);
        book.release(id, nonce);
        book.push_front(id, intent);
        book.after_release(id);
        assert_eq!(book.pinned(b), None);
        assert_eq!(book.take_ready(2, false, never).map(|(id, _)| id), Some(b));
        assert_eq!(book.assign_nonce(b), nonce, "the freed nonce is used again");
    }
}
