//! Signing ahead of the slots: a signer thread keeps a short queue of signed payments so that a
//! pacer's slot takes a ready transaction instead of spending a signature's time first (tens of
//! µs; BENCHMARKS.md, "Per-request pieces"). Without it, every payment leaves at least one
//! signature late, and at a few thousand a second half of a payment's CPU is its signature
//! (BENCHMARKS.md, "Where a payment's CPU goes").
//!
//! The queue is sized from the rate it is drained at: 25 ms of demand plus a few, so that a rate
//! change is followed within a fraction of a second and few transactions wait (each one holds
//! its account's next nonce while it waits). When the queue is empty the pacer signs inline, as
//! before: the pipeline can only make a slot earlier, never skip one.
//!
//! Only the payment phases (transfer, sustained) sign ahead: the funding phases are bounded by
//! confirmations, not by signing.
//!
//! There is a queue per node, each sized from that node's own takes: an account's transactions
//! in flight are pinned to one node (see `book`), so a transaction is signed for the node that
//! will send it (and for the write surface that node takes). A node that stops taking (down,
//! removed, or read-only) for [`STALE`] has its queue given back: the nonces are released as
//! after a refusal, and its accounts are free to go elsewhere once settled.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use super::Workload;
use crate::engine::PostJob;
use crate::model::NodeId;
use crate::model::Phase;

/// Fewest transactions kept signed while a payment phase runs.
const MIN_DEPTH: u64 = 4;
/// Most: 4,096 (about 200 ms at 20,000 payments/s).
const MAX_DEPTH: u64 = 4_096;
/// How much demand the queue holds.
const AHEAD: Duration = Duration::from_millis(25);
/// The drain rate is re-estimated this often.
const RATE_WINDOW: Duration = Duration::from_millis(200);
/// The signer's longest sleep in a payment phase (a take wakes it sooner).
const IDLE_WAIT: Duration = Duration::from_millis(5);
/// Outside the payment phases: how soon it notices that one began, or the end.
const PHASE_WAIT: Duration = Duration::from_millis(50);
/// A node's queue nobody took from this long is given back.
const STALE: Duration = Duration::from_secs(1);
/// The signer adds up its CPU time before each wait and after this many signatures in a row
/// (a clock read is a system call, ~0.3 µs: not one for every signature).
const CPU_NOTE_EVERY: u32 = 32;

/// Signed transactions waiting for a slot, per node, shared by the signer thread and the
/// pacers.
#[derive(Default)]
pub(super) struct Presigned {
    queues: Mutex<HashMap<NodeId, NodeQueue>>,
    /// Signals the signer that a queue went below half its depth (or that it should stop).
    wake: Condvar,
    /// Transactions taken in the whole run.
    taken_total: AtomicU64,
    /// CPU time of the signer thread's runs of signatures so far, in nanoseconds (its waits
    /// left out): up to date within [`CPU_NOTE_EVERY`] signatures, so that a phase can say how
    /// much of its CPU was signing.
    signer_cpu_ns: AtomicU64,
    /// CPU time of the signatures made in a slot because none was ready, in nanoseconds.
    inline_cpu_ns: AtomicU64,
}

/// One node's signed transactions and what the signer knows of its demand.
struct NodeQueue {
    jobs: VecDeque<PostJob>,
    /// Taken since the signer last estimated the node's rate.
    taken: u64,
    /// Slots of the node that came for a job since then, found one or not.
    asked: u64,
    /// The signer's depth for it: a take wakes the signer only once the queue is below half of
    /// it, so that it signs in batches instead of being woken (a thread switch) for every
    /// payment.
    depth: u64,
    last_take: Instant,
}

impl NodeQueue {
    fn new(now: Instant) -> Self {
        Self {
            jobs: VecDeque::new(),
            taken: 0,
            asked: 0,
            depth: MIN_DEPTH,
            last_take: now,
        }
    }
}

