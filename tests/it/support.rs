//! Shared test helpers: a devnet with a funded token, signing shortcuts, receipt waits.

use std::time::Duration;

use stress_tui::client::{CallError, NodeClient};
use stress_tui::devnet::{Devnet, DevnetConfig, operator_key};
use stress_tui::protocol::wire::Receipt;
use stress_tui::protocol::{
    Address, AuthorityAction, AuthorityPayload, AuthorityType, B256, IssuePayload, MintPayload,
    Payload, PayloadProfile, PaymentPayload, PrivateKey, SignedTx, Signer, U256,
};

pub const CHAIN: u64 = 1_212_101;
pub const PROFILE: PayloadProfile = PayloadProfile::Current;

pub fn client(url: &str) -> NodeClient {
    NodeClient::new(url, Duration::from_secs(5))
}

pub fn signer(seed: u8) -> Signer {
    Signer::new(PrivateKey::from_bytes([seed; 32]).unwrap())
}

pub fn operator() -> Signer {
    Signer::new(operator_key())
}

pub fn sign<P: Payload>(payload: P, by: &Signer) -> SignedTx<P> {
    SignedTx::sign(payload, by, PROFILE)
}

/// Polls for a receipt (every 10 ms, at most 5 s).
pub async fn wait_receipt(node: &NodeClient, hash: B256) -> Receipt {
    for _ in 0..500 {
        match node.receipt(hash).await {
            Ok(receipt) => return receipt,
            Err(e) if e.is_not_found() => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => panic!("receipt of {hash}: {e}"),
        }
    }
    panic!("no receipt for {hash} within 5 s");
}

pub fn issue(nonce: u64, symbol: &str) -> SignedTx<IssuePayload> {
    let operator = operator();
    sign(
        IssuePayload {
            chain_id: CHAIN,
            nonce,
            symbol: symbol.into(),
            name: "Test Token".into(),
            decimals: 6,
            master_authority: operator.address(),
            is_private: false,
            clawback_enabled: true,
        },
        &operator,
    )
}

pub fn grant(
    nonce: u64,
    token: Address,
    minter: Address,
    allowance: u64,
) -> SignedTx<AuthorityPayload> {
    sign(
        AuthorityPayload {
            chain_id: CHAIN,
            nonce,
            action: AuthorityAction::Grant,
            authority_type: AuthorityType::MintBurnTokens,
            authority_address: minter,
            token,
            value: U256::from(allowance),
        },
        &operator(),
    )
}

pub fn mint(
    by: &Signer,
    nonce: u64,
    token: Address,
    to: Address,
    value: u64,
) -> SignedTx<MintPayload> {
    sign(
        MintPayload {
            chain_id: CHAIN,
            nonce,
            recipient: to,
            value: U256::from(value),
            token,
        },
        by,
    )
}

pub fn pay(
    by: &Signer,
    nonce: u64,
    token: Address,
    to: Address,
    value: u64,
) -> SignedTx<PaymentPayload> {
    sign(
        PaymentPayload {
            chain_id: CHAIN,
            nonce,
            recipient: to,
            value: U256::from(value),
            token,
        },
        by,
    )
}

/// A devnet where the operator issued TOKEN, granted `minter` 1,000 and `minter` minted 500 to
/// `holder`; every receipt has appeared.
pub struct Funded {
    pub devnet: Devnet,
    pub node: NodeClient,
    pub token: Address,
    pub minter: Signer,
    pub holder: Signer,
}

pub async fn funded(config: DevnetConfig) -> Funded {
    let devnet = Devnet::start(config).await.unwrap();
    let node = client(&devnet.urls()[0]);
    let (minter, holder) = (signer(11), signer(12));
    let (hash, token) = node.submit_issue(&issue(0, "TOK"), PROFILE).await.unwrap();
    wait_receipt(&node, hash).await;
    let hash = node
        .submit(&grant(1, token, minter.address(), 1_000), PROFILE)
        .await
        .unwrap();
    wait_receipt(&node, hash).await;
    let hash = node
        .submit(&mint(&minter, 0, token, holder.address(), 500), PROFILE)
        .await
        .unwrap();
    wait_receipt(&node, hash).await;
    Funded {
        devnet,
        node,
        token,
        minter,
        holder,
    }
}

pub fn expect_status(
    result: Result<impl std::fmt::Debug, CallError>,
    status: u16,
    code: &str,
) -> String {
    match result {
        Err(CallError::Status {
            status: got,
            code: got_code,
            message,
            ..
        }) => {
            assert_eq!(
                (got, got_code.as_str()),
                (status, code),
                "message: {message}"
            );
            message
        }
        other => panic!("expected HTTP {status} {code}, got {other:?}"),
    }
}

/// Asserts a node's 429 `rate_limit_exceeded` answer asking to wait `retry_after`.
pub fn expect_rate_limited(result: Result<impl std::fmt::Debug, CallError>, retry_after: Duration) {
    match result {
        Err(CallError::Status {
            status: 429,
            code,
            retry_after: asked,
            ..
        }) => {
            assert_eq!(code, "rate_limit_exceeded");
            assert_eq!(asked, Some(retry_after));
        }
        other => panic!("expected a 429 asking to wait {retry_after:?}, got {other:?}"),
    }
}

/// A file holding the devnet operator key, unique to this test process.
pub fn key_file() -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("stress-tui-it-operator-{}.key", std::process::id()));
    std::fs::write(&path, stress_tui::devnet::OPERATOR_KEY_HEX).unwrap();
    path
}

