//! TPS over the last minute: POST requests (GETs in a read-only run) completed a second, per
//! node and in total.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType};

use super::{View, node_color};

pub fn draw(frame: &mut Frame, area: Rect, view: &View) {
    let (mut low, mut high, mut top) = (f64::MAX, 0.0f64, 1.0f64);
    for (_, points) in &view.tps {
        for &(x, y) in points {
            low = low.min(x);
            high = high.max(x);
            top = top.max(y);
        }
    }
    if low > high {
        (low, high) = (0.0, 60.0);
    }
    let high = high.max(low + 1.0);
    let datasets: Vec<Dataset> = view
        .tps
        .iter()
        .enumerate()
        .map(|(i, (label, points))| {
            let color = if label == "total" {
                Color::White
            } else {
                node_color(i)
            };
            Dataset::default()
                .name(label.clone())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(color))
                .data(points)
        })
        .collect();
    let top = (top * 1.15).ceil();
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(format!(
            " {} TPS, last 60 s ",
            view.focus.as_str().to_uppercase()
        )))
        .x_axis(
            Axis::default()
                .bounds([low, high])
                .labels([format!("{low:.0}s"), format!("{high:.0}s")]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels(["0".to_owned(), format!("{top:.0}")]),
        );
    frame.render_widget(chart, area);
}
