//! Keys to [`Action`]s, per mode. The one table the help overlay and the README show.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{Action, Mode};

/// Every key of the normal mode, for the help overlay: (keys, what they do).
pub const HELP: &[(&str, &str)] = &[
    ("↑/k ↓/j", "select a node"),
    ("+ / -", "raise / lower the selected node's POST rate (10%)"),
    ("] / [", "raise / lower the selected node's GET rate (10%)"),
    ("r", "type the selected node's rates: POST[/GET]"),
    (
        "T / t",
        "raise / lower the total POST rate (10%, split evenly)",
    ),
    ("R", "type the total rates: POST[/GET]"),
    ("a", "add a node (type host:port or a URL)"),
    ("d / Del", "remove the selected node (asks y/n)"),
    ("p / Space", "pause / resume"),
    ("o", "next operation in the latency histogram"),
    ("s", "skip the current phase"),
    ("e", "export a snapshot into the results folder"),
    ("?", "this help"),
    (
        "q / Ctrl-C",
        "end the run, restore the terminal, print the summary",
    ),
];

/// What `key` means in `mode`.
#[must_use]
pub fn action_for(key: KeyEvent, mode: &Mode) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match mode {
        Mode::EditRate { .. } | Mode::AddNode { .. } => match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) => Some(Action::Char(c)),
            _ => None,
        },
        Mode::ConfirmRemove { .. } => match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Char(c) => Some(Action::Char(c)),
            _ => Some(Action::Cancel),
        },
        Mode::Help => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            _ => Some(Action::Cancel),
        },
        Mode::Normal => match key.code {
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::Char('+' | '=') => Some(Action::RaisePost),
            KeyCode::Char('-' | '_') => Some(Action::LowerPost),
            KeyCode::Char(']') => Some(Action::RaiseGet),
            KeyCode::Char('[') => Some(Action::LowerGet),
            KeyCode::Char('r') => Some(Action::EditNodeRate),
            KeyCode::Char('T') => Some(Action::RaiseTotal),
            KeyCode::Char('t') => Some(Action::LowerTotal),
            KeyCode::Char('R') => Some(Action::EditTotalRate),
            KeyCode::Char('a') => Some(Action::AddNode),
            KeyCode::Char('d') | KeyCode::Delete => Some(Action::RemoveNode),
            KeyCode::Char('p' | ' ') => Some(Action::TogglePause),
            KeyCode::Char('o') => Some(Action::NextOp),
            KeyCode::Char('s') => Some(Action::SkipPhase),
            KeyCode::Char('e') => Some(Action::Export),
            KeyCode::Char('?') => Some(Action::Help),
            KeyCode::Char('q') | KeyCode::Esc => Some(Action::Quit),
            _ => None,
        },
    }
}
