//! The devnet's happy path across nodes, and the official Rust SDK (`onemoney-protocol`)
//! driving it: every response parses and agrees with what our own client sees.

use std::str::FromStr;

use onemoney_protocol as sdk;
use stress_tui::devnet::{Devnet, DevnetConfig, OPERATOR_KEY_HEX};
use stress_tui::protocol::wire::TransactionData;
use stress_tui::protocol::{Address, PrivateKey, U256};

use crate::support::*;

#[tokio::test]
async fn issue_grant_mint_pay_across_nodes_then_read_from_a_third() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(3)).await.unwrap();
    let urls = devnet.urls();
    let (a, b, c) = (client(&urls[0]), client(&urls[1]), client(&urls[2]));
    assert_eq!(c.chain_id().await.unwrap(), CHAIN);
    let (minter, payer, payee) = (signer(21), signer(22), signer(23));

    let (hash, token) = a.submit_issue(&issue(0, "FLOW1"), PROFILE).await.unwrap();
    assert_eq!(
        token,
        stress_tui::protocol::token_address(operator().address(), "FLOW1")
    );
    wait_receipt(&c, hash).await;
    let hash = b
        .submit(&grant(1, token, minter.address(), 10_000), PROFILE)
        .await
        .unwrap();
    wait_receipt(&c, hash).await;
    let hash = a
        .submit(&mint(&minter, 0, token, payer.address(), 4_000), PROFILE)
        .await
        .unwrap();
    wait_receipt(&c, hash).await;
    let hash = b
        .submit(&pay(&payer, 0, token, payee.address(), 1_500), PROFILE)
        .await
        .unwrap();
    let receipt = wait_receipt(&c, hash).await;

    assert!(receipt.success);
    assert_eq!(receipt.from, payer.address());
    assert_eq!(receipt.recipient, Some(payee.address()));
    assert_eq!(receipt.token_address, Some(token));
    assert_eq!(
        c.token_account(payer.address(), token)
            .await
            .unwrap()
            .balance,
        U256::from(2_500)
    );
    assert_eq!(
        c.token_account(payee.address(), token)
            .await
            .unwrap()
            .balance,
        U256::from(1_500)
    );
    assert_eq!(c.nonce(payer.address()).await.unwrap(), 1);
    assert_eq!(c.nonce(operator().address()).await.unwrap(), 2);
    let info = c.token_metadata(token).await.unwrap();
    assert_eq!(info.supply, U256::from(4_000));
    assert_eq!(info.mint_burn_authorities[0].minter, minter.address());
    assert_eq!(info.mint_burn_authorities[0].allowance, U256::from(6_000));
    let tx = c.transaction(hash).await.unwrap();
    assert_eq!(tx.from, payer.address());
    assert!(
        matches!(tx.data, TransactionData::TokenTransfer { recipient, .. } if recipient == payee.address())
    );
    assert!(c.checkpoint_number().await.unwrap() >= receipt.checkpoint_number.unwrap());
    devnet.shutdown().await;
}

#[tokio::test]
async fn official_sdk_drives_the_devnet() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let ours = client(&devnet.urls()[1]);
    let official = sdk::Client::custom(devnet.urls()[0].clone()).unwrap();
    let operator_address = operator().address();

    assert_eq!(official.fetch_chain_id_from_network().await.unwrap(), CHAIN);
    assert_eq!(
        official
            .get_account_nonce(operator_address)
            .await
            .unwrap()
            .nonce,
        0
    );

    // Issue with our client (the SDK's issue call is not needed by the workload), then let the
    // SDK grant, mint and pay, signing with its own code.
    let (hash, token) = ours.submit_issue(&issue(0, "SDK1"), PROFILE).await.unwrap();
    wait_receipt(&ours, hash).await;
    let minter_key = PrivateKey::from_bytes([31; 32]).unwrap();
    let payer_key = PrivateKey::from_bytes([32; 32]).unwrap();
    let (minter, payer, payee) = (
        minter_key.address(),
        payer_key.address(),
        Address::repeat_byte(0x33),
    );

    let grant = sdk::TokenAuthorityPayload {
        chain_id: CHAIN,
        nonce: 1,
        action: sdk::AuthorityAction::Grant,
        authority_type: sdk::Authority::MintBurnTokens,
        authority_address: minter,
        token,
        value: U256::from(1_000_000),
    };
    let granted = official
        .grant_authority(grant, OPERATOR_KEY_HEX)
        .await
        .unwrap();
    official
        .wait_for_transaction_receipt(&granted.hash.to_string())
        .await
        .unwrap();

    let mint = sdk::TokenMintPayload {
        chain_id: CHAIN,
        nonce: 0,
        recipient: payer,
        value: U256::from(9_000),
        token,
    };
    let minted = official
        .mint_token(mint, &minter_key.expose_hex())
        .await
        .unwrap();
    official
        .wait_for_transaction_receipt(&minted.hash.to_string())
        .await
        .unwrap();

    let payment = sdk::PaymentPayload {
        chain_id: CHAIN,
        nonce: 0,
        recipient: payee,
        value: U256::from(2_000),
        token,
    };
    let paid = official
        .send_payment(payment, &payer_key.expose_hex())
        .await
        .unwrap();
    let receipt = official
        .wait_for_transaction_receipt(&paid.hash.to_string())
        .await
        .unwrap();

    // What the SDK parsed agrees with what our client reads from the other node.
    let our_receipt = ours.receipt(paid.hash).await.unwrap();
    assert!(receipt.success && our_receipt.success);
    assert_eq!(receipt.transaction_hash, our_receipt.transaction_hash);
    assert_eq!(receipt.from, payer);
    assert_eq!(receipt.checkpoint_number, our_receipt.checkpoint_number);

    let tx = official
        .get_transaction_by_hash(&paid.hash.to_string())
        .await
        .unwrap();
    assert_eq!(tx.hash, paid.hash);
    assert_eq!(tx.from, payer);
    assert_eq!(tx.nonce, 0);
    assert_eq!(tx.hash, ours.transaction(paid.hash).await.unwrap().hash);

    let account = official
        .get_associated_token_account(payee, token)
        .await
        .unwrap();
    assert_eq!(account.balance, "2000");
    assert_eq!(
        U256::from_str(&account.balance).unwrap(),
        ours.token_account(payee, token).await.unwrap().balance
    );

    let info = official.get_token_metadata(token).await.unwrap();
    let our_info = ours.token_metadata(token).await.unwrap();
    assert_eq!(info.symbol, "SDK1");
    assert_eq!(info.supply, our_info.supply.to_string());
    assert_eq!(info.master_authority, operator_address);
    assert_eq!(info.mint_burn_authorities[0].allowance, "991000");

    assert_eq!(
        official.get_account_nonce(payer).await.unwrap().nonce,
        ours.nonce(payer).await.unwrap()
    );
    assert!(
        official.get_checkpoint_number().await.unwrap().number
            >= receipt.checkpoint_number.unwrap()
    );
    devnet.shutdown().await;
}

