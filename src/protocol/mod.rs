//! The 1Money wire protocol as stress-tui speaks it: payloads, their RLP signing encoding,
//! secp256k1 signatures, transaction hashes, addresses, JSON request and response shapes,
//! payload profiles and deterministic wallets.
//!
//! Pure code: no tokio, no I/O except reading a key file. The load generator
//! ([`crate::workload`]) signs with it and the devnet ([`crate::devnet`]) verifies with it, so
//! both sides share one definition. `../shared/PROTOCOL.md` sections 1-4, 6 and 8 are the
//! spec; the known-answer vectors of its sections 4 and 8.5 are unit tests here, and
//! `tests/it/oracle.rs` checks random payloads against the official `om-primitives-types`
//! crate (`/v1`) and an independent `alloy-rlp` derive encoder (`/v2`, which no published
//! crate implements).

mod keys;
pub mod memo;
pub mod numbers;
mod payload;
mod profile;
mod rfc6979;
mod signature;
mod signed;
pub mod surface;
pub mod wallet;
pub mod wire;

pub use keys::{KeyError, PrivateKey, Signer, address_of_public_key};
pub use memo::{Memo, MemoError};
pub use numbers::{U256Input, parse_u256};
pub use payload::{
    AuthorityAction, AuthorityPayload, AuthorityType, IssuePayload, MintPayload, Payload,
    PaymentPayload, TxKind, token_address,
};
pub use profile::PayloadProfile;
pub use signature::{RecoverError, Signature, recover_signer};
pub use signed::SignedTx;
pub use surface::{NodeWriteMode, WriteSurface};

pub use alloy_primitives::{Address, B256, U256};

/// The chain id of a local node and of our devnet.
pub const LOCAL_CHAIN_ID: u64 = 1_212_101;
/// The chain id of 1Money mainnet: load tests refuse it unless explicitly allowed.
pub const MAINNET_CHAIN_ID: u64 = 21_210;

pub use signed::transaction_hash;

#[cfg(test)]
mod known_answers;
#[cfg(test)]
mod known_answers_v2;
