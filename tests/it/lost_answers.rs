//! Answers lost after the node took the request: a connection dropped with no answer
//! (`reset_ratio`) or cut in the middle of the answer (`half_answer_ratio`). The client calls
//! both `lost` (outcome unknown), the workload looks each such POST up by hash instead of
//! freeing its nonce, and the run ends with every balance verified and no nonce signed twice
//! (the devnet counts a second transaction for a nonce already taken: `nonce_reuses`); and
//! on a healthy cluster the generator races none of its own nonces.

use std::time::Duration;

use stress_tui::client::{CallError, ErrorClass};
use stress_tui::devnet::{Devnet, DevnetConfig, KnobsPatch};
use stress_tui::report::Ending;

use crate::support::*;

fn knobs(reset: f64, half: f64) -> KnobsPatch {
    KnobsPatch {
        reset_ratio: Some(reset),
        half_answer_ratio: Some(half),
        ..KnobsPatch::default()
    }
}

#[tokio::test]
async fn a_dropped_or_cut_answer_is_lost_and_the_transaction_took_effect() {
    let f = funded(DevnetConfig::ephemeral(1)).await;
    let to = signer(13).address();
    for (nonce, (reset, half), cause) in [
        (0, (1.0, 0.0), "no answer"),
        (1, (0.0, 1.0), "answer cut off"),
    ] {
        f.devnet.set_knobs(0, &knobs(reset, half)).unwrap();
        let admitted = f.devnet.stats().admitted;
        let signed = pay(&f.holder, nonce, f.token, to, 1);
        match f.node.submit(&signed, PROFILE).await {
            Err(CallError::Lost(message)) => assert!(message.contains(cause), "{message}"),
            other => panic!("expected a lost answer, got {other:?}"),
        }
        assert_eq!(
            f.devnet.stats().admitted,
            admitted + 1,
            "the node took the transaction"
        );
        f.devnet.set_knobs(0, &knobs(0.0, 0.0)).unwrap();
        assert_eq!(
            wait_receipt(&f.node, signed.hash).await.transaction_hash,
            signed.hash
        );
    }
    assert!(ErrorClass::Lost.outcome_unknown());
    assert!(!ErrorClass::Connect.outcome_unknown());
}

