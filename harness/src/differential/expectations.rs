//! The known disagreements ([`PredicateExpectations`]) and how a report
//! differs from them ([`Problem`]).

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::compare::Disagreement;
use super::report::Report;

/// Where the known disagreements are recorded.
const EXPECTATIONS_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/predicate-expectations.toml");

/// A known, explained disagreement (`[[predicate]]` in the expectations file).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KnownDisagreement {
    /// The kind, as [`classify`](super::classify) names it.
    pub kind: String,
    /// The peer: `curator` or `kazurator`.
    pub oracle: String,
    /// Why it is expected (and whose deviation it is).
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationsFile {
    #[serde(default)]
    predicate: Vec<KnownDisagreement>,
}

/// The known disagreements (`harness/predicate-expectations.toml`):
///
/// ```toml
/// [[predicate]]
/// kind = "read-owner-holds-without-node"
/// oracle = "curator"
/// reason = "..."
/// ```
#[derive(Clone, Debug, Default)]
pub struct PredicateExpectations {
    pub(super) known: Vec<KnownDisagreement>,
}

/// A difference between a [`Report`] and the expectations.
#[derive(Clone, Debug)]
pub enum Problem {
    /// A kind of disagreement nobody recorded.
    Unexpected {
        /// The peer.
        oracle: String,
        /// The kind.
        kind: String,
        /// How many cases.
        count: usize,
        /// The minimal example.
        example: Box<Disagreement>,
    },
    /// A recorded disagreement that did not occur: fix the file.
    Stale {
        /// The peer.
        oracle: String,
        /// The kind.
        kind: String,
        /// The recorded reason.
        reason: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unexpected { oracle, kind, count, example } => {
                writeln!(f, "UNEXPECTED disagreement with {oracle}: {kind} ({count} cases); minimal example:")?;
                for line in example.to_string().lines() {
                    writeln!(f, "    {line}")?;
                }
                Ok(())
            }
            Problem::Stale { oracle, kind, reason } => write!(
                f,
                "STALE expectation: {kind} with {oracle} no longer occurs (recorded reason: {reason}); \
                 remove it from predicate-expectations.toml"
            ),
        }
    }
}

impl PredicateExpectations {
    /// `harness/predicate-expectations.toml` of this workspace.
    pub fn default_path() -> PathBuf {
        PathBuf::from(EXPECTATIONS_FILE)
    }

    /// Loads [`Self::default_path`].
    pub fn load_default() -> Result<Self, String> {
        Self::load(&Self::default_path())
    }

    /// Loads an expectations file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses an expectations file's text; an entry recorded twice is an error.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: ExpectationsFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut seen = HashSet::new();
        for k in &file.predicate {
            if !seen.insert((k.oracle.clone(), k.kind.clone())) {
                return Err(format!("{} with {} is recorded twice", k.kind, k.oracle));
            }
        }
        Ok(PredicateExpectations { known: file.predicate })
    }

    /// The recorded entries.
    pub fn known(&self) -> &[KnownDisagreement] {
        &self.known
    }

    /// The recorded reason for `kind` with `oracle`, if any.
    pub fn reason(&self, oracle: &str, kind: &str) -> Option<&str> {
        self.known.iter().find(|k| k.oracle == oracle && k.kind == kind).map(|k| k.reason.as_str())
    }

    /// Every unexpected kind in `report`, and every entry for a peer of the
    /// report whose kind did not occur. Empty when the report matches.
    pub fn check(&self, report: &Report) -> Vec<Problem> {
        let mut problems: Vec<Problem> = report
            .groups
            .iter()
            .filter(|g| self.reason(&g.oracle, &g.kind).is_none())
            .map(|g| Problem::Unexpected {
                oracle: g.oracle.clone(),
                kind: g.kind.clone(),
                count: g.count,
                example: Box::new(g.example.clone()),
            })
            .collect();
        for k in &self.known {
            let ran = report.peers.contains(&k.oracle);
            if ran && !report.groups.iter().any(|g| g.oracle == k.oracle && g.kind == k.kind) {
                problems.push(Problem::Stale {
                    oracle: k.oracle.clone(),
                    kind: k.kind.clone(),
                    reason: k.reason.clone(),
                });
            }
        }
        problems
    }
}
