//! Per-node behaviour knobs: capacity limits (429 above N requests/s), added latency, an error
//! ratio (500 with no side effect), answers lost after the request took effect (a 500, a
//! connection dropped with no answer, half an answer), down (connections refused), hang (accepted, never answered),
//! read lag, and which write surface the node accepts (`write_mode`, `read_only`). Set at
//! start, from the library handle, or from another process through the admin API.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::protocol::NodeWriteMode;

/// How one devnet node behaves. The default is a healthy `dual` node (what a current cluster
/// runs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeKnobs {
    /// POST requests per second admitted before answering 429; 0 = unlimited.
    pub post_capacity: u32,
    /// GET requests per second answered before answering 429; 0 = unlimited.
    pub get_capacity: u32,
    /// Fixed delay added before every answer.
    pub latency_ms: u64,
    /// Random extra delay, uniform in [0, `latency_jitter_ms`].
    pub latency_jitter_ms: u64,
    /// Fraction of requests answered 500 `system_internal_error` without any effect.
    pub error_ratio: f64,
    /// Fraction of requests answered 200 with a body that is not JSON, without any effect.
    pub garbage_ratio: f64,
    /// Fraction of requests that take effect but whose answer is lost: 500 instead of the
    /// real answer (what a timeout after admission looks like to a client).
    pub lose_ratio: f64,
    /// Fraction of requests that take effect and then lose their connection with no answer at
    /// all (a load balancer timing out, a node crashing after admission, a reset).
    pub reset_ratio: f64,
    /// Fraction of requests that take effect and then send half their answer (the head and
    /// half the body) before the connection closes.
    pub half_answer_ratio: f64,
    /// Refuse connections (the listener is closed, open connections are dropped).
    pub down: bool,
    /// Accept requests and never answer them.
    pub hang: bool,
    /// Serve state this many milliseconds behind the cluster (replication delay).
    pub read_lag_ms: u64,
    /// Which write surface the node accepts: `v1_only`, `dual` or `v2_only` (`/api/status`).
    pub write_mode: NodeWriteMode,
    /// An archive node: every write is refused (403 `NODE_READ_ONLY`).
    pub read_only: bool,
}

impl Default for NodeKnobs {
    fn default() -> Self {
        Self {
            post_capacity: 0,
            get_capacity: 0,
            latency_ms: 0,
            latency_jitter_ms: 0,
            error_ratio: 0.0,
            garbage_ratio: 0.0,
            lose_ratio: 0.0,
            reset_ratio: 0.0,
            half_answer_ratio: 0.0,
            down: false,
            hang: false,
            read_lag_ms: 0,
            write_mode: NodeWriteMode::Dual,
            read_only: false,
        }
    }
}

/// A partial update of [`NodeKnobs`]: only the fields present change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnobsPatch {
    pub post_capacity: Option<u32>,
    pub get_capacity: Option<u32>,
    pub latency_ms: Option<u64>,
    pub latency_jitter_ms: Option<u64>,
    pub error_ratio: Option<f64>,
    pub garbage_ratio: Option<f64>,
    pub lose_ratio: Option<f64>,
    pub reset_ratio: Option<f64>,
    pub half_answer_ratio: Option<f64>,
    pub down: Option<bool>,
    pub hang: Option<bool>,
    pub read_lag_ms: Option<u64>,
    pub write_mode: Option<NodeWriteMode>,
    pub read_only: Option<bool>,
}

impl NodeKnobs {
    /// Applies `patch`, or explains which value is out of range (nothing changes then).
    pub fn apply(&mut self, patch: &KnobsPatch) -> Result<(), String> {
        for (name, ratio) in [
            ("error_ratio", patch.error_ratio),
            ("garbage_ratio", patch.garbage_ratio),
            ("lose_ratio", patch.lose_ratio),
            ("reset_ratio", patch.reset_ratio),
            ("half_answer_ratio", patch.half_answer_ratio),
        ] {
            if let Some(ratio) = ratio
                && !(0.0..=1.0).contains(&ratio)
            {
                return Err(format!("{name} must be between 0 and 1, got {ratio}"));
            }
        }
        if patch.write_mode == Some(NodeWriteMode::ReadOnly) {
            return Err(
                "write_mode must be v1_only, dual or v2_only (read_only is a knob of its own)"
                    .to_owned(),
            );
        }
        let mut next = self.clone();
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = patch.$field { next.$field = v; })* };
        }
        set!(
            post_capacity,
            get_capacity,
            latency_ms,
            latency_jitter_ms,
            error_ratio,
            garbage_ratio,
            lose_ratio,
            reset_ratio,
            half_answer_ratio,
            down,
            hang,
            read_lag_ms,
            write_mode,
            read_only
        );
        *self = next;
        Ok(())
    }

    /// Parses one `KEY=VALUE` setting as the CLI's `--knob NODE:KEY=VALUE` gives it.
    pub fn patch_from_setting(setting: &str) -> Result<KnobsPatch, String> {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("`{setting}` is not KEY=VALUE"))?;
        let key = key.trim().replace('-', "_");
        let value = value.trim();
        let json = match key.as_str() {
            "write_mode" => match value.parse::<NodeWriteMode>() {
                Ok(mode) => format!("\"{mode}\""),
                Err(e) => return Err(e),
            },
            "down" | "hang" | "read_only" => match value {
                "true" | "false" => value.to_owned(),
                _ => return Err(format!("{key} takes true or false, got `{value}`")),
            },
            "post_capacity" | "get_capacity" | "latency_ms" | "latency_jitter_ms"
            | "read_lag_ms" | "error_ratio" | "garbage_ratio" | "lose_ratio" | "reset_ratio"
            | "half_answer_ratio" => value.to_owned(),
            _ => {
                return Err(format!(
                    "unknown knob `{key}` (valid: post-capacity, get-capacity, latency-ms, latency-jitter-ms, error-ratio, garbage-ratio, lose-ratio, reset-ratio, half-answer-ratio, down, hang, read-lag-ms, write-mode, read-only)"
                ));
            }
        };
        serde_json::from_str(&format!("{{\"{key}\":{json}}}"))
            .map_err(|_| format!("bad value `{value}` for {key}"))
    }

    pub fn read_lag(&self) -> Duration {
        Duration::from_millis(self.read_lag_ms)
    }
}

