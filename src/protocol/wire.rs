//! JSON shapes of the REST API (PROTOCOL.md section 2): the signed request envelope, every
//! response the stress workload reads, and the error body. Amounts in responses are decimal
//! strings; we read them as U256 from any spelling.

use alloy_primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

use super::memo::Memo;
use super::numbers::decimal;
use super::signature::Signature;
use super::surface::NodeWriteMode;

/// A signed request as it arrives at a node: payload fields at the top level and a sibling
/// `signature` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedRequest<P> {
    #[serde(flatten)]
    pub payload: P,
    pub signature: Signature,
}

/// GET `/api/status` (no `/v1` prefix; PROTOCOL.md section 8.1): which writes the node takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiStatus {
    pub native_write_mode: NodeWriteMode,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub activation_source: Option<String>,
    #[serde(default)]
    pub dual_activated_at_secs: Option<u64>,
    #[serde(default)]
    pub native_domain_separated_transactions: Option<DomainSeparatedSupport>,
}

impl ApiStatus {
    /// The node's write mode, `read_only` folded in.
    #[must_use]
    pub fn mode(&self) -> NodeWriteMode {
        if self.read_only {
            NodeWriteMode::ReadOnly
        } else {
            self.native_write_mode
        }
    }
}

/// How many of the cluster's validators support `/v2`, in [`ApiStatus`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSeparatedSupport {
    pub support_count: u64,
    pub required_count: u64,
    pub full_support: bool,
}

/// The path of [`ApiStatus`].
pub const API_STATUS_PATH: &str = "/api/status";

/// GET `/v1/chains/chain_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainIdResponse {
    pub chain_id: u64,
}

/// GET `/v1/checkpoints/number`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointNumberResponse {
    pub number: u64,
}

/// GET `/v1/checkpoints/by_number?number=N&full=false|true`: a checkpoint's header fields and
/// its transactions (hashes, or full objects with `full=true`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub hash: B256,
    pub parent_hash: B256,
    pub state_root: B256,
    pub transactions_root: B256,
    pub receipts_root: B256,
    pub number: u64,
    /// Seconds since the Unix epoch (the node's clock).
    pub timestamp: u64,
    pub transactions: CheckpointTransactions,
    /// Bytes, when the node reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A checkpoint's transactions as `full` asked for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CheckpointTransactions {
    Hashes(Vec<B256>),
    Full(Vec<Transaction>),
}

/// The path that reads checkpoint `number` with its transaction hashes only.
#[must_use]
pub fn checkpoint_path(number: u64) -> String {
    format!("/v1/checkpoints/by_number?number={number}&full=false")
}

/// What the workload reads of a `full=false` checkpoint: its number and transaction hashes.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CheckpointHashes {
    pub number: u64,
    pub transactions: Vec<B256>,
}

/// GET `/v1/accounts/nonce`: the next nonce to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceResponse {
    pub nonce: u64,
}

/// GET `/v1/accounts/token_account`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAccountResponse {
    #[serde(with = "decimal")]
    pub balance: U256,
    pub nonce: u64,
}

/// POST of a grant, mint or payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashResponse {
    pub hash: B256,
}

/// POST `/v1/tokens/issue`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueResponse {
    pub hash: B256,
    pub token: Address,
}

/// GET `/v1/transactions/estimate_fee`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeEstimateResponse {
    #[serde(with = "decimal")]
    pub fee: U256,
}

/// One minter and its remaining allowance, in [`MintInfo`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinterAllowance {
    pub minter: Address,
    #[serde(with = "decimal")]
    pub allowance: U256,
}

/// Optional token metadata, in [`MintInfo`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenMetadata {
    pub name: String,
    pub uri: String,
    pub additional_metadata: Vec<MetadataPair>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataPair {
    pub key: String,
    pub value: String,
}

/// GET `/v1/tokens/token_metadata`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintInfo {
    pub symbol: String,
    pub master_authority: Address,
    pub master_mint_burn_authority: Address,
    pub mint_burn_authorities: Vec<MinterAllowance>,
    pub pause_authorities: Vec<Address>,
    pub list_authorities: Vec<Address>,
    pub black_list: Vec<Address>,
    pub white_list: Vec<Address>,
    pub metadata_update_authorities: Vec<Address>,
    #[serde(default)]
    pub bridge_mint_authorities: Vec<Address>,
    pub clawback_enabled: bool,
    #[serde(default)]
    pub clawback_authorities: Vec<Address>,
    #[serde(with = "decimal")]
    pub supply: U256,
    pub decimals: u8,
    pub is_paused: bool,
    pub is_private: bool,
    pub meta: Option<TokenMetadata>,
}

