//! `--stage DURATION:POST[/GET]` and `--stage DURATION:ramp-to:POST[/GET]`: the load phase's
//! total rates over time, as steps and linear ramps, in whole seconds. Pure: the run's stage
//! driver asks [`rates_at`] each second and sends what it says through the engine.

use std::time::Duration;

use super::values::{MAX_TOTAL_RATE, parse_duration};
use crate::model::{PerDirection, UsageError};

/// How a stage reaches its rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageKind {
    /// The rates hold for the whole stage.
    Step,
    /// The rates go linearly from the last stage's to these, one change a second, reaching
    /// them in the stage's last second.
    Ramp,
}

/// One stage of the load phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage {
    pub duration: Duration,
    pub kind: StageKind,
    pub post: u32,
    /// `None`: the GET rate stays what it was.
    pub get: Option<u32>,
}

impl Stage {
    /// `500/1000` or `ramp-to 800/1600`, as the dashboard and events name it.
    #[must_use]
    pub fn describe(&self) -> String {
        let rates = match self.get {
            Some(get) => format!("{}/{get}", self.post),
            None => self.post.to_string(),
        };
        match self.kind {
            StageKind::Step => rates,
            StageKind::Ramp => format!("ramp-to {rates}"),
        }
    }
}

/// Parses one `--stage`.
pub fn parse_stage(text: &str) -> Result<Stage, UsageError> {
    let bad = |why: &str| {
        UsageError::new(format!(
            "--stage `{text}`: {why} (expected DURATION:POST[/GET] or DURATION:ramp-to:POST[/GET], e.g. 30s:500/1000)"
        ))
    };
    let (duration, rest) = text.split_once(':').ok_or_else(|| bad("no rates"))?;
    let duration = parse_duration(duration).map_err(|e| bad(&e))?;
    if duration.is_zero() || duration.subsec_nanos() != 0 {
        return Err(bad(
            "the duration must be a whole number of seconds, at least 1s",
        ));
    }
    let (kind, rates) = match rest.strip_prefix("ramp-to:") {
        Some(rates) => (StageKind::Ramp, rates),
        None => (StageKind::Step, rest),
    };
    let rate = |text: &str| {
        text.parse::<u32>()
            .ok()
            .filter(|r| *r <= MAX_TOTAL_RATE)
            .ok_or_else(|| {
                bad(&format!(
                    "`{text}` is not a rate from 0 to {MAX_TOTAL_RATE}"
                ))
            })
    };
    let (post, get) = match rates.split_once('/') {
        Some((post, get)) => (rate(post)?, Some(rate(get)?)),
        None => (rate(rates)?, None),
    };
    Ok(Stage {
        duration,
        kind,
        post,
        get,
    })
}

/// The stages' total length.
#[must_use]
pub fn total(stages: &[Stage]) -> Duration {
    stages.iter().map(|s| s.duration).sum()
}

/// The stage in force `at` into the load phase and the total rates it asks for then (`None`
/// once every stage is over). `initial` are the rates before the first stage.
#[must_use]
pub fn rates_at(
    stages: &[Stage],
    initial: PerDirection<u32>,
    at: Duration,
) -> Option<(usize, PerDirection<u32>)> {
    let mut before = initial;
    let mut start = Duration::ZERO;
    for (index, stage) in stages.iter().enumerate() {
        let target = PerDirection {
            post: stage.post,
            get: stage.get.unwrap_or(before.get),
        };
        let end = start + stage.duration;
        if at < end {
            let rates = match stage.kind {
                StageKind::Step => target,
                StageKind::Ramp => {
                    let seconds = stage.duration.as_secs();
                    let second = at.saturating_sub(start).as_secs() + 1;
                    let along = |from: u32, to: u32| {
                        let (from, to) = (i64::from(from), i64::from(to));
                        let step = (to - from) * i64::try_from(second).unwrap_or(i64::MAX)
                            / i64::try_from(seconds).unwrap_or(1).max(1);
                        u32::try_from(from + step).unwrap_or(0)
                    };
                    PerDirection {
                        post: along(before.post, target.post),
                        get: along(before.get, target.get),
                    }
                }
            };
            return Some((index, rates));
        }
        before = target;
        start = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn steps_and_ramps_in_whole_seconds() {
        let stages: Vec<Stage> = ["2s:100/200", "4s:ramp-to:300", "1s:50/60"]
            .iter()
            .map(|t| parse_stage(t).unwrap())
            .collect();
        assert_eq!(total(&stages), at(7));
        let initial = PerDirection { post: 10, get: 20 };
        let post_get = |s| rates_at(&stages, initial, at(s)).map(|(i, r)| (i, r.post, r.get));
        assert_eq!(post_get(0), Some((0, 100, 200)));
        assert_eq!(post_get(1), Some((0, 100, 200)));
        // A ramp from 100 to 300 over 4 s: 150, 200, 250, 300; GET stays 200.
        assert_eq!(post_get(2), Some((1, 150, 200)));
        assert_eq!(post_get(3), Some((1, 200, 200)));
        assert_eq!(post_get(5), Some((1, 300, 200)));
        assert_eq!(post_get(6), Some((2, 50, 60)));
        assert_eq!(post_get(7), None);
        // A ramp down.
        let down = [parse_stage("2s:ramp-to:0/0").unwrap()];
        let rates = |s| {
            rates_at(&down, PerDirection { post: 100, get: 40 }, at(s))
                .unwrap()
                .1
        };
        assert_eq!((rates(0).post, rates(0).get), (50, 20));
        assert_eq!((rates(1).post, rates(1).get), (0, 0));
        assert_eq!(
            parse_stage("3s:ramp-to:800/1600").unwrap().describe(),
            "ramp-to 800/1600"
        );
    }

    #[test]
    fn bad_stages_name_the_stage_and_the_form() {
        for (text, why) in [
            ("30s", "no rates"),
            ("x:100", "is not a duration"),
            ("1500ms:100", "whole number of seconds"),
            ("0s:100", "whole number of seconds"),
            ("10s:fast", "`fast` is not a rate"),
            ("10s:ramp-to:1/x", "`x` is not a rate"),
            ("10s:2000000", "is not a rate"),
        ] {
            let error = parse_stage(text).unwrap_err().to_string();
            assert!(error.starts_with(&format!("--stage `{text}`: ")), "{error}");
            assert!(error.contains(why), "{text}: {error}");
            assert!(error.contains("e.g. 30s:500/1000"), "{error}");
        }
    }
}
