//! `summary.json` as typed structs: the shape `assets/summary.schema.json` describes (a test
//! validates a real run's file against it). Built from a [`RunReport`] and the run's config;
//! nothing here reads a clock or a file.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use super::RunReport;
use super::thresholds::ThresholdResult;
use crate::client::ErrorClass;
use crate::config::RunConfig;
use crate::engine::{DirectionCounters, Health};
use crate::model::{ConfirmBy, Direction, FailurePolicy, PerDirection, Phase, SurfaceChoice};
use crate::protocol::{Address, Memo, NodeWriteMode, PayloadProfile, WriteSurface};
use crate::report::Ending;
use crate::stats::{OpSnapshot, Percentiles};
use crate::workload::TransactionCounts;

#[derive(Serialize)]
pub struct Summary<'a> {
    pub tool: &'static str,
    pub version: &'static str,
    pub ending: Ending,
    pub elapsed_s: f64,
    pub failure: Option<&'a str>,
    /// With `--start-at`: the time asked for and how late the load started.
    pub start: Option<StartJson>,
    pub shard: Option<&'a ShardJson>,
    pub merged: Option<&'a MergedJson>,
    pub config: &'a ConfigJson,
    pub write_surface: SurfaceJson<'a>,
    pub phases: Vec<PhaseJson>,
    pub generator: GeneratorJson,
    pub transactions: &'a TransactionCounts,
    pub nodes: Vec<NodeJson<'a>>,
    pub operations: BTreeMap<&'static str, OpJson<'a>>,
    pub error_codes: &'a BTreeMap<String, u64>,
    pub send_error: PerDirection<PercentilesJson>,
    pub verify: VerifyJson,
    pub thresholds: &'a [ThresholdResult],
    pub dropped_samples: u64,
    /// With `--find-capacity`: the steps and the verdict.
    pub capacity: Option<&'a super::capacity::CapacityReport>,
}

#[derive(Serialize)]
pub struct StartJson {
    pub at: String,
    pub at_unix_s: f64,
    /// When the run's second 0 began: a whole number of seconds before `at`.
    pub zero_unix_s: f64,
    /// How late the load began (`null`: it did not).
    pub skew_ms: Option<f64>,
}

/// With `--shard`: which shard this folder is, of which run, and the wallets it signed for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardJson {
    pub index: u32,
    pub count: u32,
    pub run_id: String,
    pub wallets: crate::workload::WalletRanges,
}

/// The run's settings; never keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigJson {
    pub nodes: Vec<String>,
    pub devnet: Option<usize>,
    pub post_rate: u32,
    pub get_rate: u32,
    pub profile: PayloadProfile,
    pub chain_id: Option<u64>,
    pub duration_s: Option<f64>,
    pub mint_wallets: u32,
    pub transfers_per_mint: u32,
    pub distributions_per_transfer: u32,
    pub mint_amount: String,
    pub allowance: String,
    pub decimals: u8,
    pub symbol: String,
    pub token: Option<Address>,
    pub wallet_seed_prefix: String,
    pub on_node_failure: FailurePolicy,
    pub max_outage_s: f64,
    pub in_flight_per_account: u32,
    pub max_in_flight: u32,
    pub request_timeout_s: f64,
    pub confirm_timeout_s: f64,
    pub confirm: ConfirmBy,
    pub write_surface: SurfaceChoice,
    pub memo: Option<Memo>,
}

/// What the summary says of the run itself: its settings, and which shard it is (or which
/// shards were merged into it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub config: ConfigJson,
    pub shard: Option<ShardJson>,
    pub merged: Option<MergedJson>,
}

impl RunIdentity {
    /// A run's identity from its config.
    #[must_use]
    pub fn of_run(config: &RunConfig, chain_id: Option<u64>, token: Option<Address>) -> Self {
        Self {
            config: ConfigJson::new(config, chain_id, token),
            shard: config.sharding.as_ref().map(|s| ShardJson {
                index: s.shard.index,
                count: s.shard.count,
                run_id: s.run_id.clone(),
                wallets: crate::workload::WalletRanges::of(
                    s.shard.range_of(config.mint_wallets),
                    config.transfers_per_mint,
                    config.distributions_per_transfer,
                ),
            }),
            merged: None,
        }
    }
}

/// A results folder merged from the shards of one run (`stress-tui merge`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergedJson {
    pub run_id: String,
    pub shards: Vec<MergedShardJson>,
}

/// One merged shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergedShardJson {
    pub index: u32,
    pub folder: String,
    pub ending: Ending,
    pub skew_ms: Option<f64>,
}

