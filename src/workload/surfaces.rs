//! Which write surface (`/v1` or `/v2`, PROTOCOL.md section 8) each node takes, chosen before
//! any traffic and followed through a cutover.
//!
//! Before a run: every node's `GET /api/status` is read ([`choose_surface`]); `auto` takes v2
//! when every node accepts it and v1 when every node accepts that, and refuses what no single
//! surface serves. A node whose status could not be read (down at start) is assumed to take the
//! chosen surface.
//!
//! During a run ([`NodeSurfaces`]): a write refused with 410
//! `LEGACY_NATIVE_WRITE_ENDPOINT_DISABLED`, 403 `DOMAIN_SEPARATED_SIGNATURE_NOT_ACTIVE` or 403
//! `NODE_READ_ONLY` says what the node now takes; from then on that node's transactions are
//! signed for it (a read-only node gets no writes), its status is read again to confirm, and
//! the switch is an event. Refused transactions were not admitted, so signing their nonce again
//! under the other scheme is safe; a 408 or 5xx stays an unknown outcome, looked up by hash, and
//! is never re-signed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::client::CallError;
use crate::model::{NodeId, SurfaceChoice};
use crate::protocol::wire::error_code;
use crate::protocol::{NodeWriteMode, WriteSurface};

/// A node as the surface choice sees it: its label and the mode its status reported (`None`:
/// it did not answer).
pub struct NodeMode<'a> {
    pub label: &'a str,
    pub mode: Option<NodeWriteMode>,
}

/// The run's surface, or why none serves (a one-line usage error).
pub fn choose_surface(
    choice: SurfaceChoice,
    nodes: &[NodeMode<'_>],
    memo_asked: bool,
) -> Result<WriteSurface, String> {
    let known = || {
        nodes
            .iter()
            .filter_map(|node| node.mode.map(|mode| (node.label, mode)))
    };
    if let Some((label, _)) = known().find(|(_, mode)| *mode == NodeWriteMode::ReadOnly) {
        return Err(format!(
            "{label} is read_only (GET /api/status): it refuses every write; leave it out of --nodes, or load reads only with --post-rate 0"
        ));
    }
    let refuser = |surface| known().find(|(_, mode)| !mode.accepts(surface));
    let surface = match choice {
        SurfaceChoice::V1 | SurfaceChoice::V2 => {
            let surface = if choice == SurfaceChoice::V1 {
                WriteSurface::V1
            } else {
                WriteSurface::V2
            };
            if let Some((label, mode)) = refuser(surface) {
                let other = if surface == WriteSurface::V1 {
                    WriteSurface::V2
                } else {
                    WriteSurface::V1
                };
                let hint = match refuser(other) {
                    None => format!("; use --write-surface auto (every node takes /{other})"),
                    Some((other_label, other_mode)) => format!(
                        "; no surface serves every node ({other_label} is {other_mode}): load them in separate runs"
                    ),
                };
                return Err(format!(
                    "--write-surface {surface}: {label} is {mode} and refuses /{surface} writes{hint}"
                ));
            }
            surface
        }
        SurfaceChoice::Auto => match (refuser(WriteSurface::V2), refuser(WriteSurface::V1)) {
            (None, _) => WriteSurface::V2,
            (Some(_), None) => WriteSurface::V1,
            (Some((v1_label, _)), Some((v2_label, _))) => {
                return Err(format!(
                    "no write surface serves every node: {v1_label} is v1_only and {v2_label} is v2_only; load them in separate runs, or once {v1_label} is dual"
                ));
            }
        },
    };
    if memo_asked && surface == WriteSurface::V1 {
        let why = refuser(WriteSurface::V2).map_or_else(
            || "--write-surface v1 was asked".to_owned(),
            |(label, mode)| format!("{label} is {mode}"),
        );
        return Err(format!(
            "--memo-type/--memo-format/--memo-data need the /v2 write surface, and this run writes on /v1 ({why})"
        ));
    }
    Ok(surface)
}

/// The mode a refusal's `error_code` reveals, if it is one of the surface refusals.
#[must_use]
pub fn mode_revealed_by(error: &CallError) -> Option<NodeWriteMode> {
    match error.error_code()? {
        error_code::LEGACY_WRITE_DISABLED => Some(NodeWriteMode::V2Only),
        error_code::V2_NOT_ACTIVE => Some(NodeWriteMode::V1Only),
        error_code::NODE_READ_ONLY => Some(NodeWriteMode::ReadOnly),
        _ => None,
    }
}

/// One node's surface, for the faces and `summary.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSurface {
    pub node: NodeId,
    /// What its `/api/status` last said (`None`: never read).
    pub mode: Option<NodeWriteMode>,
    /// What its writes are signed for (`None`: it takes no writes).
    pub surface: Option<WriteSurface>,
}

