//! What the page charts, from a [`RunFolder`]: rates per node and in total, latency per second,
//! each operation's percentile spectrum per node, errors by class, missed and unfilled slots.
//! Each figure is named (`data-chart` on the page), so that a test can find it.

use super::chart::{self, Line, PALETTE, TimeMarks};
use super::folder::{RunFolder, SecondView, TOTAL};

/// One chart of the page, with its legend.
pub struct Figure {
    pub name: String,
    pub title: String,
    pub caption: String,
    pub svg: String,
    pub legend: Vec<(String, String, bool)>,
}

impl Figure {
    fn new(name: &str, title: &str, caption: String, svg: String, lines: &[Line]) -> Self {
        Self {
            name: name.to_owned(),
            title: title.to_owned(),
            caption,
            svg,
            legend: lines
                .iter()
                .map(|l| {
                    let c = l.color;
                    (
                        l.name.clone(),
                        format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2),
                        l.dashed,
                    )
                })
                .collect(),
        }
    }
}

/// Where a second's count is drawn: the middle of the second it was counted in.
fn at(row: &SecondView) -> f64 {
    row.second as f64 + 0.5
}

fn series<'a>(
    rows: impl Iterator<Item = &'a SecondView>,
    value: impl Fn(&SecondView) -> f64,
) -> Vec<(f64, f64)> {
    rows.map(|row| (at(row), value(row))).collect()
}

const TARGET: plotters::style::RGBColor = PALETTE[7];
const OFFERED: plotters::style::RGBColor = PALETTE[4];
const SENT: plotters::style::RGBColor = PALETTE[0];
const OK: plotters::style::RGBColor = PALETTE[2];
const CONFIRMED: plotters::style::RGBColor = PALETTE[1];

/// The run's phases (from shard 0's lines in a merged run) and its other events, numbered as
/// in the page's event table.
#[must_use]
pub fn time_marks(folder: &RunFolder) -> TimeMarks {
    let last_second = folder
        .seconds
        .iter()
        .map(|r| r.second as f64 + 1.0)
        .fold(0.0, f64::max);
    let last_event = folder.events.iter().map(|e| e.at).fold(0.0, f64::max);
    let end = last_second.max(last_event).max(1.0);
    let mut phases: Vec<(f64, f64, String)> = Vec::new();
    for event in &folder.events {
        let first_shard = !event.text.starts_with('[') || event.text.starts_with("[shard 0/");
        if let Some(phase) = event.phase().filter(|_| first_shard) {
            if let Some(last) = phases.last_mut() {
                last.1 = event.at;
            }
            if phase != "done" {
                phases.push((event.at, end, phase.to_owned()));
            }
        }
    }
    let events = numbered_events(folder)
        .into_iter()
        .map(|(number, at, _)| (number, at))
        .collect();
    TimeMarks {
        phases,
        events,
        end,
    }
}

/// The events that are not phase changes nor the run's first nodes: (number, time, text).
#[must_use]
pub fn numbered_events(folder: &RunFolder) -> Vec<(usize, f64, &str)> {
    folder
        .events
        .iter()
        .filter(|e| e.phase().is_none() && !e.text.contains("start with node "))
        .enumerate()
        .map(|(i, e)| (i + 1, e.at, e.text.as_str()))
        .collect()
}

/// Whether the timeseries' latency columns are GETs' (a run that sent no POSTs).
fn read_only(folder: &RunFolder) -> bool {
    folder
        .rows_of(TOTAL)
        .all(|r| r.post_offered == 0.0 && r.post_ok == 0.0)
}

/// Every figure of the page, in page order.
pub fn figures(folder: &RunFolder) -> anyhow::Result<Vec<Figure>> {
    let marks = time_marks(folder);
    let mut figures = Vec::new();
    if !read_only(folder) {
        figures.push(total_rates(folder, &marks, true)?);
    }
    if folder
        .rows_of(TOTAL)
        .any(|r| r.target_get > 0.0 || r.get_ok > 0.0)
    {
        figures.push(total_rates(folder, &marks, false)?);
    }
    for (index, node) in folder.node_labels().into_iter().enumerate() {
        figures.push(node_rates(folder, &marks, index, node)?);
    }
    figures.push(latency(folder, &marks, Percentile::P99)?);
    figures.push(latency(folder, &marks, Percentile::P50)?);
    figures.extend(spectra(folder)?);
    figures.push(errors(folder, &marks)?);
    figures.push(slots(folder, &marks)?);
    Ok(figures)
}

