//! The keep-alive pool of idle connections both client paths share (hyper's for https, the
//! plain exchange's for http): the most recently used connection is taken first, and one idle
//! longer than the timeout is closed.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A connection that is not used this long is closed: a burst of concurrent requests (a slow
/// node, a latency spike) opens connections that would otherwise stay open, with their
/// buffers, for the rest of the run (a 10-minute chaos soak grew 25 -> 34 MiB in steps).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle connections, the most recently used last, each with when it was given back.
pub(super) struct IdlePool<C> {
    connections: Mutex<VecDeque<(Instant, C)>>,
    timeout: Duration,
}

impl<C> IdlePool<C> {
    pub(super) fn new(timeout: Duration) -> Self {
        Self {
            connections: Mutex::new(VecDeque::new()),
            timeout,
        }
    }

    fn connections(&self) -> MutexGuard<'_, VecDeque<(Instant, C)>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently used connection that has not been idle too long; older ones are
    /// closed. Most recent first: the connections beyond what the load needs stay unused at
    /// the front and time out. The caller checks that it is still open.
    pub(super) fn take(&self, now: Instant) -> Option<C> {
        let mut connections = self.connections();
        let (given_back, connection) = connections.pop_back()?;
        if now.saturating_duration_since(given_back) > self.timeout {
            // Everything before it is older still.
            connections.clear();
            return None;
        }
        Some(connection)
    }

    pub(super) fn give_back(&self, connection: C, now: Instant) {
        let mut connections = self.connections();
        while let Some((given_back, _)) = connections.front()
            && now.saturating_duration_since(*given_back) > self.timeout
        {
            connections.pop_front();
        }
        connections.push_back((now, connection));
    }
}
