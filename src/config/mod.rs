//! Validated plans: what the engine and the devnet run from. Parsing happened in
//! [`crate::cli`]; here values are checked and turned into types, with errors that name the
//! flag and what would be valid. No I/O beyond reading key files.

use std::time::Duration;

use crate::cli::RunArgs;
use crate::model::{NodeTarget, UsageError, parse_node};
use crate::protocol::wallet::WalletSeed;
use crate::protocol::{Address, Memo, PayloadProfile, PrivateKey, U256};
pub mod actions;
pub mod scenario;
mod stages;
mod thresholds;
mod values;

pub use stages::{Stage, StageKind, rates_at};
pub use thresholds::{Compare, Scope, Stat, Threshold, node_position, parse_threshold};

pub use values::{MAX_TOTAL_RATE, parse_duration};

/// `--start-at`'s value: RFC 3339 in UTC or Unix seconds.
pub fn parse_start_at(text: &str) -> Result<std::time::SystemTime, UsageError> {
    start_at(text)
}
use values::{
    amount, count, max_outage, memo_from_args, metrics_addr, metrics_linger, number,
    parse_run_duration, parse_symbol, parse_token, start_at, timeout,
};

/// A validated stress run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub nodes: Vec<NodeTarget>,
    pub post_rate: u32,
    pub get_rate: u32,
    /// Per-node overrides: (index into `nodes`, post, get).
    pub node_rates: Vec<(usize, u32, Option<u32>)>,
    pub devnet: Option<usize>,
    pub no_tui: bool,
    pub operator_key: PrivateKey,
    pub master_key: PrivateKey,
    pub token: Option<Address>,
    pub profile: PayloadProfile,
    /// `--write-surface`: the surface is chosen from it and the nodes' status before traffic.
    pub write_surface: crate::model::SurfaceChoice,
    /// The memo of every payment (empty: none).
    pub memo: Memo,
    pub duration: Option<Duration>,
    /// `--stage`s: the load phase's total rates over time (they set `duration`).
    pub stages: Vec<Stage>,
    /// `--find-capacity`: the search's service levels and steps.
    pub capacity: Option<CapacitySearch>,
    /// `--at`: live changes at times of the run, as the dashboard's keys make them.
    pub actions: Vec<actions::TimedAction>,
    pub mint_wallets: u32,
    pub transfers_per_mint: u32,
    pub distributions_per_transfer: u32,
    pub mint_amount: U256,
    pub allowance: U256,
    pub decimals: u8,
    pub symbol: String,
    pub token_name: String,
    pub wallet_seed: WalletSeed,
    pub in_flight_per_account: u32,
    pub max_in_flight: u32,
    pub request_timeout: Duration,
    pub confirm_timeout: Duration,
    pub confirm: crate::model::ConfirmBy,
    pub max_outage: Duration,
    pub on_node_failure: crate::model::FailurePolicy,
    pub allow_mainnet: bool,
    pub out: Option<std::path::PathBuf>,
    /// `--start-at`: when the load starts, and how late it may still start.
    pub start_at: Option<std::time::SystemTime>,
    pub start_tolerance: Duration,
    /// `--metrics-addr`: where `/metrics` is served, if anywhere.
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub metrics_linger: Duration,
    /// `--shard I/N`: this process is one shard of a run spread over N generators.
    pub sharding: Option<Sharding>,
    pub thresholds: Vec<Threshold>,
    pub export_keys: bool,
    /// The flags the run was given as a scenario file (`scenario.toml`); empty when unknown.
    pub scenario_toml: String,
    /// Keep every send's times (tests and benches; not a flag).
    pub send_log: Option<std::sync::Arc<crate::engine::SendLog>>,
}

/// `--find-capacity`: what each step must hold, how long, and how fast the rate rises.
#[derive(Clone, Debug)]
pub struct CapacitySearch {
    pub slos: Vec<Threshold>,
    pub step: Duration,
    pub factor: f64,
    /// A step whose send-time error p99 is above this was the generator's limit.
    pub generator_slack: Duration,
}

impl CapacitySearch {
    /// The most steps a search takes: rising, then narrowing.
    pub const MAX_STEPS: u32 = 24;
    /// After a step, answers to its last slots are awaited this long before it is judged.
    pub const SETTLE: Duration = Duration::from_secs(2);

