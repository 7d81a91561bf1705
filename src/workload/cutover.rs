//! Following a node's write surface during a run (PROTOCOL.md section 8.1): a refusal that
//! says the node no longer takes a surface, the status read that confirms it, and the events
//! both leave.

use std::time::Instant;

use bytes::Bytes;

use super::confirm::{decode_failure, typed};
use super::{State, Workload};
use crate::client::CallError;
use crate::model::NodeId;
use crate::protocol::wire::ApiStatus;
use crate::protocol::{NodeWriteMode, WriteSurface};

impl Workload {
    /// A write refused because `node` no longer takes its surface (410/403, section 8.1): the
    /// node's later transactions use what it takes now, its status is read again, and the
    /// switch is an event. Nothing was admitted, so the intent is signed again as it was.
    pub(super) fn surface_refused(
        &self,
        state: &mut State,
        node: NodeId,
        mode: NodeWriteMode,
        code: &str,
        now: Instant,
    ) {
        state.surface_refusals += 1;
        if let Some((before, after)) = self.surfaces.set_mode(node, mode) {
            let label = self.node_label(node);
            let shown = |surface: Option<WriteSurface>| {
                surface.map_or_else(|| "none (read-only)".to_owned(), |s| format!("/{s}"))
            };
            let at = now.saturating_duration_since(state.started);
            // `--memo-*` was checked against the surface chosen before the run; a node that
            // moves to /v1 sends its payments without it, and says so.
            let memo_dropped = if after == Some(WriteSurface::V1) && !self.plan.memo.is_empty() {
                " (without the memo: /v1 has none)"
            } else {
                ""
            };
            state.events.push((
                at,
                format!(
                    "{label} answered {code}: now {mode}; its writes move from {} to {}{memo_dropped}",
                    shown(before),
                    shown(after)
                ),
            ));
            self.surfaces.want_status(node);
        }
    }

    /// A node's `/api/status`, read again after a surface refusal (a 404 is an older node:
    /// `/v1` only); a failed read is asked again.
    pub(super) fn on_status(
        &self,
        state: &mut State,
        node: NodeId,
        result: Result<Bytes, CallError>,
        now: Instant,
    ) -> Option<CallError> {
        let mode = match result {
            Err(e) if e.is_not_found() => Ok(NodeWriteMode::V1Only),
            other => typed::<ApiStatus>(other).map(|status| status.mode()),
        };
        match mode {
            Ok(mode) => {
                self.status_read(state, node, mode, now);
                None
            }
            // The refusal already moved the node; the status only confirms it. A failed read
            // is not asked again at once: it would take the node's GET slots from receipts
            // (a read-only node's status is read again every few seconds anyway).
            Err(e) => decode_failure(e),
        }
    }

    /// Records a node's status as read.
    pub(super) fn status_read(
        &self,
        state: &mut State,
        node: NodeId,
        mode: NodeWriteMode,
        now: Instant,
    ) {
        let change = self.surfaces.set_mode(node, mode);
        let label = self.node_label(node);
        let at = now.saturating_duration_since(state.started);
        let text = match change {
            Some((_, after)) => format!(
                "{label} /api/status: {mode}; its writes now use {}",
                after.map_or_else(|| "none (read-only)".to_owned(), |s| format!("/{s}"))
            ),
            // The periodic re-read of a read-only node that stays so is not news.
            None if mode == NodeWriteMode::ReadOnly => return,
            None => format!("{label} /api/status: {mode} (confirmed)"),
        };
        state.events.push((at, text));
    }

    pub(super) fn node_label(&self, node: NodeId) -> String {
        self.plan
            .node_labels
            .get(usize::try_from(node).unwrap_or(usize::MAX))
            .cloned()
            .unwrap_or_else(|| format!("node{}", node + 1))
    }
}
