//! The footer: the main keys, from the keymap's table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::Paragraph;

use super::View;
use crate::tui::keymap;

pub fn draw(frame: &mut Frame, area: Rect, view: &View) {
    let keys = keymap::footer(view.finished);
    frame.render_widget(
        Paragraph::new(keys).style(Style::default().fg(Color::Black).bg(Color::Gray)),
        area,
    );
}
