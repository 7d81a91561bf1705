//! Our `/v2` signing (PROTOCOL.md section 8.4) against an independent encoder: the official
//! `om-primitives-types` payloads for the inner list (they have no v2) wrapped in structs
//! derived with `alloy-rlp`'s `RlpEncodable`, over thousands of random payloads, memos and
//! keys of all four kinds: payload RLP, signing hash, transaction hash, signer recovery, and
//! the body's `memo` and `authorization`.

use alloy_primitives::{Bytes, U256, keccak256};
use alloy_rlp::{Encodable, RlpEncodable};
use om_primitives_types::transaction::payload as om;
use proptest::prelude::*;
use stress_tui::protocol::surface::{
    V2_DOMAIN, op_type, v2_payload_rlp, v2_signing_hash, v2_transaction_hash,
};
use stress_tui::protocol::{
    AuthorityAction, AuthorityPayload, AuthorityType, IssuePayload, Memo, MintPayload, Payload,
    PayloadProfile, PaymentPayload, SignedTx, Signer, WriteSurface, recover_signer,
};

use crate::oracle::{address, signer, u256};

#[derive(RlpEncodable)]
struct MemoList {
    kind: String,
    format: String,
    data: String,
}

#[derive(RlpEncodable)]
struct PayloadList<T: Encodable> {
    inner: T,
    memo: MemoList,
}

#[derive(RlpEncodable)]
struct Descriptor {
    single_signer: u8,
}

#[derive(RlpEncodable)]
struct Proof {
    r: U256,
    s: U256,
    v: u8,
}

#[derive(RlpEncodable)]
struct Unsigned {
    domain: Bytes,
    op_type: u8,
    descriptor: Descriptor,
    payload_rlp: Bytes,
}

#[derive(RlpEncodable)]
struct SignedEnvelope {
    domain: Bytes,
    op_type: u8,
    descriptor: Descriptor,
    payload_rlp: Bytes,
    proof: Proof,
}

/// Checks one payload: `theirs` is the official type of the same fields.
fn check<P: Payload, T: Encodable>(
    ours: P,
    theirs: T,
    memo: &Memo,
    signer: &Signer,
) -> Result<(), TestCaseError> {
    let profile = PayloadProfile::Current;
    let expected_payload = alloy_rlp::encode(PayloadList {
        inner: theirs,
        memo: MemoList {
            kind: memo.kind.clone(),
            format: memo.format.clone(),
            data: memo.data.clone(),
        },
    });
    let payload_rlp = v2_payload_rlp(&ours, profile, memo);
    prop_assert_eq!(&payload_rlp, &expected_payload);
    let domain = Bytes::from_static(V2_DOMAIN);
    let descriptor = || Descriptor { single_signer: 0 };
    let unsigned = Unsigned {
        domain: domain.clone(),
        op_type: op_type(P::KIND),
        descriptor: descriptor(),
        payload_rlp: Bytes::from(expected_payload.clone()),
    };
    let digest = keccak256(alloy_rlp::encode(&unsigned));
    prop_assert_eq!(v2_signing_hash(P::KIND, &payload_rlp), digest);
    let signed = SignedTx::sign_v2(ours, signer, profile, memo);
    prop_assert_eq!(
        recover_signer(&digest, &signed.signature),
        Ok(signer.address())
    );
    prop_assert!(!signed.signature.is_high_s());
    let envelope = SignedEnvelope {
        domain,
        op_type: op_type(P::KIND),
        descriptor: descriptor(),
        payload_rlp: Bytes::from(expected_payload),
        proof: Proof {
            r: signed.signature.r,
            s: signed.signature.s,
            v: signed.signature.v(),
        },
    };
    prop_assert_eq!(signed.hash, keccak256(alloy_rlp::encode(&envelope)));
    prop_assert_eq!(
        v2_transaction_hash(P::KIND, &payload_rlp, &signed.signature),
        signed.hash
    );
    let body: serde_json::Value =
        serde_json::from_slice(&signed.body_for(profile, WriteSurface::V2, memo)).unwrap();
    prop_assert!(body.get("signature").is_none());
    prop_assert_eq!(&body["memo"]["type"], &serde_json::json!(memo.kind));
    prop_assert_eq!(&body["memo"]["format"], &serde_json::json!(memo.format));
    prop_assert_eq!(&body["memo"]["data"], &serde_json::json!(memo.data));
    prop_assert_eq!(&body["authorization"]["type"], "single_secp256k1");
    prop_assert_eq!(
        &body["authorization"]["signature"]["r"],
        &serde_json::json!(format!("0x{:064x}", signed.signature.r))
    );
    prop_assert_eq!(
        &body["authorization"]["signature"]["v"],
        &serde_json::json!(signed.signature.v())
    );
    Ok(())
}