#[derive(Serialize)]
pub struct SurfaceJson<'a> {
    /// `None` in a read-only run.
    pub surface: Option<WriteSurface>,
    pub choice: SurfaceChoice,
    pub refusals: u64,
    pub events: Vec<EventJson<'a>>,
    pub nodes: Vec<NodeSurfaceJson<'a>>,
}

#[derive(Serialize)]
pub struct EventJson<'a> {
    pub at_s: f64,
    pub text: &'a str,
}

#[derive(Serialize)]
pub struct NodeSurfaceJson<'a> {
    pub label: &'a str,
    pub mode: Option<NodeWriteMode>,
    pub surface: Option<WriteSurface>,
}

#[derive(Serialize)]
pub struct PhaseJson {
    pub phase: Phase,
    pub duration_s: f64,
    pub total: u64,
    pub confirmed: u64,
    pub failed: u64,
    pub cpu_s: Option<f64>,
    pub signing_cpu_s: f64,
}

/// What the generator process cost (Linux; `None` elsewhere).
#[derive(Serialize)]
pub struct GeneratorJson {
    pub cpu_s: Option<f64>,
    pub peak_rss_kib: Option<u64>,
}

#[derive(Serialize)]
pub struct NodeJson<'a> {
    /// When the node was removed during the run (seconds on its clock); absent for the nodes
    /// in the pool at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_at_s: Option<f64>,
    pub label: &'a str,
    pub url: &'a str,
    pub health: Health,
    pub target_rates: PerDirection<u32>,
    pub effective_rates: PerDirection<u32>,
    pub post: OpJson<'a>,
    pub get: OpJson<'a>,
    pub post_pacing: PacingJson,
    pub get_pacing: PacingJson,
    pub confirmed: u64,
    pub operations: BTreeMap<&'static str, OpJson<'a>>,
}

#[derive(Serialize)]
pub struct PacingJson {
    pub offered: u64,
    pub sent: u64,
    pub missed: u64,
    pub unfilled: u64,
    pub send_error: PercentilesJson,
}

impl PacingJson {
    fn new(counters: &DirectionCounters, send_error: &Percentiles) -> Self {
        Self {
            offered: counters.offered.load(Ordering::Relaxed),
            sent: counters.sent.load(Ordering::Relaxed),
            missed: counters.missed.load(Ordering::Relaxed),
            unfilled: counters.unfilled.load(Ordering::Relaxed),
            send_error: PercentilesJson::from(send_error),
        }
    }
}

#[derive(Serialize)]
pub struct OpJson<'a> {
    pub count: u64,
    pub ok: u64,
    pub errors: &'a BTreeMap<ErrorClass, u64>,
    pub latency: PercentilesJson,
    pub service: PercentilesJson,
}

impl<'a> From<&'a OpSnapshot> for OpJson<'a> {
    fn from(op: &'a OpSnapshot) -> Self {
        Self {
            count: op.count,
            ok: op.ok,
            errors: &op.errors,
            latency: PercentilesJson::from(&op.latency),
            service: PercentilesJson::from(&op.service),
        }
    }
}

/// Percentiles in microseconds.
#[derive(Serialize)]
pub struct PercentilesJson {
    pub count: u64,
    pub min_us: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    pub mean_us: u64,
}

impl From<&Percentiles> for PercentilesJson {
    fn from(p: &Percentiles) -> Self {
        Self {
            count: p.count,
            min_us: p.min,
            p50_us: p.p50,
            p90_us: p.p90,
            p99_us: p.p99,
            p999_us: p.p999,
            max_us: p.max,
            mean_us: p.mean,
        }
    }
}

#[derive(Serialize)]
pub struct VerifyJson {
    pub checked: u64,
    pub matched: u64,
    pub mismatched: u64,
    pub unread: u64,
    pub expected_supply: String,
    pub reported_supply: Option<String>,
}

impl ConfigJson {
    fn new(config: &RunConfig, chain_id: Option<u64>, token: Option<Address>) -> Self {
        Self {
            nodes: config.nodes.iter().map(|n| n.url.clone()).collect(),
            devnet: config.devnet,
            post_rate: config.post_rate,
            get_rate: config.get_rate,
            profile: config.profile,
            chain_id,
            duration_s: config.duration.map(|d| d.as_secs_f64()),
            mint_wallets: config.mint_wallets,
            transfers_per_mint: config.transfers_per_mint,
            distributions_per_transfer: config.distributions_per_transfer,
            mint_amount: config.mint_amount.to_string(),
            allowance: config.allowance.to_string(),
            decimals: config.decimals,
            symbol: config.symbol.clone(),
            token,
            wallet_seed_prefix: config.wallet_seed.prefix().to_owned(),
            on_node_failure: config.on_node_failure,
            max_outage_s: config.max_outage.as_secs_f64(),
            in_flight_per_account: config.in_flight_per_account,
            max_in_flight: config.max_in_flight,
            request_timeout_s: config.request_timeout.as_secs_f64(),
            confirm_timeout_s: config.confirm_timeout.as_secs_f64(),
            confirm: config.confirm,
            write_surface: config.write_surface,
            memo: (!config.memo.is_empty()).then(|| config.memo.clone()),
        }
    }
}

