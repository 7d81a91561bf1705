//! The stage driver (`--stage`): once the load phase begins, it sets the total rates each
//! second as the stages say, through the engine's command channel like a key press (each
//! change an event in `events.log`), and tells the workload which stage the faces show.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{Stage, rates_at};
use crate::engine::EngineHandle;
use crate::model::PerDirection;
use crate::workload::Workload;

/// How often the driver looks whether the load phase has begun.
const LOOK_EVERY: Duration = Duration::from_millis(10);

/// Runs the stages from the load phase's start; ends with them or with the run.
pub(super) async fn drive(
    engine: EngineHandle,
    workload: Arc<Workload>,
    stages: Vec<Stage>,
    started: Instant,
) {
    let mut finished = workload.finished();
    let Some(began) = wait_for_load(&workload, started).await else {
        return;
    };
    let initial = engine.pool().total;
    let mut last: Option<PerDirection<u32>> = None;
    let count = stages.len();
    let ends = stage_ends(&stages);
    for second in 0.. {
        let at = Duration::from_secs(second);
        let Some((index, rates)) = rates_at(&stages, initial, at) else {
            break;
        };
        let stage = &stages[index];
        let what = format!("stage {}/{count} {}", index + 1, stage.describe());
        if last != Some(rates) {
            // A refusal (no node left) is in the event log; the stages go on.
            let _ = engine.set_total_rates_for(rates, what.clone()).await;
            last = Some(rates);
        }
        let left = ends[index].saturating_sub(at);
        workload.set_stage(Some(format!("{what}, {} s left", left.as_secs())));
        tokio::select! {
            () = tokio::time::sleep_until((began + at + Duration::from_secs(1)).into()) => {}
            _ = finished.wait_for(|done| *done) => break,
        }
    }
    workload.set_stage(None);
}

/// Waits for the load phase to begin: when it did, or `None` if the run ended first.
pub(super) async fn wait_for_load(workload: &Workload, started: Instant) -> Option<Instant> {
    let finished = workload.finished();
    loop {
        if *finished.borrow() {
            return None;
        }
        if let Some(at) = workload.load_began() {
            return Some(started + at);
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// Each stage's end, from the load phase's start.
fn stage_ends(stages: &[Stage]) -> Vec<Duration> {
    stages
        .iter()
        .scan(Duration::ZERO, |end, stage| {
            *end += stage.duration;
            Some(*end)
        })
        .collect()
}
