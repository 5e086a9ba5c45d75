//! The [`Oracle`] interface and its answers ([`Answer`], [`Verdict`]).

use std::fmt;

use zkurator::driver::Decision;

use super::cases::Case;

/// An oracle's decision on one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Our node holds the lock.
    Holds,
    /// Our node waits for this child.
    Watch(String),
    /// Our node is not in the list.
    Missing,
    /// The oracle failed on this case (an exception, say).
    Error(String),
}

impl Verdict {
    /// `holds`, `watch`, `missing` or `error`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Watch(_) => "watch",
            Verdict::Missing => "missing",
            Verdict::Error(_) => "error",
        }
    }
}

impl From<Decision> for Verdict {
    fn from(decision: Decision) -> Self {
        match decision {
            Decision::Holds => Verdict::Holds,
            Decision::Watch(node) => Verdict::Watch(node),
            Decision::Missing => Verdict::Missing,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Watch(node) => write!(f, "watch {node:?}"),
            Verdict::Error(message) => write!(f, "error: {message}"),
            other => f.write_str(other.label()),
        }
    }
}

/// An oracle's whole answer to one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The children in lock order.
    pub sorted: Vec<String>,
    /// The decision.
    pub verdict: Verdict,
}

/// An oracle could not answer a batch at all.
#[derive(Debug, thiserror::Error)]
#[error("{oracle} oracle: {message}")]
pub struct OracleError {
    /// The oracle's name.
    pub oracle: String,
    /// What went wrong.
    pub message: String,
}

/// Something that answers cases: a driver implementation.
pub trait Oracle {
    /// Short name, as used in the expectations file: `rust`, `curator`, `kazurator`.
    fn name(&self) -> &str;

    /// A longer description for reports (version, where it was loaded from).
    fn describe(&self) -> String {
        self.name().to_string()
    }

    /// Answers every case, in order.
    fn answer(&mut self, cases: &[Case]) -> Result<Vec<Answer>, OracleError>;
}