    /// An upper bound of the search's length.
    #[must_use]
    pub fn longest(&self) -> Duration {
        (self.step + Self::SETTLE) * Self::MAX_STEPS
    }
}

/// One shard of a run (`--shard`), and the run it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sharding {
    pub shard: crate::model::Shard,
    /// The same for every shard given the same flags (see [`run_id`]): `merge` refuses
    /// folders of different runs.
    pub run_id: String,
}

/// A run's id, from what its shards must share: the start time, the shard count, the nodes,
/// the total rates, the token, the wallet seed and sizes, the duration. 12 hex digits of their
/// SHA-256.
fn run_id(config: &RunConfig, count: u32) -> String {
    use sha2::Digest;
    let at = config
        .start_at
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    let nodes: Vec<&str> = config.nodes.iter().map(|n| n.url.as_str()).collect();
    let canonical = format!(
        "{at}|{count}|{}|{}|{}|{}|{:?}|{}|{}|{}|{}|{:?}",
        nodes.join(","),
        config.post_rate,
        config.get_rate,
        config.symbol,
        config.token,
        config.wallet_seed.prefix(),
        config.mint_wallets,
        config.transfers_per_mint,
        config.distributions_per_transfer,
        config.duration,
    );
    hex::encode(&sha2::Sha256::digest(canonical.as_bytes())[..6])
}

impl RunConfig {
    /// `--post-rate 0`: the read-only workload.
    #[must_use]
    pub fn read_only(&self) -> bool {
        self.post_rate == 0
    }

    #[allow(clippy::type_complexity)]
    fn pool_from_args(
        args: &RunArgs,
    ) -> Result<
        (
            Option<usize>,
            Vec<NodeTarget>,
            u32,
            u32,
            Vec<(usize, u32, Option<u32>)>,
        ),
        UsageError,
    > {
        let devnet = args
            .devnet
            .as_deref()
            .map(|n| {
                number::<usize>("--devnet", n, "a node count from 1 to 64", |n| {
                    (1..=64).contains(n)
                })
            })
            .transpose()?;
        let mut nodes = Vec::new();
        if devnet.is_none() {
            let given: Vec<&str> = if args.nodes.is_empty() {
                vec!["127.0.0.1:18555"]
            } else {
                args.nodes.iter().map(String::as_str).collect()
            };
            for text in given {
                let node =
                    parse_node(text).map_err(|e| UsageError::new(format!("--nodes: {e}")))?;
                if nodes.iter().any(|n: &NodeTarget| n.url == node.url) {
                    return Err(UsageError::new(format!(
                        "--nodes: {} is listed twice",
                        node.label
                    )));
                }
                nodes.push(node);
            }
        } else if !args.nodes.is_empty() {
            return Err(UsageError::new(
                "--nodes and --devnet conflict: --devnet loads its own nodes",
            ));
        }
        let rate = |flag: &str, text: &str| {
            number::<u32>(
                flag,
                text,
                &format!("a whole number of requests per second from 1 to {MAX_TOTAL_RATE}"),
                |r| (1..=MAX_TOTAL_RATE).contains(r),
            )
        };
        // 0 POSTs a second is the read-only workload.
        let post_rate = number::<u32>(
            "--post-rate",
            &args.post_rate,
            &format!(
                "a whole number of requests per second from 0 (reads only) to {MAX_TOTAL_RATE}"
            ),
            |r| *r <= MAX_TOTAL_RATE,
        )?;
        let get_rate = rate("--get-rate", &args.get_rate)?;
        let mut node_rates = Vec::new();
        for setting in &args.node_rates {
            let bad = |why: &str| UsageError::new(format!("--node-rate `{setting}`: {why}"));
            let (node, rates) = setting
                .rsplit_once('=')
                .ok_or_else(|| bad("expected NODE=POST[/GET], e.g. 127.0.0.1:18555=200/400"))?;
            let target = parse_node(node).map_err(|e| bad(&e))?;
            let index = nodes
                .iter()
                .position(|n| n.url == target.url)
                .ok_or_else(|| bad(&format!("{} is not in --nodes", target.label)))?;
            let (post, get) = match rates.split_once('/') {
                Some((post, get)) => (post, Some(get)),
                None => (rates, None),
            };
            let per_node = |text: &str| {
                number::<u32>("--node-rate", text, "a rate from 0 to 1000000", |r| {
                    *r <= MAX_TOTAL_RATE
                })
            };
            node_rates.push((index, per_node(post)?, get.map(per_node).transpose()?));
        }
        Ok((devnet, nodes, post_rate, get_rate, node_rates))
    }

