//! The REST surface of one devnet node: the endpoints of PROTOCOL.md section 2 over the shared
//! [`Ledger`], behind the node's fault knobs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256};
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::RngExt;
use serde::Serialize;
use tokio::sync::watch;

use super::knobs::{CapacityBucket, NodeKnobs};
use super::ledger::{Ledger, Reject};
use super::node::ConnectionKill;
use crate::protocol::wire::{API_STATUS_PATH, ErrorBody, error_code};
use crate::protocol::{
    AuthorityPayload, IssuePayload, MintPayload, PayloadProfile, PaymentPayload,
};

mod reads;
mod writes;

use reads::{
    account_nonce, chain_id, checkpoint_by_number, checkpoint_number, estimate_fee,
    receipt_by_hash, token_account, token_metadata, transaction_by_hash,
};
use writes::{api_status, submit_v1, submit_v2};

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
