//! The stress run against the devnet, in-process through `run::start`: a scaled-down full run
//! with verification, rate accuracy and the burst rule, live control through the
//! `EngineHandle`, and a node going down without slowing the others.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use stress_tui::devnet::{Devnet, DevnetConfig, KnobsPatch};
use stress_tui::engine::SendLog;
use stress_tui::model::{Direction, NodeId, Op, PerDirection, Phase, parse_node};
use stress_tui::report::Ending;
use stress_tui::run::{self, RunHandle};

use crate::support::{
    RunFlags, assert_completed_and_verified, run_config, run_to_end, set_down, wait_phase,
    wait_report,
};

fn sent(handle: &RunHandle, id: NodeId, direction: Direction) -> u64 {
    let pool = handle.engine.pool();
    pool.nodes.iter().find(|n| n.id == id).map_or(0, |n| {
        n.counters.direction(direction).sent.load(Ordering::Relaxed)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_down_full_run_verifies_every_balance() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(3)).await.unwrap();
    let flags = RunFlags::rates(300, 600).wallets(3, 10);
    let handle = run::start(run_config(&devnet.urls(), "scaled", &flags))
        .await
        .unwrap();
    let workload = Arc::clone(&handle.workload);
    let report = wait_report(handle, Duration::from_secs(60)).await;
    assert_eq!(
        report.ending,
        Ending::Completed,
        "{:?}",
        report.status.failure
    );
    let status = &report.status;
    // The payments of the transfer phase leave signed ahead by the signer thread (the funding
    // phases sign in their slots).
    assert!(
        status.transactions.signed_ahead > 0 && status.transactions.signed_ahead <= 120,
        "signed ahead: {}",
        status.transactions.signed_ahead
    );
    // Signing CPU is counted in the phase it signed for, as part of the process's: every
    // phase but verify signs (the funding phases in their slots).
    for phase in &status.reports {
        let signing = phase.signing_cpu;
        if phase.phase == Phase::Verify {
            // Nothing is signed: at most the tail of a run of signatures begun in the
            // transfer phase lands here (the signer's waits are not counted).
            assert!(signing < phase.duration / 20, "{phase:?}");
        } else {
            assert!(signing > Duration::ZERO, "{phase:?}");
        }
        // `cpu` has 10 ms ticks; the thread clocks are exact.
        if let Some(cpu) = phase.cpu {
            assert!(signing <= cpu + Duration::from_millis(20), "{phase:?}");
        }
    }
    let send_error = report.stats.send_error.post;
    assert_eq!(
        send_error.count,
        report.stats.nodes.iter().map(|n| n.post.count).sum::<u64>()
    );
    let phases: Vec<Phase> = status.reports.iter().map(|r| r.phase).collect();
    assert_eq!(
        phases,
        [
            Phase::Issue,
            Phase::Grant,
            Phase::Mint,
            Phase::Transfer,
            Phase::Verify
        ]
    );
    // 1 issue + 3 grants + 30 mints + 120 payments.
    assert_eq!(status.transactions.confirmed, 154);
    assert_eq!(status.transactions.failed, 0);
    assert_eq!(status.verify.checked, 30 + 120 + 1);
    assert_eq!(status.verify.mismatched, 0);
    // The devnet's ledger agrees with what the tool believes, wallet by wallet.
    let token = status.token.unwrap();
    let expected = workload.expected_balances();
    assert_eq!(expected.len(), 150);
    for (address, balance) in expected {
        assert_eq!(devnet.balance(token, address), balance, "{address}");
    }
    // Every node got a share of the POSTs.
    for node in &report.pool.nodes {
        assert!(
            report.stats.node(node.id).unwrap().post.count > 20,
            "{}",
            node.label
        );
    }
    let summary = stress_tui::report::summary_text(&report);
    assert!(
        summary.contains("verify: 151 balances checked, 151 match, 0 differ"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_are_accurate_per_node_and_never_burst() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let mut config = run_config(
        &devnet.urls(),
        "rates",
        &RunFlags::rates(200, 600)
            .wallets(2, 40)
            .in_flight(4)
            .duration("14s"),
    );
    let log = Arc::new(SendLog::default());
    config.send_log = Some(Arc::clone(&log));
    let handle = run::start(config).await.unwrap();
    wait_phase(&handle, Phase::Sustained, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = [
        sent(&handle, 0, Direction::Post),
        sent(&handle, 1, Direction::Post),
    ];
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = [
        sent(&handle, 0, Direction::Post),
        sent(&handle, 1, Direction::Post),
    ];
    let secs = started.elapsed().as_secs_f64();
    for node in 0..2 {
        let rate = (after[node] - before[node]) as f64 / secs;
        assert!(
            (95.0..=105.0).contains(&rate),
            "node {node}: {rate:.1}/s against 100/s"
        );
    }
    let total = (after[0] + after[1] - before[0] - before[1]) as f64 / secs;
    assert!(
        (190.0..=210.0).contains(&total),
        "total {total:.1}/s against 200/s"
    );
    let report = handle.wait().await.unwrap();
    assert_eq!(
        report.ending,
        Ending::Completed,
        "{:?}",
        report.status.failure
    );
    // The asked rate was sent: no note that the workload held it back.
    let summary = stress_tui::report::summary_text(&report);
    assert!(!summary.contains("held the rate back"), "{summary}");

    // The burst rule over every recorded send: at most ceil(rate x 0.01) + 1 per 10 ms.
    let records = log.records();
    for node in 0..2 {
        for (direction, rate) in [(Direction::Post, 100u64), (Direction::Get, 300)] {
            let mut times: Vec<Instant> = records
                .iter()
                .filter(|r| r.node == node && r.direction == direction)
                .map(|r| r.sent)
                .collect();
            times.sort();
            assert!(
                times.len() > 100,
                "node {node} {direction:?}: {} sends",
                times.len()
            );
            let limit = usize::try_from(rate.div_ceil(100) + 1).unwrap();
            let mut start = 0;
            for end in 0..times.len() {
                while times[end] - times[start] >= Duration::from_millis(10) {
                    start += 1;
                }
                assert!(
                    end - start < limit,
                    "node {node} {direction:?}: {} sends within 10 ms",
                    end - start + 1
                );
            }
            assert!(
                records.iter().all(|r| r.sent >= r.intended),
                "never sent early"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_control_adds_removes_rates_and_pauses() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(3)).await.unwrap();
    let urls = devnet.urls();
    let flags = RunFlags::rates(100, 400)
        .wallets(2, 20)
        .in_flight(4)
        .duration("60s");
    let handle = run::start(run_config(&urls[..2], "live", &flags))
        .await
        .unwrap();
    wait_phase(&handle, Phase::Sustained, Duration::from_secs(60)).await;

    // Add the third node: it gets its share (100/3 ≈ 33/s) within a second.
    let added = handle
        .engine
        .add_node(parse_node(&urls[2]).unwrap())
        .await
        .unwrap();
    assert_eq!(added, 2);
    assert!(
        handle
            .engine
            .add_node(parse_node(&urls[2]).unwrap())
            .await
            .unwrap_err()
            .contains("already")
    );
    let pool = handle.engine.pool();
    assert_eq!(
        pool.nodes.iter().map(|n| n.rates.post).collect::<Vec<_>>(),
        [34, 33, 33]
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let first = sent(&handle, added, Direction::Post);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let added_rate = sent(&handle, added, Direction::Post) - first;
    assert!(
        (25..=40).contains(&added_rate),
        "added node sent {added_rate} in a second"
    );

    // One node's rate: the others keep theirs.
    handle
        .engine
        .set_node_rates(0, PerDirection { post: 60, get: 100 })
        .await
        .unwrap();
    let pool = handle.engine.pool();
    assert_eq!(
        pool.nodes.iter().map(|n| n.rates.post).collect::<Vec<_>>(),
        [60, 33, 33]
    );
    assert!(
        handle
            .engine
            .set_node_rates(9, PerDirection::default())
            .await
            .is_err()
    );
    let (a0, a1) = (
        sent(&handle, 0, Direction::Post),
        sent(&handle, 1, Direction::Post),
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r0 = (sent(&handle, 0, Direction::Post) - a0) as f64 / 3.0;
    let r1 = (sent(&handle, 1, Direction::Post) - a1) as f64 / 3.0;
    assert!(
        (52.0..=66.0).contains(&r0),
        "node 0 at {r0:.1}/s against 60/s"
    );
    assert!(
        (28.0..=38.0).contains(&r1),
        "node 1 at {r1:.1}/s against 33/s"
    );

    // Remove node 1: nothing more is sent to it.
    let removed_counters = Arc::clone(&handle.engine.pool().nodes[1].counters);
    let requests = move || {
        removed_counters.post.sent.load(Ordering::Relaxed)
            + removed_counters.get.sent.load(Ordering::Relaxed)
    };
    handle.engine.remove_node(1).await.unwrap();
    let removed_at = requests();
    let pool = handle.engine.pool();
    assert_eq!(pool.nodes.iter().map(|n| n.id).collect::<Vec<_>>(), [0, 2]);
    let removed: Vec<NodeId> = pool.removed.iter().map(|r| r.view.id).collect();
    assert_eq!(removed, [1]);
    let admitted_before = devnet.stats().admitted;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        devnet.stats().admitted > admitted_before,
        "the others still send"
    );
    assert_eq!(
        requests(),
        removed_at,
        "a removed node gets no more requests"
    );

    // Pause: nothing is sent; resume: sending starts again.
    handle.engine.pause().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paused_at = sent(&handle, 0, Direction::Post);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        sent(&handle, 0, Direction::Post),
        paused_at,
        "sent while paused"
    );
    assert!(handle.engine.pool().paused);
    handle.engine.resume().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        sent(&handle, 0, Direction::Post) > paused_at + 30,
        "not resumed"
    );

    handle.engine.skip_phase().await;
    let report = wait_report(handle, Duration::from_secs(60)).await;
    assert_eq!(
        report.ending,
        Ending::Completed,
        "{:?}",
        report.status.failure
    );
    assert_eq!(
        requests(),
        removed_at,
        "a removed node gets no more requests"
    );
    assert!(
        report.stats.node(1).is_some(),
        "its measurements stay in the report"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_going_down_does_not_slow_the_others() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(3)).await.unwrap();
    let flags = RunFlags::rates(150, 600)
        .wallets(2, 30)
        .in_flight(4)
        .duration("10s")
        .flag("--request-timeout", "1s");
    let handle = run::start(run_config(&devnet.urls(), "down", &flags))
        .await
        .unwrap();
    wait_phase(&handle, Phase::Sustained, Duration::from_secs(60)).await;
    set_down(&devnet, 0, true);
    devnet
        .set_knobs(
            1,
            &KnobsPatch {
                latency_ms: Some(200),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = sent(&handle, 2, Direction::Post);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let healthy_rate = (sent(&handle, 2, Direction::Post) - before) as f64 / 4.0;
    assert!(
        (47.0..=53.0).contains(&healthy_rate),
        "healthy node at {healthy_rate:.1}/s against 50/s"
    );
    let slow_before = sent(&handle, 1, Direction::Post);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let slow_rate = (sent(&handle, 1, Direction::Post) - slow_before) as f64 / 2.0;
    assert!(
        (45.0..=55.0).contains(&slow_rate),
        "slow node still paced at {slow_rate:.1}/s"
    );
    let down = handle.engine.pool().nodes[0].health();
    assert_eq!(down, stress_tui::engine::Health::Down);
    set_down(&devnet, 0, false);
    let report = wait_report(handle, Duration::from_secs(60)).await;
    assert_completed_and_verified(&report);
    let errors = &report.stats.node(0).unwrap().post.errors;
    assert!(
        errors
            .get(&stress_tui::client::ErrorClass::Connect)
            .copied()
            .unwrap_or(0)
            > 0,
        "{errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_run_sends_only_reads_spread_over_nodes() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    // Half of node 2's answers are garbage: counted as decode failures of that node only.
    devnet
        .set_knobs(
            1,
            &KnobsPatch {
                garbage_ratio: Some(0.5),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
    let requests_before = devnet.requests();
    let flags = RunFlags::rates(0, 400).duration("3s");
    let handle = run::start(run_config(&devnet.urls(), "reads", &flags))
        .await
        .unwrap();
    let report = wait_report(handle, Duration::from_secs(30)).await;
    assert_eq!(
        report.ending,
        Ending::Completed,
        "{:?}",
        report.status.failure
    );
    assert!(report.status.read_only);
    let phases: Vec<Phase> = report.status.reports.iter().map(|r| r.phase).collect();
    assert_eq!(phases, [Phase::Reads]);
    let reads = &report.status.reports[0];
    assert!((1_150..=1_210).contains(&reads.total), "{reads:?}");
    assert_eq!(reads.confirmed + reads.failed, reads.total);
    // Nothing signed, nothing admitted; every request the devnet saw was one of ours (plus the
    // chain id reads at start and the probes).
    assert_eq!(devnet.stats().admitted, 0);
    assert_eq!(report.status.transactions.submitted, 0);
    let seen = devnet.requests() - requests_before;
    assert!(
        (reads.total..=reads.total + 10).contains(&seen),
        "devnet saw {seen}, run read {}",
        reads.total
    );
    // Nonce, balance and receipt reads in equal parts.
    let ops: Vec<(Op, u64)> = report
        .stats
        .ops
        .iter()
        .map(|(op, s)| (*op, s.count))
        .collect();
    assert_eq!(
        ops.iter().map(|(op, _)| *op).collect::<Vec<_>>(),
        [Op::Receipt, Op::Nonce, Op::Balance]
    );
    for (op, count) in &ops {
        assert!(count.abs_diff(reads.total / 3) <= 2, "{op:?}: {count}");
    }
    // Each node its half, no POSTs; the garbage only on node 2.
    let nodes = &report.stats.nodes;
    for node in nodes {
        assert_eq!(node.post.count, 0);
        assert!(node.get.count.abs_diff(reads.total / 2) <= 10, "{node:?}");
    }
    let decode = |i: usize| {
        nodes[i]
            .get
            .errors
            .get(&stress_tui::client::ErrorClass::Decode)
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(decode(0), 0);
    let share = decode(1) as f64 / nodes[1].get.count as f64;
    assert!((0.35..=0.65).contains(&share), "garbage share {share}");
    assert_eq!(reads.failed, decode(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirming_by_checkpoint_reads_checkpoints_not_a_receipt_per_payment() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let flags = RunFlags::rates(200, 400)
        .wallets(2, 5)
        .in_flight(8)
        .duration("3s")
        .flag("--confirm", "checkpoints");
    let (report, workload) = run_to_end(
        &devnet.urls(),
        "by-checkpoint",
        &flags,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(
        report.ending,
        Ending::Completed,
        "{:?}",
        report.status.failure
    );
    let status = &report.status;
    assert_eq!(status.transactions.failed, 0);
    assert_eq!(status.verify.mismatched, 0);
    assert_eq!(status.verify.unread, 0);
    let sustained = status
        .reports
        .iter()
        .find(|r| r.phase == Phase::Sustained)
        .unwrap();
    assert!(sustained.confirmed > 300, "{sustained:?}");
    // Nearly every transaction is confirmed by a checkpoint; a receipt only where a
    // checkpoint was missed (none should be, on a healthy devnet).
    assert!(
        status.transactions.confirmed_by_checkpoint + 5 >= status.transactions.confirmed,
        "{} of {} by checkpoint",
        status.transactions.confirmed_by_checkpoint,
        status.transactions.confirmed
    );
    assert_eq!(status.transactions.checkpoints_skipped, 0);
    let count = |op| report.stats.ops.get(&op).map_or(0, |s| s.count);
    let (receipts, checkpoints) = (count(Op::Receipt), count(Op::Checkpoint));
    assert!(receipts <= 5, "{receipts} receipt GETs");
    // The head every 100 ms, each 200 ms checkpoint once or twice: a few dozen a second.
    let secs = report.elapsed.as_secs_f64();
    assert!(
        checkpoints > 0 && (checkpoints as f64) < 40.0 * secs,
        "{checkpoints} checkpoint GETs in {secs:.1} s"
    );
    // The ledger agrees with what the tool believes.
    let token = status.token.unwrap();
    for (address, balance) in workload.expected_balances() {
        assert_eq!(devnet.balance(token, address), balance, "{address}");
    }
    let summary = stress_tui::report::summary_text(&report);
    assert!(summary.contains("confirmed by checkpoint"), "{summary}");
}

/// A work source with nothing to send, counting how often the pacers ask.
#[derive(Default)]
struct NothingToSend {
    asked: [std::sync::atomic::AtomicU64; 2],
}

impl stress_tui::engine::WorkSource for NothingToSend {
    fn next_post(&self, _node: NodeId) -> Option<stress_tui::engine::PostJob> {
        self.asked[0].fetch_add(1, Ordering::Relaxed);
        None
    }
    fn post_done(
        &self,
        _ticket: u64,
        _node: NodeId,
        _result: Result<stress_tui::protocol::B256, stress_tui::client::CallError>,
    ) {
    }
    fn next_get(&self, _node: NodeId) -> Option<stress_tui::engine::GetJob> {
        self.asked[1].fetch_add(1, Ordering::Relaxed);
        None
    }
    fn get_done(
        &self,
        _ticket: u64,
        _node: NodeId,
        _result: Result<bytes::Bytes, stress_tui::client::CallError>,
    ) -> Option<stress_tui::client::CallError> {
        None
    }
    fn skip_phase(&self) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pacer_with_nothing_to_send_backs_off_instead_of_waking_every_slot() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(1)).await.unwrap();
    let source = Arc::new(NothingToSend::default());
    let cancel = tokio_util::sync::CancellationToken::new();
    let (stats, _snapshots, _stats_task) = stress_tui::stats::spawn_aggregator(
        Instant::now(),
        Duration::from_millis(250),
        cancel.clone(),
        None,
        None,
    );
    let engine = stress_tui::engine::spawn_engine(stress_tui::engine::EngineSetup {
        targets: vec![(
            parse_node(&devnet.urls()[0]).unwrap(),
            PerDirection {
                post: 8_000,
                get: 8_000,
            },
        )],
        work: Arc::clone(&source) as Arc<dyn stress_tui::engine::WorkSource>,
        stats,
        max_in_flight: 64,
        request_timeout: Duration::from_secs(5),
        cancel: cancel.clone(),
        tracker: tokio_util::task::TaskTracker::new(),
        send_log: None,
        on_node_failure: stress_tui::model::FailurePolicy::Keep,
        lattice: None,
        started: std::time::Instant::now(),
    });
    let window = Duration::from_millis(500);
    tokio::time::sleep(window).await;
    cancel.cancel();
    // Waking for each slot, a pacer would ask ~4,000 times in 500 ms (one wake per 250 µs);
    // backing off 2 ms, ~250 times.
    let most = window.as_micros() / stress_tui::engine::IDLE_BACKOFF.as_micros() + 50;
    for (direction, asked) in ["POST", "GET"].iter().zip(&source.asked) {
        let asked = asked.load(Ordering::Relaxed);
        assert!(
            asked > 20 && u128::from(asked) <= most,
            "{direction} pacer asked {asked} times in {window:?}"
        );
    }
    let pool = engine.pool();
    let counters = &pool.nodes[0].counters;
    for direction in [Direction::Post, Direction::Get] {
        let c = counters.direction(direction);
        assert_eq!(c.sent.load(Ordering::Relaxed), 0);
        assert_eq!(
            c.missed.load(Ordering::Relaxed),
            0,
            "slots with nothing to send are not missed"
        );
    }
}

/// Two wallets with one transaction in flight each cannot pay 200 a second: the slots that find
/// no account ready are counted as unfilled (not missed, not sent), and the summary says that
/// the workload, not the node, held the rate back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_the_wallets_cannot_fill_is_reported_as_workload_bound() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(1)).await.unwrap();
    let flags = RunFlags::rates(200, 400)
        .wallets(1, 2)
        .in_flight(1)
        .duration("3s");
    let (report, _) = run_to_end(&devnet.urls(), "unfilled", &flags, Duration::from_secs(60)).await;
    assert_eq!(
        report.ending,
        Ending::Completed,
        "{:?}",
        report.status.failure
    );
    let post = &report.pool.nodes[0].counters.post;
    let (offered, unfilled, missed) = (
        post.offered.load(Ordering::Relaxed),
        post.unfilled.load(Ordering::Relaxed),
        post.missed.load(Ordering::Relaxed),
    );
    // 200 slots a second in the phases that send POSTs from the wallets (mint, transfer,
    // sustained): each offered or unfilled, nearly all unfilled, none missed. Setup and verify
    // send none at the rate, so their slots are neither.
    let sending: f64 = report
        .status
        .reports
        .iter()
        .filter(|r| matches!(r.phase, Phase::Mint | Phase::Transfer | Phase::Sustained))
        .map(|r| r.duration.as_secs_f64())
        .sum();
    let slots = 200.0 * sending;
    let counted = (offered + unfilled) as f64;
    assert!(
        (0.95 * slots..=1.05 * slots).contains(&counted),
        "{offered} offered + {unfilled} unfilled against {slots:.0} slots"
    );
    assert!(unfilled > offered, "{offered} offered, {unfilled} unfilled");
    assert_eq!(missed, 0);
    let summary = stress_tui::report::summary_text(&report);
    assert!(
        summary.contains("of the 200/s asked: the workload, not the nodes, held the rate back"),
        "{summary}"
    );
}
