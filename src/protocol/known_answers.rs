//! The known-answer vectors of PROTOCOL.md section 4: signature hash, r, s, v and transaction
//! hash for each payload kind, the payment RLP and the "TEST" token address.

use alloy_primitives::{Address, B256, U256, keccak256};

use super::*;

const TEST_KEY: &str = "0x01833a126ec45d0191519748146b9e35647aab7fed28de1c8e17824970f964a3";

fn signer() -> Signer {
    Signer::new(PrivateKey::from_hex(TEST_KEY).unwrap())
}

fn addr(text: &str) -> Address {
    text.parse().unwrap()
}

fn b256(text: &str) -> B256 {
    text.parse().unwrap()
}

fn u256_hex(text: &str) -> U256 {
    U256::from_str_radix(text, 16).unwrap()
}

struct Expected {
    signature_hash: &'static str,
    v: u8,
    r: &'static str,
    s: &'static str,
    tx_hash: &'static str,
}

fn check<P: Payload>(payload: P, expected: &Expected) {
    let profile = PayloadProfile::Current;
    let signing_rlp = payload.signing_rlp(profile);
    assert_eq!(
        keccak256(&signing_rlp),
        b256(expected.signature_hash),
        "signature hash"
    );
    let signed = SignedTx::sign(payload, &signer(), profile);
    assert_eq!(signed.signature.v(), expected.v, "v");
    assert_eq!(signed.signature.r, u256_hex(expected.r), "r");
    assert_eq!(signed.signature.s, u256_hex(expected.s), "s");
    assert_eq!(signed.hash, b256(expected.tx_hash), "tx hash");
    assert_eq!(
        recover_signer(&keccak256(&signing_rlp), &signed.signature),
        Ok(signer().address()),
        "recovered sender"
    );
}

fn payment() -> PaymentPayload {
    PaymentPayload {
        chain_id: 1_212_101,
        nonce: 0,
        recipient: addr("0xa634dfba8c7550550817898bc4820cd10888aac5"),
        value: U256::from(10),
        token: addr("0x5458747a0efb9ebeb8696fcac1479278c0872fbe"),
    }
}

fn issue() -> IssuePayload {
    IssuePayload {
        chain_id: 1_212_101,
        nonce: 2,
        symbol: "TEST".into(),
        name: "TEST Stablecoin".into(),
        decimals: 18,
        master_authority: Address::ZERO,
        is_private: false,
        clawback_enabled: true,
    }
}

#[test]
fn test_key_address() {
    assert_eq!(
        signer().address(),
        addr("0x2045a425d0e131e747f8be2f044413733e412d7d")
    );
}

#[test]
fn payment_vector() {
    check(
        payment(),
        &Expected {
            signature_hash: "0xe9e5e0f091a176e9eb239b17b930f5cd8d10e5782127b854840df65c67e22f99",
            v: 0,
            r: "41e1e158803da19ef1fc9ab35d86776cb02ac493265b948ff18b2c57a4e52432",
            s: "21f42bb02796a424b0961af374a71e0b948e8fadb58f1e5c6ac861be656265e1",
            tx_hash: "0xd002ef79e1b20b132d3bc679df4db240c891d5408c50b883f9020e9d65ac3740",
        },
    );
}

#[test]
fn payment_rlp() {
    assert_eq!(
        hex::encode(payment().signing_rlp(PayloadProfile::Current)),
        "f083127ec58094a634dfba8c7550550817898bc4820cd10888aac50a945458747a0efb9ebeb8696fcac1479278c0872fbe"
    );
}

#[test]
fn issue_vector() {
    check(
        issue(),
        &Expected {
            signature_hash: "0x01882eb8bee7e2d0d553a0debc95f5d666d55e481b64ee9c6159b4c50831b9f0",
            v: 1,
            r: "db4741c7f2ce4a2d78e790331075284efaeee0b217e9c9ccf334d3014d98b7bb",
            s: "6ba551adfd0b9d7236298ae267575255e0b54b0d569dc9824d1445d2c546dc9e",
            tx_hash: "0x3e92ac12458ec0cf301c2d0280bfb6328bfcccd46ba6a5c1e9a62117708a92c5",
        },
    );
}

