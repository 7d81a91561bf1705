//! Drawing: `draw(frame, &App, &View)` is pure (no I/O, no locks, no clock). One pane a file;
//! the layout collapses the lower panes on short terminals and refuses terminals below
//! [`MIN_WIDTH`] x [`MIN_HEIGHT`] with a message.

mod errors;
mod events;
mod footer;
mod header;
mod histogram;
pub mod model;
mod nodes;
mod overlay;
mod phases;
mod tps;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::Color;
use ratatui::widgets::{Paragraph, Wrap};

pub use model::{NodeRow, PhaseLine, RateTracker, View};

use super::app::App;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// From this height on, the errors, phases and events panes are shown.
const TALL: u16 = 32;

/// The colour of the `index`th node in charts and the table.
#[must_use]
pub fn node_color(index: usize) -> Color {
    const PALETTE: [Color; 8] = [
        Color::Cyan,
        Color::Magenta,
        Color::Yellow,
        Color::Green,
        Color::Blue,
        Color::Red,
        Color::LightCyan,
        Color::LightMagenta,
    ];
    PALETTE[index % PALETTE.len()]
}

/// `items` packed into lines of `width` columns, `separator` between two on a line; an item
/// wider than a line gets a line of its own. Figures and words wrap whole, never cut.
pub(super) fn pack(items: &[String], separator: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(line)
                if line.chars().count() + separator.len() + item.chars().count() <= width =>
            {
                line.push_str(separator);
                line.push_str(item);
            }
            _ => lines.push(item.clone()),
        }
    }
    lines
}

/// Draws the whole dashboard.
pub fn draw(frame: &mut Frame, app: &App, view: &View) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: {}x{}; stress-tui needs at least {MIN_WIDTH}x{MIN_HEIGHT} (q quits)",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let rows = u16::try_from(view.nodes.len()).unwrap_or(u16::MAX);
    let nodes_height = rows.saturating_add(4).min(area.height / 3).max(5);
    let bottom_height = if area.height >= TALL {
        area.height / 4
    } else {
        0
    };
    let [
        header_area,
        nodes_area,
        charts_area,
        bottom_area,
        footer_area,
    ] = Layout::vertical([
        Constraint::Length(header::height(view, area.width)),
        Constraint::Length(nodes_height),
        Constraint::Min(6),
        Constraint::Length(bottom_height),
        Constraint::Length(1),
    ])
    .areas(area);
    header::draw(frame, header_area, app, view);
    nodes::draw(frame, nodes_area, app, view);
    let [tps_area, histogram_area] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
            .areas(charts_area);
    tps::draw(frame, tps_area, view);
    histogram::draw(frame, histogram_area, view);
    if bottom_height > 0 {
        let [errors_area, phases_area, events_area] = Layout::horizontal([
            Constraint::Percentage(30),
            Constraint::Percentage(25),
            Constraint::Percentage(45),
        ])
        .areas(bottom_area);
        errors::draw(frame, errors_area, view);
        phases::draw(frame, phases_area, view);
        events::draw(frame, events_area, view);
    }
    footer::draw(frame, footer_area, view);
    overlay::draw(frame, area, app);
}

#[cfg(test)]
mod tests;
