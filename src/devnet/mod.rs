//! The embedded devnet: a strict, 1Money-compatible cluster of N nodes on loopback, all over one
//! shared ledger, so that the tool works, and is tested, with no node installed.
//!
//! Strict like a node: every POST recovers its signer (libsecp256k1) and is validated at
//! admission against the pending state (nonce, operator, authority, allowance, balance, token);
//! a refused transaction changes nothing and consumes no nonce. Admitted transactions execute
//! in order after the finality delay; receipts appear then.
//!
//! Choices where the public material is silent (PROTOCOL.md section 7), all ours:
//! - one ledger for all nodes; a node may serve state `read_lag_ms` behind (a lagging replica:
//!   its `by_hash` does not know a pooled transaction admitted less than that long ago);
//! - nonce: the expected nonce counts admitted but not yet executed transactions; any other gives
//!   422 `business_invalid_nonce` "expected N, got M". GET `/v1/accounts/nonce` reads committed
//!   state;
//! - a chain id other than the devnet's: 422 `business_transaction_failed` "invalid chain id";
//! - resubmitting a pooled transaction: 500 `system_pool_error`; once executed, its nonce is
//!   stale, so 422 `business_invalid_nonce`;
//! - business failures: 422 `business_insufficient_balance`, `business_unauthorized`,
//!   `business_allowance_exceeded`, `business_token_not_found`, `business_token_paused`,
//!   `business_transaction_failed` (duplicate token, authority limits);
//! - malformed JSON or a field out of range: 400 `validation_invalid_param`; a missing field:
//!   400 `validation_missing_param`; a malformed address: 400 `validation_invalid_address`; an
//!   unrecoverable or high-S signature: 400 `validation_invalid_signature`;
//! - an unknown token account reads `{"balance":"0","nonce":0}`; unknown token metadata is 404
//!   `resource_token_not_found`; `by_hash` also finds pooled transactions (checkpoint fields null);
//! - execution: after `finality` plus a uniform random share of `finality_jitter`, never before
//!   an earlier admission; a checkpoint every `checkpoint_interval`; fees are 0;
//! - the operator key is [`OPERATOR_KEY_HEX`], a fixed development-only key; chain id 1212101;
//! - executed transactions and receipts are kept up to `retain_executed` (oldest evicted), so
//!   memory stays bounded in a day-long soak;
//! - fault knobs per node ([`NodeKnobs`]): capacity (429 `rate_limit_exceeded`, `Retry-After:
//!   1`), latency, error ratio (500 `system_internal_error`, nothing applied), answers lost
//!   after the request took effect (`lose_ratio`: a 500; `reset_ratio`: the connection dropped
//!   with no answer; `half_answer_ratio`: the head and half the body, then the connection
//!   dropped), down, hang, read lag; changed through [`Devnet::set_knobs`] or the admin API
//!   ([`admin`]);
//! - [`LedgerStats::nonce_reuses`] counts refused submissions whose nonce an admitted
//!   transaction of the same sender already took with another hash: a client that signed one
//!   nonce twice.
//!
//! The 2026 write surface (PROTOCOL.md section 8), per node through the `write_mode` and
//! `read_only` knobs (default `dual`, what a current cluster runs):
//! - `GET /api/status` answers the node's `native_write_mode`, `read_only`, an activation
//!   source (`binary_release` once `/v2` is active, else `not_activated`), the devnet's start
//!   as `dual_activated_at_secs`, and 13 of 13 validators supporting `/v2` (0 on `v1_only`);
//! - `POST /v2/...` for issue, grant, mint and payment: the domain-separated signing hash and
//!   transaction hash of section 8.4 (these hashes in answers, receipts and checkpoints, and
//!   the memo in `by_hash`);
//! - by mode: a `/v1` write on `v2_only` is 410 `LEGACY_NATIVE_WRITE_ENDPOINT_DISABLED`; a `/v2`
//!   write on `v1_only` is 403 `DOMAIN_SEPARATED_SIGNATURE_NOT_ACTIVE`; any write on a
//!   read-only node is 403 `NODE_READ_ONLY` (our code: none is published); `/v1` writes on a
//!   `dual` node answer `X-1Money-Legacy-Signature: deprecated`;
//! - a `/v2` body with a top-level `signature`: 400 `DOMAIN_SEPARATED_SIGNATURE_REQUIRED`; an
//!   `authorization.type` other than `single_secp256k1`: 400 `UNSUPPORTED_AUTHORIZATION_TYPE`;
//!   a missing `memo` or `authorization`: 400 `validation_missing_param`;
//! - `v` on `/v2` must be 0 or 1 (27, 28 and EIP-155 values: 400 `validation_invalid_signature`);
//!   on `/v1` a `v` that is not 0, 1, 27, 28 or 35 and up is 400 `validation_invalid_signature`;
//!   high-S or unrecoverable signatures are 400 `validation_invalid_signature` on both;
//! - memo rules with their codes: `MEMO_TOO_LARGE` (type + format + data + 16 over 512 bytes,
//!   checked first so that it is reachable), `MEMO_TYPE_TOO_LONG` (over 128 bytes),
//!   `MEMO_TYPE_INVALID_CHARS`, `MEMO_FORMAT_TOO_LONG` (over 64), `MEMO_FORMAT_INVALID_CHARS`
//!   (allowed: `A-Za-z0-9-._~:/?#[]@!$&'()*+,;=%`), `MEMO_DATA_TOO_LONG` (over 256),
//!   `MEMO_DATA_CONTROL_CHARS`; all 400;
//! - a body posted to another operation's path is signed under another `op_type`: it recovers
//!   some other address and is refused on nonce, authority or balance, as on a node.

