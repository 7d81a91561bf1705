//! ECDSA signatures as the 1Money REST API carries them (`{"r", "s", "v"}`) and signer
//! recovery, which is how a node learns the sender.

use alloy_primitives::{Address, B256, U256, uint};
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{Message, SECP256K1};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::keys::address_of_public_key;
use super::numbers::{U256Input, hex64};

/// Half the secp256k1 group order: a signature with a larger `s` is high-S and rejected.
const HALF_ORDER: U256 =
    uint!(0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0_U256);

/// A recoverable ECDSA signature; `y_parity` is what the wire calls `v` (0 or 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    pub r: U256,
    pub s: U256,
    pub y_parity: bool,
}

impl Signature {
    /// The wire `v`: 0 or 1.
    #[must_use]
    pub fn v(&self) -> u8 {
        u8::from(self.y_parity)
    }

    /// Reads `v` as a node does: 0/1, 27/28, or an EIP-155 value (35 and up); only the parity
    /// counts.
    pub fn parity_from_v(v: u64) -> Result<bool, String> {
        match v {
            0 | 1 => Ok(v == 1),
            27 | 28 => Ok(v == 28),
            35.. => Ok((v - 35) % 2 == 1),
            _ => Err(format!(
                "invalid signature v {v} (valid: 0, 1, 27, 28 or 35 and up)"
            )),
        }
    }

    #[must_use]
    pub fn is_high_s(&self) -> bool {
        self.s > HALF_ORDER
    }
}

#[derive(Serialize)]
struct WireOut {
    #[serde(with = "hex64")]
    r: U256,
    #[serde(with = "hex64")]
    s: U256,
    v: u8,
}

#[derive(Deserialize)]
struct WireIn {
    r: U256Input,
    s: U256Input,
    v: u64,
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            r: self.r,
            s: self.s,
            v: self.v(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::deserialize(deserializer)?;
        let y_parity = Signature::parity_from_v(wire.v).map_err(serde::de::Error::custom)?;
        Ok(Signature {
            r: wire.r.0,
            s: wire.s.0,
            y_parity,
        })
    }
}

/// Why a signer could not be recovered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecoverError {
    #[error("high-S signature")]
    HighS,
    #[error("signature does not recover a public key")]
    Unrecoverable,
}

/// Recovers the sender address from a signature over `digest`. High-S signatures are refused,
/// as a node refuses them.
pub fn recover_signer(digest: &B256, signature: &Signature) -> Result<Address, RecoverError> {
    if signature.is_high_s() {
        return Err(RecoverError::HighS);
    }
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&signature.r.to_be_bytes::<32>());
    compact[32..].copy_from_slice(&signature.s.to_be_bytes::<32>());
    let recovery_id = if signature.y_parity {
        RecoveryId::One
    } else {
        RecoveryId::Zero
    };
    let recoverable = RecoverableSignature::from_compact(&compact, recovery_id)
        .map_err(|_| RecoverError::Unrecoverable)?;
    let public_key = SECP256K1
        .recover_ecdsa(Message::from_digest(digest.0), &recoverable)
        .map_err(|_| RecoverError::Unrecoverable)?;
    Ok(address_of_public_key(&public_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v_spellings_map_to_parity() {
        for (v, parity) in [
            (0, false),
            (1, true),
            (27, false),
            (28, true),
            (35, false),
            (36, true),
            (2_424_237, false),
        ] {
            assert_eq!(Signature::parity_from_v(v), Ok(parity), "v = {v}");
        }
        for v in [2, 26, 29, 34] {
            assert!(Signature::parity_from_v(v).is_err(), "v = {v}");
        }
    }

    #[test]
    fn json_round_trip_accepts_27_and_28() {
        let sig = Signature {
            r: U256::from(5),
            s: U256::from(7),
            y_parity: true,
        };
        let json = serde_json::to_string(&sig).unwrap();
        assert_eq!(
            json,
            format!("{{\"r\":\"0x{:064x}\",\"s\":\"0x{:064x}\",\"v\":1}}", 5, 7)
        );
        assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), sig);
        let legacy: Signature = serde_json::from_str(r#"{"r":5,"s":"7","v":28}"#).unwrap();
        assert_eq!(legacy, sig);
        let even: Signature = serde_json::from_str(r#"{"r":"0x5","s":"0x07","v":27}"#).unwrap();
        assert!(!even.y_parity);
        assert!(serde_json::from_str::<Signature>(r#"{"r":5,"s":7,"v":30}"#).is_err());
    }

    #[test]
    fn high_s_is_refused() {
        let sig = Signature {
            r: U256::from(5),
            s: HALF_ORDER + U256::from(1),
            y_parity: false,
        };
        assert_eq!(recover_signer(&B256::ZERO, &sig), Err(RecoverError::HighS));
    }
}
