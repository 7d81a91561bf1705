//! The 2026 write surface in whole runs (PROTOCOL.md section 8): the surface chosen from
//! every node's `/api/status` before any traffic, what no surface serves refused (exit 2, no
//! transaction), the memo on every payment, and a node cut over to `v2_only` in the middle of
//! a sustained run.

use std::time::Duration;

use stress_tui::client::ErrorClass;
use stress_tui::devnet::{Devnet, DevnetConfig, KnobsPatch, NodeKnobs};
use stress_tui::model::Phase;
use stress_tui::protocol::wire::{Checkpoint, CheckpointTransactions, TransactionData};
use stress_tui::protocol::{Memo, NodeWriteMode, WriteSurface};
use stress_tui::report::RunReport;

use crate::support::{
    RunFlags, assert_completed_and_verified, client, run_config, run_to_end, wait_phase,
    wait_report,
};

fn small() -> RunFlags {
    RunFlags::rates(200, 600).wallets(2, 5).distributions(2)
}
/// 1 issue, 2 grants, 10 mints, 20 payments.
const SMALL_TXS: u64 = 33;

async fn devnet_of(modes: &[NodeWriteMode]) -> Devnet {
    Devnet::start(DevnetConfig {
        knobs: modes
            .iter()
            .map(|mode| NodeKnobs {
                write_mode: *mode,
                ..NodeKnobs::default()
            })
            .collect(),
        ..DevnetConfig::ephemeral(modes.len())
    })
    .await
    .unwrap()
}

fn assert_verified(report: &RunReport, devnet: &Devnet, owed: u64) {
    assert_completed_and_verified(report);
    assert_eq!(report.status.verify.unread, 0);
    assert_eq!(report.status.transactions.confirmed, owed);
    assert_eq!(devnet.stats().admitted, owed, "each admitted exactly once");
}

/// A run of sustained payments for `duration` over `devnet`, once its sustained phase began.
async fn sustained_run(devnet: &Devnet, name: &str, duration: &str) -> stress_tui::run::RunHandle {
    let flags = RunFlags::rates(100, 400)
        .wallets(2, 10)
        .in_flight(4)
        .duration(duration);
    let handle = stress_tui::run::start(run_config(&devnet.urls(), name, &flags))
        .await
        .unwrap();
    wait_phase(&handle, Phase::Sustained, Duration::from_secs(60)).await;
    handle
}

/// Node `node`'s write mode and surface at the end of the run.
fn surface_of_node(report: &RunReport, node: u32) -> stress_tui::workload::NodeSurface {
    *report
        .status
        .node_surfaces
        .iter()
        .find(|s| s.node == node)
        .unwrap()
}

/// Requests the nodes refused (4xx other than 408 and 429), over every operation.
fn rejected(report: &RunReport) -> u64 {
    report
        .stats
        .ops
        .values()
        .map(|op| op.errors.get(&ErrorClass::Rejected).copied().unwrap_or(0))
        .sum()
}

