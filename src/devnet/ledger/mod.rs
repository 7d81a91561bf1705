//! The devnet's one ledger, shared by every node of a cluster: account nonces, tokens, balances,
//! the pool of admitted transactions, executed transactions with their receipts (bounded), and
//! lagging read replicas.
//!
//! Admission applies a transaction to the *pending* state (committed state plus every admitted
//! transaction, in order), so that everything is validated at once: nonce, authority, allowance,
//! balance. Execution later applies the same transaction, in the same order, to the *committed*
//! state that reads see; it cannot fail there, because the pending state ran it first.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, U256, keccak256};
use axum::http::StatusCode;

use crate::protocol::wire::{self, error_code};
use crate::protocol::{
    AuthorityAction, AuthorityPayload, IssuePayload, MintPayload, PaymentPayload, Signature,
};

mod state;

pub use state::State;

/// A token has at most this many mint authorities.
pub const MAX_MINT_AUTHORITIES: usize = 20;
/// And at most this many of each other list authority.
pub const MAX_OTHER_AUTHORITIES: usize = 5;

/// A refused request: HTTP status, `error_code` and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Reject {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn business(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
}

/// What a transaction does, once its signer is known.
#[derive(Clone, Debug)]
pub enum TxBody {
    Issue(IssuePayload),
    Authority(AuthorityPayload),
    Mint(MintPayload),
    Payment(PaymentPayload),
}

/// A verified transaction: signer recovered, hash computed.
#[derive(Clone, Debug)]
pub struct Tx {
    pub hash: B256,
    pub from: Address,
    pub chain_id: u64,
    pub nonce: u64,
    pub body: TxBody,
    pub signature: Signature,
    /// A `/v2` transaction's memo (`None` on `/v1`, which has none).
    pub memo: Option<crate::protocol::Memo>,
}

impl Tx {
    fn recipient(&self) -> Option<Address> {
        match &self.body {
            TxBody::Mint(p) => Some(p.recipient),
            TxBody::Payment(p) => Some(p.recipient),
            TxBody::Issue(_) | TxBody::Authority(_) => None,
        }
    }

    fn token(&self) -> Address {
        match &self.body {
            TxBody::Issue(p) => p.token_address(),
            TxBody::Authority(p) => p.token,
            TxBody::Mint(p) => p.token,
            TxBody::Payment(p) => p.token,
        }
    }
}

/// An executed transaction and where it landed.
#[derive(Clone, Debug)]
pub struct Executed {
    pub tx: Arc<Tx>,
    pub at: Instant,
    pub checkpoint_number: u64,
    pub transaction_index: u64,
}

impl Executed {
    pub fn receipt(&self) -> wire::Receipt {
        wire::Receipt {
            success: true,
            transaction_hash: self.tx.hash,
            transaction_index: Some(self.transaction_index),
            checkpoint_hash: Some(checkpoint_hash(self.checkpoint_number)),
            checkpoint_number: Some(self.checkpoint_number),
            fee_used: U256::ZERO,
            from: self.tx.from,
            recipient: self.tx.recipient(),
            token_address: Some(self.tx.token()),
            success_info: None,
        }
    }

    pub fn transaction(&self) -> wire::Transaction {
        transaction_view(
            &self.tx,
            Some((self.checkpoint_number, self.transaction_index)),
        )
    }
}

/// The REST view of a transaction; `placement` (checkpoint, index) is `None` while pending.
pub fn transaction_view(tx: &Tx, placement: Option<(u64, u64)>) -> wire::Transaction {
    use wire::TransactionData as D;
    {
        let data = match &tx.body {
            TxBody::Issue(p) => D::TokenCreate {
                symbol: p.symbol.clone(),
                decimals: p.decimals,
                master_authority: p.master_authority,
                is_private: p.is_private,
                clawback_enabled: p.clawback_enabled,
                name: p.name.clone(),
            },
            TxBody::Authority(p) => {
                let (authority_type, authority_address, value, token) = (
                    p.authority_type.as_str().to_owned(),
                    p.authority_address,
                    Some(p.value.to_string()),
                    p.token,
                );
                match p.action {
                    AuthorityAction::Grant => D::TokenGrantAuthority {
                        authority_type,
                        authority_address,
                        value,
                        token,
                    },
                    AuthorityAction::Revoke => D::TokenRevokeAuthority {
                        authority_type,
                        authority_address,
                        value,
                        token,
                    },
                }
            }
            TxBody::Mint(p) => D::TokenMint {
                value: p.value.to_string(),
                recipient: p.recipient,
                token: p.token,
            },
            TxBody::Payment(p) => D::TokenTransfer {
                value: p.value.to_string(),
                recipient: p.recipient,
                token: Some(p.token),
            },
        };
        wire::Transaction {
            hash: tx.hash,
            checkpoint_hash: placement.map(|(number, _)| checkpoint_hash(number)),
            checkpoint_number: placement.map(|(number, _)| number),
            transaction_index: placement.map(|(_, index)| index),
            chain_id: tx.chain_id,
            from: tx.from,
            nonce: tx.nonce,
            data,
            signature_type: "Single".to_owned(),
            signature: tx.signature,
            memo: tx.memo.clone().filter(|memo| !memo.is_empty()),
        }
    }
}