/// Every node's surface during a run, shared by the pacers and the workload. While every
/// node takes one surface (the run's, or after a whole-cluster cutover the new one), a POST
/// costs one atomic load and no lock; only a mixed cluster looks its node up.
pub struct NodeSurfaces {
    preferred: WriteSurface,
    /// The surface every known node takes ([`encode`]d), or 0 while they differ.
    common: AtomicU8,
    /// True while some node takes no writes (its status is re-read every few seconds).
    no_writes: AtomicBool,
    /// True while a node's status is to be read again.
    status_pending: AtomicBool,
    inner: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    modes: HashMap<NodeId, NodeWriteMode>,
    /// Nodes that take something else than `preferred` (`None`: no writes).
    differing: HashMap<NodeId, Option<WriteSurface>>,
    /// Nodes whose status is to be read again (after a surface refusal).
    status_wanted: Vec<NodeId>,
    /// When each node's status was last asked for during the run.
    last_read: HashMap<NodeId, Instant>,
}

/// How often a node that takes no writes (read-only) has its status read again.
pub const NO_WRITES_RECHECK: Duration = Duration::from_secs(5);

fn encode(surface: WriteSurface) -> u8 {
    match surface {
        WriteSurface::V1 => 1,
        WriteSurface::V2 => 2,
    }
}

fn decode(code: u8) -> Option<WriteSurface> {
    match code {
        1 => Some(WriteSurface::V1),
        2 => Some(WriteSurface::V2),
        _ => None,
    }
}

impl NodeSurfaces {
    /// The run's surface and the modes read before it (node ids are positions in `--nodes`).
    #[must_use]
    pub fn new(preferred: WriteSurface, modes: &[Option<NodeWriteMode>]) -> Self {
        let surfaces = Self {
            preferred,
            common: AtomicU8::new(encode(preferred)),
            no_writes: AtomicBool::new(false),
            status_pending: AtomicBool::new(false),
            inner: Mutex::new(Known::default()),
        };
        for (id, mode) in (0..).zip(modes) {
            if let Some(mode) = mode {
                surfaces.set_mode(id, *mode);
            }
        }
        surfaces
    }

    fn known(&self) -> MutexGuard<'_, Known> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[must_use]
    pub fn preferred(&self) -> WriteSurface {
        self.preferred
    }

    /// What `node`'s writes are signed for; `None` if it takes none. A node never read (added
    /// during the run) takes what every node takes, or the run's surface in a mixed cluster.
    #[must_use]
    pub fn surface_of(&self, node: NodeId) -> Option<WriteSurface> {
        if let Some(common) = decode(self.common.load(Ordering::Acquire)) {
            return Some(common);
        }
        self.known()
            .differing
            .get(&node)
            .copied()
            .unwrap_or(Some(self.preferred))
    }

    /// Records `node`'s mode; answers the surface change it makes, if any (before, after).
    pub fn set_mode(
        &self,
        node: NodeId,
        mode: NodeWriteMode,
    ) -> Option<(Option<WriteSurface>, Option<WriteSurface>)> {
        let mut known = self.known();
        let of = |known: &Known, node| {
            known
                .differing
                .get(&node)
                .copied()
                .unwrap_or(Some(self.preferred))
        };
        let before = of(&known, node);
        known.modes.insert(node, mode);
        let after = mode.surface_for(self.preferred);
        if after == Some(self.preferred) {
            known.differing.remove(&node);
        } else {
            known.differing.insert(node, after);
        }
        let mut surfaces = known.modes.keys().map(|node| of(&known, *node));
        let first = surfaces.next().unwrap_or(Some(self.preferred));
        let common = match first {
            Some(surface) if surfaces.all(|s| s == first) => encode(surface),
            _ => 0,
        };
        self.common.store(common, Ordering::Release);
        self.no_writes.store(
            known.differing.values().any(Option::is_none),
            Ordering::Release,
        );
        (before != after).then_some((before, after))
    }

