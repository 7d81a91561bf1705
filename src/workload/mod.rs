//! The 1Money stress workload (PROTOCOL.md section 6) as a [`WorkSource`] for the engine's
//! pacers: issue → grant → mint → transfer (or sustained payments) → verify.
//!
//! Nonces are tracked locally, never read before a transaction: each account sends with its
//! next nonce while it has fewer than `in_flight_per_account` unconfirmed transactions. After a
//! refusal that may have left a gap, or an outcome that stayed unknown, the account stops and
//! reads its nonce from a node (through the GET pacers) once nothing of it is in flight.
//! Receipts are polled through the GET pacers too; every confirmation is a sample with its
//! submit-to-receipt latency. The verify phase reads every wallet's balance, spread over the
//! nodes, and compares it with what the confirmed transactions imply.

mod book;
mod checkpoints;
pub mod plan;
mod presign;
mod reads;
mod surfaces;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::RngExt;
use serde::Serialize;
use tokio::sync::watch;

use crate::client::{CallError, ErrorClass};
use crate::engine::{GetJob, PostJob, Ticket, WorkSource};
use crate::protocol::wire::{
    API_STATUS_PATH, ApiStatus, CheckpointHashes, CheckpointNumberResponse, NonceResponse, Receipt,
    TokenAccountResponse, checkpoint_path, error_code,
};
use crate::protocol::{
    Address, AuthorityAction, AuthorityPayload, AuthorityType, B256, IssuePayload, Memo,
    MintPayload, NodeWriteMode, Payload, PaymentPayload, SignedTx, Signer, TxKind, U256,
    WriteSurface, token_address,
};
use crate::stats::{NodeId, Op, Outcome, Sample, StatsHandle};
use book::{AccountBook, AccountId, Intent, IntentKind};
use checkpoints::{CheckpointFollower, CheckpointRead};
pub use plan::{ConfirmBy, Phase, Wallets, WorkloadPlan};
use reads::{ReadCycle, ReadLoad};
pub use surfaces::{NodeMode, NodeSurface, NodeSurfaces, SurfaceChoice, choose_surface};

/// First receipt check after submission, then every `RECEIPT_POLL` until found.
const RECEIPT_FIRST_CHECK: Duration = Duration::from_millis(200);
const RECEIPT_POLL: Duration = Duration::from_millis(200);
/// With `--confirm checkpoints`, a transaction no checkpoint listed this long after its
/// submission is asked for by receipt instead (checkpoints skipped or not served).
const CHECKPOINT_FALLBACK: Duration = Duration::from_secs(3);
/// An unknown outcome (timeout, 5xx, garbage) is given this long to show a receipt; then the
/// transaction is looked up by hash: found, it is awaited as admitted; unknown, its nonce is
/// freed and the intent sent again. Nothing is sent twice.
const UNCERTAIN_TIMEOUT: Duration = Duration::from_secs(3);
/// Definite non-admissions (429, connection failures, stale nonces) retry an intent this often.
const MAX_ATTEMPTS: u32 = 20;
/// A balance that disagrees is read again (read lag) this many times before it counts.
const VERIFY_ATTEMPTS: u32 = 3;
/// A read that fails (node trouble, garbage) is tried this many times before the account (or
/// the supply) counts as unread: the verify phase always ends.
const VERIFY_READ_ATTEMPTS: u32 = 20;
const VERIFY_RETRY_DELAY: Duration = Duration::from_millis(500);

/// What one phase did.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseReport {
    pub phase: Phase,
    pub duration: Duration,
    pub total: u64,
    pub confirmed: u64,
    pub failed: u64,
    /// CPU time this process spent in the phase (Linux; `None` elsewhere).
    pub cpu: Option<Duration>,
    /// The part of `cpu` spent signing: the signer thread's (payments signed ahead of their
    /// slots) and the signatures made in slots (funding phases, or when none was ready). What
    /// is left is the cost of sending, reading answers and keeping the books.
    pub signing_cpu: Duration,
}

/// Balance checks of the verify phase.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct VerifyTally {
    pub checked: u64,
    pub matched: u64,
    pub mismatched: u64,
    /// Balances (or the supply) no node answered readably in every attempt.
    pub unread: u64,
    /// Expected token supply (sum of confirmed mints) and what a node reported.
    pub expected_supply: U256,
    pub reported_supply: Option<U256>,
}

/// The workload's progress, for the faces and the summary.
#[derive(Clone, Debug, Serialize)]
pub struct WorkloadStatus {
    /// The read-only workload (`--post-rate 0`): the faces show GETs where they show POSTs.
    pub read_only: bool,
    pub phase: Phase,
    pub phase_done: u64,
    pub phase_total: u64,
    pub phase_failed: u64,
    pub submitted: u64,
    /// Of `submitted`: signed ahead of their slot by the signer thread (the rest were signed in
    /// the slot).
    pub signed_ahead: u64,
    pub confirmed: u64,
    pub failed: u64,
    pub resyncs: u64,
    /// Unknown outcomes (timeouts, 5xx, lost answers, garbage) found admitted afterwards, by
    /// their receipt or a lookup by hash.
    pub recovered: u64,
    /// Of `confirmed`: found in a checkpoint (`--confirm checkpoints`; the rest by receipt).
    pub confirmed_by_checkpoint: u64,
    /// Checkpoints not read because the follower fell too far behind the head.
    pub checkpoints_skipped: u64,
    pub token: Option<Address>,
    pub reports: Vec<PhaseReport>,
    pub verify: VerifyTally,
    /// Why the run failed, if it did.
    pub failure: Option<String>,
    /// Failed transactions by `error_code`.
    pub failures_by_code: HashMap<String, u64>,
    /// Every phase entered, with its start as an offset from the workload's start.
    pub phase_log: Vec<(Phase, Duration)>,
    /// The write surface the run chose, and what `--write-surface` asked for.
    pub write_surface: WriteSurface,
    pub surface_choice: SurfaceChoice,
    /// Each node's write mode and the surface its writes use (nodes never read are left out).
    pub node_surfaces: Vec<NodeSurface>,
    /// Writes a node refused because it no longer takes their surface (re-signed and sent
    /// again under the one it takes).
    pub surface_refusals: u64,
    /// The workload's own events (surface switches), with their time since its start.
    pub events: Vec<(Duration, String)>,
    /// The memo of every payment as the summary shows it; empty without one.
    pub memo_text: String,
}

