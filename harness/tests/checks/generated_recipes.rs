//! Generated contention schedules over Curator's semaphores and multi-lock
//! (zkurator and Curator contenders), and their negative control: a zkurator
//! lease taker that ignores the count must be caught. Part of
//! `cargo test --features interop`.
#![cfg(feature = "interop")]

use zkurator::negative::NegativeControl;
use zkurator_harness::checkers::Checker;
use zkurator_harness::contender::{LockKind, Runtime};
use zkurator_harness::generate::{self, GenConfig, Space};
use zkurator_harness::runner::Peers;

/// Generated schedules in the gate; `ZKURATOR_GEN_CASES` overrides.
const GATE_CASES: u32 = 8;
/// The most cases the negative control may take to be caught.
const CONTROL_BUDGET: u32 = 25;

/// The server both searches share: `ZK_CONNECT`, or one local server for the
/// test binary.
fn connect() -> String {
    zkurator_testserver::shared_connect_string().expect("a ZooKeeper server")
}

#[test]
fn generated_semaphore_and_multi_lock_schedules_pass() {
    let kinds = vec![
        LockKind::Semaphore { max_leases: 2 },
        LockKind::Semaphore { max_leases: 1 },
        LockKind::Multi { members: 2 },
    ];
    let cases = std::env::var("ZKURATOR_GEN_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(GATE_CASES);
    let mixed = Space { kinds, ..Space::mixed(vec![Runtime::Rust, Runtime::RustTasks, Runtime::Curator]) };
    let config = GenConfig { cases, seed: 2027, max_shrink_iters: 8, regressions: Some(generate::regressions_dir()) };
    let report = generate::run_generated(&mixed, &config, &connect(), &Peers::default());
    if let Some((scenario, violations)) = &report.failure {
        panic!(
            "generated schedule failed ({:?}):\n{}\n{violations:#?}",
            report.written,
            scenario.steps.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n")
        );
    }
    println!(
        "rust/rust-tasks/curator semaphores and multi-locks: {} cases in {:.1} s",
        report.cases,
        report.elapsed.as_secs_f64()
    );
}

#[test]
fn control_a_lease_taker_ignoring_the_count_is_caught() {
    let broken_peers = Peers::with_negative_control(NegativeControl::LeaseIgnoresCount);
    let leases = Space {
        kinds: vec![LockKind::Semaphore { max_leases: 2 }],
        ..Space::mixed(vec![Runtime::Rust, Runtime::Curator])
    };
    let config = GenConfig { cases: CONTROL_BUDGET, seed: 15, max_shrink_iters: 0, regressions: None };
    let broken = generate::run_generated(&leases, &config, &connect(), &broken_peers);
    let Some((_, violations)) = &broken.failure else {
        panic!("a lease taker ignoring the count was not caught in {CONTROL_BUDGET} cases");
    };
    let checkers: Vec<Checker> = violations.iter().map(|v| v.checker).collect();
    assert!(
        checkers.iter().any(|c| [Checker::Model, Checker::Exclusion, Checker::Cleanup].contains(c)),
        "the control failed for another reason: {violations:#?}"
    );
    println!("control, lease taker ignoring the count: caught at case {:?} by {checkers:?}", broken.caught_at);
}
