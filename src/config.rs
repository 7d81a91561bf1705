//! Validated plans: what the engine and the devnet run from. Parsing happened in
//! [`crate::cli`]; here values are checked and turned into types, with errors that name the
//! flag and what would be valid. No I/O beyond reading key files.

use std::fmt;

/// A command-line mistake: printed as one line, exit code 2, before any traffic is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(String);

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
