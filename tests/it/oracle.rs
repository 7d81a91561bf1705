//! Our signing layer against the official `om-primitives-types` and `om-rest-types` crates,
//! over random payloads of all four kinds, random keys and both profiles: signature hash,
//! transaction hash, signer recovery, mint address, and the JSON body read by the official
//! request types.

use alloy_primitives::{Address, U256, keccak256};
use om_primitives_types::transaction::payload as om;
use om_primitives_types::transaction::{
    Signable, Signature as OmSignature, Signed, SignerRecoverable, TxHashable,
};
use om_rest_types::RestSignature;
use proptest::prelude::*;
use stress_tui::protocol::{
    AuthorityAction, AuthorityPayload, AuthorityType, IssuePayload, MintPayload, Payload,
    PayloadProfile, PaymentPayload, PrivateKey, Signature, SignedTx, Signer,
};

fn om_signature(signature: &Signature) -> OmSignature {
    OmSignature::new(signature.r, signature.s, signature.y_parity)
}

fn rest_signature(signature: &Signature) -> RestSignature {
    RestSignature::new(signature.r, signature.s, u64::from(signature.v()))
}

/// Checks what every kind shares: our tx hash equals theirs, their recovery finds our signer.
fn check_hash_and_recovery<T>(
    ours: &SignedTx<impl Payload>,
    theirs: T,
    signer: &Signer,
) -> Result<(), TestCaseError>
where
    T: Signable + alloy_rlp::Encodable + Clone,
{
    let signature = om_signature(&ours.signature);
    prop_assert_eq!(theirs.tx_hash(&signature), ours.hash);
    let recovered = Signed::new(theirs, signature)
        .recover_signer()
        .expect("recovers");
    prop_assert_eq!(recovered, signer.address());
    Ok(())
}

pub(crate) fn address() -> impl Strategy<Value = Address> {
    any::<[u8; 20]>().prop_map(Address::from)
}

pub(crate) fn u256() -> impl Strategy<Value = U256> {
    prop_oneof![
        any::<u64>().prop_map(U256::from),
        any::<[u8; 32]>().prop_map(|b| U256::from_be_bytes(b)),
        Just(U256::ZERO),
    ]
}

pub(crate) fn signer() -> impl Strategy<Value = Signer> {
    any::<[u8; 32]>()
        .prop_filter_map("valid secp256k1 key", |bytes| {
            PrivateKey::from_bytes(bytes).ok()
        })
        .prop_map(Signer::new)
}

fn profile() -> impl Strategy<Value = PayloadProfile> {
    prop_oneof![
        Just(PayloadProfile::Current),
        Just(PayloadProfile::Legacy2025)
    ]
}

fn authority_type() -> impl Strategy<Value = AuthorityType> {
    proptest::sample::select(AuthorityType::ALL.to_vec())
}

fn om_authority_type(kind: AuthorityType) -> om::Authority {
    match kind {
        AuthorityType::MasterMintBurn => om::Authority::MasterMintBurn,
        AuthorityType::MintBurnTokens => om::Authority::MintBurnTokens,
        AuthorityType::Pause => om::Authority::Pause,
        AuthorityType::ManageList => om::Authority::ManageList,
        AuthorityType::UpdateMetadata => om::Authority::UpdateMetadata,
        AuthorityType::Bridge => om::Authority::Bridge,
        AuthorityType::Clawback => om::Authority::Clawback,
    }
}

/// The legacy-2025 Issue layout, derived independently of our hand-written encoder.
#[derive(Clone, alloy_rlp::RlpEncodable)]
struct LegacyIssue {
    chain_id: u64,
    nonce: u64,
    symbol: String,
    name: String,
    decimals: u8,
    master_authority: Address,
    is_private: bool,
}

