//! The dashboard in a real terminal: tmux runs `stress-tui --devnet 3` at 120x40; the test reads
//! the screen with capture-pane and types with send-keys. It raises node 1's rate and sees the
//! target, then the achieved TPS change while node 2's stays; removes node 3 (its traffic
//! stops), adds it back (it gets traffic again); quits with `q` and checks that the terminal
//! is restored (the shell prompt is back, no alternate screen) and the results folder complete.
//!
//! Needs tmux (`.ci/run` installs it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(width: u16, height: u16) -> Self {
        let tmux = Self {
            socket: format!("stress-tui-it-{}", std::process::id()),
        };
        let status = Command::new("tmux")
            .args([
                "-L",
                &tmux.socket,
                "new-session",
                "-d",
                "-s",
                "main",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .args([
                "env",
                "PS1=PROMPT$ ",
                "TERM=xterm-256color",
                "bash",
                "--norc",
                "--noprofile",
            ])
            .status()
            .expect("tmux is installed (apt-get install -y tmux)");
        assert!(status.success());
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "main", key]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "main", "-l", text]);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "main"])
    }

    /// The screen and what scrolled off it (the summary is longer than the pane).
    fn with_scrollback(&self) -> String {
        self.run(&["capture-pane", "-p", "-S", "-200", "-t", "main"])
    }

    /// Waits until `check` accepts the screen; panics with the last screen after `limit`.
    fn wait_for(&self, what: &str, limit: Duration, check: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(
                started.elapsed() < limit,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Every row of a `timeseries.csv`, as column name → value.
fn timeseries_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let Ok(mut reader) = csv::Reader::from_path(path) else {
        return Vec::new();
    };
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map_while(Result::ok)
        .map(|record| {
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// The last second a `timeseries.csv` has a row of.
fn last_second(path: &Path) -> Option<u64> {
    timeseries_rows(path)
        .iter()
        .filter_map(|row| row["second"].parse().ok())
        .max()
}

/// Waits until `check` holds; panics after `limit`.
fn wait_until(what: &str, limit: Duration, check: impl Fn() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// The nodes table: label → its columns after the label (health, POST/s, GET/s, offered,
/// sent/s, ok/s, conf/s, p50, p99, errors, in-flight, lag).
fn rows(screen: &str) -> Vec<(String, Vec<String>)> {
    screen
        .lines()
        .skip_while(|line| !line.starts_with("┌ Nodes"))
        .skip(1)
        .take_while(|line| !line.starts_with('└'))
        .filter(|line| line.contains("127.0.0.1:"))
        .filter_map(|line| {
            let tokens: Vec<&str> = line.trim_matches('│').split_whitespace().collect();
            let at = tokens.iter().position(|t| t.starts_with("127.0.0.1:"))?;
            Some((
                tokens[at].to_owned(),
                tokens[at + 1..].iter().map(|t| (*t).to_owned()).collect(),
            ))
        })
        .collect()
}

fn column(screen: &str, label: &str, index: usize) -> Option<f64> {
    rows(screen)
        .into_iter()
        .find(|(l, _)| l == label)
        .and_then(|(_, cols)| cols.get(index)?.parse().ok())
}

const POST_TARGET: usize = 1;
const SENT: usize = 4;

#[test]
fn dashboard_steers_a_run_in_a_real_terminal() {
    let out = std::env::temp_dir().join(format!("stress-tui-it-tmux-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let tmux = Tmux::start(120, 40);
    tmux.wait_for("the shell prompt", Duration::from_secs(10), |s| {
        s.contains("PROMPT$")
    });
    let command = format!(
        "{} --devnet 3 --mint-wallets 2 --transfers-per-mint 20 --in-flight-per-account 4 --duration 120s --out {}; echo EXIT=$?",
        env!("CARGO_BIN_EXE_stress-tui"),
        out.display()
    );
    tmux.text(&command);
    tmux.keys(&["Enter"]);

    let screen = tmux.wait_for(
        "the nodes table in the sustained phase",
        Duration::from_secs(90),
        |s| {
            s.contains("phase sustained")
                && rows(s).len() == 3
                && column(s, &rows(s)[2].0, SENT).unwrap_or(0.0) > 0.0
        },
    );
    let labels: Vec<String> = rows(&screen).into_iter().map(|(label, _)| label).collect();
    let (first, second, third) = (labels[0].clone(), labels[1].clone(), labels[2].clone());
    assert_eq!(column(&screen, &first, POST_TARGET), Some(34.0), "{screen}");

    // Raise node 1's POST rate five steps: 34 → 37 → 40 → 44 → 48 → 52.
    tmux.keys(&["+", "+", "+", "+", "+"]);
    tmux.wait_for("node 1's new target", Duration::from_secs(3), |s| {
        column(s, &first, POST_TARGET) == Some(52.0)
    });
    let screen = tmux.wait_for(
        "node 1's achieved rate to follow",
        Duration::from_secs(8),
        |s| column(s, &first, SENT).is_some_and(|sent| sent >= 46.0),
    );
    let second_sent = column(&screen, &second, SENT).unwrap();
    assert!(
        (27.0..=39.0).contains(&second_sent),
        "node 2 stays near 33/s, got {second_sent}:\n{screen}"
    );
    assert_eq!(column(&screen, &second, POST_TARGET), Some(33.0));

    // Remove node 3 (select it, d, confirm with y): its row goes.
    tmux.keys(&["j", "j", "d"]);
    tmux.wait_for("the removal question", Duration::from_secs(3), |s| {
        s.contains("remove 127.0.0.1:")
    });
    tmux.keys(&["y"]);
    tmux.wait_for("node 3 to leave the table", Duration::from_secs(5), |s| {
        rows(s).len() == 2
    });
    // Out for at least three whole seconds of the timeseries before it comes back.
    let removed_at = last_second(&out.join("timeseries.csv")).unwrap_or(0);
    wait_until(
        "three seconds without node 3",
        Duration::from_secs(10),
        || last_second(&out.join("timeseries.csv")).is_some_and(|s| s >= removed_at + 3),
    );

    // Add it back by typing its address: it gets traffic again.
    tmux.keys(&["a"]);
    tmux.wait_for("the add-node input", Duration::from_secs(3), |s| {
        s.contains("node to add")
    });
    tmux.text(&third);
    tmux.keys(&["Enter"]);
    tmux.wait_for(
        "the re-added node to get traffic",
        Duration::from_secs(10),
        |s| rows(s).len() == 3 && column(s, &third, SENT).unwrap_or(0.0) > 0.0,
    );

    // Quit: the terminal comes back to the shell, the summary is printed.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for(
        "the shell prompt after the run",
        Duration::from_secs(30),
        |s| s.contains("EXIT=1"),
    );
    let printed = tmux.with_scrollback();
    assert!(
        printed.contains("stress-tui summary: Interrupted"),
        "{printed}"
    );
    assert!(
        screen.trim_end().ends_with("PROMPT$"),
        "prompt back:\n{screen}"
    );
    assert_eq!(
        tmux.run(&["display-message", "-p", "-t", "main", "#{alternate_on}"])
            .trim(),
        "0",
        "alternate screen left"
    );

    // The results folder is complete, and node 3's traffic stopped while it was out.
    for file in [
        "timeseries.csv",
        "latency.hlog",
        "events.log",
        "nodes.csv",
        "operations.csv",
        "accounts_detail.csv",
        "summary.json",
    ] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let events = std::fs::read_to_string(out.join("events.log")).unwrap();
    assert!(events.contains(&format!("remove node {third}")), "{events}");
    assert!(events.contains(&format!("add node {third}")), "{events}");
    let third_traffic: Vec<u64> = timeseries_rows(&out.join("timeseries.csv"))
        .into_iter()
        .filter(|row| row["node"] == third)
        .map(|row| row["ok"].parse().unwrap())
        .collect();
    let quiet = third_traffic.windows(2).any(|w| w == [0, 0]);
    assert!(
        quiet,
        "node 3 had two seconds without answers while removed: {third_traffic:?}"
    );
    let _: PathBuf = out.clone();
    std::fs::remove_dir_all(&out).unwrap();
}
