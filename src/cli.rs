//! The command line (clap derive): raw flags and subcommands. Validation into typed plans
//! happens in [`crate::config`]; nothing here does I/O.

use clap::{Args, Parser, Subcommand};

use crate::protocol::PayloadProfile;

/// Load tester for multi-node 1Money L1 clusters.
///
/// Runs the 1Money stress workload (issue a token, grant mint authority, mint, pay, verify)
/// through a pool of nodes, each with its own POST and GET rate. Keys come from files or
/// environment variables, never from arguments.
#[derive(Debug, Parser)]
#[command(name = "stress-tui", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// The stress run (no subcommand).
#[derive(Debug, Args)]
// Command-line switches are booleans by nature.
#[allow(clippy::struct_excessive_bools)]
pub struct RunArgs {
    /// Nodes to load, comma-separated: host:port or http(s)://host[:port]
    /// [default: 127.0.0.1:18555].
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub nodes: Vec<String>,
    /// Total POST (transaction) rate per second, split evenly over the nodes; 0 runs the
    /// read-only workload (nonce, balance and receipt reads over the wallets for --duration).
    #[arg(
        long,
        default_value = "100",
        value_name = "PER_SEC",
        allow_hyphen_values = true
    )]
    pub post_rate: String,
    /// Total GET (receipt, nonce, balance, checkpoint) rate per second, split evenly over the nodes.
    #[arg(
        long,
        default_value = "250",
        value_name = "PER_SEC",
        allow_hyphen_values = true
    )]
    pub get_rate: String,
    /// One node's rates instead of its even share: NODE=POST[/GET] (repeatable).
    #[arg(long = "node-rate", value_name = "NODE=POST[/GET]")]
    pub node_rates: Vec<String>,
    /// Start an embedded devnet of N nodes on 127.0.0.1 and load it (ignores --nodes).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub devnet: Option<String>,
    /// Run headless: progress lines on stderr, a summary on stdout.
    #[arg(long)]
    pub no_tui: bool,
    /// Operator key file (hex); or set `OPERATOR_PRIVATE_KEY`. Defaults to the devnet key with
    /// --devnet.
    #[arg(long, value_name = "PATH")]
    pub operator_key_file: Option<std::path::PathBuf>,
    /// Use this existing token instead of issuing one (its master key signs the grants).
    #[arg(long, value_name = "ADDRESS")]
    pub token: Option<String>,
    /// The token's master authority key file (hex); or set `MASTER_PRIVATE_KEY`. Defaults to
    /// the operator key.
    #[arg(long, value_name = "PATH")]
    pub master_key_file: Option<std::path::PathBuf>,
    /// Payload layout the nodes verify: current or legacy-2025.
    #[arg(long, default_value_t = PayloadProfile::Current)]
    pub profile: PayloadProfile,
    /// Which write surface to sign for: auto reads every node's /api/status before any traffic
    /// and takes v2 (domain-separated signatures) where every node accepts it, else v1; v1 or
    /// v2 force one (refused before traffic if a node does not take it).
    #[arg(long, value_enum, default_value_t = crate::model::SurfaceChoice::Auto)]
    pub write_surface: crate::model::SurfaceChoice,
    /// Memo type on every payment (v2 only), e.g. purpose/SALA; at most 128 bytes of
    /// A-Za-z0-9-._~:/?#[]@!$&'()*+,;=%.
    #[arg(
        long,
        value_name = "TYPE",
        default_value = "",
        hide_default_value = true,
        allow_hyphen_values = true
    )]
    pub memo_type: String,
    /// Memo format on every payment (v2 only), e.g. text/plain; at most 64 bytes, same
    /// characters as the type.
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "",
        hide_default_value = true,
        allow_hyphen_values = true
    )]
    pub memo_format: String,
    /// Memo data on every payment (v2 only): at most 256 bytes, no control characters.
    #[arg(
        long,
        value_name = "DATA",
        default_value = "",
        hide_default_value = true,
        allow_hyphen_values = true
    )]
    pub memo_data: String,
    /// A stage of the load phase (repeatable, in order): hold POST[/GET] total rates for
    /// DURATION (whole seconds), or with `ramp-to:` go there linearly, one change a second,
    /// e.g. --stage 30s:200/400 --stage 60s:ramp-to:800/1600 --stage 30s:200. The stages set
    /// the duration (sustained payments, or reads with --post-rate 0); GET stays if not given.
    #[arg(long = "stage", value_name = "DURATION:[ramp-to:]POST[/GET]")]
    pub stages: Vec<String>,
    /// Find the highest POST rate the cluster holds within every --slo: sustained payments from
    /// --post-rate, each step held for --step, the rate raised by --step-factor while the step
    /// holds, then two steps narrowing between the last good and the first bad rate. GETs keep
    /// their ratio to POSTs. Results in capacity.csv, summary.json and the summary.
    #[arg(long, conflicts_with_all = ["stages", "duration"])]
    pub find_capacity: bool,
    /// A service level a capacity step must hold (repeatable; the --threshold syntax), e.g.
    /// 'payment.p99<500ms', 'errors<1%'. Each node must also answer 98 % of its slots.
    #[arg(long = "slo", value_name = "EXPR", requires = "find_capacity")]
    pub slos: Vec<String>,
    /// How long each capacity step holds its rate.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub step: String,
    /// How much each capacity step raises the rate while the steps hold.
    #[arg(long, default_value = "1.25", value_name = "FACTOR")]
    pub step_factor: String,
    /// A capacity step whose send-time error p99 is above this was the generator's limit, not
    /// the cluster's (raise it on a busy or virtual machine).
    #[arg(long, default_value = "1ms", value_name = "DURATION")]
    pub generator_slack: String,
    /// Sustained mode: after funding, keep payments flowing this long (e.g. 90s, 10m, 1h); with
    /// --post-rate 0, how long the reads go on.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub duration: Option<String>,
    /// Mint wallets (each gets a mint allowance; at most 20 per token).
    #[arg(long, default_value = "20", allow_hyphen_values = true)]
    pub mint_wallets: String,
    /// Transfer wallets per mint wallet.
    #[arg(long, default_value = "100", allow_hyphen_values = true)]
    pub transfers_per_mint: String,
    /// Distribution wallets per transfer wallet.
    #[arg(long, default_value = "4", allow_hyphen_values = true)]
    pub distributions_per_transfer: String,
    /// Base units minted to each transfer wallet.
    #[arg(long, default_value = "1000000000", allow_hyphen_values = true)]
    pub mint_amount: String,
    /// Mint allowance granted to each mint wallet, in base units.
    #[arg(
        long,
        default_value = "1000000000000000000",
        allow_hyphen_values = true
    )]
    pub allowance: String,
    /// Token decimals (0 to 18).
    #[arg(long, default_value = "6", allow_hyphen_values = true)]
    pub decimals: String,
    /// Token symbol [default: 1USD + the Unix time in seconds, of --start-at when given].
    #[arg(long)]
    pub symbol: Option<String>,
    /// Token name.
    #[arg(long, default_value = "Stress Test Token")]
    pub token_name: String,
    /// Prefix of the deterministic wallet seeds (the Go tool's by default).
    #[arg(long, default_value = crate::protocol::wallet::DEFAULT_SEED_PREFIX)]
    pub wallet_seed: String,
    /// Unconfirmed transactions an account may have at once (1 = the Go tool's behaviour).
    #[arg(long, default_value = "1", allow_hyphen_values = true)]
    pub in_flight_per_account: String,
    /// Outstanding requests per node and direction before its slots are missed.
    #[arg(long, default_value = "1024", allow_hyphen_values = true)]
    pub max_in_flight: String,
    /// Request timeout (e.g. 10s, 500ms).
    #[arg(long, default_value = "10s", allow_hyphen_values = true)]
    pub request_timeout: String,
    /// How long an admitted transaction may take to show its receipt.
    #[arg(long, default_value = "30s", allow_hyphen_values = true)]
    pub confirm_timeout: String,
    /// How transactions are confirmed: receipts (a GET each: each one's success) or
    /// checkpoints (a GET per checkpoint: cheap at high rates; success shows in the verified
    /// balances).
    #[arg(long, value_enum, default_value_t = crate::model::ConfirmBy::Receipts)]
    pub confirm: crate::model::ConfirmBy,
    /// A down node's share of the load: keep (not sent; the others keep their rates) or
    /// redistribute (spread over the healthy nodes while it is down).
    #[arg(long, value_enum, default_value_t = crate::model::FailurePolicy::Keep)]
    pub on_node_failure: crate::model::FailurePolicy,
    /// End the run (results written, exit 1) when every node has been down this long.
    #[arg(
        long,
        default_value = "5m",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub max_outage: String,
    /// Allow a run against mainnet (chain id 21210).
    #[arg(long)]
    pub allow_mainnet: bool,
    /// Start the load at this time (RFC 3339 in UTC, e.g. 2026-12-01T20:00:00Z, or Unix
    /// seconds): setup (devnet, status and chain id reads, wallets) and funding (issue, grant,
    /// mint) happen first, then the run waits (phase `ready`); every generator given the same
    /// time starts together, and their per-second files are cut at the same seconds. Ready
    /// later than TIME + --start-tolerance: exit 4, the load not sent.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// How late after --start-at a run may still start.
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub start_tolerance: String,
    /// Run as shard I of N generators of one run (`auto/N`: I from `JOB_COMPLETION_INDEX`, as a
    /// Kubernetes Indexed Job sets it). Needs --start-at. Each shard offers 1/N of every rate
    /// (its slots interleaved with the others') and signs for its own part of every wallet tier;
    /// shard 0 issues the token and grants every mint wallet, the others wait until the chain
    /// shows their grants. `stress-tui merge` adds the shards' results into one.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Serve Prometheus metrics at `http://IP:PORT/metrics` during the run (counters by node
    /// and operation, latency histograms, target rates, phase), e.g. 0.0.0.0:9464.
    #[arg(long, value_name = "IP:PORT")]
    pub metrics_addr: Option<String>,
    /// How long /metrics stays up after the summary, so that the last scrape sees the final
    /// counts: at least the scrape interval.
    #[arg(
        long,
        default_value = "15s",
        value_name = "DURATION",
        requires = "metrics_addr"
    )]
    pub metrics_linger: String,
    /// Results folder [default: results/<UTC timestamp>; a shard's: results/<run id>/shard-<I>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
    /// A pass/fail threshold checked at the end (repeatable), e.g. 'payment.p99<250ms',
    /// 'errors<1%', '127.0.0.1:18555/post.p99<100ms', 'node1/post.p99<100ms' (a node by its
    /// position), 'payment.rate>=400'. Exit code 3 when any fails.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// At a time of the run (seconds from its start), do what a dashboard key does
    /// (repeatable): TIME:total=POST/GET, TIME:set=NODE=POST/GET, TIME:add=ADDRESS,
    /// TIME:remove=NODE, TIME:pause, TIME:resume, TIME:skip; NODE is node1.. or an address.
    /// With --devnet, TIME:knobs=N:{JSON} sets a fault knob of the run's devnet node N (counted
    /// from 1, as node1..), e.g. `12s:knobs=2:{"latency_ms":50}`. `stress-tui replay DIR`
    /// writes a run's live changes as these.
    #[arg(long = "at", value_name = "TIME:ACTION")]
    pub actions: Vec<String>,
    /// Read the run's flags from a TOML file, one key per flag without its dashes
    /// (`post-rate = 500`, `nodes = ["a:18555", "b:18555"]`, `stage = ["30s:200"]`); flags
    /// given here replace the file's. assets/scenarios/ has examples.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<std::path::PathBuf>,
    /// The command line the run was given, with its scenario read in (set by the binary).
    #[arg(skip)]
    pub effective_args: Vec<String>,
    /// Write wallet private keys into `accounts_detail.csv` (they are secrets: the file is
    /// created readable by its owner only).
    #[arg(long)]
    pub export_keys: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start an embedded, strict 1Money-compatible cluster on 127.0.0.1 (until Ctrl-C).
    Devnet(crate::devnet::cli::DevnetArgs),
    /// Merge the results folders of the N shards of one run (--shard I/N) into one results
    /// folder, as if one process had run it: histograms added exactly, counters summed.
    Merge(MergeArgs),
    /// Print the Kubernetes manifests of a run spread over N shards: an Indexed Job of N pods
    /// (keys from a Secret, results to a shared volume, one --start-at), a Job that merges
    /// their results, a pod to copy them out, and the commands to follow it.
    #[command(name = "k8s-job")]
    K8sJob(Box<K8sJobArgs>),
    /// Print a finished run as a scenario that repeats it headless: its flags (scenario.toml)
    /// and its live changes (rates, nodes added or removed, pauses) from events.log as --at
    /// actions. Run it with `stress-tui --scenario FILE`.
    Replay(FolderArgs),
    /// Write report.html into a finished results folder (a run's or a merge's) from its
    /// files: one self-contained page of charts and tables, readable offline. Every run and
    /// merge already writes it; this draws it again (an older folder, a moved one).
    Report(FolderArgs),
}