fn total_rates(folder: &RunFolder, marks: &TimeMarks, post: bool) -> anyhow::Result<Figure> {
    let rows = || folder.rows_of(TOTAL);
    let mut lines = if post {
        vec![
            Line::new("target", TARGET, series(rows(), |r| r.target_post)).dashed(),
            Line::new("offered", OFFERED, series(rows(), |r| r.post_offered)),
            Line::new("sent", SENT, series(rows(), |r| r.post_sent)),
            Line::new("ok", OK, series(rows(), |r| r.post_ok)),
            Line::new("confirmed", CONFIRMED, series(rows(), |r| r.confirmed)),
        ]
    } else {
        vec![
            Line::new("target", TARGET, series(rows(), |r| r.target_get)).dashed(),
            Line::new("offered", OFFERED, series(rows(), |r| r.get_offered)),
            Line::new("sent", SENT, series(rows(), |r| r.get_sent)),
            Line::new("ok", OK, series(rows(), |r| r.get_ok)),
        ]
    };
    lines.retain(|l| !l.points.is_empty());
    let (name, title, unit) = if post {
        ("post-rates", "POST rates, all nodes", "POST/s")
    } else {
        ("get-rates", "GET rates, all nodes", "GET/s")
    };
    let caption = "Requests a second: the target set (flags, keys, stages), the slots the \
                   pacers offered, the requests sent, those answered OK"
        .to_owned()
        + if post {
            ", and the transactions confirmed."
        } else {
            "."
        };
    let svg = chart::time_chart(unit, &lines, marks)?;
    Ok(Figure::new(name, title, caption, svg, &lines))
}

fn node_rates(
    folder: &RunFolder,
    marks: &TimeMarks,
    index: usize,
    node: &str,
) -> anyhow::Result<Figure> {
    let rows = || folder.rows_of(node);
    let lines = vec![
        Line::new("POST target", TARGET, series(rows(), |r| r.target_post)).dashed(),
        Line::new("POST sent", SENT, series(rows(), |r| r.post_sent)),
        Line::new("POST ok", OK, series(rows(), |r| r.post_ok)),
        Line::new("confirmed", CONFIRMED, series(rows(), |r| r.confirmed)),
        Line::new("GET target", PALETTE[8], series(rows(), |r| r.target_get)).dashed(),
        Line::new("GET ok", PALETTE[3], series(rows(), |r| r.get_ok)),
    ];
    let svg = chart::time_chart("requests/s", &lines, marks)?;
    Ok(Figure::new(
        &format!("node-rates-{}", index + 1),
        &format!("Node {}: {node}", index + 1),
        "This node's targets, POSTs sent and answered OK, transactions confirmed, GETs answered \
         OK, a second."
            .to_owned(),
        svg,
        &lines,
    ))
}

fn latency(folder: &RunFolder, marks: &TimeMarks, which: Percentile) -> anyhow::Result<Figure> {
    let pick = match which {
        Percentile::P99 => |r: &SecondView| r.p99_ms,
        Percentile::P50 => |r: &SecondView| r.p50_ms,
    };
    let mut lines: Vec<Line> = folder
        .node_labels()
        .into_iter()
        .enumerate()
        .map(|(index, node)| {
            let points = folder
                .rows_of(node)
                .filter_map(|r| pick(r).map(|v| (at(r), v)))
                .collect();
            Line::new(
                node_name(index, node),
                PALETTE[index % PALETTE.len()],
                points,
            )
        })
        .collect();
    let unit = readable_unit(&mut lines);
    let direction = if read_only(folder) { "GET" } else { "POST" };
    let name = which.name();
    let svg = chart::time_chart(&format!("{name}, {unit}"), &lines, marks)?;
    Ok(Figure::new(
        &format!("latency-{name}"),
        &format!("{direction} latency {name} per second, per node"),
        format!(
            "The {name} of the {direction}s answered in each second, from their intended send \
             time (a late generator does not hide a slow node); a gap is a second with no answer."
        ),
        svg,
        &lines,
    ))
}

/// Which per-second latency a chart draws.
#[derive(Clone, Copy)]
enum Percentile {
    P50,
    P99,
}

impl Percentile {
    fn name(self) -> &'static str {
        match self {
            Percentile::P50 => "p50",
            Percentile::P99 => "p99",
        }
    }
}

/// A node as the page names it: its number (as `--at` and thresholds count) and address.
fn node_name(index: usize, label: &str) -> String {
    format!("{} {label}", index + 1)
}

/// Milliseconds, or seconds (the lines' values divided) when the largest is 2 s or more.
fn readable_unit(lines: &mut [Line]) -> &'static str {
    if chart::highest(lines) < 2_000.0 {
        return "ms";
    }
    for point in lines.iter_mut().flat_map(|l| l.points.iter_mut()) {
        point.1 /= 1_000.0;
    }
    "s"
}

/// The operations of the spectra, the run's main ones first.
const OPERATION_ORDER: [&str; 6] = ["payment", "mint", "balance", "confirm", "grant", "issue"];

