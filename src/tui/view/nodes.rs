//! The nodes table: one row per node with health, target rates, achieved TPS, latency,
//! errors, in-flight and schedule lag; the selected row highlighted; a total row.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

use super::{NodeRow, View, node_color};
use crate::engine::Health;
use crate::model::Direction;
use crate::report::fmt_micros;
use crate::tui::app::App;

fn health(row: &NodeRow) -> (&'static str, Color) {
    match row.health {
        Some(Health::Healthy) => ("up", Color::Green),
        Some(Health::Degraded) => ("slow", Color::Yellow),
        Some(Health::Down) => ("DOWN", Color::Red),
        None => ("", Color::Reset),
    }
}

fn cells(row: &NodeRow, wide: bool) -> Vec<Cell<'static>> {
    let (health_text, health_color) = health(row);
    let mut cells = vec![
        Cell::from(row.label.clone()),
        Cell::from(health_text).style(Style::default().fg(health_color)),
        Cell::from(
            if row.effective.post == row.target.post || row.label == "total" {
                row.target.post.to_string()
            } else {
                format!("{}→{}", row.target.post, row.effective.post)
            },
        ),
    ];
    if wide {
        cells.push(Cell::from(row.target.get.to_string()));
        cells.push(Cell::from(format!("{:.0}", row.offered)));
    }
    cells.extend([
        Cell::from(format!("{:.0}", row.sent)),
        Cell::from(format!("{:.0}", row.ok)),
        Cell::from(format!("{:.0}", row.confirmed)),
        Cell::from(fmt_micros(row.p50_us)),
        Cell::from(fmt_micros(row.p99_us)),
        Cell::from(row.errors.to_string()).style(if row.errors > 0 {
            Style::default().fg(Color::Red)
        } else {
            Style::default()
        }),
    ]);
    if wide {
        cells.push(Cell::from(row.in_flight.to_string()));
        cells.push(Cell::from(fmt_micros(row.lag_us)));
    }
    cells
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, view: &View) {
    let wide = area.width >= 110;
    let mut header = vec!["node", "health", "POST/s"];
    let mut widths = vec![
        Constraint::Length(22),
        Constraint::Length(6),
        Constraint::Length(7),
    ];
    if wide {
        header.extend(["GET/s", "offered"]);
        widths.extend([Constraint::Length(7), Constraint::Length(8)]);
    }
    header.extend(["sent/s", "ok/s", "conf/s", "p50", "p99", "errors"]);
    widths.extend([
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(7),
    ]);
    if wide {
        header.extend(["in-fl", "lag"]);
        widths.extend([Constraint::Length(6), Constraint::Length(8)]);
    }
    let mut rows: Vec<Row> = view
        .nodes
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut cells = cells(row, wide);
            cells[0] = Cell::from(row.label.clone()).style(Style::default().fg(node_color(i)));
            Row::new(cells)
        })
        .collect();
    rows.push(
        Row::new(cells(&view.total, wide)).style(Style::default().add_modifier(Modifier::BOLD)),
    );
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(Style::default().add_modifier(Modifier::UNDERLINED)))
        .block(
            Block::bordered()
                .title(format!(
                    " Nodes{} (↑↓ select, +/- POST, ]/[ GET, r rate, a add, d remove; a down node's share: {}) ",
                    if view.focus == Direction::Get { ": GETs (read-only run)" } else { "" },
                    view.policy
                )),
        )
        .row_highlight_style(
            Style::default()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD),
        )
        .highlight_symbol("▶ ");
    let mut state = TableState::default()
        .with_selected(Some(app.selected.min(view.nodes.len().saturating_sub(1))));
    frame.render_stateful_widget(table, area, &mut state);
}