/// Every transaction of the devnet's checkpoints, read with `full=true`.
async fn every_transaction(devnet: &Devnet) -> Vec<stress_tui::protocol::wire::Transaction> {
    let node = client(&devnet.urls()[0]);
    let head = node.checkpoint_number().await.unwrap();
    let mut all = Vec::new();
    for number in 0..=head {
        let path = format!("/v1/checkpoints/by_number?number={number}&full=true");
        let Ok(body) = node.call(axum::http::Method::GET, &path, None).await else {
            continue;
        };
        let checkpoint: Checkpoint = serde_json::from_slice(&body).unwrap();
        if let CheckpointTransactions::Full(transactions) = checkpoint.transactions {
            all.extend(transactions);
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_cluster_runs_on_the_surface_every_node_takes() {
    use NodeWriteMode::{Dual, V1Only, V2Only};
    let cases: [(&str, &[NodeWriteMode], WriteSurface); 4] = [
        ("surface-v1only", &[V1Only, V1Only], WriteSurface::V1),
        ("surface-dual", &[Dual, Dual], WriteSurface::V2),
        ("surface-v2only", &[V2Only, V2Only], WriteSurface::V2),
        ("surface-mixed", &[Dual, V2Only], WriteSurface::V2),
    ];
    let runs = cases.iter().map(|(name, modes, expected)| async move {
        let devnet = devnet_of(modes).await;
        let (report, _) =
            run_to_end(&devnet.urls(), name, &small(), Duration::from_secs(120)).await;
        assert_verified(&report, &devnet, SMALL_TXS);
        assert_eq!(report.status.write_surface, *expected, "{name}");
        assert_eq!(report.status.surface_refusals, 0, "{name}");
        let rejected = rejected(&report);
        assert_eq!(rejected, 0, "{name}: {:?}", report.stats.error_codes);
        let summary = stress_tui::report::summary_text(&report);
        assert!(
            summary.contains(&format!(
                "write surface /{expected} (--write-surface auto): "
            )),
            "{summary}"
        );
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(report.out_dir.join("summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(json["write_surface"]["surface"], expected.as_str());
        for (node, mode) in modes.iter().enumerate() {
            assert_eq!(json["write_surface"]["nodes"][node]["mode"], mode.as_str());
        }
    });
    futures_util::future::join_all(runs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memo_goes_on_every_payment_and_nowhere_else() {
    let devnet = devnet_of(&[NodeWriteMode::Dual]).await;
    let flags = small().extra(&[
        "--memo-type",
        "purpose/SALA",
        "--memo-format",
        "text/plain",
        "--memo-data",
        "stress run",
    ]);
    let (report, _) = run_to_end(
        &devnet.urls(),
        "surface-memo",
        &flags,
        Duration::from_secs(120),
    )
    .await;
    assert_verified(&report, &devnet, SMALL_TXS);
    let memo = Memo::new("purpose/SALA", "text/plain", "stress run");
    let transactions = every_transaction(&devnet).await;
    let payments = transactions
        .iter()
        .filter(|tx| matches!(tx.data, TransactionData::TokenTransfer { .. }))
        .inspect(|tx| assert_eq!(tx.memo.as_ref(), Some(&memo)))
        .count();
    assert_eq!(payments, 20);
    assert!(
        transactions
            .iter()
            .filter(|tx| !matches!(tx.data, TransactionData::TokenTransfer { .. }))
            .all(|tx| tx.memo.is_none())
    );
}

/// What a run against `modes` with `flags` refuses before any transaction: its one line.
async fn refused_before_traffic(
    modes: &[NodeWriteMode],
    read_only: usize,
    flags: &[&str],
) -> String {
    let devnet = devnet_of(modes).await;
    if read_only < modes.len() {
        devnet
            .set_knobs(
                read_only,
                &KnobsPatch {
                    read_only: Some(true),
                    ..KnobsPatch::default()
                },
            )
            .unwrap();
    }
    let all = small().extra(flags);
    let config = run_config(&devnet.urls(), "surface-refused", &all);
    let out = config.out.clone().unwrap();
    let Err(error) = stress_tui::run::start(config).await else {
        panic!("a run against {modes:?} started");
    };
    assert!(
        error
            .downcast_ref::<stress_tui::model::UsageError>()
            .is_some(),
        "not a usage error (exit 2): {error:#}"
    );
    assert_eq!(devnet.stats().admitted, 0, "no transaction");
    assert!(!out.exists(), "no results folder is left");
    let line = format!("{error:#}");
    assert!(!line.contains('\n'), "{line}");
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_no_surface_serves_is_refused_before_traffic() {
    use NodeWriteMode::{Dual, V1Only, V2Only};
    let none = usize::MAX;
    let mixed = refused_before_traffic(&[V1Only, V2Only], none, &[]).await;
    assert!(
        mixed.contains("is v1_only and") && mixed.contains("is v2_only"),
        "{mixed}"
    );
    let forced = refused_before_traffic(&[Dual, V2Only], none, &["--write-surface", "v1"]).await;
    assert!(forced.starts_with("--write-surface v1: "), "{forced}");
    assert!(forced.contains("is v2_only"), "{forced}");
    assert!(
        forced.ends_with("use --write-surface auto (every node takes /v2)"),
        "{forced}"
    );
    let mixed = refused_before_traffic(&[V1Only, V2Only], none, &["--write-surface", "v2"]).await;
    assert!(mixed.contains("load them in separate runs"), "{mixed}");
    assert!(!mixed.contains("use --write-surface auto"), "{mixed}");
    let forced = refused_before_traffic(&[V1Only], none, &["--write-surface", "v2"]).await;
    assert!(forced.contains("is v1_only"), "{forced}");
    let archive = refused_before_traffic(&[Dual, Dual], 1, &[]).await;
    assert!(archive.contains("is read_only"), "{archive}");
    let memo_on_v1 = refused_before_traffic(&[V1Only], none, &["--memo-data", "x"]).await;
    assert!(
        memo_on_v1.contains("need the /v2 write surface"),
        "{memo_on_v1}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_over_mid_run_moves_to_v2_and_every_balance_verifies() {
    let devnet = devnet_of(&[NodeWriteMode::V1Only, NodeWriteMode::V1Only]).await;
    let handle = sustained_run(&devnet, "surface-cutover", "8s").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let admin = client(&devnet.admin_url());
    admin
        .call(
            axum::http::Method::POST,
            "/nodes/1",
            Some(br#"{"write_mode":"v2_only"}"#.to_vec()),
        )
        .await
        .unwrap();
    let report = wait_report(handle, Duration::from_secs(120)).await;
    let owed = report.status.transactions.confirmed;
    assert_verified(&report, &devnet, owed);
    assert_eq!(
        report.status.transactions.failed, 0,
        "{:?}",
        report.status.transactions.failures_by_code
    );
    assert_eq!(report.status.write_surface, WriteSurface::V1);
    assert!(report.status.surface_refusals > 0);
    let refusals = report
        .stats
        .error_codes
        .get("LEGACY_NATIVE_WRITE_ENDPOINT_DISABLED")
        .copied()
        .unwrap_or(0);
    assert!(refusals > 0, "{:?}", report.stats.error_codes);
    let node1 = surface_of_node(&report, 1);
    assert_eq!(node1.mode, Some(NodeWriteMode::V2Only));
    assert_eq!(node1.surface, Some(WriteSurface::V2));
    let events = std::fs::read_to_string(report.out_dir.join("events.log")).unwrap();
    assert!(
        events.contains("answered LEGACY_NATIVE_WRITE_ENDPOINT_DISABLED: now v2_only"),
        "{events}"
    );
    assert!(events.contains("/api/status: v2_only"), "{events}");
    let rejected = rejected(&report);
    assert!(
        rejected >= refusals,
        "410s are refusals: {rejected} < {refusals}"
    );
    let summary = stress_tui::report::summary_text(&report);
    assert!(summary.contains("v2_only>v2"), "{summary}");
    let line = stress_tui::report::progress_line(&report.stats, &report.pool, &report.status);
    assert!(line.contains("| writes /v1"), "{line}");
    assert!(
        line.contains(" v1_only | ") && line.ends_with(" v2_only>v2"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_made_read_only_gets_no_writes_and_rejoins_when_writable() {
    let devnet = devnet_of(&[NodeWriteMode::Dual, NodeWriteMode::Dual]).await;
    let handle = sustained_run(&devnet, "surface-read-only", "12s").await;
    let read_only = |on: bool| KnobsPatch {
        read_only: Some(on),
        ..KnobsPatch::default()
    };
    devnet.set_knobs(1, &read_only(true)).unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    devnet.set_knobs(1, &read_only(false)).unwrap();
    let report = wait_report(handle, Duration::from_secs(120)).await;
    let owed = report.status.transactions.confirmed;
    assert_verified(&report, &devnet, owed);
    assert_eq!(report.status.transactions.failed, 0);
    let events = std::fs::read_to_string(report.out_dir.join("events.log")).unwrap();
    assert!(
        events.contains("answered NODE_READ_ONLY: now read_only; its writes move from /v2 to none"),
        "{events}"
    );
    assert!(
        events.contains("/api/status: dual; its writes now use /v2"),
        "rejoined: {events}"
    );
    let node1 = surface_of_node(&report, 1);
    assert_eq!(node1.surface, Some(WriteSurface::V2));
}