    /// The operator and master keys. `stand_in` (a devnet run, or a read-only run, which signs
    /// nothing) lets the devnet's well-known key stand in when none is given.
    fn keys_from_args(
        args: &RunArgs,
        stand_in: bool,
    ) -> Result<(PrivateKey, PrivateKey), UsageError> {
        let operator_key = match (&args.operator_key_file, stand_in) {
            (Some(path), _) => PrivateKey::from_file(path)
                .map_err(|e| UsageError::new(format!("--operator-key-file: {e}")))?,
            (None, _) if std::env::var_os("OPERATOR_PRIVATE_KEY").is_some() => {
                PrivateKey::from_env("OPERATOR_PRIVATE_KEY")
                    .map_err(|e| UsageError::new(e.to_string()))?
            }
            (None, true) => crate::devnet::operator_key(),
            (None, false) => {
                return Err(UsageError::new(
                    "no operator key: pass --operator-key-file PATH or set OPERATOR_PRIVATE_KEY (with --devnet, or --post-rate 0, none is needed)",
                ));
            }
        };
        let master_key = match &args.master_key_file {
            Some(path) => PrivateKey::from_file(path)
                .map_err(|e| UsageError::new(format!("--master-key-file: {e}")))?,
            None if std::env::var_os("MASTER_PRIVATE_KEY").is_some() => {
                PrivateKey::from_env("MASTER_PRIVATE_KEY")
                    .map_err(|e| UsageError::new(e.to_string()))?
            }
            None => operator_key.clone(),
        };
        Ok((operator_key, master_key))
    }

    /// Parses `--threshold`s; a node one names must be in the run (by address from `--nodes`,
    /// or by position, `node1`), so that a typo fails before any traffic, not after the run.
    fn thresholds_from_args(
        args: &RunArgs,
        devnet: Option<usize>,
        nodes: &[NodeTarget],
    ) -> Result<Vec<Threshold>, UsageError> {
        let count = devnet.unwrap_or(nodes.len());
        let mut thresholds = Vec::new();
        for text in &args.thresholds {
            let mut threshold = parse_threshold(text).map_err(UsageError::new)?;
            if let Some(name) = &threshold.node {
                let bad = |why: String| UsageError::new(format!("--threshold `{text}`: {why}"));
                match node_position(name) {
                    Some(position) if position > count => {
                        return Err(bad(format!("the run has {count} node(s), not {position}")));
                    }
                    Some(_) => {}
                    None if devnet.is_some() => {
                        return Err(bad(format!(
                            "--devnet picks its nodes' ports at start; name a node by position, e.g. node1/{}",
                            text.rsplit_once('/')
                                .map_or(text.as_str(), |(_, metric)| metric)
                        )));
                    }
                    None => {
                        let target = parse_node(name).map_err(&bad)?;
                        let Some(node) = nodes.iter().find(|n| n.url == target.url) else {
                            return Err(bad(format!(
                                "{} is not in --nodes (or name a node by position: node1..node{count})",
                                target.label
                            )));
                        };
                        // As the run labels it (`localhost:1` and `http://localhost:1` alike),
                        // so that the verdict finds the node this check found.
                        threshold.node = Some(node.label.clone());
                    }
                }
            }
            thresholds.push(threshold);
        }
        Ok(thresholds)
    }

