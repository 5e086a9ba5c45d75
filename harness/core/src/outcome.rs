//! What one scenario run came to: the outcome type the runner produces and
//! the expectations, the reports and the generator read. Pure data.

use std::time::Duration;

use serde::Serialize;

use crate::checkers::Violation;
use crate::history::Event;
use crate::runtimes::Runtime;

/// The checker of violations that mean the run could not start.
pub const SETUP: crate::checker::Checker = crate::checker::Checker::Setup;

/// The result of one scenario run.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    /// `name[pairing]`.
    pub label: String,
    /// Scenario name.
    pub scenario: String,
    /// Runtime pairing.
    pub pairing: String,
    /// Runtimes taking part.
    pub runtimes: Vec<Runtime>,
    /// Everything that went wrong; empty when the run passed.
    pub violations: Vec<Violation>,
    /// Wall time.
    pub duration: Duration,
    /// Steps completed before the run stopped.
    pub steps_done: usize,
    /// What the run leaves to look at and check again (none for a run not made).
    #[serde(skip)]
    pub evidence: Option<Box<Evidence>>,
}

/// A run's history and what else its offline checks need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// The run's lock path.
    pub lock_path: String,
    /// Every event, in time order.
    pub events: Vec<Event>,
    /// The workload counter's final value, if the run had one.
    pub final_value: Option<u64>,
    /// The runner's own children of the lock directory.
    pub foreign: Vec<String>,
    /// Each contender's ZooKeeper session id when it started, where known.
    pub sessions: Vec<(String, String)>,
    /// The creation zxid of every lock node a listing showed, by full path.
    pub czxids: std::collections::BTreeMap<String, i64>,
}

impl RunResult {
    /// True when nothing went wrong.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Why the run could not start (its server or a contender), if so: an
    /// outcome of its own, not a disagreement between implementations.
    pub fn setup_error(&self) -> Option<&str> {
        self.violations.iter().find(|v| v.checker == SETUP).map(|v| v.message.as_str())
    }
}
