//! The workload's state transitions, driven one step at a time with chosen instants (whole runs
//! reach them only through timing): a refused POST frees its nonce; an unknown outcome keeps
//! its nonce until a lookup by hash says nothing was admitted; a confirmation feeds the
//! expected balances that the verify phase checks.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::book::{Intent, IntentKind};
use super::plan::fixtures::{plan, signer};
use super::*;

fn workload(now: Instant) -> Workload {
    let wallets = Wallets {
        mint: Vec::new(),
        transfer: vec![signer(2)],
        distribution: vec![Address::repeat_byte(9)],
        grant_to: Vec::new(),
    };
    Workload::new(plan(), wallets, StatsHandle::detached(), now)
}

/// Takes node 0's next GET, which must be an `op`, and answers it; returns its path.
fn answer_get(w: &Workload, now: Instant, op: Op, answer: Result<Bytes, CallError>) -> String {
    let mut state = w.lock();
    let (got, path, ticket) = w.reserve_get(&mut state, now, 0).expect("a GET is due");
    assert_eq!(got, op, "{path}");
    w.on_get_done(&mut state, ticket, answer, now);
    path
}

/// Reserves, signs and hands over node 0's next POST: its ticket, nonce and hash, or `None`
/// when nothing may be sent.
fn send_post(w: &Workload, now: Instant) -> Option<(Ticket, u64, B256)> {
    let (reserved, token) = {
        let mut state = w.lock();
        let token = state.token.unwrap_or(Address::ZERO);
        (
            w.reserve_post(&mut state, now, WriteSurface::V2, 0, true)?,
            token,
        )
    };
    let job = w.sign_reserved(&reserved, token);
    let mut state = w.lock();
    let Some(Job::Tx(tx)) = state.jobs.get(&job.ticket) else {
        panic!("a reserved POST has its job")
    };
    let hash = tx.hash;
    Workload::hand_over(&mut state, job.ticket, 0);
    Some((job.ticket, reserved.nonce, hash))
}

fn post_answer(w: &Workload, now: Instant, ticket: Ticket, answer: Result<B256, CallError>) {
    let mut state = w.lock();
    w.on_post_done(&mut state, ticket, answer, now);
}

fn status(code: u16) -> CallError {
    CallError::Status {
        status: code,
        code: String::new(),
        message: String::new(),
        retry_after: None,
    }
}

