//! stress-tui: a load tester for multi-node 1Money L1 clusters.
//!
//! ```text
//!  keys ─► tui ─► Action ─► App::update ─► Command ──┐
//!  --no-tui: signals, schedule ─────────────────────►│ EngineHandle (bounded mpsc)
//!                                                     ▼
//!   engine (sole owner of the node pool, rates and phase) ─► watch snapshots
//!   workload (issue ─► grant ─► mint ─► transfer ─► verify; sustained payments)
//!     pick node ─► node limiter ─► HTTP ─► Sample ─► stats ─► snapshots, reports
//!   devnet: N axum listeners over one shared ledger, per-node fault knobs
//! ```
//!
//! Modules, each with one owner:
//! - [`protocol`]: payloads, RLP signing, transaction hashes, wire JSON, wallets (pure).
//! - [`client`]: one node's HTTP client; typed calls, classified errors.
//! - [`devnet`]: the embedded strict cluster: shared ledger, axum nodes, fault knobs, admin API.

pub mod cli;
pub mod client;
pub mod config;
pub mod devnet;
pub mod protocol;

use std::process::ExitCode;

pub use config::UsageError;

/// Exit codes: 0 success, 1 a run or runtime failure, 2 a usage error.
pub mod exit {
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
}

/// Runs what the command line asks for; `main` only maps the result to an exit code.
pub async fn run_cli(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(cli::Command::Devnet(args)) => {
            devnet::cli::run(args).await.map(|()| ExitCode::SUCCESS)
        }
        None => Err(UsageError::new(
            "the stress run is not available yet; try `stress-tui devnet --help`",
        )
        .into()),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
