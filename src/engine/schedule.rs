//! Smooth pacing for one node and one request kind: slot k is due at `anchor + k / rate`. Slots
//! are never sent early; late slots are sent while the burst rule allows, and a slot more than
//! [`Schedule::max_lag`] late is dropped and counted as missed (no catch-up burst). The burst
//! rule: in any 10 ms window at most `ceil(rate × 0.01) + 1` sends.
//!
//! Pure over `Instant`s, so that tests drive it with a synthetic clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The window of the burst rule.
pub const BURST_WINDOW: Duration = Duration::from_millis(10);

/// The least lateness a slot is allowed before it is dropped. Small on purpose: the burst rule
/// lets a late pacer catch up by only one slot per 10 ms, so whatever lateness is allowed
/// becomes standing lag after the first stall, and every later request then carries it into
/// its latency from the intended send time (the node would look slower than it is). It was
/// 20 ms: a 2-minute run at 20,000 GET/s ran with a median send-time error of 15.7 ms. Slots
/// later than this are counted as missed instead.
pub const MIN_LAG: Duration = Duration::from_millis(2);

/// Where a generator's slots sit: at `origin + (k + phase) / rate` for whole k. The shards of
/// one run share the origin (`--start-at`) and take phases i/N, so that their schedules
/// interleave into one evenly spaced schedule instead of N bunched ones.
#[derive(Clone, Copy, Debug)]
pub struct Lattice {
    pub origin: Instant,
    /// A fraction of a period, in [0, 1).
    pub phase: f64,
}

impl Lattice {
    /// The first lattice point of `rate` at or after `now`.
    #[must_use]
    pub fn anchor(&self, rate: u32, now: Instant) -> Instant {
        if rate == 0 {
            return now;
        }
        let period_ns = 1e9 / f64::from(rate);
        let since_ns = if now >= self.origin {
            now.duration_since(self.origin).as_nanos() as f64
        } else {
            -(self.origin.duration_since(now).as_nanos() as f64)
        };
        let offset_ns = self.phase * period_ns;
        let at_ns = ((since_ns - offset_ns) / period_ns).ceil() * period_ns + offset_ns;
        // Rounded up: never before `now`.
        let at = Duration::try_from_secs_f64(at_ns.abs().ceil() / 1e9).unwrap_or_default();
        if at_ns >= 0.0 {
            self.origin + at
        } else {
            self.origin.checked_sub(at).unwrap_or(now).max(now)
        }
    }
}

/// Intended send times of one rate.
#[derive(Debug, Clone)]
pub struct Schedule {
    anchor: Instant,
    rate: u32,
    next_slot: u64,
}

impl Schedule {
    /// A schedule of `rate` slots a second whose first slot is due at `anchor`.
    #[must_use]
    pub fn new(rate: u32, anchor: Instant) -> Self {
        Self {
            anchor,
            rate,
            next_slot: 0,
        }
    }

    #[must_use]
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// How late a slot may be sent before it is dropped: two periods, at least [`MIN_LAG`].
    #[must_use]
    pub fn max_lag(&self) -> Duration {
        let two_periods = Duration::from_nanos(2_000_000_000 / u64::from(self.rate.max(1)));
        two_periods.max(MIN_LAG)
    }

    fn slot_time(&self, slot: u64) -> Instant {
        let nanos = u128::from(slot) * 1_000_000_000 / u128::from(self.rate.max(1));
        self.anchor + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// When the next slot is due.
    #[must_use]
    pub fn next_due(&self) -> Instant {
        self.slot_time(self.next_slot)
    }

    /// Takes the next slot if it is due at `now`: `(intended time, slots dropped before it for
    /// being more than max_lag late)`. `None` when the next slot is still in the future (the
    /// dropped count is then returned with it on a later call).
    pub fn take_due(&mut self, now: Instant) -> Option<(Instant, u64)> {
        if self.rate == 0 {
            return None;
        }
        let mut dropped = 0;
        // Skip straight to the first slot that is not too late, counting what was skipped.
        let max_lag = self.max_lag();
        if let Some(earliest) = now.checked_sub(max_lag)
            && self.next_due() < earliest
        {
            let since_anchor = earliest.saturating_duration_since(self.anchor).as_nanos();
            let first_fresh =
                u64::try_from(since_anchor * u128::from(self.rate) / 1_000_000_000 + 1)
                    .unwrap_or(u64::MAX);
            dropped = first_fresh.saturating_sub(self.next_slot);
            self.next_slot = first_fresh.max(self.next_slot);
        }
        let intended = self.next_due();
        if intended > now {
            // Dropped slots are reported with the next slot taken; keep them by rewinding.
            self.next_slot -= dropped;
            return None;
        }
        self.next_slot += 1;
        Some((intended, dropped))
    }
}

/// The last sends of one node and kind, to enforce the burst rule.
#[derive(Debug, Default)]
pub struct BurstWindow {
    sends: VecDeque<Instant>,
}

impl BurstWindow {
    /// Sends allowed in one window at `rate`.
    #[must_use]
    pub fn limit(rate: u32) -> usize {
        usize::try_from(u64::from(rate).div_ceil(100)).unwrap_or(usize::MAX) + 1
    }

