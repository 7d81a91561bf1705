//! The footer: the main keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::Paragraph;

use super::View;

pub fn draw(frame: &mut Frame, area: Rect, view: &View) {
    let keys = if view.finished {
        " q quit │ ? help │ the run has ended: every result is written"
    } else {
        " q quit │ ? help │ ↑↓ select │ +/- rate │ r set rate │ T/t total │ a add │ d remove │ p pause │ e export"
    };
    frame.render_widget(
        Paragraph::new(keys).style(Style::default().fg(Color::Black).bg(Color::Gray)),
        area,
    );
}
