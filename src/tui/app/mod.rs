//! The dashboard's state and its one transition function: [`App::update`] takes an [`Action`]
//! (what a key meant) and the current pool, changes the UI state, and answers the
//! [`Effect`] for the engine, if any. No I/O here: the run loop sends requests and reports
//! their outcome back as a message.

use super::input::TextInput;
use crate::engine::{MAX_RATE, PoolView};
use crate::model::{Direction, NodeId, NodeTarget, Op, PerDirection, parse_node};

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
pub enum Effect {
    AddNode(NodeTarget),
    RemoveNode(NodeId),
    SetNodeRates(NodeId, PerDirection<u32>),
    SetTotalRates(PerDirection<u32>),
    Pause,
    Resume,
    SkipPhase,
    Export,
}

/// Text inputs and overlays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing `POST[/GET]` for one node (`Some`) or the total (`None`).
    EditRate {
        node: Option<NodeId>,
        input: TextInput,
    },
    /// Typing a node's address.
    AddNode {
        input: TextInput,
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
    /// The operation whose latency histogram is shown: the current phase's
    /// ([`App::follow_phase`]) until the operator picks one with `o`.
    pub op: Op,
    /// The operator picked `op`.
    pub op_chosen: bool,
    /// The last command's outcome: (text, is an error).
    pub message: Option<(String, bool)>,
    /// The operator asked to end the run; the loop ends before the next frame.
    pub quitting: bool,
}

impl App {
    /// Shows the operation of `phase` (the one with samples now), unless the operator picked
    /// one: during the mint phase the pane showed `payment`, with no samples.
    pub fn follow_phase(&mut self, phase: crate::model::Phase, read_only: bool) {
        use crate::model::Phase;
        if self.op_chosen {
            return;
        }
        self.op = match phase {
            Phase::Issue => Op::Issue,
            Phase::Grant => Op::Grant,
            Phase::Mint | Phase::Ready => Op::Mint,
            Phase::Verify => Op::Balance,
            Phase::Reads => Op::Nonce,
            _ if read_only => Op::Nonce,
            Phase::Transfer | Phase::Sustained | Phase::Done => Op::Payment,
        };
    }
}

impl Default for App {
    fn default() -> Self {
        Self {
            mode: Mode::Normal,
            selected: 0,
            op: Op::Payment,
            op_chosen: false,
            message: None,
            quitting: false,
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

/// What a key did to a prompt.
enum Edit {
    Typing,
    Cancelled,
    Submitted,
}

/// A key in a prompt: edits the text, or cancels or submits it.
fn edit(input: &mut TextInput, action: Action) -> Edit {
    match action {
        Action::Char(c) => input.push(c),
        Action::Backspace => input.backspace(),
        Action::Cancel => return Edit::Cancelled,
        Action::Submit => return Edit::Submitted,
        _ => {}
    }
    Edit::Typing
}

impl App {
    fn selected_node<'a>(&self, pool: &'a PoolView) -> Option<&'a crate::engine::NodeView> {
        pool.nodes
            .get(self.selected.min(pool.nodes.len().saturating_sub(1)))
    }

    /// Applies one action; answers the engine request it makes, if any.
    pub fn update(&mut self, action: Action, pool: &PoolView) -> Option<Effect> {
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.normal(action, pool),
            Mode::Help => {
                if !matches!(
                    action,
                    Action::Help | Action::Cancel | Action::Submit | Action::Quit
                ) {
                    self.mode = Mode::Help;
                }
                None
            }
            Mode::ConfirmRemove { node, label } => match action {
                Action::Char('y' | 'Y') | Action::Submit => {
                    self.message = Some((format!("removing {label}"), false));
                    Some(Effect::RemoveNode(node))
                }
                _ => {
                    self.message = Some(("removal cancelled".to_owned(), false));
                    None
                }
            },
            Mode::EditRate { node, mut input } => match edit(&mut input, action) {
                Edit::Typing => {
                    self.mode = Mode::EditRate { node, input };
                    None
                }
                Edit::Cancelled => None,
                Edit::Submitted => match Self::submit_rate(node, &input.text, pool) {
                    Ok(effect) => Some(effect),
                    Err(reason) => {
                        input.refuse(reason);
                        self.mode = Mode::EditRate { node, input };
                        None
                    }
                },
            },
            Mode::AddNode { mut input } => match edit(&mut input, action) {
                Edit::Typing => {
                    self.mode = Mode::AddNode { input };
                    None
                }
                Edit::Cancelled => None,
                Edit::Submitted => match parse_node(&input.text) {
                    Ok(target) if pool.nodes.iter().any(|n| n.url == target.url) => {
                        input.refuse(format!("{} is already in the pool", target.label));
                        self.mode = Mode::AddNode { input };
                        None
                    }
                    Ok(target) => {
                        self.message = Some((format!("adding {}", target.label), false));
                        Some(Effect::AddNode(target))
                    }
                    Err(reason) => {
                        input.refuse(reason);
                        self.mode = Mode::AddNode { input };
                        None
                    }
                },
            },
        }
    }

