//! Every admission rule of the devnet, over HTTP: the violating transaction is refused with
//! the right status and `error_code`, and no balance, supply, allowance or nonce changes
//! (the ledger admitted nothing).

use std::time::Duration;

use stress_tui::client::NodeClient;
use stress_tui::devnet::DevnetConfig;
use stress_tui::protocol::{Address, U256};

use crate::support::*;

/// Everything a refused transaction must leave untouched, read over HTTP.
#[derive(Debug, PartialEq)]
struct Observed {
    nonces: Vec<u64>,
    balances: Vec<U256>,
    supply: U256,
    allowances: Vec<(Address, U256)>,
}

async fn observe(f: &Funded, accounts: &[Address]) -> Observed {
    let node: &NodeClient = &f.node;
    let mut nonces = Vec::new();
    let mut balances = Vec::new();
    for &account in accounts {
        nonces.push(node.nonce(account).await.unwrap());
        balances.push(node.token_account(account, f.token).await.unwrap().balance);
    }
    let info = node.token_metadata(f.token).await.unwrap();
    Observed {
        nonces,
        balances,
        supply: info.supply,
        allowances: info
            .mint_burn_authorities
            .iter()
            .map(|m| (m.minter, m.allowance))
            .collect(),
    }
}

/// Sends `attempt`, checks its status and code, and that nothing was admitted or changed.
pub(crate) async fn refused<F, Fut, T>(f: &Funded, status: u16, code: &str, attempt: F) -> String
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, stress_tui::client::CallError>>,
    T: std::fmt::Debug,
{
    let accounts = [
        operator().address(),
        f.minter.address(),
        f.holder.address(),
        signer(13).address(),
    ];
    let before = observe(f, &accounts).await;
    let admitted_before = f.devnet.stats().admitted;
    let message = expect_status(attempt().await, status, code);
    assert_eq!(
        f.devnet.stats().admitted,
        admitted_before,
        "nothing admitted"
    );
    assert_eq!(f.devnet.stats().pending, 0);
    assert_eq!(observe(f, &accounts).await, before, "state unchanged");
    message
}

pub(crate) async fn setup() -> Funded {
    funded(DevnetConfig::ephemeral(1)).await
}

#[tokio::test]
async fn wrong_chain_id() {
    let f = setup().await;
    let mut tx = pay(&f.holder, 0, f.token, signer(13).address(), 1).payload;
    tx.chain_id = 1;
    let signed = sign(tx, &f.holder);
    let message = refused(&f, 422, "business_transaction_failed", || {
        f.node.submit(&signed, PROFILE)
    })
    .await;
    assert!(message.contains("chain id"), "{message}");
}

#[tokio::test]
async fn signature_from_the_wrong_key() {
    let f = setup().await;
    // Meant as the holder's payment, signed by a key with no balance: the node recovers that key.
    let signed = pay(&signer(13), 0, f.token, f.minter.address(), 1);
    refused(&f, 422, "business_insufficient_balance", || {
        f.node.submit(&signed, PROFILE)
    })
    .await;
}

#[tokio::test]
async fn high_s_signature() {
    let f = setup().await;
    let mut signed = pay(&f.holder, 0, f.token, signer(13).address(), 1);
    let order = U256::from_str_radix(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
        16,
    )
    .unwrap();
    // (r, n - s, !v) is the same signature in its high-S form: valid ECDSA, refused by rule.
    signed.signature.s = order - signed.signature.s;
    signed.signature.y_parity = !signed.signature.y_parity;
    let message = refused(&f, 400, "validation_invalid_signature", || {
        f.node.submit(&signed, PROFILE)
    })
    .await;
    assert!(message.contains("high-S"), "{message}");
}

#[tokio::test]
async fn nonce_gap() {
    let f = setup().await;
    let signed = pay(&f.holder, 2, f.token, signer(13).address(), 1);
    let message = refused(&f, 422, "business_invalid_nonce", || {
        f.node.submit(&signed, PROFILE)
    })
    .await;
    assert_eq!(message, "expected 0, got 2");
}

#[tokio::test]
async fn nonce_reuse() {
    let f = setup().await;
    let first = pay(&f.holder, 0, f.token, signer(13).address(), 1);
    let hash = f.node.submit(&first, PROFILE).await.unwrap();
    wait_receipt(&f.node, hash).await;
    let again = pay(&f.holder, 0, f.token, signer(14).address(), 1);
    let message = refused(&f, 422, "business_invalid_nonce", || {
        f.node.submit(&again, PROFILE)
    })
    .await;
    assert_eq!(message, "expected 1, got 0");
}

