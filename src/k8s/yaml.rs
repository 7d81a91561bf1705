//! JSON values written as block-style YAML, for the manifests `k8s-job` prints.
//!
//! By hand because the field has no maintained YAML serialiser: `serde_yaml` was archived
//! unmaintained in March 2024 and its forks are young or carry advisories; the manifests need
//! only maps, lists and scalars, which this writes in 60 lines. Every string is written in
//! double quotes with JSON's escapes, which YAML 1.2 reads as the same string (YAML is a
//! superset of JSON), so no value can turn into a number, a boolean or a comment. Keys are
//! written bare when they are plain words, quoted otherwise.

use std::fmt::Write;

use serde_json::Value;

/// `value` as a YAML document (a map at the top).
#[must_use]
pub fn document(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out
}

fn key(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && text.as_bytes()[0].is_ascii_alphabetic();
    if plain {
        text.to_owned()
    } else {
        Value::String(text.to_owned()).to_string()
    }
}

/// A scalar, or an empty map or list, on the line it starts.
fn inline(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) if map.is_empty() => Some("{}".to_owned()),
        Value::Array(list) if list.is_empty() => Some("[]".to_owned()),
        Value::Object(_) | Value::Array(_) => None,
        scalar => Some(scalar.to_string()),
    }
}

/// Writes a map's entries or a list's items at `indent` spaces, each on its own line.
fn write_value(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (name, item) in map {
                if let Some(text) = inline(item) {
                    let _ = writeln!(out, "{pad}{}: {text}", key(name));
                } else {
                    let _ = writeln!(out, "{pad}{}:", key(name));
                    let deeper = if item.is_array() { indent } else { indent + 2 };
                    write_value(out, item, deeper);
                }
            }
        }
        Value::Array(list) => {
            for item in list {
                if let Some(text) = inline(item) {
                    let _ = writeln!(out, "{pad}- {text}");
                } else {
                    // The item's first line follows the dash; the rest align under it.
                    let mut nested = String::new();
                    write_value(&mut nested, item, indent + 2);
                    let trimmed = nested.trim_start_matches(' ');
                    let _ = write!(out, "{pad}- {trimmed}");
                }
            }
        }
        scalar => {
            let _ = writeln!(out, "{pad}{scalar}");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn maps_lists_and_quoted_scalars() {
        let value = json!({
            "a": 1,
            "b": "yes",
            "c": [ {"name": "x", "args": ["--n", "1"]}, "on" ],
            "d": {},
            "e": [],
            "batch.kubernetes.io/x": null,
        });
        assert_eq!(
            document(&value),
            "a: 1\nb: \"yes\"\n\"batch.kubernetes.io/x\": null\nc:\n- args:\n  - \"--n\"\n  - \"1\"\n  name: \"x\"\n- \"on\"\nd: {}\ne: []\n"
        );
    }
}
