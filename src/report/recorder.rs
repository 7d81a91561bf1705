//! The results folder of a run (`--out`, default `results/<UTC timestamp>/`), written as the run
//! goes and completed at its end:
//!
//! - `timeseries.csv`: a row per node per second and a `total` row, flushed every second;
//! - `latency.hlog`: an `HdrHistogram` interval log (latency from intended send, µs, tagged
//!   `<node>/<operation>`), flushed every second;
//! - `events.log`: every live command and phase change, with its time, flushed as it happens;
//! - at the end: `nodes.csv`, `operations.csv`, `accounts_detail.csv` and `summary.json`.
//!
//! A `kill -9` therefore loses at most the last second of the progressive files, and leaves
//! them parseable (every flush ends on a line boundary).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use tokio::sync::{mpsc, watch};

use super::csv_rows::{ErrorColumns, Fixed3, SecondCounts, SecondRow, SecondTimes, header_of};
use crate::client::ErrorClass;
use crate::engine::{NodeCounters, PoolView, SlotTotals};
use crate::model::{Direction, NodeId, PerDirection, UsageError};
use crate::stats::{Interval, SecondSample};
use crate::workload::Workload;

/// `YYYYMMDDTHHMMSSZ` of a Unix time (UTC), for folder names.
#[must_use]
pub fn utc_stamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Creates (or accepts) the results folder and proves it writable, before any traffic.
pub fn prepare_dir(out: Option<&Path>) -> Result<PathBuf, UsageError> {
    let path = out.map_or_else(
        || Path::new("results").join(utc_stamp(SystemTime::now())),
        Path::to_path_buf,
    );
    let shown = path.display();
    std::fs::create_dir_all(&path)
        .map_err(|e| UsageError::new(format!("--out {shown}: cannot create the folder: {e}")))?;
    if path.join("summary.json").exists() {
        return Err(UsageError::new(format!(
            "--out {shown} already holds a run's results; choose another folder"
        )));
    }
    let probe = path.join(".stress-tui-write-test");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| UsageError::new(format!("--out {shown} is not writable: {e}")))?;
    Ok(path)
}

/// Writes the progressive files.
pub struct Recorder {
    timeseries: csv::Writer<BufWriter<File>>,
    hlog: BufWriter<File>,
    events: BufWriter<File>,
    /// Pacer counters at the last row, per node.
    last_counters: HashMap<NodeId, PerDirection<SlotTotals>>,
    labels: HashMap<NodeId, String>,
    /// Every node's counters seen so far, removed nodes' included.
    counters: HashMap<NodeId, Arc<NodeCounters>>,
    last_event: Option<u64>,
    phases_written: usize,
    workload_events_written: usize,
    /// Whose latency and lag the timeseries shows: POSTs, or GETs in a read-only run.
    latency_of: Direction,
    /// Each node's target rates as they changed, on the run's clock, for the per-second
    /// target columns.
    targets: HashMap<NodeId, Vec<(Duration, PerDirection<u32>)>>,
    started: std::time::Instant,
}

fn create(dir: &Path, name: &str) -> anyhow::Result<BufWriter<File>> {
    let path = dir.join(name);
    let file =
        File::create(&path).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(BufWriter::new(file))
}

impl Recorder {
    /// Creates the progressive files; the timeseries' latency and lag columns are of
    /// `latency_of` requests.
    pub fn create(
        dir: &Path,
        started: SystemTime,
        clock: std::time::Instant,
        latency_of: Direction,
    ) -> anyhow::Result<Self> {
        // The header goes out now, so that the file shows its columns before the first second.
        let mut file = create(dir, "timeseries.csv")?;
        file.write_all(&header_of::<SecondRow>()?)?;
        file.flush()?;
        let timeseries = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(file);
        let mut hlog = create(dir, "latency.hlog")?;
        IntervalLogWriterBuilder::new()
            .add_comment(&format!(
                "stress-tui {}: latency from the intended send time, microseconds",
                env!("CARGO_PKG_VERSION")
            ))
            .with_start_time(started)
            .with_base_time(started)
            .begin_log_with(&mut hlog, &mut V2DeflateSerializer::new())?;
        hlog.flush()?;
        let events = create(dir, "events.log")?;
        Ok(Self {
            timeseries,
            hlog,
            events,
            last_counters: HashMap::new(),
            labels: HashMap::new(),
            counters: HashMap::new(),
            last_event: None,
            phases_written: 0,
            workload_events_written: 0,
            latency_of,
            targets: HashMap::new(),
            started: clock,
        })
    }

