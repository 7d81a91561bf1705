//! The latency histogram of the selected node and operation (from the intended send time),
//! with its percentiles.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph};

use super::View;
use crate::report::fmt_micros;

pub fn draw(frame: &mut Frame, area: Rect, view: &View) {
    let block =
        Block::bordered().title(format!(" Latency: {} (o: next op) ", view.histogram_title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [numbers, chart] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
    let p = view.histogram.latency;
    let text = format!(
        "n {}  p50 {}  p90 {}  p99 {}  p99.9 {}\nmax {}  ok {}  errors {}",
        p.count,
        fmt_micros(p.p50),
        fmt_micros(p.p90),
        fmt_micros(p.p99),
        fmt_micros(p.p999),
        fmt_micros(p.max),
        view.histogram.ok,
        view.histogram.error_count()
    );
    frame.render_widget(Paragraph::new(text), numbers);
    if view.histogram.buckets.is_empty() || chart.height == 0 {
        return;
    }
    // As many buckets as fit, merged pairwise when the pane is narrow.
    let fit = usize::from(chart.width / 4).max(1);
    let merge = view.histogram.buckets.len().div_ceil(fit);
    let bars: Vec<Bar> = view
        .histogram
        .buckets
        .chunks(merge)
        .map(|chunk| {
            let count: u64 = chunk.iter().map(|(_, c)| c).sum();
            let upper = chunk.last().map_or(0, |(u, _)| *u);
            Bar::default()
                .value(count)
                .text_value(String::new())
                .label(ratatui::text::Line::from(fmt_micros(upper)))
        })
        .collect();
    let width = u16::try_from(
        (usize::from(chart.width) / bars.len().max(1))
            .saturating_sub(1)
            .max(1),
    )
    .unwrap_or(1);
    let chart_widget = BarChart::default()
        .data(BarGroup::default().bars(&bars))
        .bar_width(width)
        .bar_gap(1)
        .bar_style(Style::default().fg(Color::Cyan));
    frame.render_widget(chart_widget, chart);
}