pub mod admin;
pub mod cli;
mod http;
mod knobs;
mod ledger;
mod node;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use knobs::{KnobsPatch, NodeKnobs};
pub use ledger::{LedgerStats, MAX_MINT_AUTHORITIES, MAX_OTHER_AUTHORITIES};

use crate::protocol::{Address, LOCAL_CHAIN_ID, PayloadProfile, PrivateKey, U256};
use http::{ClusterShared, NodeShared};
use ledger::{Ledger, LedgerConfig};

/// The devnet operator's private key: public, for development only. Never use it elsewhere.
pub const OPERATOR_KEY_HEX: &str =
    "0x0ea0a535b6f8ee35783c1e8488f836224d61a908a161fda3d785947e02e42de5";

/// The devnet operator key.
#[must_use]
pub fn operator_key() -> PrivateKey {
    PrivateKey::from_hex(OPERATOR_KEY_HEX).expect("the built-in operator key is valid")
}

/// How to start a devnet.
#[derive(Clone, Debug)]
pub struct DevnetConfig {
    pub nodes: usize,
    /// First node's port; the others follow. 0 gives every node (and the admin API) an
    /// ephemeral port, which tests use.
    pub base_port: u16,
    /// Admin API port; `None` = base port - 1 (ephemeral when the base port is 0).
    pub admin_port: Option<u16>,
    pub chain_id: u64,
    pub finality: Duration,
    pub finality_jitter: Duration,
    pub checkpoint_interval: Duration,
    pub retain_executed: usize,
    pub profile: PayloadProfile,
    /// Knobs of each node at start; missing entries are healthy.
    pub knobs: Vec<NodeKnobs>,
}

impl Default for DevnetConfig {
    fn default() -> Self {
        Self {
            nodes: 4,
            base_port: 18555,
            admin_port: None,
            chain_id: LOCAL_CHAIN_ID,
            finality: Duration::from_millis(300),
            finality_jitter: Duration::from_millis(100),
            checkpoint_interval: Duration::from_secs(1),
            retain_executed: 200_000,
            profile: PayloadProfile::Current,
            knobs: Vec::new(),
        }
    }
}

impl DevnetConfig {
    /// A config for tests: `nodes` nodes on ephemeral ports, fast finality.
    #[must_use]
    pub fn ephemeral(nodes: usize) -> Self {
        Self {
            nodes,
            base_port: 0,
            finality: Duration::from_millis(50),
            finality_jitter: Duration::from_millis(20),
            checkpoint_interval: Duration::from_millis(200),
            ..Self::default()
        }
    }
}

/// A running devnet. Dropping it without [`Devnet::shutdown`] stops its tasks too.
pub struct Devnet {
    cluster: Arc<ClusterShared>,
    nodes: Vec<(SocketAddr, Arc<NodeShared>)>,
    admin_addr: SocketAddr,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    operator: Address,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn bind(port: u16, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port} for {what} (is another devnet running?)")
        })
}

