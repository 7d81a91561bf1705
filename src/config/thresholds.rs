//! Pass/fail thresholds, k6-style, parsed from `--threshold` (the run's report evaluates
//! them): `[NODE/]METRIC OP VALUE`, e.g. `payment.p99<250ms`, `errors<1%`, `confirm.p50<=1s`,
//! `127.0.0.1:18555/post.p99<100ms` (or `node1/...` by position), `payment.rate>=400`.
//!
//! Metrics: `<scope>.<stat>` where scope is an operation (issue, grant, mint, payment, receipt,
//! nonce, balance, lookup, checkpoint, confirm, status) or `post`/`get` (all of them), and stat
//! is a latency percentile (`p50`, `p90`, `p99`, `p999`, `max`, `mean`, from the intended send
//! time), `errors` (a ratio with `%`, or a count), `rate` (successes a second) or `count`;
//! plain `errors` means every request.

use serde::Serialize;

use super::values::parse_duration;
use crate::model::Op;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Compare {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Scope {
    Op(Op),
    Post,
    Get,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Stat {
    P50,
    P90,
    P99,
    P999,
    Max,
    Mean,
    ErrorRatio,
    ErrorCount,
    Rate,
    Count,
}

/// One parsed threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Threshold {
    pub text: String,
    pub node: Option<String>,
    pub scope: Scope,
    pub stat: Stat,
    pub compare: Compare,
    /// Microseconds for latencies, a percentage for error ratios, a plain number otherwise.
    pub limit: f64,
}

const VALID: &str = "[NODE/]METRIC<VALUE, e.g. payment.p99<250ms, errors<1%, confirm.p50<=1s, payment.rate>=400, node1/post.p99<100ms";

/// The 1-based position of a threshold's node named `node<N>` (the run's N-th node: in
/// `--nodes` order, or the devnet's N-th), if it is named so.
#[must_use]
pub fn node_position(name: &str) -> Option<usize> {
    name.strip_prefix("node")?.parse().ok().filter(|n| *n >= 1)
}

/// Parses a threshold, or explains what is wrong with it.
pub fn parse_threshold(text: &str) -> Result<Threshold, String> {
    let bad = |why: &str| format!("--threshold `{text}`: {why} (expected {VALID})");
    let position = text.find(['<', '>']).ok_or_else(|| bad("no comparison"))?;
    let (left, right) = text.split_at(position);
    let (compare, value) = if let Some(v) = right.strip_prefix("<=") {
        (Compare::LessOrEqual, v)
    } else if let Some(v) = right.strip_prefix(">=") {
        (Compare::GreaterOrEqual, v)
    } else if let Some(v) = right.strip_prefix('<') {
        (Compare::Less, v)
    } else {
        (Compare::Greater, &right[1..])
    };
    let (node, metric) = match left.trim().rsplit_once('/') {
        Some((node, metric)) if !node.is_empty() => (Some(node.to_owned()), metric),
        _ => (None, left.trim()),
    };
    let (scope, stat_name) = match metric.split_once('.') {
        Some((scope, stat)) => (scope, stat),
        None if metric == "errors" => ("all", "errors"),
        None => return Err(bad(&format!("`{metric}` is not SCOPE.STAT"))),
    };
    let scope = match scope {
        "post" => Scope::Post,
        "get" => Scope::Get,
        "all" => Scope::All,
        other => Op::ALL
            .into_iter()
            .find(|op| op.as_str() == other)
            .map(Scope::Op)
            .ok_or_else(|| bad(&format!("unknown scope `{other}` (operations: issue, grant, mint, payment, receipt, nonce, balance, lookup, checkpoint, confirm, status; or post, get)")))?,
    };
    let value = value.trim();
    let (stat, limit) = match stat_name {
        "p50" | "p90" | "p99" | "p999" | "max" | "mean" => {
            let stat = match stat_name {
                "p50" => Stat::P50,
                "p90" => Stat::P90,
                "p99" => Stat::P99,
                "p999" => Stat::P999,
                "max" => Stat::Max,
                _ => Stat::Mean,
            };
            let micros = if let Some(us) = value.strip_suffix("us") {
                us.parse::<f64>().map_err(|_| bad("bad latency"))?
            } else {
                parse_duration(value).map_err(|e| bad(&e))?.as_secs_f64() * 1e6
            };
            (stat, micros)
        }
        "errors" => match value.strip_suffix('%') {
            Some(percent) => (
                Stat::ErrorRatio,
                percent
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| bad("bad percentage"))?,
            ),
            None => (
                Stat::ErrorCount,
                value.parse::<f64>().map_err(|_| bad("bad count"))?,
            ),
        },
        "rate" => (
            Stat::Rate,
            value.parse::<f64>().map_err(|_| bad("bad rate"))?,
        ),
        "count" => (
            Stat::Count,
            value.parse::<f64>().map_err(|_| bad("bad count"))?,
        ),
        other => {
            return Err(bad(&format!(
                "unknown statistic `{other}` (p50, p90, p99, p999, max, mean, errors, rate, count)"
            )));
        }
    };
    if !limit.is_finite() || limit < 0.0 {
        return Err(bad("the value must be a non-negative number"));
    }
    Ok(Threshold {
        text: text.to_owned(),
        node,
        scope,
        stat,
        compare,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Limits are exact small integers parsed from text: comparing them exactly is right.
    #[allow(clippy::float_cmp)]
    #[test]
    fn parses_the_documented_forms() {
        let t = parse_threshold("payment.p99<250ms").unwrap();
        assert_eq!(
            (t.scope, t.stat, t.compare, t.limit),
            (Scope::Op(Op::Payment), Stat::P99, Compare::Less, 250_000.0)
        );
        let t = parse_threshold("errors<1%").unwrap();
        assert_eq!(
            (t.scope, t.stat, t.limit),
            (Scope::All, Stat::ErrorRatio, 1.0)
        );
        let t = parse_threshold("127.0.0.1:18555/post.p99<=100ms").unwrap();
        assert_eq!(t.node.as_deref(), Some("127.0.0.1:18555"));
        assert_eq!((t.scope, t.compare), (Scope::Post, Compare::LessOrEqual));
        let t = parse_threshold("node12/get.p50<1s").unwrap();
        assert_eq!(t.node.as_deref().and_then(node_position), Some(12));
        for not_a_position in ["node0", "node", "nodes1", "127.0.0.1:18555"] {
            assert_eq!(node_position(not_a_position), None, "{not_a_position}");
        }
        let t = parse_threshold("payment.rate>=400").unwrap();
        assert_eq!(
            (t.stat, t.compare, t.limit),
            (Stat::Rate, Compare::GreaterOrEqual, 400.0)
        );
        assert_eq!(parse_threshold("confirm.p50<800us").unwrap().limit, 800.0);
        assert_eq!(
            parse_threshold("get.errors<5").unwrap().stat,
            Stat::ErrorCount
        );
    }

    #[test]
    fn refuses_what_it_cannot_check() {
        for bad in [
            "payment.p99",
            "pay.p99<1s",
            "payment.p42<1s",
            "payment.p99<fast",
            "errors<x%",
            "payment.rate>-1",
            "p99<1s",
        ] {
            let error = parse_threshold(bad).unwrap_err();
            assert!(error.contains(bad) && error.contains("expected"), "{error}");
        }
    }
}