#[tokio::test]
async fn duplicate_submission() {
    let config = DevnetConfig {
        finality: Duration::from_secs(1),
        ..DevnetConfig::ephemeral(1)
    };
    let f = funded(config).await;
    let signed = pay(&f.holder, 0, f.token, signer(13).address(), 7);
    let admitted = f.devnet.stats().admitted;
    let hash = f.node.submit(&signed, PROFILE).await.unwrap();
    expect_status(
        f.node.submit(&signed, PROFILE).await,
        500,
        "system_pool_error",
    );
    assert_eq!(f.devnet.stats().admitted, admitted + 1, "admitted once");
    wait_receipt(&f.node, hash).await;
    let balance = f
        .node
        .token_account(signer(13).address(), f.token)
        .await
        .unwrap()
        .balance;
    assert_eq!(balance, U256::from(7), "applied once");
    assert_eq!(f.node.nonce(f.holder.address()).await.unwrap(), 1);
    // Once executed, the same transaction is a stale nonce.
    expect_status(
        f.node.submit(&signed, PROFILE).await,
        422,
        "business_invalid_nonce",
    );
}

#[tokio::test]
async fn non_operator_issue() {
    let f = setup().await;
    let mut tx = issue(0, "NOPE").payload;
    tx.master_authority = f.holder.address();
    let signed = sign(tx, &f.holder);
    refused(&f, 422, "business_unauthorized", || {
        f.node.submit_issue(&signed, PROFILE)
    })
    .await;
}

#[tokio::test]
async fn mint_without_authority() {
    let f = setup().await;
    let signed = mint(&f.holder, 0, f.token, f.holder.address(), 1);
    refused(&f, 422, "business_unauthorized", || {
        f.node.submit(&signed, PROFILE)
    })
    .await;
}

#[tokio::test]
async fn mint_above_allowance() {
    let f = setup().await;
    // 1,000 granted, 500 minted: 501 is one too many.
    let signed = mint(&f.minter, 1, f.token, f.holder.address(), 501);
    refused(&f, 422, "business_allowance_exceeded", || {
        f.node.submit(&signed, PROFILE)
    })
    .await;
}

#[tokio::test]
async fn payment_above_balance() {
    let f = setup().await;
    let signed = pay(&f.holder, 0, f.token, signer(13).address(), 501);
    refused(&f, 422, "business_insufficient_balance", || {
        f.node.submit(&signed, PROFILE)
    })
    .await;
}

#[tokio::test]
async fn unknown_token() {
    let f = setup().await;
    let signed = pay(
        &f.holder,
        0,
        Address::repeat_byte(0x77),
        signer(13).address(),
        1,
    );
    refused(&f, 422, "business_token_not_found", || {
        f.node.submit(&signed, PROFILE)
    })
    .await;
}

#[tokio::test]
async fn malformed_json() {
    let f = setup().await;
    let body = b"{\"chain_id\": 1212101, \"nonce\": ".to_vec();
    let send = || {
        f.node
            .submit_body(stress_tui::protocol::TxKind::Payment.path(), body.clone())
    };
    refused(&f, 400, "validation_invalid_param", send).await;
    let missing =
        br#"{"chain_id":1212101,"nonce":0,"signature":{"r":"0x1","s":"0x1","v":0}}"#.to_vec();
    let send = || {
        f.node.submit_body(
            stress_tui::protocol::TxKind::Payment.path(),
            missing.clone(),
        )
    };
    refused(&f, 400, "validation_missing_param", send).await;
}

#[tokio::test]
async fn bad_address() {
    let f = setup().await;
    let body = String::from_utf8(pay(&f.holder, 0, f.token, signer(13).address(), 1).body(PROFILE))
        .unwrap();
    let recipient = signer(13).address().to_string().to_lowercase();
    assert!(body.contains(&recipient), "{body}");
    let broken = body.replace(&recipient, "0x1234").into_bytes();
    let send = || {
        f.node
            .submit_body(stress_tui::protocol::TxKind::Payment.path(), broken.clone())
    };
    let message = refused(&f, 400, "validation_invalid_address", send).await;
    assert!(message.contains("recipient"), "{message}");
    let query = f
        .node
        .call(
            axum::http::Method::GET,
            "/v1/accounts/nonce?address=0xnothex",
            None,
        )
        .await;
    expect_status(query, 400, "validation_invalid_address");
}
