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
use super::node::ConnectionKill;
use crate::protocol::surface::{
    SINGLE_SECP256K1, v2_payload_rlp, v2_signing_hash, v2_transaction_hash,
};
use crate::protocol::wire::{
    API_STATUS_PATH, ApiStatus, ChainIdResponse, Checkpoint, CheckpointNumberResponse,
    CheckpointTransactions, DomainSeparatedSupport, ErrorBody, FeeEstimateResponse, HashResponse,
    IssueResponse, NonceResponse, TokenAccountResponse, error_code,
};
use crate::protocol::{
    AuthorityPayload, IssuePayload, Memo, MintPayload, NodeWriteMode, Payload, PayloadProfile,
    PaymentPayload, Signature, U256, U256Input, WriteSurface, recover_signer, transaction_hash,
};

/// What every node of a cluster shares.
pub struct ClusterShared {
    pub ledger: Mutex<Ledger>,
    /// HTTP requests that reached any node (answered or not).
    pub requests: std::sync::atomic::AtomicU64,
    pub chain_id: u64,
    pub profile: PayloadProfile,
    /// When the devnet started, in Unix seconds: its `dual_activated_at_secs`.
    pub started_unix_secs: u64,
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
        .route(API_STATUS_PATH, get(api_status))
        .route("/v1/chains/chain_id", get(chain_id))
        .route("/v1/checkpoints/number", get(checkpoint_number))
        .route("/v1/checkpoints/by_number", get(checkpoint_by_number))
        .route("/v1/accounts/nonce", get(account_nonce))
        .route("/v1/accounts/token_account", get(token_account))
        .route("/v1/tokens/token_metadata", get(token_metadata))
        .route("/v1/transactions/by_hash", get(transaction_by_hash))
        .route("/v1/transactions/receipt/by_hash", get(receipt_by_hash))
        .route("/v1/transactions/estimate_fee", get(estimate_fee))
        .route("/v1/tokens/issue", post(submit_v1::<IssuePayload>))
        .route(
            "/v1/tokens/grant_authority",
            post(submit_v1::<AuthorityPayload>),
        )
        .route("/v1/tokens/mint", post(submit_v1::<MintPayload>))
        .route(
            "/v1/transactions/payment",
            post(submit_v1::<PaymentPayload>),
        )
        .route("/v2/tokens/issue", post(submit_v2::<IssuePayload>))
        .route(
            "/v2/tokens/grant_authority",
            post(submit_v2::<AuthorityPayload>),
        )
        .route("/v2/tokens/mint", post(submit_v2::<MintPayload>))
        .route(
            "/v2/transactions/payment",
            post(submit_v2::<PaymentPayload>),
        )
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
    let (fail, garbage, lose, cut, extra_ms) = {
        let mut rng = rand::rng();
        let mut roll = |ratio: f64| ratio > 0.0 && rng.random::<f64>() < ratio;
        let (fail, garbage, lose) = (
            roll(knobs.error_ratio),
            roll(knobs.garbage_ratio),
            roll(knobs.lose_ratio),
        );
        let cut = if roll(knobs.reset_ratio) {
            Some(Cut::Reset)
        } else if roll(knobs.half_answer_ratio) {
            Some(Cut::HalfAnswer)
        } else {
            None
        };
        let extra = if knobs.latency_jitter_ms > 0 {
            rng.random_range(0..=knobs.latency_jitter_ms)
        } else {
            0
        };
        (fail, garbage, lose, cut, extra)
    };
    let kill = request.extensions().get::<ConnectionKill>().cloned();
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
    if let (Some(cut), Some(ConnectionKill(kill))) = (cut, kill) {
        // The request went through the node (admitted, or refused: whatever it answered); its
        // connection goes with no answer, or half of one.
        return match cut {
            Cut::Reset => {
                kill.cancel();
                std::future::pending().await
            }
            Cut::HalfAnswer => half_answer(response, kill).await,
        };
    }
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

/// How a `reset_ratio` or `half_answer_ratio` roll ends a connection.
#[derive(Clone, Copy)]
enum Cut {
    Reset,
    HalfAnswer,
}

/// The answer's head and the first half of its body (the head announcing the whole length);
/// then the connection is dropped.
async fn half_answer(response: Response, kill: tokio_util::sync::CancellationToken) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    tokio::spawn(async move {
        // Long enough for the head and the half to be written and flushed first.
        tokio::time::sleep(Duration::from_millis(20)).await;
        kill.cancel();
    });
    let chunks = futures_util::StreamExt::chain(
        futures_util::stream::iter([Ok::<_, std::io::Error>(half)]),
        futures_util::stream::pending(),
    );
    Response::from_parts(parts, axum::body::Body::from_stream(chunks))
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
    match ledger.pending(&hash, lag, Instant::now()) {
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

type JsonObject = serde_json::Map<String, serde_json::Value>;

fn json_object(body: &[u8]) -> Result<JsonObject, Reject> {
    serde_json::from_slice(body).map_err(|e| {
        bad_request(
            error_code::INVALID_PARAM,
            format!("malformed JSON body: {e}"),
        )
    })
}

fn missing(field: &str) -> Reject {
    bad_request(
        error_code::MISSING_PARAM,
        format!("missing field `{field}`"),
    )
}

/// The payload's fields (what is left of the body once the signature parts are taken out).
fn payload_from<P: Admissible>(object: JsonObject) -> Result<P, Reject> {
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
    let payload: P = serde_json::from_value(serde_json::Value::Object(object)).map_err(|e| {
        let message = e.to_string();
        if message.starts_with("missing field") {
            bad_request(error_code::MISSING_PARAM, message)
        } else {
            bad_request(error_code::INVALID_PARAM, message)
        }
    })?;
    payload
        .validate()
        .map_err(|e| bad_request(error_code::INVALID_PARAM, e))?;
    Ok(payload)
}

/// A `{"r","s","v"}` object; `v` must pass `parity` (a bad `v` is a bad signature, not a bad
/// parameter: 400 `validation_invalid_signature`, as a node answers).
fn signature_from(
    value: serde_json::Value,
    parity: impl Fn(u64) -> Result<bool, String>,
) -> Result<Signature, Reject> {
    #[derive(serde::Deserialize)]
    struct Wire {
        r: U256Input,
        s: U256Input,
        v: u64,
    }
    let wire: Wire = serde_json::from_value(value)
        .map_err(|e| bad_request(error_code::INVALID_PARAM, format!("`signature`: {e}")))?;
    let y_parity = parity(wire.v).map_err(|e| bad_request(error_code::INVALID_SIGNATURE, e))?;
    Ok(Signature {
        r: wire.r.0,
        s: wire.s.0,
        y_parity,
    })
}

/// A `/v1` body: the payload's fields and a sibling `signature`.
fn parse_v1<P: Admissible>(body: &[u8]) -> Result<(P, Signature), Reject> {
    let mut object = json_object(body)?;
    let signature = object
        .remove("signature")
        .ok_or_else(|| missing("signature"))?;
    let signature = signature_from(signature, Signature::parity_from_v)?;
    Ok((payload_from(object)?, signature))
}

/// A `/v2` body (section 8.3): the payload's fields, `memo` and `authorization`.
fn parse_v2<P: Admissible>(body: &[u8]) -> Result<(P, Memo, Signature), Reject> {
    let mut object = json_object(body)?;
    if object.contains_key("signature") {
        return Err(bad_request(
            error_code::V2_SIGNATURE_REQUIRED,
            "a top-level `signature` is the /v1 scheme; /v2 takes `authorization`",
        ));
    }
    let memo = object.remove("memo").ok_or_else(|| missing("memo"))?;
    let memo: Memo = serde_json::from_value(memo)
        .map_err(|e| bad_request(error_code::INVALID_PARAM, format!("`memo`: {e}")))?;
    memo.validate()
        .map_err(|e| bad_request(e.code, e.message))?;
    let mut authorization = match object.remove("authorization") {
        Some(serde_json::Value::Object(authorization)) => authorization,
        Some(other) => {
            return Err(bad_request(
                error_code::INVALID_PARAM,
                format!("`authorization`: {other} is not an object"),
            ));
        }
        None => return Err(missing("authorization")),
    };
    let kind = authorization
        .get("type")
        .and_then(serde_json::Value::as_str);
    if kind != Some(SINGLE_SECP256K1) {
        return Err(bad_request(
            error_code::UNSUPPORTED_AUTHORIZATION,
            format!("authorization type {kind:?} (supported: {SINGLE_SECP256K1})"),
        ));
    }
    let signature = authorization
        .remove("signature")
        .ok_or_else(|| missing("authorization.signature"))?;
    let signature = signature_from(signature, |v| match v {
        0 | 1 => Ok(v == 1),
        _ => Err(format!("invalid signature v {v} (/v2 takes 0 or 1)")),
    })?;
    Ok((payload_from(object)?, memo, signature))
}

/// The devnet's `/api/status` (section 8.1) from a node's knobs.
async fn api_status(State(state): State<NodeState>) -> Response {
    let knobs = state.node.knobs.borrow().clone();
    let active = knobs.write_mode != NodeWriteMode::V1Only;
    let count = if active { 13 } else { 0 };
    ok_json(&ApiStatus {
        native_write_mode: knobs.write_mode,
        read_only: knobs.read_only,
        activation_source: Some(
            if active {
                "binary_release"
            } else {
                "not_activated"
            }
            .to_owned(),
        ),
        dual_activated_at_secs: active.then_some(state.cluster.started_unix_secs),
        native_domain_separated_transactions: Some(DomainSeparatedSupport {
            support_count: count,
            required_count: 13,
            full_support: active,
        }),
    })
}

/// Refuses a write the node's mode does not take: read-only (403), `/v1` on `v2_only` (410),
/// `/v2` on `v1_only` (403).
fn check_write_mode(state: &NodeState, surface: WriteSurface) -> Result<(), Reject> {
    let knobs = state.node.knobs.borrow();
    if knobs.read_only {
        return Err(Reject::new(
            StatusCode::FORBIDDEN,
            error_code::NODE_READ_ONLY,
            "this node is read-only: every write is refused",
        ));
    }
    match (surface, knobs.write_mode) {
        (WriteSurface::V1, NodeWriteMode::V2Only) => Err(Reject::new(
            StatusCode::GONE,
            error_code::LEGACY_WRITE_DISABLED,
            "this node takes only /v2 writes",
        )),
        (WriteSurface::V2, NodeWriteMode::V1Only) => Err(Reject::new(
            StatusCode::FORBIDDEN,
            error_code::V2_NOT_ACTIVE,
            "domain-separated signatures are not active on this node",
        )),
        _ => Ok(()),
    }
}

async fn submit_v1<P: Admissible>(
    State(state): State<NodeState>,
    body: Bytes,
) -> Result<Response, Reject> {
    check_write_mode(&state, WriteSurface::V1)?;
    let (payload, signature) = parse_v1::<P>(&body)?;
    let signing_rlp = payload.signing_rlp(state.cluster.profile);
    let digest = keccak256(&signing_rlp);
    let hash = transaction_hash(&signing_rlp, &signature);
    let mut response = admit(&state, payload, &digest, signature, hash, None)?;
    if state.node.knobs.borrow().write_mode == NodeWriteMode::Dual {
        response.headers_mut().insert(
            "x-1money-legacy-signature",
            HeaderValue::from_static("deprecated"),
        );
    }
    Ok(response)
}

async fn submit_v2<P: Admissible>(
    State(state): State<NodeState>,
    body: Bytes,
) -> Result<Response, Reject> {
    check_write_mode(&state, WriteSurface::V2)?;
    let (payload, memo, signature) = parse_v2::<P>(&body)?;
    let payload_rlp = v2_payload_rlp(&payload, state.cluster.profile, &memo);
    let digest = v2_signing_hash(P::KIND, &payload_rlp);
    let hash = v2_transaction_hash(P::KIND, &payload_rlp, &signature);
    admit(&state, payload, &digest, signature, hash, Some(memo))
}

/// Recovers the signer of `digest` and admits the transaction to the shared ledger.
fn admit<P: Admissible>(
    state: &NodeState,
    payload: P,
    digest: &B256,
    signature: Signature,
    hash: B256,
    memo: Option<Memo>,
) -> Result<Response, Reject> {
    let from = recover_signer(digest, &signature).map_err(|e| {
        bad_request(
            error_code::INVALID_SIGNATURE,
            format!("invalid signature: {e}"),
        )
    })?;
    let (chain_id, nonce) = (payload.chain_id(), payload.nonce());
    let body = payload.into_body();
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
        signature,
        memo,
    };
    let jitter = rand::rng().random::<f64>();
    state.cluster.ledger().admit(tx, Instant::now(), jitter)?;
    Ok(match issued_token {
        Some(token) => ok_json(&IssueResponse { hash, token }),
        None => ok_json(&HashResponse { hash }),
    })
}