impl<'a> SurfaceJson<'a> {
    fn new(report: &'a RunReport) -> Self {
        let status = &report.status;
        let surface_nodes = report
            .pool
            .nodes
            .iter()
            .map(|node| {
                let known = status.node_surfaces.iter().find(|s| s.node == node.id);
                NodeSurfaceJson {
                    label: &node.label,
                    mode: known.and_then(|s| s.mode),
                    surface: known.map_or(Some(status.write_surface), |s| s.surface),
                }
            })
            .collect();
        Self {
            surface: (!status.read_only).then_some(status.write_surface),
            choice: status.surface_choice,
            refusals: status.surface_refusals,
            events: status
                .events
                .iter()
                .map(|(at, text)| EventJson {
                    at_s: at.as_secs_f64(),
                    text,
                })
                .collect(),
            nodes: surface_nodes,
        }
    }
}

fn operations(ops: &BTreeMap<crate::model::Op, OpSnapshot>) -> BTreeMap<&'static str, OpJson<'_>> {
    ops.iter()
        .map(|(op, s)| (op.as_str(), OpJson::from(s)))
        .collect()
}

/// `summary.json`: the config (no secrets), phases, per-node and per-operation results with
/// full percentiles, verify and thresholds.
#[must_use]
pub fn summary<'a>(
    report: &'a RunReport,
    identity: &'a RunIdentity,
    thresholds: &'a [ThresholdResult],
) -> Summary<'a> {
    let status = &report.status;
    let stats = &report.stats;
    let nodes = report
        .pool
        .every_node()
        .filter_map(|(node, removed)| {
            let own = stats.node(node.id)?;
            Some(NodeJson {
                removed_at_s: removed.map(|at| at.as_secs_f64()),
                label: &node.label,
                url: &node.url,
                health: node.health(),
                target_rates: node.rates,
                effective_rates: node.effective,
                post: OpJson::from(&own.post),
                get: OpJson::from(&own.get),
                post_pacing: PacingJson::new(&node.counters.post, &own.send_error[Direction::Post]),
                get_pacing: PacingJson::new(&node.counters.get, &own.send_error[Direction::Get]),
                confirmed: own.confirmed,
                operations: operations(&own.ops),
            })
        })
        .collect();
    Summary {
        tool: "stress-tui",
        version: env!("CARGO_PKG_VERSION"),
        ending: report.ending,
        elapsed_s: report.elapsed.as_secs_f64(),
        failure: status.failure.as_deref(),
        start: report.start.map(|s| {
            let unix_s = |t: std::time::SystemTime| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64())
            };
            StartJson {
                at: humantime::format_rfc3339_millis(s.at).to_string(),
                at_unix_s: unix_s(s.at),
                zero_unix_s: unix_s(s.zero),
                skew_ms: s.skew_ms,
            }
        }),
        shard: identity.shard.as_ref(),
        merged: identity.merged.as_ref(),
        config: &identity.config,
        write_surface: SurfaceJson::new(report),
        phases: status
            .reports
            .iter()
            .map(|p| PhaseJson {
                phase: p.phase,
                duration_s: p.duration.as_secs_f64(),
                total: p.total,
                confirmed: p.confirmed,
                failed: p.failed,
                cpu_s: p.cpu.map(|c| c.as_secs_f64()),
                signing_cpu_s: p.signing_cpu.as_secs_f64(),
            })
            .collect(),
        generator: GeneratorJson {
            cpu_s: report.generator.cpu.map(|c| c.as_secs_f64()),
            peak_rss_kib: report.generator.peak_rss_kib,
        },
        transactions: &status.transactions,
        nodes,
        operations: operations(&stats.ops),
        error_codes: &stats.error_codes,
        send_error: PerDirection::from_fn(|d| PercentilesJson::from(&stats.send_error[d])),
        verify: VerifyJson {
            checked: status.verify.checked,
            matched: status.verify.matched,
            mismatched: status.verify.mismatched,
            unread: status.verify.unread,
            expected_supply: status.verify.expected_supply.to_string(),
            reported_supply: status.verify.reported_supply.map(|s| s.to_string()),
        },
        thresholds,
        dropped_samples: stats.dropped_samples,
        capacity: report.capacity.as_ref(),
    }
}
