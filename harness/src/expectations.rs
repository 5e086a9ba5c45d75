//! The expectations file: known deviations of real peers, each with a reason.
//! A run's exit code is non-zero on any result that differs from it, including
//! a known failure that now passes.
//!
//! ```toml
//! [[known]]
//! scenario = "downgrade-contended"
//! pairing = "curator+*"        # `*` matches any text
//! reason = "Curator 5.4.0 predates the CURATOR-621 fix"
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::runner::RunResult;

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
}

/// How a result compares with the expectations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
        matches!(self, Verdict::Pass | Verdict::Known { .. })
    }

    /// Short cell text for the matrix.
    pub fn cell(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Known { .. } => "known",
            Verdict::UnexpectedPass { .. } => "PASS?",
            Verdict::Error { .. } => "ERROR",
        }
    }
}

impl Expectations {
    /// Reads an expectations file.
    pub fn load(path: &Path) -> Result<Expectations, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses expectations text.
    pub fn parse(text: &str) -> Result<Expectations, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        Ok(Expectations { known: file.known })
    }

    /// The deviation recorded for this scenario and pairing, if any.
    pub fn lookup(&self, scenario: &str, pairing: &str) -> Option<&Known> {
        self.known.iter().find(|k| k.scenario == scenario && glob(&k.pairing, pairing))
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

/// `*`-only glob.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => text
            .strip_prefix(head)
            .is_some_and(|rest| (0..=rest.len()).any(|i| rest.is_char_boundary(i) && glob(tail, &rest[i..]))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars() {
        assert!(glob("curator+*", "curator+rust"));
        assert!(glob("*", "anything"));
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
}
