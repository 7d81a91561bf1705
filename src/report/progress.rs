//! The headless face's one line a second (stderr).

use std::fmt::Write;

use super::fmt_micros;
use crate::engine::PoolView;
use crate::model::Direction;
use crate::stats::StatsSnapshot;
use crate::workload::WorkloadStatus;

/// `[  12s] transfer 1234/8000 | post 498/s ok 497/s confirmed 480/s | p99 12.3ms | errors 0 | 127.0.0.1:18555 125/s ...`
#[must_use]
pub fn progress_line(stats: &StatsSnapshot, pool: &PoolView, status: &WorkloadStatus) -> String {
    let second = stats.last_second_total();
    // The per-node figures are of POSTs, or of GETs in a read-only run.
    let direction = Direction::shown(status.read_only);
    let p99 = stats
        .nodes
        .iter()
        .map(|n| n.last_second.latency[direction].p99)
        .max()
        .unwrap_or(0);
    let progress = match status.starts_in {
        Some(wait) => format!("ready, load in {:.1}s", wait.as_secs_f64()),
        None => format!(
            "{} {}/{}",
            status.phase, status.phase_done, status.phase_total
        ),
    };
    let mut line = format!(
        "[{:>5}s] {}{} | post ok {}/s err {}/s | get {}/s | confirmed {}/s | {} p99 {} | errors {}",
        stats.elapsed.as_secs(),
        progress,
        if status.phase_failed > 0 {
            format!(" ({} failed)", status.phase_failed)
        } else {
            String::new()
        },
        second.ok.post,
        second.failed.post,
        second.answered(Direction::Get),
        second.confirmed,
        direction.as_str(),
        fmt_micros(p99),
        stats.total_errors(),
    );
    if !status.read_only {
        let _ = write!(line, " | writes /{}", status.write_surface);
    }
    if let Some(stage) = &status.stage {
        let _ = write!(line, " | {stage}");
    }
    if pool.paused {
        line.push_str(" | PAUSED");
    }
    if !pool.nodes.is_empty()
        && pool
            .nodes
            .iter()
            .all(|n| n.health() == crate::engine::Health::Down)
    {
        line.push_str(" | ALL NODES DOWN: waiting");
    }
    for node in &pool.nodes {
        let sample = stats
            .node(node.id)
            .map(|n| n.last_second)
            .unwrap_or_default();
        let _ = write!(
            line,
            " | {} {}/s {}",
            node.label,
            sample.answered(direction),
            status.node_mode_text(node.id)
        );
        if node.health() != crate::engine::Health::Healthy {
            let _ = write!(line, " {:?}", node.health());
        }
    }
    line
}
