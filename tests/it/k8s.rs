//! `stress-tui k8s-job`: the manifests of a sharded run match their golden file and pass
//! `kubernetes-validate --strict` (offline, with the Kubernetes schemas it carries) for the
//! oldest version that has every field used (1.33: `backoffLimitPerIndex` and the pod failure
//! policy's `FailIndex` are GA) and the newest it knows; bad options and run flags are refused
//! with one line and exit code 2 before anything is printed.

use std::path::Path;
use std::process::{Command, Output};

fn k8s_job(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .arg("k8s-job")
        .args(args)
        .output()
        .unwrap()
}

/// A fixed start time: the manifests are then the same on every machine.
const FIXED: [&str; 10] = [
    "--shards",
    "3",
    "--image",
    "registry.example/stress-tui:0.1",
    "--namespace",
    "load",
    "--start-at",
    "2026-12-01T20:00:00Z",
    "--storage-class",
    "nfs",
];

const RUN: [&str; 13] = [
    "--",
    "--nodes",
    "http://node-0.l1:18555,http://node-1.l1:18555",
    "--post-rate",
    "3000",
    "--get-rate",
    "6000",
    "--duration",
    "10m",
    "--metrics-addr",
    "0.0.0.0:9464",
    "--threshold",
    "payment.p99<500ms",
];

/// The manifests as printed 2 minutes before the fixed start time (the deadlines count from
/// when they are printed).
fn fixed_manifests() -> String {
    use clap::Parser;
    let mut words = vec!["stress-tui", "k8s-job"];
    words.extend(FIXED);
    words.extend(RUN);
    let cli = stress_tui::cli::Cli::try_parse_from(words).unwrap();
    let Some(stress_tui::cli::Command::K8sJob(args)) = cli.command else {
        panic!("not k8s-job");
    };
    let at = humantime::parse_rfc3339("2026-12-01T20:00:00Z").unwrap();
    let printed = at - std::time::Duration::from_secs(120);
    stress_tui::k8s::JobPlan::from_args(&args, printed)
        .unwrap()
        .manifests()
}

#[test]
fn manifests_match_their_golden_file_and_validate_strictly() {
    let text = fixed_manifests();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/k8s-job.yaml");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    assert_eq!(
        text,
        std::fs::read_to_string(&golden).unwrap(),
        "the manifests changed: check them, then UPDATE_GOLDEN=1 cargo test --test it k8s"
    );
    let file = std::env::temp_dir().join(format!("stress-tui-it-k8s-{}.yaml", std::process::id()));
    std::fs::write(&file, &text).unwrap();
    for version in ["1.33.0", "1.37.0"] {
        let validated = Command::new("kubernetes-validate")
            .args(["--strict", "-k", version, file.to_str().unwrap()])
            .output()
            .expect("kubernetes-validate is installed (pip install kubernetes-validate)");
        let said = String::from_utf8_lossy(&validated.stdout).to_string()
            + &String::from_utf8_lossy(&validated.stderr);
        assert!(validated.status.success(), "Kubernetes {version}: {said}");
        assert_eq!(said.matches("passed").count(), 4, "{said}");
    }
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn bad_options_and_run_flags_are_refused_before_anything_is_printed() {
    let cases: [(&[&str], &str); 8] = [
        (&["--shard", "1/3"], "--shard is set by the manifests"),
        (&["--post-rate", "10"], "give the cluster's --nodes"),
        (
            &["--nodes", "http://n:1", "--post-rate", "x"],
            "--post-rate",
        ),
        (
            &["--nodes", "http://n:1", "--mint-wallets", "2"],
            "--mint-wallets 2 leaves a shard without a mint wallet",
        ),
        (&["--nodes", "http://n:1", "--out", "x"], "--out is set"),
        (
            &["--nodes", "http://n:1", "--threshold"],
            "--threshold needs a value",
        ),
        (
            &["--devnet", "4"],
            "--devnet cannot load a cluster from a Job",
        ),
        (
            &["--nodes", "http://n:1", "--metrics-addr", "127.0.0.1:9464"],
            "reachable only inside its pod; use 0.0.0.0:9464",
        ),
    ];
    for (run, expected) in cases {
        let mut args = vec!["--shards", "3", "--image", "i", "--"];
        args.extend(run);
        let output = k8s_job(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{run:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{run:?}: {stderr}");
        assert!(output.stdout.is_empty(), "nothing printed");
    }
    let output = k8s_job(&["--shards", "0", "--image", "i", "--", "--nodes", "n:1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--shards `0`"));
    let output = k8s_job(&[
        "--shards",
        "2",
        "--image",
        "i",
        "--start-in",
        "5s",
        "--",
        "--nodes",
        "n:1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--start-in 5s: at least 30 s"));
    let output = k8s_job(&[
        "--shards",
        "2",
        "--image",
        "i",
        "--start-at",
        "2020-01-01T00:00:00Z",
        "--",
        "--nodes",
        "n:1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("less than 30 s from now"));
    let output = k8s_job(&[
        "--shards", "2", "--image", "i", "--name", "Bad_Name", "--", "--nodes", "n:1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--name `Bad_Name`"));
}
