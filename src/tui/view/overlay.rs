//! Overlays over the dashboard: the help (every key), text inputs with their inline errors,
//! and the removal confirmation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::TextInput;
use crate::tui::app::{App, Mode};
use crate::tui::keymap::NORMAL;

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

fn popup(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, width: u16) {
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title.to_owned())),
        rect,
    );
}

fn input_lines(prompt: &str, input: &TextInput) -> Vec<Line<'static>> {
    // A value the prompt opened with is shown selected (reversed), as typing replaces it.
    let value = if input.selected {
        Line::from(vec![
            Span::raw("> "),
            Span::styled(
                input.text.clone(),
                Style::default().add_modifier(Modifier::REVERSED),
            ),
            Span::styled(
                "  (typing replaces it)",
                Style::default().fg(Color::DarkGray),
            ),
        ])
    } else {
        Line::from(format!("> {}_", input.text))
    };
    let mut lines = vec![Line::from(prompt.to_owned()), value];
    if let Some(error) = &input.error {
        lines.push(Line::styled(error.clone(), Style::default().fg(Color::Red)));
    }
    lines.push(Line::from("Enter applies, Esc cancels"));
    lines
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    match &app.mode {
        Mode::Normal => {}
        Mode::Help => {
            let mut lines: Vec<Line> = NORMAL
                .iter()
                .map(|b| Line::from(format!("{:<16} {}", b.shown, b.does)))
                .collect();
            lines.push(Line::from(""));
            lines.push(Line::from("any key closes this help"));
            popup(frame, area, " Keys ", lines, 72);
        }
        Mode::EditRate { node, input } => {
            let prompt = match node {
                Some(_) => "rates of the selected node, POST[/GET] per second:",
                None => "total rates, split evenly, POST[/GET] per second:",
            };
            popup(frame, area, " Set rate ", input_lines(prompt, input), 60);
        }
        Mode::AddNode { input } => {
            let lines = input_lines("node to add: host:port or http(s)://host[:port]", input);
            popup(frame, area, " Add node ", lines, 64);
        }
        Mode::ConfirmRemove { label, .. } => {
            let lines = vec![
                Line::from(format!("remove {label} from the run?")),
                Line::from("y removes, any other key keeps it"),
            ];
            popup(frame, area, " Remove node ", lines, 50);
        }
    }
}
