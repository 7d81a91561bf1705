//! The read endpoints of a devnet node: chain id, checkpoints, nonces, balances, token metadata,
//! transactions and receipts, each read through the node's replica lag.

use std::time::{Duration, Instant};

use alloy_primitives::B256;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{NodeState, Params, address_param, bad_request, hash_param, ok_json, param};
use crate::devnet::ledger::{Reject, checkpoint_hash, transaction_view};
use crate::protocol::U256;
use crate::protocol::wire::{
    ChainIdResponse, Checkpoint, CheckpointNumberResponse, CheckpointTransactions,
    FeeEstimateResponse, NonceResponse, TokenAccountResponse, error_code,
};

fn lag(state: &NodeState) -> Duration {
    state.node.knobs.borrow().read_lag()
}

pub(super) async fn chain_id(State(state): State<NodeState>) -> Response {
    ok_json(&ChainIdResponse {
        chain_id: state.cluster.chain_id,
    })
}

pub(super) async fn checkpoint_number(State(state): State<NodeState>) -> Response {
    let number = state.cluster.ledger().checkpoint_number();
    ok_json(&CheckpointNumberResponse { number })
}

pub(super) async fn checkpoint_by_number(
    State(state): State<NodeState>,
    params: Params,
) -> Result<Response, Reject> {
    let text = param(&params, "number")?;
    let number: u64 = text.parse().map_err(|_| {
        bad_request(
            error_code::INVALID_PARAM,
            format!("`number`: `{text}` is not an unsigned integer"),
        )
    })?;
    let full = match params.get("full").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(bad_request(
                error_code::INVALID_PARAM,
                format!("`full`: `{other}` is not true or false"),
            ));
        }
    };
    let ledger = state.cluster.ledger();
    let Some(hashes) = ledger.checkpoint(number) else {
        return Err(Reject::new(
            StatusCode::NOT_FOUND,
            error_code::CHECKPOINT_NOT_FOUND,
            format!("checkpoint {number} not found"),
        ));
    };
    let transactions = if full {
        CheckpointTransactions::Full(
            hashes
                .iter()
                .filter_map(|hash| ledger.executed_any(hash))
                .map(|executed| executed.transaction())
                .collect(),
        )
    } else {
        CheckpointTransactions::Hashes(hashes.to_vec())
    };
    let checkpoint = Checkpoint {
        hash: checkpoint_hash(number),
        parent_hash: number.checked_sub(1).map_or(B256::ZERO, checkpoint_hash),
        // The devnet keeps no state tree: its roots are zero.
        state_root: B256::ZERO,
        transactions_root: B256::ZERO,
        receipts_root: B256::ZERO,
        number,
        timestamp: ledger.checkpoint_timestamp(number),
        transactions,
        size: None,
    };
    drop(ledger);
    Ok(ok_json(&checkpoint))
}

pub(super) async fn account_nonce(
    State(state): State<NodeState>,
    params: Params,
) -> Result<Response, Reject> {
    let address = address_param(&params, "address")?;
    let lag = lag(&state);
    let nonce = state
        .cluster
        .ledger()
        .read_state(state.node.index, lag, Instant::now())
        .nonce(address);
    Ok(ok_json(&NonceResponse { nonce }))
}

pub(super) async fn token_account(
    State(state): State<NodeState>,
    params: Params,
) -> Result<Response, Reject> {
    let owner = address_param(&params, "address")?;
    let token = address_param(&params, "token")?;
    let lag = lag(&state);
    let mut ledger = state.cluster.ledger();
    let view = ledger.read_state(state.node.index, lag, Instant::now());
    let response = TokenAccountResponse {
        balance: view.balance(token, owner),
        nonce: view.nonce(owner),
    };
    Ok(ok_json(&response))
}

pub(super) async fn token_metadata(
    State(state): State<NodeState>,
    params: Params,
) -> Result<Response, Reject> {
    let token = address_param(&params, "token")?;
    let lag = lag(&state);
    let info = state
        .cluster
        .ledger()
        .read_state(state.node.index, lag, Instant::now())
        .mint_info(token);
    info.map(|info| ok_json(&info)).ok_or_else(|| {
        Reject::new(
            StatusCode::NOT_FOUND,
            error_code::TOKEN_NOT_FOUND_RESOURCE,
            format!("token {token} not found"),
        )
    })
}

fn tx_not_found(hash: B256) -> Reject {
    Reject::new(
        StatusCode::NOT_FOUND,
        error_code::TX_NOT_FOUND,
        format!("transaction {hash} not found"),
    )
}

pub(super) async fn transaction_by_hash(
    State(state): State<NodeState>,
    params: Params,
) -> Result<Response, Reject> {
    let hash = hash_param(&params)?;
    let lag = lag(&state);
    let ledger = state.cluster.ledger();
    if let Some(executed) = ledger.executed(&hash, lag, Instant::now()) {
        return Ok(ok_json(&executed.transaction()));
    }
    match ledger.pending(&hash, lag, Instant::now()) {
        Some(tx) => Ok(ok_json(&transaction_view(&tx, None))),
        None => Err(tx_not_found(hash)),
    }
}

pub(super) async fn receipt_by_hash(
    State(state): State<NodeState>,
    params: Params,
) -> Result<Response, Reject> {
    let hash = hash_param(&params)?;
    let lag = lag(&state);
    let executed = state.cluster.ledger().executed(&hash, lag, Instant::now());
    executed
        .map(|e| ok_json(&e.receipt()))
        .ok_or_else(|| tx_not_found(hash))
}

pub(super) async fn estimate_fee(params: Params) -> Result<Response, Reject> {
    address_param(&params, "from")?;
    address_param(&params, "to")?;
    address_param(&params, "token")?;
    let value = param(&params, "value")?;
    crate::protocol::parse_u256(value)
        .map_err(|e| bad_request(error_code::INVALID_PARAM, format!("`value`: {e}")))?;
    Ok(ok_json(&FeeEstimateResponse { fee: U256::ZERO }))
}
