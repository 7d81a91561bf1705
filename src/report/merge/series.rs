//! The per-second files of a merged run: `latency.hlog` (each shard's intervals moved onto the
//! merged clock and added per tag and second), `timeseries.csv` (counts summed per node and
//! second, the latency columns computed from the added histograms), `events.log` (every
//! shard's lines on the merged clock, named by shard) and `accounts_detail.csv` (every shard's
//! wallets).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

use super::Shard;
use crate::model::{Direction, Op};
use crate::report::csv_rows::Fixed3;
use crate::report::hlog;
use crate::stats::{LatencyHistogram, Percentiles};

/// Every shard's interval log on the merged clock, added per tag and second, written to `out`
/// as the merged `latency.hlog` (base time `started`), one interval at a time; answers each
/// second's latency of `latency_of` requests per node and in total (`TOTAL`), all operations of
/// that direction added. The shards' histograms stay encoded until their second is written:
/// decoded at once, one 15-minute, 4-node log took 2 GiB (BENCHMARKS.md, session 10), so an
/// hour of 3 shards would take ~24 GiB.
pub(super) fn merge_interval_logs(
    shards: &[Shard],
    started: std::time::SystemTime,
    latency_of: Direction,
    out: &mut impl Write,
) -> anyhow::Result<BTreeMap<(u64, String), Percentiles>> {
    // (start ms on the merged clock, tag) -> each shard's (length, encoded histogram)
    let mut groups: BTreeMap<(u128, String), Vec<(Duration, String)>> = BTreeMap::new();
    for shard in shards {
        let path = shard.dir.join("latency.hlog");
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        hlog::for_each_encoded(&bytes, |encoded| {
            let start = encoded.start + shard.offset;
            groups
                .entry((start.as_millis(), encoded.tag))
                .or_default()
                .push((encoded.length, encoded.base64));
            Ok(())
        })
        .with_context(|| format!("reading {}", path.display()))?;
    }
    let mut serializer = V2DeflateSerializer::new();
    let mut log = IntervalLogWriterBuilder::new()
        .with_start_time(started)
        .with_base_time(started)
        .begin_log_with(out, &mut serializer)?;
    let mut deserializer = Deserializer::new();
    let mut latency = BTreeMap::new();
    // The second being written: its latency histograms per node and in total.
    let mut second: Option<(u64, BTreeMap<String, LatencyHistogram>)> = None;
    for ((start_ms, tag), parts) in groups {
        let this_second = u64::try_from(start_ms / 1_000).unwrap_or(u64::MAX);
        if second.as_ref().is_none_or(|(s, _)| *s != this_second) {
            if let Some((done, by_node)) = second.take() {
                for (node, histogram) in by_node {
                    latency.insert((done, node), histogram.percentiles());
                }
            }
            second = Some((this_second, BTreeMap::new()));
        }
        // Where lengths differ (a shard's last, partial second; a second a busy aggregator
        // closed late), the merged interval takes the longest.
        let mut length = Duration::ZERO;
        let mut added: Option<Histogram<u64>> = None;
        for (part_length, encoded) in parts {
            length = length.max(part_length);
            let histogram = hlog::decode(&mut deserializer, &encoded)?;
            match &mut added {
                Some(into) => hlog::add_recorded(into, &histogram)?,
                None => added = Some(histogram),
            }
        }
        let Some(histogram) = added else { continue };
        let start = Duration::from_millis(u64::try_from(start_ms).unwrap_or(u64::MAX));
        log.write_histogram(&histogram, start, length, Tag::new(&tag))
            .map_err(|e| anyhow::anyhow!("latency.hlog: {e:?}"))?;
        let Some((node, op)) = tag.rsplit_once('/') else {
            continue;
        };
        if Op::from_name(op).and_then(Op::direction) == Some(latency_of)
            && let Some((_, by_node)) = &mut second
        {
            for key in [node, TOTAL] {
                by_node
                    .entry(key.to_owned())
                    .or_default()
                    .add_inner(&histogram)?;
            }
        }
    }
    if let Some((done, by_node)) = second {
        for (node, histogram) in by_node {
            latency.insert((done, node), histogram.percentiles());
        }
    }
    Ok(latency)
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
    latency: &BTreeMap<(u64, String), Percentiles>,
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
    let mut writer = csv::Writer::from_path(out)?;
    writer.write_record(&header)?;
    for ((second, _), (node, values)) in rows {
        let percentiles = latency.get(&(second, node.clone())).copied();
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