/// The devnet's checkpoint hash: keccak256 of the checkpoint number, big-endian.
pub fn checkpoint_hash(number: u64) -> B256 {
    keccak256(number.to_be_bytes())
}

/// Ledger parameters fixed for a cluster's life.
#[derive(Clone, Debug)]
pub struct LedgerConfig {
    pub chain_id: u64,
    pub operator: Address,
    pub finality: Duration,
    pub finality_jitter: Duration,
    pub checkpoint_interval: Duration,
    /// Executed transactions (and receipts) kept; the oldest are evicted beyond it.
    pub retain_executed: usize,
}

struct PendingTx {
    tx: Arc<Tx>,
    due: Instant,
}

/// A node's lagging view: committed state replayed `lag` after execution.
struct Replica {
    state: State,
    backlog: VecDeque<Arc<Executed>>,
}

/// Counters the devnet reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LedgerStats {
    pub admitted: u64,
    /// Refused submissions whose nonce an admitted transaction of the same sender already
    /// took, with another hash: a client that signed one nonce twice (a resend of the same
    /// transaction is not counted while it is among the `retain_executed` kept).
    pub nonce_reuses: u64,
    pub executed: u64,
    pub pending: u64,
    pub retained: u64,
    pub evicted: u64,
}

/// The shared ledger. One mutex guards it; signature recovery happens before the lock.
pub struct Ledger {
    config: LedgerConfig,
    started: Instant,
    pending_state: State,
    committed: State,
    pool: VecDeque<PendingTx>,
    /// Pooled transactions by hash, with when they were admitted.
    pool_index: HashMap<B256, (Arc<Tx>, Instant)>,
    last_due: Instant,
    executed: HashMap<B256, Arc<Executed>>,
    executed_order: VecDeque<B256>,
    replicas: HashMap<usize, Replica>,
    checkpoint_number: u64,
    index_in_checkpoint: u64,
    /// The hashes each checkpoint holds, oldest first; checkpoints with none are absent.
    checkpoints: VecDeque<(u64, Vec<B256>)>,
    /// Checkpoints below this number were forgotten with their executed transactions.
    forgotten_below: u64,
    /// The wall clock at `started`, for checkpoint timestamps.
    started_wall: std::time::SystemTime,
    stats: LedgerStats,
}

