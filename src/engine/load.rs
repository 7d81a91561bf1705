//! The load threads: each a current-thread runtime that runs the pacers of its nodes, their
//! requests and their connections, so that the hot path never crosses a thread and never waits
//! behind the rest of the program (dashboard, aggregator, results recorder on the main runtime).
//!
//! Why: on the main runtime the pacers were woken late whenever it was busy (up to 61 task
//! polls before the I/O driver looks at a timer), and the burst rule lets a pacer catch up by
//! only one slot per 10 ms, so every such delay stayed as schedule lag (a median send-time error
//! of 15 ms at 20,000 GET/s on one core). With the pacers alone on a thread and their requests
//! on the main runtime, every group of sends woke the main runtime from another thread; keeping
//! the requests with their pacer cost about 7 % less CPU a request at 20,000 GET/s
//! (BENCHMARKS.md).
//!
//! At most one thread per core the process may use (its CPU affinity); node `i` runs on thread
//! `i mod n`, so one node's load uses at most one core. Threads start when a node first needs
//! them, and each runs until the run is cancelled and then until its task tracker is empty, so
//! that requests in flight at the end of a run are answered, not dropped.

use crate::model::NodeId;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The load threads started so far and how many there may be.
pub struct LoadThreads {
    started: Vec<Handle>,
    most: usize,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl LoadThreads {
    /// Up to one thread per core this process may run on.
    #[must_use]
    pub fn new(cancel: CancellationToken, tracker: TaskTracker) -> Self {
        let most = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::with_most(most, cancel, tracker)
    }

    #[must_use]
    pub fn with_most(most: usize, cancel: CancellationToken, tracker: TaskTracker) -> Self {
        Self {
            started: Vec::new(),
            most: most.max(1),
            cancel,
            tracker,
        }
    }

    /// The runtime node `node` runs on, starting its thread if needed. Falls back to the
    /// current runtime if no thread can be had.
    pub fn for_node(&mut self, node: NodeId) -> Handle {
        let index = usize::try_from(node).unwrap_or(0) % self.most;
        while self.started.len() <= index {
            match self.start(self.started.len()) {
                Ok(handle) => self.started.push(handle),
                Err(_) if self.started.is_empty() => return Handle::current(),
                // Fewer threads than hoped: share the ones there are.
                Err(_) => return self.started[index % self.started.len()].clone(),
            }
        }
        self.started[index].clone()
    }

    /// Threads started so far.
    #[must_use]
    pub fn started(&self) -> usize {
        self.started.len()
    }

    fn start(&self, index: usize) -> std::io::Result<Handle> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (cancel, tracker) = (self.cancel.clone(), self.tracker.clone());
        std::thread::Builder::new()
            .name(format!("stress-tui-load-{index}"))
            .spawn(move || {
                runtime.block_on(async {
                    cancel.cancelled().await;
                    tracker.wait().await;
                });
            })?;
        Ok(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread_name(handle: &Handle) -> String {
        let (tx, rx) = std::sync::mpsc::channel();
        handle.spawn(async move {
            let _ = tx.send(std::thread::current().name().unwrap_or_default().to_owned());
        });
        rx.recv().unwrap()
    }

    #[tokio::test]
    async fn nodes_share_threads_round_robin_and_threads_start_on_demand() {
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut load = LoadThreads::with_most(2, cancel.clone(), tracker.clone());
        assert_eq!(load.started(), 0);
        let first = load.for_node(0);
        assert_eq!(load.started(), 1);
        assert_eq!(thread_name(&first), "stress-tui-load-0");
        assert_eq!(thread_name(&load.for_node(1)), "stress-tui-load-1");
        assert_eq!(thread_name(&load.for_node(2)), "stress-tui-load-0");
        assert_eq!(thread_name(&load.for_node(5)), "stress-tui-load-1");
        assert_eq!(load.started(), 2);
        cancel.cancel();
        tracker.close();
    }

    #[test]
    fn a_thread_finishes_its_requests_after_the_run_is_cancelled() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let _entered = runtime.enter();
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut load = LoadThreads::with_most(1, cancel.clone(), tracker.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        tracker.spawn_on(
            async move {
                // Still in flight when the run is cancelled.
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                let _ = tx.send("answered");
            },
            &load.for_node(0),
        );
        cancel.cancel();
        tracker.close();
        assert_eq!(
            rx.recv_timeout(std::time::Duration::from_secs(5)),
            Ok("answered")
        );
    }
}
