//! A signed transaction: payload, signature, transaction hash, and the JSON body a node
//! admits, on either write surface (PROTOCOL.md sections 3 and 8.4).

use alloy_primitives::{B256, keccak256};
use alloy_rlp::{Encodable, Header};

use super::keys::Signer;
use super::memo::Memo;
use super::payload::Payload;
use super::profile::PayloadProfile;
use super::signature::Signature;
use super::surface::{
    SINGLE_SECP256K1, WriteSurface, v2_payload_rlp, v2_signing_hash, v2_transaction_hash,
};

/// A payload with its signature and transaction hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx<P> {
    pub payload: P,
    pub signature: Signature,
    pub hash: B256,
}

impl<P: Payload> SignedTx<P> {
    /// Signs `payload` for `/v1` and `profile`: keccak256 of its RLP list, signed as a prehash.
    #[must_use]
    pub fn sign(payload: P, signer: &Signer, profile: PayloadProfile) -> Self {
        let signing_rlp = payload.signing_rlp(profile);
        let signature = signer.sign_prehash(&keccak256(&signing_rlp));
        let hash = transaction_hash(&signing_rlp, &signature);
        Self {
            payload,
            signature,
            hash,
        }
    }

    /// Signs `payload` for `/v2` with `memo`: the domain-separated hash of section 8.4.
    #[must_use]
    pub fn sign_v2(payload: P, signer: &Signer, profile: PayloadProfile, memo: &Memo) -> Self {
        let payload_rlp = v2_payload_rlp(&payload, profile, memo);
        let signature = signer.sign_prehash(&v2_signing_hash(P::KIND, &payload_rlp));
        let hash = v2_transaction_hash(P::KIND, &payload_rlp, &signature);
        Self {
            payload,
            signature,
            hash,
        }
    }

    /// Signs for `surface` (the memo only goes on `/v2`, which is the only surface that has one).
    #[must_use]
    pub fn sign_for(
        payload: P,
        signer: &Signer,
        profile: PayloadProfile,
        surface: WriteSurface,
        memo: &Memo,
    ) -> Self {
        match surface {
            WriteSurface::V1 => Self::sign(payload, signer, profile),
            WriteSurface::V2 => Self::sign_v2(payload, signer, profile, memo),
        }
    }

    /// The `/v1` POST body: the payload's fields at the top level and a sibling `signature`.
    #[must_use]
    pub fn body(&self, profile: PayloadProfile) -> Vec<u8> {
        self.body_for(profile, WriteSurface::V1, &Memo::default())
    }

    /// The POST body for `surface`: on `/v2` the payload's fields, `memo` and
    /// `authorization` (and no top-level `signature`).
    #[must_use]
    pub fn body_for(&self, profile: PayloadProfile, surface: WriteSurface, memo: &Memo) -> Vec<u8> {
        let mut out = Vec::with_capacity(448);
        self.payload.write_json(profile, &mut out);
        debug_assert_eq!(out.last(), Some(&b'}'));
        // Splice the extra members in before the object's closing brace: one pass, no flatten.
        out.pop();
        match surface {
            WriteSurface::V1 => out.extend_from_slice(b",\"signature\":"),
            WriteSurface::V2 => {
                out.extend_from_slice(b",\"memo\":");
                serde_json::to_writer(&mut out, memo).expect("memo serialises");
                out.extend_from_slice(b",\"authorization\":{\"type\":\"");
                out.extend_from_slice(SINGLE_SECP256K1.as_bytes());
                out.extend_from_slice(b"\",\"signature\":");
            }
        }
        serde_json::to_writer(&mut out, &self.signature).expect("signature serialises");
        if surface == WriteSurface::V2 {
            out.push(b'}');
        }
        out.push(b'}');
        out
    }
}

/// keccak256 of the RLP list `[payload_list, v, r, s]` (PROTOCOL.md section 3, step 5).
#[must_use]
pub fn transaction_hash(signing_rlp: &[u8], signature: &Signature) -> B256 {
    let v = signature.v();
    let payload_length =
        signing_rlp.len() + v.length() + signature.r.length() + signature.s.length();
    let mut out = Vec::with_capacity(payload_length + 3);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    out.extend_from_slice(signing_rlp);
    v.encode(&mut out);
    signature.r.encode(&mut out);
    signature.s.encode(&mut out);
    keccak256(&out)
}
