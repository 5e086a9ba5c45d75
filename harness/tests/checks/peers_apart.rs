//! Two `Peers` share nothing: a broken lock given to one (a negative control)
//! never reaches the contenders of another, even when runs of both go on at
//! once in one process, as the tests of this binary do. `rust-tasks`
//! contenders are the case that could leak: they share a lock handle per
//! `Peers`, made on first use.
#![cfg(feature = "interop")]

use std::path::Path;

use zkurator::negative::NegativeControl;
use zkurator_harness::checkers::Checker;
use zkurator_harness::runner::{self, Peers, RunResult, Timing};
use zkurator_harness::scenario::{self, Scenario};

/// Two tasks on one handle: the second must wait for the first's hold.
const TASKS: &str = r#"
description = "tasks on one handle exclude each other"
lock = "mutex"
contenders = { a = "rust-tasks", b = "rust-tasks" }
steps = [
  "a acquire mutex => granted",
  "b acquire mutex => blocked",
  "a release mutex",
  "b release mutex => ok",
]
"#;

fn run(scenario: &Scenario, peers: &Peers) -> RunResult {
    let connect = zkurator_testserver::shared_connect_string().expect("a ZooKeeper server");
    runner::run(scenario, &connect, peers, &Timing::default())
}

#[test]
fn a_broken_peers_beside_an_honest_one_breaks_only_its_own_runs() {
    let scenario = scenario::parse(Path::new("tasks.toml"), TASKS).expect("the scenario parses").remove(0);
    let honest = Peers::default();
    let broken = Peers::with_negative_control(NegativeControl::SharedHold);
    // Both make their handles first, then play side by side, twice over.
    for round in 0..2 {
        let (honest_run, broken_run) = std::thread::scope(|scope| {
            let honest_run = scope.spawn(|| run(&scenario, &honest));
            let broken_run = scope.spawn(|| run(&scenario, &broken));
            (honest_run.join().unwrap(), broken_run.join().unwrap())
        });
        assert!(honest_run.passed(), "round {round}: the honest Peers got a broken lock: {:#?}", honest_run.violations);
        let checkers: Vec<Checker> = broken_run.violations.iter().map(|v| v.checker).collect();
        assert!(
            checkers.iter().any(|c| [Checker::Model, Checker::Exclusion].contains(c)),
            "round {round}: the broken Peers was not caught: {:#?}",
            broken_run.violations
        );
    }
}
