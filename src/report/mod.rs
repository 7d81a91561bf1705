//! What a run shows and leaves: the headless progress line and the final summary. Pure
//! functions over snapshots: no I/O, no clocks.

pub mod files;
mod progress;
pub mod results;
mod summary;
pub mod thresholds;

pub use progress::progress_line;
pub use summary::{distribution_check, summary_text};

/// Microseconds as a short human figure: 850µs, 12.3ms, 4.21s.
#[must_use]
pub fn fmt_micros(us: u64) -> String {
    match us {
        0..1_000 => format!("{us}µs"),
        1_000..1_000_000 => format!("{:.1}ms", us as f64 / 1_000.0),
        _ => format!("{:.2}s", us as f64 / 1_000_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_format() {
        assert_eq!(fmt_micros(850), "850µs");
        assert_eq!(fmt_micros(12_340), "12.3ms");
        assert_eq!(fmt_micros(4_210_000), "4.21s");
    }
}
