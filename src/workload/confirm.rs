//! The GET side: receipt polls, lookups by hash after an unknown outcome, checkpoint reads,
//! nonce reads and the verify phase's balance reads; what each answer means for the books.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;

use super::book::IntentKind;
use super::checkpoints::CheckpointRead;
use super::{
    GRANTS_POLL, Job, LOOKUP_ELSEWHERE_AFTER, RECEIPT_POLL, State, TxJob, VERIFY_ATTEMPTS,
    VERIFY_READ_ATTEMPTS, VERIFY_RETRY_DELAY, Workload,
};
use crate::client::CallError;
use crate::engine::Ticket;
use crate::model::{ConfirmBy, NodeId, Op, Phase};
use crate::protocol::wire::{
    CheckpointHashes, CheckpointNumberResponse, NonceResponse, Receipt, TokenAccountResponse,
    checkpoint_path,
};
use crate::protocol::{Address, B256, U256};
use crate::stats::{Outcome, Sample};

impl Workload {
    pub(super) fn reserve_get(
        &self,
        state: &mut State,
        now: Instant,
        node: NodeId,
    ) -> Option<(Op, String, Ticket)> {
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
        if let Some(ticket) = Self::lookup_for(&mut state.lookups, &state.jobs, node, now)
            && let Some(Job::Tx(job)) = state.jobs.get(&ticket)
        {
            let path = format!("/v1/transactions/by_hash?hash={}", job.hash);
            return Some((Op::Lookup, path, ticket));
        }
        for queue in [&mut state.receipt_checks, &mut state.checkpoint_fallback] {
            if let Some(check) = Self::due_check(queue, &state.jobs, now) {
                return Some(check);
            }
        }
        if let Some(account) = state.book.take_resync() {
            let address = state.book.signer(account).address();
            let ticket = Self::ticket(state, Job::NonceRead(account));
            // Every account reads its nonce once at first use: only later reads are resyncs.
            if state.book.nonce_known(account) {
                state.resyncs += 1;
            }
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
                Some(Job::SupplyRead { .. } | Job::GrantsRead) => Some((
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

    /// A due lookup for `node`'s slot: one of a transaction it took, or one that waited for its
    /// own node longer than [`LOOKUP_ELSEWHERE_AFTER`]. Ended jobs are dropped on the way.
    fn lookup_for(
        lookups: &mut VecDeque<(Instant, Ticket)>,
        jobs: &HashMap<Ticket, Job>,
        node: NodeId,
        now: Instant,
    ) -> Option<Ticket> {
        lookups.retain(|(_, ticket)| matches!(jobs.get(ticket), Some(Job::Tx(job)) if job.lookup));
        let position = lookups.iter().position(|(since, ticket)| {
            matches!(jobs.get(ticket), Some(Job::Tx(job)) if job.next_check <= now
                && (job.node == node
                    || now.saturating_duration_since(*since) >= LOOKUP_ELSEWHERE_AFTER))
        })?;
        lookups.remove(position).map(|(_, ticket)| ticket)
    }

    /// The first due receipt GET of `queue`, whose tickets are in due order.
    pub(super) fn due_check(
        queue: &mut VecDeque<Ticket>,
        jobs: &HashMap<Ticket, Job>,
        now: Instant,
    ) -> Option<(Op, String, Ticket)> {
        while let Some(&ticket) = queue.front() {
            match jobs.get(&ticket) {
                Some(Job::Tx(job)) if job.next_check <= now => {
                    queue.pop_front();
                    let path = format!("/v1/transactions/receipt/by_hash?hash={}", job.hash);
                    return Some((Op::Receipt, path, ticket));
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
    pub(super) fn on_get_done(
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
            Job::GrantsRead => return self.on_grants(state, result, now),
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
                // An existing token's supply includes mints of earlier runs, and a shard's the
                // other shards' mints (`merge` compares the sum): nothing to compare here.
                if self.plan.existing_token.is_none()
                    && self.plan.shard.is_none()
                    && info.supply != state.verify.expected_supply
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

    /// A shard waiting for shard 0's grants read the token: done once every one of its minters
    /// shows; read again in a while (a 404: not issued yet) until `--start-at` + tolerance.
    fn on_grants(
        &self,
        state: &mut State,
        result: Result<Bytes, CallError>,
        now: Instant,
    ) -> Option<CallError> {
        let (granted, failure) = match typed::<crate::protocol::wire::MintInfo>(result) {
            Ok(info) => {
                let granted = self
                    .wallets
                    .mint
                    .iter()
                    .filter(|minter| {
                        info.mint_burn_authorities
                            .iter()
                            .any(|a| a.minter == minter.address())
                    })
                    .count() as u64;
                (granted, None)
            }
            Err(e) => (state.phase_done, decode_failure(e)),
        };
        state.phase_done = granted;
        if granted >= state.phase_total {
            return failure;
        }
        let gate = self.plan.gate?;
        let late = now.saturating_duration_since(gate.at);
        if late > gate.tolerance {
            state.phase_failed = state.phase_total - granted;
            state.late_by = Some(late);
            state.failure.get_or_insert_with(|| {
                format!(
                    "{} of {} mint wallets of this shard had no grant from shard 0 by --start-at + --start-tolerance ({:.1} s): the load did not start",
                    state.phase_failed,
                    state.phase_total,
                    gate.tolerance.as_secs_f64()
                )
            });
            return failure;
        }
        let ticket = Self::ticket(state, Job::GrantsRead);
        state.reads.push_back((now + GRANTS_POLL, ticket));
        failure
    }

    /// A lookup by hash after an unknown outcome: found means admitted, 404 means not.
    pub(super) fn on_lookup(
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
                Self::retry_intent(state, job.account, job.intent, "unknown_outcome", false);
                state.book.after_release(job.account);
            }
            // The lookup itself failed: ask again (still of the node that took the POST).
            Err(e) => {
                job.next_check = now + RECEIPT_POLL;
                state.jobs.insert(ticket, Job::Tx(job));
                state.lookups.push_back((now, ticket));
                return decode_failure(e);
            }
        }
        None
    }

    pub(super) fn on_receipt(
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
            state.lookups.push_back((now, ticket));
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
    pub(super) fn on_checkpoint(
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
    pub(super) fn confirmed(&self, state: &mut State, job: &TxJob, now: Instant) {
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
    pub(super) fn confirm_listed(&self, state: &mut State, hash: B256, now: Instant) {
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
    pub(super) fn forget_awaiting(state: &mut State, hash: B256, ticket: Ticket) {
        if let Some(tickets) = state.awaiting.get_mut(&hash) {
            tickets.retain(|t| *t != ticket);
            if tickets.is_empty() {
                state.awaiting.remove(&hash);
            }
        }
    }

    /// An answer of the read-only workload: any JSON body (or a 404) is an answer.
    pub(super) fn read_done(
        &self,
        result: Result<Bytes, CallError>,
        now: Instant,
    ) -> Option<CallError> {
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
    pub(super) fn finish_reads(&self, now: Instant) {
        let mut state = self.lock();
        if state.phase == Phase::Reads {
            self.maybe_advance(&mut state, now);
        }
    }

    pub(super) fn apply_expected(state: &mut State, job: &TxJob) {
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

/// The balance read of `owner` in `token` (lowercase hex, as the read-only workload sends it).
pub(super) fn balance_path(owner: Address, token: Address) -> String {
    format!("/v1/accounts/token_account?address={owner:#x}&token={token:#x}")
}

/// A 2xx body parsed as `T`; a body that is not a `T` is a decode failure of the request.
pub(super) fn typed<T: serde::de::DeserializeOwned>(
    result: Result<Bytes, CallError>,
) -> Result<T, CallError> {
    let body = result?;
    serde_json::from_slice(&body).map_err(|e| CallError::Decode(e.to_string()))
}

/// The error to count against the request: only a body that did not decode (other errors were
/// already counted from the answer's status).
pub(super) fn decode_failure(error: CallError) -> Option<CallError> {
    matches!(error, CallError::Decode(_)).then_some(error)
}