/// Sustained payments over 2 nodes, one dropping 5 % of its connections after taking the
/// request, the other cutting 5 % of its answers in half.
async fn sustained_over_lossy_nodes(name: &str, extra: &[&str]) {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    devnet.set_knobs(0, &knobs(0.05, 0.0)).unwrap();
    devnet.set_knobs(1, &knobs(0.0, 0.05)).unwrap();
    let flags = RunFlags::rates(100, 400)
        .wallets(2, 10)
        .duration("10s")
        .extra(extra);
    let (report, _) = run_to_end(&devnet.urls(), name, &flags, Duration::from_secs(180)).await;
    assert_eq!(
        report.ending,
        Ending::Completed,
        "{name}: {:?}",
        report.status.failure
    );
    let status = &report.status;
    assert_eq!(
        status.transactions.failed, 0,
        "{name}: {:?}",
        status.transactions.failures_by_code
    );
    assert_eq!(status.verify.mismatched, 0, "{name}");
    assert_eq!(status.verify.unread, 0, "{name}");
    assert_eq!(
        status.verify.reported_supply,
        Some(status.verify.expected_supply),
        "{name}"
    );
    let ledger = devnet.stats();
    assert_eq!(ledger.nonce_reuses, 0, "{name}: a nonce was signed twice");
    assert_eq!(
        ledger.admitted, status.transactions.confirmed,
        "{name}: each admitted once"
    );
    let lost: u64 = report
        .stats
        .ops
        .values()
        .map(|op| op.errors.get(&ErrorClass::Lost).copied().unwrap_or(0))
        .sum();
    assert!(lost > 0, "{name}: the knobs lost answers");
    assert!(
        status.transactions.recovered > 0,
        "{name}: lost answers were found admitted by hash"
    );
    let summary = stress_tui::report::summary_text(&report);
    assert!(
        summary.contains(&format!(
            "{} unknown outcomes found admitted",
            status.transactions.recovered
        )),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_confirmed_by_receipts_lose_nothing() {
    sustained_over_lossy_nodes("lost-receipts", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_confirmed_by_checkpoints_lose_nothing() {
    sustained_over_lossy_nodes("lost-checkpoints", &["--confirm", "checkpoints"]).await;
}

/// The generator's own nonce races: an account's transactions in flight stay on one node, so a
/// healthy cluster refuses (next to) none of them as `business_invalid_nonce` even with 4 in
/// flight per account over 4 nodes (before pinning: 10 in 17,000 over 3 nodes, 5.9 in 10,000).
/// What is left is rarer and not yet removed: two transactions of one account on one node's
/// separate connections can still arrive out of order (seen: 10 in 59,965). The bound, 3 in
/// 10,000, still fails the behaviour before pinning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_cluster_refuses_no_nonce_the_generator_raced() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(4)).await.unwrap();
    let flags = RunFlags::rates(2000, 2000)
        .wallets(20, 25)
        .in_flight(4)
        .flag("--confirm", "checkpoints")
        .duration("30s");
    let (report, _) = run_to_end(
        &devnet.urls(),
        "nonce-races",
        &flags,
        Duration::from_secs(240),
    )
    .await;
    assert_eq!(
        report.ending,
        Ending::Completed,
        "{:?}",
        report.status.failure
    );
    let submitted = report.status.transactions.submitted;
    let raced = report
        .stats
        .error_codes
        .get("business_invalid_nonce")
        .copied()
        .unwrap_or(0);
    assert!(submitted > 20_000, "{submitted} submitted");
    assert_eq!(devnet.stats().nonce_reuses, 0, "no nonce signed twice");
    assert!(
        raced * 10_000 <= submitted * 3,
        "{raced} of {submitted} refused as business_invalid_nonce"
    );
    println!("nonce races: {raced} of {submitted} transactions");
}

/// A lookup after a lost answer asks the node that took the POST: a lagging replica answers 404
/// for a transaction admitted elsewhere less than its lag ago, and believed, that 404 would free
/// a nonce that is taken (the devnet would count the second transaction as a nonce reuse).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_ask_the_node_that_took_the_post_not_a_lagging_replica() {
    let devnet = Devnet::start(DevnetConfig {
        // Still pooled when the unknown outcomes are looked up (3 s after the POST).
        finality: Duration::from_secs(6),
        ..DevnetConfig::ephemeral(2)
    })
    .await
    .unwrap();
    devnet.set_knobs(0, &knobs(0.5, 0.0)).unwrap();
    let lag = |ms: u64| KnobsPatch {
        read_lag_ms: Some(ms),
        ..KnobsPatch::default()
    };
    devnet.set_knobs(1, &lag(5_000)).unwrap();
    let flags = RunFlags::rates(40, 200)
        .wallets(1, 4)
        .distributions(3)
        .in_flight(8);
    let handle = stress_tui::run::start(run_config(&devnet.urls(), "lost-lagging", &flags))
        .await
        .unwrap();
    // The replica catches up for the balance reads of the verify phase.
    wait_phase(
        &handle,
        stress_tui::model::Phase::Verify,
        Duration::from_secs(150),
    )
    .await;
    devnet.set_knobs(1, &lag(0)).unwrap();
    let report = wait_report(handle, Duration::from_secs(60)).await;
    assert_completed_and_verified(&report);
    assert!(
        report.status.transactions.recovered > 0,
        "answers were lost and found admitted"
    );
    assert_eq!(
        devnet.stats().nonce_reuses,
        0,
        "a taken nonce was signed again"
    );
    assert_eq!(
        devnet.stats().admitted,
        18,
        "each transaction admitted once"
    );
}
