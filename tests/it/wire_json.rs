//! JSON round trips of every request and response shape, the three U256 spellings on input,
//! v = 27/28 on input, and lowercase addresses on output.

use serde::Serialize;
use serde::de::DeserializeOwned;
use stress_tui::protocol::wire::{
    ChainIdResponse, CheckpointNumberResponse, ErrorBody, FeeEstimateResponse, HashResponse,
    IssueResponse, MintInfo, MinterAllowance, NonceResponse, Receipt, SignedRequest,
    TokenAccountResponse, Transaction, TransactionData,
};
use stress_tui::protocol::{
    Address, AuthorityAction, AuthorityPayload, AuthorityType, B256, IssuePayload, MintPayload,
    Payload, PayloadProfile, PaymentPayload, PrivateKey, Signature, SignedTx, Signer, U256,
};

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, value, "{json}");
    json
}

fn mixed_case_address() -> Address {
    "0xA634dfba8c7550550817898bC4820cD10888Aac5"
        .parse()
        .unwrap()
}

fn signer() -> Signer {
    Signer::new(PrivateKey::from_bytes([7u8; 32]).unwrap())
}

fn request_round_trip<P: Payload + DeserializeOwned + PartialEq + std::fmt::Debug>(payload: P) {
    for profile in PayloadProfile::ALL {
        let signed = SignedTx::sign(payload.clone(), &signer(), profile);
        let body = String::from_utf8(signed.body(profile)).unwrap();
        let parsed: SignedRequest<P> = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed.payload, signed.payload, "{body}");
        assert_eq!(parsed.signature, signed.signature);
        // A node also accepts the legacy v spelling; only the parity counts.
        let legacy_v = if signed.signature.y_parity { 28 } else { 27 };
        let legacy = body.replace(
            &format!("\"v\":{}", signed.signature.v()),
            &format!("\"v\":{legacy_v}"),
        );
        let parsed: SignedRequest<P> = serde_json::from_str(&legacy).unwrap();
        assert_eq!(parsed.signature, signed.signature, "{legacy}");
    }
}

#[test]
fn every_request_kind_round_trips() {
    let token = mixed_case_address();
    request_round_trip(PaymentPayload {
        chain_id: 1,
        nonce: 2,
        recipient: token,
        value: U256::MAX,
        token,
    });
    request_round_trip(MintPayload {
        chain_id: 1,
        nonce: 2,
        recipient: token,
        value: U256::from(5),
        token,
    });
    request_round_trip(AuthorityPayload {
        chain_id: 1,
        nonce: 9,
        action: AuthorityAction::Revoke,
        authority_type: AuthorityType::MintBurnTokens,
        authority_address: token,
        token,
        value: U256::ZERO,
    });
    request_round_trip(IssuePayload {
        chain_id: 1,
        nonce: 0,
        symbol: "ABC1".into(),
        name: "Round Trip".into(),
        decimals: 6,
        master_authority: token,
        is_private: true,
        clawback_enabled: true,
    });
}

#[test]
fn value_accepts_number_decimal_and_hex() {
    let template = r#"{"chain_id":1212101,"nonce":3,"recipient":"0xA634DFBA8C7550550817898BC4820CD10888AAC5","value":VALUE,"token":"0x5458747a0efb9ebeb8696fcac1479278c0872fbe","signature":{"r":"0x01","s":2,"v":0}}"#;
    for spelling in [
        "1000",
        "\"1000\"",
        "\"0x3e8\"",
        "\"0x00000000000000000000000000000000000000000000000000000000000003e8\"",
    ] {
        let parsed: SignedRequest<PaymentPayload> =
            serde_json::from_str(&template.replace("VALUE", spelling)).unwrap();
        assert_eq!(parsed.payload.value, U256::from(1000), "{spelling}");
        assert_eq!(parsed.signature.r, U256::from(1));
        assert_eq!(parsed.signature.s, U256::from(2));
    }
    for bad in ["-1", "\"ten\"", "1.5", "\"0x\""] {
        assert!(
            serde_json::from_str::<SignedRequest<PaymentPayload>>(&template.replace("VALUE", bad))
                .is_err(),
            "{bad}"
        );
    }
}

