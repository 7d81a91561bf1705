//! Errors by class and by `error_code`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::View;

pub fn draw(frame: &mut Frame, area: Rect, view: &View) {
    let mut lines: Vec<Line> = Vec::new();
    if view.error_classes.is_empty() {
        lines.push(Line::from("no errors"));
    }
    for (class, count) in &view.error_classes {
        lines.push(Line::styled(
            format!("{class:<14}{count:>8}"),
            Style::default().fg(Color::Red),
        ));
    }
    for (code, count) in &view.error_codes {
        lines.push(Line::from(format!("  {code:<30}{count:>8}")));
    }
    if view.dropped_samples > 0 {
        lines.push(Line::from(format!(
            "samples dropped {}",
            view.dropped_samples
        )));
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Errors ")),
        area,
    );
}
