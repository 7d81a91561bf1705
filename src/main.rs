//! The `stress-tui` binary: parses the command line, runs the library, maps the outcome to an
//! exit code (2 for usage errors, 1 for failures). Errors print as one line with their causes.

use std::process::ExitCode;

use clap::Parser;
use stress_tui::run::TooLate;
use stress_tui::{UsageError, cli::Cli, exit, run_cli};

/// Clap's error as one line: the error, the valid values and the tip, without the usage block.
fn one_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let mut lines = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .peekable();
    let mut line = lines
        .next()
        .unwrap_or("error: invalid command line")
        .to_owned();
    // "the following required arguments were not provided:" names them on the lines after.
    if line.ends_with(':') {
        let mut named = Vec::new();
        while let Some(next) = lines.next_if(|l| !l.starts_with("Usage:")) {
            named.push(next);
        }
        line.push(' ');
        line.push_str(&named.join(", "));
    }
    for extra in lines.filter(|l| l.starts_with("[possible values:") || l.starts_with("tip:")) {
        line.push_str("; ");
        line.push_str(extra);
    }
    line
}

/// The subcommands, whose command lines take no `--scenario`.
const SUBCOMMANDS: [&str; 5] = ["devnet", "merge", "k8s-job", "replay", "report"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let subcommand = args
        .get(1)
        .is_some_and(|a| SUBCOMMANDS.contains(&a.as_str()));
    let (args, scenario) = if subcommand {
        (args, None)
    } else {
        match stress_tui::config::scenario::expand(args) {
            Ok(expanded) => expanded,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(exit::USAGE);
            }
        }
    };
    // An error about a value the scenario file gave names the file and the key.
    let explain = |message: &str| {
        let message = message.strip_prefix("error: ").unwrap_or(message);
        let explained = scenario
            .as_ref()
            .map_or_else(|| message.to_owned(), |s| s.explain(message));
        format!("error: {explained}")
    };
    let mut cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) if error.use_stderr() => {
            eprintln!("{}", explain(&one_line(&error)));
            return ExitCode::from(exit::USAGE);
        }
        Err(help_or_version) => {
            let _ = help_or_version.print();
            return ExitCode::SUCCESS;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    if !subcommand {
        cli.run.effective_args = args.into_iter().skip(1).collect();
    }
    match runtime.block_on(run_cli(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{}", explain(&format!("error: {error:#}")));
            if error.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(exit::USAGE)
            } else if error.downcast_ref::<TooLate>().is_some() {
                ExitCode::from(exit::LATE)
            } else {
                ExitCode::from(exit::FAILURE)
            }
        }
    }
}
