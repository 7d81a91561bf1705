//! The workload's plan: sizes and amounts (the Go tool's defaults), the keys, the phases, and
//! the wallets derived from the seed.

use std::ops::Range;
use std::time::{Duration, Instant};

use crate::model::{ConfirmBy, Shard};
use crate::protocol::wallet::{WalletSeed, WalletTier};
use crate::protocol::{
    Address, KeyError, Memo, NodeWriteMode, PayloadProfile, Signer, U256, WriteSurface,
};

/// Everything the workload needs to run; built by the run from validated config.
#[derive(Clone, Debug)]
pub struct WorkloadPlan {
    pub chain_id: u64,
    pub profile: PayloadProfile,
    /// Signs the issue.
    pub operator: Signer,
    /// The token's master authority: signs the grants.
    pub master: Signer,
    /// Use this token instead of issuing one.
    pub existing_token: Option<Address>,
    pub symbol: String,
    pub name: String,
    pub decimals: u8,
    pub mint_wallets: u32,
    pub transfers_per_mint: u32,
    pub distributions_per_transfer: u32,
    /// Minted to each transfer wallet.
    pub mint_amount: U256,
    /// Mint allowance granted to each mint wallet.
    pub allowance: U256,
    pub seed: WalletSeed,
    /// Transactions an account may have unconfirmed at once (1 = the Go tool).
    pub in_flight_per_account: u32,
    /// Sustained payments for this long instead of the one-off transfer phase (with
    /// `read_only`: how long the reads go on).
    pub sustained: Option<Duration>,
    /// Only reads (nonce, balance, receipt) for `sustained`: no token, no transactions.
    pub read_only: bool,
    /// How long an admitted transaction may take to show a receipt before it counts as
    /// unconfirmed.
    pub confirm_timeout: Duration,
    /// Receipts or checkpoints.
    pub confirm: ConfirmBy,
    /// The write surface chosen before the run (`--write-surface`, the nodes' `/api/status`).
    pub surface: WriteSurface,
    /// What `--write-surface` asked for.
    pub surface_choice: crate::model::SurfaceChoice,
    /// Each node's write mode as read before the run, by position in `--nodes` (`None`: no
    /// answer).
    pub node_modes: Vec<Option<NodeWriteMode>>,
    /// The nodes' labels by position, for the workload's events.
    pub node_labels: Vec<String>,
    /// The memo of every payment (`/v2` only; empty: none).
    pub memo: Memo,
    /// `--shard`: this process signs for its part of every wallet tier only.
    pub shard: Option<Shard>,
    /// `--start-at`: the load phase waits for it after funding.
    pub gate: Option<StartGate>,
}

/// When the load phase (transfer, sustained payments or reads) begins: the funding phases run
/// before it, then the workload waits. Funded later than `at` + `tolerance`, the run ends
/// without its load (the shard would skew the run).
#[derive(Clone, Copy, Debug)]
pub struct StartGate {
    pub at: Instant,
    pub tolerance: Duration,
}

impl WorkloadPlan {
    /// Each transfer wallet pays each of its distribution wallets this much (Go: mint / 5 with
    /// 4 distribution wallets).
    #[must_use]
    pub fn payment_amount(&self) -> U256 {
        self.mint_amount / U256::from(self.distributions_per_transfer + 1)
    }

    #[must_use]
    pub fn transfer_wallets(&self) -> u32 {
        self.mint_wallets * self.transfers_per_mint
    }

    #[must_use]
    pub fn distribution_wallets(&self) -> u32 {
        self.transfer_wallets() * self.distributions_per_transfer
    }

    /// The mint wallets this process signs for: all, or its shard's part.
    #[must_use]
    pub fn own_mint_wallets(&self) -> Range<u32> {
        self.shard
            .map_or(0..self.mint_wallets, |s| s.range_of(self.mint_wallets))
    }

    /// Whether this process issues the token and grants the mint wallets (a shard other than
    /// 0 waits for shard 0 to).
    #[must_use]
    pub fn prepares(&self) -> bool {
        self.shard.is_none_or(Shard::prepares)
    }

