//! The per-request pieces of the load generator besides signing (`benches/signing.rs`) and
//! drawing (`benches/render.rs`): the pacer's limiter decision (schedule slot + burst window),
//! recording one sample into every histogram it belongs to, and building the snapshot the faces
//! read four times a second.
//!
//! `cargo bench --bench hot_path`

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use stress_tui::engine::schedule::{BurstWindow, Schedule};
use stress_tui::model::Op;
use stress_tui::stats::{Aggregator, Outcome, Sample};

/// One slot at 5,000/s: take the due slot and check the burst window, as the pacer does.
fn limiter_decision(c: &mut Criterion) {
    let rate = 5_000;
    let period = Duration::from_micros(200);
    c.bench_function("limiter: take a due slot + burst window (5,000/s)", |b| {
        let start = Instant::now();
        let mut schedule = Schedule::new(rate, start);
        let mut window = BurstWindow::default();
        let mut now = start;
        b.iter(|| {
            now += period;
            if window.free_at(rate, now) <= now
                && let Some((intended, dropped)) = schedule.take_due(black_box(now))
            {
                window.record(rate, now);
                black_box((intended, dropped));
            }
        });
    });
}

fn sample(node: u32, op: Op, at: Instant, i: u64) -> Sample {
    // Latencies spread over 0.5-5 ms so that the histograms see realistic buckets.
    let latency = Duration::from_micros(500 + (i * 7_919) % 4_500);
    Sample {
        node,
        op,
        outcome: Outcome::Ok,
        intended: at,
        sent: at + Duration::from_micros(20),
        done: at + latency,
    }
}

/// A run's aggregator after `samples` samples over 4 nodes and the ops of a sustained run.
fn filled(samples: u64, with_intervals: bool) -> (Aggregator, Instant) {
    let started = Instant::now();
    let intervals = with_intervals.then(|| tokio::sync::mpsc::channel(1024).0);
    let mut aggregator = Aggregator::new(started, intervals, Arc::new(AtomicU64::new(0)));
    let ops = [
        Op::Payment,
        Op::Receipt,
        Op::Nonce,
        Op::Balance,
        Op::Confirm,
    ];
    for i in 0..samples {
        let op = ops[usize::try_from(i).unwrap() % ops.len()];
        aggregator.record(&sample(u32::try_from(i % 4).unwrap(), op, started, i));
    }
    (aggregator, started)
}

fn sample_recording(c: &mut Criterion) {
    let (mut aggregator, started) = filled(100_000, true);
    let mut i = 0u64;
    c.bench_function(
        "stats: record one GET sample (4 nodes, with interval log)",
        |b| {
            b.iter(|| {
                i += 1;
                aggregator.record(black_box(&sample(
                    u32::try_from(i % 4).unwrap(),
                    Op::Nonce,
                    started,
                    i,
                )));
            });
        },
    );
    c.bench_function(
        "stats: record one payment sample (4 nodes, with interval log)",
        |b| {
            b.iter(|| {
                i += 1;
                aggregator.record(black_box(&sample(
                    u32::try_from(i % 4).unwrap(),
                    Op::Payment,
                    started,
                    i,
                )));
            });
        },
    );
}

fn snapshot_building(c: &mut Criterion) {
    let (mut aggregator, started) = filled(100_000, false);
    let now = started + Duration::from_millis(500);
    c.bench_function("stats: build a snapshot (4 nodes x 5 ops)", |b| {
        b.iter(|| black_box(aggregator.snapshot(now)));
    });
}

criterion_group!(
    benches,
    limiter_decision,
    sample_recording,
    snapshot_building
);
criterion_main!(benches);
