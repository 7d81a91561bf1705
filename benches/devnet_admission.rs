//! How many verified payments per second a 4-node devnet admits on this machine, with the load
//! coming from another process (this one; the devnet is a child `stress-tui devnet`).
//!
//! Setup issues a token, funds `PAYERS` accounts, and signs every payment ahead of time, so
//! that the timed part is only HTTP + the devnet's admission (JSON, signer recovery, ledger).
//! Each round sends one payment per payer per pass, `PASSES` passes, from `WORKERS`
//! concurrent workers (each owns a slice of payers, so nonces arrive in order), spread
//! round-robin over the 4 nodes. Three rounds; the median is reported.
//!
//! `cargo bench --bench devnet_admission`

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stress_tui::client::NodeClient;
use stress_tui::devnet::operator_key;
use stress_tui::protocol::{
    Address, AuthorityAction, AuthorityPayload, AuthorityType, B256, IssuePayload, MintPayload,
    PayloadProfile, PaymentPayload, PrivateKey, SignedTx, Signer, TxKind, U256,
};

const BASE_PORT: u16 = 28555;
const NODES: u16 = 4;
const PAYERS: u64 = 2_000;
const PASSES: u64 = 10;
const ROUNDS: u64 = 3;
const WORKERS: usize = 64;
const CHAIN: u64 = 1_212_101;
const PROFILE: PayloadProfile = PayloadProfile::Current;

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_receipt(node: &NodeClient, hash: B256) {
    for _ in 0..3000 {
        if node.receipt(hash).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no receipt for {hash}");
}

fn payer(index: u64) -> Signer {
    let mut bytes = [0x5a; 32];
    bytes[..8].copy_from_slice(&(index + 1).to_be_bytes());
    Signer::new(PrivateKey::from_bytes(bytes).unwrap())
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes every bench target
    }
    let devnet = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_stress-tui"))
            .args([
                "devnet",
                "--nodes",
                "4",
                "--base-port",
                &BASE_PORT.to_string(),
                "--retain",
                "1000000",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let urls: Vec<String> = (0..NODES)
        .map(|i| format!("http://127.0.0.1:{}", BASE_PORT + i))
        .collect();
    let clients: Vec<NodeClient> = urls
        .iter()
        .map(|u| NodeClient::new(u, Duration::from_secs(10)))
        .collect();
    for _ in 0..500 {
        if clients[0].chain_id().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let (token, payers) = fund(&clients).await;
    let payee = Address::repeat_byte(0xee);
    let mut rates = Vec::new();
    for round in 0..ROUNDS {
        let rate = run_round(&clients, &payers, token, payee, round).await;
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "devnet_admission: median {:.0} verified payments/s (range {:.0}-{:.0}), 4 nodes, {WORKERS} workers",
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1]
    );
    drop(devnet);
}

/// Issues a token and funds `PAYERS` accounts; answers the token and the payers.
async fn fund(clients: &[NodeClient]) -> (Address, Vec<Signer>) {
    let operator = Signer::new(operator_key());
    let issue = IssuePayload {
        chain_id: CHAIN,
        nonce: 0,
        symbol: "BENCH".into(),
        name: "Bench".into(),
        decimals: 6,
        master_authority: operator.address(),
        is_private: false,
        clawback_enabled: true,
    };
    let (hash, token) = clients[0]
        .submit_issue(&SignedTx::sign(issue, &operator, PROFILE), PROFILE)
        .await
        .unwrap();
    wait_receipt(&clients[0], hash).await;
    let minter = payer(u64::MAX - 1);
    let grant = AuthorityPayload {
        chain_id: CHAIN,
        nonce: 1,
        action: AuthorityAction::Grant,
        authority_type: AuthorityType::MintBurnTokens,
        authority_address: minter.address(),
        token,
        value: U256::MAX,
    };
    let hash = clients[0]
        .submit(&SignedTx::sign(grant, &operator, PROFILE), PROFILE)
        .await
        .unwrap();
    wait_receipt(&clients[0], hash).await;
    let payers: Vec<Signer> = (0..PAYERS).map(payer).collect();
    let mut last = B256::ZERO;
    for (nonce, p) in payers.iter().enumerate() {
        let mint = MintPayload {
            chain_id: CHAIN,
            nonce: nonce as u64,
            recipient: p.address(),
            value: U256::from(1_000_000u64),
            token,
        };
        last = clients[0]
            .submit(&SignedTx::sign(mint, &minter, PROFILE), PROFILE)
            .await
            .unwrap();
    }
    wait_receipt(&clients[0], last).await;

    (token, payers)
}

/// Sends one round of pre-signed payments; answers admitted payments per second.
async fn run_round(
    clients: &[NodeClient],
    payers: &[Signer],
    token: Address,
    payee: Address,
    round: u64,
) -> f64 {
    // Pre-sign: bodies[worker] is that worker's ordered list of (node, body).
    let mut bodies: Vec<Vec<(usize, Vec<u8>)>> = vec![Vec::new(); WORKERS];
    let mut sent = 0usize;
    for pass in 0..PASSES {
        for (i, p) in payers.iter().enumerate() {
            let nonce = round * PASSES + pass;
            let payment = PaymentPayload {
                chain_id: CHAIN,
                nonce,
                recipient: payee,
                value: U256::from(1),
                token,
            };
            let body = SignedTx::sign(payment, p, PROFILE).body(PROFILE);
            bodies[i % WORKERS].push((sent % NODES as usize, body));
            sent += 1;
        }
    }
    let clients = Arc::new(clients.to_vec());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for work in bodies {
        let clients = Arc::clone(&clients);
        tasks.push(tokio::spawn(async move {
            let mut failures = 0u64;
            for (node, body) in work {
                if clients[node]
                    .submit_body(TxKind::Payment.path(), body)
                    .await
                    .is_err()
                {
                    failures += 1;
                }
            }
            failures
        }));
    }
    let mut failures = 0;
    for task in tasks {
        failures += task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let admitted = sent as u64 - failures;
    let rate = admitted as f64 / elapsed.as_secs_f64();
    println!(
        "round {round}: {admitted} payments admitted ({failures} refused) in {:.2} s = {rate:.0}/s",
        elapsed.as_secs_f64()
    );
    rate
}
