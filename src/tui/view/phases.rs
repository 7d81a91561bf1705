//! One gauge per phase: finished phases full, the current one partial.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::widgets::{Block, LineGauge};

use super::View;

pub fn draw(frame: &mut Frame, area: Rect, view: &View) {
    let block = Block::bordered().title(" Phases ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = Layout::vertical(vec![Constraint::Length(1); view.phases.len()]).split(inner);
    for (line, row) in view.phases.iter().zip(rows.iter()) {
        let ratio = if line.total == 0 {
            if line.finished { 1.0 } else { 0.0 }
        } else {
            (line.done as f64 / line.total as f64).min(1.0)
        };
        let color = if line.finished {
            Color::Green
        } else {
            Color::Cyan
        };
        let gauge = LineGauge::default()
            .filled_style(Style::default().fg(color))
            .label(format!(
                "{:<9}{:>6}/{:<6}",
                line.phase, line.done, line.total
            ))
            .ratio(ratio);
        frame.render_widget(gauge, *row);
    }
}
