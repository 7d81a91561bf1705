//! The per-second files of a merged run: `latency.hlog` (each shard's intervals moved onto the
//! merged clock and added per tag and second), `timeseries.csv` (counts summed per node and
//! second, the latency columns computed from the added histograms), `events.log` (every
//! shard's lines on the merged clock, named by shard) and `accounts_detail.csv` (every shard's
//! wallets).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::Shard;
use crate::model::{Direction, Op};
use crate::report::csv_rows::Fixed3;
use crate::report::hlog;
use crate::stats::LatencyHistogram;

/// Every shard's interval log, on the merged clock, added.
pub(super) fn merged_intervals(shards: &[Shard]) -> anyhow::Result<Vec<hlog::Interval>> {
    let mut logs = Vec::with_capacity(shards.len());
    for shard in shards {
        let path = shard.dir.join("latency.hlog");
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut intervals =
            hlog::read(&bytes).with_context(|| format!("reading {}", path.display()))?;
        for interval in &mut intervals {
            interval.start += shard.offset;
        }
        logs.push(intervals);
    }
    hlog::add(&logs)
}

/// The columns of `timeseries.csv` that are computed, not summed.
const LATENCY_COLUMNS: [&str; 4] = ["p50_ms", "p90_ms", "p99_ms", "max_ms"];
/// Kept as the largest of the shards' (the worst lag of the second).
const MAX_COLUMN: &str = "lag_ms";
/// The row of all nodes.
const TOTAL: &str = "total";

/// `timeseries.csv` of the merged run: a row per node and second (nodes in `order`) and a
/// `total` row, each count the shards' sum, the latency of `latency_of` requests from the
/// added histograms of that second.
pub(super) fn write_timeseries(
    shards: &[Shard],
    intervals: &[hlog::Interval],
    latency_of: Direction,
    order: &[String],
    out: &Path,
) -> anyhow::Result<()> {
    let mut header: Option<csv::StringRecord> = None;
    // (second, node rank) -> (node, summed values by column)
    let mut rows: BTreeMap<(u64, usize), (String, Vec<f64>)> = BTreeMap::new();
    let rank = |node: &str| {
        if node == TOTAL {
            usize::MAX
        } else {
            order.iter().position(|n| n == node).unwrap_or(order.len())
        }
    };
    for shard in shards {
        let path = shard.dir.join("timeseries.csv");
        let mut reader =
            csv::Reader::from_path(&path).with_context(|| format!("reading {}", path.display()))?;
        let own = reader.headers()?.clone();
        match &header {
            Some(first) if *first != own => anyhow::bail!(
                "{}: its columns differ from the first shard's (another stress-tui version?)",
                path.display()
            ),
            Some(_) => {}
            None => header = Some(own.clone()),
        }
        let column = |name: &str| own.iter().position(|c| c == name);
        let (second_at, node_at) = column("second")
            .zip(column("node"))
            .with_context(|| format!("{}: no second or node column", path.display()))?;
        for record in reader.records() {
            let record = record.with_context(|| format!("reading {}", path.display()))?;
            let second: u64 = record[second_at]
                .parse()
                .with_context(|| format!("{}: second `{}`", path.display(), &record[second_at]))?;
            let second = second + shard.offset.as_secs();
            let node = record[node_at].to_owned();
            let entry = rows
                .entry((second, rank(&node)))
                .or_insert_with(|| (node, vec![0.0; own.len()]));
            for (i, (name, value)) in own.iter().zip(record.iter()).enumerate() {
                if i == second_at || i == node_at || LATENCY_COLUMNS.contains(&name) {
                    continue;
                }
                let value: f64 = value.parse().unwrap_or(0.0);
                entry.1[i] = if name == MAX_COLUMN {
                    entry.1[i].max(value)
                } else {
                    entry.1[i] + value
                };
            }
        }
    }
    let Some(header) = header else {
        anyhow::bail!("no shard has a timeseries.csv");
    };
    let latency = latency_by_second(intervals, latency_of)?;
    let mut writer = csv::Writer::from_path(out)?;
    writer.write_record(&header)?;
    for ((second, _), (node, values)) in rows {
        let percentiles = latency
            .get(&(second, node.clone()))
            .map(LatencyHistogram::percentiles);
        let fields: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, name)| match name {
                "second" => second.to_string(),
                "node" => node.clone(),
                "p50_ms" | "p90_ms" | "p99_ms" | "max_ms" => percentiles
                    .map(|p| {
                        let micros = match name {
                            "p50_ms" => p.p50,
                            "p90_ms" => p.p90,
                            "p99_ms" => p.p99,
                            _ => p.max,
                        };
                        fixed3(Fixed3::ms(micros))
                    })
                    .unwrap_or_default(),
                MAX_COLUMN => fixed3(Fixed3(values[i])),
                target if target.starts_with("target_") => fixed3(Fixed3(values[i])),
                _ => format!("{}", values[i].round()),
            })
            .collect();
        writer.write_record(&fields)?;
    }
    writer.flush()?;
    Ok(())
}

fn fixed3(value: Fixed3) -> String {
    format!("{:.3}", value.0)
}

/// Per (second, node label) and per (second, `total`): the added histograms of every
/// operation of `direction`.
fn latency_by_second(
    intervals: &[hlog::Interval],
    direction: Direction,
) -> anyhow::Result<BTreeMap<(u64, String), LatencyHistogram>> {
    let mut by_second: BTreeMap<(u64, String), LatencyHistogram> = BTreeMap::new();
    for interval in intervals {
        let Some((node, op)) = interval.tag.rsplit_once('/') else {
            continue;
        };
        if Op::from_name(op).and_then(Op::direction) != Some(direction) {
            continue;
        }
        let second = interval.start.as_secs();
        for key in [node, TOTAL] {
            by_second
                .entry((second, key.to_owned()))
                .or_default()
                .add_inner(&interval.histogram)?;
        }
    }
    Ok(by_second)
}

/// `events.log`: every shard's lines, their times moved onto the merged clock and their text
/// prefixed with the shard, in time order.
pub(super) fn write_events(shards: &[Shard], out: &mut impl Write) -> anyhow::Result<()> {
    let mut lines: Vec<(f64, String)> = Vec::new();
    for shard in shards {
        let path = shard.dir.join("events.log");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let name = shard.name();
        for line in text.lines() {
            let Some((at, event)) = line.trim_start().split_once("s ") else {
                continue;
            };
            let Ok(at) = at.parse::<f64>() else { continue };
            lines.push((at + shard.offset.as_secs_f64(), format!("[{name}] {event}")));
        }
    }
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (at, text) in lines {
        writeln!(out, "{at:>9.3}s {text}")?;
    }
    out.flush()?;
    Ok(())
}

/// `accounts_detail.csv`: every shard's rows (wallet indices are the run's, so they do not
/// collide), under one header. Shards that exported keys (`--export-keys`) make it a secret:
/// its owner's alone, as theirs are.
pub(super) fn write_accounts(shards: &[Shard], out: &Path) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_path(out)?;
    let mut header_written = false;
    for shard in shards {
        let path = shard.dir.join("accounts_detail.csv");
        let Ok(mut reader) = csv::Reader::from_path(&path) else {
            continue;
        };
        let header = reader.headers()?.clone();
        #[cfg(unix)]
        if header.iter().any(|c| c == "private_key") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o600))?;
        }
        if !header_written {
            writer.write_record(&header)?;
            header_written = true;
        }
        for record in reader.records() {
            writer.write_record(&record?)?;
        }
    }
    writer.flush()?;
    Ok(())
}