    /// The wallet indices of every tier this process signs for (or pays, for distribution
    /// wallets): its mint wallets, their transfer wallets, theirs distribution wallets.
    #[must_use]
    pub fn own_ranges(&self) -> WalletRanges {
        WalletRanges::of(
            self.own_mint_wallets(),
            self.transfers_per_mint,
            self.distributions_per_transfer,
        )
    }
}

/// Wallet indices by tier (half-open, as in `accounts_detail.csv`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WalletRanges {
    pub mint: Range<u32>,
    pub transfer: Range<u32>,
    pub distribution: Range<u32>,
}

impl WalletRanges {
    /// The wallets that hang off the mint wallets `mint`.
    #[must_use]
    pub fn of(mint: Range<u32>, transfers_per_mint: u32, distributions_per_transfer: u32) -> Self {
        let transfer = mint.start * transfers_per_mint..mint.end * transfers_per_mint;
        let distribution =
            transfer.start * distributions_per_transfer..transfer.end * distributions_per_transfer;
        Self {
            mint,
            transfer,
            distribution,
        }
    }
}

/// The derived wallets this process uses (with `--shard`, its part of each tier: vectors are
/// indexed from the part's first wallet, see [`WorkloadPlan::own_ranges`]).
pub struct Wallets {
    pub mint: Vec<Signer>,
    pub transfer: Vec<Signer>,
    pub distribution: Vec<Address>,
    /// The mint wallets this process grants mint authority to: every one of the run's when it
    /// prepares the token ([`WorkloadPlan::prepares`]), none otherwise.
    pub grant_to: Vec<Address>,
}

impl Wallets {
    /// Derives the wallets of this process's part (about 20 µs each: 10,020 wallets take a
    /// fifth of a second).
    pub fn derive(plan: &WorkloadPlan) -> Result<Self, KeyError> {
        let ranges = plan.own_ranges();
        let signers = |tier, range: Range<u32>| -> Result<Vec<Signer>, KeyError> {
            range.map(|i| plan.seed.signer(tier, i)).collect()
        };
        let distribution = ranges
            .distribution
            .map(|i| {
                plan.seed
                    .key(WalletTier::Distribution, i)
                    .map(|k| k.address())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mint: Vec<Signer> = signers(WalletTier::Mint, ranges.mint.clone())?;
        let grant_to = if !plan.prepares() {
            Vec::new()
        } else if ranges.mint == (0..plan.mint_wallets) {
            mint.iter().map(Signer::address).collect()
        } else {
            (0..plan.mint_wallets)
                .map(|i| plan.seed.key(WalletTier::Mint, i).map(|k| k.address()))
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(Self {
            mint,
            transfer: signers(WalletTier::Transfer, ranges.transfer)?,
            distribution,
            grant_to,
        })
    }
}

/// A small plan and its signers, for the workload's unit tests.
#[cfg(test)]
pub(super) mod fixtures {
    use std::time::Duration;

    use super::WorkloadPlan;
    use crate::protocol::{Memo, PayloadProfile, PrivateKey, Signer, U256, WriteSurface};

    /// A signer whose key is `seed` repeated.
    pub fn signer(seed: u8) -> Signer {
        Signer::new(PrivateKey::from_bytes([seed; 32]).unwrap())
    }

    /// Operator and master `signer(1)`, chain 1, no funding wallets, 4 in flight per account,
    /// receipts, /v2.
    pub fn plan() -> WorkloadPlan {
        WorkloadPlan {
            chain_id: 1,
            profile: PayloadProfile::Current,
            operator: signer(1),
            master: signer(1),
            existing_token: None,
            symbol: "T".into(),
            name: "T".into(),
            decimals: 6,
            mint_wallets: 0,
            transfers_per_mint: 0,
            distributions_per_transfer: 1,
            mint_amount: U256::from(1),
            allowance: U256::from(1),
            seed: crate::protocol::wallet::WalletSeed::new("t"),
            in_flight_per_account: 4,
            sustained: None,
            read_only: false,
            confirm_timeout: Duration::from_secs(1),
            confirm: crate::model::ConfirmBy::Receipts,
            surface: WriteSurface::V2,
            surface_choice: crate::model::SurfaceChoice::Auto,
            node_modes: Vec::new(),
            node_labels: Vec::new(),
            memo: Memo::default(),
            shard: None,
            gate: None,
        }
    }
}
