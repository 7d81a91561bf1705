//! The node client's own keep-alive pool, against a raw HTTP/1.1 server on loopback that counts
//! connections and sees every request line: connections are reused, concurrent requests get
//! their own, requests are origin-form with a Host header, and a server that closes its
//! keep-alive connections costs no request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use stress_tui::client::{CallError, NodeClient};

const CHAIN_ID_BODY: &str = r#"{"chain_id":1212101}"#;

/// What the server saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    /// Connections the client closed.
    closed: AtomicUsize,
    requests: AtomicUsize,
    heads: std::sync::Mutex<Vec<String>>,
}

/// How the server treats a connection after answering.
#[derive(Clone, Copy)]
enum AfterAnswer {
    KeepAlive,
    /// Close the connection (without saying so in the answer) once this many were answered.
    CloseAfter(usize),
}

/// Serves `GET /v1/chains/chain_id` on loopback, `delay` before each answer.
async fn server(after: AfterAnswer, delay: Duration) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let counted = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            counted.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(stream, after, delay, Arc::clone(&counted)));
        }
    });
    (url, seen)
}

async fn serve(mut stream: TcpStream, after: AfterAnswer, delay: Duration, seen: Arc<Seen>) {
    let mut buffer = Vec::new();
    let mut answered = 0;
    loop {
        let mut chunk = [0u8; 4096];
        let Ok(read) = stream.read(&mut chunk).await else {
            seen.closed.fetch_add(1, Ordering::SeqCst);
            return;
        };
        if read == 0 {
            seen.closed.fetch_add(1, Ordering::SeqCst);
            return;
        }
        buffer.extend_from_slice(&chunk[..read]);
        // Requests here have no body: each ends at the blank line.
        while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            buffer.drain(..end + 4);
            seen.heads.lock().unwrap().push(head);
            seen.requests.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{CHAIN_ID_BODY}",
                CHAIN_ID_BODY.len()
            );
            if stream.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
            answered += 1;
            if let AfterAnswer::CloseAfter(limit) = after
                && answered >= limit
            {
                return;
            }
        }
    }
}

fn client(url: &str) -> NodeClient {
    NodeClient::new(url, Duration::from_secs(5))
}

#[tokio::test]
async fn sequential_requests_share_one_connection_with_origin_form_and_host() {
    let (url, seen) = server(AfterAnswer::KeepAlive, Duration::ZERO).await;
    let node = client(&url);
    for _ in 0..50 {
        assert_eq!(node.chain_id().await.unwrap(), 1_212_101);
    }
    assert_eq!(seen.requests.load(Ordering::SeqCst), 50);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    let host = url.trim_start_matches("http://");
    for head in seen.heads.lock().unwrap().iter() {
        let mut lines = head.lines();
        assert_eq!(
            lines.next(),
            Some("GET /v1/chains/chain_id HTTP/1.1"),
            "{head}"
        );
        assert!(
            lines.any(|line| line.eq_ignore_ascii_case(&format!("host: {host}"))),
            "no Host header in {head}"
        );
    }
}

#[tokio::test]
async fn concurrent_requests_open_connections_and_then_reuse_them() {
    let (url, seen) = server(AfterAnswer::KeepAlive, Duration::from_millis(50)).await;
    let node = client(&url);
    let batch = || {
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let node = node.clone();
                tokio::spawn(async move { node.chain_id().await })
            })
            .collect();
        async move {
            for call in calls {
                assert_eq!(call.await.unwrap().unwrap(), 1_212_101);
            }
        }
    };
    batch().await;
    let opened = seen.connections.load(Ordering::SeqCst);
    assert_eq!(opened, 8, "8 requests at once need 8 connections");
    // The answers returned every connection to the pool: the next batch opens none.
    batch().await;
    batch().await;
    assert_eq!(seen.requests.load(Ordering::SeqCst), 24);
    assert_eq!(seen.connections.load(Ordering::SeqCst), opened);
}

#[tokio::test]
async fn a_server_closing_keep_alive_connections_loses_no_request() {
    // Every connection is closed after its first answer, the answer not saying so (a node's
    // keep-alive timeout): by the next request the pooled connection is dead, and the request
    // goes out on a new one. (A close that races the hand-over of a request is retried too,
    // as hyper reports the request unsent; that race cannot be staged reliably here.)
    let (url, seen) = server(AfterAnswer::CloseAfter(1), Duration::ZERO).await;
    let node = client(&url);
    for i in 0..20 {
        assert_eq!(node.chain_id().await.unwrap(), 1_212_101, "request {i}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(seen.requests.load(Ordering::SeqCst), 20);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 20);
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error_naming_the_cause() {
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let node = client(&format!("http://127.0.0.1:{port}"));
    match node.chain_id().await {
        Err(CallError::Connect(message)) => {
            assert!(message.to_lowercase().contains("refused"), "{message}");
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_silent_server_is_a_timeout_and_the_pool_recovers() {
    let (url, seen) = server(AfterAnswer::KeepAlive, Duration::from_millis(400)).await;
    let node = NodeClient::new(&url, Duration::from_millis(100));
    assert!(matches!(node.chain_id().await, Err(CallError::Timeout(_))));
    // The timed-out request's connection was dropped, not pooled with an answer still to come.
    let patient = NodeClient::new(&url, Duration::from_secs(5));
    assert_eq!(patient.chain_id().await.unwrap(), 1_212_101);
    assert_eq!(seen.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn connections_idle_past_the_idle_timeout_are_closed() {
    let (url, seen) = server(AfterAnswer::KeepAlive, Duration::from_millis(50)).await;
    let node = client(&url).with_idle_timeout(Duration::from_secs(1));
    // A burst of 8 concurrent requests leaves 8 idle connections.
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let node = node.clone();
            tokio::spawn(async move { node.chain_id().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(seen.connections.load(Ordering::SeqCst), 8);
    // Steady load of one request at a time keeps reusing one connection; the other 7 idle
    // past the timeout and are closed.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        node.chain_id().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        8,
        "no connection was opened"
    );
    assert_eq!(
        seen.closed.load(Ordering::SeqCst),
        7,
        "the 7 unused ones were closed"
    );
    // After a pause longer than the timeout the last one is not trusted either.
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    node.chain_id().await.unwrap();
    assert_eq!(seen.connections.load(Ordering::SeqCst), 9);
}
