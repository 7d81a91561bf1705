//! The devnet's admin API, on its own listener so that it answers while nodes are down: other
//! processes (scripts, chaos tests) read and change node knobs through it.
//!
//! - `GET /nodes`: every node's index, URL and knobs;
//! - `POST /nodes/{index}` with a JSON [`KnobsPatch`]: changes that node, answers its knobs;
//! - `GET /stats`: ledger counters (admitted, executed, pending, retained, evicted).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::http::{ClusterShared, NodeShared};
use super::knobs::{KnobsPatch, NodeKnobs};

#[derive(Clone)]
struct AdminState {
    cluster: Arc<ClusterShared>,
    nodes: Arc<Vec<(String, Arc<NodeShared>)>>,
}

#[derive(Serialize)]
struct NodeView {
    index: usize,
    url: String,
    knobs: NodeKnobs,
}

pub fn router(cluster: Arc<ClusterShared>, nodes: Vec<(String, Arc<NodeShared>)>) -> Router {
    Router::new()
        .route("/nodes", get(list_nodes))
        .route("/nodes/{index}", post(patch_node))
        .route("/stats", get(stats))
        .with_state(AdminState {
            cluster,
            nodes: Arc::new(nodes),
        })
}

async fn list_nodes(State(state): State<AdminState>) -> Json<Vec<NodeView>> {
    Json(
        state
            .nodes
            .iter()
            .map(|(url, node)| NodeView {
                index: node.index,
                url: url.clone(),
                knobs: node.knobs.borrow().clone(),
            })
            .collect(),
    )
}

/// Takes the JSON body whatever its Content-Type (`curl -d` sends a form type), so that the
/// README's one-line curl commands work.
async fn patch_node(
    State(state): State<AdminState>,
    Path(index): Path<usize>,
    body: axum::body::Bytes,
) -> Response {
    let patch: KnobsPatch = match serde_json::from_slice(&body) {
        Ok(patch) => patch,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("bad knobs JSON: {e}")).into_response(),
    };
    let Some((url, node)) = state.nodes.get(index) else {
        let message = format!(
            "no node {index}; this devnet has nodes 0 to {}",
            state.nodes.len().saturating_sub(1)
        );
        return (StatusCode::NOT_FOUND, message).into_response();
    };
    let mut result = Ok(());
    node.knobs.send_if_modified(|knobs| {
        result = knobs.apply(&patch);
        result.is_ok()
    });
    match result {
        Ok(()) => Json(NodeView {
            index,
            url: url.clone(),
            knobs: node.knobs.borrow().clone(),
        })
        .into_response(),
        Err(message) => (StatusCode::BAD_REQUEST, message).into_response(),
    }
}

async fn stats(State(state): State<AdminState>) -> Response {
    Json(state.cluster.ledger().stats()).into_response()
}