impl Ledger {
    pub fn new(config: LedgerConfig) -> Self {
        let now = Instant::now();
        Self {
            config,
            started: now,
            pending_state: State::default(),
            committed: State::default(),
            pool: VecDeque::new(),
            pool_index: HashMap::new(),
            last_due: now,
            executed: HashMap::new(),
            executed_order: VecDeque::new(),
            replicas: HashMap::new(),
            checkpoint_number: 0,
            index_in_checkpoint: 0,
            checkpoints: VecDeque::new(),
            forgotten_below: 0,
            started_wall: std::time::SystemTime::now(),
            stats: LedgerStats::default(),
        }
    }

    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// Admits a verified transaction to the pool, or refuses it with nothing changed.
    /// `jitter` is a random fraction in [0, 1) of the configured finality jitter.
    pub fn admit(&mut self, tx: Tx, now: Instant, jitter: f64) -> Result<(), Reject> {
        if self.pool_index.contains_key(&tx.hash) {
            return Err(Reject::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                error_code::POOL_ERROR,
                format!("transaction {} is already in the pool", tx.hash),
            ));
        }
        let taken = tx.nonce < self.pending_state.nonce(tx.from);
        if let Err(refusal) =
            self.pending_state
                .apply(&tx, self.config.chain_id, self.config.operator)
        {
            if taken && !self.executed.contains_key(&tx.hash) {
                self.stats.nonce_reuses += 1;
            }
            return Err(refusal);
        }
        // Execution keeps admission order, so a transaction is never due before its predecessor.
        let due = (now + self.config.finality + self.config.finality_jitter.mul_f64(jitter))
            .max(self.last_due);
        self.last_due = due;
        let tx = Arc::new(tx);
        self.pool_index.insert(tx.hash, (Arc::clone(&tx), now));
        self.pool.push_back(PendingTx { tx, due });
        self.stats.admitted += 1;
        Ok(())
    }

    /// Executes every pooled transaction that is due; returns how many ran.
    pub fn execute_due(&mut self, now: Instant) -> usize {
        self.advance_checkpoint(now);
        let mut count = 0;
        while self.pool.front().is_some_and(|p| p.due <= now) {
            let Some(PendingTx { tx, .. }) = self.pool.pop_front() else {
                break;
            };
            self.pool_index.remove(&tx.hash);
            let applied = self
                .committed
                .apply(&tx, self.config.chain_id, self.config.operator);
            debug_assert!(
                applied.is_ok(),
                "pending state admitted what committed state refuses: {applied:?}"
            );
            let executed = Arc::new(Executed {
                tx,
                at: now,
                checkpoint_number: self.checkpoint_number,
                transaction_index: self.index_in_checkpoint,
            });
            self.index_in_checkpoint += 1;
            match self.checkpoints.back_mut() {
                Some((number, hashes)) if *number == self.checkpoint_number => {
                    hashes.push(executed.tx.hash);
                }
                _ => self
                    .checkpoints
                    .push_back((self.checkpoint_number, vec![executed.tx.hash])),
            }
            for replica in self.replicas.values_mut() {
                replica.backlog.push_back(Arc::clone(&executed));
            }
            self.executed_order.push_back(executed.tx.hash);
            self.executed.insert(executed.tx.hash, executed);
            self.stats.executed += 1;
            count += 1;
        }
        while self.executed_order.len() > self.config.retain_executed {
            if let Some(old) = self.executed_order.pop_front() {
                if let Some(gone) = self.executed.remove(&old) {
                    // A checkpoint is forgotten with its last transaction, not its first.
                    self.forgotten_below = self.forgotten_below.max(gone.checkpoint_number);
                }
                self.stats.evicted += 1;
            }
        }
        while self
            .checkpoints
            .front()
            .is_some_and(|(number, _)| *number < self.forgotten_below)
        {
            self.checkpoints.pop_front();
        }
        count
    }

    /// The hashes of checkpoint `number` in execution order: `None` past the latest
    /// checkpoint or below the retained ones. The latest may still gain transactions until the
    /// next one starts.
    pub fn checkpoint(&self, number: u64) -> Option<&[B256]> {
        if number > self.checkpoint_number || number < self.forgotten_below {
            return None;
        }
        let at = self.checkpoints.partition_point(|(n, _)| *n < number);
        Some(match self.checkpoints.get(at) {
            Some((n, hashes)) if *n == number => hashes,
            _ => &[],
        })
    }

    /// When checkpoint `number` started, in seconds since the Unix epoch.
    pub fn checkpoint_timestamp(&self, number: u64) -> u64 {
        let offset = self
            .config
            .checkpoint_interval
            .saturating_mul(u32::try_from(number).unwrap_or(u32::MAX));
        (self.started_wall + offset)
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    /// An executed transaction by hash, whatever the node's lag (checkpoint contents).
    pub fn executed_any(&self, hash: &B256) -> Option<&Arc<Executed>> {
        self.executed.get(hash)
    }

    fn advance_checkpoint(&mut self, now: Instant) {
        let interval = self.config.checkpoint_interval.as_nanos().max(1);
        let number =
            u64::try_from(now.saturating_duration_since(self.started).as_nanos() / interval)
                .unwrap_or(u64::MAX);
        if number > self.checkpoint_number {
            self.checkpoint_number = number;
            self.index_in_checkpoint = 0;
        }
    }

    pub fn checkpoint_number(&self) -> u64 {
        self.checkpoint_number
    }

    /// The state node `node` serves when it lags `lag` behind; the committed state for no lag.
    pub fn read_state(&mut self, node: usize, lag: Duration, now: Instant) -> &State {
        if lag.is_zero() {
            self.replicas.remove(&node);
            return &self.committed;
        }
        let committed = &self.committed;
        let replica = self.replicas.entry(node).or_insert_with(|| Replica {
            state: committed.clone(),
            backlog: VecDeque::new(),
        });
        while let Some(next) = replica.backlog.front() {
            if next.at + lag > now {
                break;
            }
            let next = replica.backlog.pop_front().expect("front exists");
            let _ = replica
                .state
                .apply(&next.tx, self.config.chain_id, self.config.operator);
        }
        &replica.state
    }

    /// An executed transaction, if node visibility (`lag`) allows and it is still retained.
    pub fn executed(&self, hash: &B256, lag: Duration, now: Instant) -> Option<Arc<Executed>> {
        self.executed
            .get(hash)
            .filter(|e| e.at + lag <= now)
            .cloned()
    }

    /// An admitted transaction that has not executed yet.
    /// A pooled transaction as a node `lag` behind sees it: admitted at least `lag` ago (a
    /// lagging replica has not heard of a newer one yet, and answers 404 for it).
    pub fn pending(&self, hash: &B256, lag: Duration, now: Instant) -> Option<Arc<Tx>> {
        self.pool_index
            .get(hash)
            .filter(|(_, admitted)| now.saturating_duration_since(*admitted) >= lag)
            .map(|(tx, _)| Arc::clone(tx))
    }

    pub fn committed(&self) -> &State {
        &self.committed
    }

    pub fn stats(&self) -> LedgerStats {
        LedgerStats {
            pending: self.pool.len() as u64,
            retained: self.executed.len() as u64,
            ..self.stats
        }
    }
}
