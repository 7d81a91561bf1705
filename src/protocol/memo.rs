//! The memo a `/v2` transaction carries (PROTOCOL.md section 8.3): three UTF-8 strings, empty
//! when there is none, with the limits a node enforces. The load generator checks a `--memo`
//! against them before any traffic; the devnet refuses a body that breaks them with the code a
//! node answers.

use alloy_rlp::{Encodable, Header};
use serde::{Deserialize, Serialize};

/// Longest `type`, in UTF-8 bytes.
pub const MAX_TYPE_BYTES: usize = 128;
/// Longest `format`, in UTF-8 bytes.
pub const MAX_FORMAT_BYTES: usize = 64;
/// Longest `data`, in UTF-8 bytes.
pub const MAX_DATA_BYTES: usize = 256;
/// `type` + `format` + `data` + this overhead may be at most [`MAX_TOTAL_BYTES`].
pub const OVERHEAD_BYTES: usize = 16;
pub const MAX_TOTAL_BYTES: usize = 512;

/// A transaction's memo; [`Memo::default`] (three empty strings) is "no memo".
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Memo {
    #[serde(rename = "type")]
    pub kind: String,
    pub format: String,
    pub data: String,
}

/// A memo rule a memo breaks: the node's `error_code` and a sentence naming the limit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct MemoError {
    pub code: &'static str,
    pub message: String,
}

/// The memo codes of PROTOCOL.md section 8.1.
pub mod memo_code {
    pub const TYPE_TOO_LONG: &str = "MEMO_TYPE_TOO_LONG";
    pub const TYPE_INVALID_CHARS: &str = "MEMO_TYPE_INVALID_CHARS";
    pub const FORMAT_TOO_LONG: &str = "MEMO_FORMAT_TOO_LONG";
    pub const FORMAT_INVALID_CHARS: &str = "MEMO_FORMAT_INVALID_CHARS";
    pub const DATA_TOO_LONG: &str = "MEMO_DATA_TOO_LONG";
    pub const DATA_CONTROL_CHARS: &str = "MEMO_DATA_CONTROL_CHARS";
    pub const TOO_LARGE: &str = "MEMO_TOO_LARGE";
}

/// Characters allowed in `type` and `format` besides ASCII letters and digits.
const SYMBOLS: &[u8] = b"-._~:/?#[]@!$&'()*+,;=%";

fn allowed_in_type_or_format(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || SYMBOLS.contains(&byte)
}

