//! The layer check: every top module of `src/` has a rank, and no module uses a path into a
//! module of the same or a higher rank (`crate::x::...` in code, comments aside). The order is
//! the one `../shared/ARCHITECTURE.md` draws, with one change: the raw flags (`cli`) sit just
//! below `config`, which validates them, since flags are data that config turns into plans.
//!
//! A text check, not `cargo modules dependencies --acyclic`: it runs in milliseconds, where
//! cargo-modules builds rust-analyzer (minutes on CI's 2 cores), and it checks more than
//! acyclicity: the order itself, so `devnet` may use `model`, `protocol` and `shutdown` only.

use std::collections::BTreeSet;
use std::path::Path;

/// Lowest first; a module may use only modules of a lower rank.
const LAYERS: &[&[&str]] = &[
    &["model", "shutdown", "footprint"],
    &["protocol"],
    &["client", "devnet"],
    &["stats"],
    &["engine"],
    &["workload"],
    &["cli"],
    &["config"],
    &["report", "metrics", "k8s"],
    &["run"],
    &["tui"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top modules a file's code uses through `crate::` paths. Comments are skipped (a doc
/// link is not a dependency); a grouped `use crate::{..}` is refused, so that no import can
/// hide from the check.
fn used_modules(source: &str) -> Result<BTreeSet<String>, String> {
    let mut used = BTreeSet::new();
    for (number, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if rest.starts_with('{') {
                return Err(format!(
                    "line {}: `use crate::{{..}}` groups modules; write one `use` per module",
                    number + 1
                ));
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                used.insert(name);
            }
        }
    }
    Ok(used)
}

/// Every upward or sideways use in one top module's file.
fn violations(module: &str, source: &str) -> Vec<String> {
    let Some(own) = rank(module) else {
        return vec![format!(
            "module `{module}` has no layer: add it to LAYERS in tests/it/layers.rs"
        )];
    };
    let used = match used_modules(source) {
        Ok(used) => used,
        Err(e) => return vec![format!("{module}: {e}")],
    };
    used.into_iter()
        .filter(|target| target != module)
        .filter_map(|target| match rank(&target) {
            Some(theirs) if theirs < own => None,
            Some(_) => Some(format!(
                "`{module}` uses `{target}`, which is not below it in the layers"
            )),
            None => Some(format!("`{module}` uses `{target}`, which has no layer")),
        })
        .collect()
}

/// The top module a file under `src/` belongs to (`None` for the crate root and the binary).
fn top_module(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_module_uses_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 50, "found only {} files", files.len());
    let mut problems = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&src).unwrap();
        let Some(module) = top_module(relative) else {
            continue;
        };
        let source = std::fs::read_to_string(&path).unwrap();
        for problem in violations(&module, &source) {
            problems.push(format!("{}: {problem}", relative.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_catches_upward_sideways_and_hidden_imports() {
    assert!(violations("stats", "use crate::model::Op;\nuse crate::protocol::B256;").is_empty());
    assert_eq!(
        violations("stats", "use crate::engine::Direction;"),
        ["`stats` uses `engine`, which is not below it in the layers"]
    );
    assert_eq!(
        violations("devnet", "    let c = crate::client::NodeClient::new();"),
        ["`devnet` uses `client`, which is not below it in the layers"]
    );
    assert!(violations("protocol", "//! signed by [`crate::workload`]").is_empty());
    assert!(violations("engine", "use crate::{model::Op, run::RunHandle};")[0].contains("groups"));
    assert!(violations("newthing", "")[0].contains("no layer"));
    assert!(violations("model", "use crate::nowhere::X;")[0].contains("no layer"));
}
