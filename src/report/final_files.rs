//! The files written once a run ends: `nodes.csv`, `operations.csv`, `accounts_detail.csv`,
//! `summary.json` and, drawn from them, `report.html` (schema: `assets/summary.schema.json`). Writers are generic over `Write`, so
//! tests check them in memory.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::csv_rows::{AccountRow, Fixed3, KeyColumn, NodeKey, OperationKey, op_columns};
use super::shard_file::{self, ShardFile};
use super::summary_json;
use super::thresholds::ThresholdResult;
use crate::config::RunConfig;
use crate::model::Direction;
use crate::protocol::Address;
use crate::report::RunReport;
use crate::workload::Workload;

/// `nodes.csv`: one row per node (POSTs and GETs apart), with target rates, offered, sent,
/// missed and confirmed.
pub fn write_nodes_csv(out: impl Write, report: &RunReport) -> csv::Result<()> {
    let secs = report.rate_seconds();
    let mut csv = csv::Writer::from_writer(out);
    for (node, removed) in report.pool.every_node() {
        let Some(stats) = report.stats.node(node.id) else {
            continue;
        };
        for direction in Direction::BOTH {
            let counters = node.counters.direction(direction);
            let key = NodeKey {
                node: node.label.clone(),
                url: node.url.clone(),
                direction: direction.as_str(),
                target_rate: node.rates[direction],
                offered: counters.offered.load(Ordering::Relaxed),
                sent: counters.sent.load(Ordering::Relaxed),
                missed: counters.missed.load(Ordering::Relaxed),
                confirmed: if direction == Direction::Post {
                    stats.confirmed
                } else {
                    0
                },
                removed_at_s: removed.map(|at| Fixed3(at.as_secs_f64())),
            };
            let (counts, errors, times) = op_columns(stats.direction(direction), secs);
            csv.serialize((key, counts, errors, times))?;
        }
    }
    csv.flush()?;
    Ok(())
}

/// `operations.csv`: one row per operation, all nodes merged.
pub fn write_operations_csv(out: impl Write, report: &RunReport) -> csv::Result<()> {
    let secs = report.rate_seconds();
    let mut csv = csv::Writer::from_writer(out);
    for (op, stats) in &report.stats.ops {
        let (counts, errors, times) = op_columns(stats, secs);
        let key = OperationKey {
            operation: op.as_str(),
        };
        csv.serialize((key, counts, errors, times))?;
    }
    csv.flush()?;
    Ok(())
}

/// `accounts_detail.csv`: the Go tool's columns plus the address; private keys only when
/// `export_keys` (the user asked with `--export-keys`).
pub fn write_accounts_csv(
    out: impl Write,
    workload: &Workload,
    export_keys: bool,
) -> anyhow::Result<()> {
    let plan = workload.plan();
    let wallets = workload.wallets();
    let status = workload.status();
    let token = status.token.map(|t| t.to_string()).unwrap_or_default();
    let observed = workload.observed_balances();
    let expected = workload.expected_balances();
    let balance = |address: Address| {
        observed
            .get(&address)
            .or_else(|| expected.get(&address))
            .copied()
            .unwrap_or_default()
    };
    let mut csv = csv::Writer::from_writer(out);
    let mut row = |wallet_tier: &'static str,
                   wallet_index: usize,
                   source_wallet: String,
                   address,
                   key: Option<String>|
     -> csv::Result<()> {
        let row = AccountRow {
            token_address: token.clone(),
            decimal: plan.decimals,
            balance: balance(address).to_string(),
            wallet_tier,
            wallet_index,
            source_wallet,
            address: address.to_string(),
        };
        if export_keys {
            let private_key = key.unwrap_or_default();
            csv.serialize((row, KeyColumn { private_key }))
        } else {
            csv.serialize(row)
        }
    };
    // A shard's wallets are a part of the run's: indices are the run's.
    let ranges = plan.own_ranges();
    let first = |range: &std::ops::Range<u32>| range.start as usize;
    let master = plan.master.address().to_string();
    for (i, signer) in wallets.mint.iter().enumerate() {
        row(
            "mint",
            first(&ranges.mint) + i,
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
            first(&ranges.transfer) + i,
            source,
            signer.address(),
            Some(signer.key().expose_hex()),
        )?;
    }
    let per_transfer = plan.distributions_per_transfer as usize;
    for (i, address) in wallets.distribution.iter().enumerate() {
        let source = wallets.transfer[i / per_transfer].address().to_string();
        let index = first(&ranges.distribution) + i;
        let key = if export_keys {
            let index = u32::try_from(index)?;
            Some(
                plan.seed
                    .key(crate::protocol::wallet::WalletTier::Distribution, index)?
                    .expose_hex(),
            )
        } else {
            None
        };
        row("distribution", index, source, *address, key)?;
    }
    csv.flush()?;
    Ok(())
}

/// Writes the end-of-run files into `dir`.
pub fn write_final_files(
    dir: &Path,
    report: &RunReport,
    config: &RunConfig,
    workload: &Workload,
    chain_id: Option<u64>,
    thresholds: &[ThresholdResult],
    aggregator: &crate::stats::Aggregator,
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
    write_nodes_csv(open("nodes.csv", false)?, report)?;
    write_operations_csv(open("operations.csv", false)?, report)?;
    if !config.scenario_toml.is_empty() {
        open("scenario.toml", false)?.write_all(config.scenario_toml.as_bytes())?;
    }
    if let Some(capacity) = &report.capacity {
        capacity.write_csv(open("capacity.csv", false)?)?;
    }
    write_accounts_csv(
        open("accounts_detail.csv", config.export_keys)?,
        workload,
        config.export_keys,
    )?;
    let identity = summary_json::RunIdentity::of_run(config, chain_id, report.status.token);
    write_summaries(&open, report, &identity, thresholds)?;
    // A shard's shard.json after summary.json: its presence marks a shard that finished.
    if let Some(shard) = ShardFile::of_run(report, &identity, aggregator) {
        let mut file = open(shard_file::FILE_NAME, false)?;
        serde_json::to_writer(&mut file, &shard)?;
        file.flush()?;
    }
    // Drawn from the files just written, as `stress-tui report DIR` would.
    super::html::write_report(dir)?;
    Ok(())
}

/// `summary.txt` (what the run printed) and `summary.json`, last: its presence marks a complete
/// results folder.
pub fn write_summaries<W: Write>(
    open: &impl Fn(&str, bool) -> anyhow::Result<W>,
    report: &RunReport,
    identity: &summary_json::RunIdentity,
    thresholds: &[ThresholdResult],
) -> anyhow::Result<()> {
    let mut text = open("summary.txt", false)?;
    writeln!(text, "{}", super::summary_text(report))?;
    text.flush()?;
    let mut summary = open("summary.json", false)?;
    serde_json::to_writer_pretty(
        &mut summary,
        &summary_json::summary(report, identity, thresholds),
    )?;
    summary.flush()?;
    Ok(())
}