    /// When a send would be allowed again (now, if it already is).
    #[must_use]
    pub fn free_at(&self, rate: u32, now: Instant) -> Instant {
        let limit = Self::limit(rate);
        if self.sends.len() < limit {
            return now;
        }
        let oldest = self.sends[self.sends.len() - limit];
        (oldest + BURST_WINDOW).max(now)
    }

    pub fn record(&mut self, rate: u32, at: Instant) {
        self.sends.push_back(at);
        let limit = Self::limit(rate);
        while self.sends.len() > limit {
            self.sends.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_evenly_spaced_and_never_early() {
        let start = Instant::now();
        let mut schedule = Schedule::new(200, start);
        assert!(
            schedule
                .take_due(start.checked_sub(Duration::from_millis(1)).unwrap())
                .is_none()
        );
        let mut taken = Vec::new();
        for ms in 0..1000 {
            let now = start + Duration::from_millis(ms);
            while let Some((intended, dropped)) = schedule.take_due(now) {
                assert_eq!(dropped, 0);
                assert!(intended <= now);
                taken.push(intended);
            }
        }
        assert_eq!(taken.len(), 200);
        for pair in taken.windows(2) {
            assert_eq!(pair[1] - pair[0], Duration::from_millis(5));
        }
    }

    #[test]
    fn a_stall_drops_late_slots_instead_of_bursting() {
        let start = Instant::now();
        let mut schedule = Schedule::new(1000, start);
        // Nothing taken for 500 ms: only slots within max_lag (2 ms) remain.
        let now = start + Duration::from_millis(500);
        let (intended, dropped) = schedule.take_due(now).unwrap();
        assert!(now - intended <= schedule.max_lag());
        assert!((497..=499).contains(&dropped), "{dropped}");
        let mut rest = 0;
        while schedule.take_due(now).is_some() {
            rest += 1;
        }
        assert!(rest <= 3, "{rest}");
    }

    #[test]
    fn shards_on_one_lattice_interleave_evenly() {
        let origin = Instant::now() + Duration::from_secs(1);
        // 3 shards of 300/s each: together 900/s, one slot every 1.111 ms.
        let mut all: Vec<Instant> = (0..3u32)
            .flat_map(|i| {
                let lattice = Lattice {
                    origin,
                    phase: f64::from(i) / 3.0,
                };
                // Each shard's pacer starts at its own moment, before or after the origin.
                let started = origin.checked_sub(Duration::from_millis(700)).unwrap()
                    + Duration::from_micros(u64::from(i) * 37_123);
                let mut schedule = Schedule::new(300, lattice.anchor(300, started));
                let mut slots = Vec::new();
                let end = origin + Duration::from_secs(1);
                loop {
                    // Each slot taken when it is due.
                    let (at, dropped) = schedule.take_due(schedule.next_due()).unwrap();
                    assert_eq!(dropped, 0);
                    assert!(at >= started);
                    if at >= end {
                        break slots;
                    }
                    if at >= origin {
                        slots.push(at);
                    }
                }
            })
            .collect();
        all.sort();
        assert_eq!(all.len(), 900);
        for pair in all.windows(2) {
            let gap = (pair[1] - pair[0]).as_nanos() as f64;
            assert!((gap - 1e9 / 900.0).abs() < 2.0, "gap {gap} ns");
        }
    }

    #[test]
    fn burst_window_limits_sends() {
        let start = Instant::now();
        let mut window = BurstWindow::default();
        assert_eq!(BurstWindow::limit(1000), 11);
        assert_eq!(BurstWindow::limit(50), 2);
        for i in 0..11 {
            assert_eq!(window.free_at(1000, start), start, "send {i}");
            window.record(1000, start);
        }
        assert_eq!(window.free_at(1000, start), start + BURST_WINDOW);
    }
}