/// GET `/v1/transactions/receipt/by_hash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
/// Both shapes parse: 2026 nodes send `fee_used` as a string, `recipient` (2025: `to`), and
/// null checkpoint fields until the transaction is in a checkpoint.
pub struct Receipt {
    pub success: bool,
    pub transaction_hash: B256,
    #[serde(default)]
    pub transaction_index: Option<u64>,
    #[serde(default)]
    pub checkpoint_hash: Option<B256>,
    #[serde(default)]
    pub checkpoint_number: Option<u64>,
    #[serde(with = "decimal")]
    pub fee_used: U256,
    pub from: Address,
    #[serde(default, alias = "to")]
    pub recipient: Option<Address>,
    #[serde(default)]
    pub token_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_info: Option<serde_json::Value>,
}

/// The typed body of a [`Transaction`], tagged by `transaction_type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "transaction_type", content = "data")]
pub enum TransactionData {
    TokenCreate {
        symbol: String,
        decimals: u8,
        master_authority: Address,
        is_private: bool,
        clawback_enabled: bool,
        name: String,
    },
    TokenGrantAuthority {
        authority_type: String,
        authority_address: Address,
        value: Option<String>,
        token: Address,
    },
    TokenRevokeAuthority {
        authority_type: String,
        authority_address: Address,
        value: Option<String>,
        token: Address,
    },
    TokenMint {
        value: String,
        recipient: Address,
        token: Address,
    },
    TokenTransfer {
        value: String,
        recipient: Address,
        token: Option<Address>,
    },
}

/// GET `/v1/transactions/by_hash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub hash: B256,
    pub checkpoint_hash: Option<B256>,
    pub checkpoint_number: Option<u64>,
    pub transaction_index: Option<u64>,
    pub chain_id: u64,
    pub from: Address,
    pub nonce: u64,
    #[serde(flatten)]
    pub data: TransactionData,
    /// Always `"Single"` for the transactions this tool sends.
    pub signature_type: String,
    pub signature: Signature,
    /// The memo of a `/v2` transaction that had one (2026 nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<Memo>,
}

/// The body of every non-200 answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error_code: String,
    pub message: String,
}

/// The `error_code` values the workload and the devnet use.
pub mod error_code {
    pub const TX_NOT_FOUND: &str = "resource_transaction_not_found";
    pub const CHECKPOINT_NOT_FOUND: &str = "resource_checkpoint_not_found";
    pub const TOKEN_NOT_FOUND_RESOURCE: &str = "resource_token_not_found";
    pub const TX_FAILED: &str = "business_transaction_failed";
    pub const INVALID_NONCE: &str = "business_invalid_nonce";
    pub const INSUFFICIENT_BALANCE: &str = "business_insufficient_balance";
    pub const UNAUTHORIZED: &str = "business_unauthorized";
    pub const ALLOWANCE_EXCEEDED: &str = "business_allowance_exceeded";
    pub const TOKEN_NOT_FOUND: &str = "business_token_not_found";
    pub const TOKEN_PAUSED: &str = "business_token_paused";
    pub const POOL_ERROR: &str = "system_pool_error";
    pub const INVALID_PARAM: &str = "validation_invalid_param";
    pub const MISSING_PARAM: &str = "validation_missing_param";
    pub const INVALID_ADDRESS: &str = "validation_invalid_address";
    pub const INVALID_SIGNATURE: &str = "validation_invalid_signature";
    pub const RATE_LIMITED: &str = "rate_limit_exceeded";
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    pub const INTERNAL: &str = "system_internal_error";
    /// 410 on a `/v1` write to a `v2_only` node.
    pub const LEGACY_WRITE_DISABLED: &str = "LEGACY_NATIVE_WRITE_ENDPOINT_DISABLED";
    /// 403 on a `/v2` write to a `v1_only` node.
    pub const V2_NOT_ACTIVE: &str = "DOMAIN_SEPARATED_SIGNATURE_NOT_ACTIVE";
    /// 400: a `/v1`-style top-level `signature` posted to `/v2`.
    pub const V2_SIGNATURE_REQUIRED: &str = "DOMAIN_SEPARATED_SIGNATURE_REQUIRED";
    pub const UNSUPPORTED_AUTHORIZATION: &str = "UNSUPPORTED_AUTHORIZATION_TYPE";
    /// 403 on any write to a `read_only` node (the code is the devnet's choice: none is
    /// published).
    pub const NODE_READ_ONLY: &str = "NODE_READ_ONLY";
}
