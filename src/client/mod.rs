//! One node's HTTP client: typed calls for every endpoint the workload uses, each answering a
//! typed response or a classified [`CallError`]. Per-request failures are data here, never
//! panics: the caller counts them by [`ErrorClass`].
//!
//! Plain `http://` nodes are spoken to by [`plain`]: the request task writes and parses its own
//! HTTP/1.1 exchange on a pooled keep-alive connection. `https://` nodes go through hyper's
//! HTTP/1.1 connection API (rustls) with a small keep-alive pool of the same kind. Neither is a
//! higher-level crate: the send path is the generator's hot loop.

mod error;
mod idle;
mod plain;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use serde::de::DeserializeOwned;

use crate::protocol::wire::{
    API_STATUS_PATH, ApiStatus, ChainIdResponse, CheckpointHashes, CheckpointNumberResponse,
    ErrorBody, HashResponse, IssueResponse, MintInfo, NonceResponse, Receipt, TokenAccountResponse,
    Transaction, checkpoint_path,
};
use crate::protocol::{
    Address, B256, Memo, Payload, PayloadProfile, SignedTx, TxKind, WriteSurface,
};
pub use error::{CallError, ErrorClass};
pub use idle::IDLE_TIMEOUT;
use idle::IdlePool;
use plain::PlainPool;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
type Connection = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// A client for one node's base URL (`http://host:port` or `https://...`, no trailing slash).
///
/// Keeps its own pool of HTTP/1.1 keep-alive connections: a request takes an idle connection
/// or opens one, and gives it back when its answer is read. `http://` nodes go through
/// [`plain`]; `https://` through hyper's connection API, not its pooled legacy client, which
/// parsed a full URI, hashed a pool key, cloned the TLS connector and checked a connection out
/// through a channel on every request (measurable on the hot path, see BENCHMARKS.md).
#[derive(Clone)]
pub struct NodeClient {
    base: String,
    /// `scheme://authority` as a URI, for connecting; `None` if the URL is not one.
    origin: Option<hyper::Uri>,
    host: Option<HeaderValue>,
    connector: Connector,
    idle: Arc<IdlePool<Connection>>,
    /// For `http://` nodes: the hot path without hyper (see [`plain`]).
    plain: Option<Arc<PlainPool>>,
    timeout: Duration,
}

