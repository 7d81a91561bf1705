//! Snapshots of every pane and of the whole screen at 80x24 and 160x48, drawn from a fixed
//! fixture through ratatui's `TestBackend`.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use super::model::{NodeRow, PhaseLine, View};
use super::{draw, errors, events, footer, header, histogram, nodes, phases, tps};
use crate::engine::Health;
use crate::model::PerDirection;
use crate::stats::{Classic, OpSnapshot, Percentiles};
use crate::tui::TextInput;
use crate::tui::app::{App, Mode};

fn row(id: u32, label: &str, health: Health, post: u32, sent: f64, errors: u64) -> NodeRow {
    NodeRow {
        id,
        label: label.to_owned(),
        health: Some(health),
        target: PerDirection {
            post,
            get: post * 2,
        },
        effective: PerDirection {
            post: if id == 1 { post + 83 } else { post },
            get: post * 2,
        },
        offered: sent + 1.0,
        sent,
        unfilled: 0.0,
        ok: (sent - errors as f64).max(0.0),
        confirmed: (sent - 2.0).max(0.0),
        p50_us: 1_700 + u64::from(id) * 100,
        p99_us: 4_100 + u64::from(id) * 1_000,
        errors,
        in_flight: 3 + u64::from(id),
        lag_us: 250,
    }
}

// A fixture is a long literal by nature.
#[allow(clippy::too_many_lines)]
fn fixture() -> View {
    let nodes = vec![
        row(0, "127.0.0.1:18555", Health::Healthy, 167, 166.0, 0),
        row(1, "127.0.0.1:18556", Health::Degraded, 167, 150.0, 12),
        row(2, "127.0.0.1:18557", Health::Down, 166, 0.0, 40),
    ];
    let total = NodeRow {
        label: "total".to_owned(),
        target: PerDirection {
            post: 500,
            get: 1000,
        },
        offered: 319.0,
        sent: 316.0,
        ok: 264.0,
        confirmed: 310.0,
        p50_us: 1_900,
        p99_us: 6_100,
        errors: 52,
        in_flight: 12,
        lag_us: 250,
        ..NodeRow::default()
    };
    let series = |base: f64| {
        (0..30)
            .map(|s| (f64::from(s), base + f64::from(s % 5) * 3.0))
            .collect::<Vec<_>>()
    };
    View {
        focus: crate::model::Direction::Post,
        elapsed_s: 95,
        phase: "transfer".to_owned(),
        phase_done: 5_120,
        phase_total: 8_000,
        phase_failed: 0,
        phases: vec![
            PhaseLine {
                phase: "issue".to_owned(),
                done: 1,
                total: 1,
                finished: true,
            },
            PhaseLine {
                phase: "grant".to_owned(),
                done: 20,
                total: 20,
                finished: true,
            },
            PhaseLine {
                phase: "mint".to_owned(),
                done: 2_000,
                total: 2_000,
                finished: true,
            },
            PhaseLine {
                phase: "transfer".to_owned(),
                done: 5_120,
                total: 8_000,
                finished: false,
            },
        ],
        paused: false,
        policy: "redistribute".to_owned(),
        finished: false,
        failure: None,
        nodes,
        total,
        tps: vec![
            ("127.0.0.1:18555".to_owned(), series(160.0)),
            ("127.0.0.1:18556".to_owned(), series(140.0)),
            ("127.0.0.1:18557".to_owned(), series(0.0)),
            ("total".to_owned(), series(300.0)),
        ],
        histogram_title: "payment · 127.0.0.1:18555".to_owned(),
        histogram: OpSnapshot {
            count: 5_120,
            ok: 5_120,
            errors: std::collections::BTreeMap::new(),
            latency: Percentiles {
                count: 5_120,
                min: 900,
                p50: 1_700,
                p90: 2_300,
                p99: 4_100,
                p999: 8_200,
                max: 12_000,
                mean: 1_850,
            },
            service: Percentiles::default(),
            buckets: vec![
                (1_000, 40),
                (1_300, 600),
                (1_700, 2_100),
                (2_200, 1_600),
                (2_900, 500),
                (3_800, 180),
                (5_000, 70),
                (6_500, 20),
                (8_500, 7),
                (12_000, 3),
            ],
            classic: Classic::default(),
        },
        error_classes: vec![("connect".to_owned(), 40), ("rate_limited".to_owned(), 12)],
        error_codes: vec![
            ("connect".to_owned(), 40),
            ("rate_limit_exceeded".to_owned(), 12),
        ],
        surface: String::new(),
        events: vec![
            "   0.0s start with node 127.0.0.1:18555 at 167 POST/s, 334 GET/s".to_owned(),
            "  41.2s set 127.0.0.1:18556 to 200 POST/s, 334 GET/s".to_owned(),
            "  60.0s paused".to_owned(),
            "  63.5s resumed".to_owned(),
        ],
        dropped_samples: 0,
        held_back: None,
    }
}

fn render(
    width: u16,
    height: u16,
    paint: impl FnOnce(&mut ratatui::Frame),
) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(paint).unwrap();
    terminal
}

