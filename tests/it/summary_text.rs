//! The summary text of a fixed run report, as an insta snapshot: a change to the summary's
//! layout or wording shows up as a diff to review (`cargo insta review`), not as a surprise in
//! an operator's terminal.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use stress_tui::client::ErrorClass;
use stress_tui::engine::{NodeCounters, NodeView, PoolView};
use stress_tui::footprint::Footprint;
use stress_tui::model::{FailurePolicy, Op, PerDirection, Phase, SurfaceChoice};
use stress_tui::protocol::{Address, NodeWriteMode, U256, WriteSurface};
use stress_tui::report::thresholds::ThresholdResult;
use stress_tui::report::{Ending, RunReport, summary_text};
use stress_tui::stats::{Classic, NodeSnapshot, OpSnapshot, Percentiles, StatsSnapshot};
use stress_tui::workload::{
    NodeSurface, PhaseReport, TransactionCounts, VerifyTally, WorkloadStatus,
};

fn percentiles(p50: u64) -> Percentiles {
    Percentiles {
        count: 100,
        min: p50 / 2,
        p50,
        p90: p50 * 2,
        p99: p50 * 4,
        p999: p50 * 5,
        max: p50 * 6,
        mean: p50 + p50 / 4,
    }
}

fn op(count: u64, errors: &[(ErrorClass, u64)], p50: u64) -> OpSnapshot {
    let errors: BTreeMap<ErrorClass, u64> = errors.iter().copied().collect();
    OpSnapshot {
        count,
        ok: count - errors.values().sum::<u64>(),
        errors,
        latency: percentiles(p50),
        service: percentiles(p50 * 3 / 4),
        buckets: Vec::new(),
        classic: Classic::default(),
    }
}

fn node(id: u32, payments: u64, p50: u64) -> NodeSnapshot {
    let payment = op(payments, &[(ErrorClass::Timeout, 2)], p50);
    let receipt = op(payments, &[], p50 / 2);
    NodeSnapshot {
        id,
        ops: [
            (Op::Payment, payment.clone()),
            (Op::Receipt, receipt.clone()),
        ]
        .into(),
        post: payment,
        get: receipt,
        confirmed: payments - 2,
        send_error: PerDirection {
            post: percentiles(40),
            get: percentiles(30),
        },
        ..NodeSnapshot::default()
    }
}

fn fixture() -> RunReport {
    let nodes = vec![node(0, 1_000, 2_400), node(1, 980, 9_800)];
    let mut ops = BTreeMap::new();
    ops.insert(Op::Issue, op(1, &[], 1_200));
    ops.insert(Op::Payment, op(1_980, &[(ErrorClass::Timeout, 4)], 5_100));
    ops.insert(Op::Receipt, op(1_980, &[], 2_500));
    ops.insert(Op::Confirm, op(1_976, &[], 310_000));
    let stats = StatsSnapshot {
        elapsed: Duration::from_secs(20),
        nodes,
        ops,
        error_codes: [("timeout".to_owned(), 4)].into(),
        send_error: PerDirection {
            post: percentiles(40),
            get: percentiles(30),
        },
        dropped_samples: 0,
        windows: Vec::new(),
    };
    let view = |id: u32, port: u16| NodeView {
        id,
        label: format!("127.0.0.1:{port}"),
        url: format!("http://127.0.0.1:{port}"),
        rates: PerDirection { post: 50, get: 50 },
        effective: PerDirection { post: 50, get: 50 },
        counters: Arc::new(NodeCounters::default()),
    };
    let pool = PoolView {
        nodes: vec![view(0, 18555), view(1, 18556)],
        paused: false,
        policy: FailurePolicy::Keep,
        total: PerDirection {
            post: 100,
            get: 100,
        },
        removed: Vec::new(),
        events: Vec::new(),
        at: Duration::ZERO,
    };
    let phase = |phase, secs, total| PhaseReport {
        phase,
        duration: Duration::from_secs(secs),
        total,
        confirmed: total,
        failed: 0,
        cpu: Some(Duration::from_millis(secs * 90)),
        signing_cpu: Duration::from_millis(secs * 20),
    };
    let status = WorkloadStatus {
        read_only: false,
        phase: Phase::Done,
        phase_done: 0,
        phase_total: 0,
        phase_failed: 0,
        transactions: TransactionCounts {
            submitted: 1_981,
            signed_ahead: 1_900,
            confirmed: 1_977,
            failed: 0,
            resyncs: 3,
            recovered: 4,
            confirmed_by_checkpoint: 0,
            checkpoints_skipped: 0,
            failures_by_code: HashMap::new(),
        },
        token: Some(Address::repeat_byte(0xab)),
        reports: vec![
            phase(Phase::Issue, 1, 1),
            phase(Phase::Sustained, 18, 1_980),
            phase(Phase::Verify, 1, 21),
        ],
        verify: VerifyTally {
            checked: 21,
            matched: 21,
            mismatched: 0,
            unread: 0,
            expected_supply: U256::from(1_000_000u64),
            reported_supply: Some(U256::from(1_000_000u64)),
        },
        failure: None,
        phase_log: Vec::new(),
        write_surface: WriteSurface::V2,
        surface_choice: SurfaceChoice::Auto,
        node_surfaces: vec![
            NodeSurface {
                node: 0,
                mode: Some(NodeWriteMode::Dual),
                surface: Some(WriteSurface::V2),
            },
            NodeSurface {
                node: 1,
                mode: Some(NodeWriteMode::V2Only),
                surface: Some(WriteSurface::V2),
            },
        ],
        surface_refusals: 0,
        events: Vec::new(),
        late_by: None,
        starts_in: None,
        stage: None,
        memo_text: String::new(),
    };
    RunReport {
        ending: Ending::Completed,
        status,
        stats: Arc::new(stats),
        pool: Arc::new(pool),
        elapsed: Duration::from_secs(20),
        out_dir: PathBuf::from("results/20261201T120000Z"),
        thresholds: vec![ThresholdResult {
            threshold: "payment.p99<50ms".to_owned(),
            value: Some(39.2),
            passed: true,
            note: "39.2ms".to_owned(),
        }],
        write_errors: Vec::new(),
        keys_exported: false,
        generator: Footprint {
            cpu: Some(Duration::from_millis(1_800)),
            peak_rss_kib: Some(24_000),
        },
        start: None,
        origin: stress_tui::report::Origin::Whole,
        capacity: None,
    }
}

#[test]
fn the_summary_of_a_fixed_run() {
    let text = summary_text(&fixture());
    for line in text.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    insta::assert_snapshot!(text);
}
