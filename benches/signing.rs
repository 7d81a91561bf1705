//! Signing cost: one signed payment body (RLP + keccak + secp256k1 sign + tx hash + JSON) on
//! each write surface (`/v1`, and `/v2` with an empty memo and with a 40-byte one: the domain
//! envelope, a second keccak input and the `memo`/`authorization` JSON), and
//! the secp256k1 choice behind it: libsecp256k1 (the `secp256k1` crate, what we ship) against
//! pure-Rust `k256` for prehash signing and signer recovery, and against the previous
//! `secp256k1` 0.30 (libsecp256k1 0.4) as the same-run baseline of the 0.31 upgrade; and our
//! SHA-NI RFC 6979 nonce (`protocol::rfc6979`) against the library's own nonce function.
//!
//! `cargo bench --bench signing`

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stress_tui::protocol::{
    Address, B256, Memo, PayloadProfile, PaymentPayload, PrivateKey, SignedTx, Signer, U256,
    WriteSurface, recover_signer,
};

const TEST_KEY: [u8; 32] = [
    0x01, 0x83, 0x3a, 0x12, 0x6e, 0xc4, 0x5d, 0x01, 0x91, 0x51, 0x97, 0x48, 0x14, 0x6b, 0x9e, 0x35,
    0x64, 0x7a, 0xab, 0x7f, 0xed, 0x28, 0xde, 0x1c, 0x8e, 0x17, 0x82, 0x49, 0x70, 0xf9, 0x64, 0xa3,
];

fn payment(nonce: u64) -> PaymentPayload {
    PaymentPayload {
        chain_id: 1_212_101,
        nonce,
        recipient: Address::repeat_byte(0xa6),
        value: U256::from(200_000_000u64),
        token: Address::repeat_byte(0x54),
    }
}

fn signed_payment_body(c: &mut Criterion) {
    let signer = Signer::new(PrivateKey::from_bytes(TEST_KEY).unwrap());
    let profile = PayloadProfile::Current;
    let memo = Memo::new("purpose/SALA", "text/plain", "invoice-0001 stress run");
    // One group, so that the report sets them side by side; criterion still runs them one after
    // the other, so drift between them is not cancelled (benches/surface_ab.rs pairs them).
    let mut group = c.benchmark_group("signed_payment_body");
    for (name, surface, memo) in [
        ("v1", WriteSurface::V1, Memo::default()),
        ("v2", WriteSurface::V2, Memo::default()),
        ("v2_memo", WriteSurface::V2, memo),
    ] {
        let mut nonce = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                nonce += 1;
                let transaction =
                    SignedTx::sign_for(payment(nonce), &signer, profile, surface, &memo);
                black_box(transaction.body_for(profile, surface, &memo))
            });
        });
    }
    group.finish();
}

/// What a payment costs besides its signature on each surface: RLP, the signing hash, the
/// transaction hash and the JSON body, with a fixed signature (`/v2` adds the domain envelope,
/// a longer keccak input for both hashes, and the `memo` and `authorization` members).
fn payment_encoding(c: &mut Criterion) {
    use stress_tui::protocol::surface::{v2_payload_rlp, v2_signing_hash, v2_transaction_hash};
    use stress_tui::protocol::{Payload, TxKind, transaction_hash};
    let signer = Signer::new(PrivateKey::from_bytes(TEST_KEY).unwrap());
    let profile = PayloadProfile::Current;
    let signed = SignedTx::sign(payment(1), &signer, profile);
    let memo = Memo::new("purpose/SALA", "text/plain", "invoice-0001 stress run");
    let mut group = c.benchmark_group("payment_encoding");
    group.bench_function("v1", |b| {
        b.iter(|| {
            let payload = black_box(&signed.payload);
            let rlp = payload.signing_rlp(profile);
            let digest = alloy_primitives::keccak256(&rlp);
            let hash = transaction_hash(&rlp, &signed.signature);
            black_box((digest, hash, signed.body(profile)))
        });
    });
    for (name, memo) in [("v2", Memo::default()), ("v2_memo", memo)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let payload = black_box(&signed.payload);
                let rlp = v2_payload_rlp(payload, profile, &memo);
                let digest = v2_signing_hash(TxKind::Payment, &rlp);
                let hash = v2_transaction_hash(TxKind::Payment, &rlp, &signed.signature);
                black_box((
                    digest,
                    hash,
                    signed.body_for(profile, WriteSurface::V2, &memo),
                ))
            });
        });
    }
    group.finish();
}

fn secp_backends(c: &mut Criterion) {
    let digest = B256::repeat_byte(0x42);
    let ours = PrivateKey::from_bytes(TEST_KEY).unwrap();
    let signature = ours.sign_prehash(&digest);

    let mut group = c.benchmark_group("secp256k1");
    group.bench_function("libsecp256k1_sign_prehash", |b| {
        b.iter(|| black_box(ours.sign_prehash(black_box(&digest))));
    });
    // The same library with its own (portable C SHA-256) RFC 6979 nonce: the same-run baseline
    // of `protocol::rfc6979`'s SHA-NI nonce, which `sign_prehash` uses.
    let library_key = secp256k1::SecretKey::from_byte_array(TEST_KEY).unwrap();
    let message = secp256k1::Message::from_digest(digest.0);
    group.bench_function("libsecp256k1_library_nonce_sign_prehash", |b| {
        b.iter(|| {
            black_box(secp256k1::SECP256K1.sign_ecdsa_recoverable(black_box(message), &library_key))
        });
    });
    group.bench_function("libsecp256k1_recover", |b| {
        b.iter(|| black_box(recover_signer(black_box(&digest), &signature)));
    });

    let old_key = secp256k1_0_30::SecretKey::from_byte_array(&TEST_KEY).unwrap();
    let old_message = secp256k1_0_30::Message::from_digest(digest.0);
    group.bench_function("libsecp256k1_0_4_sign_prehash", |b| {
        b.iter(|| {
            black_box(
                secp256k1_0_30::SECP256K1.sign_ecdsa_recoverable(black_box(&old_message), &old_key),
            )
        });
    });
    let old_signature = secp256k1_0_30::SECP256K1.sign_ecdsa_recoverable(&old_message, &old_key);
    group.bench_function("libsecp256k1_0_4_recover", |b| {
        b.iter(|| {
            black_box(
                secp256k1_0_30::SECP256K1
                    .recover_ecdsa(black_box(&old_message), &old_signature)
                    .unwrap(),
            )
        });
    });

    let k256_key = k256::ecdsa::SigningKey::from_bytes(&TEST_KEY.into()).unwrap();
    group.bench_function("k256_sign_prehash", |b| {
        b.iter(|| black_box(k256_key.sign_prehash_recoverable(black_box(digest.as_slice()))));
    });
    let (k256_sig, recovery_id) = k256_key.sign_prehash_recoverable(digest.as_slice());
    group.bench_function("k256_recover", |b| {
        b.iter(|| {
            black_box(
                k256::ecdsa::VerifyingKey::recover_from_prehash(
                    black_box(digest.as_slice()),
                    &k256_sig,
                    recovery_id,
                )
                .unwrap(),
            )
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    signed_payment_body,
    payment_encoding,
    secp_backends
);
criterion_main!(benches);
