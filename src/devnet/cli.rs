//! `stress-tui devnet`: starts a cluster from the command line, prints where it is and how to
//! break it, and runs until Ctrl-C or SIGTERM.

use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::{Devnet, DevnetConfig, NodeKnobs, OPERATOR_KEY_HEX};
use crate::model::UsageError;
use crate::shutdown;

/// `stress-tui devnet`.
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub nodes: u16,
    /// Port of node 0; node i listens on base-port + i.
    #[arg(long, default_value_t = 18555, value_parser = clap::value_parser!(u16).range(2..))]
    pub base_port: u16,
    /// Port of the admin API (default: base-port - 1).
    #[arg(long)]
    pub admin_port: Option<u16>,
    /// Delay between admission and execution, in milliseconds.
    #[arg(long, default_value_t = 300)]
    pub finality_ms: u64,
    /// Random extra execution delay, up to this many milliseconds.
    #[arg(long, default_value_t = 100)]
    pub finality_jitter_ms: u64,
    /// Checkpoint interval in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_ms: u64,
    /// Executed transactions (and receipts) kept before the oldest are evicted.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub retain: u64,
    /// Payload layout to verify signatures against: current or legacy-2025.
    #[arg(long, default_value_t = crate::protocol::PayloadProfile::Current)]
    pub profile: crate::protocol::PayloadProfile,
    /// The write surface every node takes at start (its `/api/status`): `v1_only`, `dual`
    /// (both /v1 and /v2, what a current cluster runs) or `v2_only`. One node: --knob
    /// N:write-mode=...
    #[arg(long, default_value_t = crate::protocol::NodeWriteMode::Dual)]
    pub write_mode: crate::protocol::NodeWriteMode,
    /// Every node is read-only (an archive node): every write is refused.
    #[arg(long)]
    pub read_only: bool,
    /// A knob for one node at start, NODE:KEY=VALUE (repeatable); e.g. 1:latency-ms=50,
    /// 2:down=true. Keys: post-capacity, get-capacity, latency-ms, latency-jitter-ms,
    /// error-ratio, garbage-ratio, lose-ratio, reset-ratio, half-answer-ratio, down, hang,
    /// read-lag-ms, write-mode
    /// (`v1_only`, `dual`, `v2_only`), read-only.
    #[arg(long = "knob", value_name = "NODE:KEY=VALUE")]
    pub knobs: Vec<String>,
    /// Print the well-known development operator key and exit.
    #[arg(long)]
    pub print_operator_key: bool,
}

/// Turns the flags into a config, or a usage error naming the flag.
pub fn config_from_args(args: &DevnetArgs) -> Result<DevnetConfig, UsageError> {
    let nodes = usize::from(args.nodes);
    if usize::from(args.base_port) + nodes - 1 > usize::from(u16::MAX) {
        return Err(UsageError::new(format!(
            "--base-port {} with --nodes {nodes} needs ports above 65535",
            args.base_port
        )));
    }
    let every_node = NodeKnobs {
        write_mode: args.write_mode,
        read_only: args.read_only,
        ..NodeKnobs::default()
    };
    let mut knobs = vec![every_node; nodes];
    for setting in &args.knobs {
        let (node, assignment) = setting.split_once(':').ok_or_else(|| {
            UsageError::new(format!(
                "--knob `{setting}`: expected NODE:KEY=VALUE, e.g. 1:latency-ms=50"
            ))
        })?;
        let index: usize = node
            .trim()
            .parse()
            .ok()
            .filter(|i| *i < nodes)
            .ok_or_else(|| {
                UsageError::new(format!(
                    "--knob `{setting}`: node must be 0 to {}",
                    nodes - 1
                ))
            })?;
        let patch = NodeKnobs::patch_from_setting(assignment)
            .map_err(|e| UsageError::new(format!("--knob `{setting}`: {e}")))?;
        knobs[index]
            .apply(&patch)
            .map_err(|e| UsageError::new(format!("--knob `{setting}`: {e}")))?;
    }
    Ok(DevnetConfig {
        nodes,
        base_port: args.base_port,
        admin_port: args.admin_port,
        finality: Duration::from_millis(args.finality_ms),
        finality_jitter: Duration::from_millis(args.finality_jitter_ms),
        checkpoint_interval: Duration::from_millis(args.checkpoint_ms),
        retain_executed: usize::try_from(args.retain).unwrap_or(usize::MAX),
        profile: args.profile,
        knobs,
        ..DevnetConfig::default()
    })
}

/// Runs `stress-tui devnet` until a shutdown signal.
pub async fn run(args: DevnetArgs) -> anyhow::Result<()> {
    if args.print_operator_key {
        println!("{OPERATOR_KEY_HEX}");
        return Ok(());
    }
    let config = config_from_args(&args)?;
    let finality = config.finality;
    let devnet = Devnet::start(config).await.context("starting the devnet")?;
    let urls = devnet.urls();
    println!(
        "stress-tui devnet: {} nodes, chain id {}, finality {} ms",
        urls.len(),
        devnet.chain_id(),
        finality.as_millis()
    );
    for (index, url) in urls.iter().enumerate() {
        let knobs = devnet.knobs(index).unwrap_or_default();
        let surface = if knobs.read_only {
            format!("read_only ({} once writable)", knobs.write_mode)
        } else {
            knobs.write_mode.to_string()
        };
        let plain = NodeKnobs {
            write_mode: knobs.write_mode,
            read_only: knobs.read_only,
            ..NodeKnobs::default()
        };
        let note = if knobs == plain {
            String::new()
        } else {
            format!("  knobs {}", serde_json::to_string(&knobs)?)
        };
        println!("  node {index}  {url}  {surface}{note}");
    }
    println!(
        "  admin   {}  (GET /nodes; POST /nodes/N with e.g. {{\"down\":true}})",
        devnet.admin_url()
    );
    println!(
        "operator {} (development-only key: `stress-tui devnet --print-operator-key`)",
        devnet.operator_address()
    );
    let nodes: Vec<String> = devnet
        .node_addrs()
        .iter()
        .map(ToString::to_string)
        .collect();
    println!(
        "load it:  OPERATOR_PRIVATE_KEY=$(stress-tui devnet --print-operator-key) stress-tui --nodes {} --no-tui",
        nodes.join(",")
    );
    println!("Ctrl-C stops the devnet.");
    shutdown::signal().await;
    let stats = devnet.stats();
    devnet.shutdown().await;
    println!(
        "devnet stopped: {} transactions admitted, {} executed",
        stats.admitted, stats.executed
    );
    Ok(())
}
