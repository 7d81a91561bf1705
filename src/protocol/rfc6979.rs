//! RFC 6979 nonces for libsecp256k1, hashed with the CPU's SHA extensions, and signing with
//! them.
//!
//! libsecp256k1 derives each signature's nonce with its own portable C SHA-256: 22 block
//! compressions of HMAC-DRBG, about a quarter of a signature's time on a Xeon without them
//! counted (`perf` at 5,000 payments/s: 9 % of the generator's core in `sha256_transform`).
//! The `sha2` crate uses the SHA-NI instructions where the CPU has them. This module computes
//! exactly the nonce libsecp256k1's default nonce function would (same inputs, same DRBG, first
//! candidate), and [`sign_recoverable`] hands it to libsecp256k1 through its nonce-function hook, so
//! a signature is bit for bit the one the library signs by itself (tested on random keys and
//! digests). The rare inputs this does not cover (a digest not below the group order, a first
//! candidate out of range: each about 2^-128) fall back to the library's own path.

use secp256k1::ecdsa::RecoverableSignature;
use secp256k1::ffi::types::{c_int, c_uchar, c_uint, c_void};
use secp256k1::ffi::{self, CPtr};
use secp256k1::{SECP256K1, SecretKey};
use sha2::{Digest, Sha256};

/// The secp256k1 group order n, big-endian.
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

const BLOCK: usize = 64;

/// HMAC-SHA256 of the concatenation of `parts` under a 32-byte key (RFC 2104).
fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut pad = [0x36u8; BLOCK];
    for (p, k) in pad.iter_mut().zip(key) {
        *p ^= k;
    }
    let mut inner = Sha256::new_with_prefix(pad);
    for part in parts {
        inner.update(part);
    }
    let inner = inner.finalize();
    for p in &mut pad {
        // ipad ^ opad: turns the inner pad into the outer one without the key again.
        *p ^= 0x36 ^ 0x5c;
    }
    let mut outer = Sha256::new_with_prefix(pad);
    outer.update(inner);
    outer.finalize().into()
}

/// The first RFC 6979 (HMAC-SHA256) nonce candidate for signing `digest` with `secret`, as
/// libsecp256k1's `nonce_function_rfc6979` derives it with no extra data; `None` where that
/// function would see different inputs (a digest not below n, which it reduces first) or
/// where the candidate is not a valid nonce (zero or not below n): the caller signs with the
/// library's own nonce function then.
#[must_use]
pub fn nonce(secret: &[u8; 32], digest: &[u8; 32]) -> Option<[u8; 32]> {
    if *digest >= ORDER {
        return None;
    }
    // RFC 6979 3.2 b-g, with the private key and the (reduced) digest as the seed.
    let mut v = [0x01u8; 32];
    let k = [0x00u8; 32];
    let k = hmac_sha256(&k, &[&v, &[0x00], secret, digest]);
    v = hmac_sha256(&k, &[&v]);
    let k = hmac_sha256(&k, &[&v, &[0x01], secret, digest]);
    v = hmac_sha256(&k, &[&v]);
    // 3.2 h: the first candidate.
    let candidate = hmac_sha256(&k, &[&v]);
    (candidate != [0u8; 32] && candidate < ORDER).then_some(candidate)
}

/// Signs `digest` with `secret` through libsecp256k1 with the nonce [`nonce`] computed; `None`
/// where `nonce` declines (the caller then signs the library's usual way).
#[must_use]
pub fn sign_recoverable(secret: &SecretKey, digest: &[u8; 32]) -> Option<RecoverableSignature> {
    let nonce = nonce(&secret.secret_bytes(), digest)?;
    let mut signature = ffi::recovery::RecoverableSignature::new();
    // One of the crate's audited `unsafe` blocks (see `engine::alarm`): the safe API of the
    // `secp256k1` crate offers no way to supply the nonce. SAFETY: the context is the
    // library's global signing context, alive for the whole program; `signature`, `digest`
    // (32 bytes) and the secret key (32 bytes) are valid for the call; the nonce function
    // reads `nonce` (32 bytes, on this stack frame) and nothing else.
    #[allow(unsafe_code)]
    let signed = unsafe {
        ffi::recovery::secp256k1_ecdsa_sign_recoverable(
            SECP256K1.ctx().as_ptr(),
            &raw mut signature,
            digest.as_ptr(),
            secret.as_c_ptr(),
            Some(hand_over_nonce),
            nonce.as_ptr().cast::<c_void>(),
        )
    };
    (signed == 1).then(|| RecoverableSignature::from(signature))
}

/// libsecp256k1's nonce-function hook: gives the library the 32-byte nonce `data` points to,
/// for the first attempt only. Refusing a later attempt (the candidate was out of range, which
/// [`nonce`] already rules out) or an algorithm tag (only Schnorr signing passes one) makes the
/// signing call fail, and the caller falls back to the library's own nonce function.
///
/// # Safety
/// `nonce32` must be valid for 32 bytes of writes and `data`, when not null, for 32 bytes of
/// reads: what libsecp256k1 passes when [`sign_recoverable`] calls it.
#[allow(unsafe_code)]
unsafe extern "C" fn hand_over_nonce(
    nonce32: *mut c_uchar,
    _msg32: *const c_uchar,
    _key32: *const c_uchar,
    algo16: *const c_uchar,
    data: *mut c_void,
    attempt: c_uint,
) -> c_int {
    if attempt != 0 || !algo16.is_null() || data.is_null() {
        return 0;
    }
    // SAFETY: see the function's contract; the two buffers are distinct.
    unsafe { std::ptr::copy_nonoverlapping(data.cast::<u8>(), nonce32, 32) };
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_with_a_32_byte_key() {
        // RFC 4231 test case 2 has a 4-byte key; HMAC pads keys with zeros, so the same key
        // zero-padded to 32 bytes gives the same MAC.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = hmac_sha256(&key, &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signatures_are_the_ones_the_library_makes_by_itself() {
        use rand::RngExt as _;
        let mut rng = rand::rng();
        for _ in 0..2_000 {
            let secret = SecretKey::from_byte_array(rng.random()).unwrap();
            let digest: [u8; 32] = rng.random();
            let library =
                SECP256K1.sign_ecdsa_recoverable(secp256k1::Message::from_digest(digest), &secret);
            let ours = sign_recoverable(&secret, &digest).expect("a random digest is below n");
            assert_eq!(ours, library, "digest {}", hex::encode(digest));
        }
    }

    #[test]
    fn digests_not_below_the_order_are_left_to_the_library() {
        let secret = [7u8; 32];
        assert!(nonce(&secret, &ORDER).is_none());
        assert!(nonce(&secret, &[0xff; 32]).is_none());
        let mut below = ORDER;
        below[31] -= 1;
        assert!(nonce(&secret, &below).is_some());
    }
}
