//! `stress-tui merge DIR... --out DIR`: the results folders of the N shards of one run
//! (`--shard I/N`) as one ordinary results folder, as if one process had run it.
//!
//! Every figure of a report is rebuilt from data that adds exactly: counts and slot totals are
//! summed, latency histograms (whole-run and per second) are added bucket by bucket, never
//! averaged as percentiles. The folders are checked first: each must hold a finished shard
//! (`shard.json`), all of one run (its id), with no index missing or given twice; anything else
//! is a usage error naming the folder or the shard (exit 2), and nothing is written.

mod series;
mod status;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::shard_file::{self, ShardFile, from_unix_ms};
use super::summary_json::{MergedJson, MergedShardJson, RunIdentity};
use super::thresholds::evaluate;
use super::{Ending, Origin, RunReport, StartRecord};
use crate::config::Threshold;
use crate::engine::{Health, NodeCounters, NodeView, PoolView, RemovedNode, SlotTotals};
use crate::footprint::Footprint;
use crate::model::{Direction, NodeId, PerDirection, UsageError};
use crate::stats::Aggregator;

/// One shard's folder, read and placed on the merged clock.
pub(super) struct Shard {
    dir: PathBuf,
    file: ShardFile,
    /// From the merged run's second 0 to this shard's (whole seconds).
    offset: Duration,
}

impl Shard {
    fn index(&self) -> u32 {
        self.file.identity.shard.as_ref().map_or(0, |s| s.index)
    }

    fn count(&self) -> u32 {
        self.file.identity.shard.as_ref().map_or(0, |s| s.count)
    }

    fn run_id(&self) -> &str {
        self.file
            .identity
            .shard
            .as_ref()
            .map_or("", |s| s.run_id.as_str())
    }

    /// `shard I/N`, as events and failures name it.
    fn name(&self) -> String {
        format!("shard {}/{}", self.index(), self.count())
    }
}

/// Reads one folder's `shard.json`; a folder without one is named with the likely reason.
fn read_shard(dir: &Path) -> Result<ShardFile, UsageError> {
    let shown = dir.display();
    let path = dir.join(shard_file::FILE_NAME);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(_) if !dir.is_dir() => {
            return Err(UsageError::new(format!("merge: {shown} is not a folder")));
        }
        Err(_) if dir.join("summary.json").exists() => {
            return Err(UsageError::new(format!(
                "merge: {shown} holds a run that was not a shard (no --shard): nothing to merge it with"
            )));
        }
        Err(_) => {
            return Err(UsageError::new(format!(
                "merge: {shown} holds no finished shard (no {}): the shard was killed or is still running",
                shard_file::FILE_NAME
            )));
        }
    };
    let file: ShardFile = serde_json::from_slice(&bytes)
        .map_err(|e| UsageError::new(format!("merge: {}: unreadable: {e}", path.display())))?;
    if file.format != shard_file::FORMAT || file.identity.shard.is_none() {
        return Err(UsageError::new(format!(
            "merge: {}: written by stress-tui {} in another layout (format {}, this version reads {})",
            path.display(),
            file.tool_version,
            file.format,
            shard_file::FORMAT
        )));
    }
    Ok(file)
}

/// Reads every folder and checks that they are the N distinct shards of one run; returns them
/// by index, placed on the merged clock.
fn read_shards(dirs: &[PathBuf]) -> Result<Vec<Shard>, UsageError> {
    let mut problems = Vec::new();
    let mut shards: Vec<Shard> = Vec::new();
    for dir in dirs {
        match read_shard(dir) {
            Ok(file) => shards.push(Shard {
                dir: dir.clone(),
                file,
                offset: Duration::ZERO,
            }),
            Err(e) => problems.push(e.to_string()),
        }
    }
    let Some(first) = shards.first() else {
        return Err(UsageError::new(if problems.is_empty() {
            "merge: no folder given".to_owned()
        } else {
            problems.join("; ")
        }));
    };
    let (run_id, count, first_dir) = (first.run_id().to_owned(), first.count(), first.dir.clone());
    for shard in &shards[1..] {
        if shard.run_id() != run_id || shard.count() != count {
            problems.push(format!(
                "merge: {} is {} of run {}, not of run {run_id} ({count} shards) like {}",
                shard.dir.display(),
                shard.name(),
                shard.run_id(),
                first_dir.display()
            ));
        }
    }
    shards.sort_by_key(Shard::index);
    for pair in shards.windows(2) {
        if pair[0].index() == pair[1].index() {
            problems.push(format!(
                "merge: {} is given twice: {} and {}",
                pair[0].name(),
                pair[0].dir.display(),
                pair[1].dir.display()
            ));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !shards.iter().any(|s| s.index() == *i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "merge: run {run_id} has {count} shards; missing: shard {}",
            missing.join(", shard ")
        ));
    }
    if !problems.is_empty() {
        return Err(UsageError::new(problems.join("; ")));
    }
    let zero = shards
        .iter()
        .map(|s| s.file.zero_unix_ms)
        .min()
        .unwrap_or_default();
    for shard in &mut shards {
        shard.offset = Duration::from_millis(shard.file.zero_unix_ms - zero);
    }
    Ok(shards)
}

