//! The capacity search (`--find-capacity`): once the load phase begins, steps of sustained
//! payments, each held for `--step` at one POST rate (set through the engine like a key press)
//! and judged on its own samples (a measurement window of intended send times), with its
//! answers awaited [`CapacitySearch::SETTLE`] after it. The rate rises by `--step-factor` while
//! the steps hold, then two steps narrow between the last good and the first bad rate. A step
//! the generator could not keep up with (unfilled slots, send-time error) ends the search
//! without a verdict on the cluster.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::config::CapacitySearch;
use crate::engine::{EngineHandle, PoolView, SlotTotals};
use crate::model::{Direction, NodeId, PerDirection};
use crate::report::capacity::{CapacityReport, CapacityStep, StepFigures};
use crate::report::thresholds::{evaluate_parts, merged};
use crate::stats::{OpSnapshot, StatsSnapshot, Window, WindowSnapshot, Windows};
use crate::workload::Workload;

/// Each node must answer this share of its slots in a step for the step to hold.
const THROUGHPUT_SHARE: f64 = 0.98;
/// Unfilled POST slots above this share of a step's: the workload (the generator) held it back.
const UNFILLED_SHARE: f64 = 0.01;
/// How many steps narrow between the last good and the first bad rate.
const NARROWING_STEPS: u32 = 2;

/// What a search needs from the run.
pub(super) struct Searcher {
    pub(super) engine: EngineHandle,
    pub(super) workload: Arc<Workload>,
    pub(super) search: CapacitySearch,
    /// The first step's rates; GETs keep their ratio to POSTs.
    pub(super) first: PerDirection<u32>,
    pub(super) windows: watch::Sender<Windows>,
    pub(super) stats: watch::Receiver<Arc<StatsSnapshot>>,
    pub(super) started: Instant,
}

fn slot_totals(pool: &PoolView) -> BTreeMap<NodeId, SlotTotals> {
    pool.nodes
        .iter()
        .map(|n| (n.id, n.counters.totals(Direction::Post)))
        .collect()
}

impl Searcher {
    /// Runs the search; ends the load phase when it is done. Stops early with the run.
    pub(super) async fn run(mut self) -> CapacityReport {
        let mut report = CapacityReport::default();
        let mut finished = self.workload.finished();
        if super::stages::wait_for_load(&self.workload, self.started)
            .await
            .is_none()
        {
            return report;
        }
        let mut rate = self.first.post;
        let mut narrowing = None::<u32>;
        for index in 1..=CapacitySearch::MAX_STEPS {
            let Some(step) = self.step(index, rate, &report, &mut finished).await else {
                break;
            };
            let (held, limited) = (step.held, step.generator_limited.clone());
            Self::note_first_node(&mut report, &step);
            if !held && limited.is_none() {
                let total = step
                    .figures
                    .first()
                    .map(|f| f.broke.clone())
                    .unwrap_or_default();
                if report.broke_post_rate.is_none_or(|broke| rate < broke) {
                    report.broke_post_rate = Some(rate);
                    report.broken = if total.is_empty() {
                        step.figures
                            .iter()
                            .filter(|f| !f.broke.is_empty())
                            .map(|f| format!("{}: {}", f.scope, f.broke.join(", ")))
                            .collect()
                    } else {
                        total
                    };
                }
            }
            report.steps.push(step);
            if let Some(why) = limited {
                report.generator_limited = Some(why);
                break;
            }
            if held {
                report.held_post_rate = Some(report.held_post_rate.map_or(rate, |h| h.max(rate)));
            }
            let next = match (report.held_post_rate, report.broke_post_rate) {
                // Still rising.
                (Some(_), None) => rising(rate, self.search.factor),
                (Some(good), Some(bad)) => {
                    let left = narrowing.get_or_insert(NARROWING_STEPS);
                    if *left == 0 || bad <= good + 1 {
                        break;
                    }
                    *left -= 1;
                    good + (bad - good) / 2
                }
                // Not even the first step held.
                (None, _) => break,
            };
            rate = next;
        }
        self.workload.set_stage(None);
        // The search decides when the load ends.
        self.engine.skip_phase().await;
        report
    }