impl Devnet {
    /// Binds every node (failing before anything runs if a port is taken) and starts serving.
    pub async fn start(config: DevnetConfig) -> anyhow::Result<Self> {
        if config.nodes == 0 {
            bail!("a devnet needs at least 1 node");
        }
        let operator = operator_key().address();
        let cluster = Arc::new(ClusterShared {
            ledger: Mutex::new(Ledger::new(LedgerConfig {
                chain_id: config.chain_id,
                operator,
                finality: config.finality,
                finality_jitter: config.finality_jitter,
                checkpoint_interval: config.checkpoint_interval,
                retain_executed: config.retain_executed.max(1),
            })),
            requests: std::sync::atomic::AtomicU64::new(0),
            chain_id: config.chain_id,
            profile: config.profile,
            started_unix_secs: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_secs()),
        });
        let mut listeners = Vec::with_capacity(config.nodes);
        for index in 0..config.nodes {
            let port = if config.base_port == 0 {
                0
            } else {
                u16::try_from(usize::from(config.base_port) + index)
                    .ok()
                    .with_context(|| format!("node {index} would need a port above 65535"))?
            };
            listeners.push(bind(port, &format!("node {index}")).await?);
        }
        let admin_port = match (config.admin_port, config.base_port) {
            (Some(port), _) => port,
            (None, 0) => 0,
            (None, base) => base
                .checked_sub(1)
                .context("--base-port 0 or 1 leaves no admin port")?,
        };
        let admin_listener = bind(admin_port, "the admin API").await?;
        let admin_addr = admin_listener.local_addr()?;

        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut nodes = Vec::with_capacity(config.nodes);
        for (index, listener) in listeners.into_iter().enumerate() {
            let addr = listener.local_addr()?;
            let knobs = config.knobs.get(index).cloned().unwrap_or_default();
            let node = Arc::new(NodeShared::new(index, knobs));
            let router = http::router(Arc::clone(&cluster), Arc::clone(&node));
            tracker.spawn(node::serve_node(
                listener,
                addr,
                router,
                Arc::clone(&node),
                shutdown.clone(),
                tracker.clone(),
            ));
            nodes.push((addr, node));
        }
        let admin_nodes = nodes
            .iter()
            .map(|(addr, node)| (format!("http://{addr}"), Arc::clone(node)))
            .collect();
        let admin_router = admin::router(Arc::clone(&cluster), admin_nodes);
        let admin_shutdown = shutdown.clone();
        tracker.spawn(async move {
            let _ = axum::serve(admin_listener, admin_router)
                .with_graceful_shutdown(async move { admin_shutdown.cancelled().await })
                .await;
        });
        tracker.spawn(execute_loop(Arc::clone(&cluster), shutdown.clone()));
        Ok(Self {
            cluster,
            nodes,
            admin_addr,
            shutdown,
            tracker,
            operator,
        })
    }

    /// Each node's base URL, `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|(addr, _)| format!("http://{addr}"))
            .collect()
    }

    #[must_use]
    pub fn node_addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|(addr, _)| *addr).collect()
    }

    #[must_use]
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    #[must_use]
    pub fn chain_id(&self) -> u64 {
        self.cluster.chain_id
    }

    #[must_use]
    pub fn operator_address(&self) -> Address {
        self.operator
    }

    /// Changes node `index`'s knobs; refused (nothing changes) if a value is out of range.
    pub fn set_knobs(&self, index: usize, patch: &KnobsPatch) -> anyhow::Result<NodeKnobs> {
        let (_, node) = self
            .nodes
            .get(index)
            .with_context(|| format!("no node {index}"))?;
        let mut result = Ok(());
        node.knobs.send_if_modified(|knobs| {
            result = knobs.apply(patch);
            result.is_ok()
        });
        result.map_err(anyhow::Error::msg)?;
        Ok(node.knobs.borrow().clone())
    }

    #[must_use]
    pub fn knobs(&self, index: usize) -> Option<NodeKnobs> {
        self.nodes
            .get(index)
            .map(|(_, node)| node.knobs.borrow().clone())
    }

    /// Committed balance, read directly (tests compare it with what the tool saw).
    #[must_use]
    pub fn balance(&self, token: Address, owner: Address) -> U256 {
        self.cluster.ledger().committed().balance(token, owner)
    }

    /// Committed next nonce of `account`.
    #[must_use]
    pub fn nonce(&self, account: Address) -> u64 {
        self.cluster.ledger().committed().nonce(account)
    }

    #[must_use]
    pub fn stats(&self) -> LedgerStats {
        self.cluster.ledger().stats()
    }

    /// HTTP requests that reached any node so far.
    #[must_use]
    pub fn requests(&self) -> u64 {
        self.cluster
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stops every listener and connection and waits for the tasks to end.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// Executes due transactions every few milliseconds until shutdown.
async fn execute_loop(cluster: Arc<ClusterShared>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {
                cluster.ledger().execute_due(Instant::now());
            }
        }
    }
}
