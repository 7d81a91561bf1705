//! What the load generator itself costs (its footprint): CPU time and peak resident memory of
//! this process, read from `/proc/self` (Linux; `None` elsewhere). Reported per phase and in `summary.json`, so
//! that a run says how much of a core it needed for the load it produced, and so that the
//! benchmark scripts can compare it with other tools on the same work.

use std::time::Duration;

/// The generator's own cost at one moment: CPU time so far and peak RSS so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Footprint {
    pub cpu: Option<Duration>,
    pub peak_rss_kib: Option<u64>,
}

impl Footprint {
    /// Reads this process's footprint now.
    #[must_use]
    pub fn now() -> Self {
        Self {
            cpu: process_cpu(),
            peak_rss_kib: peak_rss_kib(),
        }
    }
}

/// Clock ticks a second of `/proc/<pid>/stat` times: 100 on every Linux architecture we run on
/// (the kernel's `USER_HZ`).
const USER_HZ: u64 = 100;

/// User plus system CPU time of this process so far (10 ms resolution).
#[must_use]
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    cpu_from_stat(&stat)
}

/// utime + stime of a `/proc/<pid>/stat` line. The command name (field 2) may hold spaces and
/// parentheses, so fields are counted after its closing parenthesis.
fn cpu_from_stat(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1_000 / USER_HZ))
}

/// Peak resident set size of this process so far, in KiB (`VmHWM`).
#[must_use]
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_an_awkward_name() {
        let line =
            "4242 (stress (tui) x) S 1 4242 4242 0 -1 4194560 700 0 0 0 250 30 0 0 20 0 9 0 1 1 1";
        assert_eq!(cpu_from_stat(line), Some(Duration::from_millis(2_800)));
        assert_eq!(cpu_from_stat("garbage"), None);
    }

    #[test]
    fn this_process_has_a_cpu_time_and_a_peak_rss() {
        // Burn a little CPU so that the time cannot be zero by chance.
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(process_cpu().is_some_and(|cpu| cpu > Duration::ZERO));
        assert!(peak_rss_kib().is_some_and(|kib| kib > 1_000));
    }
}
