//! A stress run from a validated [`RunConfig`]: optional embedded devnet, chain-id check, the
//! workload, the engine, the stats aggregator and the headless face; then the summary.
//!
//! [`start`] returns a [`RunHandle`] at once, so that tests and the dashboard steer the engine
//! while the run goes on; [`RunHandle::wait`] ends it and returns the [`RunReport`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::client::NodeClient;
use crate::config::RunConfig;
use crate::devnet::{Devnet, DevnetConfig};
use crate::engine::{EngineHandle, EngineSetup, spawn_engine, split_evenly};
use crate::footprint::Footprint;
use crate::metrics;
use crate::model::{NodeTarget, PerDirection, Phase};
use crate::protocol::{MAINNET_CHAIN_ID, NodeWriteMode, Signer, WriteSurface};
use crate::report::final_files::write_final_files;
use crate::report::recorder::{Recorder, prepare_dir, run_recorder};
use crate::report::thresholds::evaluate;
use crate::report::{Ending, RunReport};
use crate::stats::{StatsSnapshot, spawn_aggregator};
use crate::workload::{NodeMode, Wallets, Workload, WorkloadPlan, choose_surface, into_source};

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

/// Reads the chain id from every node that answers; they must agree.
async fn read_chain_id(nodes: &[NodeTarget], timeout: Duration) -> anyhow::Result<u64> {
    /// Rounds over every node before giving up: a node's transient 5xx or garbage answer at
    /// start must not refuse a run that the other rounds would have started.
    const ROUNDS: u32 = 3;
    let mut errors = Vec::new();
    for round in 0..ROUNDS {
        if round > 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let mut found: Option<(u64, &str)> = None;
        for node in nodes {
            match NodeClient::new(&node.url, timeout).chain_id().await {
                Ok(id) => match found {
                    Some((first, first_node)) if first != id => {
                        bail!(
                            "nodes disagree on the chain id: {first_node} says {first}, {} says {id}",
                            node.label
                        )
                    }
                    _ => found = Some((id, &node.label)),
                },
                Err(e) => errors.push(format!("{}: {e}", node.label)),
            }
        }
        if let Some((id, _)) = found {
            return Ok(id);
        }
    }
    bail!(
        "no node answered the chain id in {ROUNDS} rounds: {}",
        errors.join("; ")
    )
}

/// `--confirm checkpoints` needs `/v1/checkpoints/by_number`: a node that answers the head but
/// 404s (or 405s, 501s) the checkpoint before it (an older node) would leave every transaction
/// to the receipt fallback 3 s later. Refused before any transaction (exit 2). A node that does not answer at
/// all is left to the run's fault handling.
async fn check_checkpoints_served(nodes: &[NodeTarget], timeout: Duration) -> anyhow::Result<()> {
    for node in nodes {
        let client = NodeClient::new(&node.url, timeout);
        let Ok(head) = client.checkpoint_number().await else {
            continue;
        };
        // Only an answer that says the route is not there refuses the run: garbage or a 5xx is
        // a node's passing trouble, which the run counts and retries.
        if let Err(
            e @ crate::client::CallError::Status {
                status: 404 | 405 | 501,
                ..
            },
        ) = client.checkpoint_hashes(head.saturating_sub(1)).await
        {
            return Err(crate::model::UsageError::new(format!(
                "--confirm checkpoints: {} does not serve /v1/checkpoints/by_number ({e}); use --confirm receipts",
                node.label
            ))
            .into());
        }
    }
    Ok(())
}

fn initial_rates(config: &RunConfig, nodes: usize) -> Vec<PerDirection<u32>> {
    let posts = split_evenly(config.post_rate, nodes);
    let gets = split_evenly(config.get_rate, nodes);
    let mut rates: Vec<PerDirection<u32>> = posts
        .into_iter()
        .zip(gets)
        .map(|(post, get)| PerDirection { post, get })
        .collect();
    for &(index, post, get) in &config.node_rates {
        if let Some(rate) = rates.get_mut(index) {
            rate.post = post;
            if let Some(get) = get {
                rate.get = get;
            }
        }
    }
    rates
}

/// The workload's plan from the validated config and what the nodes reported.
fn plan_from(config: &RunConfig, chain_id: u64, surfaces: &SurfacePlan) -> WorkloadPlan {
    WorkloadPlan {
        chain_id,
        profile: config.profile,
        operator: Signer::new(config.operator_key.clone()),
        master: Signer::new(config.master_key.clone()),
        existing_token: config.token,
        symbol: config.symbol.clone(),
        name: config.token_name.clone(),
        decimals: config.decimals,
        mint_wallets: config.mint_wallets,
        transfers_per_mint: config.transfers_per_mint,
        distributions_per_transfer: config.distributions_per_transfer,
        mint_amount: config.mint_amount,
        allowance: config.allowance,
        seed: config.wallet_seed.clone(),
        in_flight_per_account: config.in_flight_per_account,
        sustained: config.duration,
        read_only: config.read_only(),
        confirm_timeout: config.confirm_timeout,
        confirm: config.confirm,
        surface: surfaces.surface,
        surface_choice: config.write_surface,
        node_modes: surfaces.modes.clone(),
        node_labels: config.nodes.iter().map(|n| n.label.clone()).collect(),
        memo: config.memo.clone(),
    }
}

/// The write surface a run chose and the modes it read.
struct SurfacePlan {
    surface: WriteSurface,
    modes: Vec<Option<NodeWriteMode>>,
}

