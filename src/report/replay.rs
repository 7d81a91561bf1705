//! `stress-tui replay DIR`: a finished run as a scenario that repeats it headless: the flags it
//! ran with (`scenario.toml`) and its live changes from `events.log` (rates set, nodes added or
//! removed, pauses, skipped phases, the run's devnet's fault knobs; made by keys or by `--at`) as
//! `--at` actions at the times they landed. Changes that stages or a capacity search made are theirs to make again. Nodes
//! the run started with are named by position, so that a replay against a new `--devnet`
//! (other ports) changes the same nodes.

use std::path::Path;

use crate::model::UsageError;

/// One `events.log` line as an `--at` action, if it is a live change.
fn action(text: &str, first_nodes: &[String]) -> Option<String> {
    let node = |label: &str| {
        first_nodes
            .iter()
            .position(|n| n == label)
            .map_or_else(|| label.to_owned(), |i| format!("node{}", i + 1))
    };
    let rates = |text: &str| {
        let (post, rest) = text.split_once(" POST/s, ")?;
        let get = rest.strip_suffix(" GET/s")?;
        Some(format!("{post}/{get}"))
    };
    if let Some(rest) = text.strip_prefix("set total to ") {
        return Some(format!("total={}", rates(rest)?));
    }
    if let Some(rest) = text.strip_prefix("set ") {
        let (label, given) = rest.split_once(" to ")?;
        return Some(format!("set={}={}", node(label), rates(given)?));
    }
    if let Some(label) = text.strip_prefix("add node ") {
        return Some(format!("add={label}"));
    }
    if let Some(label) = text.strip_prefix("remove node ") {
        return Some(format!("remove={}", node(label)));
    }
    if let Some(rest) = text.strip_prefix("knobs node ") {
        let (number, json) = rest.split_once(": ")?;
        return Some(format!("knobs={number}:{json}"));
    }
    match text {
        "paused" => Some("pause".to_owned()),
        "resumed" => Some("resume".to_owned()),
        "skipped the phase" => Some("skip".to_owned()),
        _ => None,
    }
}

/// The scenario that repeats the run in `dir`.
pub fn replay(dir: &Path) -> Result<String, UsageError> {
    let shown = dir.display();
    let scenario = std::fs::read_to_string(dir.join("scenario.toml")).map_err(|_| {
        UsageError::new(format!(
            "replay: {shown} has no scenario.toml: only a run started from the command line records its flags"
        ))
    })?;
    let events = std::fs::read_to_string(dir.join("events.log"))
        .map_err(|e| UsageError::new(format!("replay: {shown}/events.log: {e}")))?;
    let mut table: toml::Table = scenario
        .parse()
        .map_err(|e| UsageError::new(format!("replay: {shown}/scenario.toml: {e}")))?;
    let mut first_nodes = Vec::new();
    let mut actions = Vec::new();
    for line in events.lines() {
        let Some((at, text)) = line.trim_start().split_once("s ") else {
            continue;
        };
        if let Some(rest) = text.strip_prefix("start with node ") {
            if let Some((label, _)) = rest.split_once(" at ") {
                first_nodes.push(label.to_owned());
            }
            continue;
        }
        if let Some(action) = action(text, &first_nodes) {
            actions.push(toml::Value::String(format!("{at}s:{action}")));
        }
    }
    table.insert("at".to_owned(), toml::Value::Array(actions));
    table.insert("no-tui".to_owned(), toml::Value::Boolean(true));
    Ok(format!(
        "# The run in {shown} again, headless: its flags, and its live changes at the times they\n\
         # landed.   stress-tui --scenario THIS_FILE\n{}",
        toml::to_string(&table).unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_changes_become_actions_and_the_rest_is_left() {
        let first = ["127.0.0.1:1".to_owned(), "127.0.0.1:2".to_owned()];
        let action = |text| action(text, &first);
        assert_eq!(
            action("set total to 300 POST/s, 600 GET/s").as_deref(),
            Some("total=300/600")
        );
        assert_eq!(
            action("set 127.0.0.1:2 to 5 POST/s, 6 GET/s").as_deref(),
            Some("set=node2=5/6")
        );
        assert_eq!(
            action("remove node 127.0.0.1:1").as_deref(),
            Some("remove=node1")
        );
        assert_eq!(
            action("add node 10.0.0.9:1").as_deref(),
            Some("add=10.0.0.9:1")
        );
        assert_eq!(action("paused").as_deref(), Some("pause"));
        assert_eq!(
            action(r#"knobs node 2: {"latency_ms":50}"#).as_deref(),
            Some(r#"knobs=2:{"latency_ms":50}"#)
        );
        for other in [
            "stage 1/3 300/400: set total to 300 POST/s, 400 GET/s",
            "capacity step 2 (250 POST/s): set total to 250 POST/s, 250 GET/s",
            "phase mint",
            "refused: remove node 127.0.0.1:9: no node",
            "127.0.0.1:1 carries +5 POST/s, +10 GET/s of down nodes",
            "node 127.0.0.1:1 down: nothing is sent to it until it answers again",
            "node 127.0.0.1:1 answers again",
            r#"refused: knobs node 9: {"down":true}: 404"#,
        ] {
            assert_eq!(action(other), None, "{other}");
        }
    }
}
