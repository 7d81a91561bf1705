//! `--find-capacity` against devnets whose limits are known: two nodes answering 429 above 100
//! and 160 POST/s (the total split evenly, so the cluster holds 200/s, the weaker node's
//! share twice), and two nodes one of which answers 50 ms late under a 40 ms SLO. The search
//! finds the capacity within 15 % under and 10 % over, and names the node that broke first.
//!
//! The rates are low and `--generator-slack` is 10 ms because these run beside the other tests
//! on 2 cores: at 1 ms the search rightly stopped early, the generator's send-time error p99
//! being 1.1 ms at 489 POST/s; at 5 ms a CI run stopped on the last narrowing step (208 POST/s,
//! p99 5.1 ms) after finding the capacity right (held 185, broke at 231).

use std::time::Duration;

use stress_tui::devnet::{Devnet, DevnetConfig, KnobsPatch};

use crate::support::{RunFlags, assert_completed_and_verified, run_config, wait_report};

fn knobs(devnet: &Devnet, node: usize, patch: KnobsPatch) {
    devnet.set_knobs(node, &patch).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_finds_the_capacity_and_the_weaker_node() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    for (node, capacity) in [(0, 100), (1, 160)] {
        let patch = KnobsPatch {
            post_capacity: Some(capacity),
            ..KnobsPatch::default()
        };
        knobs(&devnet, node, patch);
    }
    let flags = RunFlags::rates(60, 60)
        .wallets(4, 25)
        .in_flight(4)
        .extra(&["--find-capacity", "--slo", "errors<1%", "--step", "3s"])
        .flag("--generator-slack", "10ms");
    let config = run_config(&devnet.urls(), "capacity", &flags);
    let out = config.out.clone().unwrap();
    let weaker = config.nodes[0].label.clone();
    let handle = stress_tui::run::start(config).await.unwrap();
    let report = wait_report(handle, Duration::from_secs(240)).await;
    assert_completed_and_verified(&report);
    let capacity = report.capacity.clone().expect("a capacity verdict");
    let text = capacity.text();
    assert_eq!(capacity.generator_limited, None, "{text}");
    let held = capacity.held_post_rate.expect("a rate held");
    // Beside the other tests a 185 POST/s step once broke on the weaker node's answered share
    // (held 175): the lower bound is 15 % under the truth, the upper 10 % over.
    assert!(
        (170..=220).contains(&held),
        "held {held} POST/s, the truth is 200: {text}"
    );
    let broke = capacity.broke_post_rate.expect("a rate broke");
    assert!(broke > held, "{text}");
    assert_eq!(
        capacity.first_node.as_deref(),
        Some(weaker.as_str()),
        "{text}"
    );
    // Rising by 1.25 from 60 while the steps hold, then two narrowing steps between the last
    // good and the first bad rate. (The devnet's bucket lets a node take 10 % of its rate as a
    // burst: a 3 s step holds up to about 103 POST/s a node.)
    let rates: Vec<u32> = capacity.steps.iter().map(|s| s.post_rate).collect();
    assert_eq!(&rates[..5], [60, 75, 94, 118, 148], "{text}");
    let first_bad = capacity
        .steps
        .iter()
        .position(|s| !s.held)
        .expect("a step broke");
    assert_eq!(
        rates.len(),
        first_bad + 1 + 2,
        "two narrowing steps: {text}"
    );
    let csv = std::fs::read_to_string(out.join("capacity.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + rates.len() * 3,
        "a row per step and scope"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["capacity"]["held_post_rate"], held);
    let problems = crate::support::summary_problems(&summary);
    assert!(problems.is_empty(), "{problems:?}");
    let events = std::fs::read_to_string(out.join("events.log")).unwrap();
    assert!(
        events.contains("capacity step 5 (148 POST/s): set total to 148 POST/s"),
        "{events}"
    );
    // The page shows the search: its verdict and a row per step.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains(&format!("<p>held {held} POST/s;")),
        "the verdict"
    );
    let steps = page
        .split("<table id=\"capacity\">")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .expect("the steps table");
    assert_eq!(steps.matches("<tr>").count(), 1 + rates.len(), "{steps}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_node_is_named_under_a_latency_slo() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let patch = KnobsPatch {
        latency_ms: Some(50),
        ..KnobsPatch::default()
    };
    knobs(&devnet, 1, patch);
    let flags = RunFlags::rates(100, 200)
        .wallets(2, 20)
        .in_flight(8)
        .extra(&[
            "--find-capacity",
            "--slo",
            "payment.p99<40ms",
            "--step",
            "2s",
        ])
        .flag("--generator-slack", "10ms");
    let config = run_config(&devnet.urls(), "capacity-slow", &flags);
    let out = config.out.clone().unwrap();
    let slow = config.nodes[1].label.clone();
    let handle = stress_tui::run::start(config).await.unwrap();
    let report = wait_report(handle, Duration::from_secs(120)).await;
    assert_completed_and_verified(&report);
    let capacity = report.capacity.clone().expect("a capacity verdict");
    let text = capacity.text();
    assert_eq!(
        capacity.held_post_rate, None,
        "not even 100 POST/s holds: {text}"
    );
    assert_eq!(capacity.broke_post_rate, Some(100), "{text}");
    assert_eq!(
        capacity.first_node.as_deref(),
        Some(slow.as_str()),
        "{text}"
    );
    assert!(
        capacity.first_node_broke[0].starts_with("payment.p99<40ms"),
        "{text}"
    );
    // The slow node's own p99 is the worst of the step.
    let step = &capacity.steps[0];
    assert!(
        step.figures[2].post_p99_ms > step.figures[1].post_p99_ms,
        "{text}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