fn pane(
    width: u16,
    height: u16,
    paint: impl FnOnce(&mut ratatui::Frame, Rect),
) -> Terminal<TestBackend> {
    render(width, height, |frame| {
        let area = frame.area();
        paint(frame, area);
    })
}

#[test]
fn whole_screen_80x24() {
    let terminal = render(80, 24, |f| draw(f, &App::default(), &fixture()));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn whole_screen_160x48() {
    let app = App {
        selected: 1,
        ..App::default()
    };
    let terminal = render(160, 48, |f| draw(f, &app, &fixture()));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn too_small_gets_a_message() {
    let terminal = render(50, 12, |f| draw(f, &App::default(), &fixture()));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn header_pane() {
    let app = App {
        message: Some(("refused: no node 9 in the pool".to_owned(), true)),
        ..App::default()
    };
    let view = View {
        paused: true,
        ..fixture()
    };
    insta::assert_snapshot!(pane(120, 3, |f, a| header::draw(f, a, &app, &view)).backend());
}

#[test]
fn header_shows_the_write_surface_and_modes() {
    let view = View {
        surface: "writes /v2: dual 3, v2_only 1".to_owned(),
        ..fixture()
    };
    let shown = pane(140, 3, |f, a| header::draw(f, a, &App::default(), &view))
        .backend()
        .to_string();
    assert!(shown.contains("writes /v2: dual 3, v2_only 1"), "{shown}");
}

#[test]
fn the_header_says_when_the_workload_holds_the_rate_back() {
    use super::model::held_back_note;
    use crate::model::Phase;
    // 20 mint wallets, one transaction in flight each: ~55/s offered against 500/s.
    let note = held_back_note(Phase::Mint, false, 500, 445.0);
    let view = View {
        phase: "mint".to_owned(),
        held_back: note.clone(),
        ..fixture()
    };
    let height = header::height(&view, 80);
    assert_eq!(height, 5, "two more rows at 80 columns");
    let terminal = pane(80, height, |f, a| {
        header::draw(f, a, &App::default(), &view);
    });
    insta::assert_snapshot!(terminal.backend());
    let shown = rows_of(&terminal).join(" ");
    for words in [
        "the workload holds the rate back: 445 of 500 POST slots/s find no account ready",
        "(each awaits confirmation): raise --in-flight-per-account or the wallets",
    ] {
        assert!(shown.contains(words), "{shown}");
    }
    // Not while the nodes are the limit, paused, or in phases without accounts to wait for.
    assert_eq!(held_back_note(Phase::Sustained, false, 500, 20.0), None);
    assert_eq!(held_back_note(Phase::Mint, true, 500, 445.0), None);
    assert_eq!(held_back_note(Phase::Grant, false, 500, 445.0), None);
    assert_eq!(held_back_note(Phase::Verify, false, 500, 445.0), None);
    assert!(held_back_note(Phase::Sustained, false, 500, 60.0).is_some());
    let quiet = View {
        held_back: None,
        ..view
    };
    assert_eq!(header::height(&quiet, 80), 3);
}

#[test]
fn nodes_pane_narrow_and_wide() {
    let app = App {
        selected: 2,
        ..App::default()
    };
    insta::assert_snapshot!(
        "nodes_narrow",
        pane(80, 7, |f, a| nodes::draw(f, a, &app, &fixture())).backend()
    );
    insta::assert_snapshot!(
        "nodes_wide",
        pane(140, 7, |f, a| nodes::draw(f, a, &app, &fixture())).backend()
    );
}

#[test]
fn read_only_run_labels_nodes_and_tps_as_gets() {
    let view = View {
        focus: crate::model::Direction::Get,
        ..fixture()
    };
    insta::assert_snapshot!(
        "read_only_nodes_and_tps",
        render(140, 20, |f| {
            let [top, bottom] = ratatui::layout::Layout::vertical([
                ratatui::layout::Constraint::Length(7),
                ratatui::layout::Constraint::Fill(1),
            ])
            .areas(f.area());
            nodes::draw(f, top, &App::default(), &view);
            tps::draw(f, bottom, &view);
        })
        .backend()
    );
}

#[test]
fn tps_pane() {
    insta::assert_snapshot!(pane(70, 12, |f, a| tps::draw(f, a, &fixture())).backend());
}

#[test]
fn histogram_pane() {
    insta::assert_snapshot!(pane(50, 12, |f, a| histogram::draw(f, a, &fixture())).backend());
}

/// A pane's rows as text, borders cut off.
fn rows_of(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    let width = usize::from(buffer.area.width);
    buffer
        .content()
        .chunks(width)
        .map(|row| {
            let text: String = row.iter().map(ratatui::buffer::Cell::symbol).collect();
            text.trim_matches(|c| c == '│' || c == ' ').to_owned()
        })
        .collect()
}

#[test]
fn a_rate_prompt_shows_its_value_selected_until_typing_replaces_it() {
    let shown = |input: TextInput| {
        let app = App {
            mode: Mode::EditRate { node: None, input },
            ..App::default()
        };
        render(80, 24, |f| draw(f, &app, &fixture()))
    };
    let opened = shown(TextInput::with_text("220/600".to_owned()));
    let buffer = opened.backend().buffer().clone();
    let text = rows_of(&opened).join("\n");
    assert!(text.contains("> 220/600  (typing replaces it)"), "{text}");
    let width = usize::from(buffer.area.width);
    let cell = buffer
        .content()
        .chunks(width)
        .find_map(|row| {
            let symbols: Vec<&str> = row.iter().map(ratatui::buffer::Cell::symbol).collect();
            let at = symbols.windows(3).position(|w| w == [">", " ", "2"])?;
            Some(&row[at + 2])
        })
        .expect("the prompt's value");
    assert!(
        cell.modifier.contains(ratatui::style::Modifier::REVERSED),
        "the value is drawn selected"
    );
    let mut typed = TextInput::with_text("220/600".to_owned());
    typed.push('3');
    let text = rows_of(&shown(typed)).join("\n");
    assert!(text.contains("> 3_"), "{text}");
}

#[test]
fn figures_wrap_between_figures() {
    let figures = ["n 5120", "p50 1.7ms", "p99.9 8.5ms"].map(str::to_owned);
    assert_eq!(
        super::pack(&figures, "  ", 20),
        ["n 5120  p50 1.7ms", "p99.9 8.5ms"]
    );
    assert_eq!(
        super::pack(&figures, "  ", 5),
        ["n 5120", "p50 1.7ms", "p99.9 8.5ms"]
    );
}

#[test]
fn histogram_figures_are_never_cut_at_any_width() {
    for width in 24..=90 {
        let rows = rows_of(&pane(width, 14, |f, a| histogram::draw(f, a, &fixture())));
        let text = rows.join("\n");
        for figure in ["p50 1.7ms", "p99.9 8.2ms", "max 12.0ms", "errors 0"] {
            assert!(
                text.contains(figure),
                "width {width}: `{figure}` whole in\n{text}"
            );
        }
        // The axis is the last row inside the border: whole durations, the largest bound last.
        let axis = &rows[rows.len() - 2];
        let words: Vec<&str> = axis.split_whitespace().collect();
        assert_eq!(words.last(), Some(&"12.0ms"), "width {width}: {axis}");
        for word in words {
            assert!(
                word.ends_with("ms") || word.ends_with("µs"),
                "width {width}: `{word}` is a whole duration in `{axis}`"
            );
        }
    }
}

#[test]
fn errors_phases_events_footer_panes() {
    insta::assert_snapshot!(
        "errors",
        pane(48, 8, |f, a| errors::draw(f, a, &fixture())).backend()
    );
    insta::assert_snapshot!(
        "phases",
        pane(40, 6, |f, a| phases::draw(f, a, &fixture())).backend()
    );
    insta::assert_snapshot!(
        "events",
        pane(70, 6, |f, a| events::draw(f, a, &fixture())).backend()
    );
    insta::assert_snapshot!(
        "footer",
        pane(120, 1, |f, a| footer::draw(f, a, &fixture())).backend()
    );
}

#[test]
fn overlays() {
    let help = App {
        mode: Mode::Help,
        ..App::default()
    };
    insta::assert_snapshot!(
        "help_overlay",
        render(80, 24, |f| draw(f, &help, &fixture())).backend()
    );
    let adding = App {
        mode: Mode::AddNode {
            input: TextInput {
                text: "127.0.0.1:99999".to_owned(),
                error: Some(
                    "`127.0.0.1:99999`: port `99999` is not a number from 1 to 65535".to_owned(),
                ),
                selected: false,
            },
        },
        ..App::default()
    };
    insta::assert_snapshot!(
        "add_node_error",
        render(80, 24, |f| draw(f, &adding, &fixture())).backend()
    );
    let confirm = App {
        mode: Mode::ConfirmRemove {
            node: 1,
            label: "127.0.0.1:18556".to_owned(),
        },
        ..App::default()
    };
    insta::assert_snapshot!(
        "confirm_remove",
        render(80, 24, |f| draw(f, &confirm, &fixture())).backend()
    );
}

#[test]
fn the_phase_names_the_stage_and_the_wait_for_start_at() {
    use crate::engine::PoolView;
    use crate::model::{Op, Phase};
    use crate::stats::StatsSnapshot;
    use crate::workload::WorkloadStatus;
    let build = |status: &WorkloadStatus| {
        View::build(
            &StatsSnapshot::default(),
            &PoolView::default(),
            status,
            &super::model::RateTracker::new(crate::model::Direction::Post),
            (None, Op::Payment),
            false,
        )
        .phase
    };
    let mut status = WorkloadStatus::for_tests(Phase::Sustained);
    assert_eq!(build(&status), "sustained");
    status.stage = Some("stage 2/3 ramp-to 500, 3 s left".to_owned());
    assert_eq!(
        build(&status),
        "sustained · stage 2/3 ramp-to 500, 3 s left"
    );
    let mut waiting = WorkloadStatus::for_tests(Phase::Ready);
    waiting.starts_in = Some(std::time::Duration::from_millis(7_200));
    assert_eq!(build(&waiting), "ready, load in 8s");
}
