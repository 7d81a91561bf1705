//! The phases: what each owes when it begins, its report when it ends, and the move to the
//! next one once nothing of the current one is left.

use std::time::Instant;

use super::book::{Intent, IntentKind};
use super::{Job, PhaseReport, State, VERIFY_READ_ATTEMPTS, Workload};
use crate::model::Phase;
use crate::protocol::{Address, Signer, U256, token_address};

impl Workload {
    pub(super) fn enter(&self, state: &mut State, phase: Phase, now: Instant) {
        let at = now.saturating_duration_since(state.started);
        state.phase_log.push((phase, at));
        state.phase = phase;
        state.phase_started = now;
        state.phase_cpu = crate::footprint::process_cpu();
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
            Phase::Grant if plan.prepares() => {
                for &minter in &self.wallets.grant_to {
                    book.push_intent(
                        book.master(),
                        Intent::new(IntentKind::Grant, minter, plan.allowance),
                    );
                    total += 1;
                }
            }
            // Shard 0 grants: this shard reads the token until its own minters show.
            Phase::Grant => {
                total = self.wallets.mint.len() as u64;
                let ticket = Self::ticket(state, Job::GrantsRead);
                state.reads.push_back((now, ticket));
            }
            Phase::Ready => {
                if let Some(gate) = plan.gate {
                    let late = now.saturating_duration_since(gate.at);
                    if late > gate.tolerance {
                        state.late_by = Some(late);
                        state.failure.get_or_insert_with(|| {
                            format!(
                                "funded {:.1} s after --start-at, beyond --start-tolerance {:.1} s: the load did not start",
                                late.as_secs_f64(),
                                gate.tolerance.as_secs_f64()
                            )
                        });
                    }
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

    pub(super) fn finish_phase(&self, state: &mut State, now: Instant) {
        state.reports.push(PhaseReport {
            phase: state.phase,
            duration: now.saturating_duration_since(state.phase_started),
            total: state.phase_total,
            confirmed: state.phase_done,
            failed: state.phase_failed,
            cpu: crate::footprint::process_cpu()
                .zip(state.phase_cpu)
                .map(|(now, start)| now.saturating_sub(start)),
            signing_cpu: self
                .presigned
                .signing_cpu()
                .saturating_sub(state.phase_signing_cpu),
        });
    }

    pub(super) fn next_phase(&self, phase: Phase) -> Phase {
        let load = if self.plan.read_only {
            Phase::Reads
        } else if self.plan.sustained.is_some() {
            Phase::Sustained
        } else {
            Phase::Transfer
        };
        match phase {
            Phase::Issue => Phase::Grant,
            Phase::Grant => Phase::Mint,
            Phase::Mint if self.plan.gate.is_some() => Phase::Ready,
            Phase::Mint | Phase::Ready => load,
            Phase::Transfer | Phase::Sustained => Phase::Verify,
            Phase::Reads | Phase::Verify | Phase::Done => Phase::Done,
        }
    }

    /// Funding still going on past `--start-at` + tolerance is of no use: the load would not
    /// start. Ends the run as late.
    fn funding_too_late(&self, state: &mut State, now: Instant) -> bool {
        let Some(gate) = self.plan.gate else {
            return false;
        };
        let late = now.saturating_duration_since(gate.at);
        if !matches!(state.phase, Phase::Issue | Phase::Grant | Phase::Mint)
            || late <= gate.tolerance
        {
            return false;
        }
        state.late_by = Some(late);
        let phase = state.phase;
        state.failure.get_or_insert_with(|| {
            format!(
                "{phase} phase still going {:.1} s after --start-at, beyond --start-tolerance {:.1} s: the load did not start",
                late.as_secs_f64(),
                gate.tolerance.as_secs_f64()
            )
        });
        self.finish_phase(state, now);
        let at = now.saturating_duration_since(state.started);
        state.phase_log.push((Phase::Done, at));
        state.phase = Phase::Done;
        self.finished.send_replace(true);
        true
    }

    /// Moves to the next phase when the current one has nothing left.
    pub(super) fn maybe_advance(&self, state: &mut State, now: Instant) {
        if self.funding_too_late(state, now) {
            return;
        }
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
                // A run that is late ends here (its failure is set on entering).
                Phase::Ready => {
                    state.late_by.is_some() || self.plan.gate.is_none_or(|gate| now >= gate.at)
                }
                _ => {
                    state.phase_done + state.phase_failed >= state.phase_total && no_tx_jobs(state)
                }
            };
            if !finished {
                return;
            }
            self.finish_phase(state, now);
            if phase == Phase::Ready && state.late_by.is_some() {
                let at = now.saturating_duration_since(state.started);
                state.phase_log.push((Phase::Done, at));
                state.phase = Phase::Done;
                self.finished.send_replace(true);
                return;
            }
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
}
