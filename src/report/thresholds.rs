//! Evaluates the run's pass/fail thresholds (parsed in [`crate::config`]) against its final
//! statistics.

use std::fmt;

use serde::Serialize;

use crate::config::{Compare, Scope, Stat, Threshold, node_position};
use crate::model::Op;
use crate::report::RunReport;
use crate::stats::OpSnapshot;

/// A threshold's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct ThresholdResult {
    pub threshold: String,
    pub value: Option<f64>,
    pub passed: bool,
    pub note: String,
}

impl fmt::Display for ThresholdResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed { "pass" } else { "FAIL" };
        write!(f, "{verdict}  {}  ({})", self.threshold, self.note)
    }
}

/// The operations of `ops` a threshold's scope covers.
#[must_use]
pub fn merged(ops: &std::collections::BTreeMap<Op, OpSnapshot>, scope: Scope) -> Vec<&OpSnapshot> {
    ops.iter()
        .filter(|(op, _)| match scope {
            Scope::Op(wanted) => **op == wanted,
            Scope::Post => op.is_post(),
            Scope::Get => op.is_request() && !op.is_post(),
            Scope::All => op.is_request(),
        })
        .map(|(_, s)| s)
        .collect()
}

/// Evaluates every threshold against a finished run.
#[must_use]
pub fn evaluate(thresholds: &[Threshold], report: &RunReport) -> Vec<ThresholdResult> {
    thresholds.iter().map(|t| evaluate_one(t, report)).collect()
}

fn evaluate_one(threshold: &Threshold, report: &RunReport) -> ThresholdResult {
    let stats = &report.stats;
    let ops = match &threshold.node {
        None => Some(&stats.ops),
        Some(label) => report
            .pool
            .nodes
            .iter()
            .find(|n| match node_position(label) {
                // The run's first nodes have ids 0, 1, ... in their order.
                Some(position) => usize::try_from(n.id).is_ok_and(|id| id + 1 == position),
                None => &n.label == label || n.url == *label,
            })
            .and_then(|n| stats.node(n.id))
            .map(|n| &n.ops),
    };
    let Some(ops) = ops else {
        return ThresholdResult {
            threshold: threshold.text.clone(),
            value: None,
            passed: false,
            note: format!(
                "no node {} in the run",
                threshold.node.clone().unwrap_or_default()
            ),
        };
    };
    evaluate_parts(
        threshold,
        &merged(ops, threshold.scope),
        report.rate_seconds(),
    )
}

/// A threshold on the operations `parts` (of one scope, of one or more nodes), whose rates are
/// over `secs`. Percentiles of several parts: the worst part's (an upper bound, never an
/// average).
#[must_use]
pub fn evaluate_parts(threshold: &Threshold, parts: &[&OpSnapshot], secs: f64) -> ThresholdResult {
    let count: u64 = parts.iter().map(|s| s.count).sum();
    let errors: u64 = parts.iter().map(|s| s.error_count()).sum();
    let ok: u64 = parts.iter().map(|s| s.ok).sum();
    let worst = |pick: fn(&crate::stats::Percentiles) -> u64| {
        parts.iter().map(|s| pick(&s.latency)).max().unwrap_or(0) as f64
    };
    let value = match threshold.stat {
        Stat::P50 => worst(|p| p.p50),
        Stat::P90 => worst(|p| p.p90),
        Stat::P99 => worst(|p| p.p99),
        Stat::P999 => worst(|p| p.p999),
        Stat::Max => worst(|p| p.max),
        Stat::Mean => worst(|p| p.mean),
        Stat::ErrorRatio => {
            if count == 0 {
                0.0
            } else {
                100.0 * errors as f64 / count as f64
            }
        }
        Stat::ErrorCount => errors as f64,
        Stat::Rate => ok as f64 / secs.max(0.001),
        Stat::Count => count as f64,
    };
    let passed = match threshold.compare {
        Compare::Less => value < threshold.limit,
        Compare::LessOrEqual => value <= threshold.limit,
        Compare::Greater => value > threshold.limit,
        Compare::GreaterOrEqual => value >= threshold.limit,
    };
    let shown = match threshold.stat {
        Stat::P50 | Stat::P90 | Stat::P99 | Stat::P999 | Stat::Max | Stat::Mean => {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let micros = value as u64;
            super::fmt_micros(micros)
        }
        Stat::ErrorRatio => format!("{value:.3}%"),
        _ => format!("{value:.1}"),
    };
    ThresholdResult {
        threshold: threshold.text.clone(),
        value: Some(value),
        passed,
        note: format!("measured {shown} over {count} requests"),
    }
}
