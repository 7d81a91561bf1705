//! `--scenario FILE`: a run written down in TOML, one key per run flag, named as the flag
//! without its dashes (`post-rate = 500`, `nodes = ["10.0.0.1:18555", "10.0.0.2:18555"]`,
//! `stage = ["30s:200/400", "60s:ramp-to:800/1600"]`, `no-tui = true`).
//!
//! The file becomes command-line words before the flags are parsed, so that a file and the
//! flags it stands for are checked by the same code and make the same run; a flag given on the
//! command line replaces the file's value of that key (a whole list, for repeatable flags).
//! A key that is no run flag, or a value of the wrong shape, is refused naming the file and the
//! key; so is any error of a value the file gave (exit 2, before any traffic). A run keeps the
//! flags it ran with as `scenario.toml` in its results folder ([`to_toml`]): no key is ever in
//! it (keys come from files or the environment, never from flags).

use std::collections::{BTreeMap, BTreeSet};

use clap::{ArgAction, CommandFactory};

use crate::cli::Cli;
use crate::model::UsageError;

/// The flag that names the file.
const FLAG: &str = "--scenario";
/// Run flags a scenario does not carry: the file itself, and where results go (a scenario is
/// for running again).
const NOT_WRITTEN: [&str; 2] = ["scenario", "out"];

/// How a run flag takes its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// A switch: `true` or absent.
    Switch,
    /// One value.
    One,
    /// Repeatable, one value each time.
    Many,
    /// One value that is a comma-separated list (`--nodes`).
    Joined,
}

/// The run's flags by long name, with their shape.
fn run_flags() -> BTreeMap<String, Shape> {
    Cli::command()
        .get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?.to_owned();
            let shape = match arg.get_action() {
                ArgAction::SetTrue => Shape::Switch,
                ArgAction::Append if arg.get_value_delimiter().is_some() => Shape::Joined,
                ArgAction::Append => Shape::Many,
                ArgAction::Set => Shape::One,
                _ => return None,
            };
            Some((long, shape))
        })
        .filter(|(long, _)| long != "help" && long != "version")
        .collect()
}

/// A scenario read into the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scenario {
    pub path: String,
    /// The keys the file gave (those the command line did not replace).
    pub keys: BTreeSet<String>,
}

impl Scenario {
    /// A usage error about a value the file gave, named by the file and its key.
    #[must_use]
    pub fn explain(&self, message: &str) -> String {
        let from_file = self.keys.iter().find(|key| {
            let flag = format!("--{key}");
            message.match_indices(&flag).any(|(at, _)| {
                // Not a longer flag's prefix (`--stage` in `--stage-factor`).
                message[at + flag.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-'))
            })
        });
        match from_file {
            Some(key) => format!("{FLAG} {}: key `{key}`: {message}", self.path),
            None => message.to_owned(),
        }
    }
}

/// A TOML scalar as one command-line word.
fn word(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(n) => Some(n.to_string()),
        toml::Value::Float(x) => Some(x.to_string()),
        _ => None,
    }
}

