//! The linearizability checker beside the interval checkers over many runs
//! (the corpus, generated schedules): whether they agree on each, and what
//! the search cost.

use std::time::Duration;

use crate::checkers::Checker;
use crate::offline::{self, agreement, LinSummary};
use crate::outcome::RunResult;
use crate::scenario::Scenario;
use crate::versions::RunVersions;

/// The figures over a set of runs.
#[derive(Clone, Debug, Default)]
pub struct LinFigures {
    /// Runs checked.
    pub runs: usize,
    /// Runs found not linearizable.
    pub not_linearizable: usize,
    /// Operations, all runs.
    pub ops: usize,
    /// Operations of the largest run.
    pub max_ops: usize,
    /// Search time, all runs.
    pub total: Duration,
    /// Search time of the slowest run.
    pub slowest: Duration,
    /// Runs where the checkers disagree, with how.
    pub disagreements: Vec<String>,
}

impl LinFigures {
    /// Checks one run and adds it to the figures; returns its summary.
    pub fn add(&mut self, scenario: &Scenario, result: &RunResult) -> LinSummary {
        let record = super::build::record(scenario, result, &RunVersions::default());
        let lin = offline::check(&record, &scenario.contenders).lin_summary;
        self.runs += 1;
        self.not_linearizable += usize::from(lin.linearizable == Some(false));
        let ops = lin.lock_ops + lin.data_ops;
        self.ops += ops;
        self.max_ops = self.max_ops.max(ops);
        let took = Duration::from_micros(lin.micros);
        self.total += took;
        self.slowest = self.slowest.max(took);
        // A run that could not start has no history to judge.
        if result.setup_error().is_none() {
            let checkers: Vec<Checker> = result.violations.iter().map(|v| v.checker).collect();
            if let Err(why) = agreement(&checkers, &lin) {
                self.disagreements.push(format!("{}: {why}", result.label));
            }
        }
        lin
    }

    /// One line of figures.
    pub fn describe(&self) -> String {
        format!(
            "linearizability: {} runs, {} not linearizable, {} operations (largest run {}), search {:?} in all, slowest run {:?}, {} disagreements with the interval checkers",
            self.runs,
            self.not_linearizable,
            self.ops,
            self.max_ops,
            self.total,
            self.slowest,
            self.disagreements.len()
        )
    }
}