    /// Runs and judges one step; `None` when the run ended during it.
    async fn step(
        &mut self,
        index: u32,
        post: u32,
        report: &CapacityReport,
        finished: &mut watch::Receiver<bool>,
    ) -> Option<CapacityStep> {
        let get = scaled(self.first, post);
        let rates = PerDirection { post, get };
        let _ = self
            .engine
            .set_total_rates_for(rates, format!("capacity step {index} ({post} POST/s)"))
            .await;
        let held = report
            .held_post_rate
            .map_or_else(String::new, |h| format!("; held {h} so far"));
        self.workload
            .set_stage(Some(format!("capacity step {index}: {post} POST/s{held}")));
        let before = slot_totals(&self.engine.pool());
        let start = Instant::now();
        self.windows.send_modify(|windows| {
            Arc::make_mut(windows).push(Window { start, end: None });
        });
        let ended = tokio::select! {
            () = tokio::time::sleep(self.search.step) => false,
            _ = finished.wait_for(|done| *done) => true,
        };
        let end = Instant::now();
        self.windows.send_modify(|windows| {
            if let Some(last) = Arc::make_mut(windows).last_mut() {
                last.end = Some(end);
            }
        });
        let after = slot_totals(&self.engine.pool());
        if ended {
            return None;
        }
        // The step's last answers, then a snapshot taken after them.
        tokio::time::sleep(CapacitySearch::SETTLE).await;
        let _ = self.stats.changed().await;
        let snapshot = Arc::clone(&self.stats.borrow_and_update());
        let window = snapshot
            .windows
            .get(usize::try_from(index - 1).unwrap_or(usize::MAX))
            .cloned()
            .unwrap_or_default();
        Some(self.judge(index, rates, &window, end - start, &before, &after))
    }

    fn judge(
        &self,
        index: u32,
        rates: PerDirection<u32>,
        window: &WindowSnapshot,
        length: Duration,
        before: &BTreeMap<NodeId, SlotTotals>,
        after: &BTreeMap<NodeId, SlotTotals>,
    ) -> CapacityStep {
        let secs = length.as_secs_f64().max(0.001);
        let pool = self.engine.pool();
        let empty = BTreeMap::new();
        let node_ops = |id: NodeId| window.nodes.get(&id).unwrap_or(&empty);
        let mut figures = vec![self.figures(
            "total".to_owned(),
            rates.post,
            &window.nodes.values().collect::<Vec<_>>(),
            secs,
        )];
        for node in &pool.nodes {
            figures.push(self.figures(
                node.label.clone(),
                node.rates.post,
                &[node_ops(node.id)],
                secs,
            ));
        }
        let held = figures.iter().all(|f| f.broke.is_empty());
        CapacityStep {
            index,
            post_rate: rates.post,
            get_rate: rates.get,
            seconds: secs,
            held,
            generator_limited: generator_limit(window, before, after, self.search.generator_slack),
            figures,
        }
    }

