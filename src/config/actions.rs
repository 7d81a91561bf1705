//! `--at TIME:ACTION`: what the dashboard's keys do, at a time of the run (its clock, seconds
//! from its start), so that a scenario can repeat a run's live changes headless
//! (`stress-tui replay` writes them from a run's `events.log`). Nodes are named by position
//! (`node2`, as the run's first nodes are numbered) or by address.

use std::time::Duration;

use crate::model::{NodeTarget, PerDirection, UsageError, parse_node};

/// A node an action names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeRef {
    /// 1-based position among the run's first nodes.
    Position(usize),
    Address(NodeTarget),
}

/// What the run does at a time.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Total(PerDirection<u32>),
    Set(NodeRef, PerDirection<u32>),
    Add(NodeTarget),
    Remove(NodeRef),
    Pause,
    Resume,
    Skip,
    /// Fault knobs of an embedded devnet's node (`--devnet`), by position.
    Knobs(usize, crate::devnet::KnobsPatch),
}

/// An action at a time of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedAction {
    pub at: Duration,
    pub action: Action,
}

const FORMS: &str = "TIME:total=POST/GET, TIME:set=NODE=POST/GET, TIME:add=ADDRESS, TIME:remove=NODE, TIME:pause, TIME:resume, TIME:skip or TIME:knobs=N:{JSON}, e.g. 12.5s:total=300/600";

fn rates(text: &str) -> Option<PerDirection<u32>> {
    let (post, get) = text.split_once('/')?;
    Some(PerDirection {
        post: post.parse().ok()?,
        get: get.parse().ok()?,
    })
}

fn node_ref(text: &str) -> Option<NodeRef> {
    if let Some(position) = text.strip_prefix("node").and_then(|n| n.parse().ok()) {
        return (position >= 1).then_some(NodeRef::Position(position));
    }
    parse_node(text).ok().map(NodeRef::Address)
}

/// Parses every `--at`.
/// Parses every `--at`; knobs need the run's own devnet (`devnet`, its node count).
pub fn parse_all(texts: &[String], devnet: Option<usize>) -> Result<Vec<TimedAction>, UsageError> {
    let actions = texts
        .iter()
        .map(|text| parse_action(text))
        .collect::<Result<Vec<_>, _>>()?;
    for (text, timed) in texts.iter().zip(&actions) {
        if let Action::Knobs(node, _) = timed.action
            && devnet.is_none_or(|nodes| node > nodes)
        {
            return Err(UsageError::new(format!(
                "--at `{text}`: knobs change the run's own devnet's nodes: give --devnet N with N at least {node}"
            )));
        }
    }
    Ok(actions)
}

/// Parses one `--at`.
pub fn parse_action(text: &str) -> Result<TimedAction, UsageError> {
    let bad = |why: &str| UsageError::new(format!("--at `{text}`: {why} (expected {FORMS})"));
    let (at, action) = text.split_once(':').ok_or_else(|| bad("no action"))?;
    let seconds: f64 = at
        .strip_suffix('s')
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| bad(&format!("`{at}` is not a time in seconds like 12.5s")))?;
    let (verb, argument) = action.split_once('=').unwrap_or((action, ""));
    let action = match verb {
        "total" => Action::Total(rates(argument).ok_or_else(|| bad("rates are POST/GET"))?),
        "set" => {
            let (node, given) = argument
                .rsplit_once('=')
                .ok_or_else(|| bad("set=NODE=POST/GET"))?;
            Action::Set(
                node_ref(node).ok_or_else(|| bad("a node is node1.. or an address"))?,
                rates(given).ok_or_else(|| bad("rates are POST/GET"))?,
            )
        }
        "add" => Action::Add(parse_node(argument).map_err(|e| bad(&e))?),
        "remove" => Action::Remove(
            node_ref(argument).ok_or_else(|| bad("a node is node1.. or an address"))?,
        ),
        "pause" => Action::Pause,
        "resume" => Action::Resume,
        "skip" => Action::Skip,
        "knobs" => {
            let (node, json) = argument
                .split_once(':')
                .ok_or_else(|| bad("knobs=N:{JSON}, e.g. knobs=2:{\"latency_ms\":50}"))?;
            let node: usize = node
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad("knobs name a devnet node by its number from 1"))?;
            let patch =
                serde_json::from_str(json).map_err(|e| bad(&format!("knobs `{json}`: {e}")))?;
            Action::Knobs(node, patch)
        }
        _ => return Err(bad(&format!("`{verb}` is no action"))),
    };
    Ok(TimedAction {
        at: Duration::from_secs_f64(seconds),
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_and_bad_ones_name_the_form() {
        let total = parse_action("12.5s:total=300/600").unwrap();
        assert_eq!(total.at, Duration::from_millis(12_500));
        assert_eq!(
            total.action,
            Action::Total(PerDirection {
                post: 300,
                get: 600
            })
        );
        assert_eq!(
            parse_action("3s:remove=node2").unwrap().action,
            Action::Remove(NodeRef::Position(2))
        );
        assert!(matches!(
            parse_action("3s:set=127.0.0.1:9=1/2").unwrap().action,
            Action::Set(NodeRef::Address(_), PerDirection { post: 1, get: 2 })
        ));
        assert_eq!(parse_action("0s:pause").unwrap().action, Action::Pause);
        assert!(matches!(
            parse_action("4s:knobs=2:{\"latency_ms\":50}")
                .unwrap()
                .action,
            Action::Knobs(
                2,
                crate::devnet::KnobsPatch {
                    latency_ms: Some(50),
                    ..
                }
            )
        ));
        for bad in [
            "12s",
            "x:pause",
            "3s:jump",
            "3s:total=5",
            "3s:remove=node0",
            "3s:knobs=1:{\"nope\":1}",
        ] {
            let error = parse_action(bad).unwrap_err().to_string();
            assert!(error.starts_with(&format!("--at `{bad}`")), "{error}");
            assert!(error.contains("e.g. 12.5s:total=300/600"), "{error}");
        }
    }
}
