//! Payload profiles: which field layout the node expects. This is the single place where
//! layouts differ, so that a future layout (a `recent_checkpoint` prefix, a `/v2` surface)
//! is one more variant here.

use std::fmt;
use std::str::FromStr;

/// The payload layout a node verifies signatures against.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum PayloadProfile {
    /// Current nodes: Issue carries `clawback_enabled`.
    #[default]
    Current,
    /// Mid-2025 nodes and the original Go stress tester: Issue without `clawback_enabled`.
    Legacy2025,
}

impl PayloadProfile {
    /// Every profile, for help texts and tests.
    pub const ALL: [PayloadProfile; 2] = [PayloadProfile::Current, PayloadProfile::Legacy2025];

    /// Whether an Issue payload signs (and sends) `clawback_enabled`.
    #[must_use]
    pub fn issue_has_clawback(self) -> bool {
        match self {
            PayloadProfile::Current => true,
            PayloadProfile::Legacy2025 => false,
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            PayloadProfile::Current => "current",
            PayloadProfile::Legacy2025 => "legacy-2025",
        }
    }
}

impl fmt::Display for PayloadProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PayloadProfile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown profile `{s}` (valid: current, legacy-2025)"))
    }
}