/// The merged pool: nodes by key in the order the shards list them, their rates and slot
/// totals summed, the worst health any shard ended with.
fn merged_pool(shards: &[Shard]) -> (PoolView, BTreeMap<String, NodeId>) {
    struct Node {
        label: String,
        url: String,
        rates: PerDirection<u32>,
        effective: PerDirection<u32>,
        health: Health,
        slots: PerDirection<SlotTotals>,
        /// When it was removed: the last shard's time, if every shard removed it.
        removed_at_s: Option<f64>,
        kept_by_a_shard: bool,
    }
    let mut order: Vec<String> = Vec::new();
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    for shard in shards {
        for record in &shard.file.nodes {
            let node = nodes.entry(record.key.clone()).or_insert_with(|| {
                order.push(record.key.clone());
                Node {
                    label: record.label.clone(),
                    url: record.url.clone(),
                    rates: PerDirection::default(),
                    effective: PerDirection::default(),
                    health: Health::Healthy,
                    slots: PerDirection::default(),
                    removed_at_s: None,
                    kept_by_a_shard: false,
                }
            });
            match record.removed_at_s {
                Some(at) => node.removed_at_s = Some(node.removed_at_s.map_or(at, |t| t.max(at))),
                None => node.kept_by_a_shard = true,
            }
            for d in Direction::BOTH {
                node.rates[d] += record.rates[d];
                node.effective[d] += record.effective[d];
                node.slots[d] += record.slots[d];
            }
            node.health = worse(node.health, record.health);
        }
        // A node removed during the run has measurements but no pool record.
        for key in shard.file.measurements.nodes.keys() {
            if !nodes.contains_key(key) {
                order.push(key.clone());
                nodes.insert(
                    key.clone(),
                    Node {
                        label: key.clone(),
                        url: key.clone(),
                        rates: PerDirection::default(),
                        effective: PerDirection::default(),
                        health: Health::Healthy,
                        slots: PerDirection::default(),
                        removed_at_s: None,
                        kept_by_a_shard: true,
                    },
                );
            }
        }
    }
    let mut ids = BTreeMap::new();
    let mut views = Vec::new();
    let mut removed = Vec::new();
    let mut total = PerDirection::default();
    for (id, key) in order.iter().enumerate() {
        let id = NodeId::try_from(id).unwrap_or(NodeId::MAX);
        let node = &nodes[key];
        ids.insert(key.clone(), id);
        let view = NodeView {
            id,
            label: node.label.clone(),
            url: node.url.clone(),
            rates: node.rates,
            effective: node.effective,
            counters: Arc::new(NodeCounters::restored(node.slots, node.health)),
        };
        if let Some(at) = node.removed_at_s.filter(|_| !node.kept_by_a_shard) {
            removed.push(RemovedNode {
                view,
                at: Duration::from_secs_f64(at),
            });
        } else {
            total += node.rates;
            views.push(view);
        }
    }
    let pool = PoolView {
        nodes: views,
        removed,
        total,
        ..PoolView::default()
    };
    (pool, ids)
}

fn worse(a: Health, b: Health) -> Health {
    let rank = |h: Health| match h {
        Health::Healthy => 0,
        Health::Degraded => 1,
        Health::Down => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// The worst ending of the shards: a failed shard fails the run, an interrupted one
/// interrupts it, a late one makes it late.
fn merged_ending(shards: &[Shard]) -> Ending {
    let rank = |e: Ending| match e {
        Ending::Completed => 0,
        Ending::Late => 1,
        Ending::Interrupted => 2,
        Ending::Failed => 3,
    };
    shards
        .iter()
        .map(|s| s.file.ending)
        .max_by_key(|e| rank(*e))
        .unwrap_or(Ending::Completed)
}

/// What `merge` did: the merged report, its results folder written.
pub struct Merged {
    pub report: RunReport,
}

/// The shard folders `given` names: each folder as it is, but a folder that holds no run
/// (a run's results root, `results/<run id>`) stands for its `shard-*` subfolders.
fn shard_dirs(given: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for dir in given {
        let holds_run = dir.join(shard_file::FILE_NAME).exists()
            || dir.join("summary.json").exists()
            || dir.join("timeseries.csv").exists();
        let mut inside: Vec<PathBuf> = if holds_run {
            Vec::new()
        } else {
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| {
                    path.is_dir()
                        && path
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("shard-"))
                })
                .collect()
        };
        if inside.is_empty() {
            dirs.push(dir.clone());
        } else {
            inside.sort();
            dirs.append(&mut inside);
        }
    }
    dirs
}

/// With `wait`: reads the shards until every one of the run has finished, or `wait` has passed
/// (then the error names what is missing).
fn read_shards_waiting(given: &[PathBuf], wait: Duration) -> Result<Vec<Shard>, UsageError> {
    let deadline = Instant::now() + wait;
    loop {
        let found = read_shards(&shard_dirs(given));
        if found.is_ok() {
            return found;
        }
        if Instant::now() >= deadline {
            return found.map_err(|e| {
                if wait.is_zero() {
                    e
                } else {
                    UsageError::new(format!("{e} (after waiting {} s)", wait.as_secs()))
                }
            });
        }
        std::thread::sleep(WAIT_POLL.min(deadline.saturating_duration_since(Instant::now())));
    }
}