/// A token bucket: `rate` tokens a second, holding at most a tenth of a second's worth (at
/// least one), so that a burst above capacity is refused within 100 ms.
#[derive(Debug)]
pub struct CapacityBucket {
    tokens: f64,
    last: Instant,
}

impl CapacityBucket {
    pub fn new(now: Instant) -> Self {
        Self {
            tokens: 1.0,
            last: now,
        }
    }

    /// Takes one token if `rate` allows; a rate of 0 means unlimited.
    pub fn try_take(&mut self, rate: u32, now: Instant) -> bool {
        if rate == 0 {
            return true;
        }
        let rate = f64::from(rate);
        let burst = (rate / 10.0).max(1.0);
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_changes_only_given_fields_and_validates() {
        let mut knobs = NodeKnobs {
            latency_ms: 5,
            ..NodeKnobs::default()
        };
        knobs
            .apply(&KnobsPatch {
                down: Some(true),
                ..KnobsPatch::default()
            })
            .unwrap();
        assert!(knobs.down);
        assert_eq!(knobs.latency_ms, 5);
        let bad = KnobsPatch {
            error_ratio: Some(1.5),
            down: Some(false),
            ..KnobsPatch::default()
        };
        assert!(knobs.apply(&bad).unwrap_err().contains("error_ratio"));
        assert!(knobs.down, "a refused patch changes nothing");
    }

    #[test]
    fn settings_parse_from_the_cli_form() {
        let patch = NodeKnobs::patch_from_setting("latency-ms=50").unwrap();
        assert_eq!(patch.latency_ms, Some(50));
        assert_eq!(
            NodeKnobs::patch_from_setting("down=true").unwrap().down,
            Some(true)
        );
        assert_eq!(
            NodeKnobs::patch_from_setting("error-ratio=0.25")
                .unwrap()
                .error_ratio,
            Some(0.25)
        );
        assert!(
            NodeKnobs::patch_from_setting("speed=3")
                .unwrap_err()
                .contains("unknown knob")
        );
        assert!(NodeKnobs::patch_from_setting("down=yes").is_err());
        assert!(NodeKnobs::patch_from_setting("latency-ms=-1").is_err());
        assert!(NodeKnobs::patch_from_setting("latency-ms").is_err());
        assert_eq!(
            NodeKnobs::patch_from_setting("write-mode=v2_only")
                .unwrap()
                .write_mode,
            Some(NodeWriteMode::V2Only)
        );
        assert!(
            NodeKnobs::patch_from_setting("write-mode=v3")
                .unwrap_err()
                .contains("v1_only, dual, v2_only")
        );
        let read_only = NodeKnobs::patch_from_setting("read-only=true").unwrap();
        assert_eq!(read_only.read_only, Some(true));
        let mut knobs = NodeKnobs::default();
        assert_eq!(knobs.write_mode, NodeWriteMode::Dual);
        let smuggled = KnobsPatch {
            write_mode: Some(NodeWriteMode::ReadOnly),
            ..KnobsPatch::default()
        };
        assert!(knobs.apply(&smuggled).is_err());
    }

    #[test]
    fn bucket_admits_the_rate_and_refuses_bursts() {
        let start = Instant::now();
        let mut bucket = CapacityBucket::new(start);
        // 100/s offered 1,000 times over one simulated second: about 100 get through.
        let admitted = (0..1000)
            .filter(|i| bucket.try_take(100, start + Duration::from_millis(*i)))
            .count();
        assert!((95..=111).contains(&admitted), "{admitted}");
        assert!(CapacityBucket::new(start).try_take(0, start));
    }
}
