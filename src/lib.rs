//! stress-tui: a load tester for multi-node 1Money L1 clusters.
//!
//! ```text
//!  keys ─► tui::keymap ─► Action ─► App::update ─► Effect ─► EngineHandle ──┐
//!  --no-tui: signals, the schedule of phases ───────────────────────────────►│ Command (bounded mpsc)
//!                                                                            ▼
//!  engine (one task; sole owner of the pool, target and effective rates, pause)
//!    │ watch<Arc<PoolView>>: nodes, rates, live counters and health, recent events
//!    ▼
//!  per node: a POST pacer and a GET pacer (smooth schedule, burst window, in-flight cap),
//!    on the node's load thread (one per core), woken by a timerfd; they pull work from the
//!    WorkSource ─► request on its own task, same thread, the node's keep-alive pool
//!    ─► Sample (try_send; the aggregator drains every 10 ms)
//!  workload (issue ─► grant ─► mint ─► transfer | sustained ─► verify, or reads only):
//!    account book, local nonces, a signer thread signing payments ahead of their slots,
//!    receipts and lookups through the GET pacers, expected balances
//!  stats (one task, every HDR histogram) ─► watch<Arc<StatsSnapshot>> 4 Hz
//!    ─► dashboard frame | progress line | results recorder (timeseries, hlog, events)
//!  run: wires it together, ends on done / q / signal / --max-outage, writes final files
//!  devnet: N axum listeners over one shared ledger, per-node fault knobs, admin API
//! ```
//!
//! Modules, each with one owner, in layers that only use the ones below them (checked by
//! `tests/it/layers.rs`), lowest first:
//! - [`model`], [`shutdown`], [`footprint`]: the shared words (node, direction, operation,
//!   phase, the run's choices, usage errors); the stop signal; the generator's own CPU and RSS.
//! - [`protocol`]: payloads, v1 and v2 signing, transaction hashes, wire JSON, wallets (no
//!   I/O but reading a key file).
//! - [`client`]: one node's HTTP client; typed calls, classified errors. Beside it [`devnet`],
//!   the embedded strict cluster, which uses only `model`, `protocol` and `shutdown`.
//! - [`stats`]: samples, the aggregator, snapshots.
//! - [`engine`]: the pool, rates, commands, pacers and their schedule.
//! - [`workload`]: the phases, nonces, receipts, verification.
//! - [`cli`], then [`config`]: raw flags, then validated plans (usage errors name the flag;
//!   thresholds are parsed here).
//! - [`report`]: the run report, progress line, summary, results folder (CSV, JSON),
//!   threshold verdicts, a shard's `shard.json` and `stress-tui merge`. Beside it
//!   [`metrics`] (`/metrics`) and [`k8s`] (the manifests of `k8s-job`).
//! - [`run`]: one stress run from start to report; [`tui`]: the dashboard over a run.

pub mod cli;
pub mod client;
pub mod config;
pub mod devnet;
pub mod engine;
pub mod footprint;
pub mod k8s;
pub mod metrics;
pub mod model;
pub mod protocol;
pub mod report;
pub mod run;
pub mod shutdown;
pub mod stats;
pub mod tui;
pub mod workload;

use std::process::ExitCode;
use std::sync::Arc;

pub use model::UsageError;

pub use model::exit;

/// Runs what the command line asks for; `main` only maps the result to an exit code.
pub async fn run_cli(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(cli::Command::Devnet(args)) => {
            devnet::cli::run(args).await.map(|()| ExitCode::SUCCESS)
        }
        Some(cli::Command::Replay(args)) => {
            print!("{}", report::replay::replay(&args.dir)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(cli::Command::Report(args)) => {
            let path = report::html::write_report(&args.dir)
                .map_err(|e| UsageError::new(format!("report: {e:#}")))?;
            println!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Some(cli::Command::K8sJob(args)) => {
            k8s::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(cli::Command::Merge(args)) => {
            let thresholds = args
                .thresholds
                .iter()
                .map(|text| config::parse_threshold(text).map_err(UsageError::new))
                .collect::<Result<Vec<_>, _>>()?;
            let wait = config::parse_duration(&args.wait)
                .map_err(|e| UsageError::new(format!("--wait `{}`: {e}", args.wait)))?;
            let merged = tokio::task::spawn_blocking(move || {
                report::merge::merge(&args.dirs, &args.out, &thresholds, wait)
                    .map(|merged| (merged, args.out))
            })
            .await??;
            let (merged, out) = merged;
            eprintln!("merged into {}", out.display());
            Ok(finish(&merged.report))
        }
        None => run_stress(cli.run).await,
    }
}

/// A stress run: the dashboard, or with `--no-tui` a progress line a second on stderr; the
/// summary on stdout either way.
async fn run_stress(args: cli::RunArgs) -> anyhow::Result<ExitCode> {
    let config = config::RunConfig::from_args(&args)?;
    let linger = config.metrics_addr.map(|_| config.metrics_linger);
    if !config.no_tui {
        tui::check_terminal()?;
        let handle = run::start(config).await?;
        announce_metrics(&handle);
        let report = tui::run(handle).await?;
        let code = finish(&report);
        linger_for_metrics(linger).await;
        return Ok(code);
    }
    let handle = run::start(config).await?;
    announce_metrics(&handle);
    // A line for each second of the run, when the statistics of that second are out (a timer
    // of its own drifted against them: seconds printed twice or skipped).
    let mut stats = handle.stats.clone();
    let mut printed_second = 0;
    let mut finished = handle.workload.finished();
    let signal = shutdown::signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            Ok(()) = stats.changed() => {
                let snapshot = Arc::clone(&stats.borrow_and_update());
                let second = snapshot.elapsed.as_secs();
                if second > printed_second {
                    printed_second = second;
                    let line = report::progress_line(&snapshot, &handle.engine.pool(), &handle.workload.status());
                    eprintln!("{line}");
                }
            }
            () = &mut signal => {
                eprintln!("interrupted: stopping and writing the summary");
                handle.interrupt();
                break;
            }
            _ = finished.wait_for(|done| *done) => break,
        }
    }
    let report = handle.wait().await?;
    let code = finish(&report);
    linger_for_metrics(linger).await;
    Ok(code)
}

/// Says where `/metrics` is served (its port resolved, for `--metrics-addr IP:0`).
fn announce_metrics(handle: &run::RunHandle) {
    if let Some(addr) = handle.metrics_addr {
        eprintln!("metrics at http://{addr}/metrics");
    }
}

/// Keeps `/metrics` up for `--metrics-linger` after the summary, so that the last scrape sees
/// the final counts; Ctrl-C or SIGTERM ends it early.
async fn linger_for_metrics(linger: Option<std::time::Duration>) {
    let Some(linger) = linger.filter(|l| !l.is_zero()) else {
        return;
    };
    eprintln!(
        "/metrics stays up for {:.1} s more (--metrics-linger); Ctrl-C ends it",
        linger.as_secs_f64()
    );
    tokio::select! {
        () = tokio::time::sleep(linger) => {}
        () = shutdown::signal() => {}
    }
}

/// Prints the summary and answers the exit code of a finished run.
fn finish(report: &report::RunReport) -> ExitCode {
    println!("{}", report::summary_text(report));
    match report.ending {
        report::Ending::Completed if report.thresholds_failed() => ExitCode::from(exit::THRESHOLDS),
        report::Ending::Completed => ExitCode::SUCCESS,
        report::Ending::Failed | report::Ending::Interrupted => ExitCode::from(exit::FAILURE),
        report::Ending::Late => ExitCode::from(exit::LATE),
    }
}
