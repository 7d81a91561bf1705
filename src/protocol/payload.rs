//! The four payloads the stress workload signs, their JSON field layout and their RLP
//! signing encoding (PROTOCOL.md sections 2.1 and 3).

use alloy_primitives::{Address, U256, keccak256};
use alloy_rlp::{Encodable, Header};
use serde::{Deserialize, Serialize};

use super::numbers::decimal;
use super::profile::PayloadProfile;

/// Which kind of transaction a payload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxKind {
    Issue,
    Authority,
    Mint,
    Payment,
}

impl TxKind {
    /// The POST path that admits this kind.
    #[must_use]
    pub fn path(self) -> &'static str {
        match self {
            TxKind::Issue => "/v1/tokens/issue",
            TxKind::Authority => "/v1/tokens/grant_authority",
            TxKind::Mint => "/v1/tokens/mint",
            TxKind::Payment => "/v1/transactions/payment",
        }
    }
}

/// The two getters every payload's `Payload` impl has: its `chain_id` and `nonce` fields.
macro_rules! chain_id_and_nonce {
    () => {
        fn chain_id(&self) -> u64 {
            self.chain_id
        }
        fn nonce(&self) -> u64 {
            self.nonce
        }
    };
}

/// A payload that can be signed and sent: its fields in RLP order and as a JSON object.
pub trait Payload: Serialize + Clone + Send + Sync + 'static {
    const KIND: TxKind;

    fn chain_id(&self) -> u64;
    fn nonce(&self) -> u64;

    /// Appends the RLP encoding of each field, in signing order, without the list header.
    fn encode_fields(&self, profile: PayloadProfile, out: &mut Vec<u8>);

    /// Appends the payload's fields as one JSON object.
    fn write_json(&self, _profile: PayloadProfile, out: &mut Vec<u8>) {
        // Serialising plain structs of strings, numbers and addresses cannot fail.
        serde_json::to_writer(out, self).expect("payload serialises to JSON");
    }

    /// The RLP list that is hashed for signing: a list header followed by the fields.
    fn signing_rlp(&self, profile: PayloadProfile) -> Vec<u8> {
        let mut fields = Vec::with_capacity(160);
        self.encode_fields(profile, &mut fields);
        let mut out = Vec::with_capacity(fields.len() + 3);
        Header {
            list: true,
            payload_length: fields.len(),
        }
        .encode(&mut out);
        out.extend_from_slice(&fields);
        out
    }
}

/// Token issuance; only the network operator may sign it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuePayload {
    pub chain_id: u64,
    pub nonce: u64,
    pub symbol: String,
    pub name: String,
    pub decimals: u8,
    pub master_authority: Address,
    pub is_private: bool,
    #[serde(default = "clawback_default")]
    pub clawback_enabled: bool,
}

fn clawback_default() -> bool {
    true
}

impl Payload for IssuePayload {
    const KIND: TxKind = TxKind::Issue;

    chain_id_and_nonce!();

    fn encode_fields(&self, profile: PayloadProfile, out: &mut Vec<u8>) {
        self.chain_id.encode(out);
        self.nonce.encode(out);
        self.symbol.as_str().encode(out);
        self.name.as_str().encode(out);
        self.decimals.encode(out);
        self.master_authority.encode(out);
        self.is_private.encode(out);
        if profile.issue_has_clawback() {
            self.clawback_enabled.encode(out);
        }
    }

    fn write_json(&self, profile: PayloadProfile, out: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct Legacy<'a> {
            chain_id: u64,
            nonce: u64,
            symbol: &'a str,
            name: &'a str,
            decimals: u8,
            master_authority: Address,
            is_private: bool,
        }
        let result = if profile.issue_has_clawback() {
            serde_json::to_writer(out, self)
        } else {
            let legacy = Legacy {
                chain_id: self.chain_id,
                nonce: self.nonce,
                symbol: &self.symbol,
                name: &self.name,
                decimals: self.decimals,
                master_authority: self.master_authority,
                is_private: self.is_private,
            };
            serde_json::to_writer(out, &legacy)
        };
        result.expect("payload serialises to JSON");
    }
}

