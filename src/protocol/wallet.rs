//! Deterministic wallets, compatible with the original Go stress tester: the private key of
//! wallet `<tier>-<index>` is sha256 of `<prefix>-<tier>-<index>` (UTF-8), so runs of either
//! tool address the same accounts under the default prefix.

use std::fmt;

use sha2::{Digest, Sha256};

use super::keys::{KeyError, PrivateKey, Signer};

/// The Go tool's seed prefix.
pub const DEFAULT_SEED_PREFIX: &str = "1money-stress-test-deterministic-seed";

/// The three wallet tiers of the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WalletTier {
    /// Holds a mint allowance and mints to transfer wallets.
    Mint,
    /// Receives minted tokens and pays distribution wallets.
    Transfer,
    /// Receives payments.
    Distribution,
}

impl WalletTier {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WalletTier::Mint => "mint",
            WalletTier::Transfer => "transfer",
            WalletTier::Distribution => "distribution",
        }
    }
}

impl fmt::Display for WalletTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Derives wallet keys under one seed prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletSeed {
    prefix: String,
}

impl Default for WalletSeed {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_SEED_PREFIX.to_owned(),
        }
    }
}

impl WalletSeed {
    #[must_use]
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The private key of wallet `index` of `tier`.
    pub fn key(&self, tier: WalletTier, index: u32) -> Result<PrivateKey, KeyError> {
        let digest = Sha256::digest(format!("{}-{}-{}", self.prefix, tier, index).as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&digest);
        PrivateKey::from_bytes(bytes)
    }

    /// The signer (key and address) of wallet `index` of `tier`.
    pub fn signer(&self, tier: WalletTier, index: u32) -> Result<Signer, KeyError> {
        self.key(tier, index).map(Signer::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_zero_is_sha256_of_the_go_seed_string() {
        let digest = Sha256::digest(b"1money-stress-test-deterministic-seed-transfer-0");
        let expected = PrivateKey::from_hex(&hex::encode(digest)).unwrap();
        let derived = WalletSeed::default().key(WalletTier::Transfer, 0).unwrap();
        assert_eq!(derived, expected);
        assert_eq!(derived.address(), expected.address());
    }

    #[test]
    fn prefix_tier_and_index_all_change_the_key() {
        let seed = WalletSeed::default();
        let base = seed.key(WalletTier::Mint, 1).unwrap();
        assert_ne!(base, seed.key(WalletTier::Mint, 2).unwrap());
        assert_ne!(base, seed.key(WalletTier::Transfer, 1).unwrap());
        assert_ne!(
            base,
            WalletSeed::new("other").key(WalletTier::Mint, 1).unwrap()
        );
    }
}