impl WorkloadStatus {
    /// A node's write mode as the faces show it: what its `/api/status` said (`?` if never
    /// read), and the surface its writes use when that is not the run's (`v2_only>v2`,
    /// `read_only>none`).
    #[must_use]
    pub fn node_mode_text(&self, node: NodeId) -> String {
        let found = self.node_surfaces.iter().find(|s| s.node == node);
        let mode = found
            .and_then(|s| s.mode)
            .map_or("?", NodeWriteMode::as_str);
        match found.map(|s| s.surface) {
            Some(surface) if surface != Some(self.write_surface) => {
                format!("{mode}>{}", surface.map_or("none", WriteSurface::as_str))
            }
            _ => mode.to_owned(),
        }
    }
}

enum Job {
    Tx(TxJob),
    NonceRead(AccountId),
    BalanceRead {
        address: Address,
        expected: U256,
        attempt: u32,
    },
    SupplyRead {
        attempt: u32,
    },
    CheckpointHead,
    CheckpointRead(u64),
    /// `GET /api/status` of a node that refused a write's surface.
    StatusRead(NodeId),
}

struct TxJob {
    account: AccountId,
    nonce: u64,
    intent: Intent,
    hash: B256,
    node: NodeId,
    submitted: Instant,
    next_check: Instant,
    deadline: Instant,
    uncertain: bool,
    /// The next GET for it is a lookup by hash, not a receipt poll.
    lookup: bool,
}

struct State {
    phase: Phase,
    phase_started: Instant,
    /// This process's CPU time when the phase started.
    phase_cpu: Option<Duration>,
    /// CPU time spent signing when the phase began.
    phase_signing_cpu: Duration,
    phase_total: u64,
    phase_done: u64,
    phase_failed: u64,
    book: AccountBook,
    token: Option<Address>,
    jobs: HashMap<Ticket, Job>,
    next_ticket: Ticket,
    receipt_checks: VecDeque<Ticket>,
    /// `--confirm checkpoints`: submitted transactions by hash (a node that answers every
    /// submission with the same hash, like `bench/sink.sh`, gets one entry for all of them).
    awaiting: HashMap<B256, Vec<Ticket>>,
    checkpoints: CheckpointFollower,
    /// `--confirm checkpoints`: submitted transactions, for a receipt GET if no checkpoint
    /// has listed them by `CHECKPOINT_FALLBACK`.
    checkpoint_fallback: VecDeque<Ticket>,
    reads: VecDeque<(Instant, Ticket)>,
    /// Wallets whose balance the verify phase has still to read for the first time. Their
    /// jobs are made as GET slots take them: made all at once, 10,001 jobs grew the job map
    /// by ~3 MiB at the end of a run (`bench/sustained_rss.sh`: +17 % over minute 2).
    verify_queue: VecDeque<Address>,
    expected: HashMap<Address, U256>,
    /// Balances the verify phase read.
    observed: HashMap<Address, U256>,
    sustained_until: Option<Instant>,
    reports: Vec<PhaseReport>,
    verify: VerifyTally,
    submitted: u64,
    confirmed: u64,
    failed: u64,
    resyncs: u64,
    /// Unknown outcomes that a lookup found admitted.
    recovered: u64,
    confirmed_by_checkpoint: u64,
    failure: Option<String>,
    failures_by_code: HashMap<String, u64>,
    started: Instant,
    phase_log: Vec<(Phase, Duration)>,
    surface_refusals: u64,
    events: Vec<(Duration, String)>,
}

/// The ticket of every read of the read-only workload: they need no bookkeeping of their own.
const READ_TICKET: Ticket = Ticket::MAX;

/// The workload; shared by every pacer.
pub struct Workload {
    plan: WorkloadPlan,
    wallets: Wallets,
    state: Mutex<State>,
    stats: StatsHandle,
    finished: watch::Sender<bool>,
    presigned: presign::Presigned,
    /// The read-only workload, when the plan is one (outside the lock, see `reads`).
    reads: Option<ReadLoad>,
    /// Which surface each node's writes are signed for.
    surfaces: NodeSurfaces,
}

/// What [`Workload::reserve_post`] hands to the signer, outside the lock.
struct Reserved {
    ticket: Ticket,
    signer: Signer,
    nonce: u64,
    intent: Intent,
    surface: WriteSurface,
}

