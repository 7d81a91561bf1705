//! One node's listener: accepts connections and serves them with the node's router, closes the
//! listener and drops every open connection while the node is `down`, and binds the same port
//! again when it comes back up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::http::NodeShared;

/// Serves one node until `shutdown` fires.
pub async fn serve_node(
    listener: TcpListener,
    addr: SocketAddr,
    router: Router,
    node: Arc<NodeShared>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let mut knobs = node.knobs.subscribe();
    let mut listener = Some(listener);
    loop {
        let Some(current) = listener.take() else {
            // Down: wait for the node to come back up, then take the same port again.
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    changed = knobs.changed() => if changed.is_err() { return },
                }
                if !knobs.borrow_and_update().down {
                    break;
                }
            }
            listener = rebind(addr, &shutdown).await;
            if listener.is_none() {
                return;
            }
            continue;
        };
        if knobs.borrow_and_update().down {
            continue; // drops `current`: connections are refused
        }
        let connections = shutdown.child_token();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                changed = knobs.changed() => {
                    if changed.is_err() { return; }
                    if knobs.borrow_and_update().down {
                        connections.cancel();
                        break;
                    }
                }
                accepted = current.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tracker.spawn(serve_connection(stream, router.clone(), connections.clone()));
                    }
                }
            }
        }
        drop(current);
    }
}

async fn rebind(addr: SocketAddr, shutdown: &CancellationToken) -> Option<TcpListener> {
    // The old socket may linger for a moment; retry briefly rather than fail the node.
    for _ in 0..200 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return Some(listener);
        }
        tokio::select! {
            () = shutdown.cancelled() => return None,
            () = tokio::time::sleep(Duration::from_millis(25)) => {}
        }
    }
    None
}

/// Cancelled to drop one connection at once, with whatever it has not sent (the
/// `reset_ratio` and `half_answer_ratio` knobs); in every request's extensions.
#[derive(Clone)]
pub struct ConnectionKill(pub CancellationToken);

async fn serve_connection(stream: TcpStream, router: Router, cancel: CancellationToken) {
    let _ = stream.set_nodelay(true);
    let kill = cancel.child_token();
    let router = router.layer(axum::Extension(ConnectionKill(kill.clone())));
    let service = TowerToHyperService::new(router);
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        () = kill.cancelled() => {}
    }
}
