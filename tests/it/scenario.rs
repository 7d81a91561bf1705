//! `--scenario FILE`: a file and the flags it stands for make the same run; flags on the
//! command line replace the file's; every bad key or value is refused naming the file and the
//! key (exit 2, one line, nothing sent); a run writes the flags it ran with as
//! `scenario.toml`, which reads back into the same run.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use stress_tui::config::RunConfig;
use stress_tui::config::scenario::expand;

use crate::support::key_file;

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

/// The run config a command line makes, with its scenario (if any) read in.
fn config_of(args: Vec<String>) -> RunConfig {
    let (args, _) = expand(args).unwrap();
    let mut cli = stress_tui::cli::Cli::try_parse_from(&args).unwrap();
    cli.run.effective_args = args[1..].to_vec();
    RunConfig::from_args(&cli.run).unwrap()
}

/// The config as text, but for the scenario it records (which names the file, or not).
fn shown(config: &RunConfig) -> String {
    let mut config = config.clone();
    config.scenario_toml.clear();
    format!("{config:?}")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stress-tui-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_scenario_makes_the_same_run_as_its_flags_and_flags_replace_it() {
    let dir = scratch("scenario");
    let key = key_file();
    let key = key.to_str().unwrap();
    let flags = words(&[
        "stress-tui",
        "--nodes",
        "127.0.0.1:18555,127.0.0.1:18556",
        "--no-tui",
        "--operator-key-file",
        key,
        "--post-rate",
        "300",
        "--get-rate",
        "600",
        "--node-rate",
        "127.0.0.1:18556=100/200",
        "--stage",
        "10s:300/600",
        "--stage",
        "20s:ramp-to:500",
        "--mint-wallets",
        "4",
        "--confirm",
        "checkpoints",
        "--write-surface",
        "v2",
        "--threshold",
        "payment.p99<250ms",
        "--threshold",
        "errors<1%",
        "--symbol",
        "SCEN1",
        "--out",
        "x",
    ]);
    let file = write(
        &dir,
        "run.toml",
        &format!(
            r#"
nodes = ["127.0.0.1:18555", "127.0.0.1:18556"]
no-tui = true
operator-key-file = "{key}"
post-rate = 300
get-rate = 600
node-rate = ["127.0.0.1:18556=100/200"]
stage = ["10s:300/600", "20s:ramp-to:500"]
mint-wallets = 4
confirm = "checkpoints"
write-surface = "v2"
threshold = ["payment.p99<250ms", "errors<1%"]
symbol = "SCEN1"
out = "x"
"#
        ),
    );
    let from_flags = config_of(flags.clone());
    let from_file = config_of(words(&["stress-tui", "--scenario", &file]));
    assert_eq!(shown(&from_file), shown(&from_flags));
    // The command line replaces a key, a whole list included.
    let replaced = config_of(words(&[
        "stress-tui",
        "--scenario",
        &file,
        "--post-rate",
        "400",
        "--threshold",
        "errors<2%",
    ]));
    assert_eq!(replaced.post_rate, 400);
    assert_eq!(replaced.thresholds.len(), 1);
    assert_eq!(replaced.thresholds[0].text, "errors<2%");
    // The run's own scenario reads back into the same run (but for --out, not written).
    let written = write(&dir, "written.toml", &from_flags.scenario_toml);
    assert!(
        !from_flags.scenario_toml.contains("out ="),
        "{}",
        from_flags.scenario_toml
    );
    let again = config_of(words(&["stress-tui", "--scenario", &written, "--out", "x"]));
    assert_eq!(shown(&again), shown(&from_flags));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_keys_and_values_are_refused_with_the_file_and_the_key() {
    let dir = scratch("scenario-bad");
    let cases: [(&str, &str); 14] = [
        ("pst-rate = 5", "unknown key `pst-rate`"),
        (
            "allow-mainnet = \"yes\"",
            "key `allow-mainnet`: expected true or false",
        ),
        ("post-rate = \"fast\"", "key `post-rate`"),
        ("post-rate = -5", "key `post-rate`"),
        ("duration = \"5\"", "key `duration`"),
        ("confirm = \"blocks\"", "key `confirm`"),
        ("stage = [\"1500ms:100\"]", "key `stage`"),
        ("threshold = [\"p99\"]", "key `threshold`"),
        ("[post-rate]\nvalue = 2", "key `post-rate`: a table"),
        ("get-rate = [1, 2]", "key `get-rate`: one value, not a list"),
        ("decimals = 1.5", "key `decimals`"),
        (
            "stage = [true]",
            "key `stage[0]`: expected a string or a number",
        ),
        ("nodes = [\"http://\"]", "key `nodes`"),
        ("post-rate = ", "not TOML at line 1"),
    ];
    for (i, (text, expected)) in cases.into_iter().enumerate() {
        let file = write(&dir, &format!("bad-{i}.toml"), text);
        let output = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
            // Were a case not refused, this run would be a short one.
            .args(["--scenario", &file, "--no-tui", "--devnet", "1"])
            .args([
                "--transfers-per-mint",
                "1",
                "--distributions-per-transfer",
                "1",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{text}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{text}: {stderr}");
        assert!(
            stderr.contains(&format!("--scenario {file}")),
            "{text}: {stderr}"
        );
        assert!(stderr.contains(expected), "{text}: {stderr}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .args(["--scenario", "/nonexistent.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read it"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_example_scenarios_are_valid() {
    for name in ["devnet-ramp.toml", "capacity.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/scenarios")
            .join(name);
        let (args, _) =
            expand(words(&["stress-tui", "--scenario", path.to_str().unwrap()])).unwrap();
        let cli = stress_tui::cli::Cli::try_parse_from(&args).unwrap();
        RunConfig::check_flags(&cli.run).unwrap();
    }
}