    /// Notes every node's target rates that changed since the last look, as of now.
    pub fn note_targets(&mut self, pool: &PoolView) {
        // When the engine applied the rates, not when this task saw them (later on a busy
        // machine: a CI run saw a change ~90 ms late).
        let at = if pool.at.is_zero() {
            self.started.elapsed()
        } else {
            pool.at
        };
        for node in &pool.nodes {
            let timeline = self.targets.entry(node.id).or_default();
            if timeline
                .last()
                .is_none_or(|(_, rates)| *rates != node.rates)
            {
                timeline.push((at, node.rates));
            }
        }
        // A removed node's target is 0 from its removal (its last answers still have rows).
        for (id, timeline) in &mut self.targets {
            let removed = !pool.nodes.iter().any(|n| n.id == *id);
            let zero = PerDirection::default();
            if removed && timeline.last().is_some_and(|(_, rates)| *rates != zero) {
                timeline.push((at, zero));
            }
        }
    }

    /// A node's target rates averaged over second `second` (0 before it was in the pool).
    fn target_of(&self, node: NodeId, second: u64) -> PerDirection<f64> {
        let Some(timeline) = self.targets.get(&node) else {
            return PerDirection::default();
        };
        let (from, to) = (Duration::from_secs(second), Duration::from_secs(second + 1));
        let mut average = PerDirection::<f64>::default();
        for (i, (at, rates)) in timeline.iter().enumerate() {
            let until = timeline.get(i + 1).map_or(to, |(next, _)| *next);
            let (start, end) = ((*at).max(from), until.min(to));
            if end > start {
                let share = end.saturating_sub(start).as_secs_f64();
                average.post += f64::from(rates.post) * share;
                average.get += f64::from(rates.get) * share;
            }
        }
        average
    }

    /// Appends the pool's new events, the phases entered and the workload's events (surface
    /// switches) since the last call, in time order.
    pub fn record_events(
        &mut self,
        pool: &PoolView,
        status: &crate::workload::WorkloadStatus,
    ) -> std::io::Result<()> {
        let phases = &status.phase_log;
        let mut lines: Vec<(Duration, String)> = Vec::new();
        for event in &pool.events {
            if self.last_event.is_none_or(|last| event.seq > last) {
                lines.push((event.at, event.text.clone()));
                self.last_event = Some(event.seq);
            }
        }
        for (phase, at) in phases.iter().skip(self.phases_written) {
            lines.push((*at, format!("phase {phase}")));
        }
        self.phases_written = phases.len().max(self.phases_written);
        for (at, text) in status.events.iter().skip(self.workload_events_written) {
            lines.push((*at, text.clone()));
        }
        self.workload_events_written = status.events.len().max(self.workload_events_written);
        lines.sort_by_key(|(at, _)| *at);
        for (at, text) in lines {
            writeln!(self.events, "{:>9.3}s {text}", at.as_secs_f64())?;
        }
        self.events.flush()
    }

    /// Writes one interval: timeseries rows and histograms.
    pub fn record_interval(&mut self, interval: &Interval, pool: &PoolView) -> anyhow::Result<()> {
        for node in &pool.nodes {
            self.labels.insert(node.id, node.label.clone());
        }
        // Kept after a node leaves the pool: its last seconds' answers still come, and its
        // slots of those seconds are counted against them.
        for node in &pool.nodes {
            self.counters
                .entry(node.id)
                .or_insert_with(|| Arc::clone(&node.counters));
        }
        let counters = &self.counters;
        let last_second = interval.seconds.iter().map(|(_, s)| s.second).max();
        let mut seconds: Vec<u64> = interval.seconds.iter().map(|(_, s)| s.second).collect();
        seconds.dedup();
        for second in seconds {
            let mut total = Row::default();
            for (node, sample) in interval.seconds.iter().filter(|(_, s)| s.second == second) {
                let is_last = Some(second) == last_second;
                let mut row = Row::from_sample(sample, self.latency_of);
                row.target = self.target_of(*node, second);
                if is_last && let Some(c) = counters.get(node) {
                    let now = PerDirection {
                        post: c.totals(Direction::Post),
                        get: c.totals(Direction::Get),
                    };
                    let before = self.last_counters.insert(*node, now).unwrap_or_default();
                    row.slots = PerDirection {
                        post: now.post - before.post,
                        get: now.get - before.get,
                    };
                    row.in_flight = u64::from(
                        c.post.in_flight.load(Ordering::Relaxed)
                            + c.get.in_flight.load(Ordering::Relaxed),
                    );
                    row.lag_us = c.direction(self.latency_of).lag_us.load(Ordering::Relaxed);
                }
                total.add(&row);
                let label = self
                    .labels
                    .get(node)
                    .cloned()
                    .unwrap_or_else(|| format!("node{node}"));
                row.write(&mut self.timeseries, second, &label)?;
            }
            total.latency = interval.total_latency[self.latency_of]
                .iter()
                .find(|(s, _)| *s == second)
                .map(|(_, p)| *p);
            total.write(&mut self.timeseries, second, "total")?;
        }
        self.timeseries.flush()?;

        let mut serializer = V2DeflateSerializer::new();
        let mut log =
            IntervalLogWriterBuilder::new().begin_log_with(&mut self.hlog, &mut serializer)?;
        for (second, node, op, histogram) in &interval.histograms {
            let label = self
                .labels
                .get(node)
                .cloned()
                .unwrap_or_else(|| format!("node{node}"));
            let name = format!("{label}/{}", op.as_str());
            let tag = Tag::new(&name);
            // Each histogram is its second's; the run's last second is cut at its end.
            let start = Duration::from_secs(*second);
            let length = interval
                .end
                .saturating_sub(start)
                .min(Duration::from_secs(1));
            log.write_histogram(histogram.inner(), start, length, tag)
                .map_err(|e| anyhow::anyhow!("latency.hlog: {e}"))?;
        }
        self.hlog.flush()?;
        Ok(())
    }
}