/// The flags of a small run, by name: most tests set the rates, the wallet counts and a few
/// knobs of the workload, and anything else with [`RunFlags::flag`] or [`RunFlags::extra`].
#[derive(Clone, Debug, Default)]
pub struct RunFlags(Vec<String>);

impl RunFlags {
    /// `--post-rate post --get-rate get`.
    pub fn rates(post: u32, get: u32) -> Self {
        Self::default()
            .flag("--post-rate", post)
            .flag("--get-rate", get)
    }

    /// `--mint-wallets mint --transfers-per-mint transfers`.
    pub fn wallets(self, mint: u32, transfers: u32) -> Self {
        self.flag("--mint-wallets", mint)
            .flag("--transfers-per-mint", transfers)
    }

    pub fn distributions(self, per_transfer: u32) -> Self {
        self.flag("--distributions-per-transfer", per_transfer)
    }

    pub fn in_flight(self, per_account: u32) -> Self {
        self.flag("--in-flight-per-account", per_account)
    }

    /// `--duration`: the sustained phase's length, e.g. `8s`.
    pub fn duration(self, duration: &str) -> Self {
        self.flag("--duration", duration)
    }

    /// Any flag with a value.
    pub fn flag(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.0.push(name.to_owned());
        self.0.push(value.to_string());
        self
    }

    /// Any flags as the command line spells them.
    pub fn extra(mut self, args: &[&str]) -> Self {
        self.0.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }
}

/// What a run's flags can be given as: a [`RunFlags`] or the words of a command line.
pub trait Args {
    fn args(&self) -> Vec<&str>;
}

impl Args for RunFlags {
    fn args(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }
}

impl Args for [&str] {
    fn args(&self) -> Vec<&str> {
        self.to_vec()
    }
}

impl<const N: usize> Args for [&str; N] {
    fn args(&self) -> Vec<&str> {
        self.to_vec()
    }
}

impl Args for Vec<&str> {
    fn args(&self) -> Vec<&str> {
        self.clone()
    }
}

/// A run config for `urls` with extra flags, as the CLI builds it; results go to a fresh
/// temporary folder named after `name` (`config.out`).
pub fn run_config(
    urls: &[String],
    name: &str,
    flags: &(impl Args + ?Sized),
) -> stress_tui::config::RunConfig {
    use clap::Parser;
    let out = std::env::temp_dir().join(format!("stress-tui-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let (nodes, key) = (urls.join(","), key_file());
    let mut args = vec![
        "stress-tui",
        "--no-tui",
        "--nodes",
        &nodes,
        "--operator-key-file",
        key.to_str().unwrap(),
    ];
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(flags.args());
    let cli = stress_tui::cli::Cli::try_parse_from(args).unwrap();
    stress_tui::config::RunConfig::from_args(&cli.run).unwrap()
}

/// Waits until the run's workload reaches `phase` (at most `limit`).
pub async fn wait_phase(
    handle: &stress_tui::run::RunHandle,
    phase: stress_tui::model::Phase,
    limit: Duration,
) {
    let started = std::time::Instant::now();
    while handle.workload.status().phase < phase {
        assert!(
            started.elapsed() < limit,
            "phase {phase} not reached: {:?}",
            handle.workload.status().phase
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Takes devnet node `node` down (connections refused) or brings it back up.
pub fn set_down(devnet: &Devnet, node: usize, down: bool) {
    devnet
        .set_knobs(
            node,
            &stress_tui::devnet::KnobsPatch {
                down: Some(down),
                ..Default::default()
            },
        )
        .unwrap();
}

/// Runs the stress run with `flags` against `urls` to its end (at most `limit`): its report and
/// its workload (for the balances it expects).
pub async fn run_to_end(
    urls: &[String],
    name: &str,
    flags: &(impl Args + ?Sized),
    limit: Duration,
) -> (
    stress_tui::report::RunReport,
    std::sync::Arc<stress_tui::workload::Workload>,
) {
    let handle = stress_tui::run::start(run_config(urls, name, flags))
        .await
        .unwrap();
    let workload = std::sync::Arc::clone(&handle.workload);
    let Ok(report) = tokio::time::timeout(limit, handle.wait()).await else {
        let status = workload.status();
        panic!(
            "{name}: not done after {limit:?}: phase {} {}/{} ({} failed), {} submitted, {} confirmed ({} by checkpoint), {} resyncs",
            status.phase,
            status.phase_done,
            status.phase_total,
            status.phase_failed,
            status.transactions.submitted,
            status.transactions.confirmed,
            status.transactions.confirmed_by_checkpoint,
            status.transactions.resyncs
        )
    };
    (report.unwrap(), workload)
}

/// Waits for a run's report (at most `limit`).
pub async fn wait_report(
    handle: stress_tui::run::RunHandle,
    limit: Duration,
) -> stress_tui::report::RunReport {
    tokio::time::timeout(limit, handle.wait())
        .await
        .unwrap()
        .unwrap()
}

/// The run completed (its failure shown otherwise) and no balance it checked differed.
pub fn assert_completed_and_verified(report: &stress_tui::report::RunReport) {
    assert_eq!(
        report.ending,
        stress_tui::report::Ending::Completed,
        "{:?}",
        report.status.failure
    );
    assert_eq!(report.status.verify.mismatched, 0);
}

/// Where `document` breaks `schema` (JSON Schema 2020-12), one line each.
pub fn schema_problems(schema: &serde_json::Value, document: &serde_json::Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).unwrap();
    validator
        .iter_errors(document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Where a `summary.json` breaks `assets/summary.schema.json`.
pub fn summary_problems(document: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../assets/summary.schema.json")).unwrap();
    schema_problems(&schema, document)
}