    fn submit_rate(node: Option<NodeId>, text: &str, pool: &PoolView) -> Result<Effect, String> {
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
        let rates = parse_rates(text, current, limit)?;
        Ok(match node {
            Some(id) => Effect::SetNodeRates(id, rates),
            None => Effect::SetTotalRates(rates),
        })
    }

    fn normal(&mut self, action: Action, pool: &PoolView) -> Option<Effect> {
        let selected = self
            .selected_node(pool)
            .map(|n| (n.id, n.rates, n.label.clone()));
        // One node's rate of one direction, a step up or down.
        let adjust = |direction: Direction, step: fn(u32) -> u32| {
            selected.as_ref().map(|(id, rates, _)| {
                let mut rates = *rates;
                rates[direction] = step(rates[direction]);
                Effect::SetNodeRates(*id, rates)
            })
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
            Action::RaisePost => adjust(Direction::Post, step_up),
            Action::LowerPost => adjust(Direction::Post, step_down),
            Action::RaiseGet => adjust(Direction::Get, step_up),
            Action::LowerGet => adjust(Direction::Get, step_down),
            Action::RaiseTotal => Some(Effect::SetTotalRates(PerDirection {
                post: step_up(pool.total.post),
                get: pool.total.get,
            })),
            Action::LowerTotal => Some(Effect::SetTotalRates(PerDirection {
                post: step_down(pool.total.post),
                get: pool.total.get,
            })),
            Action::EditNodeRate => {
                if let Some((id, rates, _)) = selected {
                    self.mode = Mode::EditRate {
                        node: Some(id),
                        input: TextInput::with_text(format!("{}/{}", rates.post, rates.get)),
                    };
                }
                None
            }
            Action::EditTotalRate => {
                let total = pool.total;
                self.mode = Mode::EditRate {
                    node: None,
                    input: TextInput::with_text(format!("{}/{}", total.post, total.get)),
                };
                None
            }
            Action::AddNode => {
                self.mode = Mode::AddNode {
                    input: TextInput::default(),
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
                Effect::Resume
            } else {
                Effect::Pause
            }),
            Action::SkipPhase => Some(Effect::SkipPhase),
            Action::Export => Some(Effect::Export),
            Action::NextOp => {
                let position = Op::ALL.iter().position(|op| *op == self.op).unwrap_or(0);
                self.op = Op::ALL[(position + 1) % Op::ALL.len()];
                self.op_chosen = true;
                None
            }
            Action::Help => {
                self.mode = Mode::Help;
                None
            }
            Action::Quit => {
                self.quitting = true;
                None
            }
            Action::Char(_) | Action::Backspace | Action::Submit | Action::Cancel => None,
        }
    }
}

#[cfg(test)]
mod tests;
