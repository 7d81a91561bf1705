//! A stress run from a validated [`RunConfig`]: optional embedded devnet, chain-id check, the
//! workload, the engine, the stats aggregator and the headless face; then the summary.
//!
//! [`start`] returns a [`RunHandle`] at once, so that tests and the dashboard steer the engine
//! while the run goes on; [`RunHandle::wait`] ends it and returns the [`RunReport`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::RunConfig;
use crate::devnet::Devnet;
use crate::engine::{EngineHandle, EngineSetup, Lattice, spawn_engine};
use crate::footprint::Footprint;
use crate::metrics;
use crate::model::Phase;
use crate::report::final_files::write_final_files;
use crate::report::recorder::{Recorder, run_recorder};
use crate::report::thresholds::evaluate;
use crate::report::{Ending, Origin, RunReport, StartRecord};
use crate::stats::{StatsSnapshot, spawn_aggregator};
use crate::workload::{Workload, into_source};

mod actions;
mod capacity;
mod prepare;
mod stages;

pub use prepare::TooLate;
use prepare::{Prepared, RunClock, initial_rates, prepare};

/// How often the aggregator publishes a snapshot.
const SNAPSHOT_TICK: Duration = Duration::from_millis(250);

/// A running stress run.
pub struct RunHandle {
    pub engine: EngineHandle,
    pub workload: Arc<Workload>,
    pub stats: watch::Receiver<Arc<StatsSnapshot>>,
    pub started: Instant,
    /// The results folder.
    pub out_dir: std::path::PathBuf,
    interrupt: CancellationToken,
    task: JoinHandle<anyhow::Result<RunReport>>,
    devnet: Option<Devnet>,
    /// Where `/metrics` is served (`--metrics-addr`, its port resolved), if anywhere.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

impl RunHandle {
    /// Ends the run as interrupted (what Ctrl-C does); `wait` still returns the report.
    pub fn interrupt(&self) {
        self.interrupt.cancel();
    }

    /// Waits for the run to end and returns its report.
    pub async fn wait(self) -> anyhow::Result<RunReport> {
        let report = self.task.await.context("the run task panicked")?;
        if let Some(devnet) = self.devnet {
            devnet.shutdown().await;
        }
        report
    }