    /// Asks for `node`'s status to be read again.
    pub fn want_status(&self, node: NodeId) {
        let mut known = self.known();
        if !known.status_wanted.contains(&node) {
            known.status_wanted.push(node);
        }
        self.status_pending.store(true, Ordering::Release);
    }

    /// Takes `node`'s pending status read, if it has one: asked for after a surface refusal,
    /// or every [`NO_WRITES_RECHECK`] while the node takes no writes (read-only), so that it
    /// rejoins when its operator makes it writable again.
    pub fn take_status_read(&self, node: NodeId, now: Instant) -> bool {
        if !self.status_pending.load(Ordering::Acquire) && !self.no_writes.load(Ordering::Acquire) {
            return false;
        }
        let mut known = self.known();
        let before = known.status_wanted.len();
        known.status_wanted.retain(|n| *n != node);
        self.status_pending
            .store(!known.status_wanted.is_empty(), Ordering::Release);
        if known.status_wanted.len() != before {
            known.last_read.insert(node, now);
            return true;
        }
        let no_writes = known.differing.get(&node) == Some(&None);
        let due = known
            .last_read
            .get(&node)
            .is_none_or(|last| now.saturating_duration_since(*last) >= NO_WRITES_RECHECK);
        if no_writes && due {
            known.last_read.insert(node, now);
            return true;
        }
        false
    }