    /// One scope's figures in a step and what it broke: every SLO, and answering its share
    /// of the target.
    fn figures(
        &self,
        scope: String,
        target_post: u32,
        ops: &[&BTreeMap<crate::model::Op, OpSnapshot>],
        secs: f64,
    ) -> StepFigures {
        let posts: Vec<&OpSnapshot> = ops
            .iter()
            .flat_map(|ops| ops.iter().filter(|(op, _)| op.is_post()).map(|(_, s)| s))
            .collect();
        let ok: u64 = posts.iter().map(|s| s.ok).sum();
        let count: u64 = posts.iter().map(|s| s.count).sum();
        let errors: u64 = posts.iter().map(|s| s.error_count()).sum();
        let p99 = posts.iter().map(|s| s.latency.p99).max().unwrap_or(0);
        let mut broke = Vec::new();
        for slo in &self.search.slos {
            let parts: Vec<&OpSnapshot> =
                ops.iter().flat_map(|ops| merged(ops, slo.scope)).collect();
            let result = evaluate_parts(slo, &parts, secs);
            if !result.passed {
                broke.push(format!("{} ({})", result.threshold, result.note));
            }
        }
        let ok_per_s = ok as f64 / secs;
        if ok_per_s < THROUGHPUT_SHARE * f64::from(target_post) {
            broke.push(format!("answered {ok_per_s:.1} of {target_post} POST/s"));
        }
        StepFigures {
            scope,
            target_post,
            ok_per_s,
            error_pct: if count == 0 {
                0.0
            } else {
                100.0 * errors as f64 / count as f64
            },
            post_p99_ms: p99 as f64 / 1000.0,
            broke,
        }
    }

    /// The node that broke at the lowest rate, with what it broke (the first such step).
    fn note_first_node(report: &mut CapacityReport, step: &CapacityStep) {
        if step.generator_limited.is_some() {
            return;
        }
        let lowest_so_far = report
            .steps
            .iter()
            .filter(|s| s.figures.iter().skip(1).any(|f| !f.broke.is_empty()))
            .map(|s| s.post_rate)
            .min();
        if lowest_so_far.is_some_and(|lowest| lowest <= step.post_rate) {
            return;
        }
        // The node that broke most: most rules broken, then the lowest answered share, the most
        // errors, the slowest p99.
        let worst = step
            .figures
            .iter()
            .skip(1)
            .filter(|f| !f.broke.is_empty())
            .max_by(|a, b| {
                let key = |f: &StepFigures| {
                    (
                        f.broke.len(),
                        -(f.ok_per_s / f64::from(f.target_post.max(1))),
                        f.error_pct,
                        f.post_p99_ms,
                    )
                };
                key(a)
                    .partial_cmp(&key(b))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        if let Some(node) = worst {
            report.first_node = Some(node.scope.clone());
            report.first_node_broke = node
                .broke
                .iter()
                .map(|b| format!("{b} at {} POST/s", step.post_rate))
                .collect();
        }
    }
}

/// The next rate while the steps hold: at least one more.
fn rising(rate: u32, factor: f64) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let next = (f64::from(rate) * factor).round() as u32;
    next.max(rate + 1).min(crate::config::MAX_TOTAL_RATE)
}

/// The GET rate that keeps the first step's ratio to POSTs.
fn scaled(first: PerDirection<u32>, post: u32) -> u32 {
    let ratio = f64::from(first.get) / f64::from(first.post.max(1));
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let get = (f64::from(post) * ratio).round() as u32;
    get.min(crate::config::MAX_TOTAL_RATE)
}

/// Why the generator, not the cluster, limited a step, if it did.
fn generator_limit(
    window: &WindowSnapshot,
    before: &BTreeMap<NodeId, SlotTotals>,
    after: &BTreeMap<NodeId, SlotTotals>,
    slack: Duration,
) -> Option<String> {
    let (mut offered, mut unfilled) = (0u64, 0u64);
    for (id, end) in after {
        let start = before.get(id).copied().unwrap_or_default();
        offered += end.offered.saturating_sub(start.offered);
        unfilled += end.unfilled.saturating_sub(start.unfilled);
    }
    let slots = offered + unfilled;
    if slots > 0 && unfilled as f64 > UNFILLED_SHARE * slots as f64 {
        return Some(format!(
            "{:.1} % of the POST slots found no payment ready",
            100.0 * unfilled as f64 / slots as f64
        ));
    }
    let p99 = window.send_error.post.p99;
    (u128::from(p99) > slack.as_micros())
        .then(|| format!("send-time error p99 {:.1} ms", p99 as f64 / 1000.0))
}
