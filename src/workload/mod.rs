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
//!
//! This module keeps the [`Workload`], its shared state and the [`WorkSource`] glue; each
//! section of its work has a file: `phases` (entering and leaving phases), `submit` (the POST
//! side), `confirm` (receipts, lookups, checkpoints, nonce and balance reads), `cutover` (a
//! node's write surface during a run), `status` (what it reports), `book` (accounts, nonces,
//! the node each account is pinned to), `presign` (signing ahead, per node), `surfaces`,
//! `checkpoints` and `reads`.

mod book;
mod checkpoints;
mod confirm;
mod cutover;
mod phases;
pub mod plan;
mod presign;
mod reads;
mod status;
mod submit;
mod surfaces;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::watch;

use crate::client::CallError;
use crate::engine::{GetJob, PostJob, Ticket, WorkSource};
use crate::model::{NodeId, Op, Phase};
use crate::protocol::wire::API_STATUS_PATH;
use crate::protocol::{Address, B256, Signer, U256, WriteSurface, token_address};
use crate::stats::StatsHandle;
use book::{AccountBook, AccountId, Intent};
use checkpoints::CheckpointFollower;
pub use plan::{StartGate, WalletRanges, Wallets, WorkloadPlan};
use reads::{ReadCycle, ReadLoad};
pub use status::{PhaseReport, TransactionCounts, VerifyTally, WorkloadStatus};
pub use surfaces::{NodeMode, NodeSurface, NodeSurfaces, choose_surface};

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
/// A lookup by hash goes to the node that took the POST: if anything admitted it, that node
/// did, and another node (a lagging replica) may answer 404 for a transaction it has not heard
/// of yet, which would free a nonce that is taken. Only when that node's slots have not taken
/// the lookup for this long (it is down) may another node ask.
const LOOKUP_ELSEWHERE_AFTER: Duration = Duration::from_secs(10);
/// Definite non-admissions (429, connection failures, stale nonces) retry an intent this often.
const MAX_ATTEMPTS: u32 = 20;
/// A balance that disagrees is read again (read lag) this many times before it counts.
const VERIFY_ATTEMPTS: u32 = 3;
/// A read that fails (node trouble, garbage) is tried this many times before the account (or
/// the supply) counts as unread: the verify phase always ends.
const VERIFY_READ_ATTEMPTS: u32 = 20;
const VERIFY_RETRY_DELAY: Duration = Duration::from_millis(500);
/// A shard waiting for shard 0's grants reads the token this often.
const GRANTS_POLL: Duration = Duration::from_millis(500);

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
    /// A shard that does not prepare the token: its minters' grants, read from the token.
    GrantsRead,
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
    /// Lookups by hash after an unknown outcome, with when each began waiting (see
    /// [`LOOKUP_ELSEWHERE_AFTER`]).
    lookups: VecDeque<(Instant, Ticket)>,
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
    /// How late after `--start-at` the funding ended, when later than its tolerance.
    late_by: Option<Duration>,
    /// The load's stage (`--stage`) as the faces show it, set by the run's stage driver.
    stage: Option<String>,
}

/// The ticket of every read of the read-only workload: they need no bookkeeping of their own.
const READ_TICKET: Ticket = Ticket::MAX;

