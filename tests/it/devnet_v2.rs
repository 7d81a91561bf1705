//! The devnet's 2026 write surface (PROTOCOL.md section 8), over HTTP: `/api/status` per mode,
//! `/v2` admission with its hashes and memo, and every refusal with its status and code,
//! nothing admitted and no nonce or balance changed.

use stress_tui::client::CallError;
use stress_tui::devnet::KnobsPatch;
use stress_tui::protocol::{
    B256, Memo, NodeWriteMode, Payload, PaymentPayload, SignedTx, Signer, TxKind, U256,
    WriteSurface,
};

use crate::devnet_rules::{refused, setup};
use crate::support::*;

fn v2_body<P: Payload>(payload: P, by: &Signer, memo: &Memo) -> (Vec<u8>, B256) {
    let signed = SignedTx::sign_v2(payload, by, PROFILE, memo);
    (
        signed.body_for(PROFILE, WriteSurface::V2, memo),
        signed.hash,
    )
}

fn payment(f: &Funded, nonce: u64, value: u64) -> PaymentPayload {
    pay(&f.holder, nonce, f.token, signer(13).address(), value).payload
}

async fn post(f: &Funded, kind: TxKind, body: &[u8]) -> Result<B256, CallError> {
    f.node
        .submit_body(WriteSurface::V2.path(kind), body.to_vec())
        .await
}

