//! Keys to [`Action`]s, per mode. The normal mode's keys are one table ([`NORMAL`]) that the
//! keymap, the help overlay and the footer are derived from.

use std::sync::LazyLock;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{Action, Mode};

/// One row of the normal mode's keys: how the help shows the keys, what they do, each key
/// with the action it makes, and the row's short form in the footer with its place there.
pub struct Binding {
    pub shown: &'static str,
    pub does: &'static str,
    pub keys: &'static [(KeyCode, Action)],
    pub footer: Option<(u8, &'static str)>,
}

/// Every key of the normal mode: the keymap, the help overlay and the footer all read this
/// table (README's key table copies it). Ctrl-C quits in every mode.
pub const NORMAL: &[Binding] = &[
    Binding {
        shown: "↑/k ↓/j",
        does: "select a node",
        keys: &[
            (KeyCode::Up, Action::Up),
            (KeyCode::Char('k'), Action::Up),
            (KeyCode::Down, Action::Down),
            (KeyCode::Char('j'), Action::Down),
        ],
        footer: Some((2, "↑↓ select")),
    },
    Binding {
        shown: "+ / -",
        does: "raise / lower the selected node's POST rate (10%)",
        keys: &[
            (KeyCode::Char('+'), Action::RaisePost),
            (KeyCode::Char('='), Action::RaisePost),
            (KeyCode::Char('-'), Action::LowerPost),
            (KeyCode::Char('_'), Action::LowerPost),
        ],
        footer: Some((3, "+/- rate")),
    },
    Binding {
        shown: "] / [",
        does: "raise / lower the selected node's GET rate (10%)",
        keys: &[
            (KeyCode::Char(']'), Action::RaiseGet),
            (KeyCode::Char('['), Action::LowerGet),
        ],
        footer: None,
    },
    Binding {
        shown: "r",
        does: "type the selected node's rates: POST[/GET]",
        keys: &[(KeyCode::Char('r'), Action::EditNodeRate)],
        footer: Some((4, "r set rate")),
    },
    Binding {
        shown: "T / t",
        does: "raise / lower the total POST rate (10%, split evenly)",
        keys: &[
            (KeyCode::Char('T'), Action::RaiseTotal),
            (KeyCode::Char('t'), Action::LowerTotal),
        ],
        footer: Some((5, "T/t total")),
    },
    Binding {
        shown: "R",
        does: "type the total rates: POST[/GET]",
        keys: &[(KeyCode::Char('R'), Action::EditTotalRate)],
        footer: None,
    },
    Binding {
        shown: "a",
        does: "add a node (type host:port or a URL)",
        keys: &[(KeyCode::Char('a'), Action::AddNode)],
        footer: Some((6, "a add")),
    },
    Binding {
        shown: "d / Del",
        does: "remove the selected node (asks y/n)",
        keys: &[
            (KeyCode::Char('d'), Action::RemoveNode),
            (KeyCode::Delete, Action::RemoveNode),
        ],
        footer: Some((7, "d remove")),
    },
    Binding {
        shown: "p / Space",
        does: "pause / resume",
        keys: &[
            (KeyCode::Char('p'), Action::TogglePause),
            (KeyCode::Char(' '), Action::TogglePause),
        ],
        footer: Some((8, "p pause")),
    },
    Binding {
        shown: "o",
        does: "next operation in the latency histogram",
        keys: &[(KeyCode::Char('o'), Action::NextOp)],
        footer: None,
    },
    Binding {
        shown: "s",
        does: "skip the current phase",
        keys: &[(KeyCode::Char('s'), Action::SkipPhase)],
        footer: None,
    },
    Binding {
        shown: "e",
        does: "export a snapshot into the results folder",
        keys: &[(KeyCode::Char('e'), Action::Export)],
        footer: Some((9, "e export")),
    },
    Binding {
        shown: "?",
        does: "this help",
        keys: &[(KeyCode::Char('?'), Action::Help)],
        footer: Some((1, "? help")),
    },
    Binding {
        shown: "q / Esc / Ctrl-C",
        does: "end the run, restore the terminal, print the summary",
        keys: &[
            (KeyCode::Char('q'), Action::Quit),
            (KeyCode::Esc, Action::Quit),
        ],
        footer: Some((0, "q quit")),
    },
];

/// The footer's short forms in their places, the first `count` of them.
fn footer_keys(count: usize) -> String {
    let mut keys: Vec<(u8, &str)> = NORMAL.iter().filter_map(|b| b.footer).collect();
    keys.sort_unstable();
    keys.into_iter()
        .take(count)
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(" │ ")
}

/// The footer line: every key that has a short form; once the run has ended, quit and help.
#[must_use]
pub fn footer(finished: bool) -> &'static str {
    static RUNNING: LazyLock<String> = LazyLock::new(|| format!(" {}", footer_keys(usize::MAX)));
    static FINISHED: LazyLock<String> = LazyLock::new(|| {
        format!(
            " {} │ the run has ended: every result is written",
            footer_keys(2)
        )
    });
    if finished { &FINISHED } else { &RUNNING }
}

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
        Mode::Normal => NORMAL
            .iter()
            .flat_map(|binding| binding.keys)
            .find(|(code, _)| *code == key.code)
            .map(|(_, action)| *action),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_and_every_row_is_reachable() {
        let keys: Vec<KeyCode> = NORMAL
            .iter()
            .flat_map(|b| b.keys.iter().map(|(code, _)| *code))
            .collect();
        for (i, key) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(key), "{key:?} is bound twice");
        }
        for binding in NORMAL {
            for (code, action) in binding.keys {
                let event = KeyEvent::new(*code, KeyModifiers::NONE);
                assert_eq!(action_for(event, &Mode::Normal), Some(*action), "{code:?}");
            }
        }
        let places: Vec<u8> = NORMAL
            .iter()
            .filter_map(|b| b.footer)
            .map(|f| f.0)
            .collect();
        let mut sorted = places.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            places.len(),
            "two footer entries share a place"
        );
        assert!(footer(true).starts_with(" q quit │ ? help │ the run has ended"));
    }
}
