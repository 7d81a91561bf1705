//! The POST side: an intent and its nonce reserved for a node, signed for the surface that node
//! takes, handed to a slot, and what its answer means (admitted, refused, or unknown).

use std::time::Instant;

use rand::RngExt;

use super::book::{AccountId, Intent, IntentKind};
use super::{
    CHECKPOINT_FALLBACK, Job, MAX_ATTEMPTS, RECEIPT_FIRST_CHECK, Reserved, State, TxJob,
    UNCERTAIN_TIMEOUT, Workload, WorkloadPlan, surfaces,
};
use crate::client::{CallError, ErrorClass};
use crate::engine::{PostJob, Ticket};
use crate::model::{ConfirmBy, NodeId, Op, Phase};
use crate::protocol::wire::error_code;
use crate::protocol::{
    Address, AuthorityAction, AuthorityPayload, AuthorityType, B256, IssuePayload, Memo,
    MintPayload, Payload, PaymentPayload, SignedTx, Signer, TxKind, U256, WriteSurface,
};

impl Workload {
    /// Takes the next intent that may go to `node` (see `book`: an account's transactions in
    /// flight stay on one node) and its nonce, signed later for `surface`. A slot that signs
    /// its own (`inline`) while the signer signs ahead takes only an account with nothing in
    /// flight: the signer may be signing that account's previous nonce for the same node at
    /// this moment, and the slot's transaction would leave first.
    pub(super) fn reserve_post(
        &self,
        state: &mut State,
        now: Instant,
        surface: WriteSurface,
        node: NodeId,
        inline: bool,
    ) -> Option<Reserved> {
        if state.phase == Phase::Sustained {
            self.maybe_advance(state, now);
        }
        let unpinned_only = inline && matches!(state.phase, Phase::Transfer | Phase::Sustained);
        let (account, intent) = state
            .book
            .take_ready(node, unpinned_only, |account_index| {
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
            node,
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
    pub(super) fn resign(&self, ticket: Ticket, surface: WriteSurface) -> Option<PostJob> {
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

    /// Signs a reserved intent (outside the lock: a signature takes tens of µs) and notes its
    /// hash.
    pub(super) fn sign_reserved(&self, reserved: &Reserved, token: Address) -> PostJob {
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

    /// A signed transaction went to `node`'s slot (noted with its answer, so that a slot takes
    /// a signed transaction without the workload's lock): from now on it counts as submitted.
    pub(super) fn hand_over(state: &mut State, ticket: Ticket, node: NodeId) {
        if let Some(Job::Tx(tx)) = state.jobs.get_mut(&ticket) {
            tx.node = node;
        }
        state.submitted += 1;
        if state.phase == Phase::Sustained {
            state.phase_total += 1;
        }
    }

    pub(super) fn build(&self, reserved: &Reserved, token: Address) -> (Op, TxKind, Vec<u8>, B256) {
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
                let payload = MintPayload::new(chain_id, nonce, intent.to, intent.value, token);
                let (body, hash) = sign_for(payload, signer, plan, reserved.surface, memo);
                (Op::Mint, TxKind::Mint, body, hash)
            }
            IntentKind::Pay => {
                let payload = PaymentPayload::new(chain_id, nonce, intent.to, intent.value, token);
                let (body, hash) = sign_for(payload, signer, plan, reserved.surface, memo);
                (Op::Payment, TxKind::Payment, body, hash)
            }
        }
    }

    /// Gives up on a transaction's intent: it failed for good.
    pub(super) fn fail_intent(state: &mut State, code: &str) {
        state.phase_failed += 1;
        state.failed += 1;
        *state.failures_by_code.entry(code.to_owned()).or_default() += 1;
    }

    /// Puts an intent back at the front of its account's queue, or fails it after too many tries.
    /// `resend_sustained`: a sustained payment goes first again too (a surface refusal: it is
    /// signed again for the surface its node now takes) instead of being dropped.
    pub(super) fn retry_intent(
        state: &mut State,
        account: AccountId,
        mut intent: Intent,
        code: &str,
        resend_sustained: bool,
    ) {
        intent.attempts += 1;
        let sustained_payment = state.phase == Phase::Sustained && intent.kind == IntentKind::Pay;
        if intent.attempts >= MAX_ATTEMPTS {
            Self::fail_intent(state, code);
        } else if !sustained_payment {
            state.book.push_front(account, intent);
        } else {
            // A sustained payment is not owed: it counts when it is sent (again), not now.
            state.phase_total = state.phase_total.saturating_sub(1);
            if resend_sustained {
                state.book.push_front(account, intent);
            }
        }
    }

    pub(super) fn on_post_done(
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
                    Self::retry_intent(state, job.account, job.intent, &code, true);
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
                    Self::retry_intent(state, job.account, job.intent, &code, false);
                }
                state.book.after_release(job.account);
            }
        }
    }
}

/// Signs a payload for the surface of a reservation; answers its body and hash.
pub(super) fn sign_for<P: Payload>(
    payload: P,
    signer: &Signer,
    plan: &WorkloadPlan,
    surface: WriteSurface,
    memo: &Memo,
) -> (Vec<u8>, B256) {
    let tx = SignedTx::sign_for(payload, signer, plan.profile, surface, memo);
    (tx.body_for(plan.profile, surface, memo), tx.hash)
}
