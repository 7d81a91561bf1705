//! The files written once a run ends: `nodes.csv`, `operations.csv`, `accounts_detail.csv` and
//! `summary.json` (schema: `assets/summary.schema.json`). Writers are generic over `Write`, so
//! tests check them in memory.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use super::thresholds::ThresholdResult;
use crate::client::ErrorClass;
use crate::config::RunConfig;
use crate::report::RunReport;
use crate::stats::{OpSnapshot, Percentiles};
use crate::workload::Workload;

const OP_COLUMNS: &str = "count,ok,errors,rejected,rate_limited,server_error,timeout,connect,decode,lost,rate_per_s,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,mean_ms,service_p50_ms,service_p99_ms";

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

fn op_columns(op: &OpSnapshot, secs: f64) -> String {
    let classes: Vec<String> = ErrorClass::ALL
        .iter()
        .map(|c| op.errors.get(c).copied().unwrap_or(0).to_string())
        .collect();
    let p = op.latency;
    format!(
        "{},{},{},{},{:.3},{},{},{},{},{},{},{},{}",
        op.count,
        op.ok,
        op.error_count(),
        classes.join(","),
        op.ok as f64 / secs,
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.p999),
        ms(p.max),
        ms(p.mean),
        ms(op.service.p50),
        ms(op.service.p99),
    )
}

/// `nodes.csv`: one row per node (POSTs and GETs apart), with target rates, offered, sent,
/// missed and confirmed.
pub fn write_nodes_csv(out: &mut impl Write, report: &RunReport) -> std::io::Result<()> {
    let secs = report.elapsed.as_secs_f64().max(0.001);
    writeln!(
        out,
        "node,url,direction,target_rate,offered,sent,missed,confirmed,{OP_COLUMNS}"
    )?;
    for node in &report.pool.nodes {
        let Some(stats) = report.stats.node(node.id) else {
            continue;
        };
        for (direction, ops, rate, counters) in [
            ("post", &stats.post, node.rates.post, &node.counters.post),
            ("get", &stats.get, node.rates.get, &node.counters.get),
        ] {
            let confirmed = if direction == "post" {
                stats.confirmed
            } else {
                0
            };
            writeln!(
                out,
                "{},{},{direction},{rate},{},{},{},{confirmed},{}",
                node.label,
                node.url,
                counters.offered.load(Ordering::Relaxed),
                counters.sent.load(Ordering::Relaxed),
                counters.missed.load(Ordering::Relaxed),
                op_columns(ops, secs)
            )?;
        }
    }
    Ok(())
}

/// `operations.csv`: one row per operation, all nodes merged.
pub fn write_operations_csv(out: &mut impl Write, report: &RunReport) -> std::io::Result<()> {
    let secs = report.elapsed.as_secs_f64().max(0.001);
    writeln!(out, "operation,{OP_COLUMNS}")?;
    for (op, stats) in &report.stats.ops {
        writeln!(out, "{},{}", op.as_str(), op_columns(stats, secs))?;
    }
    Ok(())
}

/// `accounts_detail.csv`: the Go tool's columns plus the address; private keys only when
/// `export_keys` (the user asked with `--export-keys`).
pub fn write_accounts_csv(
    out: &mut impl Write,
    workload: &Workload,
    export_keys: bool,
) -> anyhow::Result<()> {
    let plan = workload.plan();
    let wallets = workload.wallets();
    let status = workload.status();
    let token = status.token.map(|t| t.to_string()).unwrap_or_default();
    let observed = workload.observed_balances();
    let expected = workload.expected_balances();
    let balance = |address| {
        observed
            .get(&address)
            .or_else(|| expected.get(&address))
            .copied()
            .unwrap_or_default()
    };
    let header = "token_address,decimal,balance,wallet_tier,wallet_index,source_wallet,address";
    writeln!(
        out,
        "{header}{}",
        if export_keys { ",private_key" } else { "" }
    )?;
    let decimals = plan.decimals;
    let mut row = |tier: &str,
                   index: usize,
                   source: String,
                   address,
                   key: Option<String>|
     -> std::io::Result<()> {
        let key = if export_keys {
            format!(",{}", key.unwrap_or_default())
        } else {
            String::new()
        };
        writeln!(
            out,
            "{token},{decimals},{},{tier},{index},{source},{address}{key}",
            balance(address)
        )
    };
    let master = plan.master.address().to_string();
    for (i, signer) in wallets.mint.iter().enumerate() {
        row(
            "mint",
            i,
            master.clone(),
            signer.address(),
            Some(signer.key().expose_hex()),
        )?;
    }
    let per_mint = plan.transfers_per_mint as usize;
    for (i, signer) in wallets.transfer.iter().enumerate() {
        let source = wallets.mint[i / per_mint].address().to_string();
        row(
            "transfer",
            i,
            source,
            signer.address(),
            Some(signer.key().expose_hex()),
        )?;
    }
    let per_transfer = plan.distributions_per_transfer as usize;
    for (i, address) in wallets.distribution.iter().enumerate() {
        let source = wallets.transfer[i / per_transfer].address().to_string();
        let key = if export_keys {
            let index = u32::try_from(i)?;
            Some(
                plan.seed
                    .key(crate::protocol::wallet::WalletTier::Distribution, index)?
                    .expose_hex(),
            )
        } else {
            None
        };
        row("distribution", i, source, *address, key)?;
    }
    Ok(())
}