    /// The embedded devnet, when the run started one.
    #[must_use]
    pub fn devnet(&self) -> Option<&Devnet> {
        self.devnet.as_ref()
    }
}

/// Starts a run: everything is checked (devnet started, chain id read) before traffic flows.
pub async fn start(config: RunConfig) -> anyhow::Result<RunHandle> {
    let Prepared {
        chain_id,
        config,
        devnet,
        metrics_listener,
        out_dir,
        plan,
        clock,
        wallets,
    } = prepare(config).await?;
    let latency_of = crate::model::Direction::shown(config.read_only());
    let recorder = Recorder::create(&out_dir, clock.zero, clock.started, latency_of)?;
    let started = clock.started;
    let stop_stats = CancellationToken::new();
    let (intervals_tx, intervals_rx) = tokio::sync::mpsc::channel(64);
    let (windows_tx, windows_rx) = watch::channel(crate::stats::Windows::default());
    let (stats, stats_rx, stats_task) = spawn_aggregator(
        started,
        SNAPSHOT_TICK,
        stop_stats.clone(),
        Some(intervals_tx),
        config.capacity.as_ref().map(|_| windows_rx),
    );
    let workload = Arc::new(Workload::new(plan, wallets, stats.clone(), started));
    if let Some(gate) = clock.gate {
        open_gate_on_time(Arc::clone(&workload), gate);
    }
    workload
        .start_signer()
        .context("starting the signer thread")?;
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let rates = initial_rates(&config, config.nodes.len());
    let engine = spawn_engine(EngineSetup {
        targets: config.nodes.iter().cloned().zip(rates).collect(),
        work: into_source(Arc::clone(&workload)),
        stats,
        max_in_flight: config.max_in_flight,
        request_timeout: config.request_timeout,
        cancel: cancel.clone(),
        tracker: tracker.clone(),
        send_log: config.send_log.clone(),
        on_node_failure: config.on_node_failure,
        lattice: lattice_of(&config, &clock),
        started,
    });
    let admin = devnet.as_ref().map(Devnet::admin_url);
    spawn_stages(&config, &engine, &workload, started, admin);
    let capacity_task = spawn_capacity(&config, &engine, &workload, windows_tx, &stats_rx, started);
    let recorder_task = tokio::spawn(run_recorder(
        recorder,
        intervals_rx,
        engine.subscribe(),
        Arc::clone(&workload),
    ));
    let metrics_addr = match metrics_listener {
        Some(listener) => {
            let addr = listener.local_addr().ok();
            let sources =
                metrics::Sources::new(stats_rx.clone(), engine.subscribe(), Arc::clone(&workload))
                    .with_shard(config.sharding.as_ref().map(|s| s.shard));
            // Stopped with the runtime, after `--metrics-linger` (see `run_cli`).
            metrics::serve(listener, sources, CancellationToken::new());
            addr
        }
        None => None,
    };
    let interrupt = CancellationToken::new();
    let task = tokio::spawn(drive(Drive {
        recorder_task,
        out_dir: out_dir.clone(),
        chain_id,
        config: config.clone(),
        workload: Arc::clone(&workload),
        engine: engine.clone(),
        interrupt: interrupt.clone(),
        cancel,
        tracker,
        stop_stats,
        stats_task,
        started,
        clock,
        capacity_task,
        drain: config.request_timeout + Duration::from_secs(1),
        max_outage: config.max_outage,
    }));
    Ok(RunHandle {
        engine,
        workload,
        stats: stats_rx,
        started,
        out_dir,
        interrupt,
        task,
        devnet,
        metrics_addr,
    })
}

/// A shard's slots sit at its phase of the lattice `--start-at` anchors.
fn lattice_of(config: &RunConfig, clock: &RunClock) -> Option<Lattice> {
    let (gate, sharding) = clock.gate.zip(config.sharding.as_ref())?;
    Some(Lattice {
        origin: gate.at,
        phase: sharding.shard.phase(),
    })
}

/// Starts the capacity search when the run has `--find-capacity`.
fn spawn_capacity(
    config: &RunConfig,
    engine: &EngineHandle,
    workload: &Arc<Workload>,
    windows: watch::Sender<crate::stats::Windows>,
    stats: &watch::Receiver<Arc<StatsSnapshot>>,
    started: Instant,
) -> Option<JoinHandle<crate::report::capacity::CapacityReport>> {
    let search = config.capacity.clone()?;
    let searcher = capacity::Searcher {
        engine: engine.clone(),
        workload: Arc::clone(workload),
        search,
        first: crate::model::PerDirection {
            post: config.post_rate,
            get: config.get_rate,
        },
        windows,
        stats: stats.clone(),
        started,
    };
    Some(tokio::spawn(searcher.run()))
}

/// Starts the stage driver when the run has `--stage`s (a shard's are its part of the run's),
/// and the `--at` driver when it has actions.
fn spawn_stages(
    config: &RunConfig,
    engine: &EngineHandle,
    workload: &Arc<Workload>,
    started: Instant,
    devnet_admin: Option<String>,
) {
    if !config.actions.is_empty() {
        tokio::spawn(actions::drive(
            engine.clone(),
            Arc::clone(workload),
            config.actions.clone(),
            started,
            devnet_admin,
        ));
    }
    if config.stages.is_empty() {
        return;
    }
    let stages = config
        .stages
        .iter()
        .map(|stage| match &config.sharding {
            Some(s) => crate::config::Stage {
                post: s.shard.part_of(stage.post),
                get: stage.get.map(|get| s.shard.part_of(get)),
                ..*stage
            },
            None => *stage,
        })
        .collect();
    tokio::spawn(stages::drive(
        engine.clone(),
        Arc::clone(workload),
        stages,
        started,
    ));
}

/// The load begins at `--start-at`, not at the first answer after it; funding still going at
/// its tolerance's end stops then.
fn open_gate_on_time(workload: Arc<Workload>, gate: crate::workload::StartGate) {
    tokio::spawn(async move {
        tokio::time::sleep_until(gate.at.into()).await;
        workload.poke();
        let past_tolerance = gate.at + gate.tolerance + Duration::from_millis(1);
        tokio::time::sleep_until(past_tolerance.into()).await;
        workload.poke();
    });
}

struct Drive {
    recorder_task: JoinHandle<anyhow::Result<()>>,
    out_dir: std::path::PathBuf,
    chain_id: u64,
    config: RunConfig,
    workload: Arc<Workload>,
    engine: EngineHandle,
    interrupt: CancellationToken,
    cancel: CancellationToken,
    tracker: TaskTracker,
    stop_stats: CancellationToken,
    stats_task: JoinHandle<crate::stats::FinalStats>,
    started: Instant,
    clock: RunClock,
    capacity_task: Option<JoinHandle<crate::report::capacity::CapacityReport>>,
    drain: Duration,
    max_outage: Duration,
}

/// Resolves when every node has been down for `max_outage` (checked every second); a node
/// coming back resets the clock.
async fn outage(engine: &EngineHandle, max_outage: Duration) {
    let mut check = tokio::time::interval(Duration::from_secs(1));
    let mut down_since: Option<Instant> = None;
    loop {
        check.tick().await;
        let pool = engine.pool();
        let all_down = !pool.nodes.is_empty()
            && pool
                .nodes
                .iter()
                .all(|n| n.health() == crate::engine::Health::Down);
        let now = Instant::now();
        down_since = if all_down {
            down_since.or(Some(now))
        } else {
            None
        };
        if down_since.is_some_and(|since| now.duration_since(since) >= max_outage) {
            return;
        }
    }
}

/// What `--start-at` came to: the load's start against TIME, from the phase log.
fn start_record(
    config: &RunConfig,
    clock: &RunClock,
    status: &crate::workload::WorkloadStatus,
) -> Option<StartRecord> {
    let at = config.start_at?;
    let gate = clock.gate?;
    let load_began = status
        .phase_log
        .iter()
        .skip_while(|(phase, _)| *phase != Phase::Ready)
        .nth(1)
        .filter(|(phase, _)| *phase != Phase::Done)
        .map(|(_, since_start)| clock.started + *since_start);
    let skew_ms = load_began.map(|began| {
        if began >= gate.at {
            began.duration_since(gate.at).as_secs_f64() * 1000.0
        } else {
            -gate.at.duration_since(began).as_secs_f64() * 1000.0
        }
    });
    Some(StartRecord {
        at,
        zero: clock.zero,
        skew_ms,
    })
}

/// Waits for the end (done, interrupt, or every node down too long), stops the pacers, lets in-flight requests
/// finish (bounded by the request timeout), and collects the final numbers.
async fn drive(d: Drive) -> anyhow::Result<RunReport> {
    let mut finished = d.workload.finished();
    let interrupted = tokio::select! {
        _ = finished.wait_for(|done| *done) => false,
        () = d.interrupt.cancelled() => true,
        () = outage(&d.engine, d.max_outage) => {
            d.workload.abort(&format!("every node was down for {} s (--max-outage)", d.max_outage.as_secs()));
            false
        }
    };
    if interrupted {
        d.workload.abort("interrupted before the last phase ended");
    }
    d.cancel.cancel();
    d.tracker.close();
    let _ = tokio::time::timeout(d.drain, d.tracker.wait()).await;
    d.stop_stats.cancel();
    let (stats, aggregator) = d.stats_task.await.context("the stats task panicked")?;
    let status = d.workload.status();
    let start = start_record(&d.config, &d.clock, &status);
    let capacity = match d.capacity_task {
        // It ends the load itself, or stops within a step's settling after the run ends.
        Some(task) => tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .ok()
            .and_then(Result::ok),
        None => None,
    };
    let ending = if status.late_by.is_some() {
        Ending::Late
    } else if interrupted {
        Ending::Interrupted
    } else if status.failure.is_some() || status.phase != Phase::Done {
        Ending::Failed
    } else {
        Ending::Completed
    };
    let mut write_errors = Vec::new();
    match tokio::time::timeout(Duration::from_secs(10), d.recorder_task).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => write_errors.push(format!("{e:#}")),
        Ok(Err(e)) => write_errors.push(format!("the results recorder panicked: {e}")),
        Err(_) => write_errors.push("the results recorder did not finish within 10 s".to_owned()),
    }
    let mut report = RunReport {
        ending,
        status,
        stats,
        pool: d.engine.pool(),
        elapsed: d.started.elapsed(),
        out_dir: d.out_dir,
        thresholds: Vec::new(),
        write_errors,
        keys_exported: d.config.export_keys,
        generator: Footprint::now(),
        start,
        origin: d
            .config
            .sharding
            .as_ref()
            .map_or(Origin::Whole, |s| Origin::Shard {
                shard: s.shard,
                run_id: s.run_id.clone(),
            }),
        capacity,
    };
    report.thresholds = evaluate(&d.config.thresholds, &report);
    if let Err(e) = write_final_files(
        &report.out_dir,
        &report,
        &d.config,
        &d.workload,
        Some(d.chain_id),
        &report.thresholds,
        &aggregator,
    ) {
        report.write_errors.push(format!("{e:#}"));
    }
    Ok(report)
}
