//! Following the chain's checkpoints to confirm transactions (`--confirm checkpoints`): one
//! read of a checkpoint's transaction hashes confirms every payment in it, where receipts take
//! a GET per payment (at 15,000 payments/s, 15,000 GETs a second against ~10 here).
//!
//! The follower decides which read the next GET slot makes: the head
//! (`/v1/checkpoints/number`) every [`HEAD_POLL`] while something awaits confirmation, then
//! each checkpoint from where it started up to the head, a few at a time. A checkpoint below
//! the head is read once; the head itself may still be filling (our devnet's is), so it is
//! read again after every head poll until a newer head passes it. A failed read is retried at
//! the next GET slot (often another node's), a second failure in a row after [`RETRY_DELAY`]. It never reads more than [`MAX_BEHIND`] checkpoints back: what it
//! skips is confirmed by the receipt fallback of the workload.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How often the head is read while transactions await confirmation.
pub const HEAD_POLL: Duration = Duration::from_millis(100);
/// How long after a failed read the follower reads again.
pub const RETRY_DELAY: Duration = Duration::from_millis(200);
/// Checkpoint reads in flight at once.
const MAX_IN_FLIGHT: usize = 4;
/// How far behind the head the follower goes back.
pub const MAX_BEHIND: u64 = 64;

/// The read a GET slot should make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointRead {
    Head,
    Checkpoint(u64),
}

/// Where the follower stands.
#[derive(Debug)]
pub struct CheckpointFollower {
    /// The newest head a node reported; `None` before the first answer.
    head: Option<u64>,
    /// Every checkpoint below it has been read in full (read while below the head).
    cursor: u64,
    /// The next checkpoint to ask for (`cursor <= next`).
    next: u64,
    /// Read in full above the cursor (answers arrive out of order).
    finished: BTreeSet<u64>,
    in_flight: usize,
    head_in_flight: bool,
    /// The head checkpoint has been asked for since the last head answer.
    head_checkpoint_asked: bool,
    /// Reads of checkpoints that were the head when asked for: their answers may be partial.
    /// (More than one when a newer head was asked for before an older one's answer came.)
    partial_in_flight: Vec<u64>,
    next_head_poll: Instant,
    not_before: Instant,
    /// Reads failed in a row: the first failure is retried at once (the next GET slot may go
    /// to another node), the ones after it only after [`RETRY_DELAY`].
    failures_in_a_row: u32,
    /// Checkpoints passed over because the follower fell more than [`MAX_BEHIND`] behind.
    skipped: u64,
}

impl CheckpointFollower {
    #[must_use]
    pub fn new(now: Instant) -> Self {
        Self {
            head: None,
            cursor: 0,
            next: 0,
            finished: BTreeSet::new(),
            in_flight: 0,
            head_in_flight: false,
            head_checkpoint_asked: false,
            partial_in_flight: Vec::new(),
            next_head_poll: now,
            not_before: now,
            failures_in_a_row: 0,
            skipped: 0,
        }
    }

    /// The read to make now, if any; `awaiting` says whether anything waits to be confirmed
    /// (with nothing waiting, the head is not polled).
    pub fn next_read(&mut self, now: Instant, awaiting: bool) -> Option<CheckpointRead> {
        if now < self.not_before {
            return None;
        }
        if awaiting && !self.head_in_flight && now >= self.next_head_poll {
            self.head_in_flight = true;
            self.next_head_poll = now + HEAD_POLL;
            return Some(CheckpointRead::Head);
        }
        let head = self.head?;
        if self.in_flight >= MAX_IN_FLIGHT || self.next > head {
            return None;
        }
        if self.next == head {
            if self.head_checkpoint_asked {
                return None;
            }
            self.head_checkpoint_asked = true;
            self.partial_in_flight.push(head);
        }
        let number = self.next;
        self.next += 1;
        self.in_flight += 1;
        Some(CheckpointRead::Checkpoint(number))
    }