#[derive(Default)]
struct Row {
    target: PerDirection<f64>,
    slots: PerDirection<SlotTotals>,
    post_ok: u64,
    get_ok: u64,
    confirmed: u64,
    errors: [u64; ErrorClass::ALL.len()],
    latency: Option<crate::stats::Percentiles>,
    in_flight: u64,
    lag_us: u64,
}

impl Row {
    fn from_sample(sample: &SecondSample, latency_of: Direction) -> Self {
        let latency = sample.latency[latency_of];
        Self {
            latency: (latency.count > 0).then_some(latency),
            post_ok: sample.ok.post,
            get_ok: sample.ok.get,
            confirmed: sample.confirmed,
            errors: sample.errors,
            ..Self::default()
        }
    }

    fn add(&mut self, other: &Row) {
        self.target.post += other.target.post;
        self.target.get += other.target.get;
        self.slots.post += other.slots.post;
        self.slots.get += other.slots.get;
        self.post_ok += other.post_ok;
        self.get_ok += other.get_ok;
        self.confirmed += other.confirmed;
        for (mine, theirs) in self.errors.iter_mut().zip(other.errors) {
            *mine += theirs;
        }
        self.in_flight += other.in_flight;
        self.lag_us = self.lag_us.max(other.lag_us);
    }

    fn write(&self, out: &mut csv::Writer<impl Write>, second: u64, node: &str) -> csv::Result<()> {
        let row: SecondRow = (
            SecondCounts {
                second,
                node: node.to_owned(),
                target_post: Fixed3(self.target.post),
                target_get: Fixed3(self.target.get),
                post_offered: self.slots.post.offered,
                post_sent: self.slots.post.sent,
                post_missed: self.slots.post.missed,
                post_unfilled: self.slots.post.unfilled,
                get_offered: self.slots.get.offered,
                get_sent: self.slots.get.sent,
                get_missed: self.slots.get.missed,
                get_unfilled: self.slots.get.unfilled,
                post_ok: self.post_ok,
                get_ok: self.get_ok,
                ok: self.post_ok + self.get_ok,
                confirmed: self.confirmed,
                errors: self.errors.iter().sum(),
            },
            ErrorColumns::from_counts(&self.errors),
            SecondTimes::new(self.latency, self.in_flight, self.lag_us),
        );
        out.serialize(row)
    }
}

/// Runs the recorder until the aggregator's last interval: events as they come, a timeseries
/// row and histograms each second.
pub async fn run_recorder(
    mut recorder: Recorder,
    mut intervals: mpsc::Receiver<Interval>,
    mut pool: watch::Receiver<Arc<PoolView>>,
    workload: Arc<Workload>,
) -> anyhow::Result<()> {
    recorder.record_events(&Arc::clone(&pool.borrow_and_update()), &workload.status())?;
    recorder.note_targets(&pool.borrow());
    let mut watching = true;
    loop {
        // Rate changes are noted as they come, so that each second's target is exact to the
        // millisecond; intervals come once a second.
        let interval = tokio::select! {
            changed = pool.changed(), if watching => {
                match changed {
                    Ok(()) => recorder.note_targets(&pool.borrow_and_update()),
                    Err(_) => watching = false,
                }
                continue;
            }
            interval = intervals.recv() => interval,
        };
        let Some(interval) = interval else { break };
        let view = Arc::clone(&pool.borrow());
        recorder.note_targets(&view);
        recorder.record_events(&view, &workload.status())?;
        let mut interval = interval;
        recorder.record_interval(&interval, &view)?;
        interval.recycle();
        if interval.last {
            break;
        }
    }
    let view = Arc::clone(&pool.borrow());
    recorder.record_events(&view, &workload.status())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            utc_stamp(UNIX_EPOCH + Duration::from_secs(1_795_000_000)),
            "20261118T110640Z"
        );
        assert_eq!(
            utc_stamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "20000229T000000Z"
        );
    }

    #[test]
    fn unwritable_out_is_refused_with_its_path() {
        let error = prepare_dir(Some(Path::new("/proc/stress-tui-cannot-exist")))
            .unwrap_err()
            .to_string();
        assert!(error.contains("/proc/stress-tui-cannot-exist"), "{error}");
        assert!(error.starts_with("--out"), "{error}");
    }
}