fn percentiles_json(p: &Percentiles) -> Value {
    json!({ "count": p.count, "min_us": p.min, "p50_us": p.p50, "p90_us": p.p90, "p99_us": p.p99,
            "p999_us": p.p999, "max_us": p.max, "mean_us": p.mean })
}

fn op_json(op: &OpSnapshot) -> Value {
    let errors: serde_json::Map<String, Value> = op
        .errors
        .iter()
        .map(|(c, n)| (c.as_str().to_owned(), json!(n)))
        .collect();
    json!({ "count": op.count, "ok": op.ok, "errors": errors, "latency": percentiles_json(&op.latency),
            "service": percentiles_json(&op.service) })
}

/// `summary.json`: the config (no secrets), phases, per-node and per-operation results with
/// full percentiles, verify and thresholds.
#[must_use]
pub fn summary_json(
    report: &RunReport,
    config: &RunConfig,
    chain_id: Option<u64>,
    thresholds: &[ThresholdResult],
) -> Value {
    let secs = report.elapsed.as_secs_f64();
    let nodes: Vec<Value> = report
        .pool
        .nodes
        .iter()
        .filter_map(|node| {
            let stats = report.stats.node(node.id)?;
            let counters = |c: &crate::engine::DirectionCounters, send_error: &Percentiles| {
                json!({ "offered": c.offered.load(Ordering::Relaxed), "sent": c.sent.load(Ordering::Relaxed),
                        "missed": c.missed.load(Ordering::Relaxed), "unfilled": c.unfilled.load(Ordering::Relaxed),
                        "send_error": percentiles_json(send_error) })
            };
            let ops: serde_json::Map<String, Value> = stats.ops.iter().map(|(op, s)| (op.as_str().to_owned(), op_json(s))).collect();
            Some(json!({
                "label": node.label, "url": node.url, "health": node.health(),
                "target_rates": { "post": node.rates.post, "get": node.rates.get },
                "effective_rates": { "post": node.effective.post, "get": node.effective.get },
                "post": op_json(&stats.post), "get": op_json(&stats.get),
                "post_pacing": counters(&node.counters.post, &stats.send_error[0]),
                "get_pacing": counters(&node.counters.get, &stats.send_error[1]),
                "confirmed": stats.confirmed, "operations": ops,
            }))
        })
        .collect();
    let operations: serde_json::Map<String, Value> = report
        .stats
        .ops
        .iter()
        .map(|(op, s)| (op.as_str().to_owned(), op_json(s)))
        .collect();
    let status = &report.status;
    json!({
        "tool": "stress-tui",
        "version": env!("CARGO_PKG_VERSION"),
        "ending": report.ending,
        "elapsed_s": secs,
        "failure": status.failure,
        "config": {
            "nodes": config.nodes.iter().map(|n| n.url.clone()).collect::<Vec<_>>(),
            "devnet": config.devnet,
            "post_rate": config.post_rate, "get_rate": config.get_rate,
            "profile": config.profile, "chain_id": chain_id,
            "duration_s": config.duration.map(|d| d.as_secs_f64()),
            "mint_wallets": config.mint_wallets, "transfers_per_mint": config.transfers_per_mint,
            "distributions_per_transfer": config.distributions_per_transfer,
            "mint_amount": config.mint_amount.to_string(), "allowance": config.allowance.to_string(),
            "decimals": config.decimals, "symbol": config.symbol, "token": status.token,
            "wallet_seed_prefix": config.wallet_seed.prefix(),
            "on_node_failure": config.on_node_failure, "max_outage_s": config.max_outage.as_secs_f64(),
            "in_flight_per_account": config.in_flight_per_account, "max_in_flight": config.max_in_flight,
            "request_timeout_s": config.request_timeout.as_secs_f64(),
            "confirm_timeout_s": config.confirm_timeout.as_secs_f64(), "confirm": config.confirm,
            "write_surface": config.write_surface,
            "memo": (!config.memo.is_empty()).then_some(&config.memo),
        },
        "write_surface": {
            "surface": (!status.read_only).then_some(status.write_surface),
            "choice": status.surface_choice,
            "refusals": status.surface_refusals,
            "events": status.events.iter().map(|(at, text)| json!({ "at_s": at.as_secs_f64(), "text": text })).collect::<Vec<_>>(),
            "nodes": report.pool.nodes.iter().map(|node| {
                let known = status.node_surfaces.iter().find(|s| s.node == node.id);
                json!({ "label": node.label, "mode": known.and_then(|s| s.mode),
                        "surface": known.map_or(Some(status.write_surface), |s| s.surface) })
            }).collect::<Vec<_>>(),
        },
        "phases": status.reports.iter().map(|p| json!({
            "phase": p.phase, "duration_s": p.duration.as_secs_f64(), "total": p.total,
            "confirmed": p.confirmed, "failed": p.failed,
            "cpu_s": p.cpu.map(|c| c.as_secs_f64()),
            "signing_cpu_s": p.signing_cpu.as_secs_f64() })).collect::<Vec<_>>(),
        "generator": { "cpu_s": report.generator.cpu.map(|c| c.as_secs_f64()),
                       "peak_rss_kib": report.generator.peak_rss_kib },
        "transactions": { "submitted": status.submitted, "signed_ahead": status.signed_ahead,
                          "confirmed": status.confirmed,
                          "failed": status.failed, "resyncs": status.resyncs, "recovered": status.recovered,
                          "confirmed_by_checkpoint": status.confirmed_by_checkpoint,
                          "checkpoints_skipped": status.checkpoints_skipped,
                          "failures_by_code": status.failures_by_code },
        "nodes": nodes,
        "operations": operations,
        "error_codes": report.stats.error_codes,
        "send_error": { "post": percentiles_json(&report.stats.send_error[0]),
                        "get": percentiles_json(&report.stats.send_error[1]) },
        "verify": {
            "checked": status.verify.checked, "matched": status.verify.matched,
            "mismatched": status.verify.mismatched, "unread": status.verify.unread,
            "expected_supply": status.verify.expected_supply.to_string(),
            "reported_supply": status.verify.reported_supply.map(|s| s.to_string()),
        },
        "thresholds": thresholds,
        "dropped_samples": report.stats.dropped_samples,
    })
}

