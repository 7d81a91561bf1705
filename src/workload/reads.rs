//! The read-only workload (`--post-rate 0`): for `--duration`, GETs only, cycling through the
//! wallets with the three reads a payment run makes (nonce, token balance, receipt by hash), so
//! that the generator can be compared with plain HTTP load tools on the same work and a cluster's
//! read path can be loaded on its own.
//!
//! Nothing is signed and nothing is tracked per request: the paths are built as the slots come
//! (no table of ten thousand strings in memory), with lowercase addresses (an EIP-55 checksum
//! costs a keccak per request, and nodes take either). Balances are of `--token` when given; without
//! it, of the token this run's symbol would have (usually unknown to the node: a 404, which is an
//! ordinary answer). Receipts are asked for hashes derived from the wallet, which a node does not
//! know: the answer is the 404 a receipt poll gets before finality, the most common read of a
//! payment run. A 2xx body that is not JSON counts as a decode failure.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::model::Op;
use crate::protocol::Address;

/// Which reads come next.
#[derive(Debug)]
pub struct ReadCycle {
    addresses: Vec<Address>,
    token: Address,
}

impl ReadCycle {
    /// Reads cycle over `addresses`, three reads each.
    #[must_use]
    pub fn new(addresses: Vec<Address>, token: Address) -> Self {
        Self { addresses, token }
    }

    /// Read number `k`: its operation and path.
    #[must_use]
    pub fn read(&self, k: u64) -> (Op, String) {
        let count = self.addresses.len().max(1) as u64;
        let index = usize::try_from((k / 3) % count).unwrap_or(0);
        let address = self.addresses.get(index).copied().unwrap_or(Address::ZERO);
        match k % 3 {
            0 => (
                Op::Nonce,
                format!("/v1/accounts/nonce?address={address:#x}"),
            ),
            1 => (
                Op::Balance,
                super::confirm::balance_path(address, self.token),
            ),
            _ => {
                let hash = Sha256::digest(address.as_slice());
                (
                    Op::Receipt,
                    format!(
                        "/v1/transactions/receipt/by_hash?hash=0x{}",
                        hex::encode(hash)
                    ),
                )
            }
        }
    }
}

/// The read-only workload's state: counters only, no lock, so that a pacer taking its next
/// read never waits for an answer being counted (on one core a pacer that blocked on the
/// workload's mutex waited for the holder to be scheduled again, and its slots went late).
#[derive(Debug)]
pub struct ReadLoad {
    cycle: ReadCycle,
    /// Reads begin here (`--start-at`) and end at `until`.
    from: Instant,
    until: Instant,
    stopped: AtomicBool,
    issued: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
}

/// Reads so far: `(issued, answered ok, failed)`.
pub type ReadCounts = (u64, u64, u64);

impl ReadLoad {
    #[must_use]
    pub fn new(cycle: ReadCycle, from: Instant, until: Instant) -> Self {
        Self {
            cycle,
            from,
            until,
            stopped: AtomicBool::new(false),
            issued: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    /// Whether the reads have begun (the wait for `--start-at` is over).
    #[must_use]
    pub fn begun(&self, now: Instant) -> bool {
        now >= self.from
    }

    /// The next read, or `None` once the duration is over (or the phase was skipped).
    pub fn next(&self, now: Instant) -> Option<(Op, String)> {
        if self.over(now) {
            return None;
        }
        Some(self.cycle.read(self.issued.fetch_add(1, Ordering::Relaxed)))
    }

    /// Counts an answer.
    pub fn answered(&self, ok: bool) {
        let counter = if ok { &self.ok } else { &self.failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Ends the reads now (the operator's skip).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    fn over(&self, now: Instant) -> bool {
        now >= self.until || self.stopped.load(Ordering::Relaxed)
    }

    /// Over, with every read answered.
    pub fn finished(&self, now: Instant) -> bool {
        let (issued, ok, failed) = self.counts();
        self.over(now) && ok + failed >= issued
    }

    #[must_use]
    pub fn counts(&self) -> ReadCounts {
        // Answers before issues: an answer is never counted before its read.
        let ok = self.ok.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        (self.issued.load(Ordering::Relaxed), ok, failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_three_reads_over_every_wallet() {
        let a = Address::repeat_byte(0xaa);
        let b = Address::repeat_byte(0xbb);
        let token = Address::repeat_byte(0x11);
        let cycle = ReadCycle::new(vec![a, b], token);
        let reads: Vec<(Op, String)> = (0..7).map(|k| cycle.read(k)).collect();
        let ops: Vec<Op> = reads.iter().map(|(op, _)| *op).collect();
        assert_eq!(
            ops,
            [
                Op::Nonce,
                Op::Balance,
                Op::Receipt,
                Op::Nonce,
                Op::Balance,
                Op::Receipt,
                Op::Nonce
            ]
        );
        assert_eq!(reads[0].1, format!("/v1/accounts/nonce?address={a:#x}"));
        assert_eq!(
            reads[4].1,
            format!("/v1/accounts/token_account?address={b:#x}&token={token:#x}")
        );
        assert!(
            reads[2]
                .1
                .starts_with("/v1/transactions/receipt/by_hash?hash=0x")
        );
        assert_eq!(
            reads[2].1.len(),
            "/v1/transactions/receipt/by_hash?hash=0x".len() + 64
        );
        assert_ne!(reads[2].1, reads[5].1, "each wallet its own hash");
        assert_eq!(reads[6].1, reads[0].1, "wraps around");
    }

    #[test]
    fn a_read_load_ends_at_its_time_once_every_read_is_answered() {
        let start = Instant::now();
        let until = start + std::time::Duration::from_secs(1);
        let load = ReadLoad::new(
            ReadCycle::new(vec![Address::ZERO], Address::ZERO),
            start,
            until,
        );
        assert!(load.next(start).is_some());
        assert!(load.next(start).is_some());
        load.answered(true);
        assert!(load.next(until).is_none(), "no reads after the duration");
        assert!(!load.finished(until), "one read unanswered");
        load.answered(false);
        assert!(load.finished(until));
        assert_eq!(load.counts(), (2, 1, 1));
        let skipped = ReadLoad::new(ReadCycle::new(vec![], Address::ZERO), start, until);
        skipped.stop();
        assert!(skipped.next(start).is_none() && skipped.finished(start));
    }
}