/// Memos of any content (the encoding does not depend on the node's limits), empty among them,
/// and lengths across RLP's 55-byte short/long boundary.
fn memo() -> impl Strategy<Value = Memo> {
    prop_oneof![
        Just(Memo::default()),
        ("[ -~]{0,130}", "[ -~]{0,70}", "\\PC{0,80}")
            .prop_map(|(kind, format, data)| Memo::new(&kind, &format, &data)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn v2_payment_matches_the_independent_encoder(
        signer in signer(), chain_id in any::<u64>(), nonce in any::<u64>(),
        recipient in address(), value in u256(), token in address(), memo in memo(),
    ) {
        let ours = PaymentPayload { chain_id, nonce, recipient, value, token };
        let theirs = om::PaymentPayload { chain_id, nonce, recipient, value, token };
        check(ours, theirs, &memo, &signer)?;
    }

    #[test]
    fn v2_mint_matches_the_independent_encoder(
        signer in signer(), chain_id in any::<u64>(), nonce in any::<u64>(),
        recipient in address(), value in u256(), token in address(), memo in memo(),
    ) {
        let ours = MintPayload { chain_id, nonce, recipient, value, token };
        let theirs = om::TokenMintPayload { chain_id, nonce, recipient, value, token };
        check(ours, theirs, &memo, &signer)?;
    }

    #[test]
    fn v2_authority_matches_the_independent_encoder(
        signer in signer(), chain_id in any::<u64>(), nonce in any::<u64>(), grant in any::<bool>(),
        authority_address in address(), token in address(), value in u256(), memo in memo(),
    ) {
        let action = if grant { AuthorityAction::Grant } else { AuthorityAction::Revoke };
        let ours = AuthorityPayload {
            chain_id, nonce, action, authority_type: AuthorityType::MintBurnTokens,
            authority_address, token, value,
        };
        let theirs = om::TokenAuthorityPayload {
            chain_id, nonce,
            action: if grant { om::AuthorityAction::Grant } else { om::AuthorityAction::Revoke },
            authority_type: om::Authority::MintBurnTokens,
            authority_address, token, value,
        };
        check(ours, theirs, &memo, &signer)?;
    }

    #[test]
    fn v2_issue_matches_the_independent_encoder(
        signer in signer(), chain_id in any::<u64>(), nonce in any::<u64>(),
        symbol in "[A-Za-z0-9]{1,20}", name in "\\PC{1,40}",
        decimals in 0u8..=18, master_authority in address(), is_private in any::<bool>(),
        clawback_enabled in any::<bool>(), memo in memo(),
    ) {
        let ours = IssuePayload {
            chain_id, nonce, symbol: symbol.clone(), name: name.clone(), decimals,
            master_authority, is_private, clawback_enabled,
        };
        let theirs = om::TokenIssuePayload {
            chain_id, nonce, symbol, name, decimals, master_authority, is_private, clawback_enabled,
        };
        check(ours, theirs, &memo, &signer)?;
    }
}
