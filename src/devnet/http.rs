//! The REST surface of one devnet node: the endpoints of PROTOCOL.md section 2 over the shared
//! [`Ledger`], behind the node's fault knobs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, keccak256};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::RngExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use super::knobs::{CapacityBucket, NodeKnobs};
use super::ledger::{Ledger, Reject, Tx, TxBody, checkpoint_hash, transaction_view};
use crate::protocol::wire::{
    ChainIdResponse, Checkpoint, CheckpointNumberResponse, CheckpointTransactions, ErrorBody,
    FeeEstimateResponse, HashResponse, IssueResponse, NonceResponse, SignedRequest,
    TokenAccountResponse, error_code,
};
use crate::protocol::{
    AuthorityPayload, IssuePayload, MintPayload, Payload, PayloadProfile, PaymentPayload, U256,
    recover_signer, transaction_hash,
};

/// What every node of a cluster shares.
pub struct ClusterShared {
    pub ledger: Mutex<Ledger>,
    /// HTTP requests that reached any node (answered or not).
    pub requests: std::sync::atomic::AtomicU64,
    pub chain_id: u64,
    pub profile: PayloadProfile,
}

impl ClusterShared {
    pub fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // A panic while holding the lock is a devnet bug; keep serving rather than cascade.
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One node's identity and behaviour.
pub struct NodeShared {
    pub index: usize,
    pub knobs: watch::Sender<NodeKnobs>,
    post_bucket: Mutex<CapacityBucket>,
    get_bucket: Mutex<CapacityBucket>,
}

impl NodeShared {
    pub fn new(index: usize, knobs: NodeKnobs) -> Self {
        let now = Instant::now();
        Self {
            index,
            knobs: watch::Sender::new(knobs),
            post_bucket: Mutex::new(CapacityBucket::new(now)),
            get_bucket: Mutex::new(CapacityBucket::new(now)),
        }
    }
}

#[derive(Clone)]
struct NodeState {
    cluster: Arc<ClusterShared>,
    node: Arc<NodeShared>,
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error_code: self.code.to_owned(),
            message: self.message,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

fn bad_request(code: &'static str, message: impl Into<String>) -> Reject {
    Reject::new(StatusCode::BAD_REQUEST, code, message)
}

/// The router of one node.
pub fn router(cluster: Arc<ClusterShared>, node: Arc<NodeShared>) -> Router {
    let state = NodeState { cluster, node };
    Router::new()
        .route("/api/health", get(|| async { "UP" }))
        .route("/v1/chains/chain_id", get(chain_id))
        .route("/v1/checkpoints/number", get(checkpoint_number))
        .route("/v1/checkpoints/by_number", get(checkpoint_by_number))
        .route("/v1/accounts/nonce", get(account_nonce))
        .route("/v1/accounts/token_account", get(token_account))
        .route("/v1/tokens/token_metadata", get(token_metadata))
        .route("/v1/transactions/by_hash", get(transaction_by_hash))
        .route("/v1/transactions/receipt/by_hash", get(receipt_by_hash))
        .route("/v1/transactions/estimate_fee", get(estimate_fee))
        .route("/v1/tokens/issue", post(submit::<IssuePayload>))
        .route(
            "/v1/tokens/grant_authority",
            post(submit::<AuthorityPayload>),
        )
        .route("/v1/tokens/mint", post(submit::<MintPayload>))
        .route("/v1/transactions/payment", post(submit::<PaymentPayload>))
        .layer(middleware::from_fn_with_state(state.clone(), apply_knobs))
        .with_state(state)
}

/// Hang, capacity, injected errors and latency, in that order, before the handler runs.
async fn apply_knobs(State(state): State<NodeState>, request: Request, next: Next) -> Response {
    state
        .cluster
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let knobs = state.node.knobs.borrow().clone();
    if knobs.hang {
        // Held until the client gives up or the node goes down (which drops the connection).
        std::future::pending::<()>().await;
    }
    let now = Instant::now();
    let (capacity, bucket) = if request.method() == Method::POST {
        (knobs.post_capacity, &state.node.post_bucket)
    } else {
        (knobs.get_capacity, &state.node.get_bucket)
    };
    let admitted = bucket
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .try_take(capacity, now);
    if !admitted {
        let mut response = Reject::new(
            StatusCode::TOO_MANY_REQUESTS,
            error_code::RATE_LIMITED,
            "rate limit exceeded",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    let (fail, garbage, lose, extra_ms) = {
        let mut rng = rand::rng();
        let mut roll = |ratio: f64| ratio > 0.0 && rng.random::<f64>() < ratio;
        let (fail, garbage, lose) = (
            roll(knobs.error_ratio),
            roll(knobs.garbage_ratio),
            roll(knobs.lose_ratio),
        );
        let extra = if knobs.latency_jitter_ms > 0 {
            rng.random_range(0..=knobs.latency_jitter_ms)
        } else {
            0
        };
        (fail, garbage, lose, extra)
    };
    let delay = Duration::from_millis(knobs.latency_ms + extra_ms);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if fail {
        return Reject::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_code::INTERNAL,
            "injected error",
        )
        .into_response();
    }
    if garbage {
        return (StatusCode::OK, "<html>upstream garbage</html>").into_response();
    }
    let response = next.run(request).await;
    if lose {
        // The request took effect; its answer is lost.
        return Reject::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_code::INTERNAL,
            "injected lost answer",
        )
        .into_response();
    }
    response
}

fn ok_json<T: Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

type Params = Query<HashMap<String, String>>;

fn param<'a>(params: &'a Params, name: &str) -> Result<&'a str, Reject> {
    params.get(name).map(String::as_str).ok_or_else(|| {
        bad_request(
            error_code::MISSING_PARAM,
            format!("missing query parameter `{name}`"),
        )
    })
}

