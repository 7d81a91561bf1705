//! The dashboard's state and its one transition function: [`App::update`] takes an [`Action`]
//! (what a key meant) and the current pool, changes the UI state, and answers the
//! [`Request`] for the engine, if any. No I/O here: the run loop sends requests and reports
//! their outcome back as a message.

use crate::engine::{MAX_RATE, PoolView};
use crate::model::{NodeId, NodeTarget, Op, PerDirection, parse_node};

/// What a key press means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    RaisePost,
    LowerPost,
    RaiseGet,
    LowerGet,
    RaiseTotal,
    LowerTotal,
    EditNodeRate,
    EditTotalRate,
    AddNode,
    RemoveNode,
    TogglePause,
    SkipPhase,
    Export,
    NextOp,
    Help,
    Quit,
    Char(char),
    Backspace,
    Submit,
    Cancel,
}

/// What the dashboard asks of the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    AddNode(NodeTarget),
    RemoveNode(NodeId),
    SetNodeRates(NodeId, PerDirection<u32>),
    SetTotalRates(PerDirection<u32>),
    Pause,
    Resume,
    SkipPhase,
    Export,
    Quit,
}

/// Text inputs and overlays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing `POST[/GET]` for one node (`Some`) or the total (`None`).
    EditRate {
        node: Option<NodeId>,
        buffer: String,
        error: Option<String>,
    },
    AddNode {
        buffer: String,
        error: Option<String>,
    },
    ConfirmRemove {
        node: NodeId,
        label: String,
    },
    Help,
}

/// The dashboard's UI state.
#[derive(Clone, Debug)]
pub struct App {
    pub mode: Mode,
    /// Index of the selected row of the nodes table.
    pub selected: usize,
    /// The operation whose latency histogram is shown.
    pub op: Op,
    /// The last command's outcome: (text, is an error).
    pub message: Option<(String, bool)>,
}

impl Default for App {
    fn default() -> Self {
        Self {
            mode: Mode::Normal,
            selected: 0,
            op: Op::Payment,
            message: None,
        }
    }
}

/// The next rate up: +10%, at least +1.
#[must_use]
pub fn step_up(rate: u32) -> u32 {
    rate.saturating_add((rate / 10).max(1)).min(MAX_RATE)
}

/// The next rate down: -10%, at least -1, not below 0.
#[must_use]
pub fn step_down(rate: u32) -> u32 {
    rate.saturating_sub((rate / 10).max(1))
}

/// Parses `POST` or `POST/GET`; a missing GET keeps `current.get`.
pub fn parse_rates(
    text: &str,
    current: PerDirection<u32>,
    limit: u64,
) -> Result<PerDirection<u32>, String> {
    let (post, get) = match text.trim().split_once('/') {
        Some((post, get)) => (post, Some(get)),
        None => (text.trim(), None),
    };
    let parse = |value: &str, what: &str| {
        value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|v| *v <= limit)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| {
                format!(
                    "{what} rate `{}` is not a whole number from 0 to {limit}",
                    value.trim()
                )
            })
    };
    let post = parse(post, "POST")?;
    let get = match get {
        Some(get) => parse(get, "GET")?,
        None => current.get,
    };
    Ok(PerDirection { post, get })
}