    /// Every node with a known mode or a surface other than the run's, by id.
    #[must_use]
    pub fn view(&self) -> Vec<NodeSurface> {
        let known = self.known();
        let mut ids: Vec<NodeId> = known
            .modes
            .keys()
            .chain(known.differing.keys())
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .map(|node| NodeSurface {
                node,
                mode: known.modes.get(&node).copied(),
                surface: known
                    .differing
                    .get(&node)
                    .copied()
                    .unwrap_or(Some(self.preferred)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NodeWriteMode::{Dual, ReadOnly, V1Only, V2Only};

    fn choose(
        choice: SurfaceChoice,
        modes: &[Option<NodeWriteMode>],
    ) -> Result<WriteSurface, String> {
        let labels: Vec<String> = (1..=modes.len()).map(|i| format!("node{i}")).collect();
        let nodes: Vec<NodeMode<'_>> = labels
            .iter()
            .zip(modes)
            .map(|(label, mode)| NodeMode { label, mode: *mode })
            .collect();
        choose_surface(choice, &nodes, false)
    }

    #[test]
    fn auto_takes_v2_where_every_node_accepts_it() {
        use SurfaceChoice::Auto;
        assert_eq!(
            choose(Auto, &[Some(Dual), Some(Dual)]),
            Ok(WriteSurface::V2)
        );
        assert_eq!(
            choose(Auto, &[Some(Dual), Some(V2Only)]),
            Ok(WriteSurface::V2)
        );
        assert_eq!(
            choose(Auto, &[Some(V1Only), Some(V1Only)]),
            Ok(WriteSurface::V1)
        );
        assert_eq!(
            choose(Auto, &[Some(V1Only), Some(Dual)]),
            Ok(WriteSurface::V1)
        );
        // A node that did not answer is assumed to take what the others do.
        assert_eq!(choose(Auto, &[None, Some(V2Only)]), Ok(WriteSurface::V2));
        let mixed = choose(Auto, &[Some(V1Only), Some(V2Only)]).unwrap_err();
        assert!(
            mixed.contains("node1 is v1_only and node2 is v2_only"),
            "{mixed}"
        );
        let archive = choose(Auto, &[Some(Dual), Some(ReadOnly)]).unwrap_err();
        assert!(archive.starts_with("node2 is read_only"), "{archive}");
    }

    #[test]
    fn an_explicit_surface_a_node_refuses_is_refused() {
        let err = choose(SurfaceChoice::V1, &[Some(Dual), Some(V2Only)]).unwrap_err();
        assert!(
            err.starts_with("--write-surface v1: node2 is v2_only"),
            "{err}"
        );
        let err = choose(SurfaceChoice::V2, &[Some(V1Only)]).unwrap_err();
        assert!(
            err.starts_with("--write-surface v2: node1 is v1_only"),
            "{err}"
        );
        assert_eq!(
            choose(SurfaceChoice::V1, &[Some(Dual), Some(V1Only)]),
            Ok(WriteSurface::V1)
        );
    }

    #[test]
    fn a_memo_needs_v2() {
        let nodes = [NodeMode {
            label: "a",
            mode: Some(V1Only),
        }];
        let err = choose_surface(SurfaceChoice::Auto, &nodes, true).unwrap_err();
        assert!(err.contains("a is v1_only"), "{err}");
        let dual = [NodeMode {
            label: "a",
            mode: Some(Dual),
        }];
        assert!(choose_surface(SurfaceChoice::V1, &dual, true).is_err());
        assert_eq!(
            choose_surface(SurfaceChoice::Auto, &dual, true),
            Ok(WriteSurface::V2)
        );
    }

    #[test]
    fn a_whole_cluster_cut_over_is_one_surface_again_without_a_lock() {
        let surfaces = NodeSurfaces::new(WriteSurface::V1, &[Some(V1Only), Some(V1Only)]);
        surfaces.set_mode(0, V2Only);
        assert_eq!(surfaces.common.load(Ordering::Relaxed), 0);
        surfaces.set_mode(1, V2Only);
        assert_eq!(
            surfaces.common.load(Ordering::Relaxed),
            encode(WriteSurface::V2)
        );
        assert_eq!(surfaces.surface_of(5), Some(WriteSurface::V2));
        assert!(!surfaces.take_status_read(5, Instant::now()));
    }

    #[test]
    fn a_cutover_moves_only_that_node_and_is_reported_once() {
        let surfaces = NodeSurfaces::new(WriteSurface::V1, &[Some(V1Only), Some(Dual)]);
        assert_eq!(
            surfaces.common.load(Ordering::Relaxed),
            encode(WriteSurface::V1)
        );
        assert_eq!(
            surfaces.set_mode(1, V2Only),
            Some((Some(WriteSurface::V1), Some(WriteSurface::V2)))
        );
        assert_eq!(
            surfaces.common.load(Ordering::Relaxed),
            0,
            "a mixed cluster"
        );
        assert_eq!(surfaces.surface_of(1), Some(WriteSurface::V2));
        assert_eq!(surfaces.surface_of(0), Some(WriteSurface::V1));
        // Nodes added later, never read, in a mixed cluster: the run's surface.
        assert_eq!(surfaces.surface_of(7), Some(WriteSurface::V1));
        assert_eq!(surfaces.set_mode(1, V2Only), None, "already switched");
        assert_eq!(
            surfaces.set_mode(0, ReadOnly),
            Some((Some(WriteSurface::V1), None))
        );
        assert_eq!(surfaces.surface_of(0), None);
        surfaces.set_mode(0, Dual);
        surfaces.set_mode(1, Dual);
        assert_eq!(
            surfaces.common.load(Ordering::Relaxed),
            encode(WriteSurface::V1)
        );
        let now = Instant::now();
        surfaces.want_status(1);
        surfaces.want_status(1);
        assert!(!surfaces.take_status_read(0, now));
        assert!(surfaces.take_status_read(1, now));
        assert!(!surfaces.take_status_read(1, now));
        // A node that takes no writes is read again every few seconds, until it takes some.
        surfaces.set_mode(0, ReadOnly);
        assert!(surfaces.take_status_read(0, now));
        assert!(!surfaces.take_status_read(0, now + Duration::from_secs(1)));
        assert!(surfaces.take_status_read(0, now + NO_WRITES_RECHECK));
        surfaces.set_mode(0, Dual);
        assert!(!surfaces.take_status_read(0, now + 3 * NO_WRITES_RECHECK));
    }
}