fn spectra(folder: &RunFolder) -> anyhow::Result<Vec<Figure>> {
    let mut operations: Vec<&str> = folder
        .spectra
        .keys()
        .filter_map(|tag| tag.rsplit_once('/').map(|(_, op)| op))
        .collect();
    operations.sort_by_key(|op| {
        (
            OPERATION_ORDER
                .iter()
                .position(|o| o == op)
                .unwrap_or(OPERATION_ORDER.len()),
            *op,
        )
    });
    operations.dedup();
    let mut figures = Vec::new();
    for op in operations {
        let mut lines = Vec::new();
        for (index, node) in folder.node_labels().into_iter().enumerate() {
            let Some(histogram) = folder.spectra.get(&format!("{node}/{op}")) else {
                continue;
            };
            if histogram.is_empty() {
                continue;
            }
            let mut points: Vec<(f64, f64)> = histogram
                .iter_quantiles(4)
                .map(|v| {
                    (
                        chart::percentile_x(v.quantile_iterated_to()),
                        v.value_iterated_to() as f64 / 1_000.0,
                    )
                })
                .collect();
            // The last step reaches q = 1; it is drawn at the next decade, as the max.
            let max_x = (histogram.len() as f64).log10().ceil().max(2.0);
            for point in &mut points {
                point.0 = point.0.min(max_x);
            }
            let samples = histogram.len();
            let label = format!(
                "{} ({samples} sample{})",
                node_name(index, node),
                if samples == 1 { "" } else { "s" }
            );
            lines.push(Line::new(label, PALETTE[index % PALETTE.len()], points));
        }
        if lines.is_empty() {
            continue;
        }
        let unit = readable_unit(&mut lines);
        let svg = chart::spectrum_chart(&format!("latency, {unit}"), &lines)?;
        figures.push(Figure::new(
            &format!("spectrum-{op}"),
            &format!("{op}: latency by percentile"),
            format!(
                "The whole run's {op} latency per node, from the HDR histograms of latency.hlog; \
                 each step right is ten times rarer (90 %, 99 %, 99.9 %)."
            ),
            svg,
            &lines,
        ));
    }
    Ok(figures)
}

/// The error classes of `timeseries.csv`, with the colour each keeps on every page.
/// A column of a `timeseries.csv` row.
type Column = fn(&SecondView) -> f64;

const ERROR_CLASSES: [(&str, Column); 7] = [
    ("rejected", |r| r.rejected),
    ("rate_limited", |r| r.rate_limited),
    ("server_error", |r| r.server_error),
    ("timeout", |r| r.timeout),
    ("connect", |r| r.connect),
    ("decode", |r| r.decode),
    ("lost", |r| r.lost),
];

/// What an error class means, for the chart's caption.
fn error_meaning(class: &str) -> &'static str {
    match class {
        "rejected" => "the node answered with an error",
        "rate_limited" => "429, too many requests",
        "server_error" => "a 5xx answer",
        "timeout" => "no answer within --request-timeout",
        "connect" => "no connection to the node",
        "decode" => "an answer that is not what the endpoint answers",
        "lost" => "the connection dropped after the request was sent",
        _ => "",
    }
}

fn errors(folder: &RunFolder, marks: &TimeMarks) -> anyhow::Result<Figure> {
    let rows = || folder.rows_of(TOTAL);
    let mut lines = vec![Line::new(
        "all errors",
        PALETTE[7],
        series(rows(), |r| r.errors),
    )];
    for (index, (class, value)) in ERROR_CLASSES.iter().enumerate() {
        if rows().any(|r| value(r) > 0.0) {
            lines.push(Line::new(*class, PALETTE[index], series(rows(), value)));
        }
    }
    let total: f64 = rows().map(|r| r.errors).sum();
    let caption = if total == 0.0 {
        "No request failed.".to_owned()
    } else {
        let classes: Vec<String> = ERROR_CLASSES
            .iter()
            .filter(|(_, value)| rows().any(|r| value(r) > 0.0))
            .map(|(class, _)| format!("{class}: {}", error_meaning(class)))
            .collect();
        format!(
            "{total:.0} requests failed, a second and by class ({}).",
            classes.join("; ")
        )
    };
    let svg = chart::time_chart("errors/s", &lines, marks)?;
    Ok(Figure::new(
        "errors",
        "Errors by class",
        caption,
        svg,
        &lines,
    ))
}

fn slots(folder: &RunFolder, marks: &TimeMarks) -> anyhow::Result<Figure> {
    let rows = || folder.rows_of(TOTAL);
    let lines = vec![
        Line::new("POST missed", PALETTE[5], series(rows(), |r| r.post_missed)),
        Line::new(
            "POST unfilled",
            PALETTE[6],
            series(rows(), |r| r.post_unfilled),
        ),
        Line::new("GET missed", PALETTE[3], series(rows(), |r| r.get_missed)),
        Line::new(
            "GET unfilled",
            PALETTE[4],
            series(rows(), |r| r.get_unfilled),
        ),
    ];
    let svg = chart::time_chart("slots/s", &lines, marks)?;
    Ok(Figure::new(
        "slots",
        "Missed and unfilled slots",
        "Missed: slots the pacers dropped (late beyond the schedule's lag, node down, in-flight \
         cap). Unfilled: slots with no account ready to send; the workload, not the nodes, held \
         the rate back."
            .to_owned(),
        svg,
        &lines,
    ))
}
