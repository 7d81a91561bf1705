//! A run spread over shard processes (`--shard I/3`, one `--start-at`) against one devnet, then
//! `stress-tui merge`: the merged folder is one run's (every transaction confirmed, every
//! balance and the supply verified, no nonce signed twice, the schedule's total offered, even
//! per-node shares); a killed shard makes `merge` fail naming it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use stress_tui::devnet::{Devnet, DevnetConfig, OPERATOR_KEY_HEX};

/// Total rates of the run (each shard offers a third).
const POST_RATE: u32 = 240;
const SUSTAINED_S: u64 = 10;

/// A fresh folder for the shards' results, with the operator key file they read.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stress-tui-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("operator.key"), OPERATOR_KEY_HEX).unwrap();
    dir
}

/// Starts shard `index` of 3 of the run at `at`, its results in `dir/shard-<index>`.
fn start_shard(devnet: &Devnet, dir: &Path, index: u32, at: &str, duration_s: u64) -> Child {
    start_shard_with(devnet, dir, index, at, duration_s, &[])
}

/// [`start_shard`] with more flags.
fn start_shard_with(
    devnet: &Devnet,
    dir: &Path,
    index: u32,
    at: &str,
    duration_s: u64,
    extra: &[&str],
) -> Child {
    // Written once by the test, before the shards: rewriting it while one reads it races.
    let key = dir.join("operator.key");
    Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .args(["--nodes", &devnet.urls().join(","), "--no-tui"])
        .args(["--operator-key-file", key.to_str().unwrap()])
        .args(["--post-rate", &POST_RATE.to_string(), "--get-rate", "600"])
        .args(["--mint-wallets", "6", "--transfers-per-mint", "6"])
        .args([
            "--distributions-per-transfer",
            "2",
            "--in-flight-per-account",
            "4",
        ])
        .args(["--duration", &format!("{duration_s}s")])
        .args(["--symbol", &format!("SH{}", std::process::id())])
        // As a Kubernetes Indexed Job gives a pod its index.
        .env("JOB_COMPLETION_INDEX", index.to_string())
        .args(["--start-at", at, "--shard", "auto/3"])
        .args(extra)
        .args([
            "--out",
            dir.join(format!("shard-{index}")).to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn merge(dirs: &[PathBuf], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .arg("merge")
        .args(dirs)
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap()
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A start time `lead` from now, as RFC 3339.
fn start_in(lead: Duration) -> String {
    humantime::format_rfc3339_millis(SystemTime::now() + lead).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_merge_into_one_verified_run() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(4)).await.unwrap();
    let dir = scratch("shards");
    let at = start_in(Duration::from_secs(10));
    let children: Vec<Child> = (0..3)
        .map(|i| start_shard(&devnet, &dir, i, &at, SUSTAINED_S))
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "shard {i}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(devnet.stats().nonce_reuses, 0, "no nonce signed twice");
    let shards: Vec<PathBuf> = (0..3).map(|i| dir.join(format!("shard-{i}"))).collect();
    // Each shard says which it is and signed for its own wallets only.
    let mut mint_ranges = Vec::new();
    for (i, shard) in shards.iter().enumerate() {
        let summary = json(&shard.join("summary.json"));
        assert_eq!(summary["shard"]["index"], i);
        assert_eq!(summary["shard"]["count"], 3);
        let mint = &summary["shard"]["wallets"]["mint"];
        mint_ranges.push((
            mint["start"].as_u64().unwrap(),
            mint["end"].as_u64().unwrap(),
        ));
        let skew = summary["start"]["skew_ms"].as_f64().unwrap();
        assert!((-20.0..200.0).contains(&skew), "shard {i} skew {skew} ms");
    }
    assert_eq!(mint_ranges, [(0, 2), (2, 4), (4, 6)], "disjoint, covering");

    let out = dir.join("merged");
    let output = merge(&shards, &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let merged = json(&out.join("summary.json"));
    for document in [&merged, &json(&shards[1].join("summary.json"))] {
        let problems = crate::support::summary_problems(document);
        assert!(problems.is_empty(), "{problems:?}");
    }
    assert_eq!(merged["ending"], "completed", "{}", merged["failure"]);
    assert_eq!(merged["merged"]["shards"].as_array().unwrap().len(), 3);
    // The merged folder's page is the whole run's: every node's rates, the added spectra.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let run_id = merged["merged"]["run_id"].as_str().unwrap();
    assert!(
        page.contains(&format!("stress-tui run {run_id}, merged"))
            && page.contains("merged from 3 shards"),
        "the page says it is merged"
    );
    assert!(
        page.contains("<table id=\"shards\">"),
        "and lists the shards"
    );
    for chart in [
        "post-rates",
        "node-rates-4",
        "latency-p99",
        "spectrum-payment",
    ] {
        assert!(page.contains(&format!("data-chart=\"{chart}\"")), "{chart}");
    }
    let tx = &merged["transactions"];
    assert_eq!(tx["failed"], 0);
    assert_eq!(
        tx["confirmed"], tx["submitted"],
        "every transaction confirmed"
    );
    assert_eq!(
        tx["confirmed"].as_u64().unwrap(),
        devnet.stats().admitted,
        "the merged count is the chain's"
    );
    let verify = &merged["verify"];
    assert_eq!(verify["mismatched"], 0);
    assert_eq!(verify["unread"], 0);
    // 6 transfer wallets x 6 mint wallets, x 2 distribution wallets each, and the supply once.
    assert_eq!(verify["checked"], 36 + 72 + 1);
    assert_eq!(verify["expected_supply"], verify["reported_supply"]);
    assert!(
        merged["error_codes"]
            .get("business_invalid_nonce")
            .is_none()
    );

    // The schedule's total: the shards' payments add up to one process's 240/s for 10 s.
    let payments = merged["operations"]["payment"]["count"].as_u64().unwrap();
    let scheduled = u64::from(POST_RATE) * SUSTAINED_S;
    assert!(
        payments.abs_diff(scheduled) * 100 <= scheduled,
        "{payments} payments against {scheduled} scheduled"
    );
    // Even shares per node.
    let per_node: Vec<u64> = merged["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["operations"]["payment"]["count"].as_u64().unwrap())
        .collect();
    assert_eq!(per_node.len(), 4);
    let mean = payments as f64 / 4.0;
    for count in &per_node {
        assert!(
            (*count as f64 / mean - 1.0).abs() <= 0.02,
            "per-node payments {per_node:?}"
        );
    }
    // One ordinary folder: every file, the accounts of all shards once each.
    for file in [
        "timeseries.csv",
        "latency.hlog",
        "nodes.csv",
        "operations.csv",
        "events.log",
        "summary.txt",
    ] {
        assert!(out.join(file).exists(), "{file}");
    }
    let accounts = std::fs::read_to_string(out.join("accounts_detail.csv")).unwrap();
    let mut addresses: Vec<&str> = accounts
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(addresses.len(), 6 + 36 + 72);
    addresses.sort_unstable();
    addresses.dedup();
    assert_eq!(addresses.len(), 6 + 36 + 72, "no wallet in two shards");
    // The merged timeseries: per second, the total row's POST answers are the three shards'.
    let rows = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let header: Vec<&str> = rows.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|c| *c == name).unwrap();
    let (ok_at, p50_at) = (column("post_ok"), column("p50_ms"));
    let totals: u64 = rows
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("total"))
        .map(|l| l.split(',').nth(ok_at).unwrap().parse::<u64>().unwrap())
        .sum();
    let answered: u64 = merged["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["post"]["ok"].as_u64().unwrap())
        .sum();
    assert_eq!(totals, answered, "timeseries post_ok adds up to the run's");
    // A second's latency is of that second's answers: present exactly where POSTs were
    // answered (no request failed in this run).
    assert_eq!(
        merged["operations"]["payment"]["errors"],
        serde_json::json!({})
    );
    for row in rows.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        let post_ok: u64 = fields[ok_at].parse().unwrap();
        let has_latency = !fields[p50_at].is_empty();
        assert_eq!(post_ok > 0, has_latency, "row {row}");
    }
    // Every slot of the load's full seconds is accounted for, GETs as POSTs: offered (sent or
    // missed) or unfilled adds up to the target. (A pacer on a shard's lattice that found no
    // GET to send once lost slots: ~17 % of them in a reviewer's 2-shard run.)
    let zero = merged["start"]["zero_unix_s"].as_f64().unwrap();
    let at = merged["start"]["at_unix_s"].as_f64().unwrap();
    // A whole number of seconds (the run's second 0 is), small and positive.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let first = (at - zero).round() as u64 + 1;
    let load = first..first + SUSTAINED_S - 2;
    for direction in ["post", "get"] {
        let (mut slots, mut target) = (0.0, 0.0);
        for row in rows.lines().skip(1) {
            let fields: Vec<&str> = row.split(',').collect();
            let second: u64 = fields[0].parse().unwrap();
            if fields[1] != "total" || !load.contains(&second) {
                continue;
            }
            let value = |name: &str| fields[column(name)].parse::<f64>().unwrap();
            slots +=
                value(&format!("{direction}_offered")) + value(&format!("{direction}_unfilled"));
            target += value(&format!("target_{direction}"));
        }
        assert!(
            (slots - target).abs() <= 0.03 * target,
            "{direction}: {slots} slots offered or unfilled in seconds {load:?}, against {target} targeted"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Node 2 removed by every shard during the load (`--at`): the merged run keeps its results,
/// as one run's would (summary.json with `removed_at_s`, nodes.csv, the per-second answers add
/// up to the nodes').
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_removed_by_the_shards_stays_in_the_merged_results() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(3)).await.unwrap();
    let dir = scratch("shards-removed");
    let at = start_in(Duration::from_secs(8));
    let children: Vec<Child> = (0..3)
        .map(|i| start_shard_with(&devnet, &dir, i, &at, 6, &["--at", "11s:remove=node2"]))
        .collect();
    for child in children {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let shards: Vec<PathBuf> = (0..3).map(|i| dir.join(format!("shard-{i}"))).collect();
    let out = dir.join("merged");
    let output = merge(&shards, &out);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let merged = json(&out.join("summary.json"));
    let problems = crate::support::summary_problems(&merged);
    assert!(problems.is_empty(), "{problems:?}");
    let nodes = merged["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    let removed: Vec<&Value> = nodes
        .iter()
        .filter(|n| n.get("removed_at_s").is_some())
        .collect();
    assert_eq!(removed.len(), 1, "{nodes:?}");
    assert_eq!(removed[0]["url"], Value::from(devnet.urls()[1].clone()));
    assert!(
        removed[0]["post"]["ok"].as_u64().unwrap() > 0,
        "its answers are kept"
    );
    // Every answer of the timeseries is a node's of the summary.
    let rows = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let header: Vec<&str> = rows.lines().next().unwrap().split(',').collect();
    let ok_at = header.iter().position(|c| *c == "post_ok").unwrap();
    let answered: u64 = rows
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("total"))
        .map(|l| l.split(',').nth(ok_at).unwrap().parse::<u64>().unwrap())
        .sum();
    let by_nodes: u64 = nodes
        .iter()
        .map(|n| n["post"]["ok"].as_u64().unwrap())
        .sum();
    assert_eq!(answered, by_nodes);
    let csv = std::fs::read_to_string(out.join("nodes.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 * 2, "{csv}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_shard_makes_merge_name_it() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let dir = scratch("shards-killed");
    let at = start_in(Duration::from_secs(8));
    let mut children: Vec<Child> = (0..3)
        .map(|i| start_shard(&devnet, &dir, i, &at, 6))
        .collect();
    // Shard 1 dies 2 s into the load.
    tokio::time::sleep(Duration::from_secs(10)).await;
    children[1].kill().unwrap();
    for child in children {
        let _ = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap();
    }
    let shards: Vec<PathBuf> = (0..3).map(|i| dir.join(format!("shard-{i}"))).collect();
    let out = dir.join("merged");
    let output = merge(&shards, &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{} holds no finished shard", shards[1].display())),
        "{stderr}"
    );
    assert!(stderr.contains("missing: shard 1/3"), "{stderr}");
    assert!(!out.join("summary.json").exists(), "nothing merged");
    // Without the killed shard's folder: the missing shard is named all the same.
    let output = merge(&[shards[0].clone(), shards[2].clone()], &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing: shard 1/3"), "{stderr}");
    // A shard given twice.
    let output = merge(
        &[shards[0].clone(), shards[0].clone(), shards[2].clone()],
        &out,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("shard 0/3 is given twice"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
