//! The account book: each sending account's key, next nonce, unconfirmed transactions and
//! queue of intents, and the round-robin of accounts that may send now.

use std::collections::VecDeque;

use super::plan::{Wallets, WorkloadPlan};
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

struct Account {
    signer: Signer,
    next_nonce: u64,
    in_flight: u32,
    queue: VecDeque<Intent>,
    resync: Resync,
    in_ready: bool,
    /// Index among the transfer wallets, for sustained payments.
    transfer_index: Option<usize>,
}

pub struct AccountBook {
    accounts: Vec<Account>,
    ready: VecDeque<AccountId>,
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
            queue: VecDeque::new(),
            resync: Resync::None,
            in_ready: false,
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

    fn make_ready(&mut self, id: AccountId) {
        if self.eligible(id) && !self.accounts[id].in_ready {
            self.accounts[id].in_ready = true;
            self.ready.push_back(id);
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

    /// The next account that may send, round-robin, with the intent it sends and one more
    /// transaction in flight. `sustained_intent` makes an intent for a transfer wallet with an
    /// empty queue in the sustained phase.
    pub fn take_ready(
        &mut self,
        sustained_intent: impl Fn(usize) -> Intent,
    ) -> Option<(AccountId, Intent)> {
        while let Some(id) = self.ready.pop_front() {
            self.accounts[id].in_ready = false;
            if !self.eligible(id) {
                continue;
            }
            let account = &mut self.accounts[id];
            let intent = match account.queue.pop_front() {
                Some(intent) => intent,
                None => sustained_intent(account.transfer_index.unwrap_or_default()),
            };
            account.in_flight += 1;
            self.make_ready(id);
            return Some((id, intent));
        }
        None
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

    pub fn resynced(&mut self, id: AccountId, nonce: u64) {
        let account = &mut self.accounts[id];
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
