//! The final summary: phases, one row per node and per operation, the distribution check and
//! the verify result.

use std::fmt::Write;

use super::fmt_micros;
use crate::engine::PoolView;
use crate::model::Direction;
use crate::report::{Origin, RunReport};
use crate::stats::{OpSnapshot, StatsSnapshot};

fn errors_text(op: &OpSnapshot) -> String {
    if op.errors.is_empty() {
        return "-".to_owned();
    }
    op.errors
        .iter()
        .map(|(class, n)| format!("{}={n}", class.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Each node's share of the requests of one direction sent, against the share its target rate
/// implies: `(label, actual %, expected %)`.
#[must_use]
pub fn distribution_check(
    stats: &StatsSnapshot,
    pool: &PoolView,
    direction: Direction,
) -> Vec<(String, f64, f64)> {
    let sent: Vec<(String, u64, u32)> = pool
        .nodes
        .iter()
        .map(|n| {
            let count = stats.node(n.id).map_or(0, |s| s.direction(direction).count);
            (n.label.clone(), count, n.rates[direction])
        })
        .collect();
    let total_sent: u64 = sent.iter().map(|s| s.1).sum();
    let total_rate: u64 = sent.iter().map(|s| u64::from(s.2)).sum();
    sent.into_iter()
        .map(|(label, count, rate)| {
            let actual = if total_sent == 0 {
                0.0
            } else {
                100.0 * count as f64 / total_sent as f64
            };
            let expected = if total_rate == 0 {
                0.0
            } else {
                100.0 * f64::from(rate) / total_rate as f64
            };
            (label, actual, expected)
        })
        .collect()
}

/// Whose run this is (a shard, a merge) and when its load started (`--start-at`).
fn origin(out: &mut String, report: &RunReport) {
    match &report.origin {
        Origin::Whole => {}
        Origin::Shard { shard, run_id } => {
            let _ = writeln!(
                out,
                "shard {shard} of run {run_id}: its part of the rates and wallets (`stress-tui merge` adds the shards)"
            );
        }
        Origin::Merged { count, run_id } => {
            let shards = if *count == 1 { "shard" } else { "shards" };
            let _ = writeln!(out, "merged from the {count} {shards} of run {run_id}");
        }
    }
    if let Some(start) = report.start {
        let at = humantime::format_rfc3339_millis(start.at);
        let _ = match start.skew_ms {
            Some(skew) => writeln!(out, "load started at --start-at {at}, {skew:+.1} ms off"),
            None => writeln!(out, "load did not start (--start-at {at})"),
        };
    }
}

/// The summary printed at the end of a run.
#[must_use]
pub fn summary_text(report: &RunReport) -> String {
    let stats = &report.stats;
    let secs = report.rate_seconds();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "== stress-tui summary: {:?} after {:.1}s ==",
        report.ending,
        report.elapsed.as_secs_f64()
    );
    origin(&mut out, report);
    if let Some(token) = report.status.token {
        let _ = writeln!(out, "token {token}");
    }
    if let Some(failure) = &report.status.failure {
        let _ = writeln!(out, "FAILED: {failure}");
    }
    // The node table and the distribution are of POSTs, or of GETs in a read-only run.
    let direction = Direction::shown(report.status.read_only);
    phases_and_nodes(&mut out, report, secs, direction);
    operations(&mut out, stats, secs);
    let _ = writeln!(
        out,
        "\ndistribution of {} requests (actual share vs target share):",
        direction.as_str().to_uppercase()
    );
    for (label, actual, expected) in distribution_check(stats, &report.pool, direction) {
        let _ = writeln!(out, "  {label:<21} {actual:>5.1}% vs {expected:>5.1}%");
    }
    send_error(&mut out, stats);
    let verify = report.status.verify;
    if verify.checked + verify.unread > 0 {
        let supply = verify
            .reported_supply
            .map_or_else(|| "unread".to_owned(), |s| s.to_string());
        // A shard's mints are a part of the supply: `merge` compares it with all of theirs.
        let supply = if matches!(report.origin, Origin::Shard { .. }) {
            format!(
                "supply {supply} on the chain, {} minted by this shard (merge checks the supply against every shard's mints)",
                verify.expected_supply
            )
        } else {
            format!("supply {supply} (expected {})", verify.expected_supply)
        };
        let _ = writeln!(
            out,
            "\nverify: {} balances checked, {} match, {} differ, {} unread; {supply}",
            verify.checked, verify.matched, verify.mismatched, verify.unread,
        );
    }
    if let Some(capacity) = &report.capacity {
        out.push_str(&capacity.text());
    }
    if !report.thresholds.is_empty() {
        let _ = writeln!(out, "\nthresholds:");
        for result in &report.thresholds {
            let _ = writeln!(out, "  {result}");
        }
    }
    for error in &report.write_errors {
        let _ = writeln!(out, "results: {error}");
    }
    let _ = writeln!(out, "results in {}", report.out_dir.display());
    if report.keys_exported {
        let _ = writeln!(
            out,
            "accounts_detail.csv holds the wallets' private keys (--export-keys): readable by its owner only; keep it so"
        );
    }
    let s = &report.status;
    let t = &s.transactions;
    if s.read_only {
        let _ = writeln!(out, "samples dropped {}", stats.dropped_samples);
        return out;
    }
    let _ = writeln!(
        out,
        "transactions: {} submitted ({} signed ahead), {} confirmed, {} failed;\n  {} nonce resyncs, {} unknown outcomes found admitted; samples dropped {}",
        t.submitted,
        t.signed_ahead,
        t.confirmed,
        t.failed,
        t.resyncs,
        t.recovered,
        stats.dropped_samples
    );
    if t.confirmed_by_checkpoint > 0 || t.checkpoints_skipped > 0 {
        let _ = writeln!(
            out,
            "confirmed by checkpoint {} (the rest by receipt), checkpoints skipped {}",
            t.confirmed_by_checkpoint, t.checkpoints_skipped
        );
    }
    write_surface(&mut out, report);
    out
}

/// `write surface /v2 (--write-surface auto): 127.0.0.1:1 dual, 127.0.0.1:2 v2_only`, and the
/// surface refusals of a cutover.
fn write_surface(out: &mut String, report: &RunReport) {
    let s = &report.status;
    let modes: Vec<String> = report
        .pool
        .nodes
        .iter()
        .map(|node| format!("{} {}", node.label, s.node_mode_text(node.id)))
        .collect();
    let _ = writeln!(
        out,
        "write surface /{} (--write-surface {}): {}",
        s.write_surface,
        s.surface_choice.as_str(),
        modes.join(", ")
    );
    if s.surface_refusals > 0 {
        let (count, were) = if s.surface_refusals == 1 {
            ("1 write", "was")
        } else {
            ("writes", "were")
        };
        let count = if s.surface_refusals == 1 {
            count.to_owned()
        } else {
            format!("{} {count}", s.surface_refusals)
        };
        let _ = writeln!(
            out,
            "{count} {were} refused for their surface (a node cut over, or became read-only): not admitted, so sent again, signed for a surface a node takes; see events.log"
        );
    }
    if !s.memo_text.is_empty() {
        let _ = writeln!(out, "memo on every payment: {}", s.memo_text);
    }
}

fn phases_and_nodes(out: &mut String, report: &RunReport, secs: f64, direction: Direction) {
    let stats = &report.stats;
    // A merged run's phases ran side by side in every shard: the longest, and CPU summed.
    let cpu_of = match report.origin {
        Origin::Merged { count, .. } => format!("generators' cpu (the {count} shards')"),
        _ => "generator cpu".to_owned(),
    };
    let _ = writeln!(
        out,
        "\nphase        duration   total  confirmed  failed  {cpu_of}"
    );
    for phase in &report.status.reports {
        let _ = writeln!(
            out,
            "{:<12} {:>7.1}s {:>7} {:>10} {:>7}  {}",
            phase.phase.as_str(),
            phase.duration.as_secs_f64(),
            phase.total,
            phase.confirmed,
            phase.failed,
            phase.cpu.map_or_else(
                || "-".to_owned(),
                |cpu| {
                    let signing = if phase.signing_cpu < std::time::Duration::from_millis(10) {
                        String::new()
                    } else {
                        format!(", {:.2}s signing", phase.signing_cpu.as_secs_f64())
                    };
                    format!(
                        "{:.2}s ({:.0}% of a core{signing})",
                        cpu.as_secs_f64(),
                        100.0 * cpu.as_secs_f64() / phase.duration.as_secs_f64().max(0.001)
                    )
                }
            ),
        );
    }
    let _ = writeln!(
        out,
        "\n{:<18} {:>6} {:>5} {:>6} {:>6} {:>6} {:<7} {:<7} {:<7} {:<7} {:>6} {:>6}",
        format!("node ({}s)", direction.as_str()),
        "post/s",
        "get/s",
        "ok",
        "errors",
        "ok/s",
        "p50",
        "p99",
        "p99.9",
        "max",
        "conf/s",
        "missed"
    );
    // Errors by class go under the table: with them in it, it took 140 columns.
    let mut error_lines = Vec::new();
    for (node, _) in report.pool.every_node() {
        let Some(s) = stats.node(node.id) else {
            continue;
        };
        let requests = s.direction(direction);
        let p = requests.latency;
        let missed = node
            .counters
            .direction(direction)
            .missed
            .load(std::sync::atomic::Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{:<18} {:>6} {:>5} {:>6} {:>6} {:>6.1} {:<7} {:<7} {:<7} {:<7} {:>6.1} {:>6}",
            node.label,
            node.rates.post,
            node.rates.get,
            requests.ok,
            requests.error_count(),
            requests.ok as f64 / secs,
            fmt_micros(p.p50),
            fmt_micros(p.p99),
            fmt_micros(p.p999),
            fmt_micros(p.max),
            s.confirmed as f64 / secs,
            missed,
        );
        if requests.error_count() > 0 {
            error_lines.push(format!(
                "  {} errors: {}",
                node.label,
                errors_text(requests)
            ));
        }
    }
    for line in removed_notes(&report.pool).into_iter().chain(error_lines) {
        let _ = writeln!(out, "{line}");
    }
    if direction == Direction::Post {
        workload_bound_note(out, report);
    }
}

/// A line for each node removed during the run, whose row the node table keeps.
fn removed_notes(pool: &crate::engine::PoolView) -> Vec<String> {
    pool.removed
        .iter()
        .map(|r| {
            format!(
                "  {} was removed at {:.1}s: its rates then, its counts until",
                r.view.label,
                r.at.as_secs_f64()
            )
        })
        .collect()
}

/// Says so when sustained payments did not reach the POST rate asked for because the workload
/// had nothing to send (no account ready: its transactions in flight await confirmation).
/// Nothing is missed then, and without this the summary would read as if the rate had been
/// sent. (Funding phases are bounded by confirmations by design: not noted.)
fn workload_bound_note(out: &mut String, report: &RunReport) {
    // A node that takes no writes (read-only) leaves its slots unfilled: the nodes, not the
    // workload, held the rate back then.
    if report
        .status
        .node_surfaces
        .iter()
        .any(|s| s.surface.is_none())
    {
        return;
    }
    let Some(sustained) = report
        .status
        .reports
        .iter()
        .find(|p| p.phase == crate::model::Phase::Sustained)
    else {
        return;
    };
    let asked: u64 = report
        .pool
        .nodes
        .iter()
        .map(|n| u64::from(n.rates.post))
        .sum();
    let unfilled: u64 = report
        .pool
        .nodes
        .iter()
        .map(|n| {
            n.counters
                .post
                .unfilled
                .load(std::sync::atomic::Ordering::Relaxed)
        })
        .sum();
    let sent = sustained.total as f64 / sustained.duration.as_secs_f64().max(0.001);
    if asked == 0 || unfilled == 0 || sent >= 0.9 * asked as f64 {
        return;
    }
    let _ = writeln!(
        out,
        "note: sustained payments went out at {sent:.1}/s of the {asked}/s asked: the workload, not the nodes, held the rate back ({unfilled} POST slots found no account ready: each awaits confirmation of its transactions in flight); raise --in-flight-per-account or the wallets (--mint-wallets, --transfers-per-mint)"
    );
}

/// How precisely the pacers kept their schedules: actual send minus the slot's intended time.
fn send_error(out: &mut String, stats: &StatsSnapshot) {
    let parts: Vec<String> = [
        ("POST", stats.send_error.post),
        ("GET", stats.send_error.get),
    ]
    .into_iter()
    .filter(|(_, p)| p.count > 0)
    .map(|(name, p)| {
        format!(
            "{name} p50 {} p99 {} p99.9 {} max {}",
            fmt_micros(p.p50),
            fmt_micros(p.p99),
            fmt_micros(p.p999),
            fmt_micros(p.max)
        )
    })
    .collect();
    if !parts.is_empty() {
        let _ = writeln!(
            out,
            "send-time error (sent minus scheduled):\n  {}",
            parts.join("\n  ")
        );
    }
}

fn operations(out: &mut String, stats: &StatsSnapshot, secs: f64) {
    let _ = writeln!(
        out,
        "\noperation   count      ok  errors            rate/s  p50      p90      p99      p99.9    max"
    );
    for (op, s) in &stats.ops {
        let p = s.latency;
        let _ = writeln!(
            out,
            "{:<10} {:>6} {:>7}  {:<17} {:>6.1}  {:<8} {:<8} {:<8} {:<8} {:<8}",
            op.as_str(),
            s.count,
            s.ok,
            errors_text(s),
            s.count as f64 / secs,
            fmt_micros(p.p50),
            fmt_micros(p.p90),
            fmt_micros(p.p99),
            fmt_micros(p.p999),
            fmt_micros(p.max),
        );
    }
    if !stats.error_codes.is_empty() {
        let codes: Vec<String> = stats
            .error_codes
            .iter()
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        let _ = writeln!(out, "\nerrors by code: {}", codes.join(", "));
    }
}
