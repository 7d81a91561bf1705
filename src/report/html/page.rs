//! The page around the charts: the verdict at the top, the charts, then the tables (nodes,
//! phases, events, thresholds, verify, generator, configuration). One file, its style inline,
//! no script, no font and no request of any kind: it reads the same offline and in a ticket.

use std::fmt::Write;

use super::figures::{Figure, numbered_events};
use super::folder::{PercentilesView, RunFolder};
use crate::report::fmt_micros;

/// `&`, `<`, `>`, `"` and `'` escaped for text and attribute values.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --ink: #1d2330; --muted: #5b6472; --line: #e3e6ec; --bg: #f6f7f9; --good: #0a7d4f;
        --bad: #c81e3c; --warn: #b76e00; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--ink); background: var(--bg); }
header { background: #141a26; color: #fff; padding: 20px 32px 18px; }
header h1 { margin: 0 0 4px; font-size: 20px; font-weight: 600; }
header p { margin: 0; color: #b9c1cf; }
main { padding: 20px 32px 40px; max-width: 1480px; margin: 0 auto; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600;
           font-size: 13px; margin-left: 8px; vertical-align: 2px; }
.verdict.good { background: #d9f2e6; color: var(--good); }
.verdict.bad { background: #fbdde3; color: var(--bad); }
.verdict.plain { background: #e6e9ef; color: #2c3442; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px;
         margin: 0 0 24px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
               letter-spacing: .04em; }
.card .value { font-size: 20px; font-weight: 600; margin-top: 2px; }
.card .value.good { color: var(--good); } .card .value.bad { color: var(--bad); }
.card .note { color: var(--muted); font-size: 12px; }
h2 { font-size: 16px; margin: 28px 0 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px;
         padding: 12px 14px 10px; }
figure h3 { margin: 0 0 6px; font-size: 14px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 6px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12.5px; margin: 2px 0 4px; }
.legend span::before { content: ""; display: inline-block; width: 18px; height: 0;
                       border-top: 3px solid var(--c); margin-right: 5px; vertical-align: 3px; }
.legend span.dashed::before { border-top-style: dashed; border-top-width: 2px; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line);
        border-radius: 8px; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: right; }
th { background: #fafbfc; color: var(--muted); font-weight: 600; }
td:first-child, th:first-child, #events td, #events th {
  text-align: left; }
#nodes { width: auto; min-width: 60%; }
#shards, #capacity { width: auto; }
#capacity td:last-child, #capacity th:last-child { text-align: left; }
#nodes th, #nodes td { white-space: nowrap; padding: 5px 8px; font-size: 12.5px; }
#nodes td:nth-child(2), #nodes th:nth-child(2) { text-align: left; }
.pass { color: var(--good); font-weight: 600; } .fail { color: var(--bad); font-weight: 600; }
.tables { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
.tables > div { flex: 0 1 auto; min-width: 300px; max-width: 100%; }
header p.why { margin-top: 4px; color: #c9d1dd; }
header p.why.bad { color: #ffb3c0; }
.scroll { overflow-x: auto; max-width: 100%; }
#config { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr));
          gap: 0 24px; margin: 0; background: #fff; border: 1px solid var(--line);
          border-radius: 8px; padding: 6px 14px; font-size: 13px; }
#config div { display: flex; justify-content: space-between; gap: 12px; padding: 4px 0;
              border-bottom: 1px solid var(--line); }
#config dt { color: var(--muted); } #config dd { margin: 0; text-align: right;
             overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
"#;

/// Percentiles as `p50 / p99`.
fn p50_p99(p: Option<PercentilesView>) -> String {
    match p {
        Some(p) if p.count > 0 => format!("{} / {}", fmt_micros(p.p50_us), fmt_micros(p.p99_us)),
        _ => "–".to_owned(),
    }
}

/// A table from a header and rows of already escaped cells.
fn table(id: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let mut html = format!("<table id=\"{id}\"><thead><tr>");
    for cell in header {
        let _ = write!(html, "<th>{}</th>", escape(cell));
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            let _ = write!(html, "<td>{cell}</td>");
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

fn card(label: &str, value: &str, class: &str, note: &str) -> String {
    format!(
        "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value {class}\">{}</div>\
         <div class=\"note\">{}</div></div>",
        escape(label),
        escape(value),
        escape(note)
    )
}

/// Why the run did not pass; none when it completed, every threshold held, no transaction
/// failed and the chain agrees with it.
fn failings(folder: &RunFolder) -> Vec<String> {
    let s = &folder.summary;
    let mut failings = Vec::new();
    if s.ending != "completed" {
        failings.push(match &s.failure {
            Some(failure) => format!("ended {}: {failure}", s.ending),
            None => format!("ended {}", s.ending),
        });
    }
    let failed = s.thresholds.iter().filter(|t| !t.passed).count();
    if failed > 0 {
        failings.push(format!(
            "{failed} of {} thresholds failed",
            s.thresholds.len()
        ));
    }
    let t = &s.transactions;
    if t.failed > 0 {
        failings.push(format!("{} transactions failed", t.failed));
    }
    if let Some(v) = s.verify.as_ref().filter(|v| v.mismatched > 0) {
        failings.push(format!("{} balances differ from the chain", v.mismatched));
    }
    failings
}

fn cards(folder: &RunFolder) -> String {
    let s = &folder.summary;
    // From the timeseries' totals: they count every node, those removed during the run too.
    let errors = folder.total_of(|r| r.errors);
    let requests = folder.total_of(|r| r.post_ok + r.get_ok + r.errors);
    let post_missed = folder.total_of(|r| r.post_missed);
    let post_unfilled = folder.total_of(|r| r.post_unfilled);
    let mut html = String::from("<div class=\"cards\">");
    html += &card(
        "ending",
        &s.ending,
        if s.ending == "completed" {
            "good"
        } else {
            "bad"
        },
        s.failure.as_deref().unwrap_or(""),
    );
    html += &card(
        "duration",
        &format!("{:.1} s", s.elapsed_s),
        "",
        &folder
            .started
            .map_or_else(String::new, |t| format!("from {}", started_text(t))),
    );
    let t = &s.transactions;
    let unconfirmed = t.submitted.saturating_sub(t.confirmed + t.failed);
    html += &card(
        "transactions",
        &format!("{} / {}", t.confirmed, t.submitted),
        if t.failed > 0 {
            "bad"
        } else if unconfirmed == 0 {
            "good"
        } else {
            ""
        },
        &if unconfirmed == 0 {
            format!("confirmed / submitted; {} failed", t.failed)
        } else {
            format!(
                "confirmed / submitted; {} failed, {unconfirmed} not confirmed (a node refused \
                 them, or their outcome was unknown at the end)",
                t.failed
            )
        },
    );
    html += &card(
        "request errors",
        &format!("{errors:.0}"),
        if errors == 0.0 { "good" } else { "bad" },
        &format!("of {requests:.0} requests answered or failed"),
    );
    html += &card(
        "POST slots missed / unfilled",
        &format!("{post_missed:.0} / {post_unfilled:.0}"),
        "",
        "missed: pacer dropped; unfilled: no account ready",
    );
    if let Some(v) = &s.verify {
        html += &verify_card(v);
    }
    if !s.thresholds.is_empty() {
        let held = s.thresholds.iter().filter(|t| t.passed).count();
        html += &card(
            "thresholds",
            &format!("{held} / {}", s.thresholds.len()),
            if held == s.thresholds.len() {
                "good"
            } else {
                "bad"
            },
            "held",
        );
    }
    html += &card(
        "generator",
        &s.generator
            .cpu_s
            .map_or_else(|| "–".to_owned(), |c| format!("{c:.1} s CPU")),
        "",
        &s.generator.peak_rss_kib.map_or_else(String::new, |k| {
            format!("peak RSS {:.1} MiB", k as f64 / 1024.0)
        }),
    );
    html.push_str("</div>");
    html
}

/// The verify card: balances read back from the chain, or that none were.
fn verify_card(v: &super::folder::VerifyView) -> String {
    let (value, class, note) = if v.checked == 0 {
        (
            "not run".to_owned(),
            "",
            "no balance was read back".to_owned(),
        )
    } else {
        (
            format!("{} / {}", v.matched, v.checked),
            if v.mismatched == 0 && v.unread == 0 {
                "good"
            } else {
                "bad"
            },
            format!(
                "balances match, {} differ, {} unread",
                v.mismatched, v.unread
            ),
        )
    };
    card("verify", &value, class, &note)
}

/// A wall-clock time as `2026-12-01 21:49:52 UTC`.
fn started_text(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(at)
        .to_string()
        .replacen('T', " ", 1)
        .replace('Z', " UTC")
}

fn figure(figure: &Figure) -> String {
    let mut legend = String::new();
    for (name, color, dashed) in &figure.legend {
        let class = if *dashed { " class=\"dashed\"" } else { "" };
        let _ = write!(
            legend,
            "<span{class} style=\"--c:{color}\">{}</span>",
            escape(name)
        );
    }
    format!(
        "<figure data-chart=\"{}\"><h3>{}</h3><div class=\"legend\">{legend}</div>{}\
         <figcaption>{}</figcaption></figure>",
        escape(&figure.name),
        escape(&figure.title),
        figure.svg,
        escape(&figure.caption)
    )
}

fn nodes_table(folder: &RunFolder) -> String {
    let rows: Vec<Vec<String>> = folder
        .node_labels()
        .into_iter()
        .enumerate()
        .map(|(i, label)| {
            let name = format!("{} {}", i + 1, escape(label));
            let Some(n) = folder.node(label) else {
                // Removed during the run: the summary keeps the pool's last nodes, so its counts
                // are the timeseries' sums.
                let sum = |pick: fn(&super::folder::SecondView) -> f64| -> String {
                    format!("{:.0}", folder.rows_of(label).map(pick).sum::<f64>())
                };
                let dash = || "–".to_owned();
                return vec![
                    name,
                    "removed".to_owned(),
                    dash(),
                    sum(|r| r.post_ok),
                    sum(|r| r.confirmed),
                    dash(),
                    sum(|r| r.get_ok),
                    dash(),
                    sum(|r| r.errors),
                    sum(|r| r.post_missed),
                    sum(|r| r.post_unfilled),
                    sum(|r| r.get_missed),
                ];
            };
            let errors = |d: &super::folder::DirectionView| d.errors.values().sum::<u64>();
            let mut health = n
                .removed_at_s
                .map_or_else(|| escape(&n.health), |at| format!("removed at {at:.1} s"));
            let down = folder.down_for(label);
            if down > 0.0 {
                let _ = write!(health, ", down {down:.1} s");
            }
            vec![
                name,
                health,
                format!("{} / {}", n.target_rates.post, n.target_rates.get),
                n.post.ok.to_string(),
                n.confirmed.to_string(),
                p50_p99(n.post.latency),
                n.get.ok.to_string(),
                p50_p99(n.get.latency),
                (errors(&n.post) + errors(&n.get)).to_string(),
                n.post_pacing.missed.to_string(),
                n.post_pacing.unfilled.to_string(),
                n.get_pacing.missed.to_string(),
            ]
        })
        .collect();
    let table = table(
        "nodes",
        &[
            "node",
            "health",
            "target POST / GET",
            "POST ok",
            "confirmed",
            "POST p50 / p99",
            "GET ok",
            "GET p50 / p99",
            "errors",
            "POST missed",
            "POST unfilled",
            "GET missed",
        ],
        &rows,
    );
    format!("<div class=\"scroll\">{table}</div>")
}

fn phases_table(folder: &RunFolder) -> String {
    let rows: Vec<Vec<String>> = folder
        .summary
        .phases
        .iter()
        .map(|p| {
            vec![
                escape(&p.phase),
                format!("{:.1} s", p.duration_s),
                p.total.to_string(),
                p.confirmed.to_string(),
                p.failed.to_string(),
                p.cpu_s
                    .map_or_else(|| "–".to_owned(), |c| format!("{c:.2} s")),
            ]
        })
        .collect();
    table(
        "phases",
        &[
            "phase",
            "duration",
            "transactions",
            "confirmed",
            "failed",
            "generator CPU",
        ],
        &rows,
    )
}

fn events_table(folder: &RunFolder) -> String {
    let rows: Vec<Vec<String>> = numbered_events(folder)
        .into_iter()
        .map(|(number, at, text)| vec![number.to_string(), format!("{at:.3} s"), escape(text)])
        .collect();
    if rows.is_empty() {
        return "<p>No live changes: the rates and nodes stayed as started.</p>".to_owned();
    }
    table("events", &["#", "at", "event"], &rows)
}

fn checks_tables(folder: &RunFolder) -> String {
    let s = &folder.summary;
    let mut html = String::new();
    if !s.thresholds.is_empty() {
        let rows: Vec<Vec<String>> = s
            .thresholds
            .iter()
            .map(|t| {
                let verdict = if t.passed {
                    "<span class=\"pass\">pass</span>"
                } else {
                    "<span class=\"fail\">FAIL</span>"
                };
                vec![escape(&t.threshold), verdict.to_owned(), escape(&t.note)]
            })
            .collect();
        html += "<div><h2>Thresholds</h2>";
        html += &table("thresholds", &["threshold", "verdict", "measured"], &rows);
        html += "</div>";
    }
    if let Some(v) = &s.verify {
        let supply = match (&v.expected_supply, &v.reported_supply) {
            (Some(e), Some(r)) => format!("{} (expected {})", escape(r), escape(e)),
            _ => "not checked".to_owned(),
        };
        let rows = vec![
            vec!["balances checked".to_owned(), v.checked.to_string()],
            vec!["match".to_owned(), v.matched.to_string()],
            vec!["differ".to_owned(), v.mismatched.to_string()],
            vec!["unread".to_owned(), v.unread.to_string()],
            vec!["token supply".to_owned(), supply],
        ];
        html += "<div><h2>Verify</h2>";
        html += &table("verify", &["against the chain", ""], &rows);
        html += "</div>";
    }
    let mut rows = vec![
        vec![
            "CPU".to_owned(),
            s.generator
                .cpu_s
                .map_or_else(|| "–".to_owned(), |c| format!("{c:.2} s")),
        ],
        vec![
            "peak RSS".to_owned(),
            s.generator.peak_rss_kib.map_or_else(
                || "–".to_owned(),
                |k| format!("{:.1} MiB", k as f64 / 1024.0),
            ),
        ],
    ];
    for (direction, error) in &s.send_error {
        rows.push(vec![
            format!(
                "{} send-time error p50 / p99 / max",
                direction.to_uppercase()
            ),
            error.map_or_else(
                || "–".to_owned(),
                |e| {
                    format!(
                        "{} / {} / {}",
                        fmt_micros(e.p50_us),
                        fmt_micros(e.p99_us),
                        fmt_micros(e.max_us)
                    )
                },
            ),
        ]);
    }
    html += "<div><h2>Generator</h2>";
    html += &table("generator", &["the generator's own", ""], &rows);
    html += "</div>";
    html
}

/// A configuration value as text: lists joined, absent values as a dash.
fn config_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "–".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(config_value)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The configuration as a grid of settings: many short values read better side by side than
/// in one tall table.
fn config_grid(folder: &RunFolder) -> String {
    let mut html = String::from("<dl id=\"config\">");
    for (key, value) in &folder.config {
        let _ = write!(
            html,
            "<div><dt>{}</dt><dd>{}</dd></div>",
            escape(key),
            escape(&config_value(value))
        );
    }
    html.push_str("</dl>");
    html
}

/// A capacity search: its verdict, then a row per step (the cluster's figures, what broke).
fn capacity_section(capacity: &super::folder::CapacityView) -> String {
    let verdict = match (capacity.held_post_rate, capacity.broke_post_rate) {
        (Some(held), Some(broke)) => format!(
            "held {held} POST/s; broke at {broke} POST/s: {}",
            capacity.broken.join("; ")
        ),
        (Some(held), None) => format!("held {held} POST/s; did not break within the steps"),
        (None, Some(broke)) => format!("not even the first step held: broke at {broke} POST/s"),
        (None, None) => "no step was judged".to_owned(),
    };
    let mut notes = vec![verdict];
    if let Some(node) = &capacity.first_node {
        notes.push(format!(
            "first to break: {node} ({})",
            capacity.first_node_broke.join("; ")
        ));
    }
    if let Some(limit) = &capacity.generator_limited {
        notes.push(format!(
            "the search stopped at the generator's limit: {limit}"
        ));
    }
    let rows: Vec<Vec<String>> = capacity
        .steps
        .iter()
        .map(|step| {
            let total = step.figures.iter().find(|f| f.scope == "total");
            let broke: Vec<String> = step
                .figures
                .iter()
                .flat_map(|f| {
                    f.broke.iter().map(move |what| {
                        if f.scope == "total" {
                            format!("cluster: {what}")
                        } else {
                            format!("{}: {what}", f.scope)
                        }
                    })
                })
                .collect();
            vec![
                step.index.to_string(),
                step.post_rate.to_string(),
                if step.held { "held" } else { "broke" }.to_owned(),
                total.map_or_else(|| "–".to_owned(), |f| format!("{:.1}", f.ok_per_s)),
                total.map_or_else(|| "–".to_owned(), |f| format!("{:.2} %", f.error_pct)),
                total
                    .and_then(|f| f.post_p99_ms)
                    .map_or_else(|| "–".to_owned(), |ms| format!("{ms:.1} ms")),
                escape(
                    &step
                        .generator_limited
                        .clone()
                        .unwrap_or_else(|| broke.join("; ")),
                ),
            ]
        })
        .collect();
    let mut html = String::from("<h2>Capacity search</h2>");
    for note in notes {
        let _ = write!(html, "<p>{}</p>", escape(&note));
    }
    html += &table(
        "capacity",
        &[
            "step",
            "POST/s set",
            "verdict",
            "POST ok/s",
            "errors",
            "POST p99",
            "what broke",
        ],
        &rows,
    );
    html
}

/// The shards a merged run was added from.
fn shards_table(merged: &crate::report::summary_json::MergedJson) -> String {
    let rows: Vec<Vec<String>> = merged
        .shards
        .iter()
        .map(|shard| {
            vec![
                shard.index.to_string(),
                escape(&shard.folder),
                escape(&format!("{:?}", shard.ending).to_lowercase()),
                shard
                    .skew_ms
                    .map_or_else(|| "–".to_owned(), |ms| format!("{ms:+.1} ms")),
            ]
        })
        .collect();
    format!(
        "<h2>Shards</h2>{}",
        table(
            "shards",
            &["shard", "folder", "ending", "load start, off --start-at"],
            &rows
        )
    )
}

/// The badge, its colour class and the line under the title that says why.
fn verdict(folder: &RunFolder) -> (&'static str, &'static str, String) {
    let s = &folder.summary;
    let failings = failings(folder);
    if !failings.is_empty() {
        ("did not pass", "bad", failings.join("; "))
    } else if s.thresholds.is_empty() && s.capacity.is_some() {
        (
            "capacity searched",
            "plain",
            "each step judged by --slo: see Capacity search".to_owned(),
        )
    } else if s.thresholds.is_empty() {
        (
            "completed",
            "plain",
            "no --threshold was set: latency and errors were not judged".to_owned(),
        )
    } else {
        ("passed", "good", String::new())
    }
}

/// The whole page.
#[must_use]
pub fn render(folder: &RunFolder, figures: &[Figure]) -> String {
    let s = &folder.summary;
    let (verdict, class, why) = verdict(folder);
    let mut origin = format!(
        "stress-tui {} · {} node(s) · {}",
        escape(&s.version),
        folder.node_labels().len(),
        match s.write_surface.as_ref().and_then(|w| w.surface.as_deref()) {
            Some(surface) => format!("writes /{}", escape(surface)),
            None => "reads only".to_owned(),
        }
    );
    if let Some(at) = folder.started {
        let _ = write!(origin, " · started {}", started_text(at));
    }
    let title = if let Some(merged) = &s.merged {
        let _ = write!(origin, " · merged from {} shards", merged.shards.len());
        format!("run {}, merged", merged.run_id)
    } else if let Some(shard) = &s.shard {
        let _ = write!(
            origin,
            " · shard {}/{}: its part of the run (stress-tui merge adds the shards)",
            shard.index, shard.count
        );
        format!(
            "run {}, shard {}/{}",
            shard.run_id, shard.index, shard.count
        )
    } else {
        format!("run {}", folder.name)
    };
    let mut notes = String::new();
    if !why.is_empty() {
        let _ = write!(notes, "<p class=\"why {class}\">{}</p>", escape(&why));
    }
    if !folder.missing.is_empty() {
        let _ = write!(
            notes,
            "<p class=\"why bad\">missing or empty here: {}; what they hold is not shown</p>",
            folder.missing.join(", ")
        );
    }
    let mut html = String::with_capacity(256 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>stress-tui {title}</title><style>{STYLE}</style></head><body>\
         <header><h1>stress-tui {title}<span class=\"verdict {class}\">{verdict}</span></h1>\
         <p>{origin}</p>{notes}</header><main>",
        title = escape(&title),
    );
    html += &cards(folder);
    html += "<h2>Over time</h2><div class=\"charts\">";
    let (time, spectra): (Vec<&Figure>, Vec<&Figure>) = figures
        .iter()
        .partition(|f| !f.name.starts_with("spectrum-"));
    for f in &time {
        html += &figure(f);
    }
    html += "</div><h2>Latency by percentile</h2><div class=\"charts\">";
    for f in &spectra {
        html += &figure(f);
    }
    html += "</div>";
    if let Some(capacity) = &s.capacity {
        html += &capacity_section(capacity);
    }
    if let Some(merged) = &s.merged {
        html += &shards_table(merged);
    }
    html += "<h2>Nodes</h2>";
    html += &nodes_table(folder);
    html += "<div class=\"tables\"><div><h2>Phases</h2>";
    html += &phases_table(folder);
    html += "</div><div><h2>Events</h2>";
    html += &events_table(folder);
    html += "</div>";
    html += &checks_tables(folder);
    html += "</div><h2>Configuration</h2>";
    html += &config_grid(folder);
    html += "<footer>Written by stress-tui from this folder's summary.json, \
             timeseries.csv, events.log and latency.hlog; `stress-tui report DIR` writes it \
             again.</footer></main></body></html>\n";
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
