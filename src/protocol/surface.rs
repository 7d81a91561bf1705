//! The two write surfaces of a 1Money node (PROTOCOL.md section 8): `/v1` with its plain
//! keccak256 of the payload RLP, and `/v2` with a domain-separated signing hash, a memo and an
//! `authorization` object. Which one a node accepts is read from `GET /api/status`
//! ([`NodeWriteMode`]); a run signs for the surface it chose before anything is sent.

use std::fmt;
use std::str::FromStr;

use alloy_primitives::{B256, keccak256};
use alloy_rlp::{Encodable, Header};
use serde::{Deserialize, Serialize};

use super::memo::Memo;
use super::payload::{Payload, TxKind};
use super::profile::PayloadProfile;
use super::signature::Signature;

/// The domain of every `/v2` signing hash and transaction hash.
pub const V2_DOMAIN: &[u8; 28] = b"1money.native.transaction.v2";
/// The single-signer authorization descriptor `[0]`, RLP-encoded.
const SINGLE_SIGNER_DESCRIPTOR: [u8; 2] = [0xc1, 0x80];
/// The `authorization.type` of a single secp256k1 signature.
pub const SINGLE_SECP256K1: &str = "single_secp256k1";

/// A write surface: which paths, body and signing scheme a transaction uses.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum WriteSurface {
    #[default]
    V1,
    V2,
}

impl WriteSurface {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WriteSurface::V1 => "v1",
            WriteSurface::V2 => "v2",
        }
    }

    /// The POST path that admits `kind` on this surface.
    #[must_use]
    pub fn path(self, kind: TxKind) -> &'static str {
        match (self, kind) {
            (WriteSurface::V1, _) => kind.path(),
            (WriteSurface::V2, TxKind::Issue) => "/v2/tokens/issue",
            (WriteSurface::V2, TxKind::Authority) => "/v2/tokens/grant_authority",
            (WriteSurface::V2, TxKind::Mint) => "/v2/tokens/mint",
            (WriteSurface::V2, TxKind::Payment) => "/v2/transactions/payment",
        }
    }
}

impl fmt::Display for WriteSurface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `op_type` of a transaction kind in the `/v2` registry (never reordered).
#[must_use]
pub fn op_type(kind: TxKind) -> u8 {
    match kind {
        TxKind::Payment => 1,
        TxKind::Issue => 2,
        TxKind::Mint => 3,
        TxKind::Authority => 4,
    }
}

/// Which writes a node accepts, as `GET /api/status` says (`native_write_mode` and
/// `read_only`); a node without the endpoint is [`NodeWriteMode::V1Only`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeWriteMode {
    #[default]
    V1Only,
    Dual,
    V2Only,
    /// An archive node: every write is refused.
    ReadOnly,
}

impl NodeWriteMode {
    /// `native_write_mode` values; `read_only` is a separate field of the status.
    pub const WRITE_MODES: [NodeWriteMode; 3] = [
        NodeWriteMode::V1Only,
        NodeWriteMode::Dual,
        NodeWriteMode::V2Only,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            NodeWriteMode::V1Only => "v1_only",
            NodeWriteMode::Dual => "dual",
            NodeWriteMode::V2Only => "v2_only",
            NodeWriteMode::ReadOnly => "read_only",
        }
    }

    #[must_use]
    pub fn accepts(self, surface: WriteSurface) -> bool {
        match self {
            NodeWriteMode::Dual => true,
            NodeWriteMode::V1Only => surface == WriteSurface::V1,
            NodeWriteMode::V2Only => surface == WriteSurface::V2,
            NodeWriteMode::ReadOnly => false,
        }
    }

    /// The surface a node in this mode takes when a run prefers `preferred`: that one if it
    /// accepts it, else the other if it accepts that; `None` for a read-only node.
    #[must_use]
    pub fn surface_for(self, preferred: WriteSurface) -> Option<WriteSurface> {
        [preferred, other(preferred)]
            .into_iter()
            .find(|s| self.accepts(*s))
    }
}