impl Signable for LegacyIssue {
    fn signature_hash(&self) -> alloy_primitives::B256 {
        keccak256(alloy_rlp::encode(self))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn payment_matches_official(
        signer in signer(), chain_id in any::<u64>(), nonce in any::<u64>(),
        recipient in address(), value in u256(), token in address(), profile in profile(),
    ) {
        let ours = PaymentPayload { chain_id, nonce, recipient, value, token };
        let theirs = om::PaymentPayload { chain_id, nonce, recipient, value, token };
        prop_assert_eq!(keccak256(ours.signing_rlp(profile)), theirs.signature_hash());
        let signed = SignedTx::sign(ours, &signer, profile);
        check_hash_and_recovery(&signed, theirs.clone(), &signer)?;
        let parsed: om_rest_types::PaymentTransactionRequest =
            serde_json::from_slice(&signed.body(profile)).expect("official type reads our body");
        prop_assert_eq!(&parsed.data, &theirs);
        prop_assert_eq!(parsed.signature, rest_signature(&signed.signature));
    }

    #[test]
    fn mint_matches_official(
        signer in signer(), chain_id in any::<u64>(), nonce in any::<u64>(),
        recipient in address(), value in u256(), token in address(), profile in profile(),
    ) {
        let ours = MintPayload { chain_id, nonce, recipient, value, token };
        let theirs = om::TokenMintPayload { chain_id, nonce, recipient, value, token };
        prop_assert_eq!(keccak256(ours.signing_rlp(profile)), theirs.signature_hash());
        let signed = SignedTx::sign(ours, &signer, profile);
        check_hash_and_recovery(&signed, theirs.clone(), &signer)?;
        let parsed: om_rest_types::TokenMintRequest =
            serde_json::from_slice(&signed.body(profile)).expect("official type reads our body");
        prop_assert_eq!(&parsed.data, &theirs);
        prop_assert_eq!(parsed.signature, rest_signature(&signed.signature));
    }

    #[test]
    fn authority_matches_official(
        signer in signer(), chain_id in any::<u64>(), nonce in any::<u64>(),
        grant in any::<bool>(), kind in authority_type(), authority_address in address(),
        token in address(), value in u256(), profile in profile(),
    ) {
        let action = if grant { AuthorityAction::Grant } else { AuthorityAction::Revoke };
        let ours = AuthorityPayload { chain_id, nonce, action, authority_type: kind, authority_address, token, value };
        let theirs = om::TokenAuthorityPayload {
            chain_id, nonce,
            action: if grant { om::AuthorityAction::Grant } else { om::AuthorityAction::Revoke },
            authority_type: om_authority_type(kind),
            authority_address, token, value,
        };
        prop_assert_eq!(keccak256(ours.signing_rlp(profile)), theirs.signature_hash());
        let signed = SignedTx::sign(ours, &signer, profile);
        check_hash_and_recovery(&signed, theirs.clone(), &signer)?;
        let parsed: om_rest_types::TokenAuthorityRequest =
            serde_json::from_slice(&signed.body(profile)).expect("official type reads our body");
        prop_assert_eq!(&parsed.data, &theirs);
        prop_assert_eq!(parsed.signature, rest_signature(&signed.signature));
    }

    #[test]
    fn issue_matches_official(
        signer in signer(), chain_id in any::<u64>(), nonce in any::<u64>(),
        symbol in "[A-Za-z0-9]{1,20}", name in "\\PC{1,40}".prop_filter("<= 120 bytes", |n| n.len() <= 120),
        decimals in 0u8..=18, master_authority in address(), is_private in any::<bool>(),
        clawback_enabled in any::<bool>(), profile in profile(),
    ) {
        let ours = IssuePayload {
            chain_id, nonce, symbol: symbol.clone(), name: name.clone(), decimals,
            master_authority, is_private,
            // The legacy layout has no such field: nodes of that age behave as if it were true.
            clawback_enabled: clawback_enabled || !profile.issue_has_clawback(),
        };
        let theirs = om::TokenIssuePayload {
            chain_id, nonce, symbol: symbol.clone(), name: name.clone(), decimals, master_authority,
            is_private, clawback_enabled: ours.clawback_enabled,
        };
        prop_assert_eq!(ours.token_address(), theirs.derive_mint_address());
        let signed = SignedTx::sign(ours.clone(), &signer, profile);
        if profile.issue_has_clawback() {
            prop_assert_eq!(keccak256(ours.signing_rlp(profile)), theirs.signature_hash());
            check_hash_and_recovery(&signed, theirs.clone(), &signer)?;
        } else {
            let legacy = LegacyIssue { chain_id, nonce, symbol, name, decimals, master_authority, is_private };
            prop_assert_eq!(keccak256(ours.signing_rlp(profile)), legacy.signature_hash());
            check_hash_and_recovery(&signed, legacy, &signer)?;
        }
        let parsed: om_rest_types::TokenIssueRequest =
            serde_json::from_slice(&signed.body(profile)).expect("official type reads our body");
        prop_assert_eq!(&parsed.data, &theirs);
        prop_assert_eq!(parsed.signature, rest_signature(&signed.signature));
    }
}
