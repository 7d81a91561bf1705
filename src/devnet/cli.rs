//! `stress-tui devnet`: starts a cluster from the command line, prints where it is and how to
//! break it, and runs until Ctrl-C or SIGTERM.

use std::time::Duration;

use anyhow::Context;

use super::{Devnet, DevnetConfig, NodeKnobs, OPERATOR_KEY_HEX};
use crate::cli::DevnetArgs;
use crate::config::UsageError;
use crate::shutdown_signal;

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
    shutdown_signal().await;
    let stats = devnet.stats();
    devnet.shutdown().await;
    println!(
        "devnet stopped: {} transactions admitted, {} executed",
        stats.admitted, stats.executed
    );
    Ok(())
}