fn other(surface: WriteSurface) -> WriteSurface {
    match surface {
        WriteSurface::V1 => WriteSurface::V2,
        WriteSurface::V2 => WriteSurface::V1,
    }
}

impl fmt::Display for NodeWriteMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NodeWriteMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::WRITE_MODES
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown write mode `{s}` (valid: v1_only, dual, v2_only)"))
    }
}

/// `payload_rlp` of section 8.4: `rlp([inner, [type, format, data]])`, where `inner` is the
/// payload's `/v1` RLP list.
#[must_use]
pub fn v2_payload_rlp<P: Payload>(payload: &P, profile: PayloadProfile, memo: &Memo) -> Vec<u8> {
    let inner = payload.signing_rlp(profile);
    let mut memo_list =
        Vec::with_capacity(8 + memo.kind.len() + memo.format.len() + memo.data.len());
    memo.encode_rlp(&mut memo_list);
    let mut out = Vec::with_capacity(inner.len() + memo_list.len() + 3);
    Header {
        list: true,
        payload_length: inner.len() + memo_list.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(&inner);
    out.extend_from_slice(&memo_list);
    out
}

/// `rlp([DOMAIN, op_type, [0], BYTES(payload_rlp)])`, with the proof `[r, s, v]` appended when
/// there is one: the preimage of the signing hash, or of the transaction hash.
#[must_use]
pub fn v2_envelope(kind: TxKind, payload_rlp: &[u8], proof: Option<&Signature>) -> Vec<u8> {
    let op = op_type(kind);
    let proof_fields = proof.map(|sig| {
        let v = sig.v();
        let length = sig.r.length() + sig.s.length() + v.length();
        (sig, v, length)
    });
    let proof_length = proof_fields.map_or(0, |(_, _, length)| {
        Header {
            list: true,
            payload_length: length,
        }
        .length()
            + length
    });
    let payload_length = V2_DOMAIN[..].length()
        + op.length()
        + SINGLE_SIGNER_DESCRIPTOR.len()
        + payload_rlp.length()
        + proof_length;
    let mut out = Vec::with_capacity(payload_length + 3);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    V2_DOMAIN[..].encode(&mut out);
    op.encode(&mut out);
    out.extend_from_slice(&SINGLE_SIGNER_DESCRIPTOR);
    payload_rlp.encode(&mut out);
    if let Some((sig, v, length)) = proof_fields {
        Header {
            list: true,
            payload_length: length,
        }
        .encode(&mut out);
        sig.r.encode(&mut out);
        sig.s.encode(&mut out);
        v.encode(&mut out);
    }
    out
}

/// The digest a `/v2` transaction's key signs.
#[must_use]
pub fn v2_signing_hash(kind: TxKind, payload_rlp: &[u8]) -> B256 {
    keccak256(v2_envelope(kind, payload_rlp, None))
}

/// The hash a node answers for a `/v2` transaction (proof order r, s, v).
#[must_use]
pub fn v2_transaction_hash(kind: TxKind, payload_rlp: &[u8], signature: &Signature) -> B256 {
    keccak256(v2_envelope(kind, payload_rlp, Some(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surface_choice_per_mode() {
        use NodeWriteMode::{Dual, ReadOnly, V1Only, V2Only};
        use WriteSurface::{V1, V2};
        assert_eq!(Dual.surface_for(V2), Some(V2));
        assert_eq!(Dual.surface_for(V1), Some(V1));
        assert_eq!(V1Only.surface_for(V2), Some(V1));
        assert_eq!(V2Only.surface_for(V1), Some(V2));
        assert_eq!(ReadOnly.surface_for(V2), None);
        assert_eq!("dual".parse::<NodeWriteMode>(), Ok(Dual));
        assert!("read_only".parse::<NodeWriteMode>().is_err());
    }

    #[test]
    fn v2_paths() {
        assert_eq!(
            WriteSurface::V2.path(TxKind::Payment),
            "/v2/transactions/payment"
        );
        assert_eq!(WriteSurface::V1.path(TxKind::Mint), "/v1/tokens/mint");
    }
}
