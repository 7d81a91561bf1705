//! Private keys and signers. A key is loaded from a file or an environment variable, never
//! from a command-line argument (argv is visible to every user of the machine), and its `Debug`
//! shows no key material. There is deliberately no `Display`: printing a key takes an explicit
//! call to [`PrivateKey::expose_hex`].

use std::fmt;
use std::path::{Path, PathBuf};

use alloy_primitives::{Address, B256, U256, keccak256};
use secp256k1::ecdsa::RecoverableSignature;
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};

use super::signature::Signature;

/// Why a private key could not be loaded. Messages name the source, never the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("a private key is 64 hex digits (optionally 0x-prefixed); got {got} characters")]
    WrongLength { got: usize },
    #[error("a private key is 64 hex digits (optionally 0x-prefixed); found a non-hex character")]
    NotHex,
    #[error("the private key is zero or not below the secp256k1 group order")]
    OutOfRange,
    #[error("cannot read key file {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {}: {reason}", path.display())]
    BadFile {
        path: PathBuf,
        reason: Box<KeyError>,
    },
    #[error("environment variable {var} is not set")]
    EnvMissing { var: String },
    #[error("environment variable {var}: {reason}")]
    BadEnv { var: String, reason: Box<KeyError> },
}

/// A secp256k1 private key.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey {
    secret: SecretKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

impl PrivateKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, KeyError> {
        SecretKey::from_byte_array(bytes)
            .map(|secret| Self { secret })
            .map_err(|_| KeyError::OutOfRange)
    }

    /// Parses 64 hex digits, with or without `0x`, ignoring surrounding white space.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        if digits.len() != 64 {
            return Err(KeyError::WrongLength { got: digits.len() });
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| KeyError::NotHex)?;
        Self::from_bytes(bytes)
    }

    /// Reads a key file holding the hex key (white space around it is ignored).
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        Self::from_hex(&text).map_err(|reason| KeyError::BadFile {
            path: path.to_owned(),
            reason: Box::new(reason),
        })
    }

    /// Reads the hex key from an environment variable.
    pub fn from_env(var: &str) -> Result<Self, KeyError> {
        let text = std::env::var(var).map_err(|_| KeyError::EnvMissing {
            var: var.to_owned(),
        })?;
        Self::from_hex(&text).map_err(|reason| KeyError::BadEnv {
            var: var.to_owned(),
            reason: Box::new(reason),
        })
    }

    /// The key as `0x` + 64 hex digits. Only for an explicit user request (`--export-keys`).
    #[must_use]
    pub fn expose_hex(&self) -> String {
        format!("0x{}", hex::encode(self.secret.secret_bytes()))
    }

    /// The Ethereum-style address of this key (derives the public key: about 20 µs).
    #[must_use]
    pub fn address(&self) -> Address {
        address_of_public_key(&PublicKey::from_secret_key(SECP256K1, &self.secret))
    }

    /// Signs a 32-byte digest: RFC 6979 nonce, low-S (libsecp256k1 always normalises), and the
    /// recovery parity as `y_parity`.
    #[must_use]
    pub fn sign_prehash(&self, digest: &B256) -> Signature {
        let recoverable: RecoverableSignature =
            super::rfc6979::sign_recoverable(&self.secret, &digest.0).unwrap_or_else(|| {
                SECP256K1.sign_ecdsa_recoverable(Message::from_digest(digest.0), &self.secret)
            });
        let (recovery_id, compact) = recoverable.serialize_compact();
        Signature {
            r: U256::from_be_slice(&compact[..32]),
            s: U256::from_be_slice(&compact[32..]),
            // Recovery ids 2 and 3 (r >= n) occur with probability ~2^-128; parity is bit 0.
            y_parity: i32::from(recovery_id) & 1 == 1,
        }
    }
}

/// The address of a public key: keccak256 of its uncompressed form without the 0x04 prefix,
/// last 20 bytes.
#[must_use]
pub fn address_of_public_key(public_key: &PublicKey) -> Address {
    let uncompressed = public_key.serialize_uncompressed();
    Address::from_slice(&keccak256(&uncompressed[1..])[12..])
}

/// A key with its address computed once: what the workload signs with.
#[derive(Clone, Debug)]
pub struct Signer {
    key: PrivateKey,
    address: Address,
}

impl Signer {
    #[must_use]
    pub fn new(key: PrivateKey) -> Self {
        let address = key.address();
        Self { key, address }
    }

    #[must_use]
    pub fn address(&self) -> Address {
        self.address
    }

    #[must_use]
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    #[must_use]
    pub fn sign_prehash(&self, digest: &B256) -> Signature {
        self.key.sign_prehash(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_KEY: &str = "0x01833a126ec45d0191519748146b9e35647aab7fed28de1c8e17824970f964a3";

    #[test]
    fn test_key_has_the_documented_address() {
        let key = PrivateKey::from_hex(TEST_KEY).unwrap();
        assert_eq!(
            key.address(),
            "0x2045a425d0e131e747f8be2f044413733e412d7d"
                .parse::<Address>()
                .unwrap()
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = PrivateKey::from_hex(TEST_KEY).unwrap();
        let signer = Signer::new(key.clone());
        for shown in [
            format!("{key:?}"),
            format!("{key:#?}"),
            format!("{signer:?}"),
        ] {
            assert!(!shown.contains("01833a126ec45d01"), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
    }

    #[test]
    fn rejects_malformed_keys_without_echoing_them() {
        let cases = [
            ("", "got 0 characters"),
            ("0x1234", "got 4 characters"),
            (&"zz".repeat(32), "non-hex"),
            (&"00".repeat(32), "zero or not below"),
            (&"ff".repeat(32), "zero or not below"),
        ];
        for (input, expected) in cases {
            let message = PrivateKey::from_hex(input).unwrap_err().to_string();
            assert!(message.contains(expected), "{input}: {message}");
            if input.len() > 8 {
                assert!(!message.contains(input), "{message}");
            }
        }
    }

    #[test]
    fn loads_from_file_and_env_with_whitespace() {
        let dir = std::env::temp_dir().join(format!("stress-tui-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("operator.key");
        std::fs::write(&path, format!("  {TEST_KEY}\n")).unwrap();
        let from_file = PrivateKey::from_file(&path).unwrap();
        assert_eq!(from_file, PrivateKey::from_hex(TEST_KEY).unwrap());

        let missing = PrivateKey::from_file(&dir.join("missing.key"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("missing.key"), "{missing}");
        std::fs::write(&path, "not a key").unwrap();
        let bad = PrivateKey::from_file(&path).unwrap_err().to_string();
        assert!(
            bad.contains("operator.key") && !bad.contains("not a key"),
            "{bad}"
        );
        std::fs::remove_dir_all(&dir).unwrap();

        let missing_env = PrivateKey::from_env("STRESS_TUI_TEST_UNSET_VAR")
            .unwrap_err()
            .to_string();
        assert!(
            missing_env.contains("STRESS_TUI_TEST_UNSET_VAR"),
            "{missing_env}"
        );
    }

    #[test]
    fn expose_hex_round_trips() {
        let key = PrivateKey::from_hex(TEST_KEY).unwrap();
        assert_eq!(key.expose_hex(), TEST_KEY);
    }
}
