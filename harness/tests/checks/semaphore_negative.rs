//! The semaphore scenarios' negative control: a zkurator lease taker that
//! ignores the count must be caught by the lock checks, with Curator and with
//! zkurator takers on the other side. Part of `cargo test --features interop`.
#![cfg(feature = "interop")]

use std::path::Path;

use zkurator::negative::NegativeControl;
use zkurator_harness::backend::Backend;
use zkurator_harness::checkers::Checker;
use zkurator_harness::runner::{self, Peers, Timing};
use zkurator_harness::scenario;

#[test]
fn a_lease_taker_ignoring_the_count_is_caught() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/semaphore-count-respected.toml");
    let scenarios = scenario::load(&file).expect("the scenario parses");
    let backend = match std::env::var("ZK_CONNECT") {
        Ok(connect) if !connect.trim().is_empty() => Backend::external(&connect),
        _ => Backend::local().expect("a local ZooKeeper"),
    };
    let peers = Peers::default();
    // First the real lock passes, so a failure below is the broken rule's.
    let honest = scenarios.iter().find(|s| s.pairing == "rust+curator").expect("a rust+curator run");
    let result = runner::run(honest, &backend.connect_string(), &peers, &Timing::default());
    assert!(result.violations.is_empty(), "the real semaphore fails: {:#?}", result.violations);

    let broken = Peers::with_negative_control(NegativeControl::LeaseIgnoresCount);
    let mut caught = Vec::new();
    for pairing in ["rust+curator", "curator+rust", "rust+rust"] {
        let scenario = scenarios.iter().find(|s| s.pairing == pairing).expect("the pairing");
        let result = runner::run(scenario, &backend.connect_string(), &broken, &Timing::default());
        caught.push((pairing, result.violations));
    }
    for (pairing, violations) in caught {
        assert!(
            violations.iter().any(|v| [Checker::Model, Checker::Exclusion, Checker::Cleanup].contains(&v.checker)),
            "a taker ignoring the count was not caught in {pairing}: {violations:#?}"
        );
        println!("{pairing}: caught by {:?}", violations.iter().map(|v| v.checker).collect::<Vec<_>>());
    }
}
