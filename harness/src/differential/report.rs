//! The result of a run: disagreements grouped by peer and kind, and timings.

use std::time::Duration;

use super::compare::Disagreement;

/// The disagreements of one kind with one peer.
#[derive(Clone, Debug)]
pub struct Group {
    /// The peer's name.
    pub oracle: String,
    /// See [`classify`](super::classify).
    pub kind: String,
    /// How many cases.
    pub count: usize,
    /// The smallest case found, then shrunk (children removed) while the
    /// oracles still disagree in the same way.
    pub example: Disagreement,
}

/// How fast one oracle answered.
#[derive(Clone, Debug)]
pub struct Timing {
    /// [`Oracle::describe`](super::Oracle::describe).
    pub oracle: String,
    /// Cases answered (the generated ones; shrinking not counted).
    pub cases: usize,
    /// Time spent answering them, batches included.
    pub elapsed: Duration,
}

impl Timing {
    /// Cases per second.
    pub fn rate(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The result of [`run_differential`](super::run_differential).
#[derive(Clone, Debug)]
pub struct Report {
    /// The reference oracle's name.
    pub reference: String,
    /// The peers' names, in run order.
    pub peers: Vec<String>,
    /// Cases checked.
    pub cases: usize,
    /// One per oracle, reference first.
    pub timings: Vec<Timing>,
    /// Disagreements by peer and kind (sorted).
    pub groups: Vec<Group>,
}

impl Report {
    /// Disagreeing cases with `oracle`, all kinds.
    pub fn disagreements(&self, oracle: &str) -> usize {
        self.groups.iter().filter(|g| g.oracle == oracle).map(|g| g.count).sum()
    }
}