/// `stress-tui replay` and `stress-tui report`: a finished results folder.
#[derive(Debug, Args)]
pub struct FolderArgs {
    /// The run's results folder.
    #[arg(value_name = "DIR")]
    pub dir: std::path::PathBuf,
}

/// `stress-tui k8s-job`.
#[derive(Debug, Args)]
pub struct K8sJobArgs {
    /// How many shards (pods) share the run's load and wallets.
    #[arg(long, value_name = "N")]
    pub shards: String,
    /// The container image holding the stress-tui binary (on its PATH).
    #[arg(long, value_name = "IMAGE")]
    pub image: String,
    /// Name of the Job and prefix of the other objects (a DNS label).
    #[arg(long, default_value = "stress-tui", value_name = "NAME")]
    pub name: String,
    /// Namespace of every object [default: kubectl's].
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// The load starts this long after the manifests are printed: time enough to schedule
    /// the pods, pull the image and fund the wallets.
    #[arg(long, default_value = "2m", value_name = "DURATION")]
    pub start_in: String,
    /// The load starts at this time instead (RFC 3339 or Unix seconds).
    #[arg(long, value_name = "TIME", conflicts_with = "start_in")]
    pub start_at: Option<String>,
    /// The Secret holding the keys: `operator` (and optionally `master`), as hex.
    #[arg(long, default_value = "stress-tui-keys", value_name = "SECRET")]
    pub keys_secret: String,
    /// Storage class of the shared results volume (`ReadWriteMany`) [default: the cluster's].
    #[arg(long, value_name = "CLASS")]
    pub storage_class: Option<String>,
    /// Size of the shared results volume.
    #[arg(long, default_value = "1Gi", value_name = "SIZE")]
    pub storage: String,
    /// CPU each shard's pod requests (and is limited to): a generator needs its cores.
    #[arg(long, default_value = "2", value_name = "CPU")]
    pub cpu: String,
    /// Memory each shard's pod requests (and is limited to).
    #[arg(long, default_value = "1Gi", value_name = "SIZE")]
    pub memory: String,
    /// The image of the pod that keeps the results volume mounted for `kubectl cp` (it needs
    /// `sleep` and `tar`).
    #[arg(long, default_value = "busybox:1.36", value_name = "IMAGE")]
    pub reader_image: String,
    /// The run's flags, after `--`: as for a run, without --shard, --start-at, --out,
    /// --no-tui or key files (the manifests set them). --threshold goes to the merge.
    #[arg(last = true, required = true, value_name = "RUN FLAGS")]
    pub run: Vec<String>,
}

/// `stress-tui merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' results folders (results/<run id>/shard-*), or the run's folder holding
    /// them (results/<run id>). Exit codes as a run's: 2 when the folders are not the N
    /// finished shards of one run (nothing is written).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<std::path::PathBuf>,
    /// The merged results folder (created; must not hold a run already).
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
    /// A pass/fail threshold evaluated on the merged data (repeatable; as for a run). Exit
    /// code 3 when any fails.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// Wait this long for every shard to finish (a folder's shard.json) before merging, e.g.
    /// 15m (a merge started beside the shards, as `k8s-job` does).
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub wait: String,
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
