//! U256 on the wire: servers accept a JSON number (u64 range), a decimal string or a `0x` hex
//! string of any length; we emit `value` as a decimal string and `r`/`s` as `0x` + 64 hex
//! digits, as the Go and TypeScript SDKs do.

use alloy_primitives::U256;
use serde::{Deserialize, Deserializer, Serializer, de};

/// Parses a U256 from its decimal or `0x`-hex spelling.
///
/// Decimal must be digits only (no sign, no spaces); hex may have any number of digits up to 64
/// (the official Rust SDK sends minimal hex).
pub fn parse_u256(text: &str) -> Result<U256, String> {
    if let Some(hex_digits) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        if hex_digits.is_empty() || hex_digits.len() > 64 {
            return Err(format!("`{text}` is not 0x followed by 1 to 64 hex digits"));
        }
        U256::from_str_radix(hex_digits, 16).map_err(|_| format!("`{text}` is not valid hex"))
    } else {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{text}` is not a decimal integer"));
        }
        U256::from_str_radix(text, 10).map_err(|_| format!("`{text}` does not fit in 256 bits"))
    }
}

/// A U256 read from any of its three JSON spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct U256Input(pub U256);

impl<'de> Deserialize<'de> for U256Input {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = U256Input;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a non-negative integer, a decimal string or a 0x hex string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<U256Input, E> {
                Ok(U256Input(U256::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<U256Input, E> {
                u64::try_from(v)
                    .map(|v| U256Input(U256::from(v)))
                    .map_err(|_| E::custom("a U256 cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<U256Input, E> {
                parse_u256(v).map(U256Input).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `#[serde(with = "decimal")]`: written as a decimal string, read from any spelling.
pub mod decimal {
    use super::{Deserialize, Deserializer, Serializer, U256, U256Input};

    pub fn serialize<S: Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<U256, D::Error> {
        U256Input::deserialize(deserializer).map(|v| v.0)
    }
}

/// `#[serde(with = "hex64")]`: written as `0x` + 64 hex digits, read from any spelling.
pub mod hex64 {
    use super::{Deserialize, Deserializer, Serializer, U256, U256Input};

    pub fn serialize<S: Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("0x{value:064x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<U256, D::Error> {
        U256Input::deserialize(deserializer).map(|v| v.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_spellings() {
        let from_number: U256Input = serde_json::from_str("273").unwrap();
        let from_decimal: U256Input = serde_json::from_str("\"273\"").unwrap();
        let from_hex: U256Input = serde_json::from_str("\"0x111\"").unwrap();
        let from_padded_hex: U256Input =
            serde_json::from_str(&format!("\"0x{:064x}\"", 273)).unwrap();
        for parsed in [from_number, from_decimal, from_hex, from_padded_hex] {
            assert_eq!(parsed.0, U256::from(273));
        }
    }

    #[test]
    fn rejects_what_is_not_a_u256() {
        for bad in [
            "-1", "\"-1\"", "\"\"", "\"0x\"", "\"12a\"", "\"0xzz\"", "1.5", "true", "null",
        ] {
            assert!(
                serde_json::from_str::<U256Input>(bad).is_err(),
                "{bad} was accepted"
            );
        }
        let too_long = format!("\"0x{}\"", "1".repeat(65));
        assert!(serde_json::from_str::<U256Input>(&too_long).is_err());
        let too_big = format!("\"{}0\"", U256::MAX);
        assert!(serde_json::from_str::<U256Input>(&too_big).is_err());
    }

    #[test]
    fn writes_decimal_and_padded_hex() {
        #[derive(serde::Serialize)]
        struct Both {
            #[serde(with = "decimal")]
            value: U256,
            #[serde(with = "hex64")]
            r: U256,
        }
        let json = serde_json::to_string(&Both {
            value: U256::from(10),
            r: U256::from(255),
        })
        .unwrap();
        assert_eq!(
            json,
            format!("{{\"value\":\"10\",\"r\":\"0x{}ff\"}}", "0".repeat(62))
        );
    }
}
