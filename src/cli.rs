//! The command line (clap derive): raw flags and subcommands. Validation into typed plans
//! happens in [`crate::config`]; nothing here does I/O.

use clap::{Args, Parser, Subcommand};

use crate::protocol::PayloadProfile;

/// Load tester for multi-node 1Money L1 clusters.
#[derive(Debug, Parser)]
#[command(name = "stress-tui", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start an embedded, strict 1Money-compatible cluster on 127.0.0.1 (until Ctrl-C).
    Devnet(DevnetArgs),
}

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
    #[arg(long, default_value_t = PayloadProfile::Current)]
    pub profile: PayloadProfile,
    /// A knob for one node at start, NODE:KEY=VALUE (repeatable); e.g. 1:latency-ms=50,
    /// 2:down=true. Keys: post-capacity, get-capacity, latency-ms, latency-jitter-ms,
    /// error-ratio, down, hang, read-lag-ms.
    #[arg(long = "knob", value_name = "NODE:KEY=VALUE")]
    pub knobs: Vec<String>,
    /// Print the well-known development operator key and exit.
    #[arg(long)]
    pub print_operator_key: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
