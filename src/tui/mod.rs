//! The live dashboard: a second face on the same engine. Terminal events become [`Action`]s
//! ([`keymap`]), [`App::update`] turns them into [`Effect`]s, and the loop sends those to the
//! engine through its handle, reporting each outcome (or refusal) back in the header. Frames
//! are drawn from snapshots ([`view`]) ten times a second; a slow terminal just drops frames.
//!
//! The terminal is restored on every exit path: quit, the run's end, an error (the guard's
//! drop), a panic (ratatui's hook) and SIGTERM/SIGINT (handled like `q`).

pub mod app;
pub mod input;
pub mod keymap;
pub mod view;

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

pub use app::{Action, App, Effect, Mode};
pub use input::TextInput;
pub use view::{RateTracker, View};

use crate::engine::EngineHandle;
use crate::model::UsageError;
use crate::report::RunReport;
use crate::run::RunHandle;

const FRAME: Duration = Duration::from_millis(100);

/// Refuses to start the dashboard without a terminal, before anything runs.
pub fn check_terminal() -> Result<(), UsageError> {
    if std::io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(UsageError::new(
            "stdout is not a terminal: the dashboard needs one; add --no-tui to run headless",
        ))
    }
}

/// Restores the terminal when dropped.
struct TerminalGuard {
    terminal: DefaultTerminal,
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Carries out one effect on its own task (a command to the engine, or an export); the outcome comes back as a message.
fn dispatch(
    effect: Effect,
    engine: &EngineHandle,
    handle: &RunHandle,
    outcomes: &mpsc::Sender<(String, bool)>,
) {
    let engine = engine.clone();
    let outcomes = outcomes.clone();
    let stats = Arc::clone(&handle.stats.borrow());
    let out_dir = handle.out_dir.clone();
    tokio::spawn(async move {
        let outcome = match effect {
            Effect::AddNode(target) => {
                let label = target.label.clone();
                engine
                    .add_node(target)
                    .await
                    .map(|id| format!("added {label} as node {id}"))
            }
            Effect::RemoveNode(id) => engine
                .remove_node(id)
                .await
                .map(|()| format!("removed node {id}")),
            Effect::SetNodeRates(id, rates) => engine
                .set_node_rates(id, rates)
                .await
                .map(|()| format!("node {id}: {} POST/s, {} GET/s", rates.post, rates.get)),
            Effect::SetTotalRates(rates) => engine
                .set_total_rates(rates)
                .await
                .map(|()| format!("total: {} POST/s, {} GET/s", rates.post, rates.get)),
            Effect::Pause => {
                engine.pause().await;
                Ok("paused".to_owned())
            }
            Effect::Resume => {
                engine.resume().await;
                Ok("resumed".to_owned())
            }
            Effect::SkipPhase => {
                engine.skip_phase().await;
                Ok("skipping the phase".to_owned())
            }
            Effect::Export => {
                let path = out_dir.join(format!("snapshot-{}s.json", stats.elapsed.as_secs()));
                std::fs::write(
                    &path,
                    serde_json::to_vec_pretty(&*stats).unwrap_or_default(),
                )
                .map(|()| format!("exported {}", path.display()))
                .map_err(|e| format!("export to {} failed: {e}", path.display()))
            }
        };
        let message = match outcome {
            Ok(text) => (text, false),
            Err(reason) => (format!("refused: {reason}"), true),
        };
        let _ = outcomes.send(message).await;
    });
}

/// Runs the dashboard until the operator quits (or a signal); returns the run's report.
pub async fn run(handle: RunHandle) -> anyhow::Result<RunReport> {
    let mut guard = TerminalGuard {
        terminal: ratatui::init(),
    };
    let mut events = EventStream::new();
    let mut app = App::default();
    let read_only = handle.workload.status().read_only;
    app.follow_phase(handle.workload.status().phase, read_only);
    let mut rates = RateTracker::new(crate::model::Direction::shown(read_only));
    let (outcomes_tx, mut outcomes) = mpsc::channel::<(String, bool)>(16);
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut finished = handle.workload.finished();
    let signal = crate::shutdown::signal();
    tokio::pin!(signal);
    let engine = handle.engine.clone();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let pool = engine.pool();
                rates.sample(&pool, Instant::now());
                let selected = pool.nodes.get(app.selected.min(pool.nodes.len().saturating_sub(1))).map(|n| n.id);
                let status = handle.workload.status();
                app.follow_phase(status.phase, read_only);
                let view = View::build(&handle.stats.borrow(), &pool, &status, &rates, (selected, app.op), *finished.borrow());
                guard.terminal.draw(|frame| view::draw(frame, &app, &view))?;
            }
            event = events.next() => {
                let Some(Ok(event)) = event else { break };
                match event {
                    Event::Key(key) => {
                        let Some(action) = keymap::action_for(key, &app.mode) else { continue };
                        if let Some(effect) = app.update(action, &engine.pool()) {
                            dispatch(effect, &engine, &handle, &outcomes_tx);
                        }
                        if app.quitting {
                            break;
                        }
                    }
                    Event::Resize(_, _) => guard.terminal.clear()?,
                    _ => {}
                }
            }
            Some(message) = outcomes.recv() => {
                if !message.0.is_empty() {
                    app.message = Some(message);
                }
            }
            () = &mut signal => break,
            _ = finished.changed() => {}
        }
    }
    drop(guard);
    if !*finished.borrow() {
        eprintln!("stopping the run and writing the results...");
        handle.interrupt();
    }
    handle.wait().await
}