impl Presigned {
    fn queues(&self) -> std::sync::MutexGuard<'_, HashMap<NodeId, NodeQueue>> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A transaction signed for `node`, if one is ready. The first take of a node makes its
    /// queue, which the signer then keeps filled.
    pub(super) fn take(&self, node: NodeId, now: Instant) -> Option<PostJob> {
        let (job, wake) = {
            let mut queues = self.queues();
            let queue = queues.entry(node).or_insert_with(|| NodeQueue::new(now));
            queue.last_take = now;
            queue.asked += 1;
            let job = queue.jobs.pop_front()?;
            queue.taken += 1;
            (job, (queue.jobs.len() as u64) < queue.depth / 2)
        };
        self.taken_total.fetch_add(1, Ordering::Relaxed);
        if wake {
            self.wake.notify_one();
        }
        Some(job)
    }

    /// Estimates each node's drain rate over `window` and sets its depth; answers the jobs of
    /// the nodes that stopped taking, whose queues go (the jobs are to be given back).
    fn plan(&self, window: Duration, now: Instant) -> Vec<PostJob> {
        let mut stale = Vec::new();
        self.queues().retain(|_, queue| {
            if now.saturating_duration_since(queue.last_take) >= STALE {
                stale.extend(queue.jobs.drain(..));
                return false;
            }
            let per_second =
                u64::try_from(u128::from(queue.taken) * 1_000 / window.as_millis().max(1))
                    .unwrap_or(0);
            // A node none of whose slots came in the window (a slow one, a slot every few
            // seconds) gets nothing signed ahead: what would wait for it would go stale.
            queue.depth = if queue.asked == 0 {
                0
            } else {
                depth_for(per_second)
            };
            queue.taken = 0;
            queue.asked = 0;
            true
        });
        stale
    }

    /// The nodes whose queue is below its depth, neediest first.
    fn wanting(&self) -> Vec<NodeId> {
        let mut wanting: Vec<(u64, NodeId)> = self
            .queues()
            .iter()
            .filter_map(|(node, queue)| {
                let len = queue.jobs.len() as u64;
                (len < queue.depth).then(|| (queue.depth - len, *node))
            })
            .collect();
        wanting.sort_unstable_by(|a, b| b.cmp(a));
        wanting.into_iter().map(|(_, node)| node).collect()
    }

    /// Queues a job signed for `node`; answers it back if the node's queue went meanwhile.
    fn push(&self, node: NodeId, job: PostJob) -> Option<PostJob> {
        match self.queues().get_mut(&node) {
            Some(queue) => {
                queue.jobs.push_back(job);
                None
            }
            None => Some(job),
        }
    }

    /// Every job of every queue (the queues stay, empty).
    fn drain_all(&self) -> Vec<PostJob> {
        self.queues()
            .values_mut()
            .flat_map(|queue| queue.jobs.drain(..))
            .collect()
    }

    /// Transactions that left signed ahead, in the whole run.
    pub(super) fn taken_total(&self) -> u64 {
        self.taken_total.load(Ordering::Relaxed)
    }

    /// CPU time spent signing so far: the signer thread's (its waits left out) and that of the
    /// signatures made in slots.
    pub(super) fn signing_cpu(&self) -> Duration {
        Duration::from_nanos(
            self.signer_cpu_ns
                .load(Ordering::Relaxed)
                .saturating_add(self.inline_cpu_ns.load(Ordering::Relaxed)),
        )
    }

    /// Runs `sign` (a signature made in a slot, on a load thread) and counts its CPU time.
    /// Two clock reads (~0.5 µs) against a signature of tens of µs.
    pub(super) fn sign_inline<T>(&self, sign: impl FnOnce() -> T) -> T {
        let started = this_thread_cpu_ns();
        let signed = sign();
        self.inline_cpu_ns.fetch_add(
            this_thread_cpu_ns().saturating_sub(started),
            Ordering::Relaxed,
        );
        signed
    }
}

/// The calling thread's CPU time so far, in nanoseconds (Linux; elsewhere 0, and the summary's
/// signing CPU reads 0).
#[cfg(target_os = "linux")]
fn this_thread_cpu_ns() -> u64 {
    let cpu = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    u64::try_from(cpu.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(cpu.tv_nsec).unwrap_or(0))
}

#[cfg(not(target_os = "linux"))]
fn this_thread_cpu_ns() -> u64 {
    0
}

/// The queue depth for a drain rate of `per_second`.
fn depth_for(per_second: u64) -> u64 {
    let ahead = u64::try_from(u128::from(per_second) * AHEAD.as_millis() / 1_000).unwrap_or(0);
    (ahead + MIN_DEPTH).min(MAX_DEPTH)
}

