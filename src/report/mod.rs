//! What a run shows and leaves: the headless progress line, the summary text, the results
//! folder's files at the end ([`final_files`]) and the recorder that writes the folder while
//! the run goes ([`recorder`]). Everything is computed from data (a [`RunReport`], snapshots);
//! the only I/O is writing the files. Thresholds are parsed in [`crate::config`] and evaluated
//! here.

pub mod capacity;
pub mod csv_rows;
pub mod final_files;
pub mod hlog;
pub mod html;
pub mod merge;
mod progress;
pub mod recorder;
pub mod replay;
mod run_report;
pub mod shard_file;
mod summary;
pub mod summary_json;
pub mod thresholds;

pub use run_report::{Ending, Origin, RunReport, StartRecord};

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
