//! The dashboard's state and its one transition function: [`App::update`] takes an [`Action`]
//! (what a key meant) and the current pool, changes the UI state, and answers the
//! [`Request`] for the engine, if any. No I/O here: the run loop sends requests and reports
//! their outcome back as a message.

use crate::config::{NodeTarget, parse_node};
use crate::engine::{MAX_RATE, NodeRates, PoolView};
use crate::stats::{NodeId, Op};

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
    SetNodeRates(NodeId, NodeRates),
    SetTotalRates(NodeRates),
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
pub fn parse_rates(text: &str, current: NodeRates, limit: u64) -> Result<NodeRates, String> {
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
    Ok(NodeRates { post, get })
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
        let adjust = |f: fn(NodeRates) -> NodeRates| {
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
            Action::RaisePost => adjust(|r| NodeRates {
                post: step_up(r.post),
                ..r
            }),
            Action::LowerPost => adjust(|r| NodeRates {
                post: step_down(r.post),
                ..r
            }),
            Action::RaiseGet => adjust(|r| NodeRates {
                get: step_up(r.get),
                ..r
            }),
            Action::LowerGet => adjust(|r| NodeRates {
                get: step_down(r.get),
                ..r
            }),
            Action::RaiseTotal => Some(Request::SetTotalRates(NodeRates {
                post: step_up(pool.total.post),
                get: pool.total.get,
            })),
            Action::LowerTotal => Some(Request::SetTotalRates(NodeRates {
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
