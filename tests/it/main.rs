//! Integration tests, in one binary so that the crate links once.

// Test code: a failed unwrap is a failed test, which is what we want.
// Scenario tests read top to bottom, and payer/payee are the clearest names there.
#![allow(
    clippy::unwrap_used,
    clippy::needless_pass_by_value,
    clippy::similar_names,
    clippy::too_many_lines
)]

mod capacity;
mod cli_errors;
mod client_pool;
mod devnet_flow;
mod devnet_knobs;
mod devnet_rules;
mod devnet_v2;
mod faults;
mod fuzz;
mod k8s;
mod layers;
mod lost_answers;
mod metrics;
mod oracle;
mod oracle_v2;
mod replay;
mod report_html;
mod results;
mod run_engine;
mod scenario;
mod shards;
mod stages;
mod start_at;
mod summary_text;
mod support;
mod tui_tmux;
mod wire_json;
mod write_surface;