/// The command-line words of one key of the file.
fn words_of(
    path: &str,
    key: &str,
    shape: Shape,
    value: &toml::Value,
) -> Result<Vec<String>, UsageError> {
    let bad = |why: &str| UsageError::new(format!("{FLAG} {path}: key `{key}`: {why}"));
    let flag = format!("--{key}");
    if let toml::Value::Table(_) = value {
        return Err(bad("a table; run flags are plain values"));
    }
    match (shape, value) {
        (Shape::Switch, toml::Value::Boolean(true)) => Ok(vec![flag]),
        (Shape::Switch, toml::Value::Boolean(false)) => Ok(Vec::new()),
        (Shape::Switch, _) => Err(bad("expected true or false")),
        (Shape::One, toml::Value::Array(_)) => Err(bad("one value, not a list")),
        (Shape::Many | Shape::Joined, toml::Value::Array(items)) => {
            let words = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    word(item).ok_or_else(|| {
                        UsageError::new(format!(
                            "{FLAG} {path}: key `{key}[{i}]`: expected a string or a number"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if shape == Shape::Joined {
                vec![flag, words.join(",")]
            } else {
                words.into_iter().flat_map(|w| [flag.clone(), w]).collect()
            })
        }
        (_, scalar) => {
            let value = word(scalar).ok_or_else(|| bad("expected a string or a number"))?;
            Ok(vec![flag, value])
        }
    }
}

/// The long names a command line gives (`--post-rate 5`, `--post-rate=5`).
fn given_flags(args: &[String]) -> BTreeSet<String> {
    args.iter()
        .filter_map(|a| a.strip_prefix("--"))
        .map(|a| a.split_once('=').map_or(a, |(name, _)| name).to_owned())
        .collect()
}

/// The command line with the scenario it names (if any) read into it: the file's words first,
/// then the command line's, without the keys the command line gives itself.
pub fn expand(args: Vec<String>) -> Result<(Vec<String>, Option<Scenario>), UsageError> {
    let position = args
        .iter()
        .position(|a| a == FLAG || a.starts_with(&format!("{FLAG}=")));
    let Some(position) = position else {
        return Ok((args, None));
    };
    let mut args = args;
    let inline = args[position]
        .split_once('=')
        .map(|(_, path)| path.to_owned());
    let path = match inline {
        Some(path) => {
            args.remove(position);
            path
        }
        None if position + 1 < args.len() => {
            let path = args.remove(position + 1);
            args.remove(position);
            path
        }
        None => return Err(UsageError::new(format!("{FLAG} needs a FILE"))),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| UsageError::new(format!("{FLAG} {path}: cannot read it: {e}")))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let why = e.message().to_owned();
        let line = e
            .span()
            .map(|span| text[..span.start].lines().count().max(1));
        UsageError::new(match line {
            Some(line) => format!("{FLAG} {path}: not TOML at line {line}: {why}"),
            None => format!("{FLAG} {path}: not TOML: {why}"),
        })
    })?;
    let flags = run_flags();
    let given = given_flags(&args);
    let mut words = Vec::new();
    let mut keys = BTreeSet::new();
    for (key, value) in &table {
        let Some(shape) = flags.get(key).copied().filter(|_| key != "scenario") else {
            return Err(UsageError::new(format!(
                "{FLAG} {path}: unknown key `{key}`: keys are run flags without their dashes (e.g. post-rate = 500); see stress-tui --help"
            )));
        };
        if given.contains(key) {
            continue;
        }
        words.extend(words_of(&path, key, shape, value)?);
        keys.insert(key.clone());
    }
    let program = args.first().cloned().unwrap_or_default();
    let mut expanded = vec![program];
    expanded.extend(words);
    expanded.extend(args.into_iter().skip(1));
    Ok((expanded, Some(Scenario { path, keys })))
}

/// What a run keeps as `scenario.toml`: its flags as a scenario, or nothing when it has none
/// recorded (a run made in a test, not from a command line).
#[must_use]
pub fn recorded(args: &[String]) -> String {
    if args.is_empty() {
        String::new()
    } else {
        to_toml(args)
    }
}

/// A run's flags (command-line words, without the program's name) as a scenario file.
#[must_use]
pub fn to_toml(args: &[String]) -> String {
    let flags = run_flags();
    let mut table = toml::Table::new();
    let mut words = args.iter().peekable();
    while let Some(word) = words.next() {
        let Some(name) = word.strip_prefix("--") else {
            continue;
        };
        let (name, inline) = match name.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (name, None),
        };
        let Some(shape) = flags.get(name).copied() else {
            continue;
        };
        let value = match shape {
            Shape::Switch => None,
            _ => inline.or_else(|| words.next().cloned()),
        };
        if NOT_WRITTEN.contains(&name) {
            continue;
        }
        let scalar = |text: String| {
            text.parse::<i64>()
                .map_or_else(|_| toml::Value::String(text), toml::Value::Integer)
        };
        match (shape, value) {
            (Shape::Switch, _) => {
                table.insert(name.to_owned(), toml::Value::Boolean(true));
            }
            (Shape::Joined, Some(value)) => {
                let items = value.split(',').map(|v| toml::Value::String(v.to_owned()));
                table.insert(name.to_owned(), toml::Value::Array(items.collect()));
            }
            (Shape::Many, Some(value)) => {
                let entry = table
                    .entry(name.to_owned())
                    .or_insert_with(|| toml::Value::Array(Vec::new()));
                if let toml::Value::Array(items) = entry {
                    items.push(scalar(value));
                }
            }
            (Shape::One, Some(value)) => {
                table.insert(name.to_owned(), scalar(value));
            }
            (_, None) => {}
        }
    }
    format!(
        "# The flags this run ran with, as `stress-tui --scenario FILE` reads them (keys come from\n\
         # files or the environment, never from here).\n{}",
        toml::to_string(&table).unwrap_or_default()
    )
}
