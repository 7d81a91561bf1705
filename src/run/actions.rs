//! The `--at` driver: each action at its time of the run, sent to the engine as the dashboard's
//! key would send it (the engine logs it as such; a refusal is logged too, and the run goes
//! on).

use std::sync::Arc;
use std::time::Instant;

use crate::config::actions::{Action, NodeRef, TimedAction};
use crate::engine::EngineHandle;
use crate::model::NodeId;
use crate::workload::Workload;

/// The node an action names, in the pool as it is now.
fn resolve(engine: &EngineHandle, node: &NodeRef) -> Option<NodeId> {
    match node {
        // The run's first nodes have ids 0, 1, ... in their order.
        NodeRef::Position(position) => NodeId::try_from(*position - 1).ok(),
        NodeRef::Address(target) => engine
            .pool()
            .nodes
            .iter()
            .find(|n| n.url == target.url || n.label == target.label)
            .map(|n| n.id),
    }
}

/// Changes a node of the run's own devnet through its admin API, as `curl` would; the
/// devnet's answer is its knobs (and what it refused, printed here).
/// The event it logs (`knobs node 2: {"latency_ms":50}`) is what `stress-tui replay` reads back.
async fn set_knobs(
    engine: &EngineHandle,
    admin: Option<&str>,
    node: usize,
    patch: &crate::devnet::KnobsPatch,
) {
    let Some(admin) = admin else { return };
    let client = crate::client::NodeClient::new(admin, std::time::Duration::from_secs(5));
    // The fields given, as they would be typed (the patch's absent fields are nulls).
    let mut given = serde_json::to_value(patch).unwrap_or_default();
    if let Some(fields) = given.as_object_mut() {
        fields.retain(|_, value| !value.is_null());
    }
    let json = given.to_string();
    let path = format!("/nodes/{}", node - 1);
    match client
        .call(hyper::Method::POST, &path, Some(json.clone().into_bytes()))
        .await
    {
        Ok(_) => engine.note(format!("knobs node {node}: {json}")).await,
        Err(e) => {
            eprintln!("--at knobs={node}: the devnet refused: {e}");
            engine
                .note(format!("refused: knobs node {node}: {json}: {e}"))
                .await;
        }
    }
}

/// Runs the actions in time order; ends with them or with the run.
pub(super) async fn drive(
    engine: EngineHandle,
    workload: Arc<Workload>,
    mut actions: Vec<TimedAction>,
    started: Instant,
    devnet_admin: Option<String>,
) {
    actions.sort_by_key(|a| a.at);
    let mut finished = workload.finished();
    for timed in actions {
        tokio::select! {
            () = tokio::time::sleep_until((started + timed.at).into()) => {}
            _ = finished.wait_for(|done| *done) => return,
        }
        let _ = match timed.action {
            Action::Total(rates) => engine.set_total_rates(rates).await,
            Action::Set(node, rates) => match resolve(&engine, &node) {
                Some(id) => engine.set_node_rates(id, rates).await,
                None => Err(String::new()),
            },
            Action::Add(target) => engine.add_node(target).await.map(|_| ()),
            Action::Remove(node) => match resolve(&engine, &node) {
                Some(id) => engine.remove_node(id).await,
                None => Err(String::new()),
            },
            Action::Pause => {
                engine.pause().await;
                Ok(())
            }
            Action::Resume => {
                engine.resume().await;
                Ok(())
            }
            Action::Skip => {
                engine.skip_phase().await;
                Ok(())
            }
            Action::Knobs(node, patch) => {
                set_knobs(&engine, devnet_admin.as_deref(), node, &patch).await;
                Ok(())
            }
        };
    }
}
