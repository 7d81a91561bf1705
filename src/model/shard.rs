//! One shard of a run spread over several generators (`--shard I/N`): which part of every rate
//! and every wallet tier is its own. The parts are disjoint and add up to the whole, so that
//! the shards together offer the run's rates and no two of them sign for one account.

use std::fmt;
use std::ops::Range;

/// The environment variable a Kubernetes Indexed Job sets to the pod's index.
pub const COMPLETION_INDEX_VAR: &str = "JOB_COMPLETION_INDEX";

/// Shard `index` of `count` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The most shards of one run: more would leave some with no mint wallet (a token has at
    /// most 20 mint authorities).
    pub const MAX_COUNT: u32 = 20;

    /// `I/N`, or `auto/N` with `I` from [`COMPLETION_INDEX_VAR`] (read through `env`).
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let bad = |why: &str| format!("--shard `{text}`: {why}");
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| bad("expected I/N (e.g. 0/3) or auto/N"))?;
        let count: u32 = count
            .parse()
            .ok()
            .filter(|n| (1..=Self::MAX_COUNT).contains(n))
            .ok_or_else(|| bad(&format!("N must be a count from 1 to {}", Self::MAX_COUNT)))?;
        let index_text = if index == "auto" {
            env(COMPLETION_INDEX_VAR).ok_or_else(|| {
                bad(&format!(
                    "auto takes the index from {COMPLETION_INDEX_VAR}, which is not set (it is set in a Kubernetes Indexed Job)"
                ))
            })?
        } else {
            index.to_owned()
        };
        let index: u32 = index_text
            .trim()
            .parse()
            .ok()
            .filter(|i| *i < count)
            .ok_or_else(|| {
                bad(&format!(
                    "the index `{index_text}` must be a number from 0 to {}",
                    count - 1
                ))
            })?;
        Ok(Self { index, count })
    }

    /// This shard's part of a rate (or any count): the parts of all shards add up to `total`
    /// and differ by at most 1.
    #[must_use]
    pub fn part_of(self, total: u32) -> u32 {
        let share = |i: u32| u32::try_from(u64::from(total) * u64::from(i) / u64::from(self.count));
        share(self.index + 1).unwrap_or(u32::MAX) - share(self.index).unwrap_or(u32::MAX)
    }

    /// This shard's indices among `total` items (its mint wallets): consecutive, disjoint
    /// from every other shard's, together all of `0..total`.
    #[must_use]
    pub fn range_of(self, total: u32) -> Range<u32> {
        let start = |i: u32| {
            u32::try_from(u64::from(total) * u64::from(i) / u64::from(self.count))
                .unwrap_or(u32::MAX)
        };
        start(self.index)..start(self.index + 1)
    }

    /// Where this shard's slots sit within a period of its own schedule, as a fraction: the
    /// shards' slots interleave, so that together they are one evenly spaced schedule.
    #[must_use]
    pub fn phase(self) -> f64 {
        f64::from(self.index) / f64::from(self.count)
    }

    /// The shard that issues the token and grants every mint wallet.
    #[must_use]
    pub fn prepares(self) -> bool {
        self.index == 0
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn parses_index_and_auto() {
        assert_eq!(
            Shard::parse("2/3", no_env),
            Ok(Shard { index: 2, count: 3 })
        );
        let env = |name: &str| (name == COMPLETION_INDEX_VAR).then(|| "1".to_owned());
        assert_eq!(
            Shard::parse("auto/4", env),
            Ok(Shard { index: 1, count: 4 })
        );
        for bad in ["3/3", "x/3", "0/0", "0/21", "3", "auto/2"] {
            let error = Shard::parse(bad, no_env).unwrap_err();
            assert!(error.starts_with(&format!("--shard `{bad}`")), "{error}");
        }
        assert!(
            Shard::parse("auto/2", no_env)
                .unwrap_err()
                .contains(COMPLETION_INDEX_VAR)
        );
    }

    #[test]
    fn parts_add_up_and_ranges_tile() {
        for count in 1..=7 {
            for total in [0, 1, 5, 20, 333, 1000, 999_999] {
                let shards = (0..count).map(|index| Shard { index, count });
                assert_eq!(shards.clone().map(|s| s.part_of(total)).sum::<u32>(), total);
                let mut next = 0;
                for shard in shards {
                    let range = shard.range_of(total);
                    assert_eq!(range.start, next);
                    assert!(shard.part_of(total).abs_diff(total / count) <= 1);
                    next = range.end;
                }
                assert_eq!(next, total);
            }
        }
    }
}
