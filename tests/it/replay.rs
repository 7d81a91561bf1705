//! `stress-tui replay DIR`: a run whose rates were changed and a node removed while it went
//! (as the dashboard's keys do it), replayed headless from the scenario it becomes, sets the
//! same target rates per node per second, within the second each command landed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use stress_tui::devnet::{Devnet, DevnetConfig};
use stress_tui::model::{PerDirection, Phase};

use crate::support::{RunFlags, key_file, run_config, wait_phase, wait_report};

/// Each node's target POST rate per second, from a results folder's `timeseries.csv`.
fn targets(dir: &Path) -> BTreeMap<(String, u64), f64> {
    let rows = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    let header: Vec<&str> = rows.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|c| *c == name).unwrap();
    let (second, node, target) = (column("second"), column("node"), column("target_post"));
    rows.lines()
        .skip(1)
        .map(|row| row.split(',').collect::<Vec<_>>())
        .filter(|fields| fields[node] != "total")
        .map(|fields| {
            (
                (fields[node].to_owned(), fields[second].parse().unwrap()),
                fields[target].parse().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_run_sets_the_same_targets_per_node_per_second() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(3)).await.unwrap();
    let flags = RunFlags::rates(150, 300)
        .wallets(2, 20)
        .in_flight(4)
        .duration("8s");
    let mut config = run_config(&devnet.urls(), "replay-a", &flags);
    let first = config.out.clone().unwrap();
    // What the binary records for this command line.
    let key = key_file();
    let nodes = devnet.urls().join(",");
    let mut words = vec![
        "--no-tui".to_owned(),
        "--nodes".to_owned(),
        nodes,
        "--operator-key-file".to_owned(),
        key.to_str().unwrap().to_owned(),
    ];
    words.extend(stress_tui_words(&flags));
    config.scenario_toml = stress_tui::config::scenario::to_toml(&words);
    let handle = stress_tui::run::start(config).await.unwrap();
    wait_phase(&handle, Phase::Sustained, Duration::from_secs(60)).await;
    // As the dashboard's keys would: new total rates, then a node removed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let total = PerDirection { post: 90, get: 300 };
    handle.engine.set_total_rates(total).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    handle.engine.remove_node(1).await.unwrap();
    let report = wait_report(handle, Duration::from_secs(120)).await;
    assert!(
        report.status.failure.is_none(),
        "{:?}",
        report.status.failure
    );
    // The removed node keeps its results: in summary.json (with when it left), nodes.csv and
    // the summary's node table.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(first.join("summary.json")).unwrap()).unwrap();
    let problems = crate::support::summary_problems(&summary);
    assert!(problems.is_empty(), "{problems:?}");
    let nodes = summary["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    let removed: Vec<&serde_json::Value> = nodes
        .iter()
        .filter(|n| n.get("removed_at_s").is_some())
        .collect();
    assert_eq!(removed.len(), 1);
    assert!(
        removed[0]["post"]["ok"].as_u64().unwrap() > 0,
        "its answers are kept"
    );
    let csv = std::fs::read_to_string(first.join("nodes.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 3 * 2,
        "a POST and a GET row per node: {csv}"
    );
    let text = stress_tui::report::summary_text(&report);
    assert!(text.contains(" was removed at "), "{text}");

    let replay = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .arg("replay")
        .arg(&first)
        .output()
        .unwrap();
    let scenario = String::from_utf8(replay.stdout).unwrap();
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(scenario.contains(":total=90/300\""), "{scenario}");
    assert!(scenario.contains(":remove=node2\""), "{scenario}");
    let file =
        std::env::temp_dir().join(format!("stress-tui-it-replay-{}.toml", std::process::id()));
    std::fs::write(&file, &scenario).unwrap();
    let second =
        std::env::temp_dir().join(format!("stress-tui-it-replay-b-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&second);
    let rerun = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .arg("--scenario")
        .arg(&file)
        .arg("--out")
        .arg(&second)
        .output()
        .unwrap();
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );

    let (a, b) = (targets(&first), targets(&second));
    let last = |t: &BTreeMap<(String, u64), f64>| t.keys().map(|(_, s)| *s).max().unwrap();
    let end = last(&a).min(last(&b)).saturating_sub(1);
    let mut compared = 0;
    for ((node, s), target) in &b {
        // Seconds a change fell in are averages of two rates: within them is where the
        // command landed.
        let whole = (target - target.round()).abs() < 1e-6;
        if *s > end || !whole {
            continue;
        }
        let near: Vec<f64> = (s.saturating_sub(1)..=s + 1)
            .filter_map(|t| a.get(&(node.clone(), t)).copied())
            .collect();
        assert!(
            near.iter().any(|x| (x - target).abs() < 0.5),
            "{node} second {s}: replayed target {target}, the run's {near:?}"
        );
        compared += 1;
    }
    assert!(compared >= 15, "{compared} node-seconds compared");
    // After the removal the two nodes left share the 90 POST/s; the removed one's target is 0.
    let after: Vec<f64> = a
        .iter()
        .filter(|((_, s), _)| *s + 2 == end)
        .map(|(_, t)| *t)
        .collect();
    assert!(
        (after.iter().sum::<f64>() - 90.0).abs() < 0.5
            && after
                .iter()
                .all(|t| t.abs() < 0.5 || (t - 45.0).abs() < 0.5),
        "{after:?}"
    );
    std::fs::remove_dir_all(&first).unwrap();
    std::fs::remove_dir_all(&second).unwrap();
    std::fs::remove_file(&file).unwrap();
}

/// The words of a [`RunFlags`].
fn stress_tui_words(flags: &RunFlags) -> Vec<String> {
    use crate::support::Args;
    flags.args().into_iter().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_knobs_change_the_runs_own_devnet() {
    use clap::Parser;
    let out = std::env::temp_dir().join(format!("stress-tui-it-knobs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let cli = stress_tui::cli::Cli::try_parse_from([
        "stress-tui",
        "--no-tui",
        "--devnet",
        "2",
        "--post-rate",
        "50",
        "--get-rate",
        "100",
        "--mint-wallets",
        "1",
        "--transfers-per-mint",
        "4",
        "--duration",
        "3s",
        "--at",
        "0s:knobs=2:{\"latency_ms\":50}",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    let config = stress_tui::config::RunConfig::from_args(&cli.run).unwrap();
    let handle = stress_tui::run::start(config).await.unwrap();
    let report = wait_report(handle, Duration::from_secs(60)).await;
    let p50 = |id: u32| report.stats.node(id).unwrap().post.latency.p50;
    assert!(
        p50(1) >= 50_000,
        "node 2 answers 50 ms late: p50 {} µs",
        p50(1)
    );
    assert!(p50(0) < 50_000, "node 1 does not: p50 {} µs", p50(0));
    // The knob is an event of the run, and a replay sets it again.
    let events = std::fs::read_to_string(out.join("events.log")).unwrap();
    assert!(
        events.contains(r#"knobs node 2: {"latency_ms":50}"#),
        "{events}"
    );
    // Started in-process, the run wrote no scenario.toml (its flags); one stands in for it.
    std::fs::write(out.join("scenario.toml"), "devnet = 2\n").unwrap();
    let again = stress_tui::report::replay::replay(&out).unwrap();
    let scenario: toml::Table = again.parse().unwrap();
    let actions = scenario["at"].as_array().unwrap();
    assert!(
        actions.iter().any(|a| a
            .as_str()
            .unwrap()
            .ends_with(r#"s:knobs=2:{"latency_ms":50}"#)),
        "{again}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