/// How often `--wait` looks for finished shards.
const WAIT_POLL: Duration = Duration::from_secs(2);

/// Merges the shards in `dirs` (waiting up to `wait` for every one to finish) into the results
/// folder `out` and evaluates `thresholds` on the merged data. Usage errors (exit 2) name the
/// folder or shard at fault; nothing is written then.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    thresholds: &[Threshold],
    wait: Duration,
) -> anyhow::Result<Merged> {
    let shards = read_shards_waiting(dirs, wait)?;
    let out_dir = super::recorder::prepare_dir(Some(out))?;
    let first = &shards[0].file;
    let (pool, ids) = merged_pool(&shards);
    let started = Instant::now();
    let elapsed = shards
        .iter()
        .map(|s| s.offset + Duration::from_secs_f64(s.file.elapsed_s.max(0.0)))
        .max()
        .unwrap_or_default();
    let mut aggregator =
        Aggregator::from_measurements(shards.iter().map(|s| &s.file.measurements), &ids, started)?;
    let stats = Arc::new(aggregator.snapshot(started + elapsed));
    let status = status::merged_status(&shards, first.identity.config.token.is_none());
    let skews: Vec<f64> = shards.iter().filter_map(|s| s.file.skew_ms).collect();
    let zero = shards
        .iter()
        .map(|s| s.file.zero_unix_ms)
        .min()
        .unwrap_or_default();
    let mut report = RunReport {
        ending: merged_ending(&shards),
        status,
        stats,
        pool: Arc::new(pool),
        elapsed,
        out_dir,
        thresholds: Vec::new(),
        write_errors: Vec::new(),
        keys_exported: false,
        generator: Footprint {
            cpu: shards
                .iter()
                .map(|s| s.file.generator.cpu)
                .sum::<Option<Duration>>(),
            peak_rss_kib: shards
                .iter()
                .filter_map(|s| s.file.generator.peak_rss_kib)
                .max(),
        },
        start: Some(StartRecord {
            at: from_unix_ms(first.start_at_unix_ms),
            zero: from_unix_ms(zero),
            skew_ms: (skews.len() == shards.len())
                .then(|| skews.iter().copied().fold(f64::MIN, f64::max)),
        }),
        origin: Origin::Merged {
            count: shards[0].count(),
            run_id: shards[0].run_id().to_owned(),
        },
        capacity: None,
    };
    if report.status.failure.is_some() && report.ending == Ending::Completed {
        report.ending = Ending::Failed;
    }
    report.thresholds = evaluate(thresholds, &report);
    let identity = RunIdentity {
        config: first.identity.config.clone(),
        shard: None,
        merged: Some(MergedJson {
            run_id: shards[0].run_id().to_owned(),
            shards: shards
                .iter()
                .map(|s| MergedShardJson {
                    index: s.index(),
                    folder: s.dir.display().to_string(),
                    ending: s.file.ending,
                    skew_ms: s.file.skew_ms,
                })
                .collect(),
        }),
    };
    write_merged(&shards, &report, &identity, &ids)?;
    Ok(Merged { report })
}

/// Writes the merged results folder.
fn write_merged(
    shards: &[Shard],
    report: &RunReport,
    identity: &RunIdentity,
    ids: &BTreeMap<String, NodeId>,
) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = &report.out_dir;
    let open = |name: &str, _secret: bool| -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
        let path = dir.join(name);
        let file = std::fs::File::create(&path)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        Ok(std::io::BufWriter::new(file))
    };
    let zero = report
        .start
        .map_or(std::time::SystemTime::now(), |s| s.zero);
    let latency_of = Direction::shown(report.status.read_only);
    let mut hlog = open("latency.hlog", false)?;
    let latency = series::merge_interval_logs(shards, zero, latency_of, &mut hlog)?;
    hlog.flush()?;
    let mut order: Vec<(NodeId, String)> = ids.iter().map(|(k, id)| (*id, k.clone())).collect();
    order.sort();
    let labels: Vec<String> = order
        .into_iter()
        .map(|(id, key)| {
            report
                .pool
                .every_node()
                .find(|(n, _)| n.id == id)
                .map_or(key, |(n, _)| n.label.clone())
        })
        .collect();
    series::write_timeseries(shards, &latency, &labels, &dir.join("timeseries.csv"))?;
    series::write_events(shards, &mut open("events.log", false)?)?;
    series::write_accounts(shards, &dir.join("accounts_detail.csv"))?;
    super::final_files::write_nodes_csv(open("nodes.csv", false)?, report)?;
    super::final_files::write_operations_csv(open("operations.csv", false)?, report)?;
    super::final_files::write_summaries(&open, report, identity, &report.thresholds)?;
    super::html::write_report(dir)?;
    Ok(())
}
