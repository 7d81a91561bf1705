//! The pacer of one node and direction: takes due slots from its [`Schedule`], pulls work for
//! them from the [`WorkSource`], and sends each request on its own task so that a slow answer
//! never delays the next slot. Missed slots, lag and in-flight requests are counted in the
//! node's counters; every answer becomes a [`Sample`].
//!
//! Pacers and their requests run on their node's load thread (see [`super::LoadThreads`]) and
//! sleep on an [`Alarm`] (a timerfd), so that they wake within ~50 µs of a slot instead of
//! tokio's 1-2 ms. A busy pacer wakes at most every
//! [`QUANTUM`] and sends what is due: the price of precision is thread wake-ups, and this
//! bounds it (4,000 a second) while keeping the send-time error well under a millisecond. A
//! pacer whose work source has nothing sleeps [`IDLE_BACKOFF`] instead.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use super::alarm::Alarm;
use super::node::{Health, PoolNode};
use super::schedule::{BurstWindow, Lattice, Schedule};
use super::{GetJob, PostJob, WorkSource};
use crate::model::Direction;
use crate::stats::{Outcome, Sample, StatsHandle, micros_between};

/// What every pacer of a run shares.
pub struct PaceContext {
    pub work: Arc<dyn WorkSource>,
    pub stats: StatsHandle,
    pub paused: watch::Receiver<bool>,
    /// Requests of one direction a node may have outstanding before slots are missed.
    pub max_in_flight: u32,
    pub tracker: TaskTracker,
    /// When set, every send's (node, direction, intended, actual) time is kept (tests, benches).
    pub send_log: Option<Arc<SendLog>>,
    /// With `--shard`: where this generator's slots sit among the other shards'.
    pub lattice: Option<Lattice>,
}

impl PaceContext {
    /// A schedule of `rate` starting at `now`, or at the next point of the lattice.
    fn schedule(&self, rate: u32, now: Instant) -> Schedule {
        let anchor = self.lattice.map_or(now, |l| l.anchor(rate, now));
        Schedule::new(rate, anchor)
    }
}

/// One request's schedule slot and actual send time.
#[derive(Clone, Copy, Debug)]
pub struct SendRecord {
    pub node: crate::model::NodeId,
    pub direction: Direction,
    pub intended: Instant,
    pub sent: Instant,
}

/// A bounded log of sends, for checking pacing from outside.
#[derive(Debug, Default)]
pub struct SendLog {
    records: std::sync::Mutex<Vec<SendRecord>>,
}

impl SendLog {
    /// At most this many records are kept; later sends are not logged.
    pub const CAPACITY: usize = 2_000_000;

    fn push(&self, record: SendRecord) {
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if records.len() < Self::CAPACITY {
            records.push(record);
        }
    }