/// Reads every node's `/api/status` (PROTOCOL.md section 8.1) and chooses the run's write
/// surface; what no single surface serves is a usage error naming the node (exit 2), before any
/// transaction. A node that does not answer is left to the run's fault handling and assumed to
/// take the chosen surface; a 404 is an older node (`/v1` only).
async fn choose_write_surface(config: &RunConfig) -> anyhow::Result<SurfacePlan> {
    let mut modes = Vec::with_capacity(config.nodes.len());
    for node in &config.nodes {
        let client = NodeClient::new(&node.url, config.request_timeout);
        let mode = match client.api_status().await {
            Ok(Some(status)) => Some(status.mode()),
            Ok(None) => Some(NodeWriteMode::V1Only),
            Err(_) => None,
        };
        modes.push(mode);
    }
    if config.read_only() {
        // Nothing is written: any surface will do; the modes are still shown.
        return Ok(SurfacePlan {
            surface: WriteSurface::V1,
            modes,
        });
    }
    let nodes: Vec<NodeMode<'_>> = config
        .nodes
        .iter()
        .zip(&modes)
        .map(|(node, mode)| NodeMode {
            label: &node.label,
            mode: *mode,
        })
        .collect();
    let surface = choose_surface(config.write_surface, &nodes, !config.memo.is_empty())
        .map_err(crate::model::UsageError::new)?;
    Ok(SurfacePlan { surface, modes })
}

/// Starts the embedded devnet of `--devnet N` and points the config at its nodes.
async fn start_devnet(nodes: usize, config: &mut RunConfig) -> anyhow::Result<Devnet> {
    let devnet = Devnet::start(DevnetConfig {
        nodes,
        base_port: 0,
        ..DevnetConfig::default()
    })
    .await
    .context("starting the embedded devnet")?;
    config.nodes = devnet
        .node_addrs()
        .iter()
        .map(|addr| NodeTarget {
            url: format!("http://{addr}"),
            label: addr.to_string(),
        })
        .collect();
    Ok(devnet)
}

/// Before any traffic: the devnet started (with `--devnet`), the chain id read and not
/// mainnet's (unless allowed), checkpoints served where they are to confirm, the write surface
/// chosen.
async fn preflight(config: &mut RunConfig) -> anyhow::Result<(Option<Devnet>, u64, SurfacePlan)> {
    let devnet = match config.devnet {
        Some(nodes) => Some(start_devnet(nodes, config).await?),
        None => None,
    };
    let chain_id = read_chain_id(&config.nodes, config.request_timeout).await?;
    if chain_id == MAINNET_CHAIN_ID && !config.allow_mainnet {
        // A usage error (exit 2): nothing but the chain id was read.
        return Err(crate::model::UsageError::new(format!(
            "the nodes are 1Money mainnet (chain id {MAINNET_CHAIN_ID}): refused without --allow-mainnet"
        ))
        .into());
    }
    if config.confirm == crate::model::ConfirmBy::Checkpoints {
        check_checkpoints_served(&config.nodes, config.request_timeout).await?;
    }
    let surfaces = choose_write_surface(config).await?;
    Ok((devnet, chain_id, surfaces))
}

/// Starts a run: everything is checked (devnet started, chain id read) before traffic flows.
pub async fn start(mut config: RunConfig) -> anyhow::Result<RunHandle> {
    // Before any traffic and any file: a port in use is a usage error.
    let metrics_listener = match config.metrics_addr {
        Some(addr) => Some(metrics::bind(addr).await?),
        None => None,
    };
    let out_existed = config.out.as_deref().is_some_and(std::path::Path::exists);
    let out_dir = prepare_dir(config.out.as_deref())?;
    let (devnet, chain_id, surfaces) = match preflight(&mut config).await {
        Ok(ready) => ready,
        Err(e) => {
            // Nothing was sent: leave no empty results folder behind (one the user made stays).
            if !out_existed {
                let _ = std::fs::remove_dir(&out_dir);
            }
            return Err(e);
        }
    };
    let plan = plan_from(&config, chain_id, &surfaces);
    let derive_plan = plan.clone();
    let wallets = tokio::task::spawn_blocking(move || Wallets::derive(&derive_plan))
        .await
        .context("deriving wallets")??;

    let latency_of = crate::model::Direction::shown(config.read_only());
    let recorder = Recorder::create(&out_dir, std::time::SystemTime::now(), latency_of)?;
    let started = Instant::now();
    let stop_stats = CancellationToken::new();
    let (intervals_tx, intervals_rx) = tokio::sync::mpsc::channel(64);
    let (stats, stats_rx, stats_task) = spawn_aggregator(
        started,
        SNAPSHOT_TICK,
        stop_stats.clone(),
        Some(intervals_tx),
    );
    let workload = Arc::new(Workload::new(plan, wallets, stats.clone(), started));
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
    });
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
                metrics::Sources::new(stats_rx.clone(), engine.subscribe(), Arc::clone(&workload));
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
    stats_task: JoinHandle<Arc<StatsSnapshot>>,
    started: Instant,
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
    let stats = d.stats_task.await.context("the stats task panicked")?;
    let status = d.workload.status();
    let ending = if interrupted {
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
    };
    report.thresholds = evaluate(&d.config.thresholds, &report);
    if let Err(e) = write_final_files(
        &report.out_dir,
        &report,
        &d.config,
        &d.workload,
        Some(d.chain_id),
        &report.thresholds,
    ) {
        report.write_errors.push(format!("{e:#}"));
    }
    Ok(report)
}
