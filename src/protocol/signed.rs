//! A signed transaction: payload, signature, transaction hash, and the JSON body a node
//! admits.

use alloy_primitives::{B256, keccak256};
use alloy_rlp::{Encodable, Header};

use super::keys::Signer;
use super::payload::Payload;
use super::profile::PayloadProfile;
use super::signature::Signature;

/// A payload with its signature and transaction hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx<P> {
    pub payload: P,
    pub signature: Signature,
    pub hash: B256,
}

impl<P: Payload> SignedTx<P> {
    /// Signs `payload` for `profile`: keccak256 of its RLP list, signed as a prehash.
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

    /// The POST body: the payload's fields at the top level and a sibling `signature` object.
    #[must_use]
    pub fn body(&self, profile: PayloadProfile) -> Vec<u8> {
        let mut out = Vec::with_capacity(384);
        self.payload.write_json(profile, &mut out);
        debug_assert_eq!(out.last(), Some(&b'}'));
        // Splice the signature in before the object's closing brace: one pass, no flatten.
        out.pop();
        out.extend_from_slice(b",\"signature\":");
        serde_json::to_writer(&mut out, &self.signature).expect("signature serialises");
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