impl App {
    fn selected_node<'a>(&self, pool: &'a PoolView) -> Option<&'a crate::engine::NodeView> {
        pool.nodes
            .get(self.selected.min(pool.nodes.len().saturating_sub(1)))
    }

    /// Applies one action; answers the engine request it makes, if any.
    pub fn update(&mut self, action: Action, pool: &PoolView) -> Option<Request> {
        match self.mode.clone() {
            Mode::Normal => self.normal(action, pool),
            Mode::Help => {
                if matches!(
                    action,
                    Action::Help | Action::Cancel | Action::Submit | Action::Quit
                ) {
                    self.mode = Mode::Normal;
                }
                None
            }
            Mode::ConfirmRemove { node, label } => {
                self.mode = Mode::Normal;
                match action {
                    Action::Char('y' | 'Y') | Action::Submit => {
                        self.message = Some((format!("removing {label}"), false));
                        Some(Request::RemoveNode(node))
                    }
                    _ => {
                        self.message = Some(("removal cancelled".to_owned(), false));
                        None
                    }
                }
            }
            Mode::EditRate {
                node, mut buffer, ..
            } => match action {
                Action::Char(c) => {
                    buffer.push(c);
                    self.mode = Mode::EditRate {
                        node,
                        buffer,
                        error: None,
                    };
                    None
                }
                Action::Backspace => {
                    buffer.pop();
                    self.mode = Mode::EditRate {
                        node,
                        buffer,
                        error: None,
                    };
                    None
                }
                Action::Cancel => {
                    self.mode = Mode::Normal;
                    None
                }
                Action::Submit => self.submit_rate(node, buffer, pool),
                _ => None,
            },
            Mode::AddNode { mut buffer, .. } => match action {
                Action::Char(c) => {
                    buffer.push(c);
                    self.mode = Mode::AddNode {
                        buffer,
                        error: None,
                    };
                    None
                }
                Action::Backspace => {
                    buffer.pop();
                    self.mode = Mode::AddNode {
                        buffer,
                        error: None,
                    };
                    None
                }
                Action::Cancel => {
                    self.mode = Mode::Normal;
                    None
                }
                Action::Submit => match parse_node(&buffer) {
                    Ok(target) if pool.nodes.iter().any(|n| n.url == target.url) => {
                        let error = format!("{} is already in the pool", target.label);
                        self.mode = Mode::AddNode {
                            buffer,
                            error: Some(error),
                        };
                        None
                    }
                    Ok(target) => {
                        self.mode = Mode::Normal;
                        self.message = Some((format!("adding {}", target.label), false));
                        Some(Request::AddNode(target))
                    }
                    Err(error) => {
                        self.mode = Mode::AddNode {
                            buffer,
                            error: Some(error),
                        };
                        None
                    }
                },
                _ => None,
            },
        }
    }

    fn submit_rate(
        &mut self,
        node: Option<NodeId>,
        buffer: String,
        pool: &PoolView,
    ) -> Option<Request> {
        let (current, limit) = match node {
            Some(id) => (
                pool.nodes
                    .iter()
                    .find(|n| n.id == id)
                    .map(|n| n.rates)
                    .unwrap_or_default(),
                u64::from(MAX_RATE),
            ),
            None => (
                pool.total,
                u64::from(MAX_RATE) * pool.nodes.len().max(1) as u64,
            ),
        };
        match parse_rates(&buffer, current, limit) {
            Ok(rates) => {
                self.mode = Mode::Normal;
                Some(match node {
                    Some(id) => Request::SetNodeRates(id, rates),
                    None => Request::SetTotalRates(rates),
                })
            }
            Err(error) => {
                self.mode = Mode::EditRate {
                    node,
                    buffer,
                    error: Some(error),
                };
                None
            }
        }
    }

    fn normal(&mut self, action: Action, pool: &PoolView) -> Option<Request> {
        let selected = self
            .selected_node(pool)
            .map(|n| (n.id, n.rates, n.label.clone()));
        let adjust = |f: fn(PerDirection<u32>) -> PerDirection<u32>| {
            selected
                .as_ref()
                .map(|(id, rates, _)| Request::SetNodeRates(*id, f(*rates)))
        };
        match action {
            Action::Up => {
                self.selected = self.selected.saturating_sub(1);
                None
            }
            Action::Down => {
                self.selected = (self.selected + 1).min(pool.nodes.len().saturating_sub(1));
                None
            }
            Action::RaisePost => adjust(|r| PerDirection {
                post: step_up(r.post),
                ..r
            }),
            Action::LowerPost => adjust(|r| PerDirection {
                post: step_down(r.post),
                ..r
            }),
            Action::RaiseGet => adjust(|r| PerDirection {
                get: step_up(r.get),
                ..r
            }),
            Action::LowerGet => adjust(|r| PerDirection {
                get: step_down(r.get),
                ..r
            }),
            Action::RaiseTotal => Some(Request::SetTotalRates(PerDirection {
                post: step_up(pool.total.post),
                get: pool.total.get,
            })),
            Action::LowerTotal => Some(Request::SetTotalRates(PerDirection {
                post: step_down(pool.total.post),
                get: pool.total.get,
            })),
            Action::EditNodeRate => {
                if let Some((id, rates, _)) = selected {
                    self.mode = Mode::EditRate {
                        node: Some(id),
                        buffer: format!("{}/{}", rates.post, rates.get),
                        error: None,
                    };
                }
                None
            }
            Action::EditTotalRate => {
                let total = pool.total;
                self.mode = Mode::EditRate {
                    node: None,
                    buffer: format!("{}/{}", total.post, total.get),
                    error: None,
                };
                None
            }
            Action::AddNode => {
                self.mode = Mode::AddNode {
                    buffer: String::new(),
                    error: None,
                };
                None
            }
            Action::RemoveNode => {
                if pool.nodes.len() <= 1 {
                    self.message = Some(("cannot remove the last node".to_owned(), true));
                } else if let Some((id, _, label)) = selected {
                    self.mode = Mode::ConfirmRemove { node: id, label };
                }
                None
            }
            Action::TogglePause => Some(if pool.paused {
                Request::Resume
            } else {
                Request::Pause
            }),
            Action::SkipPhase => Some(Request::SkipPhase),
            Action::Export => Some(Request::Export),
            Action::NextOp => {
                let position = Op::ALL.iter().position(|op| *op == self.op).unwrap_or(0);
                self.op = Op::ALL[(position + 1) % Op::ALL.len()];
                None
            }
            Action::Help => {
                self.mode = Mode::Help;
                None
            }
            Action::Quit => Some(Request::Quit),
            Action::Char(_) | Action::Backspace | Action::Submit | Action::Cancel => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::engine::{NodeCounters, NodeView};
    use crate::tui::keymap::action_for;

    fn pool() -> PoolView {
        let node = |id, port: u16, post| NodeView {
            id,
            label: format!("127.0.0.1:{port}"),
            url: format!("http://127.0.0.1:{port}"),
            rates: PerDirection {
                post,
                get: 2 * post,
            },
            effective: PerDirection {
                post,
                get: 2 * post,
            },
            counters: Arc::new(NodeCounters::default()),
        };
        PoolView {
            nodes: vec![node(0, 18555, 100), node(1, 18556, 100), node(5, 18557, 3)],
            paused: false,
            policy: crate::model::FailurePolicy::Keep,
            total: PerDirection {
                post: 203,
                get: 406,
            },
            removed: vec![],
            events: vec![],
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    /// Feeds keys through the keymap and the app; answers the requests made.
    fn press(app: &mut App, pool: &PoolView, keys: &[KeyCode]) -> Vec<Request> {
        let mut requests = Vec::new();
        for code in keys {
            // Each key is mapped in the mode the previous key left.
            if let Some(action) = action_for(key(*code), &app.mode) {
                requests.extend(app.update(action, pool));
            }
        }
        requests
    }

    fn typed(text: &str) -> Vec<KeyCode> {
        text.chars().map(KeyCode::Char).collect()
    }

    #[test]
    fn keymap_covers_the_documented_keys() {
        let normal = Mode::Normal;
        let cases = [
            (KeyCode::Up, Action::Up),
            (KeyCode::Char('j'), Action::Down),
            (KeyCode::Char('+'), Action::RaisePost),
            (KeyCode::Char('-'), Action::LowerPost),
            (KeyCode::Char(']'), Action::RaiseGet),
            (KeyCode::Char('['), Action::LowerGet),
            (KeyCode::Char('r'), Action::EditNodeRate),
            (KeyCode::Char('T'), Action::RaiseTotal),
            (KeyCode::Char('t'), Action::LowerTotal),
            (KeyCode::Char('R'), Action::EditTotalRate),
            (KeyCode::Char('a'), Action::AddNode),
            (KeyCode::Delete, Action::RemoveNode),
            (KeyCode::Char(' '), Action::TogglePause),
            (KeyCode::Char('o'), Action::NextOp),
            (KeyCode::Char('s'), Action::SkipPhase),
            (KeyCode::Char('e'), Action::Export),
            (KeyCode::Char('?'), Action::Help),
            (KeyCode::Char('q'), Action::Quit),
        ];
        for (code, action) in cases {
            assert_eq!(action_for(key(code), &normal), Some(action), "{code:?}");
        }
        assert_eq!(action_for(key(KeyCode::F(5)), &normal), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        let typing = Mode::AddNode {
            buffer: String::new(),
            error: None,
        };
        assert_eq!(
            action_for(ctrl_c, &typing),
            Some(Action::Quit),
            "Ctrl-C quits from any mode"
        );
        assert_eq!(
            action_for(key(KeyCode::Char('q')), &typing),
            Some(Action::Char('q')),
            "q is text while typing"
        );
        assert_eq!(
            action_for(key(KeyCode::Enter), &typing),
            Some(Action::Submit)
        );
        assert_eq!(action_for(key(KeyCode::Esc), &typing), Some(Action::Cancel));
    }

    #[test]
    fn rate_steps_apply_to_the_selected_node_only() {
        let (mut app, pool) = (App::default(), pool());
        assert_eq!(
            press(&mut app, &pool, &[KeyCode::Char('+')]),
            [Request::SetNodeRates(
                0,
                PerDirection {
                    post: 110,
                    get: 200
                }
            )]
        );
        assert_eq!(
            press(
                &mut app,
                &pool,
                &[KeyCode::Down, KeyCode::Down, KeyCode::Down]
            ),
            []
        );
        assert_eq!(app.selected, 2, "selection stops at the last node");
        assert_eq!(
            press(&mut app, &pool, &[KeyCode::Char('-')]),
            [Request::SetNodeRates(5, PerDirection { post: 2, get: 6 })]
        );
        assert_eq!(
            press(&mut app, &pool, &[KeyCode::Char(']')]),
            [Request::SetNodeRates(5, PerDirection { post: 3, get: 7 })]
        );
        assert_eq!(
            press(&mut app, &pool, &[KeyCode::Char('T')]),
            [Request::SetTotalRates(PerDirection {
                post: 223,
                get: 406
            })]
        );
        assert_eq!(step_down(0), 0);
        assert_eq!(step_up(MAX_RATE), MAX_RATE);
    }

    #[test]
    fn typed_rates_are_validated_inline() {
        let (mut app, pool) = (App::default(), pool());
        let mut keys = vec![KeyCode::Char('r')];
        keys.extend(std::iter::repeat_n(KeyCode::Backspace, 10));
        keys.extend(typed("abc"));
        keys.push(KeyCode::Enter);
        assert_eq!(press(&mut app, &pool, &keys), []);
        let Mode::EditRate {
            error: Some(error), ..
        } = &app.mode
        else {
            panic!("{:?}", app.mode)
        };
        assert!(error.contains("`abc`"), "{error}");
        let mut keys = vec![KeyCode::Backspace; 3];
        keys.extend(typed("250/600"));
        keys.push(KeyCode::Enter);
        assert_eq!(
            press(&mut app, &pool, &keys),
            [Request::SetNodeRates(
                0,
                PerDirection {
                    post: 250,
                    get: 600
                }
            )]
        );
        assert_eq!(app.mode, Mode::Normal);
        // The total: POST only keeps the GET total.
        let mut keys = vec![KeyCode::Char('R')];
        keys.extend(std::iter::repeat_n(KeyCode::Backspace, 10));
        keys.extend(typed("900"));
        keys.push(KeyCode::Enter);
        assert_eq!(
            press(&mut app, &pool, &keys),
            [Request::SetTotalRates(PerDirection {
                post: 900,
                get: 406
            })]
        );
        let mut keys = vec![KeyCode::Char('r')];
        keys.extend(std::iter::repeat_n(KeyCode::Backspace, 10));
        keys.extend(typed("2000000"));
        keys.push(KeyCode::Enter);
        assert_eq!(
            press(&mut app, &pool, &keys),
            [],
            "above the per-node maximum"
        );
        assert!(press(&mut app, &pool, &[KeyCode::Esc]).is_empty());
        assert_eq!(app.mode, Mode::Normal, "Esc cancels");
    }

    #[test]
    fn adding_a_node_validates_the_address() {
        let (mut app, pool) = (App::default(), pool());
        let mut keys = vec![KeyCode::Char('a')];
        keys.extend(typed("127.0.0.1:99999"));
        keys.push(KeyCode::Enter);
        assert_eq!(press(&mut app, &pool, &keys), []);
        assert!(
            matches!(&app.mode, Mode::AddNode { error: Some(e), .. } if e.contains("99999")),
            "{:?}",
            app.mode
        );
        let mut keys = vec![KeyCode::Backspace; 5];
        keys.extend(typed("18555"));
        keys.push(KeyCode::Enter);
        assert_eq!(press(&mut app, &pool, &keys), []);
        assert!(
            matches!(&app.mode, Mode::AddNode { error: Some(e), .. } if e.contains("already")),
            "{:?}",
            app.mode
        );
        let mut keys = vec![KeyCode::Backspace; 5];
        keys.extend(typed("18600"));
        keys.push(KeyCode::Enter);
        let requests = press(&mut app, &pool, &keys);
        assert_eq!(
            requests,
            [Request::AddNode(parse_node("127.0.0.1:18600").unwrap())]
        );
    }

    #[test]
    fn removal_asks_first_and_pause_toggles() {
        let (mut app, pool) = (App::default(), pool());
        assert_eq!(
            press(&mut app, &pool, &[KeyCode::Down, KeyCode::Char('d')]),
            []
        );
        assert!(matches!(app.mode, Mode::ConfirmRemove { node: 1, .. }));
        assert_eq!(
            press(&mut app, &pool, &[KeyCode::Char('n')]),
            [],
            "anything but y keeps it"
        );
        assert_eq!(
            press(&mut app, &pool, &[KeyCode::Char('d'), KeyCode::Char('y')]),
            [Request::RemoveNode(1)]
        );
        assert_eq!(
            press(&mut app, &pool, &[KeyCode::Char('p')]),
            [Request::Pause]
        );
        let paused = PoolView {
            paused: true,
            ..pool.clone()
        };
        assert_eq!(
            press(&mut app, &paused, &[KeyCode::Char('p')]),
            [Request::Resume]
        );
        let single = PoolView {
            nodes: pool.nodes[..1].to_vec(),
            ..pool.clone()
        };
        assert_eq!(press(&mut app, &single, &[KeyCode::Char('d')]), []);
        assert_eq!(
            app.message.as_ref().map(|m| m.1),
            Some(true),
            "refused with a message"
        );
        assert_eq!(press(&mut app, &pool, &[KeyCode::Char('?')]), []);
        assert_eq!(app.mode, Mode::Help);
        assert_eq!(press(&mut app, &pool, &[KeyCode::Char('x')]), []);
        assert_eq!(app.mode, Mode::Normal, "any key closes the help");
        assert_eq!(press(&mut app, &pool, &[KeyCode::Char('o')]), []);
        assert_eq!(app.op, Op::Receipt, "o moves to the next operation");
        assert_eq!(
            press(&mut app, &pool, &[KeyCode::Char('q')]),
            [Request::Quit]
        );
    }
}