impl Workload {
    /// A workload at its first phase (issue, or grant with an existing token).
    pub fn new(plan: WorkloadPlan, wallets: Wallets, stats: StatsHandle, now: Instant) -> Self {
        let book = AccountBook::new(&plan, &wallets);
        let token = plan.existing_token;
        let state = State {
            phase: Phase::Issue,
            phase_started: now,
            phase_cpu: None,
            phase_signing_cpu: Duration::ZERO,
            phase_total: 0,
            phase_done: 0,
            phase_failed: 0,
            book,
            token,
            jobs: HashMap::new(),
            next_ticket: 0,
            receipt_checks: VecDeque::new(),
            awaiting: HashMap::new(),
            checkpoints: CheckpointFollower::new(now),
            checkpoint_fallback: VecDeque::new(),
            reads: VecDeque::new(),
            verify_queue: VecDeque::new(),
            expected: HashMap::new(),
            observed: HashMap::new(),
            sustained_until: None,
            reports: Vec::new(),
            verify: VerifyTally::default(),
            submitted: 0,
            confirmed: 0,
            failed: 0,
            resyncs: 0,
            recovered: 0,
            confirmed_by_checkpoint: 0,
            failure: None,
            failures_by_code: HashMap::new(),
            started: now,
            phase_log: Vec::new(),
            surface_refusals: 0,
            events: Vec::new(),
        };
        // Reads stop by themselves: a read-only plan always has a duration.
        let reads = plan.read_only.then(|| {
            let token = plan
                .existing_token
                .unwrap_or_else(|| token_address(plan.master.address(), &plan.symbol));
            let addresses = wallets
                .transfer
                .iter()
                .map(Signer::address)
                .chain(wallets.distribution.iter().copied())
                .collect();
            let until = now + plan.sustained.unwrap_or_default();
            ReadLoad::new(ReadCycle::new(addresses, token), until)
        });
        let surfaces = NodeSurfaces::new(plan.surface, &plan.node_modes);
        let workload = Self {
            surfaces,
            plan,
            wallets,
            state: Mutex::new(state),
            stats,
            finished: watch::Sender::new(false),
            presigned: presign::Presigned::default(),
            reads,
        };
        {
            let mut state = workload.lock();
            let first = if workload.plan.read_only {
                Phase::Reads
            } else if token.is_some() {
                Phase::Grant
            } else {
                Phase::Issue
            };
            workload.enter(&mut state, first, now);
        }
        workload
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Resolves to `true` when the run is done (all phases, or a failure).
    #[must_use]
    pub fn finished(&self) -> watch::Receiver<bool> {
        self.finished.subscribe()
    }

    #[must_use]
    pub fn status(&self) -> WorkloadStatus {
        let state = self.lock();
        let (phase_total, phase_done, phase_failed) = match &self.reads {
            Some(reads) if state.phase == Phase::Reads => reads.counts(),
            _ => (state.phase_total, state.phase_done, state.phase_failed),
        };
        WorkloadStatus {
            read_only: self.plan.read_only,
            phase: state.phase,
            phase_done,
            phase_total,
            phase_failed,
            submitted: state.submitted,
            signed_ahead: self.presigned.taken_total(),
            confirmed: state.confirmed,
            failed: state.failed,
            resyncs: state.resyncs,
            recovered: state.recovered,
            confirmed_by_checkpoint: state.confirmed_by_checkpoint,
            checkpoints_skipped: state.checkpoints.skipped(),
            token: state.token,
            reports: state.reports.clone(),
            verify: state.verify,
            failure: state.failure.clone(),
            failures_by_code: state.failures_by_code.clone(),
            phase_log: state.phase_log.clone(),
            write_surface: self.plan.surface,
            surface_choice: self.plan.surface_choice,
            node_surfaces: self.surfaces.view(),
            surface_refusals: state.surface_refusals,
            events: state.events.clone(),
            memo_text: if self.plan.memo.is_empty() {
                String::new()
            } else {
                let memo = &self.plan.memo;
                format!(
                    "type {:?}, format {:?}, data {:?}",
                    memo.kind, memo.format, memo.data
                )
            },
        }
    }

    #[must_use]
    pub fn plan(&self) -> &WorkloadPlan {
        &self.plan
    }

    #[must_use]
    pub fn wallets(&self) -> &Wallets {
        &self.wallets
    }

    /// Balances the confirmed transactions imply, per address.
    #[must_use]
    pub fn expected_balances(&self) -> HashMap<Address, U256> {
        self.lock().expected.clone()
    }

    /// Balances the verify phase read, per address.
    #[must_use]
    pub fn observed_balances(&self) -> HashMap<Address, U256> {
        self.lock().observed.clone()
    }

    /// Ends the run now with `reason` as its failure (used on interruption and outages).
    pub fn abort(&self, reason: &str) {
        let mut state = self.lock();
        if state.phase != Phase::Done {
            state.failure.get_or_insert_with(|| reason.to_owned());
            let now = Instant::now();
            self.finish_phase(&mut state, now);
            let at = now.saturating_duration_since(state.started);
            state.phase_log.push((Phase::Done, at));
            state.phase = Phase::Done;
            self.finished.send_replace(true);
        }
    }

    fn ticket(state: &mut State, job: Job) -> Ticket {
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.jobs.insert(ticket, job);
        ticket
    }

    // ---- phases ----

    fn enter(&self, state: &mut State, phase: Phase, now: Instant) {
        let at = now.saturating_duration_since(state.started);
        state.phase_log.push((phase, at));
        state.phase = phase;
        state.phase_started = now;
        state.phase_cpu = crate::usage::process_cpu();
        state.phase_signing_cpu = self.presigned.signing_cpu();
        state.phase_done = 0;
        state.phase_failed = 0;
        let plan = &self.plan;
        let book = &mut state.book;
        let mut total = 0u64;
        match phase {
            Phase::Issue => {
                book.push_intent(
                    book.operator(),
                    Intent::new(IntentKind::Issue, Address::ZERO, U256::ZERO),
                );
                total = 1;
            }
            Phase::Grant => {
                for minter in &self.wallets.mint {
                    book.push_intent(
                        book.master(),
                        Intent::new(IntentKind::Grant, minter.address(), plan.allowance),
                    );
                    total += 1;
                }
            }
            Phase::Mint => {
                let per = plan.transfers_per_mint as usize;
                for (m, _) in self.wallets.mint.iter().enumerate() {
                    for transfer in &self.wallets.transfer[m * per..(m + 1) * per] {
                        let intent =
                            Intent::new(IntentKind::Mint, transfer.address(), plan.mint_amount);
                        book.push_intent(book.mint_account(m), intent);
                        total += 1;
                    }
                }
            }
            Phase::Transfer => {
                let per = plan.distributions_per_transfer as usize;
                for t in 0..self.wallets.transfer.len() {
                    for &to in &self.wallets.distribution[t * per..(t + 1) * per] {
                        book.push_intent(
                            book.transfer_account(t),
                            Intent::new(IntentKind::Pay, to, plan.payment_amount()),
                        );
                        total += 1;
                    }
                }
            }
            Phase::Sustained => {
                state.sustained_until = plan.sustained.map(|d| now + d);
                book.set_sustained(true);
            }
            // Counted outside the lock (`self.reads`), ended by `finish_reads`.
            Phase::Reads => {}
            Phase::Verify => {
                state.verify_queue = self
                    .wallets
                    .transfer
                    .iter()
                    .map(Signer::address)
                    .chain(self.wallets.distribution.iter().copied())
                    .collect();
                total += u64::try_from(state.verify_queue.len()).unwrap_or(u64::MAX);
                let ticket = Self::ticket(state, Job::SupplyRead { attempt: 0 });
                state.reads.push_back((now, ticket));
                total += 1;
            }
            Phase::Done => {
                self.finished.send_replace(true);
            }
        }
        state.phase_total = total;
        state.book.refresh_ready();
    }

    fn finish_phase(&self, state: &mut State, now: Instant) {
        state.reports.push(PhaseReport {
            phase: state.phase,
            duration: now.saturating_duration_since(state.phase_started),
            total: state.phase_total,
            confirmed: state.phase_done,
            failed: state.phase_failed,
            cpu: crate::usage::process_cpu()
                .zip(state.phase_cpu)
                .map(|(now, start)| now.saturating_sub(start)),
            signing_cpu: self
                .presigned
                .signing_cpu()
                .saturating_sub(state.phase_signing_cpu),
        });
    }

    fn next_phase(&self, phase: Phase) -> Phase {
        match phase {
            Phase::Issue => Phase::Grant,
            Phase::Grant => Phase::Mint,
            Phase::Mint if self.plan.sustained.is_some() => Phase::Sustained,
            Phase::Mint => Phase::Transfer,
            Phase::Transfer | Phase::Sustained => Phase::Verify,
            Phase::Reads | Phase::Verify | Phase::Done => Phase::Done,
        }
    }

    /// Moves to the next phase when the current one has nothing left.
    fn maybe_advance(&self, state: &mut State, now: Instant) {
        loop {
            let phase = state.phase;
            if phase == Phase::Done {
                return;
            }
            // Counting transactions in flight walks every job: only once the cheap conditions hold
            // (this runs after every answer).
            let no_tx_jobs = |state: &State| !state.jobs.values().any(|j| matches!(j, Job::Tx(_)));
            let finished = match phase {
                Phase::Sustained => {
                    let over = state.sustained_until.is_some_and(|until| now >= until);
                    if over && state.book.sustained() {
                        state.book.set_sustained(false);
                        self.discard_presigned(state);
                    }
                    over && !state.book.has_pending_work() && no_tx_jobs(state)
                }
                Phase::Reads => {
                    let Some(reads) = &self.reads else { return };
                    let (issued, ok, failed) = reads.counts();
                    (state.phase_total, state.phase_done, state.phase_failed) =
                        (issued, ok, failed);
                    reads.finished(now)
                }
                Phase::Verify => state.jobs.is_empty() && state.verify_queue.is_empty(),
                _ => {
                    state.phase_done + state.phase_failed >= state.phase_total && no_tx_jobs(state)
                }
            };
            if !finished {
                return;
            }
            self.finish_phase(state, now);
            if state.phase_failed > 0 && matches!(phase, Phase::Issue | Phase::Grant | Phase::Mint)
            {
                state.failure.get_or_insert_with(|| {
                    format!(
                        "{} phase: {} of {} transactions failed",
                        phase, state.phase_failed, state.phase_total
                    )
                });
                let at = now.saturating_duration_since(state.started);
                state.phase_log.push((Phase::Done, at));
                state.phase = Phase::Done;
                self.finished.send_replace(true);
                return;
            }
            if phase == Phase::Verify && state.verify.mismatched > 0 {
                state.failure.get_or_insert_with(|| {
                    format!(
                        "verify phase: {} of {} balances differ from the confirmed transactions",
                        state.verify.mismatched, state.verify.checked
                    )
                });
            }
            if phase == Phase::Verify && state.verify.unread > 0 {
                state.failure.get_or_insert_with(|| {
                    format!(
                        "verify phase: {} reads got no readable answer in {VERIFY_READ_ATTEMPTS} attempts",
                        state.verify.unread
                    )
                });
            }
            if phase == Phase::Issue && state.token.is_none() {
                state.token = Some(token_address(self.plan.master.address(), &self.plan.symbol));
            }
            let next = self.next_phase(phase);
            self.enter(state, next, now);
        }
    }

    // ---- POST side ----

    /// Takes the next intent that may go to `node` (see `book`: an account's transactions in
    /// flight stay on one node) and its nonce, signed later for `surface`.
    fn reserve_post(
        &self,
        state: &mut State,
        now: Instant,
        surface: WriteSurface,
        node: NodeId,
    ) -> Option<Reserved> {
        if state.phase == Phase::Sustained {
            self.maybe_advance(state, now);
        }
        let (account, intent) = state.book.take_ready(node, |account_index| {
            // Sustained payments: from a transfer wallet to one of its own distribution wallets.
            let per = self.plan.distributions_per_transfer as usize;
            let pick = rand::rng().random_range(0..per.max(1));
            let to = self
                .wallets
                .distribution
                .get(account_index * per + pick)
                .copied()
                .unwrap_or(Address::ZERO);
            Intent::new(IntentKind::Pay, to, U256::from(1))
        })?;
        let nonce = state.book.assign_nonce(account);
        let signer = state.book.signer(account).clone();
        let job = TxJob {
            account,
            nonce,
            intent: intent.clone(),
            hash: B256::ZERO,
            node: 0,
            submitted: now,
            next_check: now,
            deadline: now,
            uncertain: false,
            lookup: false,
        };
        let ticket = Self::ticket(state, Job::Tx(job));
        Some(Reserved {
            ticket,
            signer,
            nonce,
            intent,
            surface,
        })
    }

    /// A transaction signed ahead for one surface, taken by a node that takes the other: its
    /// intent and nonce (never sent) signed again for `surface`.
    fn resign(&self, ticket: Ticket, surface: WriteSurface) -> Option<PostJob> {
        let (reserved, token) = {
            let state = self.lock();
            let Some(Job::Tx(tx)) = state.jobs.get(&ticket) else {
                return None;
            };
            let reserved = Reserved {
                ticket,
                signer: state.book.signer(tx.account).clone(),
                nonce: tx.nonce,
                intent: tx.intent.clone(),
                surface,
            };
            (reserved, state.token.unwrap_or(Address::ZERO))
        };
        Some(
            self.presigned
                .sign_inline(|| self.sign_reserved(&reserved, token)),
        )
    }

    /// Signs a reserved intent (about 20 µs, outside the lock) and notes its hash.
    fn sign_reserved(&self, reserved: &Reserved, token: Address) -> PostJob {
        let (op, kind, body, hash) = self.build(reserved, token);
        if let Some(Job::Tx(job)) = self.lock().jobs.get_mut(&reserved.ticket) {
            job.hash = hash;
        }
        PostJob {
            op,
            kind,
            surface: reserved.surface,
            body,
            ticket: reserved.ticket,
        }
    }

    /// A signed transaction went to `node` (noted with its answer, so that a slot takes a
    /// signed transaction without the workload's lock): from now on it counts as submitted.
    fn hand_over(state: &mut State, ticket: Ticket, node: NodeId) {
        if let Some(Job::Tx(tx)) = state.jobs.get_mut(&ticket) {
            tx.node = node;
        }
        state.submitted += 1;
        if state.phase == Phase::Sustained {
            state.phase_total += 1;
        }
    }

    fn build(&self, reserved: &Reserved, token: Address) -> (Op, TxKind, Vec<u8>, B256) {
        let plan = &self.plan;
        let (chain_id, nonce, signer) = (plan.chain_id, reserved.nonce, &reserved.signer);
        let intent = &reserved.intent;
        // The memo goes on payments (`--memo-*`); funding transactions carry none.
        let no_memo = Memo::default();
        let memo = if intent.kind == IntentKind::Pay {
            &plan.memo
        } else {
            &no_memo
        };
        match intent.kind {
            IntentKind::Issue => {
                let payload = IssuePayload {
                    chain_id,
                    nonce,
                    symbol: plan.symbol.clone(),
                    name: plan.name.clone(),
                    decimals: plan.decimals,
                    master_authority: plan.master.address(),
                    is_private: false,
                    clawback_enabled: true,
                };
                let (body, hash) = sign_for(payload, signer, plan, reserved.surface, memo);
                (Op::Issue, TxKind::Issue, body, hash)
            }
            IntentKind::Grant => {
                let payload = AuthorityPayload {
                    chain_id,
                    nonce,
                    action: AuthorityAction::Grant,
                    authority_type: AuthorityType::MintBurnTokens,
                    authority_address: intent.to,
                    token,
                    value: intent.value,
                };
                let (body, hash) = sign_for(payload, signer, plan, reserved.surface, memo);
                (Op::Grant, TxKind::Authority, body, hash)
            }
            IntentKind::Mint => {
                let payload = MintPayload {
                    chain_id,
                    nonce,
                    recipient: intent.to,
                    value: intent.value,
                    token,
                };
                let (body, hash) = sign_for(payload, signer, plan, reserved.surface, memo);
                (Op::Mint, TxKind::Mint, body, hash)
            }
            IntentKind::Pay => {
                let payload = PaymentPayload {
                    chain_id,
                    nonce,
                    recipient: intent.to,
                    value: intent.value,
                    token,
                };
                let (body, hash) = sign_for(payload, signer, plan, reserved.surface, memo);
                (Op::Payment, TxKind::Payment, body, hash)
            }
        }
    }

    /// A write refused because `node` no longer takes its surface (410/403, section 8.1): the
    /// node's later transactions use what it takes now, its status is read again, and the
    /// switch is an event. Nothing was admitted, so the intent is signed again as it was.
    fn surface_refused(
        &self,
        state: &mut State,
        node: NodeId,
        mode: NodeWriteMode,
        code: &str,
        now: Instant,
    ) {
        state.surface_refusals += 1;
        if let Some((before, after)) = self.surfaces.set_mode(node, mode) {
            let label = self.node_label(node);
            let shown = |surface: Option<WriteSurface>| {
                surface.map_or_else(|| "none (read-only)".to_owned(), |s| format!("/{s}"))
            };
            let at = now.saturating_duration_since(state.started);
            state.events.push((
                at,
                format!(
                    "{label} answered {code}: now {mode}; its writes move from {} to {}",
                    shown(before),
                    shown(after)
                ),
            ));
            self.surfaces.want_status(node);
        }
    }

    /// A node's `/api/status`, read again after a surface refusal (a 404 is an older node:
    /// `/v1` only); a failed read is asked again.
    fn on_status(
        &self,
        state: &mut State,
        node: NodeId,
        result: Result<Bytes, CallError>,
        now: Instant,
    ) -> Option<CallError> {
        let mode = match result {
            Err(e) if e.is_not_found() => Ok(NodeWriteMode::V1Only),
            other => typed::<ApiStatus>(other).map(|status| status.mode()),
        };
        match mode {
            Ok(mode) => {
                self.status_read(state, node, mode, now);
                None
            }
            Err(e) => {
                self.surfaces.want_status(node);
                decode_failure(e)
            }
        }
    }

    /// Records a node's status as read.
    fn status_read(&self, state: &mut State, node: NodeId, mode: NodeWriteMode, now: Instant) {
        let change = self.surfaces.set_mode(node, mode);
        let label = self.node_label(node);
        let at = now.saturating_duration_since(state.started);
        let text = match change {
            Some((_, after)) => format!(
                "{label} /api/status: {mode}; its writes now use {}",
                after.map_or_else(|| "none (read-only)".to_owned(), |s| format!("/{s}"))
            ),
            // The periodic re-read of a read-only node that stays so is not news.
            None if mode == NodeWriteMode::ReadOnly => return,
            None => format!("{label} /api/status: {mode} (confirmed)"),
        };
        state.events.push((at, text));
    }

    fn node_label(&self, node: NodeId) -> String {
        self.plan
            .node_labels
            .get(usize::try_from(node).unwrap_or(usize::MAX))
            .cloned()
            .unwrap_or_else(|| format!("node{}", node + 1))
    }

    /// Gives up on a transaction's intent: it failed for good.
    fn fail_intent(state: &mut State, code: &str) {
        state.phase_failed += 1;
        state.failed += 1;
        *state.failures_by_code.entry(code.to_owned()).or_default() += 1;
    }

    /// Puts an intent back at the front of its account's queue, or fails it after too many tries.
    fn retry_intent(state: &mut State, account: AccountId, mut intent: Intent, code: &str) {
        intent.attempts += 1;
        if intent.attempts >= MAX_ATTEMPTS {
            Self::fail_intent(state, code);
        } else if !(state.phase == Phase::Sustained && intent.kind == IntentKind::Pay) {
            state.book.push_front(account, intent);
        } else {
            // A sustained payment is not owed: drop it rather than retry, and count nothing.
            state.phase_total = state.phase_total.saturating_sub(1);
        }
    }

    fn on_post_done(
        &self,
        state: &mut State,
        ticket: Ticket,
        result: Result<B256, CallError>,
        now: Instant,
    ) {
        let Some(Job::Tx(mut job)) = state.jobs.remove(&ticket) else {
            return;
        };
        match result {
            Ok(hash) => {
                if hash != job.hash {
                    // The node hashed something else than we signed: our encoding and the
                    // node's disagree. Follow the node's hash for the receipt.
                    *state
                        .failures_by_code
                        .entry("hash_mismatch".to_owned())
                        .or_default() += 1;
                    job.hash = hash;
                }
                job.submitted = now;
                job.next_check = now + RECEIPT_FIRST_CHECK;
                job.deadline = now + self.plan.confirm_timeout;
                // A queue per delay keeps each in due order.
                let checks = if self.plan.confirm == ConfirmBy::Checkpoints {
                    job.next_check = now + CHECKPOINT_FALLBACK;
                    state.awaiting.entry(job.hash).or_default().push(ticket);
                    &mut state.checkpoint_fallback
                } else {
                    &mut state.receipt_checks
                };
                checks.push_back(ticket);
                state.jobs.insert(ticket, Job::Tx(job));
            }
            Err(error) => {
                let class = error.class();
                let code = error.error_code().unwrap_or(class.as_str()).to_owned();
                if let Some(mode) = surfaces::mode_revealed_by(&error) {
                    // Refused, not admitted: the nonce is free and the intent goes first again,
                    // in every phase (a sustained payment too: it is signed again, not dropped).
                    self.surface_refused(state, job.node, mode, &code, now);
                    state.book.release(job.account, job.nonce);
                    let mut intent = job.intent;
                    intent.attempts += 1;
                    if intent.attempts >= MAX_ATTEMPTS {
                        Self::fail_intent(state, &code);
                    } else {
                        if state.phase == Phase::Sustained {
                            // Counted again when it is sent again.
                            state.phase_total = state.phase_total.saturating_sub(1);
                        }
                        state.book.push_front(job.account, intent);
                    }
                    state.book.after_release(job.account);
                    return;
                }
                if class.outcome_unknown() {
                    // Maybe admitted: look for a receipt a while before sending again.
                    job.uncertain = true;
                    job.submitted = now;
                    job.next_check = now + RECEIPT_FIRST_CHECK;
                    job.deadline = now + UNCERTAIN_TIMEOUT;
                    state.jobs.insert(ticket, Job::Tx(job));
                    state.receipt_checks.push_back(ticket);
                    return;
                }
                // Not admitted: the nonce is free again.
                state.book.release(job.account, job.nonce);
                let business = class == ErrorClass::Rejected
                    && code != error_code::INVALID_NONCE
                    && code.starts_with("business_");
                if business {
                    Self::fail_intent(state, &code);
                } else {
                    Self::retry_intent(state, job.account, job.intent, &code);
                }
                state.book.after_release(job.account);
            }
        }
    }

    // ---- GET side ----

    fn reserve_get(&self, state: &mut State, now: Instant) -> Option<(Op, String, Ticket)> {
        let token = state.token.unwrap_or(Address::ZERO);
        if self.plan.confirm == ConfirmBy::Checkpoints {
            let awaiting = !state.awaiting.is_empty();
            match state.checkpoints.next_read(now, awaiting) {
                Some(CheckpointRead::Head) => {
                    let ticket = Self::ticket(state, Job::CheckpointHead);
                    return Some((Op::Checkpoint, "/v1/checkpoints/number".to_owned(), ticket));
                }
                Some(CheckpointRead::Checkpoint(number)) => {
                    let ticket = Self::ticket(state, Job::CheckpointRead(number));
                    return Some((Op::Checkpoint, checkpoint_path(number), ticket));
                }
                None => {}
            }
        }
        for queue in [&mut state.receipt_checks, &mut state.checkpoint_fallback] {
            if let Some(check) = Self::due_check(queue, &state.jobs, now) {
                return Some(check);
            }
        }
        if let Some(account) = state.book.take_resync() {
            let address = state.book.signer(account).address();
            let ticket = Self::ticket(state, Job::NonceRead(account));
            state.resyncs += 1;
            return Some((
                Op::Nonce,
                format!("/v1/accounts/nonce?address={address:#x}"),
                ticket,
            ));
        }
        if let Some(&(due, ticket)) = state.reads.front()
            && due <= now
        {
            state.reads.pop_front();
            return match state.jobs.get(&ticket) {
                Some(Job::BalanceRead { address, .. }) => {
                    Some((Op::Balance, balance_path(*address, token), ticket))
                }
                Some(Job::SupplyRead { .. }) => Some((
                    Op::Balance,
                    format!("/v1/tokens/token_metadata?token={token:#x}"),
                    ticket,
                )),
                _ => None,
            };
        }
        if let Some(address) = state.verify_queue.pop_front() {
            let expected = state.expected.get(&address).copied().unwrap_or(U256::ZERO);
            let ticket = Self::ticket(
                state,
                Job::BalanceRead {
                    address,
                    expected,
                    attempt: 0,
                },
            );
            return Some((Op::Balance, balance_path(address, token), ticket));
        }
        None
    }

    /// The first due receipt (or lookup) GET of `queue`, whose tickets are in due order.
    fn due_check(
        queue: &mut VecDeque<Ticket>,
        jobs: &HashMap<Ticket, Job>,
        now: Instant,
    ) -> Option<(Op, String, Ticket)> {
        while let Some(&ticket) = queue.front() {
            match jobs.get(&ticket) {
                Some(Job::Tx(job)) if job.next_check <= now => {
                    queue.pop_front();
                    let (op, path) = if job.lookup {
                        (
                            Op::Lookup,
                            format!("/v1/transactions/by_hash?hash={}", job.hash),
                        )
                    } else {
                        (
                            Op::Receipt,
                            format!("/v1/transactions/receipt/by_hash?hash={}", job.hash),
                        )
                    };
                    return Some((op, path, ticket));
                }
                Some(Job::Tx(_)) => return None,
                // Stale entry (the job ended another way): drop it and look at the next.
                _ => {
                    queue.pop_front();
                }
            }
        }
        None
    }

    /// Returns the decode failure of a 2xx body that was not what the endpoint answers.
    fn on_get_done(
        &self,
        state: &mut State,
        ticket: Ticket,
        result: Result<Bytes, CallError>,
        now: Instant,
    ) -> Option<CallError> {
        let job = state.jobs.remove(&ticket)?;
        match job {
            Job::Tx(job) => return self.on_receipt(state, ticket, job, result, now),
            Job::CheckpointHead => match typed::<CheckpointNumberResponse>(result) {
                Ok(head) => state.checkpoints.head_read(head.number),
                Err(e) => {
                    state.checkpoints.head_failed(now);
                    return decode_failure(e);
                }
            },
            Job::CheckpointRead(number) => return self.on_checkpoint(state, number, result, now),
            Job::StatusRead(node) => return self.on_status(state, node, result, now),
            Job::NonceRead(account) => match typed::<NonceResponse>(result) {
                Ok(answer) => state.book.resynced(account, answer.nonce),
                Err(e) => {
                    state.book.resync_failed(account);
                    return decode_failure(e);
                }
            },
            Job::BalanceRead {
                address,
                expected,
                attempt,
            } => {
                let read = typed::<TokenAccountResponse>(result);
                let failure = read.as_ref().err().cloned().and_then(decode_failure);
                match read.ok() {
                    Some(account) if account.balance == expected => {
                        state.verify.checked += 1;
                        state.verify.matched += 1;
                        state.phase_done += 1;
                    }
                    Some(_) if attempt + 1 >= VERIFY_ATTEMPTS => {
                        state.verify.checked += 1;
                        state.verify.mismatched += 1;
                        state.phase_failed += 1;
                    }
                    None if attempt + 1 >= VERIFY_READ_ATTEMPTS => {
                        state.verify.unread += 1;
                        state.phase_failed += 1;
                    }
                    // A mismatch may be read lag; an error may be a node's trouble: read again.
                    _ => {
                        let ticket = Self::ticket(
                            state,
                            Job::BalanceRead {
                                address,
                                expected,
                                attempt: attempt + 1,
                            },
                        );
                        state.reads.push_back((now + VERIFY_RETRY_DELAY, ticket));
                    }
                }
                return failure;
            }
            Job::SupplyRead { attempt } => {
                let info = match typed::<crate::protocol::wire::MintInfo>(result) {
                    Ok(info) => info,
                    Err(e) if attempt + 1 >= VERIFY_READ_ATTEMPTS => {
                        state.verify.unread += 1;
                        state.phase_failed += 1;
                        return decode_failure(e);
                    }
                    Err(e) => {
                        let retry = Job::SupplyRead {
                            attempt: attempt + 1,
                        };
                        let ticket = Self::ticket(state, retry);
                        state.reads.push_back((now + VERIFY_RETRY_DELAY, ticket));
                        return decode_failure(e);
                    }
                };
                state.verify.reported_supply = Some(info.supply);
                state.verify.expected_supply = state
                    .expected
                    .values()
                    .copied()
                    .fold(U256::ZERO, |a, b| a + b);
                state.verify.checked += 1;
                // An existing token's supply includes mints of earlier runs: nothing to compare.
                if self.plan.existing_token.is_none() && info.supply != state.verify.expected_supply
                {
                    state.verify.mismatched += 1;
                    state.phase_failed += 1;
                } else {
                    state.verify.matched += 1;
                    state.phase_done += 1;
                }
            }
        }
        None
    }

    /// A lookup by hash after an unknown outcome: found means admitted, 404 means not.
    fn on_lookup(
        &self,
        state: &mut State,
        ticket: Ticket,
        mut job: TxJob,
        result: Result<Bytes, CallError>,
        now: Instant,
    ) -> Option<CallError> {
        match typed::<crate::protocol::wire::Transaction>(result) {
            Ok(_) => {
                state.recovered += 1;
                job.lookup = false;
                job.uncertain = false;
                job.next_check = now + RECEIPT_POLL;
                job.deadline = now + self.plan.confirm_timeout;
                state.jobs.insert(ticket, Job::Tx(job));
                state.receipt_checks.push_back(ticket);
            }
            Err(e) if e.is_not_found() => {
                state.book.release(job.account, job.nonce);
                Self::retry_intent(state, job.account, job.intent, "unknown_outcome");
                state.book.after_release(job.account);
            }
            // The lookup itself failed: ask again.
            Err(e) => {
                job.next_check = now + RECEIPT_POLL;
                state.jobs.insert(ticket, Job::Tx(job));
                state.receipt_checks.push_back(ticket);
                return decode_failure(e);
            }
        }
        None
    }

    fn on_receipt(
        &self,
        state: &mut State,
        ticket: Ticket,
        job: TxJob,
        result: Result<Bytes, CallError>,
        now: Instant,
    ) -> Option<CallError> {
        if job.lookup {
            return self.on_lookup(state, ticket, job, result, now);
        }
        let mut job = job;
        let (receipt, failure) = match typed::<Receipt>(result) {
            Ok(receipt) => (Some(receipt), None),
            Err(e) => (None, decode_failure(e)),
        };
        if let Some(receipt) = receipt {
            Self::forget_awaiting(state, job.hash, ticket);
            if job.uncertain {
                // An unknown outcome whose receipt showed up: it had been admitted.
                state.recovered += 1;
            }
            if receipt.success {
                self.confirmed(state, &job, now);
            } else {
                state.book.confirmed(job.account);
                Self::fail_intent(state, "receipt_failed");
            }
            return None;
        }
        if now < job.deadline {
            job.next_check = now + RECEIPT_POLL;
            state.jobs.insert(ticket, Job::Tx(job));
            state.receipt_checks.push_back(ticket);
            return failure;
        }
        if job.uncertain {
            // No receipt yet after an unknown outcome: look it up before sending anything again.
            job.lookup = true;
            job.next_check = now;
            state.jobs.insert(ticket, Job::Tx(job));
            state.receipt_checks.push_back(ticket);
            return failure;
        }
        // Admitted but no receipt in time: count it, and resync (the nonce may or may not be used).
        Self::forget_awaiting(state, job.hash, ticket);
        state.book.confirmed(job.account);
        state.book.want_resync(job.account);
        Self::fail_intent(state, "unconfirmed");
        failure
    }

    /// A checkpoint's hashes: each one awaited is confirmed.
    fn on_checkpoint(
        &self,
        state: &mut State,
        number: u64,
        result: Result<Bytes, CallError>,
        now: Instant,
    ) -> Option<CallError> {
        match typed::<CheckpointHashes>(result) {
            Ok(checkpoint) if checkpoint.number == number => {
                state.checkpoints.checkpoint_read(number);
                for hash in checkpoint.transactions {
                    self.confirm_listed(state, hash, now);
                }
                None
            }
            Ok(other) => {
                state.checkpoints.checkpoint_failed(number, now);
                Some(CallError::Decode(format!(
                    "asked for checkpoint {number}, got {}",
                    other.number
                )))
            }
            Err(e) => {
                state.checkpoints.checkpoint_failed(number, now);
                decode_failure(e)
            }
        }
    }

    /// A transaction executed: its account may send again, and it counts.
    fn confirmed(&self, state: &mut State, job: &TxJob, now: Instant) {
        state.book.confirmed(job.account);
        state.phase_done += 1;
        state.confirmed += 1;
        Self::apply_expected(state, job);
        self.stats.record(Sample {
            node: job.node,
            op: Op::Confirm,
            outcome: Outcome::Ok,
            intended: job.submitted,
            sent: job.submitted,
            done: now,
        });
    }

    /// A checkpoint listed `hash`: every transaction submitted with it is confirmed.
    fn confirm_listed(&self, state: &mut State, hash: B256, now: Instant) {
        let Some(tickets) = state.awaiting.remove(&hash) else {
            return;
        };
        for ticket in tickets {
            if let Some(Job::Tx(job)) = state.jobs.remove(&ticket) {
                // Its entry in `checkpoint_fallback` is now stale and skipped.
                state.confirmed_by_checkpoint += 1;
                self.confirmed(state, &job, now);
            }
        }
    }

    /// A transaction ended another way than by a checkpoint: stop waiting for one.
    fn forget_awaiting(state: &mut State, hash: B256, ticket: Ticket) {
        if let Some(tickets) = state.awaiting.get_mut(&hash) {
            tickets.retain(|t| *t != ticket);
            if tickets.is_empty() {
                state.awaiting.remove(&hash);
            }
        }
    }

    /// An answer of the read-only workload: any JSON body (or a 404) is an answer.
    fn read_done(&self, result: Result<Bytes, CallError>, now: Instant) -> Option<CallError> {
        let failure = match result {
            Ok(body) => serde_json::from_slice::<serde::de::IgnoredAny>(&body)
                .err()
                .map(|e| CallError::Decode(e.to_string())),
            Err(e) if e.is_not_found() => None,
            Err(e) => Some(e),
        };
        if let Some(reads) = &self.reads {
            reads.answered(failure.is_none());
            if reads.finished(now) {
                self.finish_reads(now);
            }
        }
        failure.filter(|e| matches!(e, CallError::Decode(_)))
    }

    /// Ends the reads phase once its time is over and every read answered.
    fn finish_reads(&self, now: Instant) {
        let mut state = self.lock();
        if state.phase == Phase::Reads {
            self.maybe_advance(&mut state, now);
        }
    }

    fn apply_expected(state: &mut State, job: &TxJob) {
        let intent = &job.intent;
        match intent.kind {
            IntentKind::Mint => *state.expected.entry(intent.to).or_default() += intent.value,
            IntentKind::Pay => {
                let from = state.book.signer(job.account).address();
                let balance = state.expected.entry(from).or_default();
                *balance = balance.saturating_sub(intent.value);
                *state.expected.entry(intent.to).or_default() += intent.value;
            }
            IntentKind::Issue | IntentKind::Grant => {}
        }
    }
}

impl WorkSource for Workload {
    fn next_post(&self, node: NodeId) -> Option<PostJob> {
        // A read-only node takes no writes: its POST slots stay unfilled.
        let surface = self.surfaces.surface_of(node)?;
        let now = Instant::now();
        if let Some(job) = self.take_presigned(node, now) {
            if job.surface == surface {
                return Some(job);
            }
            return self.resign(job.ticket, surface);
        }
        // Nothing signed ahead (funding phases, or the signer is behind): sign in the slot.
        let (reserved, token) = {
            let mut state = self.lock();
            let token = state.token.unwrap_or(Address::ZERO);
            (self.reserve_post(&mut state, now, surface, node)?, token)
        };
        Some(
            self.presigned
                .sign_inline(|| self.sign_reserved(&reserved, token)),
        )
    }