/// A workload in its issue phase whose operator's nonce was read as 7.
fn issuing(t0: Instant) -> Workload {
    let w = workload(t0);
    assert_eq!(w.status().phase, Phase::Issue);
    assert!(
        send_post(&w, t0).is_none(),
        "no POST before the nonce is read"
    );
    let path = answer_get(&w, t0, Op::Nonce, Ok(Bytes::from(r#"{"nonce":7}"#)));
    assert!(
        path.contains(&format!("{:#x}", signer(1).address())),
        "{path}"
    );
    w
}

#[test]
fn a_refused_post_frees_its_nonce_for_the_same_intent() {
    let t0 = Instant::now();
    let w = issuing(t0);
    let (ticket, nonce, _) = send_post(&w, t0).unwrap();
    assert_eq!(nonce, 7);
    assert!(send_post(&w, t0).is_none(), "one issue, in flight");
    post_answer(&w, t0, ticket, Err(status(429)));
    let (ticket, nonce, _) = send_post(&w, t0).expect("the refused issue goes again");
    assert_eq!(nonce, 7, "a refusal admitted nothing: the same nonce");
    post_answer(&w, t0, ticket, Ok(B256::ZERO));
    assert!(
        send_post(&w, t0).is_none(),
        "admitted: nothing to send again"
    );
    let counts = w.status().transactions;
    assert_eq!((counts.submitted, counts.failed), (2, 0));
}

#[test]
fn an_unknown_outcome_keeps_its_nonce_until_a_lookup_finds_nothing() {
    let t0 = Instant::now();
    let w = issuing(t0);
    let (ticket, nonce, hash) = send_post(&w, t0).unwrap();
    post_answer(&w, t0, ticket, Err(status(503)));
    // Receipts are polled first; nothing is sent again while the outcome is unknown.
    let receipt = answer_get(
        &w,
        t0 + Duration::from_millis(200),
        Op::Receipt,
        Err(status(404)),
    );
    assert!(receipt.contains(&hash.to_string()), "{receipt}");
    assert!(send_post(&w, t0 + Duration::from_secs(1)).is_none());
    let late = t0 + UNCERTAIN_TIMEOUT + Duration::from_millis(500);
    answer_get(&w, late, Op::Receipt, Err(status(404)));
    assert!(
        send_post(&w, late).is_none(),
        "not before the lookup answers"
    );
    let lookup = answer_get(&w, late, Op::Lookup, Err(status(404)));
    assert_eq!(lookup, format!("/v1/transactions/by_hash?hash={hash}"));
    let (_, again, _) = send_post(&w, late).expect("not admitted: the intent goes again");
    assert_eq!(again, nonce, "the nonce was never used");
}

#[test]
fn an_unknown_outcome_whose_receipt_shows_up_is_not_sent_again() {
    let t0 = Instant::now();
    let w = issuing(t0);
    let (ticket, _, _) = send_post(&w, t0).unwrap();
    post_answer(&w, t0, ticket, Err(CallError::Lost("reset".to_owned())));
    let receipt = serde_json::json!({
        "success": true, "transaction_hash": B256::ZERO, "fee_used": "0",
        "from": signer(1).address(), "recipient": null, "token_address": null,
        "checkpoint_hash": null, "checkpoint_number": null, "transaction_index": null,
    });
    answer_get(
        &w,
        t0 + Duration::from_millis(200),
        Op::Receipt,
        Ok(Bytes::from(receipt.to_string())),
    );
    let counts = w.status().transactions;
    assert_eq!(
        (counts.submitted, counts.confirmed, counts.recovered),
        (1, 1, 1)
    );
    assert!(send_post(&w, t0 + Duration::from_secs(1)).is_none());
}

#[test]
fn a_confirmation_feeds_the_expected_balances() {
    let t0 = Instant::now();
    let w = workload(t0);
    let mut state = w.lock();
    let payer = state.book.transfer_account(0);
    let payer_address = signer(2).address();
    let payee = Address::repeat_byte(9);
    let job = |account, intent| TxJob {
        account,
        nonce: 0,
        intent,
        hash: B256::ZERO,
        node: 0,
        submitted: t0,
        next_check: t0,
        deadline: t0,
        uncertain: false,
        lookup: false,
    };
    let operator = state.book.operator();
    let mint = Intent::new(IntentKind::Mint, payer_address, U256::from(10));
    w.confirmed(&mut state, &job(operator, mint), t0);
    let pay = Intent::new(IntentKind::Pay, payee, U256::from(4));
    w.confirmed(&mut state, &job(payer, pay), t0);
    assert_eq!(state.expected.get(&payer_address), Some(&U256::from(6)));
    assert_eq!(state.expected.get(&payee), Some(&U256::from(4)));
    assert_eq!(state.confirmed, 2);
}

#[test]
fn only_nonce_reads_after_the_first_are_resyncs() {
    let t0 = Instant::now();
    let w = issuing(t0);
    assert_eq!(
        w.status().transactions.resyncs,
        0,
        "an account's first nonce read is no resync"
    );
    let (ticket, _, _) = send_post(&w, t0).unwrap();
    post_answer(&w, t0, ticket, Ok(B256::ZERO));
    // Admitted, but no receipt within the confirm timeout (1 s): its nonce is read again.
    let late = t0 + Duration::from_secs(2);
    answer_get(&w, late, Op::Receipt, Err(status(404)));
    // The transfer wallet's first read (queued since the start), then the operator's again.
    let first = answer_get(&w, late, Op::Nonce, Ok(Bytes::from(r#"{"nonce":0}"#)));
    assert!(
        first.contains(&format!("{:#x}", signer(2).address())),
        "{first}"
    );
    assert_eq!(w.status().transactions.resyncs, 0);
    let again = answer_get(&w, late, Op::Nonce, Ok(Bytes::from(r#"{"nonce":8}"#)));
    assert!(
        again.contains(&format!("{:#x}", signer(1).address())),
        "{again}"
    );
    assert_eq!(w.status().transactions.resyncs, 1);
}
