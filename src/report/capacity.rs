//! What a capacity search (`--find-capacity`) found: its steps, each judged on its own samples,
//! and the verdict: the highest POST rate that held, where it broke, which service level
//! broke, and which node broke first. Written to `capacity.csv`, `summary.json` and the
//! summary text.

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use super::csv_rows::Fixed3;

/// One node's (or the whole cluster's) figures in one step.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StepFigures {
    /// The node's label, or `total`.
    pub scope: String,
    pub target_post: u32,
    /// POSTs answered ok in the step, a second.
    pub ok_per_s: f64,
    pub error_pct: f64,
    pub post_p99_ms: f64,
    /// The SLOs (and the throughput rule) this scope broke in the step.
    pub broke: Vec<String>,
}

/// One step of the search.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CapacityStep {
    pub index: u32,
    pub post_rate: u32,
    pub get_rate: u32,
    pub seconds: f64,
    /// Every SLO held for the cluster and every node answered its share.
    pub held: bool,
    /// The generator could not keep up (unfilled slots, send-time error): the step says
    /// nothing of the cluster.
    pub generator_limited: Option<String>,
    /// `total` first, then each node.
    pub figures: Vec<StepFigures>,
}

/// The search's verdict.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CapacityReport {
    /// The highest POST rate that held (`None`: not even the first step).
    pub held_post_rate: Option<u32>,
    /// The lowest POST rate that broke (`None`: none broke within the steps).
    pub broke_post_rate: Option<u32>,
    /// What broke at `broke_post_rate`: the cluster's SLOs, or a node's.
    pub broken: Vec<String>,
    /// The node that broke at the lowest rate, and what it broke there.
    pub first_node: Option<String>,
    pub first_node_broke: Vec<String>,
    /// The search stopped because the generator could not keep up.
    pub generator_limited: Option<String>,
    pub steps: Vec<CapacityStep>,
}

/// The CSV row of one scope of one step.
#[derive(Serialize)]
struct StepRow<'a> {
    step: u32,
    post_rate: u32,
    get_rate: u32,
    seconds: Fixed3,
    held: bool,
    generator_limited: &'a str,
    scope: &'a str,
    target_post: u32,
    ok_per_s: Fixed3,
    error_pct: Fixed3,
    post_p99_ms: Fixed3,
    broke: String,
}

impl CapacityReport {
    /// `capacity.csv`: a row per step and scope (`total`, then each node).
    pub fn write_csv(&self, out: impl Write) -> csv::Result<()> {
        let mut csv = csv::Writer::from_writer(out);
        for step in &self.steps {
            for figures in &step.figures {
                csv.serialize(StepRow {
                    step: step.index,
                    post_rate: step.post_rate,
                    get_rate: step.get_rate,
                    seconds: Fixed3(step.seconds),
                    held: step.held,
                    generator_limited: step.generator_limited.as_deref().unwrap_or(""),
                    scope: &figures.scope,
                    target_post: figures.target_post,
                    ok_per_s: Fixed3(figures.ok_per_s),
                    error_pct: Fixed3(figures.error_pct),
                    post_p99_ms: Fixed3(figures.post_p99_ms),
                    broke: figures.broke.join("; "),
                })?;
            }
        }
        csv.flush()?;
        Ok(())
    }

    /// The summary's lines.
    #[must_use]
    pub fn text(&self) -> String {
        let mut out = String::from("\ncapacity search:\n");
        for step in &self.steps {
            let total = step.figures.first();
            let broken = step.figures.iter().filter(|f| !f.broke.is_empty()).fold(
                String::new(),
                |mut text, f| {
                    let _ = write!(text, "; {}: {}", f.scope, f.broke.join(", "));
                    text
                },
            );
            let _ = writeln!(
                out,
                "  step {:>2}  {:>7} POST/s  {}  ok {:>9.1}/s  errors {:>6.2}%  p99 {:>9.1}ms{broken}",
                step.index,
                step.post_rate,
                match (&step.generator_limited, step.held) {
                    (Some(_), _) => "generator",
                    (None, true) => "held     ",
                    (None, false) => "broke    ",
                },
                total.map_or(0.0, |t| t.ok_per_s),
                total.map_or(0.0, |t| t.error_pct),
                total.map_or(0.0, |t| t.post_p99_ms),
            );
        }
        let _ = match (self.held_post_rate, self.broke_post_rate) {
            (Some(held), Some(broke)) => writeln!(
                out,
                "capacity: held {held} POST/s; broke at {broke} POST/s ({})",
                self.broken.join("; ")
            ),
            (Some(held), None) => writeln!(
                out,
                "capacity: held {held} POST/s, the last step; it did not break within the steps"
            ),
            (None, Some(broke)) => writeln!(
                out,
                "capacity: below the first step: broke at {broke} POST/s ({})",
                self.broken.join("; ")
            ),
            (None, None) => writeln!(out, "capacity: no step was judged"),
        };
        if let Some(node) = &self.first_node {
            let _ = writeln!(
                out,
                "first to break: {node} ({})",
                self.first_node_broke.join("; ")
            );
        }
        if let Some(why) = &self.generator_limited {
            let _ = writeln!(
                out,
                "the search stopped: the generator could not keep up ({why}); that says nothing of the cluster: run shards on more machines"
            );
        }
        out
    }
}