/// The workload; shared by every pacer.
pub struct Workload {
    plan: WorkloadPlan,
    wallets: Wallets,
    state: Mutex<State>,
    /// The last answer of [`WorkSource::holds_back`] per direction (POST, GET): a starved pacer
    /// asks every 2 ms, and must not queue on the lock the hot path holds.
    holds_back: [std::sync::atomic::AtomicBool; 2],
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
        // A shard that does not prepare knows the token's address before shard 0 issues it.
        let token = plan.existing_token.or_else(|| {
            (!plan.prepares()).then(|| token_address(plan.master.address(), &plan.symbol))
        });
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
            lookups: VecDeque::new(),
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
            late_by: None,
            stage: None,
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
            let from = plan.gate.map_or(now, |gate| gate.at.max(now));
            ReadLoad::new(
                ReadCycle::new(addresses, token),
                from,
                from + plan.sustained.unwrap_or_default(),
            )
        });
        let surfaces = NodeSurfaces::new(plan.surface, &plan.node_modes);
        let workload = Self {
            surfaces,
            plan,
            wallets,
            state: Mutex::new(state),
            holds_back: [
                std::sync::atomic::AtomicBool::new(false),
                std::sync::atomic::AtomicBool::new(false),
            ],
            stats,
            finished: watch::Sender::new(false),
            presigned: presign::Presigned::default(),
            reads,
        };
        {
            let mut state = workload.lock();
            let first = if workload.plan.read_only && workload.plan.gate.is_some() {
                Phase::Ready
            } else if workload.plan.read_only {
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

    /// Moves on if the current phase is over by time alone (the wait for `--start-at`): the
    /// run calls it at that time, so that the load does not wait for the next answer.
    pub fn poke(&self) {
        let mut state = self.lock();
        self.maybe_advance(&mut state, Instant::now());
    }

    /// The stage of the load (`--stage`) the faces show, e.g. `stage 2/3 ramp-to 800/1600, 12 s
    /// left`; `None` when the stages are over.
    pub fn set_stage(&self, stage: Option<String>) {
        self.lock().stage = stage;
    }

    /// When the load phase (transfer, sustained payments or reads) began, on the run's clock.
    #[must_use]
    pub fn load_began(&self) -> Option<Duration> {
        let state = self.lock();
        state
            .phase_log
            .iter()
            .find(|(phase, _)| matches!(phase, Phase::Transfer | Phase::Sustained | Phase::Reads))
            .map(|(_, at)| *at)
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
            transactions: TransactionCounts {
                submitted: state.submitted,
                signed_ahead: self.presigned.taken_total(),
                confirmed: state.confirmed,
                failed: state.failed,
                resyncs: state.resyncs,
                recovered: state.recovered,
                confirmed_by_checkpoint: state.confirmed_by_checkpoint,
                checkpoints_skipped: state.checkpoints.skipped(),
                failures_by_code: state.failures_by_code.clone(),
            },
            token: state.token,
            reports: state.reports.clone(),
            verify: state.verify,
            failure: state.failure.clone(),
            phase_log: state.phase_log.clone(),
            write_surface: self.plan.surface,
            surface_choice: self.plan.surface_choice,
            node_surfaces: self.surfaces.view(),
            surface_refusals: state.surface_refusals,
            events: state.events.clone(),
            late_by: state.late_by,
            stage: state.stage.clone(),
            starts_in: self
                .plan
                .gate
                .filter(|_| state.phase == Phase::Ready)
                .map(|gate| gate.at.saturating_duration_since(Instant::now())),
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
}

impl WorkSource for Workload {
    fn holds_back(&self, direction: crate::model::Direction) -> bool {
        use std::sync::atomic::Ordering;
        let index = usize::from(direction == crate::model::Direction::Get);
        // When the lock is busy, the last answer: it changes with the phase, a few times a run.
        let Ok(state) = self.state.try_lock() else {
            return self.holds_back[index].load(Ordering::Relaxed);
        };
        // Sustained holds the rate back only while it makes payments: after its --duration it
        // waits for its last confirmations, and sends nothing at the rate.
        let paying = state.phase == Phase::Sustained && state.book.sustained();
        let answer = match direction {
            // The phases that send POSTs at the rate from the wallets.
            crate::model::Direction::Post => {
                paying || matches!(state.phase, Phase::Mint | Phase::Transfer)
            }
            // The phases that read at the rate: the load's.
            crate::model::Direction::Get => paying || state.phase == Phase::Reads,
        };
        self.holds_back[index].store(answer, Ordering::Relaxed);
        answer
    }

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
            (
                self.reserve_post(&mut state, now, surface, node, true)?,
                token,
            )
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
            if !reads.begun(now) {
                return None;
            }
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
        if matches!(state.phase, Phase::Sustained | Phase::Ready) {
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
        let (op, path, ticket) = self.reserve_get(&mut state, now, node)?;
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

/// A shared workload, as the engine takes it.
#[must_use]
pub fn into_source(workload: Arc<Workload>) -> Arc<dyn WorkSource> {
    workload
}

#[cfg(test)]
mod tests;