    /// A node reported `head` as its latest checkpoint.
    pub fn head_read(&mut self, head: u64) {
        self.head_in_flight = false;
        self.failures_in_a_row = 0;
        if self.head.is_none() {
            self.cursor = head;
            self.next = head;
        }
        if self.head.is_none_or(|known| head > known) {
            self.head = Some(head);
            self.head_checkpoint_asked = false;
        } else if Some(head) == self.head {
            // The head may have gained transactions since it was read: read it again.
            self.head_checkpoint_asked = false;
        }
        let oldest = head.saturating_sub(MAX_BEHIND);
        if self.cursor < oldest {
            self.skipped += oldest - self.cursor;
            self.finished.retain(|&n| n >= oldest);
            self.cursor = oldest;
            self.next = self.next.max(oldest);
        }
    }

    /// The head could not be read.
    pub fn head_failed(&mut self, now: Instant) {
        self.head_in_flight = false;
        // Asked again at the next slot once, then only after the delay.
        self.next_head_poll = now;
        self.failed(now);
    }

    fn failed(&mut self, now: Instant) {
        self.failures_in_a_row += 1;
        if self.failures_in_a_row > 1 {
            self.not_before = now + RETRY_DELAY;
        }
    }

    /// Checkpoint `number` was read: asked for below the head, it counts as read in full;
    /// asked for as the head, it will be read again.
    pub fn checkpoint_read(&mut self, number: u64) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.failures_in_a_row = 0;
        if self.take_partial(number) {
            self.next = self.next.min(number);
        } else if number >= self.cursor {
            self.finished.insert(number);
            while self.finished.remove(&self.cursor) {
                self.cursor += 1;
            }
        }
    }

    /// Checkpoint `number` could not be read (an error, or the node has not got it yet).
    pub fn checkpoint_failed(&mut self, number: u64, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.take_partial(number);
        if number >= self.cursor {
            self.next = self.next.min(number);
            if self.head == Some(number) {
                self.head_checkpoint_asked = false;
            }
        }
        self.failed(now);
    }

    /// Whether `number` was asked for as the head (and forgets that it was).
    fn take_partial(&mut self, number: u64) -> bool {
        let asked_as_head = self.partial_in_flight.contains(&number);
        self.partial_in_flight.retain(|&n| n != number);
        asked_as_head
    }

    /// Checkpoints passed over for being too far behind the head.
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(follower: &mut CheckpointFollower, now: Instant) -> Vec<CheckpointRead> {
        std::iter::from_fn(|| follower.next_read(now, true)).collect()
    }

    #[test]
    fn polls_the_head_only_while_something_awaits_and_not_faster_than_the_poll() {
        let t0 = Instant::now();
        let mut f = CheckpointFollower::new(t0);
        assert_eq!(f.next_read(t0, false), None);
        assert_eq!(f.next_read(t0, true), Some(CheckpointRead::Head));
        assert_eq!(f.next_read(t0, true), None, "one head read at a time");
        f.head_read(10);
        assert_eq!(f.next_read(t0, true), Some(CheckpointRead::Checkpoint(10)));
        assert_eq!(
            f.next_read(t0, true),
            None,
            "the head checkpoint once a poll"
        );
        assert_eq!(
            f.next_read(t0 + HEAD_POLL, true),
            Some(CheckpointRead::Head)
        );
    }

    #[test]
    fn reads_every_checkpoint_up_to_the_head_and_rereads_only_the_head() {
        let t0 = Instant::now();
        let mut f = CheckpointFollower::new(t0);
        f.next_read(t0, true);
        f.head_read(5);
        assert_eq!(drain(&mut f, t0), [CheckpointRead::Checkpoint(5)]);
        f.checkpoint_read(5);
        let t1 = t0 + HEAD_POLL;
        assert_eq!(f.next_read(t1, true), Some(CheckpointRead::Head));
        f.head_read(8);
        // 5 was the head when read: it may have filled since, so it is read again.
        assert_eq!(
            drain(&mut f, t1),
            [5, 6, 7, 8].map(CheckpointRead::Checkpoint)
        );
        for n in [6, 5, 8, 7] {
            f.checkpoint_read(n);
        }
        assert_eq!(f.cursor, 8, "5-7 are done; 8 is the head");
        let t2 = t1 + HEAD_POLL;
        assert_eq!(f.next_read(t2, true), Some(CheckpointRead::Head));
        f.head_read(8);
        assert_eq!(drain(&mut f, t2), [CheckpointRead::Checkpoint(8)]);
        // Asked for as the head, answered after a newer head: still read again.
        f.next_read(t2 + HEAD_POLL, true);
        f.head_read(9);
        f.checkpoint_read(8);
        assert_eq!(
            drain(&mut f, t2 + HEAD_POLL),
            [8, 9].map(CheckpointRead::Checkpoint)
        );
    }

    #[test]
    fn a_head_read_answered_after_a_newer_head_was_asked_for_is_still_partial() {
        let t0 = Instant::now();
        let mut f = CheckpointFollower::new(t0);
        f.next_read(t0, true);
        f.head_read(4);
        assert_eq!(f.next_read(t0, true), Some(CheckpointRead::Checkpoint(4)));
        let t1 = t0 + HEAD_POLL;
        assert_eq!(f.next_read(t1, true), Some(CheckpointRead::Head));
        f.head_read(5);
        assert_eq!(f.next_read(t1, true), Some(CheckpointRead::Checkpoint(5)));
        // 4's answer (asked for as the head) arrives after 5 was asked for as the head.
        f.checkpoint_read(4);
        f.checkpoint_read(5);
        assert_eq!(f.cursor, 4, "neither 4 nor 5 counts as read in full");
        assert_eq!(f.next_read(t1, true), Some(CheckpointRead::Checkpoint(4)));
    }

    #[test]
    fn a_failed_read_is_retried_at_once_then_after_a_delay() {
        let t0 = Instant::now();
        let mut f = CheckpointFollower::new(t0);
        f.next_read(t0, true);
        f.head_read(3);
        assert_eq!(f.next_read(t0, true), Some(CheckpointRead::Checkpoint(3)));
        // A first failure: asked again at once.
        f.checkpoint_failed(3, t0);
        assert_eq!(f.next_read(t0, true), Some(CheckpointRead::Checkpoint(3)));
        // A second in a row: only after the delay.
        f.checkpoint_failed(3, t0);
        assert_eq!(f.next_read(t0, true), None);
        let later = t0 + RETRY_DELAY;
        assert_eq!(f.next_read(later, true), Some(CheckpointRead::Head));
        assert_eq!(
            f.next_read(later, true),
            Some(CheckpointRead::Checkpoint(3))
        );
        f.head_failed(later);
        assert_eq!(
            f.next_read(later, true),
            None,
            "a third failure in a row waits"
        );
        f.checkpoint_read(3);
        let after = later + RETRY_DELAY;
        assert_eq!(f.next_read(after, true), Some(CheckpointRead::Head));
        f.head_failed(after);
        assert_eq!(
            f.next_read(after, true),
            Some(CheckpointRead::Head),
            "after a success, a failure is retried at once"
        );
    }

    #[test]
    fn at_most_a_few_reads_in_flight_and_never_too_far_back() {
        let t0 = Instant::now();
        let mut f = CheckpointFollower::new(t0);
        f.next_read(t0, true);
        f.head_read(100);
        assert_eq!(f.next_read(t0, true), Some(CheckpointRead::Checkpoint(100)));
        f.checkpoint_read(100);
        let t1 = t0 + HEAD_POLL;
        f.next_read(t1, true);
        f.head_read(100 + MAX_BEHIND + 50);
        assert_eq!(f.skipped(), 50);
        let reads = drain(&mut f, t1);
        assert_eq!(reads.len(), MAX_IN_FLIGHT);
        assert_eq!(reads[0], CheckpointRead::Checkpoint(150));
    }
}
