//! The event log: live commands and node changes, newest at the bottom.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::View;

pub fn draw(frame: &mut Frame, area: Rect, view: &View) {
    let visible = usize::from(area.height.saturating_sub(2));
    let start = view.events.len().saturating_sub(visible);
    let lines: Vec<Line> = view.events[start..]
        .iter()
        .map(|e| Line::from(e.clone()))
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Events ")),
        area,
    );
}
