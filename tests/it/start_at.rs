//! `--start-at`: a run does its setup, then waits, and starts its load at the time given (its
//! seconds cut at that time); one ready too late refuses to start, with exit code 4 and
//! nothing sent.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use stress_tui::devnet::{Devnet, DevnetConfig, OPERATOR_KEY_HEX};
use stress_tui::report::Ending;

use crate::support::{RunFlags, run_config, wait_report};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_waits_for_its_start_time_and_starts_on_it() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let at = SystemTime::now() + Duration::from_secs(3);
    let at_instant = Instant::now() + Duration::from_secs(3);
    let text = humantime::format_rfc3339_millis(at).to_string();
    let flags = RunFlags::rates(100, 300)
        .wallets(1, 4)
        .flag("--start-at", &text);
    let config = run_config(&devnet.urls(), "start-at", &flags);
    let out = config.out.clone().unwrap();
    // Nothing is admitted before the start time, though setup (status, chain id) is done.
    let before = tokio::spawn(async move {
        let moment = at_instant.checked_sub(Duration::from_millis(300)).unwrap();
        tokio::time::sleep_until(moment.into()).await;
        (devnet.stats().admitted, devnet)
    });
    let handle = stress_tui::run::start(config).await.unwrap();
    let started_late = handle.started.saturating_duration_since(at_instant);
    let started_early = at_instant.saturating_duration_since(handle.started);
    assert!(
        started_late < Duration::from_millis(100) && started_early < Duration::from_millis(20),
        "the run's clock starts at --start-at: {started_late:?} late, {started_early:?} early"
    );
    let (admitted_before, devnet) = before.await.unwrap();
    assert_eq!(admitted_before, 0, "no transaction before --start-at");
    let report = wait_report(handle, Duration::from_secs(120)).await;
    assert_eq!(report.ending, Ending::Completed);
    assert!(devnet.stats().admitted > 0);
    let start = report.start.expect("the start is recorded");
    assert!(
        (-20.0..100.0).contains(&start.skew_ms),
        "skew {} ms",
        start.skew_ms
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["start"]["at"], text.as_str());
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