fn address_param(params: &Params, name: &str) -> Result<Address, Reject> {
    let text = param(params, name)?;
    parse_address(text)
        .map_err(|reason| bad_request(error_code::INVALID_ADDRESS, format!("`{name}`: {reason}")))
}

fn parse_address(text: &str) -> Result<Address, String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or("");
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("`{text}` is not 0x followed by 40 hex digits"));
    }
    text.parse().map_err(|e| format!("`{text}`: {e}"))
}

fn hash_param(params: &Params) -> Result<B256, Reject> {
    let text = param(params, "hash")?;
    let digits = text.strip_prefix("0x").unwrap_or("");
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad_request(
            error_code::INVALID_PARAM,
            format!("`hash`: `{text}` is not 0x followed by 64 hex digits"),
        ));
    }
    text.parse()
        .map_err(|e| bad_request(error_code::INVALID_PARAM, format!("`hash`: {e}")))
}

fn lag(state: &NodeState) -> Duration {
    state.node.knobs.borrow().read_lag()
}

async fn chain_id(State(state): State<NodeState>) -> Response {
    ok_json(&ChainIdResponse {
        chain_id: state.cluster.chain_id,
    })
}

async fn checkpoint_number(State(state): State<NodeState>) -> Response {
    let number = state.cluster.ledger().checkpoint_number();
    ok_json(&CheckpointNumberResponse { number })
}