#[test]
fn legacy_issue_hashes_differently_and_omits_clawback() {
    let current = keccak256(issue().signing_rlp(PayloadProfile::Current));
    let legacy = keccak256(issue().signing_rlp(PayloadProfile::Legacy2025));
    assert_ne!(current, legacy);
    let signed = SignedTx::sign(issue(), &signer(), PayloadProfile::Legacy2025);
    let body = String::from_utf8(signed.body(PayloadProfile::Legacy2025)).unwrap();
    assert!(!body.contains("clawback_enabled"), "{body}");
    let body = String::from_utf8(signed.body(PayloadProfile::Current)).unwrap();
    assert!(body.contains("\"clawback_enabled\":true"), "{body}");
}

#[test]
fn mint_vector() {
    check(
        MintPayload {
            chain_id: 1_212_101,
            nonce: 2,
            recipient: addr("0x0000000000000000000000000000000000000001"),
            value: U256::from(273),
            token: addr("0x0000000000000000000000000000000000000002"),
        },
        &Expected {
            signature_hash: "0x75e9f6cb6e465aac2aebfe7999b85fb08a8a9f4d8b3f08ece8d102f21e5f6d49",
            v: 0,
            r: "84e22edd776877aea3a7dee1856bca2aa1b9f2c8f068ca63d481f76ab473d27c",
            s: "5c00b209cf14309007fbf013739c30da3262b76316352c03c52a0df304690dd4",
            tx_hash: "0xc67a196358c981bcb29de1181bf202c1491c9cccd0e21492fc2ecd96f0b1122c",
        },
    );
}

#[test]
fn authority_vector() {
    check(
        AuthorityPayload {
            chain_id: 1_212_101,
            nonce: 2,
            action: AuthorityAction::Grant,
            authority_type: AuthorityType::MasterMintBurn,
            authority_address: Address::ZERO,
            token: Address::ZERO,
            value: U256::from(123),
        },
        &Expected {
            signature_hash: "0xe1eb07cd8808debb2bb2cb21c362ebfa14e94a4bfa703bb081090321c6ac89f5",
            v: 1,
            r: "48f6cb3e20f2adee49448e32cfb0eb91558864e107bfb28bab6bd70102f52f19",
            s: "4fb2760e1473d3495ee37b9e419859fd738e6c268cc1bb69eff707c9064948c8",
            tx_hash: "0x381ce9e9223989430c2cda4128bcb5a79124438a05afd489f71d26b17a161466",
        },
    );
}

#[test]
fn test_token_address() {
    assert_eq!(
        token_address(Address::ZERO, "TEST"),
        addr("0x32b832b49fc164cae5e6e80d4abc995c7d494519")
    );
    assert_eq!(
        issue().token_address(),
        addr("0x32b832b49fc164cae5e6e80d4abc995c7d494519")
    );
}

#[test]
fn v_27_gives_the_same_transaction_hash_as_v_0() {
    let signed = SignedTx::sign(payment(), &signer(), PayloadProfile::Current);
    let body = String::from_utf8(signed.body(PayloadProfile::Current)).unwrap();
    let with_27 = body.replace("\"v\":0", "\"v\":27");
    assert_ne!(body, with_27);
    let parsed: wire::SignedRequest<PaymentPayload> = serde_json::from_str(&with_27).unwrap();
    let rlp = parsed.payload.signing_rlp(PayloadProfile::Current);
    assert_eq!(transaction_hash(&rlp, &parsed.signature), signed.hash);
}

#[test]
fn payment_body_layout() {
    let signed = SignedTx::sign(payment(), &signer(), PayloadProfile::Current);
    let body: serde_json::Value =
        serde_json::from_slice(&signed.body(PayloadProfile::Current)).unwrap();
    assert_eq!(body["chain_id"], 1_212_101);
    assert_eq!(body["nonce"], 0);
    assert_eq!(body["value"], "10");
    assert_eq!(
        body["recipient"],
        "0xa634dfba8c7550550817898bc4820cd10888aac5"
    );
    assert_eq!(
        body["signature"]["r"],
        "0x41e1e158803da19ef1fc9ab35d86776cb02ac493265b948ff18b2c57a4e52432"
    );
    assert_eq!(body["signature"]["v"], 0);
}