/// Starts the signer thread; it ends when the run is finished (done or aborted) or dropped.
pub(super) fn spawn_signer(workload: &Arc<Workload>) -> std::io::Result<()> {
    let weak = Arc::downgrade(workload);
    std::thread::Builder::new()
        .name("stress-tui-signer".to_owned())
        .spawn(move || {
            yield_to_the_load_threads();
            sign_ahead(&weak);
        })
        .map(drop)
}

/// The signer's work is ahead of time by design; a pacer's is due now. On a busy core the
/// kernel lets a running thread finish its slice (up to a few ms) before a woken one runs, which
/// made slots late enough to be dropped: 5,000 payments/s on one core achieved 98.6 % with a
/// send-time error p99 of 1.9 ms. As a `SCHED_IDLE` thread the signer is preempted the moment a
/// load thread wakes and still gets every cycle nobody else wants (99.9 %, p99 0.85-1.0 ms);
/// nice 19, the fallback where `SCHED_IDLE` is refused, gets half of that (99.8 %, 1.6 ms).
/// Linux only; a refusal changes nothing but precision.
fn yield_to_the_load_threads() {
    #[cfg(target_os = "linux")]
    if !linux::idle_policy_for_this_thread() {
        const LOWEST_NICE: i32 = 19;
        // On Linux a nice value is per thread: this lowers only the signer.
        let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), LOWEST_NICE);
    }
}

#[cfg(target_os = "linux")]
mod linux {
    /// Puts the calling thread in the `SCHED_IDLE` class; false if the kernel refused.
    // One of the crate's audited `unsafe` blocks (see `engine::alarm` for the list): rustix has
    // no safe `sched_setscheduler`.
    #[allow(unsafe_code)]
    pub(super) fn idle_policy_for_this_thread() -> bool {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 names the calling thread, and `param` is a valid `sched_param` that
        // lives for the whole call; the kernel only reads it.
        unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &raw const param) == 0 }
    }
}

fn sign_ahead(weak: &Weak<Workload>) {
    let mut window_start = Instant::now();
    // Signing CPU is counted per burst of signatures, from the first attempt after a wait to
    // the next wait (or every `CPU_NOTE_EVERY` signatures): the waits and wake-ups themselves
    // are not signing (at 20 payments/s they cost more than the signatures).
    let mut burst = SigningBurst::begin();
    loop {
        let Some(workload) = weak.upgrade() else {
            return;
        };
        let presigned = &workload.presigned;
        if *workload.finished.borrow() {
            return;
        }
        let now = Instant::now();
        let window = now.saturating_duration_since(window_start);
        if window >= RATE_WINDOW {
            let stale = presigned.plan(window, now);
            if !stale.is_empty() {
                workload.give_back(stale);
            }
            window_start = now;
        }
        let mut outcome = SignAhead::Full;
        for node in presigned.wanting() {
            outcome = workload.sign_one_ahead(node, now);
            if !matches!(outcome, SignAhead::NothingReady) {
                break;
            }
        }
        if let SignAhead::Signed = outcome {
            burst.signed += 1;
            if burst.signed == CPU_NOTE_EVERY {
                burst.end(presigned);
                burst = SigningBurst::begin();
            }
            continue;
        }
        burst.end(presigned);
        let wait = match outcome {
            SignAhead::Signed | SignAhead::Full | SignAhead::NothingReady => IDLE_WAIT,
            SignAhead::NotPaying => PHASE_WAIT,
        };
        // Wait for a take, or a while.
        let queues = presigned.queues();
        drop(
            presigned
                .wake
                .wait_timeout(queues, wait)
                .unwrap_or_else(PoisonError::into_inner),
        );
        burst = SigningBurst::begin();
    }
}

/// The signer's CPU clock at the start of a run of signatures, and how many it made.
struct SigningBurst {
    started_ns: u64,
    signed: u32,
}

impl SigningBurst {
    fn begin() -> Self {
        Self {
            started_ns: this_thread_cpu_ns(),
            signed: 0,
        }
    }

