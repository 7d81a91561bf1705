//! `--stage`: a step up, a ramp and a step down against a devnet. Each second's target in
//! `timeseries.csv` follows the stages, and the POSTs answered in the full seconds of the
//! load add up to their targets within 2 %, ramp included, each second within 10 % (answers
//! spill over second boundaries on a busy machine); each change is an event.

use std::time::Duration;

use stress_tui::config::{Stage, rates_at};
use stress_tui::devnet::{Devnet, DevnetConfig};
use stress_tui::model::{PerDirection, Phase};

use crate::support::{RunFlags, assert_completed_and_verified, run_config, wait_report};

const STAGES: [&str; 3] = ["4s:300/400", "4s:ramp-to:500", "3s:200"];

/// The stages' POST target averaged over run second `second`, the load having begun `began`
/// into the run.
fn expected_target(stages: &[Stage], initial: PerDirection<u32>, began: f64, second: u64) -> f64 {
    // Integrated in 1 ms steps: the stages change on whole seconds from `began`.
    (0..1000)
        .map(|ms| {
            let at = second as f64 + (f64::from(ms) + 0.5) / 1000.0 - began;
            if at < 0.0 {
                return f64::from(initial.post);
            }
            rates_at(stages, initial, Duration::from_secs_f64(at))
                .map_or(0.0, |(_, rates)| f64::from(rates.post))
        })
        .sum::<f64>()
        / 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_set_each_seconds_target_and_the_load_follows_it() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let mut flags = RunFlags::rates(100, 400).wallets(4, 40).in_flight(8);
    for stage in STAGES {
        flags = flags.flag("--stage", stage);
    }
    let config = run_config(&devnet.urls(), "stages", &flags);
    let out = config.out.clone().unwrap();
    let stages = config.stages.clone();
    assert_eq!(config.duration, Some(Duration::from_secs(11)));
    let handle = stress_tui::run::start(config).await.unwrap();
    let report = wait_report(handle, Duration::from_secs(120)).await;
    assert_completed_and_verified(&report);
    let began = report
        .status
        .phase_log
        .iter()
        .find(|(phase, _)| *phase == Phase::Sustained)
        .unwrap()
        .1
        .as_secs_f64();
    let initial = PerDirection {
        post: 100,
        get: 400,
    };
    let rows = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let header: Vec<&str> = rows.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|c| *c == name).unwrap();
    let (second_at, node_at, target_at, ok_at) = (
        column("second"),
        column("node"),
        column("target_post"),
        column("post_ok"),
    );
    let (mut checked, mut total) = (0, (0.0, 0.0));
    for row in rows.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        if fields[node_at] != "total" {
            continue;
        }
        let second: u64 = fields[second_at].parse().unwrap();
        // Full seconds of the load only.
        if (second as f64) < began || (second + 1) as f64 > began + 11.0 {
            continue;
        }
        let target: f64 = fields[target_at].parse().unwrap();
        let expected = expected_target(&stages, initial, began, second);
        // The driver's change lands within a few ms of its second, more on a busy machine.
        assert!(
            (target - expected).abs() <= 0.05 * expected,
            "second {second}: target {target}, the stages say {expected:.1}"
        );
        let answered: f64 = fields[ok_at].parse().unwrap();
        // Each second within 10 %: answers are counted by the second they came in, and beside
        // the other tests on 2 cores some spill into the next second (CI runs saw 399 of
        // 413.8, 275 of 281.1 and 453 of 487.1); over the whole load within 2 %.
        assert!(
            (answered - target).abs() <= 0.10 * target,
            "second {second}: {answered} POSTs answered against a target of {target}"
        );
        total.0 += answered;
        total.1 += target;
        checked += 1;
    }
    assert!(checked >= 9, "{checked} full seconds checked");
    assert!(
        (total.0 - total.1).abs() <= 0.02 * total.1,
        "{} POSTs answered in the full seconds against a target of {}",
        total.0,
        total.1
    );
    let events = std::fs::read_to_string(out.join("events.log")).unwrap();
    assert!(
        events.contains("stage 1/3 300/400: set total to 300 POST/s, 400 GET/s"),
        "{events}"
    );
    assert!(
        events.contains("stage 2/3 ramp-to 500: set total to 350 POST/s, 400 GET/s"),
        "{events}"
    );
    assert!(
        events.contains("stage 3/3 200: set total to 200 POST/s, 400 GET/s"),
        "{events}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