impl std::fmt::Debug for NodeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeClient")
            .field("base", &self.base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl NodeClient {
    #[must_use]
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        // An explicit provider: several rustls backends may be linked in (tests link aws-lc too).
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .expect("ring supports the default TLS versions")
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let base = base_url.trim_end_matches('/').to_owned();
        let origin = base.parse::<hyper::Uri>().ok();
        let host = origin
            .as_ref()
            .and_then(hyper::Uri::authority)
            .and_then(|authority| HeaderValue::from_str(authority.as_str()).ok());
        let plain = plain_authority(origin.as_ref())
            .map(|authority| Arc::new(PlainPool::new(authority, IDLE_TIMEOUT)));
        Self {
            base,
            origin,
            host,
            connector,
            idle: Arc::new(IdlePool::new(IDLE_TIMEOUT)),
            plain,
            timeout,
        }
    }

    /// Closes connections idle longer than `idle` instead of [`IDLE_TIMEOUT`].
    #[must_use]
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = Arc::new(IdlePool::new(idle));
        self.plain = plain_authority(self.origin.as_ref())
            .map(|authority| Arc::new(PlainPool::new(authority, idle)));
        self
    }

    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends one request and returns the 200 body, or the classified failure.
    pub async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, CallError> {
        let (Some(origin), Some(host)) = (&self.origin, &self.host) else {
            return Err(CallError::Connect(format!("bad node URL `{}`", self.base)));
        };
        if let Some(plain) = &self.plain
            && (method == Method::GET || method == Method::POST)
        {
            let post_body = (method == Method::POST).then(|| body.as_deref().unwrap_or_default());
            let answer =
                tokio::time::timeout(self.timeout, plain.exchange(post_body, path_and_query))
                    .await
                    .map_err(|_| CallError::Timeout(self.timeout))??;
            return answer_or_error(answer.status, answer.retry_after, answer.body);
        }
        // Boxed: hyper's exchange is a ~4 KiB future, and unboxed it made every request's
        // future that big, copied several times over when each request task was spawned
        // (`perf`: 5 % of the load thread at 5,000 payments/s in memcpy).
        Box::pin(self.call_hyper(origin, host, method, path_and_query, body)).await
    }

    /// [`Self::call`] through hyper: `https://` nodes, and methods other than GET and POST.
    async fn call_hyper(
        &self,
        origin: &hyper::Uri,
        host: &HeaderValue,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, CallError> {
        // Origin-form request target (`/path?query`), as HTTP/1.1 sends it; Host names the node.
        let mut builder = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(HOST, host.clone());
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(body.map(Bytes::from).unwrap_or_default()))
            .map_err(|e| CallError::Connect(format!("bad request path `{path_and_query}`: {e}")))?;
        let exchange = async {
            let (response, connection) = self.send(origin, request).await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| CallError::Lost(format!("body: {e}")))?
                .to_bytes();
            // The answer is read to its end: the connection can take the next request.
            self.idle.give_back(connection, Instant::now());
            Ok::<_, CallError>((status, retry_after, bytes))
        };
        let (status, retry_after, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| CallError::Timeout(self.timeout))??;
        answer_or_error(status.as_u16(), retry_after, bytes)
    }

    /// Sends `request` on an idle connection (or a new one) and answers its response head with
    /// the connection, which the caller gives back once it has read the body. A request that a
    /// pooled connection closed before writing (the node dropped an idle keep-alive) is
    /// retried once on a new connection: it never reached the node. hyper hands a request back
    /// only when it failed before writing it: one it kept may have been read, and its failure
    /// is [`CallError::Lost`] (outcome unknown), not [`CallError::Connect`].
    async fn send(
        &self,
        origin: &hyper::Uri,
        request: Request<Full<Bytes>>,
    ) -> Result<(hyper::Response<hyper::body::Incoming>, Connection), CallError> {
        let mut connection = self.checkout(origin).await?;
        let response = match connection.try_send_request(request).await {
            Ok(response) => response,
            Err(mut failed) => match failed.take_message() {
                Some(request) if failed.error().is_canceled() => {
                    connection = self.connect(origin).await?;
                    connection
                        .send_request(request)
                        .await
                        .map_err(|e| CallError::Lost(innermost_cause(&e)))?
                }
                Some(_) => return Err(connect_error(failed.error())),
                None => return Err(CallError::Lost(innermost_cause(failed.error()))),
            },
        };
        Ok((response, connection))
    }

    /// A pooled connection that is still open (see [`IdlePool::take`]), or a new one.
    async fn checkout(&self, origin: &hyper::Uri) -> Result<Connection, CallError> {
        loop {
            let Some(mut connection) = self.idle.take(Instant::now()) else {
                return self.connect(origin).await;
            };
            if !connection.is_closed() && connection.ready().await.is_ok() {
                return Ok(connection);
            }
        }
    }

    async fn connect(&self, origin: &hyper::Uri) -> Result<Connection, CallError> {
        let stream = tower_service::Service::call(&mut self.connector.clone(), origin.clone())
            .await
            .map_err(|e| connect_error(&*e))?;
        let (connection, driver) = hyper::client::conn::http1::handshake(stream)
            .await
            .map_err(|e| connect_error(&e))?;
        // The connection's I/O runs on its own task until the connection closes or is dropped.
        tokio::spawn(async move {
            let _ = driver.await;
        });
        Ok(connection)
    }

    async fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, CallError> {
        let bytes = self.call(Method::GET, path_and_query, None).await?;
        decode(&bytes)
    }

    pub async fn chain_id(&self) -> Result<u64, CallError> {
        self.get::<ChainIdResponse>("/v1/chains/chain_id")
            .await
            .map(|r| r.chain_id)
    }

    pub async fn checkpoint_number(&self) -> Result<u64, CallError> {
        self.get::<CheckpointNumberResponse>("/v1/checkpoints/number")
            .await
            .map(|r| r.number)
    }

    /// The transaction hashes of checkpoint `number` (`full=false`).
    pub async fn checkpoint_hashes(&self, number: u64) -> Result<CheckpointHashes, CallError> {
        self.get(&checkpoint_path(number)).await
    }

    /// The next nonce of `account` (committed state).
    pub async fn nonce(&self, account: Address) -> Result<u64, CallError> {
        self.get::<NonceResponse>(&format!("/v1/accounts/nonce?address={account}"))
            .await
            .map(|r| r.nonce)
    }

    pub async fn token_account(
        &self,
        owner: Address,
        token: Address,
    ) -> Result<TokenAccountResponse, CallError> {
        self.get(&format!(
            "/v1/accounts/token_account?address={owner}&token={token}"
        ))
        .await
    }

    pub async fn token_metadata(&self, token: Address) -> Result<MintInfo, CallError> {
        self.get(&format!("/v1/tokens/token_metadata?token={token}"))
            .await
    }

    /// The receipt, or a 404 [`CallError`] while the transaction is unknown or pending.
    pub async fn receipt(&self, hash: B256) -> Result<Receipt, CallError> {
        self.get(&format!("/v1/transactions/receipt/by_hash?hash={hash}"))
            .await
    }

    pub async fn transaction(&self, hash: B256) -> Result<Transaction, CallError> {
        self.get(&format!("/v1/transactions/by_hash?hash={hash}"))
            .await
    }

    /// Which writes the node takes (`GET /api/status`); `None` when the node has no such
    /// endpoint (404: an older node, `/v1` only).
    pub async fn api_status(&self) -> Result<Option<ApiStatus>, CallError> {
        match self.get::<ApiStatus>(API_STATUS_PATH).await {
            Ok(status) => Ok(Some(status)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Submits a pre-built body to `path` (a surface's path for the transaction's kind);
    /// answers the transaction hash the node returned.
    pub async fn submit_body(&self, path: &str, body: Vec<u8>) -> Result<B256, CallError> {
        let bytes = self.call(Method::POST, path, Some(body)).await?;
        decode::<HashResponse>(&bytes).map(|r| r.hash)
    }

    /// Submits a `/v1` transaction.
    pub async fn submit<P: Payload>(
        &self,
        tx: &SignedTx<P>,
        profile: PayloadProfile,
    ) -> Result<B256, CallError> {
        self.submit_on(tx, profile, WriteSurface::V1, &Memo::default())
            .await
    }

    /// Submits a transaction on `surface` (signed for it) with `memo` (`/v2` only).
    pub async fn submit_on<P: Payload>(
        &self,
        tx: &SignedTx<P>,
        profile: PayloadProfile,
        surface: WriteSurface,
        memo: &Memo,
    ) -> Result<B256, CallError> {
        self.submit_body(surface.path(P::KIND), tx.body_for(profile, surface, memo))
            .await
    }

    /// Submits an issue; answers (hash, token address).
    pub async fn submit_issue(
        &self,
        tx: &SignedTx<crate::protocol::IssuePayload>,
        profile: PayloadProfile,
    ) -> Result<(B256, Address), CallError> {
        let bytes = self
            .call(Method::POST, TxKind::Issue.path(), Some(tx.body(profile)))
            .await?;
        decode::<IssueResponse>(&bytes).map(|r| (r.hash, r.token))
    }
}

/// The `http://` authority (`host[:port]`) of a node's origin; `None` for https or no URL.
fn plain_authority(origin: Option<&hyper::Uri>) -> Option<&str> {
    let origin = origin?;
    (origin.scheme_str() == Some("http"))
        .then(|| origin.authority().map(hyper::http::uri::Authority::as_str))
        .flatten()
}

/// A 200's body, or the node's error as a [`CallError`] (its `error_code` and message when the
/// body is the protocol's error JSON).
fn answer_or_error(
    status: u16,
    retry_after: Option<Duration>,
    bytes: Bytes,
) -> Result<Bytes, CallError> {
    if status == StatusCode::OK.as_u16() {
        return Ok(bytes);
    }
    let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => (body.error_code, body.message),
        Err(_) => (
            String::new(),
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
        ),
    };
    Err(CallError::Status {
        status,
        code,
        message,
        retry_after,
    })
}

/// A connection failure as the innermost cause says it ("Connection refused (os error 111)").
fn connect_error(error: &(dyn std::error::Error + 'static)) -> CallError {
    CallError::Connect(innermost_cause(error))
}

fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut source = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CallError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]).into_owned();
        CallError::Decode(format!("{e} in `{shown}`"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each request runs as a spawned task that owns this future, and spawning copies it: it
    /// was 4,400 bytes while hyper's exchange was inlined in it.
    #[test]
    fn a_request_future_stays_small() {
        let client = NodeClient::new("http://127.0.0.1:1", Duration::from_secs(1));
        let post = client.submit_body(TxKind::Payment.path(), Vec::new());
        let get = client.call(Method::GET, "/v1/checkpoints/number", None);
        for size in [size_of_val(&post), size_of_val(&get)] {
            assert!(size <= 1_024, "a request future of {size} bytes");
        }
    }
}