    fn post_done(&self, ticket: Ticket, node: NodeId, result: Result<B256, CallError>) {
        let now = Instant::now();
        let mut state = self.lock();
        Self::hand_over(&mut state, ticket, node);
        self.on_post_done(&mut state, ticket, result, now);
        self.maybe_advance(&mut state, now);
    }

    fn next_get(&self, node: NodeId) -> Option<GetJob> {
        let now = Instant::now();
        if let Some(reads) = &self.reads {
            // The read-only workload takes no lock per read.
            if let Some((op, path)) = reads.next(now) {
                return Some(GetJob {
                    op,
                    path,
                    ticket: READ_TICKET,
                });
            }
            self.finish_reads(now);
            return None;
        }
        // A busy lock skips this GET slot instead of waiting: on one core the holder may be
        // descheduled, and the load thread would wait a scheduler slice with every node's
        // slots. GETs here are receipt polls and reads that the next slot takes instead.
        let mut state = match self.state.try_lock() {
            Ok(state) => state,
            Err(std::sync::TryLockError::WouldBlock) => return None,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        };
        if state.phase == Phase::Sustained {
            self.maybe_advance(&mut state, now);
        }
        if state.phase == Phase::Done {
            return None;
        }
        if self.surfaces.take_status_read(node, now) {
            let ticket = Self::ticket(&mut state, Job::StatusRead(node));
            return Some(GetJob {
                op: Op::Status,
                path: API_STATUS_PATH.to_owned(),
                ticket,
            });
        }
        let (op, path, ticket) = self.reserve_get(&mut state, now)?;
        Some(GetJob { op, path, ticket })
    }