impl IssuePayload {
    /// The address the issued token will have.
    #[must_use]
    pub fn token_address(&self) -> Address {
        token_address(self.master_authority, &self.symbol)
    }
}

/// The token (mint) address: last 20 bytes of keccak256(master authority ‖ symbol).
#[must_use]
pub fn token_address(master_authority: Address, symbol: &str) -> Address {
    let mut preimage = Vec::with_capacity(20 + symbol.len());
    preimage.extend_from_slice(master_authority.as_slice());
    preimage.extend_from_slice(symbol.as_bytes());
    Address::from_slice(&keccak256(&preimage)[12..])
}

/// Grant or revoke, in an authority payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthorityAction {
    Grant,
    Revoke,
}

impl AuthorityAction {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorityAction::Grant => "Grant",
            AuthorityAction::Revoke => "Revoke",
        }
    }
}

/// The kinds of authority a token's master authority hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AuthorityType {
    MasterMintBurn,
    MintBurnTokens,
    Pause,
    ManageList,
    UpdateMetadata,
    Bridge,
    Clawback,
}

impl AuthorityType {
    pub const ALL: [AuthorityType; 7] = [
        AuthorityType::MasterMintBurn,
        AuthorityType::MintBurnTokens,
        AuthorityType::Pause,
        AuthorityType::ManageList,
        AuthorityType::UpdateMetadata,
        AuthorityType::Bridge,
        AuthorityType::Clawback,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorityType::MasterMintBurn => "MasterMintBurn",
            AuthorityType::MintBurnTokens => "MintBurnTokens",
            AuthorityType::Pause => "Pause",
            AuthorityType::ManageList => "ManageList",
            AuthorityType::UpdateMetadata => "UpdateMetadata",
            AuthorityType::Bridge => "Bridge",
            AuthorityType::Clawback => "Clawback",
        }
    }
}

/// Grant or revoke an authority over a token; `value` is the mint allowance for
/// `MintBurnTokens` and 0 otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityPayload {
    pub chain_id: u64,
    pub nonce: u64,
    pub action: AuthorityAction,
    pub authority_type: AuthorityType,
    pub authority_address: Address,
    pub token: Address,
    #[serde(with = "decimal")]
    pub value: U256,
}

impl Payload for AuthorityPayload {
    const KIND: TxKind = TxKind::Authority;

    chain_id_and_nonce!();

    fn encode_fields(&self, _profile: PayloadProfile, out: &mut Vec<u8>) {
        self.chain_id.encode(out);
        self.nonce.encode(out);
        self.action.as_str().encode(out);
        self.authority_type.as_str().encode(out);
        self.authority_address.encode(out);
        self.token.encode(out);
        self.value.encode(out);
    }
}

/// A payload that moves `value` of `token` to `recipient`: mint and payment have the same
/// fields, in the same RLP order, and differ only in their kind (and so their endpoint).
macro_rules! transfer_payload {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            pub chain_id: u64,
            pub nonce: u64,
            pub recipient: Address,
            #[serde(with = "decimal")]
            pub value: U256,
            pub token: Address,
        }

        impl $name {
            #[must_use]
            pub fn new(
                chain_id: u64,
                nonce: u64,
                recipient: Address,
                value: U256,
                token: Address,
            ) -> Self {
                Self {
                    chain_id,
                    nonce,
                    recipient,
                    value,
                    token,
                }
            }
        }

        impl Payload for $name {
            const KIND: TxKind = $kind;

            chain_id_and_nonce!();

            fn encode_fields(&self, _profile: PayloadProfile, out: &mut Vec<u8>) {
                self.chain_id.encode(out);
                self.nonce.encode(out);
                self.recipient.encode(out);
                self.value.encode(out);
                self.token.encode(out);
            }
        }
    };
}

transfer_payload!(
    /// Mint `value` of `token` to `recipient`; the signer needs a mint allowance.
    MintPayload,
    TxKind::Mint
);
transfer_payload!(
    /// Pay `value` of `token` from the signer to `recipient`.
    PaymentPayload,
    TxKind::Payment
);
