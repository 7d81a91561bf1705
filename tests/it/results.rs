//! The results folder: every file of a short run parsed and checked against the run; an
//! interrupted run still writes everything; `kill -9` leaves parseable progressive files; an
//! unwritable `--out` is refused before any traffic; thresholds decide the exit code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use stress_tui::devnet::{Devnet, DevnetConfig, KnobsPatch, OPERATOR_KEY_HEX};
use stress_tui::report::Ending;
use stress_tui::run;

use crate::support::{RunFlags, key_file, run_config, schema_problems, wait_report};

#[test]
fn the_schema_refuses_what_summary_json_must_not_hold() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../assets/summary.schema.json")).unwrap();
    assert!(!schema_problems(&schema, &serde_json::json!({})).is_empty());
    let mut wrong = serde_json::json!({ "tool": "stress-tui", "unknown_key": 1 });
    assert!(
        schema_problems(&schema, &wrong)
            .iter()
            .any(|p| p.contains("unknown_key")),
        "an unknown top-level key is refused"
    );
    wrong["tool"] = serde_json::json!("oha");
    assert!(
        schema_problems(&schema, &wrong)
            .iter()
            .any(|p| p.contains("/tool")),
        "the tool is named"
    );
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stress-tui-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'), "{} ends mid-line", path.display());
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{}: {row:?}", path.display());
    }
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// Every histogram in an interval log: (tag, total count).
fn hlog_counts(path: &Path) -> HashMap<String, u64> {
    let bytes = std::fs::read(path).unwrap();
    let mut deserializer = Deserializer::new();
    let mut counts = HashMap::new();
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(interval) = entry.unwrap() {
            let decoded = base64_decode(interval.encoded_histogram());
            let histogram: hdrhistogram::Histogram<u64> =
                deserializer.deserialize(&mut decoded.as_slice()).unwrap();
            let tag = interval
                .tag()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default();
            *counts.entry(tag).or_default() += histogram.len();
        }
    }
    counts
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = u32::try_from(ALPHABET.iter().position(|a| *a == byte).unwrap()).unwrap();
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).unwrap());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_file_of_a_short_run_agrees_with_the_run() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let flags = RunFlags::rates(200, 400)
        .wallets(2, 10)
        .flag("--threshold", "errors<1%");
    let config = run_config(&devnet.urls(), "results-short", &flags);
    let out = config.out.clone().unwrap();
    let report = run::start(config).await.unwrap().wait().await.unwrap();
    assert_eq!(report.ending, Ending::Completed);
    assert!(report.write_errors.is_empty(), "{:?}", report.write_errors);

    // timeseries.csv: each second has one row per node and a total row, and the columns sum
    // to the summary's counts.
    let (header, rows) = csv(&out.join("timeseries.csv"));
    let (second, node, post_ok, get_ok, confirmed) = (
        column(&header, "second"),
        column(&header, "node"),
        column(&header, "post_ok"),
        column(&header, "get_ok"),
        column(&header, "confirmed"),
    );
    let last_second: u64 = rows
        .iter()
        .map(|r| r[second].parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert!(
        last_second + 1 >= report.elapsed.as_secs(),
        "{last_second} seconds for {:?}",
        report.elapsed
    );
    for s in 0..=last_second {
        let in_second: Vec<&Vec<String>> =
            rows.iter().filter(|r| r[second] == s.to_string()).collect();
        assert_eq!(in_second.len(), 3, "second {s}: {in_second:?}");
        assert_eq!(in_second.iter().filter(|r| r[node] == "total").count(), 1);
    }
    let sum = |col: usize| -> u64 {
        rows.iter()
            .filter(|r| r[node] != "total")
            .map(|r| r[col].parse::<u64>().unwrap())
            .sum()
    };
    let total_post_ok: u64 = report.stats.nodes.iter().map(|n| n.post.ok).sum();
    let total_get_ok: u64 = report.stats.nodes.iter().map(|n| n.get.ok).sum();
    assert_eq!(sum(post_ok), total_post_ok);
    assert_eq!(sum(get_ok), total_get_ok);
    assert_eq!(sum(confirmed), report.status.transactions.confirmed);

    // nodes.csv and operations.csv.
    let (header, rows) = csv(&out.join("nodes.csv"));
    assert_eq!(rows.len(), 4, "a POST and a GET row per node");
    let sent = column(&header, "sent");
    let count = column(&header, "count");
    let node_sent: u64 = rows.iter().map(|r| r[sent].parse::<u64>().unwrap()).sum();
    let node_count: u64 = rows.iter().map(|r| r[count].parse::<u64>().unwrap()).sum();
    assert_eq!(node_sent, node_count, "every request sent was answered");
    let (header, rows) = csv(&out.join("operations.csv"));
    let payment = rows.iter().find(|r| r[0] == "payment").unwrap();
    assert_eq!(payment[column(&header, "count")], "80");

    // accounts_detail.csv: the Go tool's columns, every wallet, no keys.
    let (header, rows) = csv(&out.join("accounts_detail.csv"));
    assert_eq!(
        header,
        [
            "token_address",
            "decimal",
            "balance",
            "wallet_tier",
            "wallet_index",
            "source_wallet",
            "address"
        ]
    );
    assert_eq!(rows.len(), 2 + 20 + 80);
    let distribution = rows.iter().find(|r| r[3] == "distribution").unwrap();
    assert_eq!(distribution[2], "200000000", "mint / 5");

    // latency.hlog decodes, and its counts add up to the summary's, tag by tag.
    let counts = hlog_counts(&out.join("latency.hlog"));
    let mut expected = HashMap::new();
    for node in &report.pool.nodes {
        for (op, stats) in &report.stats.node(node.id).unwrap().ops {
            expected.insert(format!("{}/{}", node.label, op.as_str()), stats.count);
        }
    }
    assert_eq!(counts, expected);

    // summary.json: valid against its schema, the documented top-level keys, and the
    // threshold verdict.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../assets/summary.schema.json")).unwrap();
    let problems = schema_problems(&schema, &summary);
    assert!(problems.is_empty(), "summary.json: {problems:#?}");
    for key in schema["required"].as_array().unwrap() {
        assert!(
            summary.get(key.as_str().unwrap()).is_some(),
            "summary.json lacks {key}"
        );
    }
    assert_eq!(summary["ending"], "completed");
    assert_eq!(summary["thresholds"][0]["passed"], true);
    assert_eq!(summary["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(summary["operations"]["payment"]["count"], 80);
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(
        !text.contains(&OPERATOR_KEY_HEX[2..]),
        "no key in summary.json"
    );

    // events.log: the starting pool and every phase.
    let events = std::fs::read_to_string(out.join("events.log")).unwrap();
    for phase in [
        "phase issue",
        "phase grant",
        "phase mint",
        "phase transfer",
        "phase verify",
        "phase done",
    ] {
        assert!(events.contains(phase), "{phase} missing from {events}");
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_writes_every_file() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let flags = RunFlags::rates(100, 300)
        .wallets(1, 10)
        .in_flight(4)
        .duration("60s");
    let config = run_config(&devnet.urls(), "results-interrupted", &flags);
    let out = config.out.clone().unwrap();
    let handle = run::start(config).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    handle.interrupt();
    let report = wait_report(handle, Duration::from_secs(20)).await;
    assert_eq!(report.ending, Ending::Interrupted);
    for file in [
        "timeseries.csv",
        "nodes.csv",
        "operations.csv",
        "accounts_detail.csv",
        "events.log",
        "report.html",
    ] {
        assert!(
            std::fs::metadata(out.join(file)).unwrap().len() > 0,
            "{file}"
        );
    }
    csv(&out.join("timeseries.csv"));
    csv(&out.join("accounts_detail.csv"));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["ending"], "interrupted");
    let counts: u64 = hlog_counts(&out.join("latency.hlog")).values().sum();
    let expected: u64 = report.stats.ops.values().map(|o| o.count).sum();
    assert_eq!(counts, expected);
    std::fs::remove_dir_all(&out).unwrap();
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stress-tui"))
}

#[test]
fn kill_9_leaves_parseable_progressive_files() {
    let out = temp_dir("kill9");
    let mut child = binary()
        .args([
            "--devnet",
            "2",
            "--no-tui",
            "--post-rate",
            "100",
            "--get-rate",
            "300",
            "--mint-wallets",
            "1",
            "--transfers-per-mint",
            "10",
            "--duration",
            "60s",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let (_, rows) = csv(&out.join("timeseries.csv"));
    let seconds: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        seconds.iter().max().copied().unwrap_or(0) >= 3,
        "at most the last second is lost: {seconds:?}"
    );
    assert!(!hlog_counts(&out.join("latency.hlog")).is_empty());
    assert!(
        std::fs::read_to_string(out.join("events.log"))
            .unwrap()
            .ends_with('\n')
    );
    assert!(!out.join("summary.json").exists(), "killed before the end");
    std::fs::remove_dir_all(&out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_out_is_refused_before_any_traffic() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(1)).await.unwrap();
    let key = key_file();
    let output = binary()
        .args([
            "--nodes",
            &devnet.urls()[0],
            "--no-tui",
            "--operator-key-file",
            key.to_str().unwrap(),
            "--out",
            "/proc/stress-tui/results",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--out /proc/stress-tui/results"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(devnet.stats().admitted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_decide_the_exit_code() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let key = key_file();
    let run = |out: PathBuf| {
        let mut command = binary();
        command.args([
            "--nodes",
            &devnet.urls().join(","),
            "--no-tui",
            "--operator-key-file",
            key.to_str().unwrap(),
            "--post-rate",
            "200",
            "--get-rate",
            "400",
            "--mint-wallets",
            "1",
            "--transfers-per-mint",
            "5",
            "--threshold",
            "payment.p99<80ms",
            "--threshold",
            "errors<1%",
            // Nodes by position: node2 is the one slowed below.
            "--threshold",
            "node1/post.p99<80ms",
            "--threshold",
            "node2/post.p99<80ms",
            "--out",
            out.to_str().unwrap(),
        ]);
        command
    };
    let healthy = tokio::task::spawn_blocking({
        let mut command = run(temp_dir("thresholds-pass"));
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        healthy.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&healthy.stdout)
    );
    devnet
        .set_knobs(
            1,
            &KnobsPatch {
                latency_ms: Some(150),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
    let slow = tokio::task::spawn_blocking({
        let mut command = run(temp_dir("thresholds-fail"));
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&slow.stdout);
    assert_eq!(slow.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("FAIL  payment.p99<80ms"), "{stdout}");
    assert!(stdout.contains("pass  errors<1%"), "{stdout}");
    assert!(stdout.contains("pass  node1/post.p99<80ms"), "{stdout}");
    assert!(stdout.contains("FAIL  node2/post.p99<80ms"), "{stdout}");
}

#[test]
fn sigterm_and_sigint_end_the_run_with_every_file_written() {
    for signal in ["TERM", "INT"] {
        let out = temp_dir(&format!("sig{signal}"));
        let child = binary()
            .args([
                "--devnet",
                "2",
                "--no-tui",
                "--post-rate",
                "100",
                "--get-rate",
                "300",
                "--mint-wallets",
                "1",
                "--transfers-per-mint",
                "10",
                "--duration",
                "60s",
                "--out",
                out.to_str().unwrap(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_secs(4));
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "SIG{signal}: an interrupted run exits 1"
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("summary: Interrupted"), "{stdout}");
        // A progress line a second, each second once ("[    3s] ...").
        let stderr = String::from_utf8_lossy(&output.stderr);
        let seconds: Vec<u64> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix('[')?.split_once("s]")?.0.trim().parse().ok())
            .collect();
        assert!(seconds.len() >= 2, "{stderr}");
        assert!(seconds.windows(2).all(|w| w[0] < w[1]), "{seconds:?}");
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["ending"], "interrupted");
        for file in [
            "timeseries.csv",
            "nodes.csv",
            "operations.csv",
            "accounts_detail.csv",
        ] {
            csv(&out.join(file));
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}