#[tokio::test]
async fn executed_transactions_are_evicted_beyond_the_cap() {
    let config = DevnetConfig {
        retain_executed: 2,
        ..DevnetConfig::ephemeral(1)
    };
    let f = funded(config).await;
    // Issue, grant and mint executed already: with a cap of 2 the issue is gone.
    let payee = signer(40).address();
    let mut hashes = Vec::new();
    for nonce in 0..4 {
        hashes.push(
            f.node
                .submit(&pay(&f.holder, nonce, f.token, payee, 1), PROFILE)
                .await
                .unwrap(),
        );
    }
    wait_receipt(&f.node, hashes[3]).await;
    let stats = f.devnet.stats();
    assert_eq!(stats.retained, 2);
    assert_eq!(stats.executed, 7);
    assert_eq!(stats.evicted, 5);
    assert!(
        f.node.receipt(hashes[0]).await.unwrap_err().is_not_found(),
        "oldest evicted"
    );
    assert!(f.node.receipt(hashes[3]).await.is_ok());
    // Balances are state, not history: nothing is lost.
    assert_eq!(
        f.node.token_account(payee, f.token).await.unwrap().balance,
        U256::from(4)
    );
}

#[tokio::test]
async fn checkpoints_list_each_transaction_where_its_receipt_places_it() {
    let f = funded(DevnetConfig::ephemeral(2)).await;
    let other = client(&f.devnet.urls()[1]);
    let payee = signer(41).address();
    let mut hashes = Vec::new();
    for nonce in 0..12 {
        let payment = pay(&f.holder, nonce, f.token, payee, 1);
        hashes.push(f.node.submit(&payment, PROFILE).await.unwrap());
        if nonce % 4 == 3 {
            // Spread the payments over more than one checkpoint (200 ms apart).
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
    let mut numbers = std::collections::BTreeSet::new();
    for hash in &hashes {
        let receipt = wait_receipt(&f.node, *hash).await;
        let (number, index) = (
            receipt.checkpoint_number.unwrap(),
            receipt.transaction_index.unwrap(),
        );
        numbers.insert(number);
        // Read from the other node: checkpoints are the cluster's, not a node's.
        let checkpoint = other.checkpoint_hashes(number).await.unwrap();
        assert_eq!(checkpoint.number, number);
        assert_eq!(
            checkpoint.transactions[usize::try_from(index).unwrap()],
            *hash
        );
    }
    assert!(numbers.len() >= 2, "payments landed in {numbers:?}");

    // The official SDK parses both shapes, and they agree with each other and with ours.
    let official = sdk::Client::custom(f.devnet.urls()[0].clone()).unwrap();
    for &number in &numbers {
        let ours = f.node.checkpoint_hashes(number).await.unwrap();
        let hashes_only = official
            .get_checkpoint_by_number(number, false)
            .await
            .unwrap();
        let full = official
            .get_checkpoint_by_number(number, true)
            .await
            .unwrap();
        assert_eq!(hashes_only.number, number);
        assert_eq!(hashes_only.transactions.len(), ours.transactions.len());
        let sdk::CheckpointTransactions::Full(transactions) = full.transactions else {
            panic!("full=true answered hashes");
        };
        let full_hashes: Vec<_> = transactions.iter().map(|t| t.hash).collect();
        assert_eq!(full_hashes, ours.transactions);
        assert_eq!(hashes_only.hash, full.hash);
        if number > 0 {
            let parent = official
                .get_checkpoint_by_number(number - 1, false)
                .await
                .unwrap();
            assert_eq!(hashes_only.parent_hash, parent.hash);
        }
    }

    // A checkpoint that does not exist yet, and malformed queries.
    let head = f.node.checkpoint_number().await.unwrap();
    expect_status(
        f.node.checkpoint_hashes(head + 1_000).await,
        404,
        "resource_checkpoint_not_found",
    );
    for (query, code) in [
        ("number=abc", "validation_invalid_param"),
        ("number=-1", "validation_invalid_param"),
        ("full=true", "validation_missing_param"),
        ("number=1&full=yes", "validation_invalid_param"),
    ] {
        let path = format!("/v1/checkpoints/by_number?{query}");
        let answer = f.node.call(axum::http::Method::GET, &path, None).await;
        expect_status(answer, 400, code);
    }
}
