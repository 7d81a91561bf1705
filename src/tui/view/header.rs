//! Header: phase and progress, the write surface and the nodes' modes, elapsed time, total
//! offered / sent / ok / confirmed TPS, errors, pause state, the last command's outcome, and,
//! while the workload (not the nodes) holds the POST rate back, why (a row or two more).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::View;
use crate::tui::app::App;

fn bar(done: u64, total: u64, width: usize) -> String {
    let filled = (done.min(total) * width as u64)
        .checked_div(total)
        .map_or(0, |f| usize::try_from(f).unwrap_or(width));
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

/// The note on why the workload holds the rate back, wrapped to `width`: empty when it does not.
fn note_lines(view: &View, width: u16) -> Vec<String> {
    view.held_back.as_ref().map_or_else(Vec::new, |note| {
        let words: Vec<String> = format!("▲ {note}")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        super::pack(&words, " ", usize::from(width.saturating_sub(1)))
    })
}

/// Rows the header needs at `width`: three, and the note's while the workload holds the rate.
pub fn height(view: &View, width: u16) -> u16 {
    3 + u16::try_from(note_lines(view, width).len()).unwrap_or(0)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, view: &View) {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut first = vec![
        Span::styled(" stress-tui ", bold.fg(Color::Black).bg(Color::Cyan)),
        Span::raw(format!(" {:>5}s  phase ", view.elapsed_s)),
        Span::styled(view.phase.clone(), bold),
        Span::raw(format!(
            " {} {}/{}",
            bar(view.phase_done, view.phase_total, 20),
            view.phase_done,
            view.phase_total
        )),
    ];
    if view.phase_failed > 0 {
        first.push(Span::styled(
            format!(" ({} failed)", view.phase_failed),
            Style::default().fg(Color::Red),
        ));
    }
    if !view.surface.is_empty() {
        first.push(Span::raw(format!("  {}", view.surface)));
    }
    if view.paused {
        first.push(Span::styled("  PAUSED", bold.fg(Color::Yellow)));
    }
    if !view.nodes.is_empty()
        && view
            .nodes
            .iter()
            .all(|n| n.health == Some(crate::engine::Health::Down))
    {
        first.push(Span::styled(
            "  ALL NODES DOWN: waiting",
            bold.fg(Color::Red),
        ));
    }
    if view.finished {
        first.push(Span::styled("  FINISHED (q exits)", bold.fg(Color::Green)));
    }
    let t = &view.total;
    let second = Line::from(format!(
        " target {}/s POST {}/s GET │ offered {:.0}/s  sent {:.0}/s  ok {:.0}/s  confirmed {:.0}/s │ p99 {}",
        t.target.post,
        t.target.get,
        t.offered,
        t.sent,
        t.ok,
        t.confirmed,
        crate::report::fmt_micros(t.p99_us)
    ));
    let errors: u64 = view.error_classes.iter().map(|(_, n)| n).sum();
    let mut third = vec![Span::styled(
        format!(" errors {errors}"),
        if errors > 0 {
            Style::default().fg(Color::Red)
        } else {
            Style::default()
        },
    )];
    for (class, count) in view.error_classes.iter().filter(|(_, n)| *n > 0) {
        third.push(Span::raw(format!(" {class}={count}")));
    }
    if let Some(failure) = &view.failure {
        third.push(Span::styled(
            format!("  FAILED: {failure}"),
            Style::default().fg(Color::Red),
        ));
    }
    if let Some((message, is_error)) = &app.message {
        let style = if *is_error {
            Style::default().fg(Color::Red)
        } else {
            Style::default().fg(Color::Green)
        };
        third.push(Span::styled(format!("  │ {message}"), style));
    }
    let mut lines = vec![Line::from(first), second, Line::from(third)];
    let note = Style::default().fg(Color::Yellow);
    for line in note_lines(view, area.width) {
        lines.push(Line::styled(format!(" {line}"), note));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