async fn checkpoint_by_number(
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

async fn account_nonce(State(state): State<NodeState>, params: Params) -> Result<Response, Reject> {
    let address = address_param(&params, "address")?;
    let lag = lag(&state);
    let nonce = state
        .cluster
        .ledger()
        .read_state(state.node.index, lag, Instant::now())
        .nonce(address);
    Ok(ok_json(&NonceResponse { nonce }))
}

async fn token_account(State(state): State<NodeState>, params: Params) -> Result<Response, Reject> {
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

async fn token_metadata(
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

async fn transaction_by_hash(
    State(state): State<NodeState>,
    params: Params,
) -> Result<Response, Reject> {
    let hash = hash_param(&params)?;
    let lag = lag(&state);
    let ledger = state.cluster.ledger();
    if let Some(executed) = ledger.executed(&hash, lag, Instant::now()) {
        return Ok(ok_json(&executed.transaction()));
    }
    match ledger.pending(&hash) {
        Some(tx) => Ok(ok_json(&transaction_view(&tx, None))),
        None => Err(tx_not_found(hash)),
    }
}

async fn receipt_by_hash(
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

async fn estimate_fee(params: Params) -> Result<Response, Reject> {
    address_param(&params, "from")?;
    address_param(&params, "to")?;
    address_param(&params, "token")?;
    let value = param(&params, "value")?;
    crate::protocol::parse_u256(value)
        .map_err(|e| bad_request(error_code::INVALID_PARAM, format!("`value`: {e}")))?;
    Ok(ok_json(&FeeEstimateResponse { fee: U256::ZERO }))
}

/// Payload kinds the devnet admits, with their own field checks.
trait Admissible: Payload + DeserializeOwned {
    fn into_body(self) -> TxBody;

    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

impl Admissible for IssuePayload {
    fn into_body(self) -> TxBody {
        TxBody::Issue(self)
    }

    fn validate(&self) -> Result<(), String> {
        if self.symbol.is_empty()
            || self.symbol.len() > 20
            || !self.symbol.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(format!(
                "symbol `{}` must be 1 to 20 alphanumeric characters",
                self.symbol
            ));
        }
        if self.name.is_empty() || self.name.len() > 120 {
            return Err(format!(
                "name must be 1 to 120 bytes, got {}",
                self.name.len()
            ));
        }
        if self.decimals > 18 {
            return Err(format!(
                "decimals must be at most 18, got {}",
                self.decimals
            ));
        }
        Ok(())
    }
}

impl Admissible for AuthorityPayload {
    fn into_body(self) -> TxBody {
        TxBody::Authority(self)
    }
}

impl Admissible for MintPayload {
    fn into_body(self) -> TxBody {
        TxBody::Mint(self)
    }
}

impl Admissible for PaymentPayload {
    fn into_body(self) -> TxBody {
        TxBody::Payment(self)
    }
}

/// Body fields that hold addresses: a malformed one is `validation_invalid_address`.
const ADDRESS_FIELDS: [&str; 4] = [
    "recipient",
    "token",
    "master_authority",
    "authority_address",
];

fn parse_request<P: Admissible>(body: &[u8]) -> Result<SignedRequest<P>, Reject> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| {
            bad_request(
                error_code::INVALID_PARAM,
                format!("malformed JSON body: {e}"),
            )
        })?;
    for field in ADDRESS_FIELDS {
        if let Some(value) = object.get(field) {
            let valid = value
                .as_str()
                .is_some_and(|text| parse_address(text).is_ok());
            if !valid {
                return Err(bad_request(
                    error_code::INVALID_ADDRESS,
                    format!("`{field}`: {value} is not 0x followed by 40 hex digits"),
                ));
            }
        }
    }
    let request: SignedRequest<P> = serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|e| {
            let message = e.to_string();
            if message.starts_with("missing field") {
                bad_request(error_code::MISSING_PARAM, message)
            } else {
                bad_request(error_code::INVALID_PARAM, message)
            }
        })?;
    request
        .payload
        .validate()
        .map_err(|e| bad_request(error_code::INVALID_PARAM, e))?;
    Ok(request)
}

async fn submit<P: Admissible>(
    State(state): State<NodeState>,
    body: Bytes,
) -> Result<Response, Reject> {
    let request = parse_request::<P>(&body)?;
    let signing_rlp = request.payload.signing_rlp(state.cluster.profile);
    let from = recover_signer(&keccak256(&signing_rlp), &request.signature).map_err(|e| {
        bad_request(
            error_code::INVALID_SIGNATURE,
            format!("invalid signature: {e}"),
        )
    })?;
    let hash = transaction_hash(&signing_rlp, &request.signature);
    let (chain_id, nonce) = (request.payload.chain_id(), request.payload.nonce());
    let body = request.payload.into_body();
    let issued_token = match &body {
        TxBody::Issue(issue) => Some(issue.token_address()),
        _ => None,
    };
    let tx = Tx {
        hash,
        from,
        chain_id,
        nonce,
        body,
        signature: request.signature,
    };
    let jitter = rand::rng().random::<f64>();
    state.cluster.ledger().admit(tx, Instant::now(), jitter)?;
    Ok(match issued_token {
        Some(token) => ok_json(&IssueResponse { hash, token }),
        None => ok_json(&HashResponse { hash }),
    })
}