    /// `--find-capacity` with its `--slo`s, `--step` and `--step-factor`.
    fn capacity_from_args(
        args: &RunArgs,
        post_rate: u32,
    ) -> Result<Option<CapacitySearch>, UsageError> {
        if !args.find_capacity {
            return Ok(None);
        }
        if post_rate == 0 {
            return Err(UsageError::new(
                "--find-capacity searches a POST rate: give the first step's as --post-rate (above 0)",
            ));
        }
        if args.slos.is_empty() {
            return Err(UsageError::new(
                "--find-capacity needs at least one --slo, e.g. --slo 'payment.p99<500ms' --slo 'errors<1%'",
            ));
        }
        let mut slos = Vec::new();
        for text in &args.slos {
            let slo = parse_threshold(text)
                .map_err(|e| UsageError::new(e.replacen("--threshold", "--slo", 1)))?;
            if slo.node.is_some() {
                return Err(UsageError::new(format!(
                    "--slo `{text}`: every node is held to each SLO; leave the node out"
                )));
            }
            slos.push(slo);
        }
        let step = parse_duration(&args.step)
            .ok()
            .filter(|d| *d >= Duration::from_secs(2))
            .ok_or_else(|| {
                UsageError::new(format!(
                    "--step `{}`: expected a duration of at least 2s",
                    args.step
                ))
            })?;
        let factor = args
            .step_factor
            .parse::<f64>()
            .ok()
            .filter(|f| (1.01..=4.0).contains(f))
            .ok_or_else(|| {
                UsageError::new(format!(
                    "--step-factor `{}`: expected a number from 1.01 to 4",
                    args.step_factor
                ))
            })?;
        let generator_slack = parse_duration(&args.generator_slack).map_err(|e| {
            UsageError::new(format!("--generator-slack `{}`: {e}", args.generator_slack))
        })?;
        Ok(Some(CapacitySearch {
            slos,
            step,
            factor,
            generator_slack,
        }))
    }

    /// The load phase's shape: `--duration`, or the `--stage`s that set it, or the capacity
    /// search, which ends the load itself (its duration only bounds it).
    #[allow(clippy::type_complexity)]
    fn load_from_args(
        args: &RunArgs,
        post_rate: u32,
    ) -> Result<(Option<Duration>, Vec<Stage>, Option<CapacitySearch>), UsageError> {
        let capacity = Self::capacity_from_args(args, post_rate)?;
        let stages = args
            .stages
            .iter()
            .map(|text| stages::parse_stage(text))
            .collect::<Result<Vec<_>, _>>()?;
        let mut duration = args
            .duration
            .as_deref()
            .map(parse_run_duration)
            .transpose()?;
        if !stages.is_empty() {
            if duration.is_some() {
                return Err(UsageError::new(format!(
                    "--stage and --duration conflict: the stages set the load's duration ({} s)",
                    stages::total(&stages).as_secs()
                )));
            }
            if post_rate == 0 && stages.iter().any(|s| s.post > 0) {
                return Err(UsageError::new(
                    "--stage: a read-only run (--post-rate 0) sends no POSTs; give its stages as 0/GET",
                ));
            }
            duration = Some(stages::total(&stages));
        }
        if let Some(search) = &capacity {
            duration = Some(search.longest());
        }
        Ok((duration, stages, capacity))
    }

    /// Validates the run flags; every error names the flag and what would be valid.
    pub fn from_args(args: &RunArgs) -> Result<Self, UsageError> {
        Self::build(args, false)
    }

    /// Validates the flags of a run that will run elsewhere (`k8s-job`): keys are not needed
    /// here (the pods read theirs from a Secret), the devnet's stands in when none is given.
    pub fn check_flags(args: &RunArgs) -> Result<Self, UsageError> {
        Self::build(args, true)
    }

