//! One signed payment on `/v2` against `/v1`, measured as interleaved pairs in one process: each
//! pair times a batch of 64 `/v1` payments (sign + hashes + body) and a batch of 64 `/v2` ones
//! back to back (alternating which goes first), so that the host's drift, which moves
//! criterion's separate estimates by ±20 % on this shared machine, falls on both sides of every
//! pair. Prints the median per-payment cost of each and the median of the pairs' ratios.
//!
//! `cargo bench --bench surface_ab` (pin it: `taskset -c 0 cargo bench --bench surface_ab`)

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use stress_tui::protocol::{
    Address, Memo, PayloadProfile, PaymentPayload, PrivateKey, SignedTx, Signer, U256, WriteSurface,
};

const PAIRS: usize = 400;
const BATCH: u64 = 64;

fn payment(nonce: u64) -> PaymentPayload {
    PaymentPayload {
        chain_id: 1_212_101,
        nonce,
        recipient: Address::repeat_byte(0xa6),
        value: U256::from(200_000_000u64),
        token: Address::repeat_byte(0x54),
    }
}

/// Nanoseconds per payment of one batch on `surface`.
fn batch(signer: &Signer, surface: WriteSurface, memo: &Memo, nonce: &mut u64) -> f64 {
    let profile = PayloadProfile::Current;
    let started = Instant::now();
    for _ in 0..BATCH {
        *nonce += 1;
        let signed = SignedTx::sign_for(payment(*nonce), signer, profile, surface, memo);
        black_box(signed.body_for(profile, surface, memo));
    }
    started.elapsed().as_nanos() as f64 / BATCH as f64
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that names nothing here skips the run.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"surface_ab".contains(&a))
    {
        return;
    }
    let signer = Signer::new(PrivateKey::from_bytes([7; 32]).unwrap());
    let memo = Memo::new("purpose/SALA", "text/plain", "invoice-0001 stress run");
    for (name, v2_memo) in [
        ("v2 (no memo)", Memo::default()),
        ("v2 (51-byte memo)", memo),
    ] {
        let mut nonce = 0;
        let (mut v1, mut v2, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for pair in 0..PAIRS {
            let (a, b) = if pair % 2 == 0 {
                let a = batch(&signer, WriteSurface::V1, &Memo::default(), &mut nonce);
                (a, batch(&signer, WriteSurface::V2, &v2_memo, &mut nonce))
            } else {
                let b = batch(&signer, WriteSurface::V2, &v2_memo, &mut nonce);
                (
                    batch(&signer, WriteSurface::V1, &Memo::default(), &mut nonce),
                    b,
                )
            };
            v1.push(a);
            v2.push(b);
            ratios.push(b / a);
        }
        println!(
            "signed payment body, {PAIRS} interleaved pairs of {BATCH}: v1 {:.2} µs, {name} {:.2} µs, median pair ratio x{:.3}",
            median(&mut v1) / 1_000.0,
            median(&mut v2) / 1_000.0,
            median(&mut ratios)
        );
    }
}
