//! Everything a run does before its load: the checks that refuse it (too late for `--start-at`, a
//! metrics port in use, an unwritable results folder), the embedded devnet, every node's chain id
//! and status, the write surface, the wallets, and the wait for `--start-at`. Nothing here sends a
//! transaction.

use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};

use crate::client::NodeClient;
use crate::config::RunConfig;
use crate::devnet::{Devnet, DevnetConfig};
use crate::engine::split_evenly;
use crate::metrics;
use crate::model::{NodeTarget, PerDirection};
use crate::protocol::{MAINNET_CHAIN_ID, NodeWriteMode, Signer, WriteSurface};
use crate::report::recorder::prepare_dir;
use crate::workload::{NodeMode, StartGate, Wallets, WorkloadPlan, choose_surface};

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

pub(super) fn initial_rates(config: &RunConfig, nodes: usize) -> Vec<PerDirection<u32>> {
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
    // A shard offers its part of every node's rates: the shards together offer them whole.
    if let Some(sharding) = &config.sharding {
        for rate in &mut rates {
            *rate = rate.map(|r| sharding.shard.part_of(r));
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
        shard: config.sharding.as_ref().map(|s| s.shard),
        // Set with the run's clock (`RunClock`).
        gate: None,
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

/// Ready only after `--start-at` + `--start-tolerance`: the run did not start and sent nothing
/// (exit code 4).
#[derive(Debug, thiserror::Error)]
#[error(
    "--start-at {at}: ready {late_s:.1} s after it, beyond --start-tolerance {tolerance_s:.1} s: not started, nothing sent"
)]
pub struct TooLate {
    at: String,
    late_s: f64,
    tolerance_s: f64,
}

/// Refuses a start already later than `at` + `tolerance`.
fn check_not_late(at: SystemTime, tolerance: Duration) -> Result<(), TooLate> {
    match SystemTime::now().duration_since(at) {
        Ok(late) if late > tolerance => Err(TooLate {
            at: humantime::format_rfc3339_millis(at).to_string(),
            late_s: late.as_secs_f64(),
            tolerance_s: tolerance.as_secs_f64(),
        }),
        _ => Ok(()),
    }
}

/// The run's clock: when its second 0 began, on the wall clock and on the monotonic one, and
/// when its load may begin.
#[derive(Clone, Copy, Debug)]
pub(super) struct RunClock {
    pub(super) zero: SystemTime,
    pub(super) started: Instant,
    /// `--start-at` on the monotonic clock.
    pub(super) gate: Option<StartGate>,
}

impl RunClock {
    /// Starts now; with `--start-at`, a whole number of seconds before TIME, so that every
    /// generator given TIME cuts its seconds (timeseries rows, interval-log intervals) at
    /// TIME + k.
    fn new(start_at: Option<SystemTime>, tolerance: Duration) -> Self {
        let (now, started_now) = (SystemTime::now(), Instant::now());
        let Some(at) = start_at else {
            return Self {
                zero: now,
                started: started_now,
                gate: None,
            };
        };
        // Whole seconds from zero to TIME: zero is at most 1 s before now.
        let zero = match at.duration_since(now) {
            Ok(ahead) => {
                at - Duration::from_secs(ahead.as_secs() + u64::from(ahead.subsec_nanos() > 0))
            }
            Err(behind) => at + Duration::from_secs(behind.duration().as_secs()),
        };
        let since_zero = now.duration_since(zero).unwrap_or_default();
        let started = started_now.checked_sub(since_zero).unwrap_or(started_now);
        let gate = StartGate {
            at: started + at.duration_since(zero).unwrap_or_default(),
            tolerance,
        };
        Self {
            zero,
            started,
            gate: Some(gate),
        }
    }
}

/// What a run has ready before its load starts.
pub(super) struct Prepared {
    pub(super) config: RunConfig,
    pub(super) out_dir: std::path::PathBuf,
    pub(super) devnet: Option<Devnet>,
    pub(super) chain_id: u64,
    pub(super) plan: WorkloadPlan,
    pub(super) wallets: Wallets,
    pub(super) clock: RunClock,
    pub(super) metrics_listener: Option<tokio::net::TcpListener>,
}

/// Everything before the load: the checks (lateness, the metrics port, the results folder),
/// the devnet, status and chain id reads, the wallets, and the wait for `--start-at`. A run
/// that fails here sent no transaction and leaves no empty results folder behind (one the user
/// made stays).
pub(super) async fn prepare(mut config: RunConfig) -> anyhow::Result<Prepared> {
    // Already too late for --start-at: refused before anything is read or written.
    if let Some(at) = config.start_at {
        check_not_late(at, config.start_tolerance)?;
    }
    // Before any traffic and any file: a port in use is a usage error.
    let metrics_listener = match config.metrics_addr {
        Some(addr) => Some(metrics::bind(addr).await?),
        None => None,
    };
    let out_existed = config.out.as_deref().is_some_and(std::path::Path::exists);
    let out_dir = prepare_dir(config.out.as_deref())?;
    let out = out_dir.clone();
    let ready = async move {
        let (devnet, chain_id, surfaces) = preflight(&mut config).await?;
        let plan = plan_from(&config, chain_id, &surfaces);
        let derive_plan = plan.clone();
        let wallets = tokio::task::spawn_blocking(move || Wallets::derive(&derive_plan))
            .await
            .context("deriving wallets")??;
        if let (Some(sharding), Some(out)) = (&config.sharding, &config.out) {
            eprintln!(
                "shard {} of run {}: results in {}",
                sharding.shard,
                sharding.run_id,
                out.display()
            );
        }
        // Setup took too long: still nothing sent.
        if let Some(at) = config.start_at {
            check_not_late(at, config.start_tolerance)?;
            if let Ok(wait) = at.duration_since(SystemTime::now()) {
                eprintln!(
                    "set up; funding, then the load starts at --start-at {} (in {:.1} s)",
                    humantime::format_rfc3339_millis(at),
                    wait.as_secs_f64()
                );
            }
        }
        let clock = RunClock::new(config.start_at, config.start_tolerance);
        let mut plan = plan;
        plan.gate = clock.gate;
        anyhow::Ok(Prepared {
            config,
            out_dir: out,
            devnet,
            chain_id,
            plan,
            wallets,
            clock,
            metrics_listener,
        })
    }
    .await;
    if ready.is_err() && !out_existed {
        let _ = std::fs::remove_dir(&out_dir);
    }
    ready
}
