//! `--start-at`: a run does its setup and funding, then waits, and starts its load at the time
//! given (its seconds cut at whole seconds from it); one set up too late refuses to start, with
//! exit code 4 and nothing sent, and one still funding then stops and sends no load (exit code 4).

use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use stress_tui::devnet::{Devnet, DevnetConfig, OPERATOR_KEY_HEX};
use stress_tui::report::Ending;

use crate::support::{RunFlags, run_config, wait_report};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_funds_before_its_start_time_and_starts_its_load_on_it() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let at = SystemTime::now() + Duration::from_secs(4);
    let at_instant = Instant::now() + Duration::from_secs(4);
    let text = humantime::format_rfc3339_millis(at).to_string();
    let flags = RunFlags::rates(100, 300)
        .wallets(1, 4)
        .flag("--start-at", &text);
    let config = run_config(&devnet.urls(), "start-at", &flags);
    let out = config.out.clone().unwrap();
    // Just before TIME the funding (issue, grant, 4 mints) is admitted, and no payment.
    let before = tokio::spawn(async move {
        let moment = at_instant.checked_sub(Duration::from_millis(300)).unwrap();
        tokio::time::sleep_until(moment.into()).await;
        (devnet.stats().admitted, devnet)
    });
    let handle = stress_tui::run::start(config).await.unwrap();
    // The run's second 0 is a whole number of seconds before TIME, at most 1 s before now.
    let zero_to_at = at_instant.saturating_duration_since(handle.started);
    let whole = zero_to_at.as_secs_f64().round();
    assert!(
        (zero_to_at.as_secs_f64() - whole).abs() < 0.05 && (4.0..=5.0).contains(&whole),
        "second 0 is {zero_to_at:?} before --start-at"
    );
    let (admitted_before, devnet) = before.await.unwrap();
    assert_eq!(admitted_before, 6, "funding before --start-at, no payment");
    let report = wait_report(handle, Duration::from_secs(120)).await;
    assert_eq!(report.ending, Ending::Completed);
    assert_eq!(devnet.stats().admitted, 6 + 16);
    let start = report.start.expect("the start is recorded");
    let skew = start.skew_ms.expect("the load started");
    assert!((-20.0..100.0).contains(&skew), "skew {skew} ms");
    let phases: Vec<_> = report
        .status
        .phase_log
        .iter()
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(
        phases,
        [
            "issue", "grant", "mint", "ready", "transfer", "verify", "done"
        ]
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["start"]["at"], text.as_str());
    let zero = summary["start"]["zero_unix_s"].as_f64().unwrap();
    let at_s = summary["start"]["at_unix_s"].as_f64().unwrap();
    assert!(
        ((at_s - zero) - (at_s - zero).round()).abs() < 1e-6,
        "{zero} {at_s}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_still_funding_after_its_start_time_and_tolerance_stops_and_sends_no_load() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(1)).await.unwrap();
    let at = SystemTime::now() + Duration::from_millis(1500);
    let flags = RunFlags::rates(100, 300)
        .wallets(1, 4)
        .flag(
            "--start-at",
            humantime::format_rfc3339_millis(at).to_string(),
        )
        .flag("--start-tolerance", "0s");
    let config = run_config(&devnet.urls(), "start-late", &flags);
    let out = config.out.clone().unwrap();
    let handle = stress_tui::run::start(config).await.unwrap();
    // Set up in time; then every answer 400 ms late: issue, grant and mint (each a POST and
    // a receipt) take well over 1.5 s.
    devnet
        .set_knobs(
            0,
            &stress_tui::devnet::KnobsPatch {
                latency_ms: Some(400),
                ..Default::default()
            },
        )
        .unwrap();
    let report = wait_report(handle, Duration::from_secs(60)).await;
    assert_eq!(report.ending, Ending::Late);
    assert!(report.status.late_by.is_some());
    let failure = report.status.failure.clone().unwrap();
    assert!(
        failure.contains("phase still going") && failure.contains("--start-tolerance"),
        "{failure}"
    );
    // Funding stopped at TIME + tolerance, before its 6 transactions: no use going on.
    let admitted = devnet.stats().admitted;
    assert!((1..6).contains(&admitted), "{admitted} admitted");
    assert_eq!(report.start.unwrap().skew_ms, None);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["ending"], "late");
    std::fs::remove_dir_all(&out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_ready_after_its_start_time_and_tolerance_refuses_to_start() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(1)).await.unwrap();
    let dir = std::env::temp_dir().join(format!("stress-tui-it-late-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("operator.key");
    std::fs::write(&key, OPERATOR_KEY_HEX).unwrap();
    let out = dir.join("out");
    let minute_ago = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 60;
    let output = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .args(["--nodes", &devnet.urls().join(","), "--no-tui"])
        .args(["--operator-key-file", key.to_str().unwrap()])
        .args(["--start-at", &minute_ago.to_string()])
        .args(["--start-tolerance", "10s"])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--start-at") && stderr.contains("not started, nothing sent"),
        "{stderr}"
    );
    assert!(!out.exists(), "no results folder");
    assert_eq!(devnet.requests(), 0, "nothing was sent");
    std::fs::remove_dir_all(&dir).unwrap();
}