    #[must_use]
    pub fn records(&self) -> Vec<SendRecord> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A busy pacer wakes at most this often and sends every slot due at each wake: at high rates
/// slots leave in groups at most this far apart (the send-time error stays below it plus the
/// timer's slack) instead of one wake per slot.
pub const QUANTUM: Duration = Duration::from_micros(250);

/// A pacer whose work source had nothing for a slot sleeps this long instead of waking for
/// every slot (4,000 times a second) to find nothing again: a GET budget is mostly idle when
/// payments are confirmed by checkpoint. Slots that pass meanwhile are neither sent nor missed;
/// work that appears waits at most this long.
pub const IDLE_BACKOFF: Duration = Duration::from_millis(2);

/// Runs until the node is removed or the run ends.
pub async fn pace(direction: Direction, node: Arc<PoolNode>, ctx: Arc<PaceContext>) {
    let mut rates = node.effective.subscribe();
    let mut paused = ctx.paused.clone();
    let counters = Arc::clone(&node.counters);
    let counters = counters.direction(direction);
    let mut schedule = ctx.schedule(rates.borrow_and_update()[direction], Instant::now());
    let mut window = BurstWindow::default();
    // Precise wake-ups (see `alarm`): tokio's 1 ms timer made slots late in groups.
    let mut alarm = Alarm::new();
    let mut last_wake = Instant::now();
    // When the work source last had nothing for a slot, and that slot's intended time.
    let mut starved: Option<(Instant, Instant)> = None;
    // Unfilled slots not yet counted, in slot-nanoseconds (rate x starved time).
    let mut unfilled_nanos: u128 = 0;
    loop {
        let rate = schedule.rate();
        if node.health() == Health::Down {
            // Nothing goes to a down node (the probe brings it back); its slots are counted as
            // missed when the schedule resumes. Check again in a while instead of every slot.
            tokio::select! {
                () = node.cancel.cancelled() => return,
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            let now = Instant::now();
            while let Some((_, dropped)) = schedule.take_due(now) {
                counters.offered.fetch_add(1 + dropped, Ordering::Relaxed);
                counters.missed.fetch_add(1 + dropped, Ordering::Relaxed);
            }
            continue;
        }
        let idle = rate == 0 || *paused.borrow_and_update();
        let wake = if idle {
            None
        } else {
            let now = Instant::now();
            let due = match starved {
                Some((at, _)) => at + IDLE_BACKOFF,
                None => schedule.next_due().max(window.free_at(rate, now)),
            };
            Some(due.max(last_wake + QUANTUM))
        };
        tokio::select! {
            biased;
            () = node.cancel.cancelled() => return,
            changed = rates.changed() => {
                if changed.is_err() { return; }
                schedule = ctx.schedule(rates.borrow_and_update()[direction], Instant::now());
                continue;
            }
            changed = paused.changed() => {
                if changed.is_err() { return; }
                // Resuming starts a fresh schedule: a pause is not lateness.
                schedule = ctx.schedule(rate, Instant::now());
                continue;
            }
            () = wait_until(&mut alarm, wake) => {}
        }
        let now = Instant::now();
        last_wake = now;
        if let Some((_, from)) = starved.take() {
            // The slots from the one that found nothing up to the fresh schedule's first are
            // not lateness: they are unfilled, in the phases that send at the rate. Counted by
            // time (a starved pacer looks again every IDLE_BACKOFF, at low rates a fraction of
            // a slot), to the fresh schedule's first slot: on a shard's lattice that is up to a
            // period after now, and those slots are this starvation's too.
            schedule = ctx.schedule(rate, now);
            if ctx.work.holds_back(direction) {
                let starved_for = schedule.next_due().saturating_duration_since(from);
                unfilled_nanos += u128::from(rate) * starved_for.as_nanos();
            }
            let whole = unfilled_nanos / 1_000_000_000;
            unfilled_nanos %= 1_000_000_000;
            counters
                .unfilled
                .fetch_add(u64::try_from(whole).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
        if let Sent::Starved { slot } =
            send_due(direction, &node, &ctx, &mut schedule, &mut window, now)
        {
            starved = Some((now, slot));
        }
    }
}

/// How a wake's sending ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
    /// Every due slot the burst rule allowed was sent (or missed).
    Done,
    /// The work source had nothing for the slot intended at `slot`.
    Starved { slot: Instant },
}

/// Sends every slot due at `now` that the burst rule allows, each on its own task, until the
/// work source has nothing.
fn send_due(
    direction: Direction,
    node: &Arc<PoolNode>,
    ctx: &Arc<PaceContext>,
    schedule: &mut Schedule,
    window: &mut BurstWindow,
    now: Instant,
) -> Sent {
    let rate = schedule.rate();
    let counters = node.counters.direction(direction);
    while window.free_at(rate, now) <= now {
        let Some((intended, dropped)) = schedule.take_due(now) else {
            break;
        };
        if dropped > 0 {
            counters.offered.fetch_add(dropped, Ordering::Relaxed);
            counters.missed.fetch_add(dropped, Ordering::Relaxed);
        }
        // Missed: the node is down, asked us to wait (429 + Retry-After), or has its cap of
        // unanswered requests.
        if node.health() == Health::Down
            || node.counters.backing_off(now)
            || counters.in_flight.load(Ordering::Relaxed) >= ctx.max_in_flight
        {
            counters.offered.fetch_add(1, Ordering::Relaxed);
            counters.missed.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let sent = match direction {
            // On the pacer's own thread: see `LoadThreads`.
            Direction::Post => ctx.work.next_post(node.id).map(|job| {
                ctx.tracker
                    .spawn(send_post(job, intended, Arc::clone(node), Arc::clone(ctx)));
            }),
            Direction::Get => ctx.work.next_get(node.id).map(|job| {
                ctx.tracker
                    .spawn(send_get(job, intended, Arc::clone(node), Arc::clone(ctx)));
            }),
        };
        if sent.is_none() {
            return Sent::Starved { slot: intended };
        }
        if let Some(log) = &ctx.send_log {
            log.push(SendRecord {
                node: node.id,
                direction,
                intended,
                sent: now,
            });
        }
        counters.offered.fetch_add(1, Ordering::Relaxed);
        counters.sent.fetch_add(1, Ordering::Relaxed);
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        counters
            .lag_us
            .store(micros_between(intended, Instant::now()), Ordering::Relaxed);
        window.record(rate, now);
    }
    Sent::Done
}

async fn wait_until(alarm: &mut Alarm, at: Option<Instant>) {
    match at {
        Some(at) => alarm.sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A 429 with Retry-After (1 s if absent) makes the node's pacers wait that long.
fn honour_retry_after<T>(
    node: &PoolNode,
    result: &Result<T, crate::client::CallError>,
    now: Instant,
) {
    if let Err(crate::client::CallError::Status {
        status: 429,
        retry_after,
        ..
    }) = result
    {
        let wait = retry_after
            .unwrap_or(Duration::from_secs(1))
            .min(super::node::MAX_BACKOFF);
        node.counters.back_off(now + wait);
    }
}

fn outcome_of<T>(result: &Result<T, crate::client::CallError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(e) => Outcome::Failed {
            class: e.class(),
            code: e.error_code().map(str::to_owned),
        },
    }
}

async fn send_post(job: PostJob, intended: Instant, node: Arc<PoolNode>, ctx: Arc<PaceContext>) {
    let sent = Instant::now();
    let result = node
        .client
        .submit_body(job.surface.path(job.kind), job.body)
        .await;
    let done = Instant::now();
    node.counters.post.in_flight.fetch_sub(1, Ordering::Relaxed);
    node.observe(result.as_ref().err().map(crate::client::CallError::class));
    honour_retry_after(&node, &result, done);
    ctx.stats.record(Sample {
        node: node.id,
        op: job.op,
        outcome: outcome_of(&result),
        intended,
        sent,
        done,
    });
    ctx.work.post_done(job.ticket, node.id, result);
}

async fn send_get(job: GetJob, intended: Instant, node: Arc<PoolNode>, ctx: Arc<PaceContext>) {
    let sent = Instant::now();
    let result = node.client.call(hyper::Method::GET, &job.path, None).await;
    let done = Instant::now();
    node.counters.get.in_flight.fetch_sub(1, Ordering::Relaxed);
    honour_retry_after(&node, &result, done);
    // A 404 for a receipt is an ordinary "not yet", not a node fault.
    let failure = match &result {
        Err(e) if e.is_not_found() => None,
        Err(e) => Some(e.clone()),
        Ok(_) => None,
    };
    let decode_failure = ctx.work.get_done(job.ticket, node.id, result);
    let failure = failure.or(decode_failure);
    node.observe(failure.as_ref().map(crate::client::CallError::class));
    let outcome = match failure {
        None => Outcome::Ok,
        Some(e) => Outcome::Failed {
            class: e.class(),
            code: e.error_code().map(str::to_owned),
        },
    };
    ctx.stats.record(Sample {
        node: node.id,
        op: job.op,
        outcome,
        intended,
        sent,
        done,
    });
}

/// While the node is down, checks it every second and marks it up when it answers.
pub async fn probe(node: Arc<PoolNode>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = node.cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        if node.health() == Health::Down && node.client.chain_id().await.is_ok() {
            node.mark_up();
        }
    }
}
