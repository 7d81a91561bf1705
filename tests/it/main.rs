//! Integration tests, in one binary so that the crate links once.

// Test code: a failed unwrap is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::needless_pass_by_value)]

mod oracle;
mod wire_json;
