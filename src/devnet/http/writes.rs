//! The write endpoints of a devnet node (/v1 and /v2): the body is parsed field by field with the
//! node's own error codes, the signature recovered for the surface it came on, the write mode and
//! read-only state checked, then the transaction admitted to the shared ledger.

use std::time::Instant;

use alloy_primitives::{B256, keccak256};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use rand::RngExt;
use serde::de::DeserializeOwned;

use super::{NodeState, bad_request, ok_json, parse_address};
use crate::devnet::ledger::{Reject, Tx, TxBody};
use crate::protocol::surface::{
    SINGLE_SECP256K1, v2_payload_rlp, v2_signing_hash, v2_transaction_hash,
};
use crate::protocol::wire::{
    ApiStatus, DomainSeparatedSupport, HashResponse, IssueResponse, error_code,
};
use crate::protocol::{
    AuthorityPayload, IssuePayload, Memo, MintPayload, NodeWriteMode, Payload, PaymentPayload,
    Signature, U256Input, WriteSurface, recover_signer, transaction_hash,
};

/// Payload kinds the devnet admits, with their own field checks.
pub(super) trait Admissible: Payload + DeserializeOwned {
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
pub(super) async fn api_status(State(state): State<NodeState>) -> Response {
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

pub(super) async fn submit_v1<P: Admissible>(
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

pub(super) async fn submit_v2<P: Admissible>(
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
