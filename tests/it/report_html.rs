//! `report.html` in a real browser: a 4-node devnet run with a rate change and a node removed
//! (`--at`) writes its page; headless Chromium (Debian's, driven over its remote-debugging
//! protocol by `tests/browser/check_page.py`) loads it with no console error and no request
//! beyond the file, every chart is there with its points, the events are marked on the time
//! charts, and a screenshot is left beside the page. `stress-tui report DIR` draws the same page
//! again.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stress-tui-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The page as Chromium saw it (see `tests/browser/check_page.py` for the fields).
fn check_in_browser(page: &Path, screenshot: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/check_page.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(page)
        .arg(screenshot)
        .args(["--width", "1400"])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "check_page.py failed (is chromium installed? `apt-get install chromium`, \
         `pip install websocket-client`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The `<figure data-chart="NAME">` element's HTML.
fn figure_html<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!("<figure data-chart=\"{name}\""))
        .unwrap_or_else(|| panic!("no figure {name}"));
    let end = start + html[start..].find("</figure>").unwrap();
    &html[start..end]
}

#[test]
fn a_runs_page_shows_every_chart_in_a_real_browser() {
    let out = scratch("report-html");
    let run = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .args([
            "--devnet",
            "4",
            "--no-tui",
            "--post-rate",
            "200",
            "--get-rate",
            "400",
        ])
        .args(["--mint-wallets", "8", "--transfers-per-mint", "5"])
        .args(["--in-flight-per-account", "4", "--duration", "8s"])
        .args(["--at", "5s:total=300/600", "--at", "8s:remove=node3"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the run: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let page = out.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"), "the page runs no script");

    let screenshot = out.join("report.png");
    let seen = check_in_browser(&page, &screenshot);
    assert_eq!(seen["console_errors"], Value::Array(vec![]), "{seen}");
    let requests: Vec<&str> = seen["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        requests.iter().all(|r| r.starts_with("file://")),
        "the page asks for nothing but itself: {requests:?}"
    );

    let charts = seen["charts"].as_array().unwrap();
    let chart = |name: &str| {
        charts
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no chart {name}: {seen}"))
    };
    let mut expected = vec![
        "post-rates",
        "get-rates",
        "latency-p99",
        "latency-p50",
        "errors",
        "slots",
        "spectrum-payment",
        "spectrum-mint",
    ];
    let nodes: Vec<String> = (1..=4).map(|i| format!("node-rates-{i}")).collect();
    expected.extend(nodes.iter().map(String::as_str));
    for name in expected {
        let c = chart(name);
        assert_eq!(c["svgs"], 1, "{name}: {c}");
        assert!(
            c["width"].as_f64().unwrap() > 400.0 && c["height"].as_f64().unwrap() > 200.0,
            "{name} is drawn at a readable size: {c}"
        );
        // A time chart draws a point per line per second of the run (> 10 s); a spectrum a
        // point per percentile step of each node.
        let points = c["points"].as_u64().unwrap();
        assert!(points >= 30, "{name} has its points: {c}");
        assert!(
            c["elements"]["polyline"].as_u64().unwrap() >= 1,
            "{name}: {c}"
        );
    }
    // The payment spectrum has a line per node that took payments, all 4 (measured lines are
    // 2 px wide; the grid and the marks 1 px).
    assert_eq!(
        figure_html(&html, "spectrum-payment")
            .matches(r#"stroke-width="2" points"#)
            .count(),
        4
    );

    // Both live changes are in the events table and marked (numbered) on every time chart.
    assert!(
        html.contains("set total to 300 POST/s"),
        "the rate change is listed"
    );
    assert!(
        html.contains("remove node 127.0.0.1:"),
        "the removal is listed"
    );
    for name in [
        "post-rates",
        "latency-p99",
        "errors",
        "slots",
        "node-rates-3",
    ] {
        let svg = figure_html(&html, name);
        // plotters writes a text's content on a line of its own.
        for mark in [">\n1\n</text>", ">\n2\n</text>"] {
            assert!(svg.contains(mark), "{name} marks event {mark}");
        }
    }
    // The removed node keeps its row (from summary.json, which keeps it), numbered as
    // `--at` named it: node 3.
    let row = html
        .split("<tr>")
        .find(|row| row.contains("removed at "))
        .expect("the removed node is in the table");
    assert!(row.starts_with("<td>3 127.0.0.1:"), "{row}");
    for heading in [
        "Nodes",
        "Phases",
        "Events",
        "Verify",
        "Generator",
        "Configuration",
    ] {
        assert!(
            seen["headings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h == heading),
            "heading {heading}: {}",
            seen["headings"]
        );
    }
    let png = std::fs::read(&screenshot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG screenshot");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, 1400);

    // `stress-tui report DIR` draws the same page from the same files.
    std::fs::remove_file(&page).unwrap();
    let again = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .arg("report")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&page).unwrap(), html);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_read_only_runs_page_shows_its_reads() {
    let out = scratch("report-html-reads");
    let run = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .args([
            "--devnet",
            "2",
            "--no-tui",
            "--post-rate",
            "0",
            "--get-rate",
            "200",
        ])
        .args(["--duration", "3s", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let page = out.join("report.html");
    let html = std::fs::read_to_string(&page).expect("a read-only run writes its page");
    assert!(
        html.contains("reads only"),
        "the header says what the run did"
    );
    assert!(
        !html.contains("data-chart=\"post-rates\""),
        "no POST chart: none were sent"
    );
    let seen = check_in_browser(&page, &out.join("report.png"));
    assert_eq!(seen["console_errors"], Value::Array(vec![]), "{seen}");
    let charts = seen["charts"].as_array().unwrap();
    for name in [
        "get-rates",
        "node-rates-1",
        "latency-p99",
        "spectrum-balance",
    ] {
        let chart = charts
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no chart {name}: {seen}"));
        assert!(chart["points"].as_u64().unwrap() >= 6, "{name}: {chart}");
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn report_of_a_folder_without_a_run_is_a_usage_error() {
    let out = scratch("report-empty");
    std::fs::create_dir_all(&out).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .arg("report")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("holds no summary.json: not a finished stress-tui results folder"),
        "{stderr}"
    );
    assert!(!out.join("report.html").exists());
    std::fs::remove_dir_all(&out).unwrap();
}