#[test]
fn every_response_shape_round_trips() {
    let address = mixed_case_address();
    let hash = B256::repeat_byte(0xab);
    round_trip(&ChainIdResponse {
        chain_id: 1_212_101,
    });
    round_trip(&CheckpointNumberResponse { number: 42 });
    round_trip(&NonceResponse { nonce: 7 });
    let account = round_trip(&TokenAccountResponse {
        balance: U256::from(10).pow(U256::from(30)),
        nonce: 1,
    });
    assert!(
        account.contains("\"balance\":\"1000000000000000000000000000000\""),
        "{account}"
    );
    round_trip(&HashResponse { hash });
    let issued = round_trip(&IssueResponse {
        hash,
        token: address,
    });
    assert!(
        issued.contains("0xa634dfba8c7550550817898bc4820cd10888aac5"),
        "addresses are lowercase: {issued}"
    );
    round_trip(&FeeEstimateResponse { fee: U256::ZERO });
    round_trip(&ErrorBody {
        error_code: "business_invalid_nonce".into(),
        message: "expected 1, got 2".into(),
    });
    round_trip(&MintInfo {
        symbol: "ABC".into(),
        master_authority: address,
        master_mint_burn_authority: Address::ZERO,
        mint_burn_authorities: vec![MinterAllowance {
            minter: address,
            allowance: U256::from(99),
        }],
        pause_authorities: vec![],
        list_authorities: vec![address],
        black_list: vec![],
        white_list: vec![],
        metadata_update_authorities: vec![],
        bridge_mint_authorities: vec![],
        clawback_enabled: true,
        clawback_authorities: vec![],
        supply: U256::from(5),
        decimals: 6,
        is_paused: false,
        is_private: false,
        meta: None,
    });
    let receipt = Receipt {
        success: true,
        transaction_hash: hash,
        transaction_index: Some(3),
        checkpoint_hash: Some(hash),
        checkpoint_number: Some(8),
        fee_used: U256::ZERO,
        from: address,
        recipient: None,
        token_address: Some(address),
        success_info: None,
    };
    let json = round_trip(&receipt);
    assert!(!json.contains("success_info"), "omitted when null: {json}");
}

#[test]
fn every_transaction_kind_round_trips() {
    let address = mixed_case_address();
    let hash = B256::repeat_byte(0xab);
    for data in [
        TransactionData::TokenTransfer {
            value: "10".into(),
            recipient: address,
            token: Some(address),
        },
        TransactionData::TokenMint {
            value: "10".into(),
            recipient: address,
            token: address,
        },
        TransactionData::TokenGrantAuthority {
            authority_type: "MintBurnTokens".into(),
            authority_address: address,
            value: Some("5".into()),
            token: address,
        },
        TransactionData::TokenRevokeAuthority {
            authority_type: "Pause".into(),
            authority_address: address,
            value: None,
            token: address,
        },
        TransactionData::TokenCreate {
            symbol: "ABC".into(),
            decimals: 6,
            master_authority: address,
            is_private: false,
            clawback_enabled: true,
            name: "A".into(),
        },
    ] {
        let json = round_trip(&Transaction {
            hash,
            checkpoint_hash: None,
            checkpoint_number: None,
            transaction_index: None,
            chain_id: 1,
            from: address,
            nonce: 4,
            data,
            signature_type: "Single".into(),
            signature: Signature {
                r: U256::from(1),
                s: U256::from(2),
                y_parity: true,
            },
            memo: None,
        });
        assert!(json.contains("\"transaction_type\":\"Token"), "{json}");
    }
}

#[test]
fn receipt_reads_the_official_shape() {
    // As a node writes it: fee as a decimal string, success_info absent.
    let json = r#"{"success":false,"transaction_hash":"0xd002ef79e1b20b132d3bc679df4db240c891d5408c50b883f9020e9d65ac3740","transaction_index":null,"checkpoint_hash":null,"checkpoint_number":null,"fee_used":"0","from":"0x2045a425d0e131e747f8be2f044413733e412d7d","recipient":null,"token_address":null}"#;
    let receipt: Receipt = serde_json::from_str(json).unwrap();
    assert!(!receipt.success);
    let official: om_rest_types::TransactionReceipt =
        serde_json::from_str(&serde_json::to_string(&receipt).unwrap()).unwrap();
    assert_eq!(official.transaction_hash, receipt.transaction_hash);
}