impl Memo {
    #[must_use]
    pub fn new(kind: &str, format: &str, data: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            format: format.to_owned(),
            data: data.to_owned(),
        }
    }

    /// No memo: three empty strings, as the SDKs send.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty() && self.format.is_empty() && self.data.is_empty()
    }

    /// Checks every limit of section 8.3. The total is checked first: with each field within
    /// its own limit the total is at most 464 bytes, so checked last it could never fail
    /// (which order a node uses is not published; this one makes every code reachable).
    pub fn validate(&self) -> Result<(), MemoError> {
        let fail = |code, message: String| Err(MemoError { code, message });
        let total = self.kind.len() + self.format.len() + self.data.len() + OVERHEAD_BYTES;
        if total > MAX_TOTAL_BYTES {
            return fail(
                memo_code::TOO_LARGE,
                format!(
                    "type + format + data + {OVERHEAD_BYTES} is {total} bytes, at most {MAX_TOTAL_BYTES}"
                ),
            );
        }
        for (name, text, max, too_long, bad_chars) in [
            (
                "type",
                &self.kind,
                MAX_TYPE_BYTES,
                memo_code::TYPE_TOO_LONG,
                memo_code::TYPE_INVALID_CHARS,
            ),
            (
                "format",
                &self.format,
                MAX_FORMAT_BYTES,
                memo_code::FORMAT_TOO_LONG,
                memo_code::FORMAT_INVALID_CHARS,
            ),
        ] {
            if text.len() > max {
                return fail(
                    too_long,
                    format!("memo {name} is {} bytes, at most {max}", text.len()),
                );
            }
            if let Some(bad) = text
                .chars()
                .find(|c| !c.is_ascii() || !allowed_in_type_or_format(*c as u8))
            {
                return fail(
                    bad_chars,
                    format!(
                        "memo {name} has {bad:?}; allowed: A-Z a-z 0-9 and {}",
                        String::from_utf8_lossy(SYMBOLS)
                    ),
                );
            }
        }
        if self.data.len() > MAX_DATA_BYTES {
            return fail(
                memo_code::DATA_TOO_LONG,
                format!(
                    "memo data is {} bytes, at most {MAX_DATA_BYTES}",
                    self.data.len()
                ),
            );
        }
        if let Some(bad) = self.data.chars().find(|c| c.is_control()) {
            return fail(
                memo_code::DATA_CONTROL_CHARS,
                format!("memo data has the control character {bad:?}"),
            );
        }
        Ok(())
    }

    /// Appends the RLP list `[type, format, data]` (byte strings); empty is `c3 80 80 80`.
    pub fn encode_rlp(&self, out: &mut Vec<u8>) {
        let (kind, format, data) = (
            self.kind.as_bytes(),
            self.format.as_bytes(),
            self.data.as_bytes(),
        );
        Header {
            list: true,
            payload_length: kind.length() + format.length() + data.length(),
        }
        .encode(out);
        kind.encode(out);
        format.encode(out);
        data.encode(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(memo: &Memo) -> Option<&'static str> {
        memo.validate().err().map(|e| e.code)
    }

    #[test]
    fn empty_memo_encodes_as_three_empty_strings() {
        let mut out = Vec::new();
        Memo::default().encode_rlp(&mut out);
        assert_eq!(out, [0xc3, 0x80, 0x80, 0x80]);
        assert_eq!(code(&Memo::default()), None);
    }

    #[test]
    fn each_rule_has_its_code_at_its_limit() {
        let ok = Memo::new("purpose/SALA", "text/plain", "invoice-0001");
        assert_eq!(code(&ok), None);
        let at = |kind: usize, format: usize, data: usize| {
            Memo::new(&"t".repeat(kind), &"f".repeat(format), &"d".repeat(data))
        };
        assert_eq!(code(&at(128, 64, 256)), None);
        assert_eq!(code(&at(129, 0, 0)), Some(memo_code::TYPE_TOO_LONG));
        assert_eq!(code(&at(0, 65, 0)), Some(memo_code::FORMAT_TOO_LONG));
        assert_eq!(code(&at(0, 0, 257)), Some(memo_code::DATA_TOO_LONG));
        assert_eq!(code(&at(0, 0, 497)), Some(memo_code::TOO_LARGE));
        assert_eq!(code(&at(0, 0, 496)), Some(memo_code::DATA_TOO_LONG));
        let bad_type = Memo::new("a b", "", "");
        assert_eq!(code(&bad_type), Some(memo_code::TYPE_INVALID_CHARS));
        let bad_format = Memo::new("", "text/plain<", "");
        assert_eq!(code(&bad_format), Some(memo_code::FORMAT_INVALID_CHARS));
        let unicode_type = Memo::new("é", "", "");
        assert_eq!(code(&unicode_type), Some(memo_code::TYPE_INVALID_CHARS));
        let control = Memo::new("", "", "line\nbreak");
        assert_eq!(code(&control), Some(memo_code::DATA_CONTROL_CHARS));
        // Any Unicode that is not a control character is fine in data.
        assert_eq!(code(&Memo::new("", "", "Überweisung ✓")), None);
        let every_symbol = Memo::new("-._~:/?#[]@!$&'()*+,;=%Az09", "", "");
        assert_eq!(code(&every_symbol), None);
    }
}