fn set_mode(f: &Funded, mode: NodeWriteMode) {
    f.devnet
        .set_knobs(
            0,
            &KnobsPatch {
                write_mode: Some(mode),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
}

#[tokio::test]
async fn status_follows_the_write_mode_knob() {
    let f = setup().await;
    let status = f.node.api_status().await.unwrap().unwrap();
    assert_eq!(status.mode(), NodeWriteMode::Dual, "the default");
    assert!(status.dual_activated_at_secs.is_some());
    for mode in NodeWriteMode::WRITE_MODES {
        set_mode(&f, mode);
        let status = f.node.api_status().await.unwrap().unwrap();
        assert_eq!(status.native_write_mode, mode);
        assert_eq!(
            status.dual_activated_at_secs.is_none(),
            mode == NodeWriteMode::V1Only
        );
    }
    f.devnet
        .set_knobs(
            0,
            &KnobsPatch {
                read_only: Some(true),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
    let status = f.node.api_status().await.unwrap().unwrap();
    assert!(status.read_only);
    assert_eq!(status.mode(), NodeWriteMode::ReadOnly);
}

#[tokio::test]
async fn a_v2_payment_is_admitted_with_its_hash_and_memo() {
    let f = setup().await;
    let memo = Memo::new("purpose/SALA", "text/plain", "invoice-0001");
    let (body, hash) = v2_body(payment(&f, 0, 5), &f.holder, &memo);
    assert_eq!(post(&f, TxKind::Payment, &body).await.unwrap(), hash);
    let receipt = wait_receipt(&f.node, hash).await;
    assert!(receipt.success);
    assert_eq!(receipt.transaction_hash, hash);
    let tx = f.node.transaction(hash).await.unwrap();
    assert_eq!(tx.memo, Some(memo));
    let listed = f
        .node
        .checkpoint_hashes(receipt.checkpoint_number.unwrap())
        .await
        .unwrap();
    assert!(listed.transactions.contains(&hash));
    let balance = f
        .node
        .token_account(signer(13).address(), f.token)
        .await
        .unwrap()
        .balance;
    assert_eq!(balance, U256::from(5));
    // No memo: by_hash carries none.
    let (body, hash) = v2_body(payment(&f, 1, 1), &f.holder, &Memo::default());
    post(&f, TxKind::Payment, &body).await.unwrap();
    wait_receipt(&f.node, hash).await;
    assert_eq!(f.node.transaction(hash).await.unwrap().memo, None);
}

#[tokio::test]
async fn each_surface_is_refused_where_the_mode_says_so() {
    let f = setup().await;
    let v1 = pay(&f.holder, 0, f.token, signer(13).address(), 1);
    let (v2, _) = v2_body(payment(&f, 0, 1), &f.holder, &Memo::default());
    set_mode(&f, NodeWriteMode::V2Only);
    refused(&f, 410, "LEGACY_NATIVE_WRITE_ENDPOINT_DISABLED", || {
        f.node.submit(&v1, PROFILE)
    })
    .await;
    set_mode(&f, NodeWriteMode::V1Only);
    refused(&f, 403, "DOMAIN_SEPARATED_SIGNATURE_NOT_ACTIVE", || {
        post(&f, TxKind::Payment, &v2)
    })
    .await;
    f.devnet
        .set_knobs(
            0,
            &KnobsPatch {
                read_only: Some(true),
                write_mode: Some(NodeWriteMode::Dual),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
    refused(&f, 403, "NODE_READ_ONLY", || f.node.submit(&v1, PROFILE)).await;
    refused(&f, 403, "NODE_READ_ONLY", || post(&f, TxKind::Payment, &v2)).await;
}

#[tokio::test]
async fn a_v1_style_signature_on_v2_is_refused() {
    let f = setup().await;
    let v1_body = pay(&f.holder, 0, f.token, signer(13).address(), 1).body(PROFILE);
    refused(&f, 400, "DOMAIN_SEPARATED_SIGNATURE_REQUIRED", || {
        post(&f, TxKind::Payment, &v1_body)
    })
    .await;
}

/// The v2 body of a fresh payment with its JSON edited by `edit`.
fn edited(f: &Funded, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let (body, _) = v2_body(payment(f, 0, 1), &f.holder, &Memo::default());
    let mut json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    edit(&mut json);
    serde_json::to_vec(&json).unwrap()
}

#[tokio::test]
async fn bad_authorizations_are_refused() {
    let f = setup().await;
    let multisig = edited(&f, |json| {
        json["authorization"]["type"] = "multisig_secp256k1".into();
    });
    refused(&f, 400, "UNSUPPORTED_AUTHORIZATION_TYPE", || {
        post(&f, TxKind::Payment, &multisig)
    })
    .await;
    let v = |json: &serde_json::Value| json["authorization"]["signature"]["v"].as_u64().unwrap();
    for legacy_v in [27, 28, 37] {
        let body = edited(&f, |json| {
            let parity = v(json);
            json["authorization"]["signature"]["v"] = (legacy_v + parity % 2).into();
        });
        let message = refused(&f, 400, "validation_invalid_signature", || {
            post(&f, TxKind::Payment, &body)
        })
        .await;
        assert!(message.contains("0 or 1"), "{message}");
    }
    let order = U256::from_str_radix(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
        16,
    )
    .unwrap();
    let high_s = edited(&f, |json| {
        let sig = &mut json["authorization"]["signature"];
        let s: U256 = sig["s"].as_str().unwrap().parse().unwrap();
        sig["s"] = format!("0x{:064x}", order - s).into();
        sig["v"] = (1 - sig["v"].as_u64().unwrap()).into();
    });
    refused(&f, 400, "validation_invalid_signature", || {
        post(&f, TxKind::Payment, &high_s)
    })
    .await;
    let no_memo = edited(&f, |json| {
        json.as_object_mut().unwrap().remove("memo");
    });
    refused(&f, 400, "validation_missing_param", || {
        post(&f, TxKind::Payment, &no_memo)
    })
    .await;
}

#[tokio::test]
async fn v1_refuses_a_v_the_official_conversion_refuses() {
    let f = setup().await;
    let body = String::from_utf8(pay(&f.holder, 0, f.token, signer(13).address(), 1).body(PROFILE))
        .unwrap();
    for bad in ["\"v\":2", "\"v\":26", "\"v\":34"] {
        let broken = body
            .replace("\"v\":0", bad)
            .replace("\"v\":1", bad)
            .into_bytes();
        refused(&f, 400, "validation_invalid_signature", || {
            f.node.submit_body(TxKind::Payment.path(), broken.clone())
        })
        .await;
    }
}

#[tokio::test]
async fn every_memo_rule_has_its_code() {
    let f = setup().await;
    let long = |n: usize| "a".repeat(n);
    for (memo, code) in [
        (Memo::new(&long(129), "", ""), "MEMO_TYPE_TOO_LONG"),
        (Memo::new("bad type", "", ""), "MEMO_TYPE_INVALID_CHARS"),
        (Memo::new("", &long(65), ""), "MEMO_FORMAT_TOO_LONG"),
        (Memo::new("", "text/<b>", ""), "MEMO_FORMAT_INVALID_CHARS"),
        (Memo::new("", "", &long(257)), "MEMO_DATA_TOO_LONG"),
        (Memo::new("", "", "tab\there"), "MEMO_DATA_CONTROL_CHARS"),
        (Memo::new("", "", &long(497)), "MEMO_TOO_LARGE"),
    ] {
        // Signed with the memo, as a careless client would: the node checks before anything.
        let (body, _) = v2_body(payment(&f, 0, 1), &f.holder, &memo);
        refused(&f, 400, code, || post(&f, TxKind::Payment, &body)).await;
    }
}

#[tokio::test]
async fn a_body_posted_to_another_operations_path_is_refused() {
    let f = setup().await;
    // A payment's fields read as a mint, signed under op_type 1, verified under 3: another
    // signer is recovered, and it has no mint authority.
    let (body, _) = v2_body(payment(&f, 0, 1), &f.holder, &Memo::default());
    refused(&f, 422, "business_unauthorized", || {
        post(&f, TxKind::Mint, &body)
    })
    .await;
    // The other way round: a mint posted as a payment recovers a stranger with no balance.
    let stranger = signer(20);
    let mint = mint(&stranger, 0, f.token, f.holder.address(), 1).payload;
    let (body, _) = v2_body(mint, &stranger, &Memo::default());
    refused(&f, 422, "business_insufficient_balance", || {
        post(&f, TxKind::Payment, &body)
    })
    .await;
}

#[tokio::test]
async fn the_admin_api_cuts_a_node_over() {
    let f = setup().await;
    let admin = client(&f.devnet.admin_url());
    let answer = admin
        .call(
            axum::http::Method::POST,
            "/nodes/0",
            Some(br#"{"write_mode":"v2_only"}"#.to_vec()),
        )
        .await
        .unwrap();
    let knobs: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(knobs["knobs"]["write_mode"], "v2_only");
    assert_eq!(
        f.node.api_status().await.unwrap().unwrap().mode(),
        NodeWriteMode::V2Only
    );
    let refused_mode = admin
        .call(
            axum::http::Method::POST,
            "/nodes/0",
            Some(br#"{"write_mode":"read_only"}"#.to_vec()),
        )
        .await;
    expect_status(refused_mode, 400, "");
}
