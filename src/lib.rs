//! stress-tui: a load tester for multi-node 1Money L1 clusters.
//!
//! ```text
//!  keys ─► tui ─► Action ─► App::update ─► Command ──┐
//!  --no-tui: signals, schedule ─────────────────────►│ EngineHandle (bounded mpsc)
//!                                                     ▼
//!   engine (sole owner of the node pool, rates and phase) ─► watch snapshots
//!   workload (issue ─► grant ─► mint ─► transfer ─► verify; sustained payments)
//!     pick node ─► node limiter ─► HTTP ─► Sample ─► stats ─► snapshots, reports
//!   devnet: N axum listeners over one shared ledger, per-node fault knobs
//! ```
//!
//! Modules, each with one owner:
//! - [`protocol`]: payloads, RLP signing, transaction hashes, wire JSON, wallets (pure).

pub mod protocol;