    fn build(args: &RunArgs, keys_elsewhere: bool) -> Result<Self, UsageError> {
        let (devnet, nodes, post_rate, get_rate, node_rates) = Self::pool_from_args(args)?;
        let thresholds = Self::thresholds_from_args(args, devnet, &nodes)?;
        let (operator_key, master_key) =
            Self::keys_from_args(args, keys_elsewhere || devnet.is_some() || post_rate == 0)?;
        let token = args.token.as_deref().map(parse_token).transpose()?;
        let (duration, stages, capacity) = Self::load_from_args(args, post_rate)?;
        if post_rate == 0 && duration.is_none() {
            return Err(UsageError::new(
                "--post-rate 0 runs the read-only workload, which needs --duration (e.g. --duration 60s)",
            ));
        }
        let mint_wallets = count(
            "--mint-wallets",
            &args.mint_wallets,
            u32::try_from(crate::devnet::MAX_MINT_AUTHORITIES).unwrap_or(u32::MAX),
        )?;
        let transfers_per_mint = count("--transfers-per-mint", &args.transfers_per_mint, 100_000)?;
        let distributions_per_transfer = count(
            "--distributions-per-transfer",
            &args.distributions_per_transfer,
            1_000,
        )?;
        if u64::from(mint_wallets)
            * u64::from(transfers_per_mint)
            * u64::from(distributions_per_transfer)
            > 10_000_000
        {
            return Err(UsageError::new(
                "--mint-wallets x --transfers-per-mint x --distributions-per-transfer must be at most 10,000,000 wallets",
            ));
        }
        let mint_amount = amount("--mint-amount", &args.mint_amount)?;
        let allowance = amount("--allowance", &args.allowance)?;
        let needed = mint_amount.saturating_mul(U256::from(transfers_per_mint));
        if allowance < needed {
            return Err(UsageError::new(format!(
                "--allowance {allowance} is below --mint-amount x --transfers-per-mint = {needed}"
            )));
        }
        let decimals = number::<u8>("--decimals", &args.decimals, "a number from 0 to 18", |d| {
            *d <= 18
        })?;
        let start_at = args.start_at.as_deref().map(start_at).transpose()?;
        let symbol = parse_symbol(args.symbol.as_deref(), start_at)?;
        if args.token_name.is_empty() || args.token_name.len() > 120 {
            return Err(UsageError::new("--token-name: expected 1 to 120 bytes"));
        }
        let memo = memo_from_args(args, post_rate)?;
        Self {
            nodes,
            post_rate,
            get_rate,
            node_rates,
            devnet,
            no_tui: args.no_tui,
            operator_key,
            master_key,
            token,
            profile: args.profile,
            write_surface: args.write_surface,
            memo,
            duration,
            stages,
            capacity,
            actions: actions::parse_all(&args.actions, devnet)?,
            mint_wallets,
            transfers_per_mint,
            distributions_per_transfer,
            mint_amount,
            allowance,
            decimals,
            symbol,
            token_name: args.token_name.clone(),
            wallet_seed: WalletSeed::new(args.wallet_seed.clone()),
            in_flight_per_account: count(
                "--in-flight-per-account",
                &args.in_flight_per_account,
                1_000,
            )?,
            max_in_flight: count("--max-in-flight", &args.max_in_flight, 1_000_000)?,
            request_timeout: timeout("--request-timeout", &args.request_timeout)?,
            confirm_timeout: timeout("--confirm-timeout", &args.confirm_timeout)?,
            confirm: args.confirm,
            max_outage: max_outage(&args.max_outage)?,
            on_node_failure: args.on_node_failure,
            allow_mainnet: args.allow_mainnet,
            out: args.out.clone(),
            start_at,
            start_tolerance: parse_duration(&args.start_tolerance).map_err(|e| {
                UsageError::new(format!("--start-tolerance `{}`: {e}", args.start_tolerance))
            })?,
            metrics_addr: metrics_addr(args.metrics_addr.as_deref())?,
            metrics_linger: metrics_linger(&args.metrics_linger)?,
            sharding: None,
            thresholds,
            export_keys: args.export_keys,
            scenario_toml: scenario::recorded(&args.effective_args),
            send_log: None,
        }
        .with_shard(args.shard.as_deref())
    }

    /// Checks `--shard` against the rest of the run and derives the run id.
    fn with_shard(mut self, text: Option<&str>) -> Result<Self, UsageError> {
        let Some(text) = text else { return Ok(self) };
        let shard = crate::model::Shard::parse(text, |name| std::env::var(name).ok())
            .map_err(UsageError::new)?;
        if self.start_at.is_none() {
            return Err(UsageError::new(format!(
                "--shard {text} needs --start-at TIME: the shards of one run start together"
            )));
        }
        if self.devnet.is_some() {
            return Err(UsageError::new(
                "--shard and --devnet conflict: shards load one shared cluster (start it with `stress-tui devnet`)",
            ));
        }
        if !self.read_only() && self.mint_wallets < shard.count {
            return Err(UsageError::new(format!(
                "--shard {text}: --mint-wallets {} leaves a shard without a mint wallet; use at least {}",
                self.mint_wallets, shard.count
            )));
        }
        let run_id = run_id(&self, shard.count);
        // The shards' folders side by side, as `stress-tui merge results/<run id>` takes them.
        if self.out.is_none() {
            self.out = Some(
                std::path::Path::new("results")
                    .join(&run_id)
                    .join(format!("shard-{}", shard.index)),
            );
        }
        self.sharding = Some(Sharding { shard, run_id });
        Ok(self)
    }
}