/// Writes the end-of-run files into `dir`.
pub fn write_final_files(
    dir: &Path,
    report: &RunReport,
    config: &RunConfig,
    workload: &Workload,
    chain_id: Option<u64>,
    thresholds: &[ThresholdResult],
) -> anyhow::Result<()> {
    // `secret`: the file holds private keys and is its owner's alone from the moment it
    // exists (one left by an earlier run into the same folder keeps its mode on open, so the
    // mode is also set).
    let open = |name: &str, secret: bool| -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
        #[cfg(not(unix))]
        let _ = secret;
        let path = dir.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if secret {
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        }
        let file = options
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        #[cfg(unix)]
        if secret {
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .map_err(|e| anyhow::anyhow!("cannot restrict {}: {e}", path.display()))?;
        }
        Ok(std::io::BufWriter::new(file))
    };
    let mut nodes = open("nodes.csv", false)?;
    write_nodes_csv(&mut nodes, report)?;
    nodes.flush()?;
    let mut operations = open("operations.csv", false)?;
    write_operations_csv(&mut operations, report)?;
    operations.flush()?;
    let mut accounts = open("accounts_detail.csv", config.export_keys)?;
    write_accounts_csv(&mut accounts, workload, config.export_keys)?;
    accounts.flush()?;
    // summary.json last: its presence marks a complete results folder.
    let mut summary = open("summary.json", false)?;
    serde_json::to_writer_pretty(
        &mut summary,
        &summary_json(report, config, chain_id, thresholds),
    )?;
    summary.flush()?;
    Ok(())
}
