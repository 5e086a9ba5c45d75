//! Negative control for the fault figures: a fault scenario played by zkurator
//! contenders whose read lock is broken on purpose (readers ignore writers)
//! must fail and show its double grants in the fault figures (the broken lock
//! is a value of its `Peers`).
#![cfg(feature = "interop")]

use std::path::Path;

use zkurator::negative::NegativeControl;
use zkurator_harness::backend::Backend;
use zkurator_harness::faults::{self, FaultKind};
use zkurator_harness::runner::{self, Peers, Timing};
use zkurator_harness::scenario;

#[test]
fn broken_readers_in_a_fault_run_count_as_double_grants() {
    let file = Path::new(faults::FAULT_DIR).join("expire-writer-frees-readers.toml");
    let scenarios = scenario::load(&file).expect("the scenario parses");
    let all_rust = scenarios.iter().find(|s| s.pairing == "rust+rust").expect("a rust+rust pairing");
    let backend = Backend::local().expect("a local ZooKeeper");
    let timing = Timing::default();

    let (result, stats) = runner::run_with(all_rust, &backend.connect_string(), &backend, &Peers::default(), &timing);
    assert!(result.passed(), "the real lock passes: {:?}", result.violations);
    assert_eq!(stats.double_grants, 0);
    assert!(stats.injected.iter().any(|i| i.kind == FaultKind::Expire));

    let broken = Peers::with_negative_control(NegativeControl::ReadIgnoresWriters);
    let (result, stats) = runner::run_with(all_rust, &backend.connect_string(), &backend, &broken, &timing);
    assert!(!result.passed(), "a broken read lock passed a fault scenario");
    assert!(stats.double_grants > 0, "the double grants were not counted: {:?}", result.violations);
}