    /// Counts the burst's CPU as signing, if it signed anything.
    fn end(&self, presigned: &Presigned) {
        if self.signed > 0 {
            presigned.signer_cpu_ns.fetch_add(
                this_thread_cpu_ns().saturating_sub(self.started_ns),
                Ordering::Relaxed,
            );
        }
    }
}

/// What one attempt of the signer did.
enum SignAhead {
    Signed,
    /// Every queue holds enough.
    Full,
    /// A payment phase, but no account may send now.
    NothingReady,
    NotPaying,
}

impl Workload {
    /// Reserves and signs `node`'s next payment into its queue, for the surface it takes.
    fn sign_one_ahead(&self, node: NodeId, now: Instant) -> SignAhead {
        let Some(surface) = self.surfaces.surface_of(node) else {
            return SignAhead::NothingReady;
        };
        let (reserved, token) = {
            let mut state = self.lock();
            if !matches!(state.phase, Phase::Transfer | Phase::Sustained) {
                return SignAhead::NotPaying;
            }
            let token = state.token.unwrap_or(crate::protocol::Address::ZERO);
            match self.reserve_post(&mut state, now, surface, node, false) {
                Some(reserved) => (reserved, token),
                None => return SignAhead::NothingReady,
            }
        };
        let job = self.sign_reserved(&reserved, token);
        if let Some(orphan) = self.presigned.push(node, job) {
            self.give_back(vec![orphan]);
        }
        SignAhead::Signed
    }

    /// Jobs signed ahead that will not be sent: their nonces are released, newest first, and
    /// an account with others in flight re-reads its nonce as after any refusal.
    fn give_back(&self, jobs: Vec<PostJob>) {
        let mut state = self.lock();
        Self::release_jobs(&mut state, jobs);
    }

    fn release_jobs(state: &mut super::State, jobs: Vec<PostJob>) {
        for job in jobs.into_iter().rev() {
            if let Some(super::Job::Tx(tx)) = state.jobs.remove(&job.ticket) {
                state.book.release(tx.account, tx.nonce);
                state.book.after_release(tx.account);
            }
        }
    }

    /// Starts signing ahead of the slots (see the module docs); without it every slot signs its
    /// own transaction.
    pub fn start_signer(self: &Arc<Self>) -> std::io::Result<()> {
        spawn_signer(self)
    }

    /// When sustained payments end: the transactions signed ahead and not taken are not sent
    /// (the run pays for exactly `--duration`); their nonces are released, newest first, and
    /// an account with others in flight re-reads its nonce as after any refusal.
    pub(super) fn discard_presigned(&self, state: &mut super::State) {
        let waiting = self.presigned.drain_all();
        Self::release_jobs(state, waiting);
    }

    /// Hands a transaction signed for `node` to its slot, if one is ready (without the
    /// workload's lock: the node is noted with the answer).
    pub(super) fn take_presigned(&self, node: NodeId, now: Instant) -> Option<PostJob> {
        self.presigned.take(node, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_signer_thread_yields_to_every_other_thread_and_only_it_does() {
        let policy_and_nice = || {
            let stat = std::fs::read_to_string(format!(
                "/proc/self/task/{}/stat",
                rustix::thread::gettid().as_raw_nonzero()
            ))
            .unwrap();
            // Fields after the command's closing parenthesis: nice is the 19th of stat, policy
            // the 41st.
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
            (fields[41 - 3].to_owned(), fields[19 - 3].to_owned())
        };
        let before = policy_and_nice();
        let (policy, nice) = std::thread::spawn(move || {
            yield_to_the_load_threads();
            policy_and_nice()
        })
        .join()
        .unwrap();
        // SCHED_IDLE is policy 5; where it is refused, nice 19.
        assert!(
            policy == "5" || nice == "19",
            "policy {policy}, nice {nice}"
        );
        assert_eq!(
            policy_and_nice(),
            before,
            "only the signer's own thread yields"
        );
    }

    #[test]
    fn depth_follows_the_rate_within_bounds() {
        assert_eq!(depth_for(0), MIN_DEPTH);
        assert_eq!(depth_for(1_000), 25 + MIN_DEPTH);
        assert_eq!(depth_for(20_000), 500 + MIN_DEPTH);
        assert_eq!(depth_for(10_000_000), MAX_DEPTH);
    }
}