    fn get_done(
        &self,
        ticket: Ticket,
        _node: NodeId,
        result: Result<Bytes, CallError>,
    ) -> Option<CallError> {
        let now = Instant::now();
        if ticket == READ_TICKET {
            return self.read_done(result, now);
        }
        let mut state = self.lock();
        let failure = self.on_get_done(&mut state, ticket, result, now);
        self.maybe_advance(&mut state, now);
        failure
    }

    fn skip_phase(&self) {
        let now = Instant::now();
        let mut state = self.lock();
        let skipped = state.book.clear_intents();
        state.phase_total = state.phase_total.saturating_sub(skipped);
        if state.phase == Phase::Sustained {
            state.sustained_until = Some(now);
        }
        if let Some(reads) = &self.reads {
            reads.stop();
        }
        if state.phase == Phase::Verify {
            let reads: Vec<Ticket> = state.reads.drain(..).map(|(_, t)| t).collect();
            for ticket in reads {
                state.jobs.remove(&ticket);
            }
            state.verify_queue.clear();
        }
        self.maybe_advance(&mut state, now);
    }
}

/// Signs a payload for the surface of a reservation; answers its body and hash.
fn sign_for<P: Payload>(
    payload: P,
    signer: &Signer,
    plan: &WorkloadPlan,
    surface: WriteSurface,
    memo: &Memo,
) -> (Vec<u8>, B256) {
    let tx = SignedTx::sign_for(payload, signer, plan.profile, surface, memo);
    (tx.body_for(plan.profile, surface, memo), tx.hash)
}

/// The balance read of `owner` in `token` (lowercase hex, as the read-only workload sends it).
fn balance_path(owner: Address, token: Address) -> String {
    format!("/v1/accounts/token_account?address={owner:#x}&token={token:#x}")
}

/// A 2xx body parsed as `T`; a body that is not a `T` is a decode failure of the request.
fn typed<T: serde::de::DeserializeOwned>(result: Result<Bytes, CallError>) -> Result<T, CallError> {
    let body = result?;
    serde_json::from_slice(&body).map_err(|e| CallError::Decode(e.to_string()))
}

/// The error to count against the request: only a body that did not decode (other errors were
/// already counted from the answer's status).
fn decode_failure(error: CallError) -> Option<CallError> {
    matches!(error, CallError::Decode(_)).then_some(error)
}

/// A shared workload, as the engine takes it.
#[must_use]
pub fn into_source(workload: Arc<Workload>) -> Arc<dyn WorkSource> {
    workload
}
