//! The expectations file: known deviations of real peers, each with a reason.
//! A run's exit code is non-zero on any result that differs from it, including
//! a known failure that now passes.
//!
//! ```toml
//! [[known]]
//! scenario = "downgrade-contended"
//! pairing = "curator+*"        # `*` matches any text
//! curator = "< 5.5.0"          # optional: only for these releases
//! reason = "Curator before 5.5.0 predates the CURATOR-621 fix"
//! ```
//!
//! `curator`, `kazurator` and `zookeeper` are optional version ranges
//! (comparisons joined by `,`, e.g. `">= 5.5.0, < 5.8.0"`): the entry applies
//! only to runs whose peer of that name is a release in the range, so one file
//! is true for every version a run may use. Pinned contenders
//! (`curator@5.4.0`) are matched by their pairing instead.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::outcome::RunResult;
use crate::versions::{Range, RunVersions, Version};

/// One known deviation.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Known {
    /// Scenario name (file stem).
    pub scenario: String,
    /// Pairing pattern; `*` matches any text, so `*` alone matches every pairing.
    pub pairing: String,
    /// Why the peer deviates.
    pub reason: String,
    /// Only for runs with a Curator release in this range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curator: Option<Range>,
    /// Only for runs with a kazurator release in this range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kazurator: Option<Range>,
    /// Only for runs on a ZooKeeper release in this range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<Range>,
}

impl Known {
    /// Whether the entry's version ranges admit `versions` (a range whose
    /// peer's version is unknown admits it).
    fn admits(&self, versions: &RunVersions) -> bool {
        let fits = |range: &Option<Range>, version: Option<Version>| match (range, version) {
            (Some(range), Some(version)) => range.contains(version),
            _ => true,
        };
        fits(&self.curator, versions.curator)
            && fits(&self.kazurator, versions.kazurator)
            && fits(&self.zookeeper, versions.zookeeper)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    known: Vec<Known>,
}

/// All known deviations.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    known: Vec<Known>,
    versions: RunVersions,
}

/// How a result compares with the expectations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Passed, as expected.
    Pass,
    /// Failed; nobody expected it.
    Fail,
    /// Failed, as recorded.
    Known {
        /// The recorded reason.
        reason: String,
    },
    /// Recorded as failing, but passed: update the expectations file.
    UnexpectedPass {
        /// The recorded reason.
        reason: String,
    },
    /// Not run: a contender's runtime lacks a capability the scenario needs
    /// (see [`crate::needs`]); no verdict on anything.
    Skipped {
        /// What is missing, e.g. `a (go-zk): timeouts`.
        reason: String,
    },
    /// The run could not start (server or contenders): no verdict on the
    /// implementations, and never matched by a recorded deviation.
    Error {
        /// The setup message.
        message: String,
    },
}

impl Verdict {
    /// True when the result agrees with the expectations.
    pub fn as_expected(&self) -> bool {
        matches!(self, Verdict::Pass | Verdict::Known { .. } | Verdict::Skipped { .. })
    }

    /// Short cell text for the matrix.
    pub fn cell(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Known { .. } => "known",
            Verdict::UnexpectedPass { .. } => "PASS?",
            Verdict::Skipped { .. } => "skip",
            Verdict::Error { .. } => "ERROR",
        }
    }
}

impl Expectations {
    /// Reads an expectations file.
    pub fn load(path: &Path) -> Result<Expectations, String> {
        let text = crate::bounded::read_text(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses expectations text.
    pub fn parse(text: &str) -> Result<Expectations, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        Ok(Expectations { known: file.known, versions: RunVersions::default() })
    }

    /// The same entries, judged for runs with these peer versions.
    pub fn for_versions(&self, versions: RunVersions) -> Expectations {
        Expectations { known: self.known.clone(), versions }
    }

    /// The deviation recorded for this scenario and pairing, if any.
    pub fn lookup(&self, scenario: &str, pairing: &str) -> Option<&Known> {
        self.known.iter().find(|k| k.scenario == scenario && glob(&k.pairing, pairing) && k.admits(&self.versions))
    }

    /// The verdict on one result.
    pub fn verdict(&self, result: &RunResult) -> Verdict {
        if let Some(message) = result.setup_error() {
            return Verdict::Error { message: message.to_owned() };
        }
        match (self.lookup(&result.scenario, &result.pairing), result.passed()) {
            (None, true) => Verdict::Pass,
            (None, false) => Verdict::Fail,
            (Some(known), false) => Verdict::Known { reason: known.reason.clone() },
            (Some(known), true) => Verdict::UnexpectedPass { reason: known.reason.clone() },
        }
    }
}

/// `*`-only glob, in time linear in `pattern.len() × text.len()` at worst
/// (the classic match with one backtrack point: the last `*`), so that no
/// pattern of a hostile expectations file can make a verdict slow.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && p[i] == t[j] {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars() {
        assert!(glob("curator+*", "curator+rust"));
        assert!(glob("*", "anything"));
        assert!(glob("a*b*c", "axxbyyc") && !glob("a*b*c", "axxbyy") && glob("**", "") && !glob("a", ""));
        let started = std::time::Instant::now();
        assert!(!glob(&"*a".repeat(40), &"a".repeat(39)));
        assert!(started.elapsed() < std::time::Duration::from_millis(100), "{:?}", started.elapsed());
        assert!(glob("*+kazurator", "rust+kazurator"));
        assert!(!glob("curator+*", "rust+curator"));
        assert!(glob("rust", "rust"));
        assert!(!glob("rust", "rust+rust"));
    }

    #[test]
    fn parses_and_looks_up() {
        let e = Expectations::parse(
            "[[known]]\nscenario = \"downgrade-contended\"\npairing = \"curator+*\"\nreason = \"CURATOR-621\"\n",
        )
        .unwrap();
        assert_eq!(e.lookup("downgrade-contended", "curator+rust").unwrap().reason, "CURATOR-621");
        assert!(e.lookup("downgrade-contended", "rust+curator").is_none());
        assert!(Expectations::parse("[[known]]\nscenario = 1\n").is_err());
    }

    #[test]
    fn version_ranges_select_entries() {
        let e = Expectations::parse(
            "[[known]]\nscenario = \"downgrade-contended\"\npairing = \"curator+*\"\ncurator = \"< 5.5.0\"\nreason = \"CURATOR-621\"\n",
        )
        .unwrap();
        let with = |curator: &str| RunVersions { curator: curator.parse().ok(), ..RunVersions::default() };
        assert!(e.for_versions(with("5.4.0")).lookup("downgrade-contended", "curator+rust").is_some());
        assert!(e.for_versions(with("5.5.0")).lookup("downgrade-contended", "curator+rust").is_none());
        assert!(e.for_versions(with("5.9.0")).lookup("downgrade-contended", "curator+rust").is_none());
        assert!(e.lookup("downgrade-contended", "curator+rust").is_some(), "an unknown version is admitted");
        assert!(Expectations::parse(
            "[[known]]\nscenario = \"a\"\npairing = \"*\"\ncurator = \"5.x\"\nreason = \"r\"\n"
        )
        .is_err());
    }
}
