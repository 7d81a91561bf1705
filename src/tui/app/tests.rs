//! Tests of the dashboard's state machine: keys to actions, actions to effects, prompts.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::engine::{NodeCounters, NodeView};
use crate::tui::TextInput;
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
        at: std::time::Duration::ZERO,
    }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Feeds keys through the keymap and the app; answers the requests made.
fn press(app: &mut App, pool: &PoolView, keys: &[KeyCode]) -> Vec<Effect> {
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
        input: TextInput::default(),
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
        [Effect::SetNodeRates(
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
        [Effect::SetNodeRates(5, PerDirection { post: 2, get: 6 })]
    );
    assert_eq!(
        press(&mut app, &pool, &[KeyCode::Char(']')]),
        [Effect::SetNodeRates(5, PerDirection { post: 3, get: 7 })]
    );
    assert_eq!(
        press(&mut app, &pool, &[KeyCode::Char('T')]),
        [Effect::SetTotalRates(PerDirection {
            post: 223,
            get: 406
        })]
    );
    assert_eq!(step_down(0), 0);
    assert_eq!(step_up(MAX_RATE), MAX_RATE);
}

#[test]
fn a_rate_prompt_opens_with_the_current_value_and_typing_replaces_it() {
    let (mut app, pool) = (App::default(), pool());
    let mut keys = vec![KeyCode::Char('R')];
    keys.extend(typed("600/1200"));
    keys.push(KeyCode::Enter);
    assert_eq!(
        press(&mut app, &pool, &keys),
        [Effect::SetTotalRates(PerDirection {
            post: 600,
            get: 1200
        })]
    );
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
        input: TextInput {
            error: Some(error), ..
        },
        ..
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
        [Effect::SetNodeRates(
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
        [Effect::SetTotalRates(PerDirection {
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
        matches!(&app.mode, Mode::AddNode { input: TextInput { error: Some(e), .. } } if e.contains("99999")),
        "{:?}",
        app.mode
    );
    let mut keys = vec![KeyCode::Backspace; 5];
    keys.extend(typed("18555"));
    keys.push(KeyCode::Enter);
    assert_eq!(press(&mut app, &pool, &keys), []);
    assert!(
        matches!(&app.mode, Mode::AddNode { input: TextInput { error: Some(e), .. } } if e.contains("already")),
        "{:?}",
        app.mode
    );
    let mut keys = vec![KeyCode::Backspace; 5];
    keys.extend(typed("18600"));
    keys.push(KeyCode::Enter);
    let requests = press(&mut app, &pool, &keys);
    assert_eq!(
        requests,
        [Effect::AddNode(parse_node("127.0.0.1:18600").unwrap())]
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
        [Effect::RemoveNode(1)]
    );
    assert_eq!(
        press(&mut app, &pool, &[KeyCode::Char('p')]),
        [Effect::Pause]
    );
    let paused = PoolView {
        paused: true,
        ..pool.clone()
    };
    assert_eq!(
        press(&mut app, &paused, &[KeyCode::Char('p')]),
        [Effect::Resume]
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
    assert_eq!(press(&mut app, &pool, &[KeyCode::Char('q')]), []);
    assert!(app.quitting, "q ends the run");
}

#[test]
fn the_latency_pane_follows_the_phase_until_an_operation_is_picked() {
    use crate::model::{Op, Phase};
    let (mut app, pool) = (App::default(), pool());
    app.follow_phase(Phase::Mint, false);
    assert_eq!(
        app.op,
        Op::Mint,
        "the mint phase's samples, not payment's (none yet)"
    );
    app.follow_phase(Phase::Sustained, false);
    assert_eq!(app.op, Op::Payment);
    app.follow_phase(Phase::Verify, false);
    assert_eq!(app.op, Op::Balance);
    press(&mut app, &pool, &[KeyCode::Char('o')]);
    let picked = app.op;
    app.follow_phase(Phase::Done, false);
    assert_eq!(app.op, picked, "a picked operation stays");
}
