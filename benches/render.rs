//! Drawing cost of one dashboard frame with 16 nodes at 160x48 (ratatui `TestBackend`, so the
//! terminal's own I/O is not counted), and of building the frame's view from snapshots.
//!
//! `cargo bench --bench render`

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use stress_tui::engine::Health;
use stress_tui::model::PerDirection;
use stress_tui::stats::{OpSnapshot, Percentiles};
use stress_tui::tui::App;
use stress_tui::tui::view::{NodeRow, PhaseLine, View, draw};

fn view(nodes: u32) -> View {
    let rows: Vec<NodeRow> = (0..nodes)
        .map(|i| NodeRow {
            id: i,
            label: format!("10.0.0.{i}:18555"),
            health: Some(Health::Healthy),
            target: PerDirection {
                post: 100,
                get: 250,
            },
            effective: PerDirection {
                post: 100,
                get: 250,
            },
            offered: 100.0,
            sent: 99.0,
            unfilled: 0.0,
            ok: 98.0,
            confirmed: 97.0,
            p50_us: 1_700,
            p99_us: 4_100,
            errors: u64::from(i),
            in_flight: 4,
            lag_us: 300,
        })
        .collect();
    let series: Vec<(f64, f64)> = (0..60)
        .map(|s| (f64::from(s), 90.0 + f64::from(s % 7)))
        .collect();
    View {
        focus: stress_tui::model::Direction::Post,
        elapsed_s: 600,
        phase: "sustained".into(),
        phase_done: 55_000,
        phase_total: 60_000,
        phases: vec![PhaseLine {
            phase: "sustained".into(),
            done: 55_000,
            total: 60_000,
            finished: false,
        }],
        total: NodeRow {
            label: "total".into(),
            ..rows[0].clone()
        },
        tps: rows
            .iter()
            .map(|r| (r.label.clone(), series.clone()))
            .collect(),
        nodes: rows,
        histogram_title: "10.0.0.0:18555 payment".into(),
        histogram: OpSnapshot {
            count: 60_000,
            ok: 60_000,
            latency: Percentiles {
                count: 60_000,
                min: 800,
                p50: 1_700,
                p90: 2_300,
                p99: 4_100,
                p999: 8_000,
                max: 20_000,
                mean: 1_900,
            },
            buckets: (0..16).map(|i| (1_000 + i * 1_200, 100 + i * 37)).collect(),
            ..OpSnapshot::default()
        },
        error_classes: vec![("timeout".into(), 12)],
        error_codes: vec![("timeout".into(), 12)],
        events: (0..30)
            .map(|i| format!("{i:>6}.0s set node {i} to 100 POST/s"))
            .collect(),
        ..View::default()
    }
}

fn frames(c: &mut Criterion) {
    let app = App::default();
    let fixture = view(16);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    c.bench_function("draw_frame_16_nodes_160x48", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| draw(frame, &app, black_box(&fixture)))
                .unwrap();
        });
    });
    let mut small = Terminal::new(TestBackend::new(80, 24)).unwrap();
    c.bench_function("draw_frame_16_nodes_80x24", |b| {
        b.iter(|| {
            small
                .draw(|frame| draw(frame, &app, black_box(&fixture)))
                .unwrap();
        });
    });
}

criterion_group!(benches, frames);
criterion_main!(benches);
