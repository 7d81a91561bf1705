//! The latency histogram of the selected node and operation (from the intended send time),
//! with its percentiles. Figures are never cut: the percentiles wrap between figures, and the
//! axis under the bars names only the bucket bounds that fit whole, the last one always.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph};

use super::{View, pack};
use crate::report::fmt_micros;

/// The axis under `bars` bars of `bar_width` columns (and a gap of 1), `width` columns wide:
/// each label starts under its bar, the last is right-aligned under the last bar, and a label
/// that would touch its neighbour is left out.
fn axis(labels: &[String], bar_width: usize, width: usize) -> String {
    let mut row = vec![' '; width];
    let Some(last) = labels.last() else {
        return String::new();
    };
    let last_len = last.chars().count();
    let last_end = (labels.len() * (bar_width + 1))
        .saturating_sub(1)
        .min(width);
    let last_start = last_end.saturating_sub(last_len);
    let mut free_from = 0;
    for (i, label) in labels.iter().enumerate().take(labels.len() - 1) {
        let start = i * (bar_width + 1);
        let end = start + label.chars().count();
        if start >= free_from && end + 1 < last_start {
            row.splice(start..end, label.chars());
            free_from = end + 2;
        }
    }
    if last_len <= width {
        row.splice(last_start..last_start + last_len, last.chars());
    }
    row.into_iter().collect::<String>().trim_end().to_owned()
}

pub fn draw(frame: &mut Frame, area: Rect, view: &View) {
    let block = Block::bordered().title(format!(" Latency {} (o: next) ", view.histogram_title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let p = view.histogram.latency;
    let figures = if p.count == 0 {
        vec![
            "no answers yet for this operation".to_owned(),
            format!("errors {}", view.histogram.error_count()),
        ]
    } else {
        vec![
            format!("n {}", p.count),
            format!("p50 {}", fmt_micros(p.p50)),
            format!("p90 {}", fmt_micros(p.p90)),
            format!("p99 {}", fmt_micros(p.p99)),
            format!("p99.9 {}", fmt_micros(p.p999)),
            format!("max {}", fmt_micros(p.max)),
            format!("ok {}", view.histogram.ok),
            format!("errors {}", view.histogram.error_count()),
        ]
    };
    let lines = pack(&figures, "  ", usize::from(inner.width));
    let height = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let [numbers, chart, labels] = Layout::vertical([
        Constraint::Length(height),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines.join("\n")), numbers);
    if view.histogram.buckets.is_empty() || chart.height == 0 {
        return;
    }
    // As many buckets as fit, merged pairwise when the pane is narrow.
    let fit = usize::from(chart.width / 4).max(1);
    let merge = view.histogram.buckets.len().div_ceil(fit);
    let buckets: Vec<(u64, u64)> = view
        .histogram
        .buckets
        .chunks(merge)
        .map(|chunk| {
            let count: u64 = chunk.iter().map(|(_, c)| c).sum();
            (chunk.last().map_or(0, |(u, _)| *u), count)
        })
        .collect();
    let bars: Vec<Bar> = buckets
        .iter()
        .map(|(_, count)| Bar::default().value(*count).text_value(String::new()))
        .collect();
    let bar_width = (usize::from(chart.width) / bars.len().max(1))
        .saturating_sub(1)
        .max(1);
    let chart_widget = BarChart::default()
        .data(BarGroup::default().bars(&bars))
        .bar_width(u16::try_from(bar_width).unwrap_or(1))
        .bar_gap(1)
        .bar_style(Style::default().fg(Color::Cyan));
    frame.render_widget(chart_widget, chart);
    let bounds: Vec<String> = buckets
        .iter()
        .map(|(upper, _)| fmt_micros(*upper))
        .collect();
    let axis = axis(&bounds, bar_width, usize::from(labels.width));
    frame.render_widget(Paragraph::new(axis), labels);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_are_whole_and_the_last_is_always_shown() {
        let labels: Vec<String> = ["1.0ms", "1.3ms", "1.7ms", "2.2ms", "15.1ms", "160.8ms"]
            .map(str::to_owned)
            .to_vec();
        let row = axis(&labels, 3, 24);
        assert_eq!(row, "1.0ms   1.7ms   160.8ms");
        for word in row.split_whitespace() {
            assert!(
                labels.iter().any(|l| l == word),
                "`{word}` is a whole label"
            );
        }
    }
}
