//! `/metrics` against a real Prometheus (Debian's `prometheus`, started here on 127.0.0.1): it
//! scrapes a devnet run every second, and once the run has ended its query API answers the
//! run's own totals; `promtool check metrics` accepts the exposition. A bad or taken
//! `--metrics-addr` is refused before any traffic.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stress_tui::devnet::{Devnet, DevnetConfig};
use stress_tui::model::Op;
use stress_tui::report::Ending;

use crate::support::{RunFlags, run_config, wait_report};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.0 GET on loopback: the answer's body, if anything answered.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_-.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A Prometheus server scraping `target` every second, killed on drop.
struct Prometheus {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Prometheus {
    fn start(target: u16) -> Self {
        let dir = std::env::temp_dir().join(format!("stress-tui-it-prom-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: stress-tui\n    \
                 static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus is installed (apt-get install -y prometheus)");
        Self { child, port, dir }
    }

    /// The value of an instant query that answers one number, if it does.
    fn query(&self, expression: &str) -> Option<f64> {
        let path = format!("/api/v1/query?query={}", percent_encode(expression));
        let body: serde_json::Value = serde_json::from_str(&http_get(self.port, &path)?).ok()?;
        body["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
    }

    /// Waits until `expression` answers `expected` (Prometheus scraped the final values).
    fn wait_for(&self, expression: &str, expected: f64, limit: Duration) {
        let started = Instant::now();
        loop {
            let value = self.query(expression);
            if value == Some(expected) {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "{expression}: Prometheus answers {value:?}, the run says {expected}; log: {}",
                std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_a_run_and_its_totals_match_the_summary() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let metrics_port = free_port();
    let prometheus = Prometheus::start(metrics_port);
    let flags = RunFlags::rates(100, 300)
        .wallets(1, 5)
        .distributions(2)
        .flag("--metrics-addr", format!("127.0.0.1:{metrics_port}"));
    let config = run_config(&devnet.urls(), "metrics", &flags);
    let out = config.out.clone().unwrap();
    let handle = stress_tui::run::start(config).await.unwrap();
    assert_eq!(
        handle.metrics_addr.map(|a| a.port()),
        Some(metrics_port),
        "served where asked"
    );
    let report = wait_report(handle, Duration::from_secs(120)).await;
    assert_eq!(report.ending, Ending::Completed);

    // The exposition passes Prometheus's own checker.
    let body = tokio::task::spawn_blocking(move || http_get(metrics_port, "/metrics"))
        .await
        .unwrap()
        .expect("/metrics answers after the run");
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (apt-get install -y prometheus)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // Every metric the Grafana dashboard queries is in the exposition.
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../assets/grafana-dashboard.json")).unwrap();
    let mut queried = 0;
    for target in dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap())
    {
        let expr = target["expr"].as_str().unwrap();
        for name in expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| word.starts_with("stress_tui_"))
        {
            queried += 1;
            assert!(
                body.contains(&format!("\n{name}")),
                "the dashboard queries {name}, which /metrics lacks"
            );
        }
    }
    assert!(queried >= 10, "{queried}");

    // Prometheus's view of the finished run equals the run's own totals.
    let stats = &report.stats;
    let requests: u64 = stats
        .ops
        .iter()
        .filter(|(op, _)| **op != Op::Confirm)
        .map(|(_, o)| o.count)
        .sum();
    let ok: u64 = stats
        .ops
        .iter()
        .filter(|(op, _)| **op != Op::Confirm)
        .map(|(_, o)| o.ok)
        .sum();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let payments = summary["operations"]["payment"]["count"].as_u64().unwrap();
    let confirmed = summary["transactions"]["confirmed"].as_u64().unwrap();
    let sent: u64 = summary["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            n["post_pacing"]["sent"].as_u64().unwrap() + n["get_pacing"]["sent"].as_u64().unwrap()
        })
        .sum();
    assert!(requests > 0 && payments == 10 && confirmed > 0);
    let limit = Duration::from_secs(30);
    tokio::task::spawn_blocking(move || {
        prometheus.wait_for("sum(stress_tui_responses_total)", requests as f64, limit);
        prometheus.wait_for(
            "sum(stress_tui_responses_total{outcome=\"ok\"})",
            ok as f64,
            limit,
        );
        prometheus.wait_for("sum(stress_tui_sent_total)", sent as f64, limit);
        prometheus.wait_for("sum(stress_tui_confirmed_total)", confirmed as f64, limit);
        prometheus.wait_for(
            "sum(stress_tui_latency_seconds_count{operation=\"payment\"})",
            payments as f64,
            limit,
        );
        prometheus.wait_for("stress_tui_phase{phase=\"done\"}", 1.0, limit);
    })
    .await
    .unwrap();
    std::fs::remove_dir_all(&out).unwrap();
}
